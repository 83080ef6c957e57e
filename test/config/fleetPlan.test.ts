import { readFileSync } from "node:fs";
import { join } from "node:path";
import { catalog } from "../../components/domain/catalog";
import {
  credentialNamesFor,
  FleetConfigError,
  formatPath,
  planFleet,
  type RawFleetSettings,
} from "../../components/config/fleetPlan";
import { EngineTarget } from "../../components/domain/target";
import { RolloutSettings } from "../../components/config/fleetConfig";
import { readMsiPackageFile } from "../../components/package/msiPackage";
import { injections, notFourNumbers, unknownHotfixId } from "../support/badConfig";
import { PackageDir, pinnedKey, type RawCredential, type RawFleet } from "../support/fleetFixture";
import { defaultHost, inventedFile, inventedHotfix, kb952089, kbFile, twoHotfixCatalog } from "../support/targets";

const stack = "lab-east";
const mps01Password = "Pa55-MPS01-7hK2q";
const mps03Password = "Pa55-MPS03-Vv81x";
const relayKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nMGMT01-Key-9sd8f7\n-----END OPENSSH PRIVATE KEY-----";
const relayPassword = "relay-password-Mg01-7Hq";
const secretValues = [mps01Password, mps03Password, relayKey, "MGMT01-Key-9sd8f7", relayPassword];

let packages: PackageDir;
let kbSha: string;

beforeAll(() => {
  packages = new PackageDir();
  kbSha = packages.addPackage("packages/KB952089.msi", kb952089);
});

afterAll(() => packages.remove());

/** A valid fleet: two engines over SSH (one pinned, one trusting), one behind a relay. */
function validFleet(): RawFleet {
  return {
    hotfixes: ["KB952089"],
    packages: { KB952089: { path: "packages/KB952089.msi", sha256: kbSha } },
    relays: [{ name: "MGMT01", host: "mgmt01.corp.example", user: "mps-admin@corp.example", hostKey: pinnedKey }],
    engines: [
      { name: "MPS01", host: "mps01.corp.example", port: 2222, user: "CORP\\mps-admin", hostKey: pinnedKey },
      { name: "MPS02", host: "mps02", relay: "MGMT01", binDir: "D:\\MPS (x86)\\Bin" },
      { name: "MPS03", host: "10.20.30.3", user: "mps-admin", trustUnknownHostKey: true },
    ],
  };
}

function validCredentials(): Record<string, RawCredential> {
  return {
    MPS01: { password: mps01Password },
    MPS03: { password: mps03Password },
    MGMT01: { password: relayPassword },
  };
}

function settings(fleet: unknown, overrides: Partial<RawFleetSettings> = {}): RawFleetSettings {
  return {
    stack,
    fleet,
    credentials: validCredentials(),
    credentialsAreSecret: true,
    baseDir: packages.dir,
    ...overrides,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** planFleet's FleetConfigError for the settings; fails the test when planFleet accepts them. */
function rejection(raw: RawFleetSettings): FleetConfigError {
  try {
    planFleet(raw);
  } catch (error) {
    if (error instanceof FleetConfigError) return error;
    throw error;
  }
  throw new Error("planFleet accepted a fleet it should reject");
}

/** The problems for a fleet changed by `edit`, checked for the message shape and leaked secrets. */
function problemsAfter(
  edit: (fleet: RawFleet, credentials: Record<string, RawCredential>) => void,
  overrides: Partial<RawFleetSettings> = {},
): readonly string[] {
  const fleet = validFleet();
  const credentials = validCredentials();
  edit(fleet, credentials);
  const error = rejection(settings(fleet, { credentials, ...overrides }));
  expect(error.stackName).toBe(stack);
  expect(error.name).toBe("FleetConfigError");
  expect(error.message).toBe(
    `stack ${stack}: the fleet configuration is invalid; nothing was run on any host:\n` +
      error.problems.map((p) => `  - ${p}`).join("\n"),
  );
  for (const secret of secretValues) expect(error.message).not.toContain(secret);
  return error.problems;
}

describe("planFleet with a valid fleet", () => {
  it("resolves routes, defaults, requirements and the package path into one target per engine", () => {
    const plan = planFleet(settings(validFleet()));
    const packages_ = [
      {
        hotfix: kb952089.id,
        file: kb952089.packageFile,
        path: packages.path("packages/KB952089.msi"),
        sha256: kbSha,
      },
    ];
    const files = { [kb952089.id]: { [kbFile.name]: kbFile.version } };
    const host = {
      binDir: "C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin",
      stagingDir: "C:\\Windows\\Temp\\mps-hotfix",
      comPlusApplication: "Provisioning Engine",
      engineControlProgId: "Provisioning.EngineControl",
      responseTimeoutSeconds: 30,
    };
    expect(plan).toEqual({
      stack,
      engines: [
        {
          engine: "MPS01",
          route: {
            kind: "direct",
            endpoint: {
              name: "MPS01",
              host: "mps01.corp.example",
              port: 2222,
              user: "CORP\\mps-admin",
              hostKey: pinnedKey,
            },
          },
          host,
          packages: packages_,
          files,
        },
        {
          engine: "MPS02",
          route: {
            kind: "relay",
            relay: {
              name: "MGMT01",
              host: "mgmt01.corp.example",
              port: 22,
              user: "mps-admin@corp.example",
              hostKey: pinnedKey,
            },
            engineHost: "mps02",
          },
          host: { ...host, binDir: "D:\\MPS (x86)\\Bin" },
          packages: packages_,
          files,
        },
        {
          engine: "MPS03",
          route: {
            kind: "direct",
            endpoint: { name: "MPS03", host: "10.20.30.3", port: 22, user: "mps-admin", trustUnknownHostKey: true },
          },
          host,
          packages: packages_,
          files,
        },
      ],
      rollout: {
        maxUnavailable: 1,
        leaveFailedEngineOut: false,
        connectTimeoutSeconds: 20,
        connectAttempts: 3,
        connectRetryDelaySeconds: 2,
        stepTimeoutSeconds: 600,
        complusShutdownTimeoutSeconds: 120,
        installAttempts: 4,
        installRetryDelaySeconds: 15,
        maxFailures: 0,
      },
    });
    // The defaults are the product's own.
    expect(plan.engines[0]!.host).toEqual(defaultHost);
  });

  it("gives every engine a target the product's schema accepts, holding no credentials", () => {
    const plan = planFleet(settings(validFleet()));
    for (const engine of plan.engines) expect(EngineTarget.parse(engine)).toEqual(engine);
    const text = JSON.stringify(plan);
    for (const secret of secretValues) expect(text).not.toContain(secret);
  });

  it("names the credentials each route uses: the engine's own, or its relay's", () => {
    const plan = planFleet(settings(validFleet()));
    expect(plan.engines.map(credentialNamesFor)).toEqual([["MPS01"], ["MGMT01"], ["MPS03"]]);
  });

  it("keeps rollout and host settings the stack gives", () => {
    const fleet = validFleet();
    fleet.rollout = {
      maxUnavailable: 2,
      leaveFailedEngineOut: true,
      installAttempts: 7,
      installRetryDelaySeconds: 0.5,
    };
    fleet.host = { stagingDir: "D:\\Staging", comPlusApplication: "Provisioning Engine 2" };
    const plan = planFleet(settings(fleet));
    expect(plan.rollout).toEqual({
      ...RolloutSettings.parse({}),
      maxUnavailable: 2,
      leaveFailedEngineOut: true,
      installAttempts: 7,
      installRetryDelaySeconds: 0.5,
    });
    expect(plan.engines.map((e) => e.host)).toEqual(
      [defaultHost.binDir, "D:\\MPS (x86)\\Bin", defaultHost.binDir].map((binDir) => ({
        binDir,
        stagingDir: "D:\\Staging",
        comPlusApplication: "Provisioning Engine 2",
        engineControlProgId: "Provisioning.EngineControl",
        responseTimeoutSeconds: defaultHost.responseTimeoutSeconds,
      })),
    );
  });

  it("uses KB952089 when the fleet names no hotfixes", () => {
    const fleet = validFleet();
    delete fleet.hotfixes;
    const plan = planFleet(settings(fleet));
    expect(plan.engines.map((e) => e.packages.map((p) => p.hotfix))).toEqual([
      ["KB952089"],
      ["KB952089"],
      ["KB952089"],
    ]);
    expect(plan.engines.map((e) => Object.keys(e.files))).toEqual([["KB952089"], ["KB952089"], ["KB952089"]]);
  });

  it("gives every engine its hotfixes in catalog order, whatever order the stack lists them in", () => {
    // The invented entry first, KB952089 second.
    const reversed = [inventedHotfix, kb952089];
    const otherSha = packages.addPackage(inventedHotfix.packageFile, inventedHotfix);
    const fleet = validFleet();
    fleet.hotfixes = [kb952089.id, inventedHotfix.id];
    fleet.packages = {
      ...fleet.packages,
      [inventedHotfix.id]: { path: inventedHotfix.packageFile, sha256: otherSha.toUpperCase() },
    };
    fleet.engines![2]!.hotfixes = [kb952089.id];
    const plan = planFleet(settings(fleet, { catalog: reversed }));
    expect(plan.engines.map((e) => e.packages.map((p) => p.hotfix))).toEqual([
      [inventedHotfix.id, kb952089.id],
      [inventedHotfix.id, kb952089.id],
      [kb952089.id],
    ]);
    const engine = plan.engines[0]!;
    expect(engine.files).toEqual({
      [inventedHotfix.id]: { [inventedFile.name]: inventedFile.version },
      [kb952089.id]: { [kbFile.name]: kbFile.version },
    });
    expect(plan.engines[2]!.files).toEqual({ [kb952089.id]: { [kbFile.name]: kbFile.version } });
    const other = engine.packages[0]!;
    expect(other.file).toBe(inventedHotfix.packageFile);
    expect(other.path).toBe(packages.path(inventedHotfix.packageFile));
    // The pinned SHA-256 is compared and kept in lowercase.
    expect(other.sha256).toBe(otherSha);
  });

  it("raises a file's required version with minimumFileVersions (file names compared case-insensitively)", () => {
    const fleet = validFleet();
    fleet.minimumFileVersions = { [kbFile.name.toUpperCase()]: "13.3.1000.0" };
    const sha256 = packages.addPackage("packages/KB952089-1000.msi", kb952089, { [kbFile.name]: "13.3.1000.0" });
    fleet.packages = { KB952089: { path: "packages/KB952089-1000.msi", sha256 } };
    const plan = planFleet(settings(fleet));
    for (const engine of plan.engines) {
      expect(engine.files).toEqual({ [kb952089.id]: { [kbFile.name]: "13.3.1000.0" } });
    }
  });

  it("never lowers a requirement below the catalog's", () => {
    const fleet = validFleet();
    fleet.minimumFileVersions = { [kbFile.name]: "13.3.600.0" };
    const plan = planFleet(settings(fleet));
    expect(plan.engines[0]!.files).toEqual({ [kb952089.id]: { [kbFile.name]: kbFile.version } });
  });

  it("takes an absolute package path as it is", () => {
    const fleet = validFleet();
    fleet.packages = { KB952089: { path: packages.path("packages/KB952089.msi"), sha256: kbSha } };
    const plan = planFleet(settings(fleet, { baseDir: "/nonexistent/elsewhere" }));
    expect(plan.engines[0]!.packages[0]!.path).toBe(packages.path("packages/KB952089.msi"));
  });

  it("resolves a relative package path against baseDir, not the working directory", () => {
    const fleet = validFleet();
    expect(() => planFleet(settings(fleet, { baseDir: "/nonexistent/elsewhere" }))).toThrow(
      "packages.KB952089.path: no such file: /nonexistent/elsewhere/packages/KB952089.msi",
    );
  });

  it("reports every hop's missing credentials when the stack has none, secret or not", () => {
    // credentialsAreSecret only matters when credentials are set; missing ones are reported per hop.
    const problems = problemsAfter(() => undefined, { credentials: undefined, credentialsAreSecret: false });
    expect(problems).toEqual([
      "relays[0]: missing secret credentials.MGMT01 (a password or privateKey)",
      "engine MPS01: engines[0]: missing secret credentials.MPS01 (a password or privateKey)",
      "engine MPS03: engines[2]: missing secret credentials.MPS03 (a password or privateKey)",
    ]);
  });
});

describe("planFleet with the stack's own catalog file", () => {
  /** Writes a catalog file into the project directory, as an operator would: plain JSON data. */
  function catalogFile(relativePath: string, data: unknown): string {
    packages.add(relativePath, JSON.stringify(data, null, 2));
    return packages.path(relativePath);
  }

  /** The valid fleet, asking every engine for KB952089 and the invented hotfix, with both packages. */
  function fleetWithInvented(catalogPath: string): RawFleet {
    const otherSha = packages.addPackage(`packages/${inventedHotfix.packageFile}`, inventedHotfix);
    const fleet = validFleet();
    fleet.catalog = catalogPath;
    fleet.hotfixes = [inventedHotfix.id, kb952089.id];
    fleet.packages = {
      ...fleet.packages,
      [inventedHotfix.id]: { path: `packages/${inventedHotfix.packageFile}`, sha256: otherSha },
    };
    return fleet;
  }

  it("takes a hotfix the built-in catalog does not know from the file, as data only", () => {
    // The built-in catalog knows KB952089 alone.
    expect(catalog.map((e) => e.id)).toEqual([kb952089.id]);
    catalogFile("catalogs/lab.json", twoHotfixCatalog);
    const plan = planFleet(settings(fleetWithInvented("catalogs/lab.json")));
    for (const engine of plan.engines) {
      // The file's order is the catalog order, whatever order the stack lists the hotfixes in.
      expect(engine.packages.map((p) => [p.hotfix, p.file])).toEqual([
        [kb952089.id, kb952089.packageFile],
        [inventedHotfix.id, inventedHotfix.packageFile],
      ]);
      expect(engine.files).toEqual({
        [kb952089.id]: { [kbFile.name]: kbFile.version },
        [inventedHotfix.id]: { [inventedFile.name]: inventedFile.version },
      });
    }
    expect(plan.engines[0]!.packages[1]!.path).toBe(packages.path(`packages/${inventedHotfix.packageFile}`));
  });

  it("resolves the file against baseDir, takes an absolute path as it is, and prefers it to a catalog given in code", () => {
    const absolute = catalogFile("catalogs/absolute.json", twoHotfixCatalog);
    const relative = planFleet(settings(fleetWithInvented("catalogs/absolute.json"), { catalog }));
    const fromAbsolute = planFleet(settings(fleetWithInvented(absolute), { catalog }));
    expect(fromAbsolute).toEqual(relative);
    expect(relative.engines[0]!.packages.map((p) => p.hotfix)).toEqual([kb952089.id, inventedHotfix.id]);
  });

  it("requires of the file's entries what the file says, not what the built-in catalog says", () => {
    const raised = twoHotfixCatalog.map((entry) =>
      entry.id === kb952089.id ? { ...entry, files: [{ ...kbFile, version: "13.3.1000.0" }] } : entry,
    );
    catalogFile("catalogs/raised.json", raised);
    const fleet = fleetWithInvented("catalogs/raised.json");
    const sha256 = packages.addPackage("packages/KB952089-1000.msi", kb952089, { [kbFile.name]: "13.3.1000.0" });
    fleet.packages = { ...fleet.packages, KB952089: { path: "packages/KB952089-1000.msi", sha256 } };
    const plan = planFleet(settings(fleet));
    expect(plan.engines[0]!.files[kb952089.id]).toEqual({ [kbFile.name]: "13.3.1000.0" });
  });

  it("without the file, reports the invented hotfix as unknown", () => {
    const fleet = fleetWithInvented("unused.json");
    delete fleet.catalog;
    expect(problemsAfter((f) => Object.assign(f, fleet))).toEqual([
      `hotfixes[0]: unknown hotfix ${inventedHotfix.id} (the catalog has ${kb952089.id})`,
    ]);
  });

  it("reports a catalog path that names no file in one problem line, and nothing else", () => {
    const missing = packages.path("catalogs/missing.json");
    const problems = problemsAfter((f, c) => {
      f.catalog = "catalogs/missing.json";
      // Other problems are not reached: without its catalog the stack cannot be checked.
      delete c["MPS03"];
    });
    expect(problems).toEqual([`catalog: ${missing}: ENOENT: no such file or directory, open '${missing}'`]);
    expect(problems[0]).not.toContain("\n");
  });

  it("reports a catalog file that is not JSON", () => {
    packages.add("catalogs/broken.json", "[{ not json");
    const problems = problemsAfter((f) => void (f.catalog = "catalogs/broken.json"));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^catalog: ${escapeRegExp(packages.path("catalogs/broken.json"))}: `));
  });

  it("reports a catalog file that is no valid catalog, with the problem's place in it", () => {
    const entry = structuredClone(twoHotfixCatalog[1]!);
    catalogFile("catalogs/duplicate.json", [kb952089, { ...entry, id: kb952089.id }]);
    const problems = problemsAfter((f) => void (f.catalog = "catalogs/duplicate.json"));
    expect(problems).toEqual([
      `catalog: ${packages.path("catalogs/duplicate.json")}: hotfix catalog is invalid: ✖ duplicate hotfix id ${kb952089.id}; → at [1].id`,
    ]);
  });

  it("reports an empty catalog path as a field problem", () => {
    expect(problemsAfter((f) => void (f.catalog = ""))).toEqual([
      "catalog: Too small: expected string to have >=1 characters",
    ]);
  });
});

describe("planFleet with bad input", () => {
  it("reports a missing fleet", () => {
    const error = rejection(settings(undefined));
    expect(error.problems).toEqual(["mps-hotfix:fleet: is not set (the stack lists no engines)"]);
    expect(error.message.startsWith(`stack ${stack}:`)).toBe(true);
    expect(rejection(settings(null)).problems).toEqual(["mps-hotfix:fleet: is not set (the stack lists no engines)"]);
  });

  it("reports a fleet that is not an object", () => {
    expect(rejection(settings("engines: []")).problems).toEqual([
      "fleet: Invalid input: expected object, received string",
    ]);
  });

  it("reports an empty engine list", () => {
    expect(problemsAfter((f) => void (f.engines = []))).toEqual(["engines: must list at least one engine"]);
  });

  it("reports an empty fleet hotfix list", () => {
    expect(problemsAfter((f) => void (f.hotfixes = []))).toEqual(["hotfixes: must name at least one hotfix"]);
  });

  it("reports a rollout.minInRotation that names no pool, or leaves a pool nothing to maintain", () => {
    const problems = problemsAfter((f) => {
      f.engines![0]!.pool = "front";
      f.engines![1]!.pool = "front";
      f.rollout = { minInRotation: { front: 2, back: 1 } };
    });
    expect(problems).toEqual([
      "rollout.minInRotation.back: names no pool of the stack's engines (front, default)",
      "rollout.minInRotation.front: 2 for pool front of 2 engine(s) leaves none of them to maintain (at most 1)",
    ]);
  });

  it("reports a pool name that is not one, naming the engine and the field", () => {
    const problems = problemsAfter((f) => void (f.engines![2]!.pool = "front row;"));
    expect(problems).toEqual([
      "engine MPS03: engines[2].pool: must be a pool name of letters, digits, '.', '_' and '-'",
    ]);
  });

  it("reports duplicate engine names, compared case-insensitively", () => {
    const problems = problemsAfter((f, c) => {
      f.engines!.push({ name: "mps01", host: "mps09.corp.example", user: "mps-admin", trustUnknownHostKey: true });
      c["mps01"] = { password: mps01Password };
    });
    expect(problems).toEqual(["engine mps01: engines[3].name: duplicate engine name (also engines[0])"]);
  });

  it("reports duplicate hosts (same host and port, compared case-insensitively)", () => {
    const problems = problemsAfter((f, c) => {
      f.engines!.push({
        name: "MPS04",
        host: "MPS01.corp.example",
        port: 2222,
        user: "mps-admin",
        trustUnknownHostKey: true,
      });
      c["MPS04"] = { password: mps01Password };
    });
    expect(problems).toEqual(["engine MPS04: engines[3].host: duplicate host MPS01.corp.example (also engines[0])"]);
  });

  it("reports two relayed engines with the same host behind the same relay", () => {
    const problems = problemsAfter((f) => void f.engines!.push({ name: "MPS05", host: "MPS02", relay: "mgmt01" }));
    expect(problems).toEqual(["engine MPS05: engines[3].host: duplicate host MPS02 (also engines[1])"]);
  });

  it("allows one host on two ports", () => {
    const fleet = validFleet();
    fleet.engines!.push({
      name: "MPS04",
      host: "mps01.corp.example",
      port: 2223,
      user: "mps-admin",
      trustUnknownHostKey: true,
    });
    const credentials = { ...validCredentials(), MPS04: { password: mps01Password } };
    expect(planFleet(settings(fleet, { credentials })).engines.map((e) => e.engine)).toEqual([
      "MPS01",
      "MPS02",
      "MPS03",
      "MPS04",
    ]);
  });

  it("reports duplicate relay names", () => {
    const problems = problemsAfter(
      (f) => void f.relays!.push({ name: "mgmt01", host: "mgmt02", user: "x", trustUnknownHostKey: true }),
    );
    expect(problems).toEqual([
      "relays[1].name: duplicate relay name mgmt01",
      "relays[1]: missing secret credentials.mgmt01 (a password or privateKey)",
    ]);
  });

  it.each(notFourNumbers)("reports a minimumFileVersions version %j that is not four numbers", (bad) => {
    expect(problemsAfter((f) => void (f.minimumFileVersions = { "Mapsproccntl.dll": bad }))).toEqual([
      "minimumFileVersions.Mapsproccntl.dll: must be a file version of four numbers, each 0-65535, such as 13.3.609.1",
    ]);
  });

  it("reports a minimumFileVersions entry for a file no hotfix installs", () => {
    expect(problemsAfter((f) => void (f.minimumFileVersions = { "Other.dll": "1.0.0.0" }))).toEqual([
      "minimumFileVersions.Other.dll: no hotfix in the catalog installs Other.dll (version 1.0.0.0)",
    ]);
  });

  it("reports an unknown hotfix in the fleet list", () => {
    expect(problemsAfter((f) => void (f.hotfixes = ["KB952089", unknownHotfixId]))).toEqual([
      `hotfixes[1]: unknown hotfix ${unknownHotfixId} (the catalog has KB952089)`,
      `packages: no package source for ${unknownHotfixId} (give packages.${unknownHotfixId}.path and packages.${unknownHotfixId}.sha256)`,
    ]);
  });

  it("reports an unknown hotfix of one engine, naming the engine", () => {
    expect(problemsAfter((f) => void (f.engines![1]!.hotfixes = ["kb952089"]))).toEqual([
      "engine MPS02: engines[1].hotfixes[0]: unknown hotfix kb952089 (the catalog has KB952089)",
      "packages: no package source for kb952089 (give packages.kb952089.path and packages.kb952089.sha256)",
    ]);
  });

  it("reports an engine that lists no hotfixes (EngineServer refuses such an engine later, after other engines are registered)", () => {
    const problems = problemsAfter((f) => void (f.engines![2]!.hotfixes = []));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^engine MPS03: engines\[2\]\.hotfixes: /);
  });

  it("reports a hotfix without a package source", () => {
    expect(problemsAfter((f) => void (f.packages = {}))).toEqual([
      "packages: no package source for KB952089 (give packages.KB952089.path and packages.KB952089.sha256)",
    ]);
  });

  it("reports a package path that does not exist, resolved against baseDir", () => {
    expect(problemsAfter((f) => void (f.packages!["KB952089"]!.path = "packages/KB952089-missing.msi"))).toEqual([
      `packages.KB952089.path: no such file: ${packages.path("packages/KB952089-missing.msi")}`,
    ]);
  });

  it("reports a package path that is a directory", () => {
    expect(problemsAfter((f) => void (f.packages!["KB952089"]!.path = "packages"))).toEqual([
      `packages.KB952089.path: no such file: ${packages.path("packages")}`,
    ]);
  });

  it("reports a package whose SHA-256 differs from the pinned one", () => {
    const problems = problemsAfter((f) => void (f.packages!["KB952089"]!.sha256 = "0".repeat(64)));
    expect(problems).toEqual([
      `packages.KB952089.sha256: the package at ${packages.path("packages/KB952089.msi")} has SHA-256 ${kbSha}, not the one the stack pins`,
    ]);
  });

  it("reports a pinned SHA-256 that is not 64 hex digits", () => {
    expect(problemsAfter((f) => void (f.packages!["KB952089"]!.sha256 = "abc"))).toEqual([
      "packages.KB952089.sha256: must be 64 hexadecimal digits",
    ]);
  });

  it("reports missing credentials for an engine, naming the engine", () => {
    expect(
      problemsAfter((_f, c) => {
        delete c["MPS03"];
      }),
    ).toEqual(["engine MPS03: engines[2]: missing secret credentials.MPS03 (a password or privateKey)"]);
  });

  it("matches credentials to engine names exactly", () => {
    const problems = problemsAfter((_f, c) => {
      c["mps03"] = c["MPS03"]!;
      delete c["MPS03"];
    });
    expect(problems).toEqual(["engine MPS03: engines[2]: missing secret credentials.MPS03 (a password or privateKey)"]);
  });

  it("reports missing credentials for a relay", () => {
    expect(
      problemsAfter((_f, c) => {
        delete c["MGMT01"];
      }),
    ).toEqual(["relays[0]: missing secret credentials.MGMT01 (a password or privateKey)"]);
  });

  it("refuses a key for a relay, naming the relay and the field: its Invoke-Command to the engines is a second hop", () => {
    const refusal = `relays[0]: credentials.MGMT01.privateKey: relay MGMT01 runs each step on its engines with Invoke-Command (WinRM), a second hop that a key logon carries no credentials for, so the engines would refuse it (access denied); give relay MGMT01 a password instead (credentials.MGMT01.password)`;
    expect(problemsAfter((_f, c) => void (c["MGMT01"] = { privateKey: relayKey }))).toEqual([refusal]);
    // A password beside the key does not help: OpenSSH would take the key first.
    expect(problemsAfter((_f, c) => void (c["MGMT01"] = { password: relayPassword, privateKey: relayKey }))).toEqual([
      refusal,
    ]);
    // An engine reached over SSH itself makes no second hop: a key is fine there.
    const credentials = { ...validCredentials(), MPS01: { privateKey: relayKey } };
    expect(planFleet(settings(validFleet(), { credentials })).engines).toHaveLength(3);
  });

  it("does not ask for credentials of an engine behind a relay", () => {
    const credentials = validCredentials();
    expect(credentials["MPS02"]).toBeUndefined();
    const plan = planFleet(settings(validFleet(), { credentials }));
    expect(plan.engines[1]!.route.kind).toBe("relay");
    expect(credentialNamesFor(plan.engines[1]!)).toEqual(["MGMT01"]);
  });

  it("reports credentials that are not stored as a secret", () => {
    expect(problemsAfter(() => undefined, { credentialsAreSecret: false })).toEqual([
      "credentials: must be stored as a Pulumi secret (pulumi config set --secret --path 'credentials.<name>.password')",
    ]);
  });

  it("reports a credential that is empty, has neither password nor key, or has unknown keys, without echoing values", () => {
    const problems = problemsAfter((_f, c) => {
      c["MPS01"] = { password: "" };
      c["MPS03"] = { passwd: mps03Password };
      c["MGMT01"] = {};
    });
    expect(problems).toEqual([
      "credentials.MPS01.password: is empty",
      'credentials.MPS03: Unrecognized key: "passwd"',
      "credentials.MPS03: needs a password or a privateKey",
      "credentials.MGMT01: needs a password or a privateKey",
      "relays[0]: missing secret credentials.MGMT01 (a password or privateKey)",
      "engine MPS01: engines[0]: missing secret credentials.MPS01 (a password or privateKey)",
      "engine MPS03: engines[2]: missing secret credentials.MPS03 (a password or privateKey)",
    ]);
  });

  it("reports a password that is not a string without echoing it", () => {
    const problems = problemsAfter((_f, c) => void (c["MPS01"] = { password: [mps01Password] }));
    expect(problems[0]).toBe("credentials.MPS01.password: Invalid input: expected string, received array");
  });

  it("reports credentials that are a bare string without echoing the string", () => {
    const fleet = validFleet();
    const error = rejection(settings(fleet, { credentials: mps01Password }));
    expect(error.problems[0]).toMatch(/^credentials\.?: Invalid input: expected record, received string$/);
    expect(error.message).not.toContain(mps01Password);
  });

  it("reports an engine with neither hostKey nor trustUnknownHostKey", () => {
    expect(
      problemsAfter((f) => {
        delete f.engines![0]!.hostKey;
      }),
    ).toEqual([
      "engine MPS01: engines[0].hostKey: give exactly one of hostKey (the pinned SHA256 fingerprint) or trustUnknownHostKey: true",
    ]);
  });

  it("reports an engine with both hostKey and trustUnknownHostKey", () => {
    expect(problemsAfter((f) => void (f.engines![0]!.trustUnknownHostKey = true))).toEqual([
      "engine MPS01: engines[0].hostKey: give exactly one of hostKey (the pinned SHA256 fingerprint) or trustUnknownHostKey: true",
    ]);
  });

  it("reports trustUnknownHostKey: false (only true is an explicit opt-out)", () => {
    const problems = problemsAfter((f) => {
      delete f.engines![2]!.trustUnknownHostKey;
      f.engines![2]!.trustUnknownHostKey = false;
    });
    expect(problems).toEqual(["engine MPS03: engines[2].trustUnknownHostKey: Invalid input: expected true"]);
  });

  it("reports a relay with neither hostKey nor trustUnknownHostKey", () => {
    expect(
      problemsAfter((f) => {
        delete f.relays![0]!.hostKey;
      }),
    ).toEqual([
      "relays[0].hostKey: give exactly one of hostKey (the pinned SHA256 fingerprint) or trustUnknownHostKey: true",
    ]);
  });

  it("reports a malformed host key fingerprint", () => {
    expect(problemsAfter((f) => void (f.engines![0]!.hostKey = "SHA256:short"))).toEqual([
      "engine MPS01: engines[0].hostKey: must be a SHA256 host key fingerprint such as SHA256:2X3…(43 characters)",
    ]);
  });

  it("reports an SSH engine without a user", () => {
    expect(
      problemsAfter((f) => {
        delete f.engines![2]!.user;
      }),
    ).toEqual(["engine MPS03: engines[2].user: is required for an engine reached over SSH"]);
  });

  it("reports port, user and host key options on an engine reached through a relay", () => {
    const problems = problemsAfter((f) => {
      f.engines![1]!.port = 22;
      f.engines![1]!.user = "mps-admin";
      f.engines![1]!.trustUnknownHostKey = true;
    });
    expect(problems).toEqual([
      "engine MPS02: engines[1].port: does not apply to an engine reached through relay MGMT01",
      "engine MPS02: engines[1].user: does not apply to an engine reached through relay MGMT01",
      "engine MPS02: engines[1].trustUnknownHostKey: does not apply to an engine reached through relay MGMT01",
    ]);
  });

  it("reports an engine naming an unknown relay", () => {
    expect(problemsAfter((f) => void (f.engines![1]!.relay = "MGMT09"))).toEqual([
      "engine MPS02: engines[1].relay: names no relay in relays (MGMT01)",
    ]);
  });

  it("reports an engine naming a relay when none is defined", () => {
    expect(
      problemsAfter((f) => {
        delete f.relays;
      }),
    ).toEqual(["engine MPS02: engines[1].relay: names no relay in relays (none defined)"]);
  });

  it("reports unknown keys in an engine", () => {
    const problems = problemsAfter((f) => {
      Object.assign(f.engines![0]!, { password: mps01Password });
    });
    expect(problems).toEqual(['engine MPS01: engines[0]: Unrecognized key: "password"']);
  });

  it("labels an engine without a usable name by its position", () => {
    expect(
      problemsAfter((f) => {
        delete f.engines![2]!.name;
      }),
    ).toEqual(["engine #3: engines[2].name: Invalid input: expected string, received undefined"]);
  });

  it("reports every problem at once", () => {
    const problems = problemsAfter((f, c) => {
      delete c["MPS01"];
      f.engines![1]!.relay = "MGMT09";
      f.packages!["KB952089"]!.sha256 = "f".repeat(64);
    });
    expect(problems).toEqual([
      "engine MPS01: engines[0]: missing secret credentials.MPS01 (a password or privateKey)",
      "engine MPS02: engines[1].relay: names no relay in relays (MGMT01)",
      `packages.KB952089.sha256: the package at ${packages.path("packages/KB952089.msi")} has SHA-256 ${kbSha}, not the one the stack pins`,
    ]);
  });
});

describe("planFleet refuses values that could change a host command", () => {
  const nameMessage = "must be an engine name of letters, digits, '.', '_' and '-'";
  const hostMessage = "must be a DNS host name or an IPv4 address";
  const userMessage = "must be a user name such as mps-admin, CORP\\mps-admin or mps-admin@corp.example";
  const dirMessage =
    "must be an absolute Windows directory of letters, digits, spaces and . _ ( ) - (no quotes, $, %, ; or &)";
  const comPlusMessage = "must be a COM+ application name of letters, digits, spaces, '.', '_' and '-'";

  it.each(injections)("in an engine name: %j", (value) => {
    expect(problemsAfter((f) => void (f.engines![0]!.name = value))).toEqual([
      `engine ${value}: engines[0].name: ${nameMessage}`,
    ]);
  });

  it.each(injections)("in an engine host: %j", (value) => {
    expect(problemsAfter((f) => void (f.engines![1]!.host = value))).toEqual([
      `engine MPS02: engines[1].host: ${hostMessage}`,
    ]);
  });

  it.each(injections)("in an engine user: %j", (value) => {
    expect(problemsAfter((f) => void (f.engines![0]!.user = value))).toEqual([
      `engine MPS01: engines[0].user: ${userMessage}`,
    ]);
  });

  it.each(injections.map((v) => `C:\\MPS\\${v}`))("in an engine binDir: %j", (value) => {
    expect(problemsAfter((f) => void (f.engines![2]!.binDir = value))).toEqual([
      `engine MPS03: engines[2].binDir: ${dirMessage}`,
    ]);
  });

  it.each([...injections, 'C:\\x\\`"; calc'])("in the fleet binDir: %j", (value) => {
    expect(problemsAfter((f) => void (f.host = { binDir: value }))).toEqual([`host.binDir: ${dirMessage}`]);
  });

  it.each(injections.map((v) => `C:\\Windows\\Temp\\${v}`))("in the stagingDir: %j", (value) => {
    expect(problemsAfter((f) => void (f.host = { stagingDir: value }))).toEqual([`host.stagingDir: ${dirMessage}`]);
  });

  it.each(injections.map((v) => `Provisioning Engine ${v}`))("in the comPlusApplication: %j", (value) => {
    expect(problemsAfter((f) => void (f.host = { comPlusApplication: value }))).toEqual([
      `host.comPlusApplication: ${comPlusMessage}`,
    ]);
  });

  it.each(["Provisioning.EngineControl'; calc", "Provisioning.Engine$(x)", "Provisioning"])(
    "in the engineControlProgId: %j",
    (value) => {
      expect(problemsAfter((f) => void (f.host = { engineControlProgId: value }))).toEqual([
        "host.engineControlProgId: must be a COM ProgID such as Vendor.Component",
      ]);
    },
  );

  it.each(injections)("in a relay host and user: %j", (value) => {
    const problems = problemsAfter((f) => {
      f.relays![0]!.host = value;
      f.relays![0]!.user = value;
    });
    expect(problems).toEqual([`relays[0].host: ${hostMessage}`, `relays[0].user: ${userMessage}`]);
  });

  it("accepts the plain values the fields are for", () => {
    const fleet = validFleet();
    fleet.engines![0]!.name = "MPS-01_east.1";
    fleet.host = {
      binDir: "C:\\Program Files (x86)\\Microsoft Hosting\\Provisioning\\Bin\\",
      stagingDir: "D:\\",
      comPlusApplication: "Provisioning Engine_2.0",
    };
    const credentials = { ...validCredentials(), "MPS-01_east.1": { password: mps01Password } };
    const plan = planFleet(settings(fleet, { credentials }));
    expect(plan.engines[0]!.engine).toBe("MPS-01_east.1");
    expect(plan.engines[0]!.host.binDir).toBe("C:\\Program Files (x86)\\Microsoft Hosting\\Provisioning\\Bin\\");
    expect(plan.engines[0]!.host.stagingDir).toBe("D:\\");
  });
});

describe("formatPath", () => {
  it("writes indices in brackets and keys after dots", () => {
    expect(formatPath(["engines", 2, "host"])).toBe("engines[2].host");
    expect(formatPath([0, "files", 1])).toBe("[0].files[1]");
    expect(formatPath([])).toBe("");
  });
});

describe("planFleet's pre-flight: the package's own File table against the requirement", () => {
  const fixtures = join(__dirname, "../fixtures/packages");
  /** A committed package copied into the project directory, pinned by its SHA-256. */
  function pinFixture(fleet: RawFleet, fixture: string): string {
    const sha256 = packages.add(`packages/${fixture}`, readFileSync(join(fixtures, fixture)));
    fleet.packages = { KB952089: { path: `packages/${fixture}`, sha256 } };
    return packages.path(`packages/${fixture}`);
  }

  it("refuses a package that carries a file below the requirement, naming the hotfix, package, file and both versions", () => {
    let path = "";
    const below = readMsiPackageFile(join(fixtures, "KB952089-below.msi")).files[0]!;
    expect(below.fileName).toBe(kbFile.name);
    const problems = problemsAfter((fleet) => void (path = pinFixture(fleet, "KB952089-below.msi")));
    expect(problems).toEqual([
      `packages.KB952089: the KB952089 package ${path} carries ${kbFile.name} ${below.version}; KB952089 requires ${kbFile.version} or later, so it cannot bring an engine to the requirement`,
    ]);
  });

  it("holds the package to a raised requirement (minimumFileVersions)", () => {
    const problems = problemsAfter((fleet) => void (fleet.minimumFileVersions = { [kbFile.name]: "13.3.1000.0" }));
    expect(problems).toEqual([
      `packages.KB952089: the KB952089 package ${packages.path("packages/KB952089.msi")} carries ${kbFile.name} ${kbFile.version}; KB952089 requires 13.3.1000.0 or later, so it cannot bring an engine to the requirement`,
    ]);
  });

  it("refuses a file that is not a Windows Installer package, and a damaged one", () => {
    let path = "";
    expect(problemsAfter((fleet) => void (path = pinFixture(fleet, "not-an-msi.msi")))).toEqual([
      `packages.KB952089: the KB952089 package ${path} is not a Windows Installer package (no compound-file header)`,
    ]);
    const damaged = problemsAfter((fleet) => void (path = pinFixture(fleet, "damaged.msi")));
    expect(damaged).toHaveLength(1);
    expect(damaged[0]!.startsWith(`packages.KB952089: the KB952089 package ${path} is damaged: `)).toBe(true);
  });

  it("accepts the demo's wixl-built package, whose File table carries the catalog's version", () => {
    const fleet = validFleet();
    const demo = join(__dirname, "../../stacks/demo-packages/KB952089.msi");
    const sha256 = packages.add("packages/demo.msi", readFileSync(demo));
    fleet.packages = { KB952089: { path: "packages/demo.msi", sha256 } };
    expect(readMsiPackageFile(demo).files).toEqual([
      { fileName: kbFile.name, version: kbFile.version, sizeBytes: kbFile.sizeBytes, language: "1033" },
    ]);
    expect(planFleet(settings(fleet)).engines).toHaveLength(3);
  });
});

describe("planFleet's rollout controls", () => {
  it("takes ramped batches, a failure threshold and a change window", () => {
    const fleet = validFleet();
    fleet.rollout = { batches: [1, "25%"], maxFailures: 2, window: { minutes: 90 } };
    expect(planFleet(settings(fleet)).rollout).toMatchObject({
      batches: [1, "25%"],
      maxFailures: 2,
      window: { minutes: 90 },
    });
    expect(planFleet(settings(validFleet())).rollout).toMatchObject({ maxFailures: 0 });
  });

  it("refuses batch sizes that are no count or percentage, a negative threshold and a window of both kinds", () => {
    const problems = problemsAfter(
      (fleet) =>
        void (fleet.rollout = {
          batches: [0, "150%", "x"],
          maxFailures: -1,
          window: { minutes: 5, closesAt: "2026-12-05T06:00:00Z" },
        }),
    );
    expect(problems.some((p) => p.startsWith("rollout.batches[0]: "))).toBe(true);
    expect(problems.some((p) => p.startsWith("rollout.batches[1]: "))).toBe(true);
    expect(problems.some((p) => p.startsWith("rollout.batches[2]: "))).toBe(true);
    expect(problems.some((p) => p.startsWith("rollout.maxFailures: "))).toBe(true);
    expect(problems.some((p) => p.startsWith("rollout.window"))).toBe(true);
  });
});
