import { engineOf, type HotfixStep } from "./hotfixSteps";

export interface RolloutSummary {
  readonly patched: readonly string[];
  readonly compliant: readonly string[];
  readonly failed: readonly string[];
  /** Engines the run never reached because the rollout halted at a failure. */
  readonly skipped: readonly string[];
}

/** Sorts every engine of the plan into patched, already compliant, failed or skipped. */
export function summarizeRollout(engines: readonly string[], steps: readonly HotfixStep[]): RolloutSummary {
  const outcome = new Map<string, "patched" | "compliant" | "failed">();
  for (const step of steps) {
    const engine = engineOf(step);
    const now = step.failed ? "failed" : step.op === "same" ? "compliant" : "patched";
    const before = outcome.get(engine);
    // An engine with several hotfixes is failed if any failed, patched if any changed.
    if (before === "failed" || (before === "patched" && now === "compliant")) continue;
    outcome.set(engine, now);
  }
  const pick = (kind: string): string[] => engines.filter((e) => outcome.get(e) === kind);
  return {
    patched: pick("patched"),
    compliant: pick("compliant"),
    failed: pick("failed"),
    skipped: engines.filter((e) => !outcome.has(e)),
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
    `  ${part(summary.skipped, "skipped: the rollout halted before them")}`,
  ].join("\n");
}
