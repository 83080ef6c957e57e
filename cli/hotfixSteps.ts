import type { EngineEvent, OpType, StepEventMetadata } from "@pulumi/pulumi/automation";
import { engineHotfixesType } from "../components/engineHotfixes";

/** The engine's steps for EngineHotfixes resources (one per MPS engine), read from its own event stream. */
export interface HotfixStep {
  /** The resource name, such as fleet-mps01-hotfixes. */
  readonly name: string;
  readonly op: OpType;
  readonly metadata: StepEventMetadata;
  /** Set when the engine reported the step failed. */
  readonly failed: boolean;
}

export function isHotfixResource(type: string): boolean {
  return type === engineHotfixesType;
}

/** One entry per resource, in the order the engine started them; refresh steps are left out. */
export function hotfixSteps(events: readonly EngineEvent[]): HotfixStep[] {
  const steps = new Map<string, HotfixStep>();
  const failed = new Set<string>();
  for (const event of events) {
    const pre = event.resourcePreEvent?.metadata;
    if (pre && isHotfixResource(pre.type) && pre.op !== "refresh") {
      steps.set(pre.urn, { name: pre.urn.split("::").pop() ?? pre.urn, op: pre.op, metadata: pre, failed: false });
    }
    const failure = event.resOpFailedEvent?.metadata;
    if (failure && isHotfixResource(failure.type) && failure.op !== "refresh") failed.add(failure.urn);
  }
  return [...steps.entries()].map(([urn, step]) => ({ ...step, failed: failed.has(urn) }));
}

/** The engine a step is for, from the resource's inputs. */
export function engineOf(step: HotfixStep): string {
  const inputs = step.metadata.new?.inputs as { engine?: unknown } | undefined;
  return typeof inputs?.engine === "string" ? inputs.engine : step.name;
}
