import { classifyMsiexecExit } from "./msiexecExit";
import { describeRename, type ProbeReading } from "./observe";
import type { RunbookError } from "./runbookError";

/** The sentences the runbook says to an operator: where a failed engine stands, what a probe found. */

/** Why a restart is pending for the engine's hotfixes: the pending renames that name their files. */
export function pendingRestartReason(reading: ProbeReading): string {
  const hotfixes = [...new Set(reading.pendingHotfixFiles.map((p) => p.hotfix))];
  const renames = reading.pendingHotfixFiles.map((p) => describeRename(p));
  return `a restart is pending for ${hotfixes.join(", ")}: PendingFileRenameOperations holds ${renames.join("; ")} (an earlier install returned 3010 or 1641)`;
}

const notedRenames = 3;

/** The note on a probe that found pending renames of files no hotfix of the engine installs. */
export function otherRenamesNote(reading: ProbeReading): string | undefined {
  const others = reading.otherRenames;
  if (others.length === 0) return undefined;
  const shown = others.slice(0, notedRenames).map(describeRename).join("; ");
  const more = others.length > notedRenames ? `; and ${others.length - notedRenames} more` : "";
  return `note: ${others.length} pending file rename(s) for the next restart name no file of this engine's hotfixes; they do not block it: ${shown}${more}`;
}

/** The sentence an operator reads first about where a failed engine stands. */
export function rotationNotice(error: RunbookError): string {
  switch (error.rotation) {
    case "untouched":
      return `engine ${error.engine} was not taken out of rotation`;
    case "restored":
      return `engine ${error.engine} is back in rotation (COM+ application started, engine activated)`;
    case "left-out-by-request":
      return `ENGINE ${error.engine} IS LEFT OUT OF ROTATION, as the stack asks (rollout.leaveFailedEngineOut): it stays deactivated, its COM+ application possibly stopped, until you act`;
    case "left-out-restore-failed":
      return `ENGINE ${error.engine} IS OUT OF ROTATION: it could not be put back (deactivated, COM+ application possibly stopped); act now: the next "up" retries`;
    case "left-out-installing":
      return `ENGINE ${error.engine} IS OUT OF ROTATION: Windows Installer may still be installing on it, so it was not put back (deactivated, COM+ application stopped); once no installation runs there, run up again`;
    case "held-by-another-run":
      return `engine ${error.engine} was taken over by another run's maintenance (its lease on the engine names it): that run puts it back into rotation`;
    case "in-rotation-not-responding":
      return `ENGINE ${error.engine} IS IN ROTATION BUT DOES NOT RESPOND: it is activated and its COM+ application runs, but the application's component did not answer; restart the server in a change window (mps-hotfix never restarts hosts), then run preview`;
  }
}

export function meaningOf(code: number): string {
  const outcome = classifyMsiexecExit(code);
  return outcome.kind === "installed" ? "installed" : outcome.meaning;
}
