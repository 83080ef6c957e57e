import { parseInstallerStatus, type InstallerStatus } from "../host/answers";
import { hostScripts } from "./hostScripts";
import type { StepContext } from "./steps";

/** How long to wait for Windows Installer after a session lost during an install, unless the stack says. */
export const defaultInstallWaitSeconds = 900;

/** What asking Windows Installer came to: done (with what its log says), or still busy when the wait ran out. */
export type InstallerWait =
  | { readonly kind: "idle"; readonly status: Extract<InstallerStatus, { installer: "idle" }> }
  | { readonly kind: "busy"; readonly why: string; readonly waitSeconds: number };

/**
 * Asks the engine, every installRetryDelaySeconds up to installWaitSeconds, whether Windows
 * Installer is still installing (the install that `logPath` logs, or any other), as the
 * installer-status step. A host that does not answer counts as busy: its installer may be at work.
 */
export async function waitForInstaller(
  context: StepContext,
  logPath: string,
  hotfixId: string | undefined,
  idleNote: string,
): Promise<InstallerWait> {
  const s = context.settings;
  const waitSeconds = s.installWaitSeconds ?? defaultInstallWaitSeconds;
  const intervalSeconds = s.installRetryDelaySeconds > 0 ? s.installRetryDelaySeconds : 1;
  const polls = Math.max(1, Math.ceil(waitSeconds / intervalSeconds));
  const started = Date.now();
  for (let poll = 1; ; poll++) {
    let why: string;
    try {
      const result = await context.runner.run(hostScripts.installerStatus(logPath), context.stepTimeoutMs);
      const status = parseInstallerStatus(result.stdout);
      if (status.installer === "idle") {
        context.emit("installer-status", "succeeded", started, hotfixId, idleNote);
        return { kind: "idle", status };
      }
      why = "Windows Installer is still installing";
    } catch (error) {
      why = `the host did not answer (${(error as Error).message})`;
    }
    if (poll > polls) {
      context.emit("installer-status", "failed", started, hotfixId, `${why} after ${waitSeconds}s`);
      return { kind: "busy", why, waitSeconds };
    }
    context.emit(
      "installer-status",
      "retrying",
      started,
      hotfixId,
      `${why}; asking again in ${intervalSeconds}s (${poll} of ${polls})`,
    );
    await context.sleep(intervalSeconds * 1000);
  }
}
