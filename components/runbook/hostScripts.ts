import type { HostScript } from "../host/scriptAssembly";
import type { MaintenanceLease } from "../domain/lease";
import type { HotfixPackage } from "../domain/requirement";
import { hostPath, type EngineTarget } from "../domain/target";

/** Every file the engine must carry, each once, in the order of its hotfixes. */
export function probedFiles(t: EngineTarget): string[] {
  const names = t.packages.flatMap((p) => Object.keys(t.files[p.hotfix] ?? {}));
  return [...new Map(names.map((n) => [n.toLowerCase(), n])).values()];
}

/** The lease a script writes before its work (see the maintenance lease in host/powershell/common.ps1). */
export interface LeaseWrite {
  readonly fields: MaintenanceLease;
  /** The run whose lease this one may replace: one that ended without putting the engine back. */
  readonly takeover?: string;
}

/** A script's lease parameters: none (rendered empty) when it carries no lease. */
function leaseParamsOf(lease: LeaseWrite | undefined): HostScript["params"] {
  if (lease === undefined) return {};
  return {
    LeaseRun: lease.fields.Run,
    LeaseTakeover: lease.takeover ?? "",
    Lease: Object.entries(lease.fields).map(([name, value]) => `${name}=${value}`),
  };
}

/** The scripts of a maintenance, with their parameters taken from the target. */
export const hostScripts = {
  probe: (t: EngineTarget): HostScript => ({
    name: "probe",
    params: {
      FilePaths: probedFiles(t).map((file) => hostPath(t.host.binDir, file)),
      EngineName: t.engine,
      EngineControlProgId: t.host.engineControlProgId,
      ComPlusApplication: t.host.comPlusApplication,
      ResponseTimeoutSeconds: String(t.host.responseTimeoutSeconds),
    },
  }),
  stagePackage: (t: EngineTarget, pkg: HotfixPackage, packageBase64: string): HostScript => ({
    name: "stage-package",
    params: { StagingDir: t.host.stagingDir, PackageFile: pkg.file },
    stdin: packageBase64,
  }),
  deactivateEngine: (t: EngineTarget, lease?: LeaseWrite): HostScript => ({
    name: "deactivate-engine",
    params: { EngineName: t.engine, EngineControlProgId: t.host.engineControlProgId, ...leaseParamsOf(lease) },
  }),
  shutdownComPlus: (t: EngineTarget, timeoutSeconds: number, lease?: LeaseWrite): HostScript => ({
    name: "shutdown-complus",
    params: {
      ComPlusApplication: t.host.comPlusApplication,
      TimeoutSeconds: String(timeoutSeconds),
      ...leaseParamsOf(lease),
    },
  }),
  installPackage: (t: EngineTarget, pkg: HotfixPackage, logPath: string, lease?: LeaseWrite): HostScript => ({
    name: "install-package",
    params: { PackagePath: hostPath(t.host.stagingDir, pkg.file), LogPath: logPath, ...leaseParamsOf(lease) },
  }),
  startComPlus: (t: EngineTarget, lease?: LeaseWrite): HostScript => ({
    name: "start-complus",
    params: { ComPlusApplication: t.host.comPlusApplication, ...leaseParamsOf(lease) },
  }),
  /** With a lease, activation ends the maintenance: the lease is removed once the engine is active. */
  activateEngine: (t: EngineTarget, lease?: LeaseWrite): HostScript => ({
    name: "activate-engine",
    params: { EngineName: t.engine, EngineControlProgId: t.host.engineControlProgId, ...leaseParamsOf(lease) },
  }),
  checkResponse: (t: EngineTarget): HostScript => ({
    name: "check-response",
    params: {
      ComPlusApplication: t.host.comPlusApplication,
      ResponseTimeoutSeconds: String(t.host.responseTimeoutSeconds),
    },
  }),
  readInstallLog: (logPath: string, lines: number): HostScript => ({
    name: "read-install-log",
    params: { LogPath: logPath, Lines: String(lines) },
  }),
  installerStatus: (logPath: string): HostScript => ({
    name: "installer-status",
    params: { LogPath: logPath },
  }),
};

/** How much of a failed install's verbose log read-install-log brings back. */
export const installLogTailLines = 25;

/** A fresh verbose-log path per attempt, so a retry never overwrites the log of the one before. */
export function installLogPath(t: EngineTarget, pkg: HotfixPackage, at: Date, attempt: number): string {
  const stamp = at.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  return hostPath(t.host.stagingDir, `${pkg.hotfix}-${stamp}-attempt${attempt}.log`);
}
