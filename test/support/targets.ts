import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  catalog,
  findHotfix,
  parseCatalog,
  type HotfixCatalog,
  type HotfixEntry,
} from "../../components/domain/catalog";
import type { EngineRoute, SshEndpoint } from "../../components/domain/endpoint";
import type { HotfixPackage, HotfixRequirements, RequiredFiles } from "../../components/domain/requirement";
import { EngineTarget, HostSettings, MaintenanceSettings } from "../../components/domain/target";
import { readSimulatedPackage, simulatedKb952089, simulatedPackageBytes } from "../../simulator/simulatedPackage";

/** The project directory: where the stack's relative package paths start. */
export const projectDir = resolve(__dirname, "..", "..");

function shipped(id: string): HotfixEntry {
  const entry = findHotfix(id);
  if (entry === undefined) throw new Error(`test setup: the catalog has no ${id}`);
  return entry;
}

/** The shipped KB952089 entry and its one file, as the catalog has them. */
export const kb952089: HotfixEntry = shipped("KB952089");
export const kbFile = kb952089.files[0]!;

/**
 * An invented hotfix shaped like a catalog entry, for engines that carry two. It is no real
 * article; its file and version are made up and belong to no other test's expectations.
 */
export const inventedHotfix: HotfixEntry = parseCatalog([
  {
    id: "KB9000001",
    title: "An invented second hotfix for the Provisioning Engine",
    article: "https://support.example/kb/9000001",
    appliesTo: [...kb952089.appliesTo],
    packageFile: "KB9000001.msi",
    restartRequired: false,
    replaces: [],
    prerequisites: [],
    files: [
      { name: "Other.dll", version: "1.0.0.5", sizeBytes: 4096, dateUtc: "2009-01-02T03:04:00Z", platform: "x86" },
    ],
  },
])[0]!;
export const inventedFile = inventedHotfix.files[0]!;

/** The shipped catalog with the invented entry after KB952089: the order an engine receives them. */
export const twoHotfixCatalog: HotfixCatalog = parseCatalog([...catalog, inventedHotfix]);

/** What a stack gets when it gives no host or rollout settings. */
export const defaultHost: HostSettings = HostSettings.parse({});
export const defaultSettings: MaintenanceSettings = MaintenanceSettings.parse({});

/** Maintenance settings: the defaults with some changed, checked by the product's schema. */
export function maintenanceSettings(overrides: Partial<MaintenanceSettings> = {}): MaintenanceSettings {
  return MaintenanceSettings.parse({ ...defaultSettings, ...overrides });
}

/** File name => the version the catalog requires, for one entry. */
export function requiredFilesOf(entry: HotfixEntry): RequiredFiles {
  return Object.fromEntries(entry.files.map((file) => [file.name, file.version]));
}

function entryOf(hotfix: string): HotfixEntry {
  const entry = findHotfix(hotfix, twoHotfixCatalog);
  if (entry === undefined) throw new Error(`test setup: no catalog entry for ${hotfix}`);
  return entry;
}

/**
 * The bytes of a hotfix's package: the project's simulated KB952089 package (which installs what
 * its manifest says), or a simulated package that installs exactly the invented entry's files.
 */
export function packageBytesOf(hotfix: string): Buffer {
  if (hotfix === kb952089.id) return readFileSync(resolve(projectDir, simulatedKb952089.path));
  return simulatedPackageBytes(hotfix, requiredFilesOf(entryOf(hotfix)));
}

/** File name => version: what a hotfix's simulated package installs, read from its manifest. */
export function simulatedInstalls(hotfix: string): Readonly<Record<string, string>> {
  const manifest = readSimulatedPackage(packageBytesOf(hotfix));
  if (manifest === undefined) throw new Error(`test setup: the ${hotfix} package is not a simulated one`);
  return manifest.installs;
}

/** The package bytes as the runbook sends them to stage-package. */
export function packageBase64Of(pkg: Pick<HotfixPackage, "hotfix">): string {
  return packageBytesOf(pkg.hotfix).toString("base64");
}

/** A hotfix's package as planFleet pins it: the simulated KB952089 package, or the invented one's bytes. */
export function packageOf(entry: HotfixEntry): HotfixPackage {
  const kb = entry.id === kb952089.id;
  return {
    hotfix: entry.id,
    file: entry.packageFile,
    path: kb ? resolve(projectDir, simulatedKb952089.path) : resolve(projectDir, "packages", entry.packageFile),
    sha256: kb ? simulatedKb952089.sha256 : createHash("sha256").update(packageBytesOf(entry.id)).digest("hex"),
  };
}

/** An SSH hop as planFleet resolves one that trusts any host key (the simulated fleets' way). */
export function sshEndpoint(name: string, overrides: Partial<SshEndpoint> = {}): SshEndpoint {
  return { name, host: "10.0.0.1", port: 22, user: "mps-admin", trustUnknownHostKey: true, ...overrides };
}

export interface EngineTargetOverrides {
  readonly engine?: string;
  /** A direct route to the engine by default. */
  readonly route?: EngineRoute;
  readonly host?: Partial<HostSettings>;
  /** The hotfixes the engine carries, in catalog order; KB952089 alone by default. */
  readonly hotfixes?: readonly HotfixEntry[];
  /** The required files by hotfix id, when not the catalog's (a raised minimum). */
  readonly files?: HotfixRequirements;
}

/**
 * One engine's target as planFleet builds it, from the catalog and the product's defaults:
 * MPS01, reached directly, carrying KB952089 from the simulated package. Checked by the schema.
 */
export function engineTarget(overrides: EngineTargetOverrides = {}): EngineTarget {
  const engine = overrides.engine ?? "MPS01";
  const hotfixes = overrides.hotfixes ?? [kb952089];
  return EngineTarget.parse({
    engine,
    route: overrides.route ?? { kind: "direct", endpoint: sshEndpoint(engine) },
    host: { ...defaultHost, ...overrides.host },
    packages: hotfixes.map(packageOf),
    files: overrides.files ?? Object.fromEntries(hotfixes.map((entry) => [entry.id, requiredFilesOf(entry)])),
  });
}

function revisionStep(version: string, step: 1 | -1): string {
  const parts = version.split(".").map(Number);
  if (parts.length !== 4 || parts[3]! + step < 0 || parts[3]! + step > 65535)
    throw new Error(`test setup: no version ${step > 0 ? "after" : "before"} ${version}`);
  parts[3] = parts[3]! + step;
  return parts.join(".");
}

/** The version one revision after `version` (it satisfies a requirement of `version`). */
export function laterThan(version: string): string {
  return revisionStep(version, 1);
}

/** The version one revision before `version` (it does not satisfy a requirement of `version`). */
export function earlierThan(version: string): string {
  return revisionStep(version, -1);
}
