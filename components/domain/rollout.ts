import { z } from "zod";

/**
 * When no further engine's maintenance may start: at a time, or a length after the run's first
 * maintenance was asked for.
 */
export const ChangeWindow = z.union([
  z.strictObject({ closesAt: z.iso.datetime({ offset: true }) }),
  z.strictObject({ minutes: z.number().positive().max(10080) }),
]);
export type ChangeWindow = z.infer<typeof ChangeWindow>;

/** How far a rollout goes on when engines fail, and until when it may start engines. */
export const RolloutLimits = z.object({
  /** Failed engines the rollout goes on past; one more halts it (0: the first failure halts it). */
  maxFailures: z.number().int().min(0).default(0),
  window: ChangeWindow.optional(),
});
export type RolloutLimits = z.infer<typeof RolloutLimits>;

/** The moment the window closes for a run that started at `started`. */
export function windowClosesAt(window: ChangeWindow, started: Date): Date {
  return "closesAt" in window ? new Date(window.closesAt) : new Date(started.getTime() + window.minutes * 60_000);
}
