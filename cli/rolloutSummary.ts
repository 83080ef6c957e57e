import { engineOf, lastRunOf, lastSeenNotResponding, type HotfixStep } from "./hotfixSteps";

export interface RolloutSummary {
  readonly patched: readonly string[];
  readonly compliant: readonly string[];
  readonly failed: readonly string[];
  /** Engines whose maintenance was not started because the change window had closed. */
  readonly windowClosed: readonly string[];
  /** Engines the run never reached because the rollout halted at a failure. */
  readonly skipped: readonly string[];
  /** Engines last seen with KB952089's symptom (COM+ runs, its component does not answer), whatever else happened. */
  readonly notResponding: readonly string[];
}

type Outcome = "patched" | "compliant" | "failed" | "window-closed";

function outcomeOf(step: HotfixStep): Outcome {
  if (step.failed) return "failed";
  const run = lastRunOf(step);
  if (run?.outcome === "failed") return "failed";
  if (run?.outcome === "skipped") return "window-closed";
  return step.op === "same" ? "compliant" : "patched";
}

/** Sorts every engine of the plan into patched, already compliant, failed or skipped. */
export function summarizeRollout(engines: readonly string[], steps: readonly HotfixStep[]): RolloutSummary {
  const outcome = new Map<string, Outcome>(steps.map((step) => [engineOf(step), outcomeOf(step)]));
  const pick = (kind: Outcome): string[] => engines.filter((e) => outcome.get(e) === kind);
  const wedged = new Set(steps.filter(lastSeenNotResponding).map(engineOf));
  return {
    patched: pick("patched"),
    compliant: pick("compliant"),
    failed: pick("failed"),
    windowClosed: pick("window-closed"),
    skipped: engines.filter((e) => !outcome.has(e)),
    notResponding: engines.filter((e) => wedged.has(e)),
  };
}

export function renderRolloutSummary(summary: RolloutSummary): string {
  const part = (count: readonly string[], label: string): string =>
    `${count.length} ${label}${count.length > 0 ? ` (${count.join(", ")})` : ""}`;
  return [
    "Rollout summary:",
    `  ${part(summary.patched, "patched")}`,
    `  ${part(summary.compliant, "already compliant")}`,
    `  ${part(summary.failed, "failed")}`,
    ...(summary.windowClosed.length > 0
      ? [`  ${part(summary.windowClosed, "skipped: the change window had closed (rollout.window)")}`]
      : []),
    `  ${part(summary.skipped, "skipped: the rollout halted before them")}`,
    ...(summary.notResponding.length > 0
      ? [`  ${part(summary.notResponding, "NOT RESPONDING: the server needs a restart (KB952089's symptom)")}`]
      : []),
  ].join("\n");
}
