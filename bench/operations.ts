import type { EngineEvent, OpType, Stack } from "@pulumi/pulumi/automation";

import type { FleetPlan } from "../components/config/fleetPlan";
import { checkedPreview, type ProgramVerdict } from "../cli/checkedPreview";
import { isHotfixResource } from "../cli/hotfixSteps";
import { previewFleet, upFleet } from "../cli/workspace";
/**
 * One timed engine operation (preview or up, refresh included), and when the engine's events
 * arrived: enough to tell the engine's start and finish from the per-resource work between.
 */
export interface TimedOperation {
  readonly ms: number;
  /** Resource steps by operation, for the EngineHotfixes resources (refresh reads included). */
  readonly steps: Readonly<Partial<Record<OpType, number>>>;
  /** Milliseconds from the call to: the first event, the first and last resource event, the summary. */
  readonly phases: {
    readonly firstEventMs: number;
    readonly firstResourceMs: number;
    readonly lastResourceMs: number;
    readonly summaryMs: number;
  };
  readonly outputs?: Readonly<Record<string, unknown>>;
}

export type OperationKind = "preview" | "up";

/**
 * How the stack's input is checked: as the CLI checks a fleet's (a preview by the program's
 * verdict as the engine starts it, an up given the plan checked before it: operationRunner.ts),
 * or not at all (`unchecked`: the empty stack of the fixed cost has no fleet).
 */
export type ConfigCheck = { readonly verdict: ProgramVerdict; readonly plan: FleetPlan | undefined } | "unchecked";

/** Runs the operation as the mps-hotfix CLI does (refresh first), timing it from the call to its end. */
export async function timeOperation(stack: Stack, kind: OperationKind, check: ConfigCheck): Promise<TimedOperation> {
  const steps: Partial<Record<OpType, number>> = {};
  const phases = { firstEventMs: NaN, firstResourceMs: NaN, lastResourceMs: NaN, summaryMs: NaN };
  const started = performance.now();
  const onEvent = (event: EngineEvent): void => {
    const at = performance.now() - started;
    if (Number.isNaN(phases.firstEventMs)) phases.firstEventMs = at;
    const metadata = event.resourcePreEvent?.metadata ?? event.resOutputsEvent?.metadata;
    if (metadata !== undefined && isHotfixResource(metadata.type)) {
      if (Number.isNaN(phases.firstResourceMs)) phases.firstResourceMs = at;
      phases.lastResourceMs = at;
      if (event.resourcePreEvent !== undefined) steps[metadata.op] = (steps[metadata.op] ?? 0) + 1;
    }
    if (event.summaryEvent !== undefined) phases.summaryMs = at;
  };
  if (kind === "preview") {
    await (check === "unchecked"
      ? previewFleet(stack, { onEvent })
      : checkedPreview(stack, check.verdict, { onEvent }));
    return { ms: performance.now() - started, steps, phases };
  }
  const result = await upFleet(stack, { onEvent }, check === "unchecked" ? undefined : check.plan);
  const ms = performance.now() - started;
  const outputs = Object.fromEntries(Object.entries(result.outputs).map(([key, output]) => [key, output.value]));
  return { ms, steps, phases, outputs };
}
