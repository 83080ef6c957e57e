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

/** A pool of engines: those the same MPS clients send requests to, round-robin (the MPF configuration's list). */
export const PoolName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be a pool name of letters, digits, '.', '_' and '-'");

/** The pool of an engine that names none: one pool per stack. */
export const defaultPool = "default";

/** Engines of a pool that must stay active and answering: one count for every pool, or a count per pool. */
export const MinInRotation = z.union([z.number().int().min(0), z.record(PoolName, z.number().int().min(0))]);
export type MinInRotation = z.infer<typeof MinInRotation>;

/** How far a rollout goes on when engines fail, until when it may start engines, and how many it must leave in rotation. */
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
  minInRotation: MinInRotation.optional().describe(
    "No engine's maintenance starts when it would leave fewer engines of its pool active and answering; by default 1 for a pool of two or more engines, 0 for a pool of one.",
  ),
});
export type RolloutLimits = z.infer<typeof RolloutLimits>;

/** The moment the window closes for a run that started at `started`. */
export function windowClosesAt(window: ChangeWindow, started: Date): Date {
  return "closesAt" in window ? new Date(window.closesAt) : new Date(started.getTime() + window.minutes * 60_000);
}

/** The engines a pool must keep active and answering (rollout.minInRotation, or its default for the pool's size). */
export function minInRotationOf(setting: MinInRotation | undefined, pool: string, poolSize: number): number {
  const given = typeof setting === "number" ? setting : setting?.[pool];
  if (given !== undefined) return given;
  return poolSize >= 2 ? 1 : 0;
}
