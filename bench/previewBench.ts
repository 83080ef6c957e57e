import { ansibleProbe, probeForks, type AnsibleContext } from "./ansiblePeer";
import { benchStack } from "./benchStack";
import { onCleanup } from "./cleanup";
import {
  benchFile,
  benchPassword,
  compliantVersion,
  driftedVersion,
  engineNames,
  fleetPlan,
  simulatedFleet,
} from "./fleets";
import type { MemorySampler } from "./memorySampler";
import { measureOperation } from "./operationRunner";
import type { AnsibleProbeResult, PreviewResult } from "./results";
import { FleetProcess } from "./simulatorProcess";
import { measureFloor } from "./sshFloor";
import { stateSize, type StateSize } from "./stateSize";
import { median, medianRun } from "./stats";

export interface PreviewContext {
  readonly env: Readonly<Record<string, string>>;
  readonly sampler: MemorySampler;
  readonly fixedCostMs: number;
  readonly floorRuns: number;
  /** Runs of each preview and each Ansible probe; the median run is kept (see run.ts). */
  readonly repeats: number;
  /** Ansible's probe beside each preview; undefined when Ansible is not installed. */
  readonly ansible: AnsibleContext | undefined;
}

/**
 * Previews of a fleet of `engines`, all drifted, then all compliant, each beside the bare SSH
 * floor of the same fleet and Ansible's probe of it (at 5 forks and at one per engine). The
 * stack adopts the fleet first, so the previews show updates.
 */
export async function benchPreviews(
  engines: number,
  ctx: PreviewContext,
): Promise<{ adoptMs: number; previews: PreviewResult[]; state: StateSize }> {
  const fleet = await FleetProcess.start(simulatedFleet(engines, driftedVersion), { default: 0 });
  const stopFleet = onCleanup(`simulated fleet of ${engines} (previews)`, () => fleet.stop());
  const stack = benchStack(`test-bench-${process.pid}-preview-${engines}`, fleet.hosts, ctx.env);
  try {
    await stack.configure(1);
    const adoptStarted = performance.now();
    await (await stack.open(true)).up({ refresh: true });
    const adoptMs = performance.now() - adoptStarted;

    const plan = fleetPlan(stack.name, fleet.hosts);

    const measure = async (state: PreviewResult["fleet"], version: string): Promise<PreviewResult> => {
      const expectedUpdates = state === "drifted" ? engines : 0;
      const operations = [];
      for (let run = 0; run < ctx.repeats; run++) {
        const operation = await measureOperation(
          { stack: { kind: "fleet", name: stack.name, adoptOnly: false }, operation: "preview", env: ctx.env },
          ctx.sampler,
          { simulator: fleet.pid },
        );
        if ((operation.steps.update ?? 0) !== expectedUpdates) {
          throw new Error(
            `${state} preview of ${engines}: ${operation.steps.update ?? 0} updates, not ${expectedUpdates}`,
          );
        }
        operations.push(operation);
      }
      const operation = medianRun(operations, (o) => o.startMs + o.ms);
      const floorRunsMs: number[] = [];
      for (let i = 0; i < ctx.floorRuns; i++) {
        const floor = await measureFloor(plan, benchPassword, version);
        if (floor.matched !== engines) throw new Error(`floor: ${floor.matched} of ${engines} engines read ${version}`);
        floorRunsMs.push(floor.ms);
      }
      const floorMs = median(floorRunsMs);
      const ansible: AnsibleProbeResult[] = [];
      if (ctx.ansible !== undefined) {
        for (const forks of probeForks(engines)) {
          const probes = [];
          for (let run = 0; run < ctx.repeats; run++) {
            probes.push(await ansibleProbe(plan, forks, expectedUpdates, fleet, ctx.ansible, operation));
          }
          ansible.push({ ...medianRun(probes, (p) => p.ms), runsMs: probes.map((p) => p.ms) });
        }
      }
      return {
        fleet: state,
        ms: operation.ms,
        startMs: operation.startMs,
        runsMs: operations.map((o) => o.startMs + o.ms),
        memory: operation.memory,
        steps: operation.steps,
        phases: operation.phases,
        floorRunsMs,
        floorMs,
        ratio: operation.ms / (ctx.fixedCostMs + floorMs),
        ansible,
      };
    };

    const drifted = await measure("drifted", driftedVersion);
    await fleet.alter(engineNames(engines), { files: { [benchFile]: compliantVersion } });
    const compliant = await measure("compliant", compliantVersion);
    const state = await stateSize(await stack.open());
    return { adoptMs, previews: [drifted, compliant], state };
  } finally {
    await stack.dispose();
    await stopFleet();
  }
}
