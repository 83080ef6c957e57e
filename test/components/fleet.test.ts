import * as pulumi from "@pulumi/pulumi";
import { catalog, parseCatalog } from "../../components/catalog/catalog";
import type { Credential } from "../../components/config/fleetConfig";
import { planFleet, type FleetPlan } from "../../components/config/fleetPlan";
import { providerSource } from "../../components/provider/providerShim";
import type { EngineServer as EngineServerClass } from "../../components/engineServer";
import type { Fleet as FleetClass } from "../../components/fleet";
import { directFleet, PackageDir, pinnedKey, type RawCredential, type RawFleet } from "../support/fleetFixture";
import {
  recordResources,
  secretEnvelope,
  settle,
  valueOf,
  type Registration,
  type TimelineEntry,
} from "../support/pulumiMocks";

/**
 * The Fleet and EngineServer components against Pulumi's mocks: what they register, with which
 * names, inputs, parents and dependencies. The component modules are loaded after setMocks.
 */

const fleetType = "mpshotfix:index:Fleet";
const engineType = "mpshotfix:index:EngineServer";
// A dynamic resource registers as pulumi-nodejs:dynamic/<module>:<type>.
const hotfixType = "pulumi-nodejs:dynamic/mpshotfix:HotfixOnEngine";

let Fleet: typeof FleetClass;
let EngineServer: typeof EngineServerClass;
let packages: PackageDir;
let registrations: Registration[];
let timeline: TimelineEntry[];

beforeAll(async () => {
  packages = new PackageDir();
  await recordResources();
  await settle();
  ({ Fleet } = await import("../../components/fleet"));
  ({ EngineServer } = await import("../../components/engineServer"));
});

afterAll(() => packages.remove());

async function freshMocks(options: Parameters<typeof recordResources>[0] = {}): Promise<void> {
  ({ registrations, timeline } = await recordResources(options));
}

beforeEach(async () => {
  await freshMocks();
});

afterEach(settle);

function planOf(fleet: RawFleet, credentials: Record<string, RawCredential>, catalogOverride = catalog): FleetPlan {
  return planFleet({
    stack: "unit",
    fleet,
    credentials,
    credentialsAreSecret: true,
    baseDir: packages.dir,
    catalog: catalogOverride,
  });
}

function directPlan(
  engines: number,
  maxUnavailable: number,
): { plan: FleetPlan; credentials: Record<string, Credential> } {
  const { fleet, credentials } = directFleet(packages, engines);
  fleet.rollout = { maxUnavailable };
  return { plan: planOf(fleet, credentials), credentials: credentials as Record<string, Credential> };
}

/** Builds the fleet and waits until every resource of it has been registered. */
async function deploy(plan: FleetPlan, credentials: Record<string, Credential>, name = "fleet", adoptOnly = false) {
  const fleet = new Fleet(name, {
    plan,
    credentials: pulumi.secret(credentials),
    ...(adoptOnly ? { adoptOnly: true } : {}),
  });
  const compliance = await valueOf(fleet.compliance);
  return { fleet, compliance };
}

const ofType = (type: string): Registration[] => registrations.filter((r) => r.type === type);
const named = (name: string): Registration => {
  const found = registrations.filter((r) => r.name === name);
  if (found.length !== 1) throw new Error(`expected one registration named ${name}, found ${found.length}`);
  return found[0]!;
};
const nameOfUrn = (urn: string): string => registrations.find((r) => r.urn === urn)?.name ?? `unknown ${urn}`;
const dependencyNames = (name: string): string[] => named(name).dependencies.map(nameOfUrn).sort();

describe("Fleet", () => {
  it("registers 1 Fleet, 4 EngineServers and 4 HotfixOnEngines, named after the component", async () => {
    const { plan, credentials } = directPlan(4, 1);
    await deploy(plan, credentials);
    expect(registrations).toHaveLength(9);
    expect(ofType(fleetType).map((r) => r.name)).toEqual(["fleet"]);
    expect(ofType(engineType).map((r) => r.name)).toEqual(["fleet-mps01", "fleet-mps02", "fleet-mps03", "fleet-mps04"]);
    expect(
      ofType(hotfixType)
        .map((r) => r.name)
        .sort(),
    ).toEqual(["fleet-mps01-kb952089", "fleet-mps02-kb952089", "fleet-mps03-kb952089", "fleet-mps04-kb952089"]);
    expect(ofType(fleetType).every((r) => !r.custom)).toBe(true);
    expect(ofType(engineType).every((r) => !r.custom)).toBe(true);
    expect(ofType(hotfixType).every((r) => r.custom)).toBe(true);
  });

  it("parents engines to the fleet and hotfixes to their engine", async () => {
    const { plan, credentials } = directPlan(2, 1);
    await deploy(plan, credentials, "east");
    const fleetUrn = named("east").urn;
    expect(fleetUrn).toMatch(/::mpshotfix:index:Fleet::east$/);
    expect(named("east-mps01").parent).toBe(fleetUrn);
    expect(named("east-mps02").parent).toBe(fleetUrn);
    expect(named("east-mps01-kb952089").parent).toBe(named("east-mps01").urn);
    expect(named("east-mps02-kb952089").parent).toBe(named("east-mps02").urn);
  });

  it("gives each HotfixOnEngine the requirement and the desired state as inputs", async () => {
    const { plan, credentials } = directPlan(4, 1);
    await deploy(plan, credentials);
    const { __provider: provider, ...inputs } = named("fleet-mps02-kb952089").inputs;
    expect(provider).toBe(providerSource);
    expect(inputs).toEqual({
      engine: "MPS02",
      hotfixId: "KB952089",
      route: {
        kind: "direct",
        endpoint: { name: "MPS02", host: "10.0.0.2", port: 22, user: "mps-admin", hostKey: "trust-unknown" },
      },
      credentials: secretEnvelope({ MPS02: { password: "pw-MPS02-Zq9!" } }),
      target: {
        packageFile: "KB952089.msi",
        packagePath: packages.path("packages/KB952089.msi"),
        packageSha256: plan.engines[1]!.hotfixes[0]!.packageSha256,
        binDir: "C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin",
        stagingDir: "C:\\Windows\\Temp\\mps-hotfix",
        comPlusApplication: "Provisioning Engine",
        engineControlProgId: "Provisioning.EngineControl",
      },
      settings: {
        connectTimeoutMs: 20_000,
        stepTimeoutMs: 600_000,
        complusShutdownTimeoutSeconds: 120,
        installAttempts: 4,
        installRetryDelayMs: 15_000,
        leaveFailedEngineOut: false,
        position: "2 of 4",
      },
      fileVersions: { "Mapsproccntl.dll": "13.3.609.1" },
      engineState: "active",
      comPlusState: "running",
      restartPending: false,
    });
    expect(
      ofType(hotfixType)
        .map((r) => (r.inputs["settings"] as { position: string }).position)
        .sort(),
    ).toEqual(["1 of 4", "2 of 4", "3 of 4", "4 of 4"]);
  });

  it("carries a raised requirement (minimumFileVersions) into fileVersions", async () => {
    const { fleet, credentials } = directFleet(packages, 1);
    fleet.minimumFileVersions = { "Mapsproccntl.dll": "13.3.1000.0" };
    await deploy(planOf(fleet, credentials), credentials as Record<string, Credential>);
    expect(named("fleet-mps01-kb952089").inputs["fileVersions"]).toEqual({ "Mapsproccntl.dll": "13.3.1000.0" });
  });

  it("passes each HotfixOnEngine only its own hop's credentials, as a secret", async () => {
    const { fleet, credentials } = directFleet(packages, 2);
    fleet.relays = [{ name: "MGMT01", host: "mgmt01.corp.example", user: "mps-admin", hostKey: pinnedKey }];
    fleet.engines!.push({ name: "MPS03", host: "mps03", relay: "MGMT01" });
    credentials["MGMT01"] = { privateKey: "relay-private-key-7f" };
    await deploy(planOf(fleet, credentials), credentials as Record<string, Credential>);
    expect(named("fleet-mps01-kb952089").inputs["credentials"]).toEqual(
      secretEnvelope({ MPS01: { password: "pw-MPS01-Zq9!" } }),
    );
    expect(named("fleet-mps02-kb952089").inputs["credentials"]).toEqual(
      secretEnvelope({ MPS02: { password: "pw-MPS02-Zq9!" } }),
    );
    expect(named("fleet-mps03-kb952089").inputs["credentials"]).toEqual(
      secretEnvelope({ MGMT01: { privateKey: "relay-private-key-7f" } }),
    );
    expect(named("fleet-mps03-kb952089").inputs["route"]).toEqual({
      kind: "relay",
      relay: { name: "MGMT01", host: "mgmt01.corp.example", port: 22, user: "mps-admin", hostKey: pinnedKey },
      engineHost: "mps03",
    });
    for (const hotfix of ofType(hotfixType)) expect(hotfix.additionalSecretOutputs).toEqual(["credentials"]);
    // No component carries credentials.
    for (const component of [...ofType(fleetType), ...ofType(engineType)]) expect(component.inputs).toEqual({});
  });

  it("with maxUnavailable 2 and 5 engines, makes each batch depend on the whole batch before it", async () => {
    const { plan, credentials } = directPlan(5, 2);
    await deploy(plan, credentials);
    expect(dependencyNames("fleet-mps01")).toEqual([]);
    expect(dependencyNames("fleet-mps02")).toEqual([]);
    // A dependency on a component reaches the engine as its custom children: the HotfixOnEngines.
    expect(dependencyNames("fleet-mps03")).toEqual(["fleet-mps01-kb952089", "fleet-mps02-kb952089"]);
    expect(dependencyNames("fleet-mps04")).toEqual(["fleet-mps01-kb952089", "fleet-mps02-kb952089"]);
    expect(dependencyNames("fleet-mps05")).toEqual(["fleet-mps03-kb952089", "fleet-mps04-kb952089"]);
    expect(dependencyNames("fleet")).toEqual([]);
  });

  it("with maxUnavailable 1, chains every engine to the one before it", async () => {
    const { plan, credentials } = directPlan(4, 1);
    await deploy(plan, credentials);
    expect(dependencyNames("fleet-mps01")).toEqual([]);
    expect(dependencyNames("fleet-mps02")).toEqual(["fleet-mps01-kb952089"]);
    expect(dependencyNames("fleet-mps03")).toEqual(["fleet-mps02-kb952089"]);
    expect(dependencyNames("fleet-mps04")).toEqual(["fleet-mps03-kb952089"]);
  });

  it("with maxUnavailable at least the fleet size, lets every engine go at once", async () => {
    const { plan, credentials } = directPlan(3, 5);
    await deploy(plan, credentials);
    for (const name of ["fleet-mps01", "fleet-mps02", "fleet-mps03"]) expect(dependencyNames(name)).toEqual([]);
  });

  it("never has more than maxUnavailable engines' hotfixes in flight, and starts a batch only after the one before", async () => {
    await settle();
    await freshMocks({ delayMs: (r) => (r.type === hotfixType ? 25 : 0) });
    const { plan, credentials } = directPlan(5, 2);
    await deploy(plan, credentials);
    const hotfixNames = new Set(ofType(hotfixType).map((r) => r.name));
    const events = timeline.filter((e) => hotfixNames.has(e.name));
    const inFlight = new Set<string>();
    const ended = new Set<string>();
    const startedWhile: Record<string, { inFlight: string[]; ended: string[] }> = {};
    let most = 0;
    for (const event of events) {
      if (event.event === "start") {
        startedWhile[event.name] = { inFlight: [...inFlight].sort(), ended: [...ended].sort() };
        inFlight.add(event.name);
        most = Math.max(most, inFlight.size);
      } else {
        inFlight.delete(event.name);
        ended.add(event.name);
      }
    }
    expect(most).toBe(2);
    expect(startedWhile["fleet-mps03-kb952089"]!.ended).toEqual(
      expect.arrayContaining(["fleet-mps01-kb952089", "fleet-mps02-kb952089"]),
    );
    expect(startedWhile["fleet-mps04-kb952089"]!.ended).toEqual(
      expect.arrayContaining(["fleet-mps01-kb952089", "fleet-mps02-kb952089"]),
    );
    expect(startedWhile["fleet-mps05-kb952089"]!.ended).toEqual(
      expect.arrayContaining(["fleet-mps03-kb952089", "fleet-mps04-kb952089"]),
    );
    expect(startedWhile["fleet-mps02-kb952089"]!.ended).toEqual([]);
  });

  it("reports every engine compliant when each hotfix's state is the desired one", async () => {
    const { plan, credentials } = directPlan(2, 1);
    const { compliance } = await deploy(plan, credentials);
    const hotfix = {
      compliant: true,
      fileVersions: { "Mapsproccntl.dll": "13.3.609.1" },
      engineState: "active",
      comPlusState: "running",
      restartPending: false,
      drift: [],
    };
    expect(compliance).toEqual({
      engines: {
        MPS01: { compliant: true, hotfixes: { KB952089: hotfix } },
        MPS02: { compliant: true, hotfixes: { KB952089: hotfix } },
      },
      compliantEngines: 2,
      totalEngines: 2,
    });
  });

  it("reports the drift of an engine whose state differs", async () => {
    await settle();
    await freshMocks({
      stateOf: (r) =>
        r.name === "fleet-mps02-kb952089"
          ? { ...r.inputs, fileVersions: { "Mapsproccntl.dll": "13.3.600.0" }, engineState: "deactivated" }
          : r.inputs,
    });
    const { plan, credentials } = directPlan(2, 1);
    const { compliance } = await deploy(plan, credentials);
    expect(compliance.compliantEngines).toBe(1);
    expect(compliance.totalEngines).toBe(2);
    expect(compliance.engines["MPS01"]!.compliant).toBe(true);
    expect(compliance.engines["MPS02"]).toEqual({
      compliant: false,
      hotfixes: {
        KB952089: {
          compliant: false,
          fileVersions: { "Mapsproccntl.dll": "13.3.600.0" },
          engineState: "deactivated",
          comPlusState: "running",
          restartPending: false,
          drift: [
            "Mapsproccntl.dll: 13.3.600.0 is older than 13.3.609.1",
            "the engine is deactivated (out of rotation)",
          ],
        },
      },
    });
  });

  it("passes adoptOnly to every HotfixOnEngine, and leaves it out otherwise", async () => {
    const { plan, credentials } = directPlan(2, 1);
    await deploy(plan, credentials, "adopted", true);
    expect(ofType(hotfixType).map((r) => r.inputs["adoptOnly"])).toEqual([true, true]);
    await settle();
    await freshMocks();
    await deploy(plan, credentials, "managed");
    expect(ofType(hotfixType).map((r) => "adoptOnly" in r.inputs)).toEqual([false, false]);
  });
});

describe("EngineServer", () => {
  it("applies an engine's hotfixes one after another, in catalog order", async () => {
    const kb = catalog[0]!;
    const twoHotfixes = parseCatalog([
      kb,
      {
        ...kb,
        id: "KB9000001",
        packageFile: "KB9000001.msi",
        files: [{ ...kb.files[0]!, name: "Other.dll", version: "1.0.0.5" }],
      },
    ]);
    const { fleet, credentials } = directFleet(packages, 1);
    const otherSha = packages.add("KB9000001.msi", "the second package");
    fleet.hotfixes = ["KB9000001", "KB952089"];
    fleet.packages = { ...fleet.packages, KB9000001: { path: "KB9000001.msi", sha256: otherSha } };
    await deploy(planOf(fleet, credentials, twoHotfixes), credentials as Record<string, Credential>);
    expect(ofType(hotfixType).map((r) => r.name)).toEqual(["fleet-mps01-kb952089", "fleet-mps01-kb9000001"]);
    expect(dependencyNames("fleet-mps01-kb952089")).toEqual([]);
    expect(dependencyNames("fleet-mps01-kb9000001")).toEqual(["fleet-mps01-kb952089"]);
    expect(named("fleet-mps01-kb9000001").inputs["fileVersions"]).toEqual({ "Other.dll": "1.0.0.5" });
  });

  it("refuses an engine with no hotfixes", () => {
    const { plan, credentials } = directPlan(1, 1);
    const engine = { ...plan.engines[0]!, hotfixes: [] };
    expect(
      () =>
        new EngineServer("lonely", {
          engine,
          credentials,
          host: plan.host,
          rollout: plan.rollout,
          position: "1 of 1",
        }),
    ).toThrow("engine MPS01: no hotfixes to carry");
  });
});
