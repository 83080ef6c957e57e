import { z } from "zod";
import { ComPlusApplicationName, EngineName, ProgId, WindowsDirectory } from "./fields";
import { EngineRoute } from "./endpoint";
import { HotfixPackage, HotfixRequirements } from "./requirement";

/** Where MPS lives on an engine and how scripts reach its engine control and COM+ application. */
export const HostSettings = z.strictObject({
  binDir: WindowsDirectory.default("C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin"),
  stagingDir: WindowsDirectory.default("C:\\Windows\\Temp\\mps-hotfix"),
  comPlusApplication: ComPlusApplicationName.default("Provisioning Engine"),
  /** The COM object through which scripts activate and deactivate the engine (see README: engine control). */
  engineControlProgId: ProgId.default("Provisioning.EngineControl"),
  /**
   * How long a probe waits for the COM+ application's component to answer before it reports the
   * engine as not responding (KB952089's symptom). The wait runs in a background job, which on
   * PowerShell 2.0 starts a PowerShell process of its own: a few seconds on a slow host.
   */
  responseTimeoutSeconds: z.number().int().min(1).max(600).default(30),
});
export type HostSettings = z.infer<typeof HostSettings>;

/** How long each part of one engine's maintenance may take, and what to do when it fails. */
export const MaintenanceSettings = z.strictObject({
  /** Leave an engine deactivated when its install fails, instead of putting it back into rotation. */
  leaveFailedEngineOut: z.boolean().default(false),
  connectTimeoutSeconds: z.number().int().min(1).max(600).default(20),
  /** Connection attempts while a host refuses or does not answer; rejected credentials and a wrong host key are final. */
  connectAttempts: z.number().int().min(1).max(10).default(3),
  /** The wait before the second connection attempt, doubling after each further one. */
  connectRetryDelaySeconds: z.number().min(0).max(60).default(2),
  /**
   * Upper bound for any one step on a host; a host that stops answering ends the run. The COM+
   * shutdown step may take up to complusShutdownTimeoutSeconds + 30 s when that is longer.
   */
  stepTimeoutSeconds: z.number().int().min(1).max(7200).default(600),
  complusShutdownTimeoutSeconds: z.number().int().min(1).max(3600).default(120),
  /** msiexec attempts while another installation is running (exit code 1618). */
  installAttempts: z.number().int().min(1).max(20).default(4),
  installRetryDelaySeconds: z.number().min(0).max(600).default(15),
  /**
   * After the session is lost during an install: how long to wait for Windows Installer to finish
   * the install on its own before giving up (the engine is then left out of rotation); asked
   * every installRetryDelaySeconds (every second when that is 0). 900 when not given.
   */
  installWaitSeconds: z.number().int().min(0).max(7200).optional(),
});
export type MaintenanceSettings = z.infer<typeof MaintenanceSettings>;

/** Everything one engine's maintenance needs to know, as plain data (credentials are kept apart). */
export const EngineTarget = z.strictObject({
  engine: EngineName,
  route: EngineRoute,
  host: HostSettings,
  /** In catalog order: the order the engine receives them. */
  packages: z.array(HotfixPackage).min(1),
  /** What the engine must carry, by hotfix id: the same ids as packages. */
  files: HotfixRequirements,
});
export type EngineTarget = z.infer<typeof EngineTarget>;

/** A path on the host: a Windows directory and a file in it. */
export function hostPath(dir: string, file: string): string {
  return dir.endsWith("\\") ? `${dir}${file}` : `${dir}\\${file}`;
}
