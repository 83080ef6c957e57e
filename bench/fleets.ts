import { readFileSync } from "node:fs";
import { join } from "node:path";
import { planFleet, type FleetPlan } from "../components/config/fleetPlan";
import { catalog } from "../components/domain/catalog";
import { compareFileVersions, parseFileVersion } from "../components/domain/fileVersion";
import { projectRoot } from "../cli/projectRoot";
import { FleetFile } from "../simulator/fleetFile";
import type { SimulatedHost } from "../simulator/server";
import { readSimulatedPackage, simulatedKb952089 } from "../simulator/simulatedPackage";

/**
 * The fleets of the bench: every engine must carry the catalog's first hotfix (KB952089), staged
 * from the project's simulated package. Drifted engines carry an older version of its first file,
 * compliant ones the version the catalog requires.
 */
const benchHotfixEntry = catalog[0]!;
export const benchHotfix = benchHotfixEntry.id;
export const benchFile = benchHotfixEntry.files[0]!.name;
/** What the catalog requires of the file, and what the simulated package installs. */
export const compliantVersion = benchHotfixEntry.files[0]!.version;
/** A version before the hotfix: every engine at it is outdated. */
export const driftedVersion = "13.3.600.0";

const benchUser = "mps-admin";
export const benchPassword = "bench-simulated-password-41c9";

/**
 * Fails early, with the reason, when the simulated package or the drifted version no longer fit
 * the catalog: otherwise a preview would count the wrong updates and an up would not converge.
 */
export function checkBenchVersions(): void {
  const order = compareFileVersions(parseFileVersion(driftedVersion)!, parseFileVersion(compliantVersion)!);
  if (order >= 0) throw new Error(`bench: ${driftedVersion} is not older than ${benchHotfix}'s ${compliantVersion}`);
  const installs = readSimulatedPackage(readFileSync(join(projectRoot, simulatedKb952089.path)))?.installs;
  const installed = Object.entries(installs ?? {}).find(([name]) => name.toLowerCase() === benchFile.toLowerCase());
  if (installed?.[1] !== compliantVersion) {
    throw new Error(
      `bench: ${simulatedKb952089.path} installs ${benchFile} ${installed?.[1] ?? "not at all"}, ` +
        `the catalog requires ${compliantVersion}`,
    );
  }
}

export function engineNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `BENCH${String(i + 1).padStart(3, "0")}`);
}

/** `count` engines, each its own SSH server on 127.0.0.1 with an ephemeral port, all at `version`. */
export function simulatedFleet(count: number, version: string): FleetFile {
  return FleetFile.parse({
    credentials: { user: benchUser, password: benchPassword },
    engines: engineNames(count).map((name) => ({
      name,
      address: "127.0.0.1",
      port: 0,
      files: { [benchFile]: version },
    })),
  });
}

/** The stack's `mps-hotfix:fleet` for a running simulated fleet, host keys pinned. */
export function fleetConfig(hosts: readonly SimulatedHost[], maxUnavailable: number): Record<string, unknown> {
  return {
    hotfixes: [benchHotfix],
    packages: { [benchHotfix]: simulatedKb952089 },
    // The bench measures a whole fleet at once, as Ansible's serial does: no engine kept in rotation.
    rollout: { maxUnavailable, minInRotation: 0 },
    engines: hosts
      .filter((host) => host.kind === "engine")
      .map((host) => ({
        name: host.name,
        host: host.address,
        port: host.port,
        user: benchUser,
        hostKey: host.hostKeySha256,
      })),
  };
}

/** The stack's `mps-hotfix:credentials` (stored as a secret): one password per engine. */
export function credentialsConfig(hosts: readonly SimulatedHost[]): Record<string, { password: string }> {
  return Object.fromEntries(hosts.map((host) => [host.name, { password: benchPassword }]));
}

/** The product's own plan of the stack's fleet (what the program builds), for the bare-SSH measurements. */
export function fleetPlan(stackName: string, hosts: readonly SimulatedHost[]): FleetPlan {
  return planFleet({
    stack: stackName,
    fleet: fleetConfig(hosts, 1),
    credentials: credentialsConfig(hosts),
    credentialsAreSecret: true,
    baseDir: projectRoot,
  });
}
