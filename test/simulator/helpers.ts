import { createHash } from "node:crypto";
import { simulatedPackageBytes } from "../../simulator/simulatedPackage";
import { Client, type ConnectConfig } from "ssh2";
import type { Socket } from "node:net";
import { type HostScript } from "../../components/host/scriptAssembly";
import { invocationFor, type Route } from "../../components/host/invocation";
import { connectConfig } from "../../components/host/sshSession";
import { parseFleetFile, type FleetFileInput } from "../../simulator/fleetFile";
import type { StepRecord } from "../../simulator/stepLog";
import {
  startSimulatedFleet,
  type FleetActivity,
  type SimulatedFleet,
  type SimulatedFleetOptions,
  type SimulatedHost,
} from "../../simulator/server";

export const user = "mps-admin";
export const password = "test-only-password";
export const binDir = "C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin";
export const dllPath = `${binDir}\\Mapsproccntl.dll`;
export const stagingDir = "C:\\Windows\\Temp\\mps-hotfix";
export const packagePath = `${stagingDir}\\KB952089.msi`;
export const logPathOf = (engine: string): string => `${stagingDir}\\KB952089-${engine}.log`;
/** Where the simulated msiexec writes a held file's new version until the restart replaces it. */
export const heldCopyPath = `${binDir}\\MSI4F2A.tmp`;

/**
 * The probe's lines for PendingFileRenameOperations, as MoveFileEx stores each rename: the
 * source as a native path, then `!` and the target it replaces, or "" for a deletion.
 */
export function renameLines(renames: readonly { readonly from: string; readonly to?: string }[]): string[] {
  const entries = renames.flatMap(({ from, to }) => [`\\??\\${from}`, to === undefined ? "" : `!\\??\\${to}`]);
  return [...entries.map((entry, index) => `rename.${index}=${entry}`), `renames=${entries.length}`];
}

/** The rename the simulated msiexec schedules when Mapsproccntl.dll is held: its new copy replaces it at the restart. */
export const heldDllRename = { from: heldCopyPath, to: dllPath };

/** Every step record and install log line carries this time, so tests compare them exactly. */
export const fixedTime = "2008-05-08T11:42:00.000Z";
export const fixedClock = (): Date => new Date(fixedTime);

/** A Windows Installer package that installs Mapsproccntl.dll 13.3.609.1 (the simulator's own tests). */
export const packageBytes = simulatedPackageBytes("KB952089", { "Mapsproccntl.dll": "13.3.609.1" });
export const packageSha256 = createHash("sha256").update(packageBytes).digest("hex");
export const packageBase64 = packageBytes.toString("base64");

/** The scripts of the KB952089 runbook, with the parameters the product uses by default. */
export const scripts = {
  probe: (engine: string): HostScript => ({
    name: "probe",
    params: {
      FilePaths: [dllPath],
      EngineName: engine,
      EngineControlProgId: "Provisioning.EngineControl",
      ComPlusApplication: "Provisioning Engine",
      ResponseTimeoutSeconds: "1",
    },
  }),
  stage: (payload: string = packageBase64): HostScript => ({
    name: "stage-package",
    params: { StagingDir: stagingDir, PackageFile: "KB952089.msi" },
    stdin: payload,
  }),
  deactivate: (engine: string): HostScript => ({
    name: "deactivate-engine",
    params: { EngineName: engine, EngineControlProgId: "Provisioning.EngineControl" },
  }),
  shutdown: (): HostScript => ({
    name: "shutdown-complus",
    params: { ComPlusApplication: "Provisioning Engine", TimeoutSeconds: "120" },
  }),
  install: (engine: string): HostScript => ({
    name: "install-package",
    params: { PackagePath: packagePath, LogPath: logPathOf(engine) },
  }),
  start: (): HostScript => ({ name: "start-complus", params: { ComPlusApplication: "Provisioning Engine" } }),
  activate: (engine: string): HostScript => ({
    name: "activate-engine",
    params: { EngineName: engine, EngineControlProgId: "Provisioning.EngineControl" },
  }),
  checkResponse: (): HostScript => ({
    name: "check-response",
    params: { ComPlusApplication: "Provisioning Engine", ResponseTimeoutSeconds: "1" },
  }),
  readLog: (engine: string, lines = "50"): HostScript => ({
    name: "read-install-log",
    params: { LogPath: logPathOf(engine), Lines: lines },
  }),
};

export const direct: Route = { kind: "direct" };
export const via = (engineHost: string): Route => ({ kind: "relay", engineHost });

export function startFleet(
  input: Omit<FleetFileInput, "credentials">,
  options: SimulatedFleetOptions = {},
  credentials: Partial<FleetFileInput["credentials"]> = {},
): Promise<SimulatedFleet> {
  return startSimulatedFleet(parseFleetFile({ credentials: { user, password, ...credentials }, ...input }), {
    clock: fixedClock,
    ...options,
  });
}

export function hostNamed(fleet: SimulatedFleet, name: string): SimulatedHost {
  const host = fleet.hosts.find((candidate) => candidate.name === name);
  if (host === undefined) throw new Error(`no host ${name}`);
  return host;
}

export interface ConnectOptions {
  readonly user?: string;
  readonly password?: string;
  /** Log on with this key instead of a password. */
  readonly privateKey?: string | Buffer;
  readonly readyTimeout?: number;
  /** Called with the fingerprint of the key the host offers, during the key exchange. */
  readonly onHostKey?: (fingerprint: string) => void;
}

/**
 * What the product's SSH client is given for a simulated host: its own connect options (its
 * socket without Nagle's delay, its keepalives), pinning the host key the simulator reports.
 * Tests that time an exchange see the timing the product sees.
 */
export function productConnectConfig(
  host: SimulatedHost,
  options: ConnectOptions = {},
): ConnectConfig & { readonly sock: Socket } {
  const credential =
    options.privateKey === undefined
      ? { password: options.password ?? password }
      : { privateKey: options.privateKey.toString() };
  return connectConfig(
    { name: host.name, host: host.address, port: host.port, user: options.user ?? user, hostKey: host.hostKeySha256 },
    credential,
    options.readyTimeout ?? 5000,
    options.onHostKey,
  );
}

/** Connects with a real SSH client configured as the product's, pinning the host key the simulator reports. */
export function connect(host: SimulatedHost, options: ConnectOptions = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    // A failing handshake can report more than one error; the first decides.
    client.on("error", reject);
    client.once("ready", () => resolve(client));
    client.connect(productConnectConfig(host, options));
  });
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** null when the connection ended without an exit status. */
  readonly exitCode: number | null;
}

export function execOn(client: Client, commandLine: string, stdin?: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    let exitCode: number | null = null;
    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      resolve({ stdout, stderr, exitCode });
    };
    client.once("close", settle);
    client.exec(commandLine, (error, channel) => {
      if (error) {
        reject(error);
        return;
      }
      channel.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
      channel.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      channel.on("exit", (code: number | null) => (exitCode = code));
      channel.on("close", settle);
      channel.end(stdin);
    });
  });
}

/** Runs a script on an open connection as the product sends it. */
export function execScript(client: Client, script: HostScript, route: Route = direct): Promise<ExecResult> {
  const { commandLine, stdin } = invocationFor(script, route);
  return execOn(client, commandLine, stdin);
}

/** One command on a fresh connection, as the product runs each step: the bootstrap, the script on its input. */
export async function run(host: SimulatedHost, script: HostScript, route: Route = direct): Promise<ExecResult> {
  const { commandLine, stdin } = invocationFor(script, route);
  return runLine(host, commandLine, stdin);
}

/** What the product sends for a script: the command line, and the script and its payload as standard input. */
export function sent(script: HostScript, route: Route = direct): { commandLine: string; stdin: string } {
  return invocationFor(script, route);
}

/** The bootstrap's declaration of the code page an answer is written in: UTF-8 unless the console refused it. */
export const utf8Declared = "encoding=65001";

/** The script's own lines of an answer: after the bootstrap's code page line. */
export function scriptLines(result: ExecResult): string[] {
  const lines = result.stdout.split("\r\n");
  if (lines[0] !== utf8Declared) throw new Error(`the answer does not start with ${utf8Declared}: ${result.stdout}`);
  return lines.slice(1);
}

export async function runLine(host: SimulatedHost, commandLine: string, stdin?: string): Promise<ExecResult> {
  const client = await connect(host);
  try {
    return await execOn(client, commandLine, stdin);
  } finally {
    client.end();
  }
}

/**
 * The answer a script gives: the bootstrap's code page line, then the script's lines as the host
 * printed them (CRLF), and its exit code.
 */
export function answer(lines: readonly string[], exitCode = 0): ExecResult {
  return { stdout: [utf8Declared, ...lines].map((line) => `${line}\r\n`).join(""), stderr: "", exitCode };
}

export function connectError(host: SimulatedHost, options: ConnectOptions = {}): Promise<string> {
  return connect(host, options).then(
    (client) => {
      client.end();
      throw new Error("connected unexpectedly");
    },
    (error: unknown) => messageOf(error),
  );
}

/** Errors from Node's own sockets come from another realm under jest, so instanceof Error fails. */
export function messageOf(error: unknown): string {
  return typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error);
}

/**
 * The next step the fleet records that `matches`, subscribed at once: call it before the action
 * that causes the step, and await it after.
 */
export function nextStep(fleet: SimulatedFleet, matches: (record: StepRecord) => boolean): Promise<StepRecord> {
  return new Promise((resolve) => {
    const unsubscribe = fleet.onStep((record) => {
      if (!matches(record)) return;
      unsubscribe();
      resolve(record);
    });
  });
}

/** The next activity of the fleet that `matches`, subscribed at once, as `nextStep`. */
export function nextActivity<Kind extends FleetActivity["kind"]>(
  fleet: SimulatedFleet,
  kind: Kind,
  matches: (activity: Extract<FleetActivity, { kind: Kind }>) => boolean = () => true,
): Promise<Extract<FleetActivity, { kind: Kind }>> {
  return new Promise((resolve) => {
    const unsubscribe = fleet.onActivity((activity) => {
      if (!isKind(activity, kind) || !matches(activity)) return;
      unsubscribe();
      resolve(activity);
    });
  });
}

function isKind<Kind extends FleetActivity["kind"]>(
  activity: FleetActivity,
  kind: Kind,
): activity is Extract<FleetActivity, { kind: Kind }> {
  return activity.kind === kind;
}

/** The log without the fixed-time field, for exact comparisons that read well. */
export function steps(fleet: SimulatedFleet): object[] {
  return fleet.log().map(({ at: _at, ...rest }) => rest);
}
