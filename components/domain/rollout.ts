import { z } from "zod";

/**
 * When no further engine's maintenance may start: at a time, or a length after the run's first
 * maintenance was asked for.
 */
export const ChangeWindow = z.union([
  z.strictObject({
    closesAt: z.iso
      .datetime({ offset: true })
      .describe("When the window closes, with its offset: 2026-12-05T06:00:00Z."),
  }),
  z.strictObject({
    minutes: z.number().positive().max(10080).describe("The window's length after the run's first maintenance began."),
  }),
]);
export type ChangeWindow = z.infer<typeof ChangeWindow>;

/** How far a rollout goes on when engines fail, and until when it may start engines. */
export const RolloutLimits = z.object({
  maxFailures: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("Failed engines the rollout goes on past; one more halts it (0: the first failure halts it)."),
  window: ChangeWindow.optional().describe(
    "No engine's maintenance starts once the window has closed: at closesAt, or minutes after the first began.",
  ),
});
export type RolloutLimits = z.infer<typeof RolloutLimits>;

/** The moment the window closes for a run that started at `started`. */
export function windowClosesAt(window: ChangeWindow, started: Date): Date {
  return "closesAt" in window ? new Date(window.closesAt) : new Date(started.getTime() + window.minutes * 60_000);
}
