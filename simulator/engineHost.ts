import { createHash } from "node:crypto";
import { compareFileVersions, parseFileVersion } from "../components/domain/fileVersion";
import type {
  ComPlusState,
  EngineActivity,
  EngineFaults,
  OemCodePage,
  PendingRename,
  SimulatedEngine,
  UiCulture,
} from "./fleetFile";
import { InstallLog } from "./installLog";
import { MsiPackageError, readMsiPackage, type MsiPackage } from "../components/package/msiPackage";
import { combinePath, fileNameOf, isInDirectory, pathKey } from "./windowsPath";

export type Clock = () => Date;

/** A failure inside a script on the host; the message is what `$_.Exception.Message` would say. */
export class HostScriptError extends Error {
  override readonly name = "HostScriptError";
}

export interface StagedPackageInfo {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface EngineSnapshot {
  readonly name: string;
  readonly binDir: string;
  /** File name to version, for the files present in binDir. */
  readonly files: Readonly<Record<string, string>>;
  readonly engine: EngineActivity;
  readonly complus: ComPlusState;
  readonly complusInstances: number;
  /** An install scheduled a replacement of its files for the next restart (the KB's 3010). */
  readonly restartPending: boolean;
  /** Versions msiexec could not write because the file was in use; they land at the next restart. */
  readonly pendingFiles: Readonly<Record<string, string>>;
  /** PendingFileRenameOperations as pairs of plain paths, msiexec's and other software's; `to` is "" for a deletion. */
  readonly pendingRenames: readonly { readonly from: string; readonly to: string }[];
  /** Windows Installer is running an install (it holds Global\_MSIExecute). */
  readonly installing: boolean;
  /** False after the KB952089 symptom, until the host restarts. No probe can see it. */
  readonly complusResponding: boolean;
  readonly stagedPackages: readonly StagedPackageInfo[];
  readonly installLogs: readonly string[];
  readonly installAttempts: number;
  readonly faults: EngineFaults;
  /** The values of HKLM\SOFTWARE\mps-hotfix\Maintenance (the maintenance lease), or undefined without the key. */
  readonly lease: Readonly<Record<string, string>> | undefined;
}

/** An out-of-band change to a host, as an operator (or a test) would make it. */
export interface EngineChange {
  /** File name to version; null removes the file. */
  readonly files?: Readonly<Record<string, string | null>>;
  readonly engine?: EngineActivity;
  readonly complus?: ComPlusState;
  /** false: the COM+ component stops answering (KB952089's symptom) until the host restarts. */
  readonly complusResponding?: boolean;
  /** Replaces the host's faults (and restarts its installExitCodes sequence). */
  readonly faults?: EngineFaults;
  /** Replaces the renames of other software pending for the next restart. */
  readonly pendingRenames?: readonly PendingRename[];
  /** Replaces the maintenance lease's key with these values (a run that died, say); null removes the key. */
  readonly lease?: Readonly<Record<string, string>> | null;
}

/** An install Windows Installer has begun and not yet finished. */
interface RunningInstall {
  readonly packagePath: string;
  readonly logPath: string;
  readonly log: InstallLog;
}

interface HostFile {
  readonly name: string;
  readonly version: string;
}

/** The exit codes the simulated msiexec uses, with their Windows Installer meaning. */
export const msiExitCodes = {
  success: 0,
  fatalError: 1603,
  anotherInstallRunning: 1618,
  packageNotOpened: 1619,
  invalidPackage: 1620,
  restartRequired: 3010,
} as const;

const heldBy = "Name: dllhost, Id: 4242, Window Title: '(not determined yet)'";

/**
 * One simulated MPS engine server: its files, engine state, COM+ application, staged packages and
 * install logs, with the KB952089 rules. Pure state: no I/O, time only from the injected clock.
 */
export class EngineHost {
  readonly name: string;
  readonly winrmName: string | undefined;
  readonly binDir: string;
  private readonly comPlusApplication: string;
  private readonly engineControlProgId: string;
  private readonly files = new Map<string, HostFile>();
  private readonly pendingFiles = new Map<string, HostFile>();
  private activity: EngineActivity;
  private comPlusInstances: number;
  private restartPending = false;
  private comPlusResponding = true;
  private readonly staged = new Map<string, { readonly path: string; readonly bytes: Buffer }>();
  private readonly logs = new Map<string, { readonly path: string; readonly lines: readonly string[] }>();
  private installAttempts = 0;
  private forcedInstallCodes: number[];
  private currentFaults: EngineFaults;
  private otherRenames: { readonly from: string; readonly to: string }[];
  private running: RunningInstall | undefined;
  /** The maintenance lease's key: undefined while there is none, its values in the order written. */
  private leaseKey: Map<string, string> | undefined;
  readonly oemCodePage: OemCodePage;
  readonly uiCulture: UiCulture;

  constructor(
    engine: SimulatedEngine,
    private readonly clock: Clock = () => new Date(),
  ) {
    this.name = engine.name;
    this.winrmName = engine.winrmName;
    this.binDir = engine.binDir;
    this.comPlusApplication = engine.comPlusApplication;
    this.engineControlProgId = engine.engineControlProgId;
    for (const [name, version] of Object.entries(engine.files)) this.files.set(name.toLowerCase(), { name, version });
    this.activity = engine.engine;
    this.comPlusInstances = engine.complus === "running" ? 1 : 0;
    this.comPlusResponding = engine.complusResponding;
    this.currentFaults = engine.faults;
    this.forcedInstallCodes = [...(engine.faults.installExitCodes ?? [])];
    this.otherRenames = engine.pendingRenames.map(({ from, to }) => ({ from, to: to ?? "" }));
    this.oemCodePage = engine.oemCodePage;
    this.uiCulture = engine.uiCulture;
  }

  get faults(): EngineFaults {
    return this.currentFaults;
  }

  /**
   * The entries of PendingFileRenameOperations (REG_MULTI_SZ), as MoveFileEx writes them: for each
   * rename the source as a native path (`\??\C:\…`), then the target (`!\??\C:\…` when it
   * replaces an existing file) or an empty string for a deletion. Undefined when the value is absent.
   */
  pendingRenameEntries(): readonly string[] | undefined {
    const renames = this.pendingRenames();
    if (renames.length === 0) return undefined;
    return renames.flatMap(({ from, to }) => [`\\??\\${from}`, to === "" ? "" : `!\\??\\${to}`]);
  }

  private pendingRenames(): { readonly from: string; readonly to: string }[] {
    const installer = [...this.pendingFiles.values()].map((file, index) => ({
      from: combinePath(this.binDir, `MSI${(0x4f2a + index).toString(16).toUpperCase()}.tmp`),
      to: combinePath(this.binDir, file.name),
    }));
    return [...this.otherRenames, ...installer];
  }

  /** Whether Windows Installer is still installing: `[Threading.Mutex]::OpenExisting('Global\_MSIExecute')` succeeds. */
  isInstalling(): boolean {
    return this.running !== undefined;
  }

  /** RegistryKey.GetValue on the lease's key: undefined without the key or the value. */
  leaseValue(name: string): string | undefined {
    return this.leaseKey?.get(name);
  }

  /** The lease key's values in GetValueNames order, or undefined without the key. */
  leaseValues(): readonly (readonly [string, string])[] | undefined {
    return this.leaseKey === undefined ? undefined : [...this.leaseKey.entries()];
  }

  /** CreateSubKey, then SetValue: registry value names ignore case, as Windows does. */
  setLeaseValue(name: string, value: string): void {
    this.leaseKey ??= new Map();
    const existing = [...this.leaseKey.keys()].find((key) => key.toLowerCase() === name.toLowerCase());
    this.leaseKey.set(existing ?? name, value);
  }

  /** DeleteSubKeyTree of the lease's key. */
  deleteLease(): void {
    this.leaseKey = undefined;
  }

  /** Whether a relay's `-ComputerName` names this host. */
  answersTo(computerName: string): boolean {
    const wanted = computerName.toLowerCase();
    return wanted === this.name.toLowerCase() || wanted === this.winrmName?.toLowerCase();
  }

  /** `[Diagnostics.FileVersionInfo]::GetVersionInfo`, or undefined when Test-Path fails. */
  fileVersion(path: string): string | undefined {
    if (!isInDirectory(path, this.binDir)) return undefined;
    return this.files.get(fileNameOf(path).toLowerCase())?.version;
  }

  /** `New-Object -ComObject $EngineControlProgId`. */
  openEngineControl(progId: string): void {
    if (progId.toLowerCase() !== this.engineControlProgId.toLowerCase())
      throw new HostScriptError(`Cannot load COM type ${progId}.`);
  }

  isActive(engineName: string): boolean {
    this.requireEngine("IsActive", engineName);
    return this.activity === "active";
  }

  /** `$engine.Deactivate($EngineName)`: like a COM method, it returns a value (whether the engine was active). */
  deactivate(engineName: string): boolean {
    this.requireEngine("Deactivate", engineName);
    const was = this.activity === "active";
    this.activity = "deactivated";
    return was;
  }

  /** `$engine.Activate($EngineName)`: returns whether the engine was active before. */
  activate(engineName: string): boolean {
    this.requireEngine("Activate", engineName);
    const was = this.activity === "active";
    this.activity = "active";
    return was;
  }

  /** `Get-ComPlusInstanceCount` from the scripts. */
  comPlusInstanceCount(application: string): number {
    this.requireComPlusApplication(application);
    return this.comPlusInstances;
  }

  /**
   * COMAdminCatalog.ShutdownApplication. Returns the KB952089 symptom when the engine is still
   * active: requests keep arriving at a stopped engine, and once the application starts again
   * its component does not respond until the server restarts.
   */
  shutdownComPlus(application: string): string | undefined {
    this.requireComPlusApplication(application);
    this.comPlusInstances = 0;
    if (this.activity !== "active") return undefined;
    this.comPlusResponding = false;
    return `COM+ application '${this.comPlusApplication}' was shut down while engine ${this.name} was active: the component stops responding until the server restarts (KB952089)`;
  }

  startComPlus(application: string): string | undefined {
    this.requireComPlusApplication(application);
    this.comPlusInstances = Math.max(this.comPlusInstances, 1);
    if (this.currentFaults.stopsRespondingOnStart !== true) return undefined;
    this.comPlusResponding = false;
    return `fault stopsRespondingOnStart: COM+ application '${this.comPlusApplication}' started and its component does not respond until the server restarts`;
  }

  /**
   * Whether creating an object of the application's first component in a background job finishes
   * (the check-response and probe scripts): not while the component shows KB952089's symptom.
   */
  componentResponds(application: string): boolean {
    this.requireComPlusApplication(application);
    return this.comPlusResponding;
  }

  /** Writes the package bytes under the staging directory; returns the path and the bytes stored. */
  stagePackage(stagingDir: string, packageFile: string, bytes: Buffer): { path: string; stored: Buffer } {
    const path = combinePath(stagingDir, packageFile);
    if (this.currentFaults.stagingAccessDenied) throw new HostScriptError(accessDenied(this.uiCulture, path));
    const stored = this.currentFaults.corruptStagedPackage ? corrupt(bytes) : Buffer.from(bytes);
    this.staged.set(pathKey(path), { path, bytes: stored });
    return { path, stored };
  }

  /** `msiexec /i PackagePath /qn /norestart /L*v LogPath`, begun and finished at once; returns msiexec's exit code. */
  install(packagePath: string, logPath: string): number {
    const begun = this.beginInstall(packagePath, logPath);
    return begun.kind === "busy" ? begun.exitCode : this.finishInstall();
  }

  /**
   * msiexec starts: its log is opened, and Windows Installer takes Global\_MSIExecute for the
   * install, which then runs on its own time, whatever becomes of the session that started it. A
   * second msiexec meanwhile gets 1618 at once.
   */
  beginInstall(packagePath: string, logPath: string): { kind: "busy"; exitCode: number } | { kind: "begun" } {
    this.installAttempts++;
    const log = new InstallLog(
      this.clock(),
      `"C:\\WINDOWS\\system32\\msiexec.exe" /i "${packagePath}" /qn /norestart /L*v "${logPath}"`,
    );
    if (this.running !== undefined) {
      log.client(
        "Failed to grab execution mutex. Another installation is already in progress. Complete that installation before proceeding with this install.",
      );
      this.logs.set(pathKey(logPath), { path: logPath, lines: log.finish(msiExitCodes.anotherInstallRunning) });
      return { kind: "busy", exitCode: msiExitCodes.anotherInstallRunning };
    }
    this.running = { packagePath, logPath, log };
    this.logs.set(pathKey(logPath), { path: logPath, lines: log.snapshot() });
    return { kind: "begun" };
  }

  /** The running install completes (or fails, as its package and the host say); returns msiexec's exit code. */
  finishInstall(): number {
    const running = this.running;
    if (running === undefined) throw new Error(`${this.name}: no install is running`);
    this.running = undefined;
    const exitCode = this.runInstall(running.packagePath, running.log);
    this.logs.set(pathKey(running.logPath), { path: running.logPath, lines: running.log.finish(exitCode) });
    return exitCode;
  }

  /** The lines of a log file msiexec wrote, or undefined when there is none at that path. */
  installLog(path: string): readonly string[] | undefined {
    return this.logs.get(pathKey(path))?.lines;
  }

  /** A server restart: pending renames are carried out (file replacements land), and COM+ answers again. */
  restart(): void {
    if (this.running !== undefined) {
      // The restart interrupts the install: Windows Installer rolls it back.
      this.running.log.server("Installation interrupted by a system restart; rolling back.");
      this.logs.set(pathKey(this.running.logPath), {
        path: this.running.logPath,
        lines: this.running.log.finish(msiExitCodes.fatalError),
      });
      this.running = undefined;
    }
    for (const [key, file] of this.pendingFiles) this.files.set(key, file);
    this.pendingFiles.clear();
    this.otherRenames = [];
    this.restartPending = false;
    this.comPlusResponding = true;
    // COM+ starts on demand, so after a restart only an active engine has a running instance.
    this.comPlusInstances = this.activity === "active" ? 1 : 0;
  }

  alter(change: EngineChange): void {
    for (const [name, version] of Object.entries(change.files ?? {})) {
      if (version === null) {
        this.files.delete(name.toLowerCase());
      } else {
        if (parseFileVersion(version) === undefined)
          throw new Error(`${this.name}: ${name} version ${version} is not a file version`);
        this.files.set(name.toLowerCase(), { name, version });
      }
    }
    if (change.engine !== undefined) this.activity = change.engine;
    if (change.complus !== undefined) {
      this.comPlusInstances = change.complus === "running" ? Math.max(this.comPlusInstances, 1) : 0;
    }
    if (change.complusResponding !== undefined) this.comPlusResponding = change.complusResponding;
    if (change.faults !== undefined) {
      this.currentFaults = change.faults;
      this.forcedInstallCodes = [...(change.faults.installExitCodes ?? [])];
    }
    if (change.pendingRenames !== undefined) {
      this.otherRenames = change.pendingRenames.map(({ from, to }) => ({ from, to: to ?? "" }));
    }
    if (change.lease !== undefined)
      this.leaseKey = change.lease === null ? undefined : new Map(Object.entries(change.lease));
  }

  snapshot(): EngineSnapshot {
    const versions = (files: Map<string, HostFile>): Record<string, string> =>
      Object.fromEntries([...files.values()].map((file) => [file.name, file.version]));
    return {
      name: this.name,
      binDir: this.binDir,
      files: versions(this.files),
      engine: this.activity,
      complus: this.comPlusInstances > 0 ? "running" : "stopped",
      complusInstances: this.comPlusInstances,
      restartPending: this.restartPending,
      pendingFiles: versions(this.pendingFiles),
      pendingRenames: this.pendingRenames(),
      installing: this.running !== undefined,
      complusResponding: this.comPlusResponding,
      stagedPackages: [...this.staged.values()].map(({ path, bytes }) => ({
        path,
        bytes: bytes.length,
        sha256: sha256Hex(bytes),
      })),
      installLogs: [...this.logs.values()].map((log) => log.path),
      installAttempts: this.installAttempts,
      faults: this.currentFaults,
      lease: this.leaseKey === undefined ? undefined : Object.fromEntries(this.leaseKey),
    };
  }

  private runInstall(packagePath: string, log: InstallLog): number {
    const forced = this.forcedInstallCodes.shift();
    if (forced !== undefined && forced !== msiExitCodes.success) {
      log.client(
        forced === msiExitCodes.anotherInstallRunning
          ? "Failed to grab execution mutex. Another installation is already in progress. Complete that installation before proceeding with this install."
          : `Installation failed with error ${forced}.`,
      );
      return forced;
    }
    const staged = this.staged.get(pathKey(packagePath));
    if (staged === undefined) {
      log.client(`Note: 1: 2203 2: ${packagePath} 3: -2147287038`);
      log.client(
        "This installation package could not be opened. Verify that the package exists and that you can access it.",
      );
      return msiExitCodes.packageNotOpened;
    }
    let msi: MsiPackage;
    try {
      msi = readMsiPackage(staged.bytes);
    } catch (error) {
      if (!(error instanceof MsiPackageError)) throw error;
      log.client(`Note: 1: 2203 2: ${packagePath} 3: -2147286960`);
      log.client(
        "This installation package could not be opened. Contact the application vendor to verify that this is a valid Windows Installer package.",
      );
      return msiExitCodes.invalidPackage;
    }

    const product = msi.productName;
    log.server(`Product: ${product} -- Installation started.`);
    const replacements: HostFile[] = [];
    // What the package's File table says it installs; an unversioned file is always copied.
    for (const { fileName: name, version } of msi.files) {
      if (version === null) continue;
      const target = combinePath(this.binDir, name);
      const existing = this.files.get(name.toLowerCase());
      const order = existing === undefined ? 1 : compareVersionTexts(version, existing.version);
      if (order > 0) {
        log.server(
          `File: ${target};\tOverwrite;\tWon't patch;\t${existing === undefined ? "No existing file" : "Existing file is of a lesser version"}`,
        );
        replacements.push({ name: existing?.name ?? name, version });
      } else {
        log.server(
          `File: ${target};\tWon't Overwrite;\tWon't patch;\tExisting file is of ${order === 0 ? "an equal" : "a greater"} version`,
        );
      }
    }

    // A running COM+ application holds the DLL: msiexec schedules the replacement for the next restart.
    const held = replacements.length > 0 && this.comPlusInstances > 0;
    for (const file of replacements) {
      if (held) {
        const target = combinePath(this.binDir, file.name);
        log.server(
          `Info 1603. The file ${target} is being held in use by the following process: ${heldBy}. Close that application and retry.`,
        );
        log.server(`Scheduling file '${target}' for replacement at the next restart (PendingFileRenameOperations).`);
        this.pendingFiles.set(file.name.toLowerCase(), file);
      } else {
        this.files.set(file.name.toLowerCase(), file);
      }
    }
    const productVersion = msi.productVersion;
    log.server(`Product: ${product} -- Installation completed successfully.`);
    if (held) {
      this.restartPending = true;
      log.server(
        `Windows Installer requires a system restart. Product Name: ${product}. Product Version: ${productVersion}. Product Language: 1033. Type of System Restart: 1. Reason for Restart: 1.`,
      );
    }
    log.server(
      `Windows Installer installed the product. Product Name: ${product}. Product Version: ${productVersion}. Product Language: 1033. Installation success or error status: 0.`,
    );
    return held ? msiExitCodes.restartRequired : msiExitCodes.success;
  }

  private requireEngine(method: string, engineName: string): void {
    if (engineName.toLowerCase() !== this.name.toLowerCase()) {
      throw new HostScriptError(
        `Exception calling "${method}" with "1" argument(s): "No provisioning engine named '${engineName}' is registered on this server."`,
      );
    }
  }

  private requireComPlusApplication(application: string): void {
    if (application.toLowerCase() !== this.comPlusApplication.toLowerCase()) {
      throw new HostScriptError(`COM+ application not found: ${application}`);
    }
  }
}

/** UnauthorizedAccessException's message, as .NET Framework's language packs word it. */
function accessDenied(culture: UiCulture, path: string): string {
  switch (culture) {
    case "en-US":
      return `Access to the path '${path}' is denied.`;
    case "de-DE":
      return `Der Zugriff auf den Pfad "${path}" wurde verweigert.`;
    case "fr-FR":
      return `L'accès au chemin d'accès '${path}' est refusé.`;
  }
}

export function sha256Hex(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function compareVersionTexts(a: string, b: string): number {
  const left = parseFileVersion(a);
  const right = parseFileVersion(b);
  if (left === undefined || right === undefined) throw new Error(`not file versions: ${a}, ${b}`);
  return compareFileVersions(left, right);
}

function corrupt(bytes: Buffer): Buffer {
  if (bytes.length === 0) return Buffer.from([0]);
  const copy = Buffer.from(bytes);
  copy[0] = (copy[0] ?? 0) ^ 0xff;
  return copy;
}
