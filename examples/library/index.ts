import * as pulumi from "@pulumi/pulumi";
import { Credentials, Fleet, planFleet } from "mps-hotfix";

const config = new pulumi.Config("mps-hotfix");
const credentials = Credentials.parse(config.requireObject("credentials"));

// Validates the fleet (names the stack, engine and field of every problem) before any host is touched.
const plan = planFleet({
  stack: pulumi.getStack(),
  fleet: config.requireObject("fleet"),
  credentials,
  credentialsAreSecret: true, // read with requireObject, wrapped in pulumi.secret below
  baseDir: __dirname,
});

const fleet = new Fleet("patch-window", { plan, credentials: pulumi.secret(credentials) });

export const compliantEngines = fleet.compliance.apply((c) => `${c.compliantEngines} of ${c.totalEngines}`);
