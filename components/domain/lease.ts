import { z } from "zod";
import type { MaintenanceSettings } from "./target";

/**
 * A maintenance lease: the record a runbook keeps on the engine itself (a registry key under
 * HKLM\SOFTWARE) from before it deactivates the engine until the engine is back in rotation. A
 * second operator, with another backend and another run, sees it on the engine and keeps off; a run
 * that died leaves it behind, and the next one sees which run left the engine out and at which step.
 */

/** Where on the engine the lease lives, under HKEY_LOCAL_MACHINE. */
export const leaseKeyPath = "SOFTWARE\\mps-hotfix\\Maintenance";

/** What goes into a lease field: one line, no single quote of any kind (values are quoted as well). */
const LeaseText = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^\r\n\x00'\u2018\u2019\u201A\u201B]*$/, "must be one line of text without single quotes");

/** A value as a lease field may hold it: what LeaseText refuses becomes "?" (a user name with a quote, say). */
export function leaseText(value: string): string {
  const cleaned = value.replace(/[\r\n\x00'\u2018\u2019\u201A\u201B]/g, "?").slice(0, 256);
  return cleaned === "" ? "?" : cleaned;
}

/** A run id: what names one `up` on every engine it maintains. */
export const RunId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{3,63}$/, "must be a run id as a maintenance lease names it (letters, digits, '-')");
export type RunId = z.infer<typeof RunId>;

const Instant = z.iso.datetime({ offset: true });

/** The lease as the probe reads it back from the engine: every field is written at every step. */
export const MaintenanceLease = z.strictObject({
  Stack: LeaseText,
  Machine: LeaseText,
  User: LeaseText,
  Run: RunId,
  Step: LeaseText,
  Started: Instant,
  Expires: Instant,
  /** The install log of the install under way or last started, or "none" before the first install. */
  Log: LeaseText,
});
export type MaintenanceLease = z.infer<typeof MaintenanceLease>;

/** Who runs this maintenance, as the lease names it; the same for every engine of one run. */
export interface LeaseHolder {
  readonly stack: string;
  readonly machine: string;
  readonly user: string;
  readonly run: RunId;
  /** Runs the operator named as ended (`up --recover-run <id>`): their leases are taken over even before they expire. */
  readonly recoverRuns: readonly string[];
  /** Why the run holding a lease is known to have ended (its process is gone from this machine), or undefined. */
  readonly runEnded?: (lease: MaintenanceLease) => string | undefined;
}

/**
 * How long a lease holds after each step renews it: twice the longest any one step may take (the
 * step timeout, the COM+ shutdown's wait, the component's answer), plus the wait for Windows
 * Installer after a lost session, during which no step renews it. With the defaults, 2 x 600 s +
 * 900 s: 35 minutes. A run that is still alive renews it long before; one that died frees the
 * engine for the next run at most that long after its last step.
 */
export function leaseSeconds(settings: MaintenanceSettings, responseTimeoutSeconds: number): number {
  const longestStep = Math.max(
    settings.stepTimeoutSeconds,
    settings.complusShutdownTimeoutSeconds + 30,
    responseTimeoutSeconds + 30,
  );
  return 2 * longestStep + (settings.installWaitSeconds ?? 900);
}

/** What the lease on an engine means for this run. */
export type LeaseStanding =
  | { readonly kind: "ours" }
  /** Another run's, and it has not ended: no maintenance may start. */
  | { readonly kind: "held"; readonly notice: string }
  /** Another run's that ended without putting the engine back: this run recovers the engine first. */
  | { readonly kind: "interrupted"; readonly notice: string };

/** Who holds a lease, as an operator reads it. */
export function leaseOwner(lease: MaintenanceLease): string {
  return `${lease.User} on ${lease.Machine} (stack ${lease.Stack}, run ${lease.Run})`;
}

export function leaseStanding(lease: MaintenanceLease, holder: LeaseHolder | undefined, now: Date): LeaseStanding {
  if (holder !== undefined && lease.Run === holder.run) return { kind: "ours" };
  const expired = now.getTime() >= Date.parse(lease.Expires);
  const named = holder?.recoverRuns.includes(lease.Run) === true;
  const ended = named || expired ? undefined : holder?.runEnded?.(lease);
  if (expired || named || ended !== undefined) {
    const why = named ? "named by --recover-run" : (ended ?? `its lease expired at ${lease.Expires}`);
    return {
      kind: "interrupted",
      notice: `left out of rotation by an interrupted maintenance (run ${lease.Run}, at step ${lease.Step}; ${why})`,
    };
  }
  return {
    kind: "held",
    notice: `in maintenance by ${leaseOwner(lease)} since ${lease.Started}, at ${lease.Step} (its lease holds until ${lease.Expires}; if that run is gone, up --recover-run ${lease.Run} takes it over)`,
  };
}
