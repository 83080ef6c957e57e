import { scriptNames, type ScriptName } from "../components/host/scriptNames";
import type { StepRecord } from "../simulator/stepLog";

/**
 * How much of an operation's wall time the simulated step delays account for, read from the
 * simulator's step log. A script's record is written when it answers, `delayMs` after its
 * command arrived, so each script occupied [at - delayMs, at].
 *
 * The critical path is walked back from the last script to answer. Within one phase of one
 * engine (its refresh probe, when the operation has one; then its runbook) a script waits for
 * the script before it on the same session. The first script of a phase waits for whatever released it: a previous batch,
 * a free slot of the engine's parallelism, the refresh. Its predecessor is the script that
 * answered last before it started. Each script on that path adds one delay.
 */
export interface StepAccount {
  /** Scripts the hosts ran during the operation. */
  readonly scripts: number;
  /** SSH connections the hosts accepted during the operation. */
  readonly connections: number;
  /** Script count by script name. */
  readonly byScript: Readonly<Partial<Record<ScriptName, number>>>;
  /** Scripts per engine: the fewest and the most. */
  readonly perEngine: { readonly min: number; readonly max: number };
  /** Delays on the critical path, and what they add up to. */
  readonly criticalPathSteps: number;
  readonly criticalPathDelayMs: number;
  /** Every delay of every script, added up (the work the hosts did, as if it were serial). */
  readonly totalDelayMs: number;
  /**
   * Delays along the rollout's dependency chain alone, as if the engine ran every batch at once:
   * one refresh probe (when there is one), then per batch the most scripts one of its engines ran
   * after it.
   */
  readonly dependencyChainSteps: number;
}

interface Timed {
  readonly host: string;
  readonly start: number;
  readonly end: number;
  /** The script before it in the same phase of the same engine. */
  readonly previous: Timed | undefined;
}

const isScript = (record: StepRecord): record is StepRecord & { script: ScriptName } =>
  (scriptNames as readonly string[]).includes(record.script);

/** The engines' scripts with their times; with `refresh`, each engine's first script is its refresh probe. */
function timeline(
  records: readonly (StepRecord & { script: ScriptName })[],
  delayMs: number,
  refresh: boolean,
): Timed[] {
  const lastOf = new Map<string, Timed>();
  const seen = new Set<string>();
  return records.map((record) => {
    const end = Date.parse(record.at);
    const refreshProbe = refresh && !seen.has(record.host);
    seen.add(record.host);
    const timed: Timed = {
      host: record.host,
      start: end - delayMs,
      end,
      previous: refreshProbe ? undefined : lastOf.get(record.host),
    };
    // The runbook's first script follows the refresh probe only through the engine's scheduling.
    lastOf.set(record.host, timed);
    if (refreshProbe) lastOf.delete(record.host);
    return timed;
  });
}

function criticalPathLength(scripts: readonly Timed[]): number {
  const byEnd = [...scripts].sort((a, b) => a.end - b.end);
  let current = byEnd[byEnd.length - 1];
  let steps = 0;
  while (current !== undefined) {
    steps++;
    if (current.previous !== undefined) {
      current = current.previous;
      continue;
    }
    const start = current.start;
    current = undefined;
    for (let i = byEnd.length - 1; i >= 0 && current === undefined; i--) {
      if (byEnd[i]!.end <= start) current = byEnd[i];
    }
  }
  return steps;
}

/**
 * `batches`: the engines' names in rollout batches (the fleet's order, maxUnavailable at a time).
 * `refresh`: whether each engine's first script is a refresh probe before the rollout (an up of
 * the product) or already the first step of its maintenance (a playbook).
 */
export function accountSteps(
  records: readonly StepRecord[],
  delayMs: number,
  batches: readonly (readonly string[])[],
  refresh = true,
): StepAccount {
  const scripts = records.filter(isScript);
  const byScript: Partial<Record<ScriptName, number>> = {};
  const perEngine = new Map<string, number>();
  for (const record of scripts) {
    byScript[record.script] = (byScript[record.script] ?? 0) + 1;
    perEngine.set(record.host, (perEngine.get(record.host) ?? 0) + 1);
  }
  const counts = [...perEngine.values()];
  const criticalPathSteps = criticalPathLength(timeline(scripts, delayMs, refresh));
  const refreshSteps = refresh ? 1 : 0;
  const dependencyChainSteps =
    refreshSteps +
    batches.reduce(
      (sum, batch) => sum + Math.max(0, ...batch.map((name) => (perEngine.get(name) ?? refreshSteps) - refreshSteps)),
      0,
    );
  return {
    scripts: scripts.length,
    connections: records.filter((record) => record.script === "connect").length,
    byScript,
    perEngine: { min: counts.length > 0 ? Math.min(...counts) : 0, max: counts.length > 0 ? Math.max(...counts) : 0 },
    criticalPathSteps,
    criticalPathDelayMs: criticalPathSteps * delayMs,
    totalDelayMs: scripts.length * delayMs,
    dependencyChainSteps,
  };
}
