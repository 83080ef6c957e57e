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
  restartPending: z.boolean(),
});
export type ObservedState = z.infer<typeof ObservedState>;

/** In rotation, COM+ running, no restart owed: what every engine is driven to besides its files. */
export const inRotation = { engineState: "active", comPlusState: "running", restartPending: false } as const;
