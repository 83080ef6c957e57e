import { randomBytes } from "node:crypto";
import { hostname, userInfo } from "node:os";
import { processRuns } from "./localProcess";
import { RunId, leaseText, type LeaseHolder, type MaintenanceLease } from "../domain/lease";

/**
 * Who this run is, as the maintenance lease on each engine names it. The handlers are not told the
 * stack's name or the command's options (a dynamic provider receives the stack's config only), so
 * the `mps-hotfix` command passes them in the environment, which the process serving the handlers
 * inherits whichever it is; with a plain `pulumi up`, set them yourself.
 */

/** The stack's name, as the lease records it (set by `mps-hotfix` for every command). */
export const stackEnv = "MPS_HOTFIX_STACK";
/** Runs the operator declared ended (`mps-hotfix up --recover-run <id>`), comma-separated. */
export const recoverRunEnv = "MPS_HOTFIX_RECOVER_RUN";

/**
 * A new run id: when it started (UTC, to the second), the process that holds the run's leases
 * (the one serving the handlers), and six random hex digits.
 */
export function newRunId(now: Date = new Date(), pid: number = process.pid): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "Z");
  return RunId.parse(`${stamp}-${pid}-${randomBytes(3).toString("hex")}`);
}

/** The process a run id of newRunId's names; undefined for any other id. */
export function pidOfRun(run: string): number | undefined {
  const match = /^\d{8}T\d{6}Z-(\d+)-[0-9a-f]{6}$/.exec(run);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Why a lease's run is known to have ended: it was started on this machine and its process no
 * longer runs (processRuns). A command killed with its
 * process group, or a machine that lost power, leaves such a lease; the next up recovers the
 * engine at once instead of waiting for the lease to expire. A process of that number that does
 * exist (a reused pid, or EPERM) proves nothing, and the lease holds.
 */
export function runEndedHere(lease: MaintenanceLease, machine: string = hostname()): string | undefined {
  const pid = pidOfRun(lease.Run);
  if (pid === undefined || lease.Machine !== leaseText(machine)) return undefined;
  return processRuns(pid) ? undefined : `its run's process ${pid} on ${lease.Machine} has ended`;
}

function operatorUser(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry for the uid (a container, say): the environment's name, if any.
    return process.env["USER"] ?? process.env["USERNAME"] ?? "unknown";
  }
}

/** The runs named by the operator; an id that is not a run id is refused, naming the variable. */
export function recoverRunsFrom(value: string | undefined): readonly string[] {
  if (value === undefined || value.trim() === "") return [];
  return value.split(",").map((id) => {
    const parsed = RunId.safeParse(id.trim());
    if (!parsed.success)
      throw new Error(
        `${recoverRunEnv}: ${JSON.stringify(id)} is not a run id (letters, digits and '-', as a lease names it)`,
      );
    return parsed.data;
  });
}

/** This run's holder, from the machine and the environment. */
export function leaseHolderOfThisRun(env: NodeJS.ProcessEnv = process.env): LeaseHolder {
  return {
    stack: env[stackEnv] ?? "unknown",
    machine: hostname(),
    user: operatorUser(),
    run: newRunId(),
    recoverRuns: recoverRunsFrom(env[recoverRunEnv]),
    runEnded: (lease) => runEndedHere(lease),
  };
}
