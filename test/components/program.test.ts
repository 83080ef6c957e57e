import * as pulumi from "@pulumi/pulumi";
import { maintenanceSettingsOf } from "../../components/config/fleetConfig";
import type { FleetConfigError as FleetConfigErrorClass, FleetPlan } from "../../components/config/fleetPlan";
import type {
  InvalidStackError as InvalidStackErrorClass,
  fleetProgram as fleetProgramFunction,
} from "../../components/program";
import { expectHandlersByPackage } from "../support/serializedProvider";
import { resourceInputsFor } from "../../components/provider/resourceState";
import { directFleet, PackageDir, type RawCredential, type RawFleet } from "../support/fleetFixture";
import { recordResources, settle, valueOf, type Registration } from "../support/pulumiMocks";

/**
 * The stack program with mocked config: it validates the whole fleet before declaring any
 * resource, so bad input never reaches a host.
 */

const hotfixType = "pulumi-nodejs:dynamic/mpshotfix:EngineHotfixes";
const stack = "lab-east";

let fleetProgram: typeof fleetProgramFunction;
let InvalidStackError: typeof InvalidStackErrorClass;
let FleetConfigError: typeof FleetConfigErrorClass;
let packages: PackageDir;
let registrations: Registration[];

beforeAll(async () => {
  packages = new PackageDir();
  await recordResources({ stack });
  await settle();
  ({ fleetProgram, InvalidStackError } = await import("../../components/program"));
  ({ FleetConfigError } = await import("../../components/config/fleetPlan"));
});

afterAll(() => packages.remove());

beforeEach(async () => {
  ({ registrations } = await recordResources({ stack }));
});

afterEach(settle);

interface StackConfig {
  readonly fleet?: RawFleet;
  readonly credentials?: Record<string, RawCredential>;
  readonly credentialsSecret?: boolean;
}

/** Sets the stack's config the way `pulumi config set [--secret]` would. */
function setConfig({ fleet, credentials, credentialsSecret = true }: StackConfig): void {
  const config: Record<string, string> = {};
  if (fleet !== undefined) config["mps-hotfix:fleet"] = JSON.stringify(fleet);
  if (credentials !== undefined) config["mps-hotfix:credentials"] = JSON.stringify(credentials);
  pulumi.runtime.setAllConfig(config, credentialsSecret && credentials !== undefined ? ["mps-hotfix:credentials"] : []);
}

async function rejection(run: () => Promise<unknown>): Promise<FleetConfigErrorClass> {
  try {
    await run();
  } catch (error) {
    if (error instanceof InvalidStackError && error.cause instanceof FleetConfigError) return error.cause;
    throw error;
  }
  throw new Error("the program accepted a fleet it should reject");
}

const program = (): ReturnType<ReturnType<typeof fleetProgramFunction>> => fleetProgram({ projectDir: packages.dir })();

describe("fleetProgram", () => {
  it("declares the fleet from the stack config and reports compliance", async () => {
    const { fleet, credentials } = directFleet(packages, 3);
    setConfig({ fleet, credentials });
    const outputs = await program();
    expect(await valueOf(outputs.totalEngines)).toBe(3);
    expect(await valueOf(outputs.compliantEngines)).toBe(3);
    expect(
      registrations
        .filter((r) => r.type === hotfixType)
        .map((r) => r.name)
        .sort(),
    ).toEqual(["fleet-mps01-hotfixes", "fleet-mps02-hotfixes", "fleet-mps03-hotfixes"]);
    const mps01 = registrations.find((r) => r.name === "fleet-mps01-hotfixes")!;
    expect(mps01.inputs["adoptOnly"]).toBeUndefined();
  });

  it("hands the plan to onPlan before declaring any resource, and declares each engine from it", async () => {
    const { fleet, credentials } = directFleet(packages, 2);
    fleet.rollout = { maxUnavailable: 2, installAttempts: 2 };
    setConfig({ fleet, credentials });
    const plans: FleetPlan[] = [];
    const registeredAtPlan: number[] = [];
    const outputs = await fleetProgram({
      projectDir: packages.dir,
      onPlan: (plan) => {
        plans.push(plan);
        registeredAtPlan.push(registrations.length);
      },
    })();
    expect(await valueOf(outputs.totalEngines)).toBe(2);
    expect(plans).toHaveLength(1);
    expect(registeredAtPlan).toEqual([0]);
    const plan = plans[0]!;
    expect(plan.stack).toBe(stack);
    const settings = maintenanceSettingsOf(plan.rollout);
    plan.engines.forEach((target) => {
      const registration = registrations.find((r) => r.name === `fleet-${target.engine.toLowerCase()}-hotfixes`)!;
      const { __provider: provider, ...inputs } = registration.inputs;
      expectHandlersByPackage(provider);
      expect(inputs).toEqual(resourceInputsFor(target, settings));
    });
  });

  it("keeps the stack's credentials out of every resource's inputs", async () => {
    const { fleet, credentials } = directFleet(packages, 2);
    setConfig({ fleet, credentials });
    const outputs = await program();
    await valueOf(outputs.totalEngines);
    expect(registrations.filter((r) => r.type === hotfixType)).toHaveLength(2);
    for (const registration of registrations) {
      const text = JSON.stringify(registration.inputs);
      expect(text).not.toContain("pw-MPS01-Zq9!");
      expect(text).not.toContain("pw-MPS02-Zq9!");
      expect(registration.inputs).not.toHaveProperty("credentials");
      expect(registration.additionalSecretOutputs).toEqual([]);
    }
  });

  it("registers hotfixes as adopt-only when asked", async () => {
    const { fleet, credentials } = directFleet(packages, 1);
    setConfig({ fleet, credentials });
    const outputs = await fleetProgram({ projectDir: packages.dir, adoptOnly: true })();
    expect(await valueOf(outputs.totalEngines)).toBe(1);
    expect(registrations.find((r) => r.type === hotfixType)?.inputs["adoptOnly"]).toBe(true);
  });

  it("throws a FleetConfigError naming the stack, and registers nothing, when the fleet is not set", async () => {
    setConfig({});
    const error = await rejection(program);
    expect(error.problems).toEqual(["mps-hotfix:fleet: is not set (the stack lists no engines)"]);
    expect(
      error.message.startsWith(`stack ${stack}: the fleet configuration is invalid; nothing was run on any host:`),
    ).toBe(true);
    expect(registrations).toEqual([]);
  });

  it("throws before registering anything when one engine of many is bad", async () => {
    const { fleet, credentials } = directFleet(packages, 4);
    fleet.engines![3]!.host = "mps04$(whoami)";
    setConfig({ fleet, credentials });
    const error = await rejection(program);
    expect(error.problems).toEqual(["engine MPS04: engines[3].host: must be a DNS host name or an IPv4 address"]);
    expect(registrations).toEqual([]);
  });

  it("throws when the credentials are not stored as a secret", async () => {
    const { fleet, credentials } = directFleet(packages, 2);
    setConfig({ fleet, credentials, credentialsSecret: false });
    const error = await rejection(program);
    expect(error.problems).toEqual([
      "credentials: must be stored as a Pulumi secret (pulumi config set --secret --path 'credentials.<name>.password')",
    ]);
    expect(error.message).not.toContain("pw-MPS01-Zq9!");
    expect(registrations).toEqual([]);
  });

  it("throws when an engine has no credentials", async () => {
    const { fleet, credentials } = directFleet(packages, 2);
    delete credentials["MPS02"];
    setConfig({ fleet, credentials });
    const error = await rejection(program);
    expect(error.problems).toEqual([
      "engine MPS02: engines[1]: missing secret credentials.MPS02 (a password or privateKey)",
    ]);
    expect(registrations.filter((r) => r.type === hotfixType)).toEqual([]);
  });

  it("throws when the package does not match its pinned SHA-256", async () => {
    const { fleet, credentials } = directFleet(packages, 2);
    fleet.packages!["KB952089"]!.sha256 = "e".repeat(64);
    setConfig({ fleet, credentials });
    const error = await rejection(program);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(
      /^packages\.KB952089\.sha256: the package at .* has SHA-256 [0-9a-f]{64}, not the one the stack pins$/,
    );
    expect(registrations).toEqual([]);
  });

  it("throws an InvalidStackError (a RunError: no stack trace), before registering any EngineHotfixes, for an engine that lists no hotfixes", async () => {
    const { fleet, credentials } = directFleet(packages, 3);
    fleet.engines![2]!.hotfixes = [];
    setConfig({ fleet, credentials });
    let thrown: unknown;
    try {
      await program();
    } catch (error) {
      thrown = error;
    }
    await settle(); // let registrations already under way reach the mocked engine
    expect({
      thrown: thrown instanceof Error ? `${thrown.name}: ${thrown.message.split("\n")[0]}` : thrown,
      isFleetConfigError: thrown instanceof InvalidStackError && thrown.cause instanceof FleetConfigError,
      registeredHotfixes: registrations.filter((r) => r.type === hotfixType).map((r) => r.name),
    }).toEqual({
      thrown: expect.stringMatching(/^InvalidStackError: stack lab-east: /) as string,
      isFleetConfigError: true,
      registeredHotfixes: [],
    });
  });
});
