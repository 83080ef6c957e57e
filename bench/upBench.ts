import { ansibleUp, type AnsibleContext } from "./ansiblePeer";
import { benchStack } from "./benchStack";
import { onCleanup } from "./cleanup";
import { accountSteps } from "./criticalPath";
import { measureExecLatency, type ExecLatency } from "./execLatency";
import { benchFile, benchPassword, driftedVersion, engineNames, fleetPlan, simulatedFleet } from "./fleets";
import type { MemorySampler } from "./memorySampler";
import { measureOperation } from "./operationRunner";
import type { AnsibleUpResult, UpResult } from "./results";
import { FleetProcess } from "./simulatorProcess";
import { medianRun } from "./stats";

export interface UpContext {
  readonly env: Readonly<Record<string, string>>;
  readonly sampler: MemorySampler;
  readonly fixedCostMs: number;
  readonly stepDelayMs: number;
  readonly maxUnavailable: readonly number[];
  /** Runs of each up and each playbook, the fleet set back to drifted before each; the median run is kept. */
  readonly repeats: number;
  /** The playbook peer after the product's ups; undefined when Ansible is not installed. */
  readonly ansible: AnsibleContext | undefined;
}

/**
 * Ups over a drifted fleet of `engines` whose hosts wait `stepDelayMs` before answering each
 * script: `repeats` per rollout.maxUnavailable, the fleet set back to drifted before each. The
 * simulator's step log of each up gives the delays on its critical path. Then the same
 * maintenance as a playbook, serial = each maxUnavailable, on the same fleet set back to drifted.
 */
export async function benchUps(
  engines: number,
  ctx: UpContext,
): Promise<{ ups: UpResult[]; ansibleUps: AnsibleUpResult[]; execLatency: ExecLatency }> {
  const fleet = await FleetProcess.start(simulatedFleet(engines, driftedVersion), { default: ctx.stepDelayMs });
  const stopFleet = onCleanup(`simulated fleet of ${engines} (ups)`, () => fleet.stop());
  const stack = benchStack(`test-bench-${process.pid}-up-${engines}`, fleet.hosts, ctx.env);
  const results: UpResult[] = [];
  const names = engineNames(engines);
  try {
    const plan = fleetPlan(stack.name, fleet.hosts);
    const execLatency = await measureExecLatency(plan, benchPassword);
    const measureUp = async (maxUnavailable: number): Promise<Omit<UpResult, "runsMs">> => {
      const before = (await fleet.log()).length;
      const operation = await measureOperation(
        { stack: { kind: "fleet", name: stack.name, adoptOnly: false }, operation: "up", env: ctx.env },
        ctx.sampler,
        { simulator: fleet.pid },
      );
      if ((operation.steps.update ?? 0) !== engines) {
        throw new Error(`up of ${engines}: ${operation.steps.update ?? 0} engines updated, not ${engines}`);
      }
      const batches = Array.from({ length: Math.ceil(engines / maxUnavailable) }, (_, b) =>
        names.slice(b * maxUnavailable, (b + 1) * maxUnavailable),
      );
      const simulated = accountSteps((await fleet.log()).slice(before), ctx.stepDelayMs, batches);
      const compliant = operation.outputs?.["compliantEngines"];
      const overhead = operation.ms - ctx.fixedCostMs - simulated.criticalPathDelayMs;
      return {
        maxUnavailable,
        ms: operation.ms,
        startMs: operation.startMs,
        memory: operation.memory,
        steps: operation.steps,
        phases: operation.phases,
        simulated,
        overheadPerEngineMs: overhead / engines,
        ratioToDelays: operation.ms / simulated.criticalPathDelayMs,
        compliantEnginesAfter: typeof compliant === "number" ? compliant : -1,
      };
    };
    for (const [index, maxUnavailable] of ctx.maxUnavailable.entries()) {
      await stack.configure(maxUnavailable);
      const runs: Omit<UpResult, "runsMs">[] = [];
      for (let run = 0; run < ctx.repeats; run++) {
        if (index === 0 && run === 0) await (await stack.open(true)).up({ refresh: true });
        else await fleet.alter(names, { files: { [benchFile]: driftedVersion } });
        runs.push(await measureUp(maxUnavailable));
      }
      results.push({ ...medianRun(runs, (up) => up.overheadPerEngineMs), runsMs: runs.map((up) => up.ms) });
    }
    const ansibleUps: AnsibleUpResult[] = [];
    if (ctx.ansible !== undefined) {
      for (const serial of ctx.maxUnavailable) {
        const product = results.find((up) => up.maxUnavailable === serial);
        const runs: AnsibleUpResult[] = [];
        for (let run = 0; run < ctx.repeats; run++) {
          await fleet.alter(names, { files: { [benchFile]: driftedVersion } });
          runs.push(await ansibleUp(plan, serial, ctx.stepDelayMs, fleet, ctx.ansible, product));
        }
        ansibleUps.push({ ...medianRun(runs, (up) => up.overheadPerEngineMs), runsMs: runs.map((up) => up.ms) });
      }
    }
    return { ups: results, ansibleUps, execLatency };
  } finally {
    await stack.dispose();
    await stopFleet();
  }
}
