import type { HostScript } from "../host/scripts";
import { hostPath, type HotfixTarget } from "./target";

/** The scripts of the runbook, with their parameters taken from the target. */
export const hostScripts = {
  probe: (t: HotfixTarget): HostScript => ({
    name: "probe",
    params: {
      FilePaths: Object.keys(t.requiredVersions).map((file) => hostPath(t.binDir, file)),
      EngineName: t.engineName,
      EngineControlProgId: t.engineControlProgId,
      ComPlusApplication: t.comPlusApplication,
    },
  }),
  stagePackage: (t: HotfixTarget, packageBase64: string): HostScript => ({
    name: "stage-package",
    params: { StagingDir: t.stagingDir, PackageFile: t.packageFile },
    stdin: packageBase64,
  }),
  deactivateEngine: (t: HotfixTarget): HostScript => ({
    name: "deactivate-engine",
    params: { EngineName: t.engineName, EngineControlProgId: t.engineControlProgId },
  }),
  shutdownComPlus: (t: HotfixTarget, timeoutSeconds: number): HostScript => ({
    name: "shutdown-complus",
    params: { ComPlusApplication: t.comPlusApplication, TimeoutSeconds: String(timeoutSeconds) },
  }),
  installPackage: (t: HotfixTarget, logPath: string): HostScript => ({
    name: "install-package",
    params: { PackagePath: hostPath(t.stagingDir, t.packageFile), LogPath: logPath },
  }),
  startComPlus: (t: HotfixTarget): HostScript => ({
    name: "start-complus",
    params: { ComPlusApplication: t.comPlusApplication },
  }),
  activateEngine: (t: HotfixTarget): HostScript => ({
    name: "activate-engine",
    params: { EngineName: t.engineName, EngineControlProgId: t.engineControlProgId },
  }),
  readInstallLog: (logPath: string, lines: number): HostScript => ({
    name: "read-install-log",
    params: { LogPath: logPath, Lines: String(lines) },
  }),
};

/** A fresh verbose-log path per attempt, so a retry never overwrites the log of the one before. */
export function installLogPath(t: HotfixTarget, at: Date, attempt: number): string {
  const stamp = at.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  return hostPath(t.stagingDir, `${t.hotfixId}-${stamp}-attempt${attempt}.log`);
}
