import { readFileSync } from "node:fs";
import type { FleetPlan } from "../components/config/fleetPlan";
import { decodeHostOutput, parseStageAnswer } from "../components/host/answers";
import { invocationFor } from "../components/host/invocation";
import { hostScripts } from "../components/runbook/hostScripts";
import { runPlaybook, type AnsibleTools, type PlaybookRun } from "./ansible";
import { emptyPlaybook, inventoryYaml, probeHostVars, probePlaybook, upHostVars, upPlaybook } from "./ansiblePlaybooks";
import { accountSteps } from "./criticalPath";
import { benchPassword, compliantVersion, engineNames } from "./fleets";
import type { MemorySampler } from "./memorySampler";
import type { AnsibleFixedCost, AnsibleProbeResult, AnsibleUpResult } from "./results";
import type { FleetProcess } from "./simulatorProcess";
import { connect, run } from "./sshClient";
import { directEndpoint, measureFloor } from "./sshFloor";
import { median } from "./stats";

/** Ansible beside the product, on the same simulated fleets, in the same bench run. */
export interface AnsibleContext {
  readonly tools: AnsibleTools;
  readonly sampler: MemorySampler;
  readonly fixedCostMs: number;
}

/** The forks the preview's peer runs at: Ansible's default (5), and one per engine. */
export function probeForks(engines: number): number[] {
  return [...new Set([5, engines])].sort((a, b) => a - b);
}

function describe(run: PlaybookRun): string {
  return `exit ${run.exitCode}\n${run.outputTail}`;
}

/** ansible-playbook of a play with no tasks on localhost: one untimed warm-up, then `runs` timed ones. */
export async function measureAnsibleFixedCost(
  tools: AnsibleTools,
  sampler: MemorySampler,
  runs: number,
): Promise<AnsibleFixedCost> {
  const request = { inventory: "all:\n  hosts:\n    localhost: {}\n", playbook: emptyPlaybook(), forks: 5, watch: {} };
  await runPlaybook(tools, request, sampler);
  const measures: PlaybookRun[] = [];
  for (let i = 0; i < runs; i++) {
    const measure = await runPlaybook(tools, request, sampler);
    if (measure.exitCode !== 0) throw new Error(`ansible fixed cost: ${describe(measure)}`);
    measures.push(measure);
  }
  const runsMs = measures.map((m) => m.ms);
  const peak = measures.reduce((a, b) => (b.memory.peakBytes > a.memory.peakBytes ? b : a));
  return { runsMs, ms: median(runsMs), memory: peak.memory };
}

/**
 * The preview's peer: one raw task sending the product's probe (its echo pipe) to every engine, at
 * `forks`, failed on the engines that lack the required version. `outdated` is how many should;
 * `productMs` is the product's preview of the same fleet, for the ratio.
 */
export async function ansibleProbe(
  plan: FleetPlan,
  forks: number,
  outdated: number,
  fleet: FleetProcess,
  ctx: AnsibleContext,
  productMs: { readonly startMs: number; readonly ms: number },
): Promise<AnsibleProbeResult> {
  const result = await runPlaybook(
    ctx.tools,
    {
      inventory: inventoryYaml(plan, benchPassword, probeHostVars),
      playbook: probePlaybook(),
      forks,
      watch: { simulator: fleet.pid },
    },
    ctx.sampler,
  );
  const hosts = Object.values(result.recap);
  const failed = hosts.filter((h) => h.failed > 0).length;
  const unreachable = hosts.filter((h) => h.unreachable > 0).length;
  if (hosts.length !== plan.engines.length || unreachable > 0 || failed !== outdated) {
    throw new Error(
      `ansible probe of ${plan.engines.length} at ${forks} forks: ${hosts.length} hosts in the recap, ` +
        `${unreachable} unreachable, ${failed} failed (expected ${outdated}): ${describe(result)}`,
    );
  }
  const { recap: _recap, outputTail: _tail, ...measure } = result;
  return {
    ...measure,
    failedHosts: failed,
    ratio: (productMs.startMs + productMs.ms) / result.ms,
    previewOnlyRatio: productMs.ms / result.ms,
  };
}

/**
 * stage-package on every engine, with the product's command line and the package on its standard
 * input, over the bench's own SSH client: what an Ansible raw task cannot do (it writes no
 * standard input, and the package is far too long for an echo on cmd.exe's command line).
 * Untimed, before the playbook; checked against the SHA-256 the stack pins.
 */
export async function stagePackages(plan: FleetPlan): Promise<void> {
  await Promise.all(
    plan.engines.map(async (engine) => {
      const client = await connect(directEndpoint(engine), benchPassword);
      try {
        for (const pkg of engine.packages) {
          const script = hostScripts.stagePackage(engine, pkg, readFileSync(pkg.path).toString("base64"));
          const invocation = invocationFor(script, { kind: "direct" });
          const answer = parseStageAnswer(
            decodeHostOutput("stage-package", Buffer.from(await run(client, invocation.commandLine, invocation.stdin)))
              .text,
          );
          if (answer.sha256 !== pkg.sha256) {
            throw new Error(`${engine.engine}: staged ${pkg.hotfix} has SHA-256 ${answer.sha256}, not ${pkg.sha256}`);
          }
        }
      } finally {
        client.end();
      }
    }),
  );
}

/**
 * The up's peer on a drifted fleet: the product's maintenance as a playbook with `serial`
 * engines at a time (and as many forks, at least Ansible's default 5), the package staged
 * beforehand. The simulator's step log of the playbook gives the delays on its critical path.
 * `product` is the product's up at maxUnavailable = serial, for the ratio.
 */
export async function ansibleUp(
  plan: FleetPlan,
  serial: number,
  stepDelayMs: number,
  fleet: FleetProcess,
  ctx: AnsibleContext,
  product: { readonly startMs: number; readonly ms: number } | undefined,
): Promise<AnsibleUpResult> {
  const engines = plan.engines.length;
  await stagePackages(plan);
  const at = new Date();
  const hotfixes = plan.engines[0]?.packages.map((p) => p.hotfix) ?? [];
  const before = (await fleet.log()).length;
  const forks = Math.max(5, serial);
  const result = await runPlaybook(
    ctx.tools,
    {
      inventory: inventoryYaml(plan, benchPassword, (engine) => upHostVars(engine, plan.rollout, at)),
      playbook: upPlaybook(hotfixes, serial),
      forks,
      watch: { simulator: fleet.pid },
    },
    ctx.sampler,
  );
  const hosts = Object.values(result.recap);
  const failed = hosts.filter((h) => h.failed > 0 || h.unreachable > 0).length;
  if (result.exitCode !== 0 || hosts.length !== engines || failed > 0) {
    throw new Error(
      `ansible up of ${engines} at serial ${serial}: ${hosts.length} hosts in the recap, ${failed} failed: ${describe(result)}`,
    );
  }
  const names = engineNames(engines);
  const batches = Array.from({ length: Math.ceil(engines / serial) }, (_, b) =>
    names.slice(b * serial, (b + 1) * serial),
  );
  const simulated = accountSteps((await fleet.log()).slice(before), stepDelayMs, batches, false);
  const floor = await measureFloor(plan, benchPassword, compliantVersion);
  const { recap: _recap, outputTail: _tail, ...measure } = result;
  return {
    ...measure,
    serial,
    simulated,
    overheadPerEngineMs: (result.ms - ctx.fixedCostMs - simulated.criticalPathDelayMs) / engines,
    ratioToDelays: result.ms / simulated.criticalPathDelayMs,
    compliantEnginesAfter: floor.matched,
    leftOut: ["stage-package"],
    ratio: product === undefined ? undefined : (product.startMs + product.ms) / result.ms,
  };
}
