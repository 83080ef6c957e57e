import { z } from "zod";
import { ComPlusApplicationName, EngineName, ProgId, WindowsDirectory } from "./fields";
import { EngineRoute } from "./endpoint";
import { HotfixPackage, HotfixRequirements } from "./requirement";

/** Where MPS lives on an engine and how scripts reach its engine control and COM+ application. */
export const HostSettings = z.strictObject({
  binDir: WindowsDirectory.default("C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin").describe(
    "Where the MPS engine's binaries (the hotfixes' files) live on every engine.",
  ),
  stagingDir: WindowsDirectory.default("C:\\Windows\\Temp\\mps-hotfix").describe(
    "Where packages are staged and install logs written on each engine.",
  ),
  comPlusApplication: ComPlusApplicationName.default("Provisioning Engine").describe(
    "The COM+ application that is shut down for the install and started after it.",
  ),
  engineControlProgId: ProgId.default("Provisioning.EngineControl").describe(
    "The COM object through which scripts activate and deactivate the engine (see docs/operator-guide.md, Setting up real hosts: engine control).",
  ),
  // The wait runs in a background job, which on PowerShell 2.0 starts a PowerShell process of its
  // own: a few seconds on a slow host.
  responseTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(600)
    .default(30)
    .describe(
      "How long a probe waits for the COM+ application's component to answer before it reports the engine as not responding (KB952089's symptom).",
    ),
});
export type HostSettings = z.infer<typeof HostSettings>;

/** How long each part of one engine's maintenance may take, and what to do when it fails. */
export const MaintenanceSettings = z.strictObject({
  leaveFailedEngineOut: z
    .boolean()
    .default(false)
    .describe("Leave an engine deactivated when a step fails, instead of putting it back into rotation."),
  connectTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(600)
    .default(20)
    .describe("Upper bound for connecting to a host and its SSH handshake."),
  connectAttempts: z
    .number()
    .int()
    .min(1)
    .max(10)
    .default(3)
    .describe(
      "Connection attempts while a host refuses or does not answer; rejected credentials and a wrong host key are final.",
    ),
  connectRetryDelaySeconds: z
    .number()
    .min(0)
    .max(60)
    .default(2)
    .describe("The wait before the second connection attempt, doubling after each further one."),
  stepTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(7200)
    .default(600)
    .describe(
      "Upper bound for any one step on a host; a host that stops answering ends the run. The COM+ shutdown step may take up to complusShutdownTimeoutSeconds + 30 s when that is longer.",
    ),
  complusShutdownTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(120)
    .describe("How long the COM+ shutdown waits for the application to have no running instance."),
  installAttempts: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(4)
    .describe("msiexec attempts while another installation is running (exit code 1618)."),
  installRetryDelaySeconds: z
    .number()
    .min(0)
    .max(600)
    .default(15)
    .describe("The wait before the second msiexec attempt after exit code 1618, doubling after each further one."),
  installWaitSeconds: z
    .number()
    .int()
    .min(0)
    .max(7200)
    .optional()
    .describe(
      "After the session is lost during an install: how long to wait for Windows Installer to finish the install on its own before giving up (the engine is then left out of rotation); asked every installRetryDelaySeconds (every second when that is 0). 900 when not given.",
    ),
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
