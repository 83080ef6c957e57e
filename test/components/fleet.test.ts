import { catalog, type HotfixCatalog } from "../../components/domain/catalog";
import type { MaintenanceSettings } from "../../components/domain/target";
import { planFleet, type FleetPlan } from "../../components/config/fleetPlan";
import { maintenanceSettingsOf } from "../../components/config/fleetConfig";
import { expectHandlersByPackage } from "../support/serializedProvider";
import { resourceInputsFor } from "../../components/provider/resourceState";
import type { EngineServer as EngineServerClass } from "../../components/engineServer";
import type { Fleet as FleetClass } from "../../components/fleet";
import { directFleet, PackageDir, pinnedKey, type RawCredential, type RawFleet } from "../support/fleetFixture";
import { recordResources, settle, valueOf, type Registration, type TimelineEntry } from "../support/pulumiMocks";
import { inventedFile, inventedHotfix, kb952089, kbFile, twoHotfixCatalog } from "../support/targets";

/**
 * The Fleet and EngineServer components against Pulumi's mocks: what they register, with which
 * names, inputs, aliases, parents and dependencies. The component modules are loaded after setMocks.
 */

const fleetType = "mpshotfix:index:Fleet";
const engineType = "mpshotfix:index:EngineServer";
// A dynamic resource registers as pulumi-nodejs:dynamic/<module>:<type>.
const hotfixesType = "pulumi-nodejs:dynamic/mpshotfix:EngineHotfixes";
const rolloutResultType = "pulumi-nodejs:dynamic/mpshotfix:RolloutResult";
// Release 0.1 registered one resource per engine and hotfix under this type.
const legacyType = "pulumi-nodejs:dynamic/mpshotfix:HotfixOnEngine";

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

function planOf(
  fleet: RawFleet,
  credentials: Record<string, RawCredential>,
  catalogOverride: HotfixCatalog = catalog,
): FleetPlan {
  return planFleet({
    stack: "unit",
    fleet,
    credentials,
    credentialsAreSecret: true,
    baseDir: packages.dir,
    catalog: catalogOverride,
  });
}

function directPlan(engines: number, maxUnavailable: number): FleetPlan {
  const { fleet, credentials } = directFleet(packages, engines);
  fleet.rollout = { maxUnavailable };
  return planOf(fleet, credentials);
}

/** The maintenance settings every engine's resource gets: the rollout without maxUnavailable. */
function settingsOf(plan: FleetPlan): MaintenanceSettings {
  return maintenanceSettingsOf(plan.rollout);
}

/** A fleet of MPS01 and MPS02 directly, and MPS03 behind relay MGMT01, each with its own secret. */
function relayedFleet(): { fleet: RawFleet; credentials: Record<string, RawCredential> } {
  const { fleet, credentials } = directFleet(packages, 2);
  fleet.relays = [{ name: "MGMT01", host: "mgmt01.corp.example", user: "mps-admin", hostKey: pinnedKey }];
  fleet.engines!.push({ name: "MPS03", host: "mps03", relay: "MGMT01" });
  credentials["MGMT01"] = { password: "relay-password-7f" };
  return { fleet, credentials };
}

/** Builds the fleet and waits until every resource of it has been registered. */
async function deploy(plan: FleetPlan, name = "fleet", adoptOnly = false) {
  const fleet = new Fleet(name, { plan, ...(adoptOnly ? { adoptOnly: true } : {}) });
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

/** Every key at any depth of a value. */
function keysDeep(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysDeep);
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => [key, ...keysDeep(inner)]);
}

/** Every string at any depth of a value. */
function stringsDeep(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsDeep);
  if (typeof value !== "object" || value === null) return [];
  return Object.values(value).flatMap(stringsDeep);
}

describe("Fleet", () => {
  it("registers 1 Fleet, 4 EngineServers, one EngineHotfixes per engine and the RolloutResult, named after the component", async () => {
    await deploy(directPlan(4, 1));
    expect(registrations).toHaveLength(10);
    expect(ofType(rolloutResultType).map((r) => r.name)).toEqual(["fleet-result"]);
    expect(ofType(fleetType).map((r) => r.name)).toEqual(["fleet"]);
    expect(ofType(engineType).map((r) => r.name)).toEqual(["fleet-mps01", "fleet-mps02", "fleet-mps03", "fleet-mps04"]);
    expect(
      ofType(hotfixesType)
        .map((r) => r.name)
        .sort(),
    ).toEqual(["fleet-mps01-hotfixes", "fleet-mps02-hotfixes", "fleet-mps03-hotfixes", "fleet-mps04-hotfixes"]);
    expect(ofType(legacyType)).toEqual([]);
    expect(ofType(fleetType).every((r) => !r.custom)).toBe(true);
    expect(ofType(engineType).every((r) => !r.custom)).toBe(true);
    expect(ofType(hotfixesType).every((r) => r.custom)).toBe(true);
  });

  it("parents engines to the fleet and each engine's hotfixes to the engine", async () => {
    await deploy(directPlan(2, 1), "east");
    const fleetUrn = named("east").urn;
    expect(fleetUrn).toMatch(/::mpshotfix:index:Fleet::east$/);
    expect(named("east-mps01").parent).toBe(fleetUrn);
    expect(named("east-mps02").parent).toBe(fleetUrn);
    expect(named("east-mps01-hotfixes").parent).toBe(named("east-mps01").urn);
    expect(named("east-mps02-hotfixes").parent).toBe(named("east-mps02").urn);
  });

  it("aliases each engine's resource to release 0.1's resource of its first hotfix", async () => {
    await deploy(directPlan(2, 1), "east");
    for (const engine of ["mps01", "mps02"]) {
      expect(named(`east-${engine}-hotfixes`).aliases).toEqual([
        { name: `east-${engine}-kb952089`, type: legacyType, parentUrn: named(`east-${engine}`).urn, urn: "" },
      ]);
    }
    for (const component of [...ofType(fleetType), ...ofType(engineType)]) expect(component.aliases).toEqual([]);
  });

  it("gives each EngineHotfixes the inputs resourceInputsFor makes of its target and the rollout's settings", async () => {
    const plan = directPlan(4, 1);
    await deploy(plan);
    plan.engines.forEach((target, i) => {
      const { __provider: provider, ...inputs } = named(`fleet-mps0${i + 1}-hotfixes`).inputs;
      expectHandlersByPackage(provider);
      expect(inputs).toEqual(resourceInputsFor(target, settingsOf(plan)));
    });
    // What that means for one engine, spelled out.
    const mps02 = named("fleet-mps02-hotfixes").inputs;
    expect(mps02).toMatchObject({
      schemaVersion: 2,
      engine: "MPS02",
      route: {
        kind: "direct",
        endpoint: { name: "MPS02", host: "10.0.0.2", port: 22, user: "mps-admin", trustUnknownHostKey: true },
      },
      packages: [
        {
          hotfix: kb952089.id,
          file: kb952089.packageFile,
          path: packages.path("packages/KB952089.msi"),
          sha256: plan.engines[1]!.packages[0]!.sha256,
        },
      ],
      files: { [kb952089.id]: { [kbFile.name]: kbFile.version } },
      settings: {
        leaveFailedEngineOut: false,
        connectTimeoutSeconds: 20,
        stepTimeoutSeconds: 600,
        complusShutdownTimeoutSeconds: 120,
        installAttempts: 4,
        installRetryDelaySeconds: 15,
      },
      engineState: "active",
      comPlusState: "running",
      restartPending: false,
    });
    expect(mps02["settings"]).not.toHaveProperty("maxUnavailable");
  });

  it("carries a raised requirement (minimumFileVersions) into files", async () => {
    const { fleet, credentials } = directFleet(packages, 1);
    fleet.minimumFileVersions = { [kbFile.name]: "13.3.1000.0" };
    const sha256 = packages.addPackage("packages/KB952089-1000.msi", kb952089, { [kbFile.name]: "13.3.1000.0" });
    fleet.packages = { KB952089: { path: "packages/KB952089-1000.msi", sha256 } };
    await deploy(planOf(fleet, credentials));
    expect(named("fleet-mps01-hotfixes").inputs["files"]).toEqual({ [kb952089.id]: { [kbFile.name]: "13.3.1000.0" } });
  });

  it("puts no credentials and no position into any resource's inputs", async () => {
    const { fleet, credentials } = relayedFleet();
    const plan = planOf(fleet, credentials);
    await deploy(plan);
    const secrets = Object.values(credentials).flatMap(stringsDeep);
    expect(secrets).toEqual(["pw-MPS01-Zq9!", "pw-MPS02-Zq9!", "relay-password-7f"]);
    expect(registrations).toHaveLength(8);
    for (const registration of registrations) {
      const text = JSON.stringify(registration.inputs);
      for (const secret of secrets) expect(text).not.toContain(secret);
      const keys = keysDeep(registration.inputs);
      for (const key of ["credentials", "password", "privateKey", "position"]) expect(keys).not.toContain(key);
      expect(registration.additionalSecretOutputs).toEqual([]);
    }
    // The relayed engine's resource knows its route, not how to log on to it.
    expect(named("fleet-mps03-hotfixes").inputs["route"]).toEqual({
      kind: "relay",
      relay: { name: "MGMT01", host: "mgmt01.corp.example", port: 22, user: "mps-admin", hostKey: pinnedKey },
      engineHost: "mps03",
    });
    // No component has inputs at all.
    for (const component of [...ofType(fleetType), ...ofType(engineType)]) expect(component.inputs).toEqual({});
  });

  it("with maxUnavailable 2 and 5 engines, makes each batch depend on the whole batch before it", async () => {
    await deploy(directPlan(5, 2));
    expect(dependencyNames("fleet-mps01")).toEqual([]);
    expect(dependencyNames("fleet-mps02")).toEqual([]);
    // A dependency on a component reaches the engine as its custom children: one EngineHotfixes each.
    expect(dependencyNames("fleet-mps03")).toEqual(["fleet-mps01-hotfixes", "fleet-mps02-hotfixes"]);
    expect(dependencyNames("fleet-mps04")).toEqual(["fleet-mps01-hotfixes", "fleet-mps02-hotfixes"]);
    expect(dependencyNames("fleet-mps05")).toEqual(["fleet-mps03-hotfixes", "fleet-mps04-hotfixes"]);
    expect(dependencyNames("fleet")).toEqual([]);
  });

  it("with maxUnavailable 1, chains every engine to the one before it", async () => {
    await deploy(directPlan(4, 1));
    expect(dependencyNames("fleet-mps01")).toEqual([]);
    expect(dependencyNames("fleet-mps02")).toEqual(["fleet-mps01-hotfixes"]);
    expect(dependencyNames("fleet-mps03")).toEqual(["fleet-mps02-hotfixes"]);
    expect(dependencyNames("fleet-mps04")).toEqual(["fleet-mps03-hotfixes"]);
  });

  it("with maxUnavailable at least the fleet size, lets every engine go at once", async () => {
    await deploy(directPlan(3, 5));
    for (const name of ["fleet-mps01", "fleet-mps02", "fleet-mps03"]) expect(dependencyNames(name)).toEqual([]);
  });

  it("in a preview, does not order the batches (a preview changes nothing) and leaves compliance unknown", async () => {
    await settle();
    await freshMocks({ preview: true });
    const fleet = new Fleet("fleet", { plan: directPlan(3, 1) });
    let compliance: unknown = "not computed";
    fleet.compliance.apply((value) => (compliance = value));
    await settle();
    expect(ofType(hotfixesType)).toHaveLength(3);
    for (const name of ["fleet-mps01", "fleet-mps02", "fleet-mps03"]) expect(dependencyNames(name)).toEqual([]);
    expect(compliance).toBe("not computed");
  });

  it("never has more than maxUnavailable engines in flight, and starts a batch only after the one before", async () => {
    await settle();
    await freshMocks({ delayMs: (r) => (r.type === hotfixesType ? 25 : 0) });
    await deploy(directPlan(5, 2));
    const hotfixNames = new Set(ofType(hotfixesType).map((r) => r.name));
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
    expect(startedWhile["fleet-mps03-hotfixes"]!.ended).toEqual(
      expect.arrayContaining(["fleet-mps01-hotfixes", "fleet-mps02-hotfixes"]),
    );
    expect(startedWhile["fleet-mps04-hotfixes"]!.ended).toEqual(
      expect.arrayContaining(["fleet-mps01-hotfixes", "fleet-mps02-hotfixes"]),
    );
    expect(startedWhile["fleet-mps05-hotfixes"]!.ended).toEqual(
      expect.arrayContaining(["fleet-mps03-hotfixes", "fleet-mps04-hotfixes"]),
    );
    expect(startedWhile["fleet-mps02-hotfixes"]!.ended).toEqual([]);
  });

  it("reports every engine compliant when each engine's state is the desired one", async () => {
    const { compliance } = await deploy(directPlan(2, 1));
    const hotfix = {
      compliant: true,
      fileVersions: { [kbFile.name]: kbFile.version },
      engineState: "active",
      comPlusState: "running",
      restartPending: false,
      drift: [],
    };
    expect(compliance).toEqual({
      engines: {
        MPS01: { compliant: true, hotfixes: { [kb952089.id]: hotfix } },
        MPS02: { compliant: true, hotfixes: { [kb952089.id]: hotfix } },
      },
      compliantEngines: 2,
      totalEngines: 2,
    });
  });

  it("reports the drift of an engine whose state differs", async () => {
    await settle();
    await freshMocks({
      stateOf: (r) =>
        r.name === "fleet-mps02-hotfixes"
          ? { ...r.inputs, files: { [kb952089.id]: { [kbFile.name]: "13.3.600.0" } }, engineState: "deactivated" }
          : r.inputs,
    });
    const { compliance } = await deploy(directPlan(2, 1));
    expect(compliance.compliantEngines).toBe(1);
    expect(compliance.totalEngines).toBe(2);
    expect(compliance.engines["MPS01"]!.compliant).toBe(true);
    expect(compliance.engines["MPS02"]).toEqual({
      compliant: false,
      hotfixes: {
        [kb952089.id]: {
          compliant: false,
          fileVersions: { [kbFile.name]: "13.3.600.0" },
          engineState: "deactivated",
          comPlusState: "running",
          restartPending: false,
          drift: [
            `${kbFile.name}: 13.3.600.0 is older than ${kbFile.version}`,
            "the engine is deactivated (out of rotation)",
          ],
        },
      },
    });
  });

  it("passes adoptOnly to every EngineHotfixes, and leaves it out otherwise", async () => {
    const plan = directPlan(2, 1);
    await deploy(plan, "adopted", true);
    expect(ofType(hotfixesType).map((r) => r.inputs["adoptOnly"])).toEqual([true, true]);
    const { __provider: _provider, ...adopted } = named("adopted-mps01-hotfixes").inputs;
    expect(adopted).toEqual(resourceInputsFor(plan.engines[0]!, settingsOf(plan), true));
    await settle();
    await freshMocks();
    await deploy(plan, "managed");
    expect(ofType(hotfixesType).map((r) => "adoptOnly" in r.inputs)).toEqual([false, false]);
  });
});

describe("EngineServer", () => {
  /** MPS01 and MPS02 carrying KB952089 and the invented hotfix, listed by the stack in reverse order. */
  function twoHotfixPlan(): FleetPlan {
    const { fleet, credentials } = directFleet(packages, 2);
    const otherSha = packages.addPackage(inventedHotfix.packageFile, inventedHotfix);
    fleet.hotfixes = [inventedHotfix.id, kb952089.id];
    fleet.packages = { ...fleet.packages, [inventedHotfix.id]: { path: inventedHotfix.packageFile, sha256: otherSha } };
    fleet.rollout = { maxUnavailable: 1 };
    return planOf(fleet, credentials, twoHotfixCatalog);
  }

  it("holds exactly one resource for an engine with two hotfixes, carrying both in catalog order", async () => {
    const plan = twoHotfixPlan();
    await deploy(plan);
    expect(ofType(hotfixesType).map((r) => r.name)).toEqual(["fleet-mps01-hotfixes", "fleet-mps02-hotfixes"]);
    expect(registrations).toHaveLength(6);
    const inputs = named("fleet-mps01-hotfixes").inputs;
    expect((inputs["packages"] as { hotfix: string }[]).map((p) => p.hotfix)).toEqual([kb952089.id, inventedHotfix.id]);
    expect(inputs["files"]).toEqual({
      [kb952089.id]: { [kbFile.name]: kbFile.version },
      [inventedHotfix.id]: { [inventedFile.name]: inventedFile.version },
    });
    const { __provider: _provider, ...rest } = inputs;
    expect(rest).toEqual(resourceInputsFor(plan.engines[0]!, settingsOf(plan)));
    // The next engine waits for that one resource, not for one per hotfix.
    expect(dependencyNames("fleet-mps02")).toEqual(["fleet-mps01-hotfixes"]);
    // Release 0.1's resource of the first hotfix in catalog order becomes this one.
    expect(named("fleet-mps01-hotfixes").aliases.map((a) => [a.name, a.type])).toEqual([
      ["fleet-mps01-kb952089", legacyType],
    ]);
  });

  it("reports compliance per hotfix of the one resource", async () => {
    await settle();
    await freshMocks({
      stateOf: (r) =>
        r.name === "fleet-mps01-hotfixes"
          ? {
              ...r.inputs,
              files: {
                [kb952089.id]: { [kbFile.name]: kbFile.version },
                [inventedHotfix.id]: { [inventedFile.name]: "missing" },
              },
            }
          : r.inputs,
    });
    const { compliance } = await deploy(twoHotfixPlan());
    const mps01 = compliance.engines["MPS01"]!;
    expect(mps01.compliant).toBe(false);
    expect(Object.keys(mps01.hotfixes)).toEqual([kb952089.id, inventedHotfix.id]);
    expect(mps01.hotfixes[kb952089.id]).toMatchObject({ compliant: true, drift: [] });
    expect(mps01.hotfixes[inventedHotfix.id]).toEqual({
      compliant: false,
      fileVersions: { [inventedFile.name]: "missing" },
      engineState: "active",
      comPlusState: "running",
      restartPending: false,
      drift: [`${inventedFile.name}: missing is older than ${inventedFile.version}`],
    });
    expect(compliance.compliantEngines).toBe(1);
  });

  it("refuses an engine with no hotfixes", () => {
    const plan = directPlan(1, 1);
    const target = { ...plan.engines[0]!, packages: [] };
    expect(() => new EngineServer("lonely", { target, settings: settingsOf(plan) })).toThrow(
      "engine MPS01: target.packages: no hotfixes to carry",
    );
  });
});

describe("RolloutResult", () => {
  it("comes after every engine and carries no input but the engines' shortfalls", async () => {
    await deploy(directPlan(3, 1), "east");
    const result = named("east-result");
    expect(result.type).toBe(rolloutResultType);
    expect(result.parent).toBe(named("east").urn);
    // A dependency on a component is one on the resources inside it: every engine's EngineHotfixes.
    expect([...result.dependencies].sort()).toEqual(
      ["east-mps01-hotfixes", "east-mps02-hotfixes", "east-mps03-hotfixes"].map((n) => named(n).urn).sort(),
    );
    const { __provider: provider, ...inputs } = result.inputs;
    expect(typeof provider).toBe("string");
    expect(Object.keys(inputs)).toEqual(["shortfalls"]);
  });
});
