import type { EngineEvent, OpType, StepEventMetadata } from "@pulumi/pulumi/automation";
import { z } from "zod";
import { driftReasons } from "../components/domain/drift";
import { notResponding, ObservedState } from "../components/domain/observation";
import { HotfixRequirements } from "../components/domain/requirement";
import { engineHotfixesType } from "../components/engineHotfixes";

/** The engine's steps for EngineHotfixes resources (one per MPS engine), read from its own event stream. */
export interface HotfixStep {
  /** The resource name, such as fleet-mps01-hotfixes. */
  readonly name: string;
  readonly op: OpType;
  readonly metadata: StepEventMetadata;
  /** Set when the engine reported the step failed. */
  readonly failed: boolean;
  /** The resource's outputs once the step ended (absent for a step that failed or has not ended). */
  readonly outputs?: Record<string, unknown>;
}

export function isHotfixResource(type: string): boolean {
  return type === engineHotfixesType;
}

/** One entry per resource, in the order the engine started them; refresh steps are left out. */
export function hotfixSteps(events: readonly EngineEvent[]): HotfixStep[] {
  const steps = new Map<string, HotfixStep>();
  const failed = new Set<string>();
  const outputs = new Map<string, Record<string, unknown>>();
  for (const event of events) {
    const pre = event.resourcePreEvent?.metadata;
    if (pre && isHotfixResource(pre.type) && pre.op !== "refresh") {
      steps.set(pre.urn, { name: pre.urn.split("::").pop() ?? pre.urn, op: pre.op, metadata: pre, failed: false });
    }
    const done = event.resOutputsEvent?.metadata;
    if (done && isHotfixResource(done.type) && done.op !== "refresh" && done.new?.outputs !== undefined) {
      outputs.set(done.urn, done.new.outputs);
    }
    const failure = event.resOpFailedEvent?.metadata;
    if (failure && isHotfixResource(failure.type) && failure.op !== "refresh") failed.add(failure.urn);
  }
  return [...steps.entries()].map(([urn, step]) => {
    const out = outputs.get(urn);
    return { ...step, failed: failed.has(urn), ...(out !== undefined ? { outputs: out } : {}) };
  });
}

/** The engine a step is for, from the resource's inputs. */
export function engineOf(step: HotfixStep): string {
  const inputs = step.metadata.new?.inputs as { engine?: unknown } | undefined;
  return typeof inputs?.engine === "string" ? inputs.engine : step.name;
}

/** Why a step's engine could not be read by the refresh before it, if it could not. */
export function unreachableReason(step: HotfixStep): string | undefined {
  const reason = (step.metadata.old?.outputs as { unreachable?: unknown } | undefined)?.unreachable;
  return typeof reason === "string" ? reason : undefined;
}

const SeenResponse = ObservedState.pick({ comPlusState: true, comPlusResponding: true });

/** Whether recorded outputs show KB952089's symptom: COM+ runs and its component did not answer. */
function showsSymptom(outputs: unknown): boolean {
  const seen = SeenResponse.safeParse(outputs);
  return seen.success && notResponding(seen.data);
}

/**
 * Why the refresh before a step found the engine out of rotation (deactivated, or its COM+
 * application stopped): an interrupted maintenance leaves it so. Empty when it is in rotation,
 * or was never read. For an engine the refresh could not reach, what was last known.
 */
export function outOfRotationOf(step: HotfixStep): string[] {
  const seen = ObservedState.safeParse(step.metadata.old?.outputs);
  if (!seen.success) return [];
  const reasons: string[] = [];
  if (seen.data.engineState === "deactivated") reasons.push("the engine is deactivated");
  if (seen.data.comPlusState === "stopped") reasons.push("the COM+ application is stopped");
  const unreachable = unreachableReason(step);
  return reasons.length > 0 && unreachable !== undefined
    ? [...reasons, "last known: it could not be read now"]
    : reasons;
}

/** Whether the refresh before a step found the engine showing KB952089's symptom. */
export function notRespondingOf(step: HotfixStep): boolean {
  return showsSymptom(step.metadata.old?.outputs);
}

/**
 * The engines the run saw showing the symptom, in any reading: the refresh's (which an up that
 * halted before an engine still did), a step's before and after. An engine seen not responding
 * stays listed even when a later reading saw it answer: the operator is told what the run met.
 */
export function seenNotResponding(events: readonly EngineEvent[]): Set<string> {
  const seen = new Set<string>();
  const note = (outputs: Record<string, unknown> | undefined): void => {
    const engine = (outputs as { engine?: unknown } | undefined)?.engine;
    if (typeof engine === "string" && showsSymptom(outputs)) seen.add(engine);
  };
  for (const event of events) {
    for (const metadata of [event.resourcePreEvent?.metadata, event.resOutputsEvent?.metadata]) {
      if (metadata === undefined || !isHotfixResource(metadata.type)) continue;
      note(metadata.old?.outputs);
      note(metadata.new?.outputs);
    }
  }
  return seen;
}

const RecordedResources = z.object({
  resources: z.array(z.object({ type: z.string(), outputs: z.record(z.string(), z.unknown()).optional() })).optional(),
});

/**
 * What a stack's state (`stack.exportStack().deployment`) last recorded of each engine: the
 * outputs of its EngineHotfixes resource, by engine.
 */
export function recordedEngines(deployment: unknown): Map<string, Record<string, unknown>> {
  const parsed = RecordedResources.safeParse(deployment);
  const resources = parsed.success ? (parsed.data.resources ?? []) : [];
  return new Map(
    resources.flatMap((r) => {
      const engine = r.outputs?.["engine"];
      return isHotfixResource(r.type) && typeof engine === "string" && r.outputs !== undefined
        ? [[engine, r.outputs] as const]
        : [];
    }),
  );
}

/** Whether recorded outputs of an engine show KB952089's symptom. */
export function recordedNotResponding(outputs: Record<string, unknown> | undefined): boolean {
  return outputs !== undefined && showsSymptom(outputs);
}

/** What an up's completed step recorded of the engine: the reading, the requirement, what the maintenance did. */
const RecordedMaintenance = ObservedState.extend({
  required: HotfixRequirements,
  lastMaintenance: z.object({ installed: z.array(z.string()), restoredRotation: z.boolean() }).optional(),
});

/**
 * What an up's completed create or update did, from the outputs the provider recorded: "patched"
 * when it installed a hotfix and the reading after it meets the requirement, "restored" when it
 * only put the engine back into rotation, "compliant" when it found the engine compliant and
 * changed nothing, "short" when the reading does not meet the requirement (or the outputs do not
 * say what was done). Never from the step's kind alone: a stack's first up creates every engine,
 * compliant or not.
 */
export function maintenanceOf(step: HotfixStep): "patched" | "restored" | "compliant" | "short" {
  const recorded = RecordedMaintenance.safeParse(step.outputs);
  if (!recorded.success || recorded.data.lastMaintenance === undefined) return "short";
  const { required, lastMaintenance, ...observed } = recorded.data;
  if (driftReasons(observed, required).length > 0 || notResponding(observed)) return "short";
  if (lastMaintenance.installed.length > 0) return "patched";
  return lastMaintenance.restoredRotation ? "restored" : "compliant";
}

/**
 * What is known of an engine whose step started and never ended (the run stopped under it): the
 * step's kind and the engine as last read before it.
 */
export function interruptionOf(step: HotfixStep): string {
  const before = ObservedState.safeParse(step.metadata.old?.outputs);
  const seen = before.success
    ? `last read ${before.data.engineState === "active" ? "in rotation" : before.data.engineState}, COM+ ${before.data.comPlusState}`
    : "never read by this stack";
  return `engine ${engineOf(step)}: the ${step.op} started and did not end (${seen}); run preview to see where it stands`;
}

/** What the up recorded of an engine it left short of the requirement (rollout.maxFailures, window). */
export function lastRunOf(step: HotfixStep): { outcome: string; reason: string } | undefined {
  const run = (step.outputs as { lastRun?: unknown } | undefined)?.lastRun;
  if (typeof run !== "object" || run === null) return undefined;
  const { outcome, reason } = run as { outcome?: unknown; reason?: unknown };
  return typeof outcome === "string" && typeof reason === "string" ? { outcome, reason } : undefined;
}

/**
 * The first line of each engine's "[MPS02] FAILED: …" line, which the provider writes to the
 * engine's log as a maintenance fails: the runbook's own words, engine, step and reason. The
 * engine's error for the resource says only "resource init failed" when the provider recorded a
 * partial state, so this is where the reason is.
 */
function failedLinesByEngine(events: readonly EngineEvent[]): Map<string, string> {
  const lines = new Map<string, string>();
  for (const event of events) {
    const message = event.diagnosticEvent?.message;
    const match = message === undefined ? null : /^\[(\S+)(?: \d+ of \d+)?\] FAILED: (.*)$/m.exec(message);
    if (match !== null && !lines.has(match[1]!)) lines.set(match[1]!, match[2]!.trim());
  }
  return lines;
}

/** The error lines the engine reported for a resource, without the display's "error: " prefix. */
function errorsFor(events: readonly EngineEvent[], urn: string): string[] {
  return events.flatMap((event) => {
    const diagnostic = event.diagnosticEvent;
    if (diagnostic?.urn !== urn || diagnostic.severity !== "error") return [];
    return [diagnostic.message.replace(/^error: /, "").trim()];
  });
}

/**
 * One line per engine the up failed on: the engine, the step and the reason, as the runbook put
 * them ("engine MPS02: step install-package failed: …"); the first line of each, since the rest
 * (an install log's tail, the rotation notice) is in the engine's output above.
 */
export function failureLines(events: readonly EngineEvent[]): string[] {
  const said = failedLinesByEngine(events);
  return hotfixSteps(events).flatMap((step) => {
    const engine = engineOf(step);
    const run = lastRunOf(step);
    const reason =
      run?.outcome === "failed"
        ? run.reason
        : step.failed
          ? (said.get(engine) ?? errorsFor(events, step.metadata.urn)[0] ?? "the engine reported the step failed")
          : undefined;
    if (reason === undefined) return [];
    const first = reason.split("\n")[0]!.trim();
    return [first.startsWith(`engine ${engine}:`) ? first : `engine ${engine}: ${first}`];
  });
}
