import { z } from "zod";
import { HotfixId } from "./catalog";
import { FileVersionText } from "./fileVersion";

/**
 * A deployed file's version, "missing" when the file is not there, or "unknown" when the engine
 * could not be read after a failed maintenance (recorded so, never as the requirement).
 */
export const DeployedVersion = z.union([FileVersionText, z.literal("missing"), z.literal("unknown")]);
export type DeployedVersion = z.infer<typeof DeployedVersion>;

/** What a probe found on an engine: per hotfix id the deployed version of each of its files. */
export const ObservedState = z.object({
  files: z.record(HotfixId, z.record(z.string(), DeployedVersion)),
  /** "unknown" only for an engine that has never been read (registered while unreachable). */
  engineState: z.enum(["active", "deactivated", "unknown"]),
  comPlusState: z.enum(["running", "stopped", "unknown"]),
  /**
   * KB952089's symptom: false when the running COM+ application's component did not answer within
   * the host's responseTimeoutSeconds (the server needs a restart). Absent while COM+ is stopped,
   * when it was not asked, and in states of releases that did not ask.
   */
  comPlusResponding: z.boolean().optional(),
  restartPending: z.boolean(),
  /**
   * A maintenance lease of another run on the engine (components/domain/lease.ts): "in maintenance
   * by …" while that run holds it, "left out of rotation by an interrupted maintenance …" once it
   * ended without putting the engine back. Absent when there is none, or it is this run's.
   */
  maintenance: z.string().optional(),
});
export type ObservedState = z.infer<typeof ObservedState>;

/** In rotation, COM+ running, no restart owed: what every engine is driven to besides its files. */
export const inRotation = {
  engineState: "active",
  comPlusState: "running",
  comPlusResponding: true,
  restartPending: false,
} as const;

/** The engine shows KB952089's symptom now: its COM+ application runs, and its component does not answer. */
export function notResponding(observed: Pick<ObservedState, "comPlusState" | "comPlusResponding">): boolean {
  return observed.comPlusState === "running" && observed.comPlusResponding === false;
}

/** What an operator reads about an engine that shows the symptom. */
export const notRespondingReason =
  "its COM+ component does not answer (KB952089's symptom); the server needs a restart, which mps-hotfix never does";
