import { planFleet, type FleetPlan } from "../components/config/fleetPlan";
import { projectRoot } from "../cli/workspace";
import { FleetFile } from "../simulator/fleetFile";
import type { SimulatedHost } from "../simulator/server";
import { simulatedKb952089 } from "../simulator/simulatedPackage";

/** The file versions of the bench: drifted engines are behind KB952089, compliant ones carry it. */
export const driftedVersion = "13.3.600.0";
export const compliantVersion = "13.3.609.1";
export const benchFile = "Mapsproccntl.dll";

const benchUser = "mps-admin";
export const benchPassword = "bench-simulated-password-41c9";

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
    hotfixes: ["KB952089"],
    packages: { KB952089: simulatedKb952089 },
    rollout: { maxUnavailable },
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
