import * as pulumi from "@pulumi/pulumi";
import { Fleet, planFleet } from "mps-hotfix";

const config = new pulumi.Config("mps-hotfix");

// Validates the fleet (names the stack, engine and field of every problem) before any host is touched.
const plan = planFleet({
  stack: pulumi.getStack(),
  fleet: config.requireObject("fleet"),
  credentials: config.requireObject("credentials"), // checked here; the provider reads them from the stack's config
  credentialsAreSecret: true, // set with `pulumi config set --secret`
  baseDir: __dirname,
});

const fleet = new Fleet("patch-window", { plan });

export const compliantEngines = fleet.compliance.apply((c) => `${c.compliantEngines} of ${c.totalEngines}`);
