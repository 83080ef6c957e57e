import type { EngineEvent, OpType, StepEventMetadata } from "@pulumi/pulumi/automation";
import { notResponding, ObservedState } from "../components/domain/observation";
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

/** Whether the refresh before a step found the engine showing KB952089's symptom. */
export function notRespondingOf(step: HotfixStep): boolean {
  return showsSymptom(step.metadata.old?.outputs);
}

/** Whether what the run last read of the engine (its outputs once the step ended, else the refresh's) shows the symptom. */
export function lastSeenNotResponding(step: HotfixStep): boolean {
  return showsSymptom(step.outputs ?? step.metadata.old?.outputs);
}

/** What the up recorded of an engine it left short of the requirement (rollout.maxFailures, window). */
export function lastRunOf(step: HotfixStep): { outcome: string; reason: string } | undefined {
  const run = (step.outputs as { lastRun?: unknown } | undefined)?.lastRun;
  if (typeof run !== "object" || run === null) return undefined;
  const { outcome, reason } = run as { outcome?: unknown; reason?: unknown };
  return typeof outcome === "string" && typeof reason === "string" ? { outcome, reason } : undefined;
}
