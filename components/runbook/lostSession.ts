import type { TransportError } from "../host/sshSession";
import type { HotfixPackage } from "../domain/requirement";
import { waitForInstaller } from "./installerWait";
import { meaningOf } from "./operatorMessages";
import { InstallerStillBusy, StepFailure } from "./runbookError";
import type { StepContext } from "./steps";

/**
 * The session was lost while msiexec ran, and Windows Installer runs an install on its own time.
 * Reconnects and waits for Windows Installer to be done (waitForInstaller); once it is, reads the
 * outcome from the install's log and the file versions. The failure says what it found; only an
 * InstallerStillBusy keeps the engine out of rotation.
 */
export async function afterLostSession(
  context: StepContext,
  pkg: HotfixPackage,
  logPath: string,
  lost: TransportError,
): Promise<StepFailure> {
  const lostText = `${pkg.hotfix}: the session was lost during install-package (${lost.message})`;
  const wait = await waitForInstaller(context, logPath, pkg.hotfix, "Windows Installer is not installing");
  if (wait.kind === "busy") {
    const files = Object.keys(context.target.files[pkg.hotfix] ?? {}).join(", ");
    return new InstallerStillBusy(
      "install-package",
      `${lostText}; ${wait.why} after ${wait.waitSeconds}s of waiting (rollout.installWaitSeconds), so the engine was not put back while Windows Installer may be replacing ${files}; install log ${logPath}`,
      undefined,
      logPath,
      lost,
    );
  }
  const { status } = wait;
  const code = status.logResult === "none" ? undefined : Number(status.logResult);
  const logSays =
    status.log === "absent"
      ? `there is no install log at ${logPath}: the install never started`
      : code === undefined
        ? `its log ${logPath} records no result`
        : `its log ${logPath} says msiexec returned ${code} (${meaningOf(code)})`;
  return new StepFailure(
    "install-package",
    `${lostText}; Windows Installer finished on its own: ${logSays}; ${await filesAfterInstall(context, pkg)}`,
    code,
    status.log === "absent" ? undefined : logPath,
    lost,
  );
}

/** The hotfix's files as the probe finds them after an install that outlived its session. */
async function filesAfterInstall(context: StepContext, pkg: HotfixPackage): Promise<string> {
  try {
    const observed = await context.probe("verify-files");
    const required = context.target.files[pkg.hotfix] ?? {};
    const files = Object.entries(required)
      .map(
        ([name, version]) =>
          `${name} is at ${observed.files[pkg.hotfix]?.[name] ?? "missing"} (${version} or later required)`,
      )
      .join(", ");
    return observed.restartPending ? `${files}; a restart is pending for its files` : files;
  } catch (error) {
    return `the file versions could not be read (${(error as Error).message})`;
  }
}
