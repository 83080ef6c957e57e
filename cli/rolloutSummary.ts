import type { EngineEvent } from "@pulumi/pulumi/automation";
import {
  engineOf,
  hotfixSteps,
  interruptionOf,
  lastRunOf,
  maintenanceOf,
  recordedNotResponding,
  seenNotResponding,
  type HotfixStep,
} from "./hotfixSteps";

export interface RolloutSummary {
  /** Engines whose update completed, installed a hotfix, and whose outputs show the requirement met. */
  readonly patched: readonly string[];
  /** Engines whose files were compliant and that the run only put back into rotation. */
  readonly restored: readonly string[];
  /** Engines the run found compliant and changed nothing on. */
  readonly compliant: readonly string[];
  readonly failed: readonly string[];
  /** Engines whose update started and did not end: the run stopped under them. */
  readonly interrupted: readonly string[];
  /** What is known of each interrupted engine (interruptionOf). */
  readonly interruptions: readonly string[];
  /** Engines whose update completed without bringing them to the requirement or saying what it did. */
  readonly short: readonly string[];
  /** Engines whose maintenance was not started because the change window had closed. */
  readonly windowClosed: readonly string[];
  /** Engines the run never reached because the rollout halted at a failure. */
  readonly skipped: readonly string[];
  /** Every engine the run saw with KB952089's symptom (COM+ runs, its component does not answer), whatever else happened. */
  readonly notResponding: readonly string[];
}

type Outcome = "patched" | "restored" | "compliant" | "failed" | "interrupted" | "short" | "window-closed";

function outcomeOf(step: HotfixStep): Outcome {
  if (step.failed) return "failed";
  const run = lastRunOf(step);
  if (run?.outcome === "failed") return "failed";
  if (run?.outcome === "skipped") return "window-closed";
  if (step.op === "same") return "compliant";
  if (step.outputs === undefined) return "interrupted";
  return maintenanceOf(step);
}

/**
 * Sorts every engine of the plan by what the run's events show happened to it. An engine the run
 * never reached (it halted first) was not read by it either: the engine refreshes each resource as
 * the program registers it, and registers none after the halt. For those, `recorded` (what the
 * stack last recorded of each engine, recordedEngines) says whether it was last seen not responding.
 */
export function summarizeRollout(
  engines: readonly string[],
  events: readonly EngineEvent[],
  recorded: ReadonlyMap<string, Record<string, unknown>> = new Map(),
): RolloutSummary {
  const steps = hotfixSteps(events);
  const outcome = new Map<string, Outcome>(steps.map((step) => [engineOf(step), outcomeOf(step)]));
  const pick = (kind: Outcome): string[] => engines.filter((e) => outcome.get(e) === kind);
  const wedged = seenNotResponding(events);
  for (const engine of engines) {
    if (!outcome.has(engine) && recordedNotResponding(recorded.get(engine))) wedged.add(engine);
  }
  return {
    patched: pick("patched"),
    restored: pick("restored"),
    compliant: pick("compliant"),
    failed: pick("failed"),
    interrupted: pick("interrupted"),
    interruptions: steps.filter((step) => outcomeOf(step) === "interrupted").map(interruptionOf),
    short: pick("short"),
    windowClosed: pick("window-closed"),
    skipped: engines.filter((e) => !outcome.has(e)),
    notResponding: engines.filter((e) => wedged.has(e)),
  };
}

export function renderRolloutSummary(summary: RolloutSummary): string {
  const part = (count: readonly string[], label: string): string =>
    `${count.length} ${label}${count.length > 0 ? ` (${count.join(", ")})` : ""}`;
  const ifAny = (count: readonly string[], label: string): string[] =>
    count.length > 0 ? [`  ${part(count, label)}`] : [];
  return [
    "Rollout summary:",
    `  ${part(summary.patched, "patched")}`,
    ...ifAny(summary.restored, "put back into rotation (files already compliant)"),
    `  ${part(summary.compliant, "already compliant")}`,
    `  ${part(summary.failed, "failed")}`,
    ...ifAny(summary.interrupted, "INTERRUPTED: the run stopped during their maintenance"),
    ...summary.interruptions.map((line) => `    ${line}`),
    ...ifAny(summary.short, "updated, but their outputs do not show the requirement met"),
    ...ifAny(summary.windowClosed, "skipped: the change window had closed (rollout.window)"),
    `  ${part(summary.skipped, "skipped: the rollout halted before them")}`,
    ...ifAny(summary.notResponding, "NOT RESPONDING: the server needs a restart (KB952089's symptom)"),
  ].join("\n");
}
