import { errorLine } from "../host/answers";
import type { ScriptResult, StepName } from "./steps";

/** How a maintenance fails: the error the runbook reports, and the failures of a step inside it. */

/** Where the engine stands after a failed maintenance: the part of the error an operator acts on first. */
export type Rotation =
  | "untouched"
  | "restored"
  | "left-out-by-request"
  | "left-out-restore-failed"
  | "left-out-installing"
  | "in-rotation-not-responding"
  /** Another run took the engine's maintenance lease over while this one ran: that run puts it back. */
  | "held-by-another-run";

export class RunbookError extends Error {
  constructor(
    readonly engine: string,
    readonly step: StepName,
    readonly reason: string,
    readonly rotation: Rotation,
    readonly exitCode?: number,
    readonly installLog?: string,
    /** What made the step fail, when it was not the host's answer (a lost connection, say). */
    override readonly cause?: unknown,
  ) {
    super(`engine ${engine}: step ${step} failed: ${reason}`);
    this.name = "RunbookError";
  }
}

export class StepFailure extends Error {
  constructor(
    readonly step: StepName,
    message: string,
    readonly exitCode?: number,
    readonly installLog?: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/**
 * The session was lost during an install and Windows Installer was still at it, or could not be
 * asked, when the wait ran out: the engine must not be put back while its files may be replaced.
 */
export class InstallerStillBusy extends StepFailure {}

/** The script refused its work: another run holds the engine's maintenance lease. */
export class LeaseTaken extends StepFailure {}

export function failureReason(result: ScriptResult): string {
  return errorLine(result.stdout) ?? (result.stderr.trim().split(/\r?\n/).pop() || "no reason given");
}
