import { z } from "zod";
import { HotfixRequirements } from "../domain/requirement";
import { ObservedState } from "../domain/observation";
import { EngineTarget, MaintenanceSettings } from "../domain/target";

/** An up that left the engine short of the requirement: it failed, or it was not started. */
export const LastRun = z.strictObject({
  outcome: z.enum(["failed", "skipped"]),
  reason: z.string(),
});
export type LastRun = z.infer<typeof LastRun>;

/** The version of the EngineHotfixes state this release writes; older states are migrated when read. */
export const stateSchemaVersion = 2;

/**
 * The inputs of one EngineHotfixes resource: the engine's target (what it must carry, how it is
 * reached) and the desired state. `files`, `engineState`, `comPlusState` and `restartPending` hold
 * what is required here and what was observed in the state, under the same keys, so the engine's
 * own diff reads `Mapsproccntl.dll: "13.3.600.0" => "13.3.609.117"`. Checked strictly.
 */
export const EngineHotfixesInputs = EngineTarget.extend({
  schemaVersion: z.literal(stateSchemaVersion),
  settings: MaintenanceSettings,
  /** Register what is deployed without changing the host (taking over an existing fleet). */
  adoptOnly: z.literal(true).optional(),
  engineState: ObservedState.shape.engineState,
  comPlusState: ObservedState.shape.comPlusState,
  restartPending: z.boolean(),
});
export type EngineHotfixesInputs = z.infer<typeof EngineHotfixesInputs>;

/**
 * The state of one EngineHotfixes resource: the target it was run with, what the probe observed,
 * and the requirement the observation was last held to. Unknown fields are ignored, so a state
 * written by a later release still reads.
 */
export const EngineHotfixesState = z.object({
  ...EngineTarget.shape,
  ...ObservedState.shape,
  schemaVersion: z.literal(stateSchemaVersion),
  settings: MaintenanceSettings,
  required: HotfixRequirements.optional(),
  /** Why the last refresh could not read the engine; the observation is then the last one known. */
  unreachable: z.string().optional(),
  /** What the last up did with the engine when it did not bring it to the requirement; null otherwise. */
  lastRun: LastRun.nullable().optional(),
  /**
   * What the up that last ran a maintenance on the engine changed there: the hotfixes it installed
   * and whether it put the engine back into rotation. Absent where no up has (adopt, a refresh):
   * the run's summary calls an engine "patched" only from this, never from the step's kind.
   */
  lastMaintenance: z.object({ installed: z.array(z.string()), restoredRotation: z.boolean() }).optional(),
});
export type EngineHotfixesState = z.infer<typeof EngineHotfixesState>;

/** The inputs that make a resource hold `target` to its requirement, in rotation: used by the components. */
export function resourceInputsFor(
  target: EngineTarget,
  settings: MaintenanceSettings,
  adoptOnly = false,
): EngineHotfixesInputs {
  return {
    schemaVersion: stateSchemaVersion,
    ...target,
    settings,
    ...(adoptOnly ? { adoptOnly: true } : {}),
    engineState: "active",
    comPlusState: "running",
    restartPending: false,
  };
}

/** The part of the inputs or the state that says how to run a maintenance on the engine. */
export function targetOf(props: EngineTarget): EngineTarget {
  return { engine: props.engine, route: props.route, host: props.host, packages: props.packages, files: props.files };
}
