import { readFileSync } from "node:fs";
import { isIPv4 } from "node:net";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { SafeFileName } from "../components/domain/catalog";
import { FileVersionText } from "../components/domain/fileVersion";
import {
  ComPlusApplicationName,
  EngineName,
  HostName,
  ProgId,
  UserName,
  WindowsDirectory,
} from "../components/domain/fields";
import { scriptNames } from "../components/host/scriptNames";

export const defaultBinDir = "C:\\Program Files\\Microsoft Hosting\\Provisioning\\Bin";
export const defaultComPlusApplication = "Provisioning Engine";
export const defaultEngineControlProgId = "Provisioning.EngineControl";

const LoopbackAddress = z
  .string()
  .refine(
    (address) => isIPv4(address) && address.startsWith("127."),
    "must be an IPv4 loopback address in 127.0.0.0/8",
  );

const ListenPort = z.number().int().min(0).max(65535);

const ScriptNameField = z.enum(scriptNames);

/** Codes a simulated msiexec may be told to return; 3010 and 1641 come only from the in-use rule. */
const ForcedInstallExitCode = z
  .number()
  .int()
  .min(0)
  .max(65535)
  .refine(
    (code) => code !== 3010 && code !== 1641,
    "3010 and 1641 come from installing while COM+ runs; leave complus running instead",
  );

export const EngineFaults = z.strictObject({
  /** No listener: connecting is refused. */
  refuseConnections: z.boolean().optional(),
  /** TCP is accepted but the host never sends an SSH banner. */
  hangAfterConnect: z.boolean().optional(),
  /** Every authentication attempt fails. */
  rejectAuth: z.boolean().optional(),
  /** The script is accepted and never answered, until the client disconnects. */
  hangOnScript: ScriptNameField.optional(),
  /** The script takes effect, then the connection is destroyed before the exit status is sent. */
  dropConnectionAfter: ScriptNameField.optional(),
  /** The connection is destroyed while the script runs; the script does not take effect. */
  dropConnectionDuring: ScriptNameField.optional(),
  /**
   * The script takes effect, then prints without end (a host in a loop, or an adversary): its answer
   * streams until the client closes the channel. Not for install-package, whose answer comes from
   * msiexec's own time.
   */
  floodAnswer: ScriptNameField.exclude(["install-package"]).optional(),
  /** msiexec's exit code for each successive install attempt; 0 means a normal install. */
  installExitCodes: z.array(ForcedInstallExitCode).optional(),
  /** What the probe prints instead of its real answer. */
  probeAnswer: z.enum(["garbage", "empty", "bad-version"]).optional(),
  /** The staged bytes differ from the bytes sent. */
  corruptStagedPackage: z.boolean().optional(),
  /** The engine is up, but no relay reaches it over WinRM. */
  winrmUnreachable: z.boolean().optional(),
  /**
   * The script fails on the engine with an error raised outside its own trap (by the engine's
   * remoting endpoint): through a relay, Invoke-Command receives an error record and no answer.
   */
  remoteScriptError: ScriptNameField.optional(),
  /** Setting [Console]::OutputEncoding fails ("The handle is invalid."): answers stay in the OEM code page. */
  consoleEncodingLocked: z.boolean().optional(),
  /** Writing under the staging directory is denied: stage-package fails with the host's localized message. */
  stagingAccessDenied: z.boolean().optional(),
  /** Each time the COM+ application starts, its component stops answering: the symptom, without its cause. */
  stopsRespondingOnStart: z.boolean().optional(),
});
export type EngineFaults = z.infer<typeof EngineFaults>;

const listenerFaults = ["refuseConnections", "hangAfterConnect", "rejectAuth", "consoleEncodingLocked"] as const;

export const RelayFaults = EngineFaults.pick({
  refuseConnections: true,
  hangAfterConnect: true,
  rejectAuth: true,
  consoleEncodingLocked: true,
});
export type RelayFaults = z.infer<typeof RelayFaults>;

export const EngineActivity = z.enum(["active", "deactivated"]);
export type EngineActivity = z.infer<typeof EngineActivity>;

export const ComPlusState = z.enum(["running", "stopped"]);
export type ComPlusState = z.infer<typeof ComPlusState>;

/** What OpenSSH for Windows runs a command with: cmd.exe on a fresh install, or PowerShell when DefaultShell says so. */
export const DefaultShell = z.enum(["cmd", "powershell"]);
export type DefaultShell = z.infer<typeof DefaultShell>;

/** The console's OEM code page: 437 on a US server, 850 on a Western European one. */
export const OemCodePage = z.union([z.literal(437), z.literal(850)]);
export type OemCodePage = z.infer<typeof OemCodePage>;

/** The language of the messages the host's .NET and PowerShell write. */
export const UiCulture = z.enum(["en-US", "de-DE", "fr-FR"]);
export type UiCulture = z.infer<typeof UiCulture>;

/** A path as a PendingFileRenameOperations entry names it: absolute, no control characters. */
const PendingPath = z
  .string()
  .regex(/^[A-Za-z]:\\[^\x00-\x1f]*$/, "must be an absolute Windows path such as C:\\Windows\\Temp\\x.tmp");

/** A rename (or, without `to`, a deletion) Windows carries out at the next restart. */
export const PendingRename = z.strictObject({ from: PendingPath, to: PendingPath.optional() });
export type PendingRename = z.infer<typeof PendingRename>;

/** File name to file version, as the probe would read them from the engine's binDir. */
export const EngineFiles = z.record(SafeFileName, FileVersionText).superRefine((files, ctx) => {
  const seen = new Set<string>();
  for (const name of Object.keys(files)) {
    const key = name.toLowerCase();
    if (seen.has(key))
      ctx.addIssue({ code: "custom", path: [name], message: "names a file twice (Windows file names ignore case)" });
    seen.add(key);
  }
});

export const SimulatedEngine = z
  .strictObject({
    name: EngineName,
    address: LoopbackAddress.default("127.0.0.1"),
    port: ListenPort.default(0),
    /** false: a Server 2003 engine without an SSH listener, reachable only through a relay. */
    ssh: z.boolean().default(true),
    /** The name a relay's Invoke-Command may use for this engine, besides its engine name. */
    winrmName: HostName.optional(),
    binDir: WindowsDirectory.default(defaultBinDir),
    files: EngineFiles.default({}),
    engine: EngineActivity.default("active"),
    complus: ComPlusState.default("running"),
    /** false: the engine shows KB952089's symptom now (its COM+ component does not answer until a restart). */
    complusResponding: z.boolean().default(true),
    /** The COM+ application the engine runs in, as registered on the host. */
    comPlusApplication: ComPlusApplicationName.default(defaultComPlusApplication),
    /** The ProgID registered on the host for engine control. */
    engineControlProgId: ProgId.default(defaultEngineControlProgId),
    /** Renames of other software waiting for the next restart (other updates, antivirus, drivers). */
    pendingRenames: z.array(PendingRename).default([]),
    defaultShell: DefaultShell.default("cmd"),
    oemCodePage: OemCodePage.default(437),
    uiCulture: UiCulture.default("en-US"),
    faults: EngineFaults.default({}),
  })
  .superRefine((engine, ctx) => {
    if (engine.ssh) return;
    for (const fault of listenerFaults) {
      if (engine.faults[fault] !== undefined) {
        ctx.addIssue({ code: "custom", path: ["faults", fault], message: "applies only to an engine with ssh: true" });
      }
    }
  });
export type SimulatedEngine = z.infer<typeof SimulatedEngine>;

export const SimulatedRelay = z.strictObject({
  name: EngineName,
  address: LoopbackAddress.default("127.0.0.1"),
  port: ListenPort.default(0),
  defaultShell: DefaultShell.default("cmd"),
  oemCodePage: OemCodePage.default(437),
  faults: RelayFaults.default({}),
});
export type SimulatedRelay = z.infer<typeof SimulatedRelay>;

const DelayMs = z.number().int().min(0).max(600_000);

/** Milliseconds a host waits before answering each script; `default` covers scripts not named. */
export const StepDelays = z.partialRecord(z.enum(["default", ...scriptNames]), DelayMs);
export type StepDelays = z.infer<typeof StepDelays>;

export const FleetFile = z
  .strictObject({
    credentials: z.strictObject({
      user: UserName,
      password: z.string().min(1, "is empty"),
      /** An OpenSSH public key (`ssh-ed25519 AAAA…`) every host also accepts for the user. */
      publicKey: z
        .string()
        .regex(/^ssh-[a-z0-9-]+ [A-Za-z0-9+/=]+( .*)?$/, "must be an OpenSSH public key line")
        .optional(),
    }),
    stepDelaysMs: StepDelays.default({}),
    engines: z.array(SimulatedEngine).min(1, "must list at least one engine"),
    relays: z.array(SimulatedRelay).default([]),
  })
  .superRefine((fleet, ctx) => {
    // A relay's $Engine resolves by engine name or winrmName, so every name must be unambiguous.
    const names = new Map<string, string>();
    const claim = (name: string, list: "engines" | "relays", index: number, field: string): void => {
      const key = name.toLowerCase();
      const owner = names.get(key);
      if (owner !== undefined)
        ctx.addIssue({ code: "custom", path: [list, index, field], message: `${name} is already used by ${owner}` });
      else names.set(key, `${list}[${index}].${field}`);
    };
    fleet.engines.forEach((engine, index) => {
      claim(engine.name, "engines", index, "name");
      if (engine.winrmName !== undefined) claim(engine.winrmName, "engines", index, "winrmName");
    });
    fleet.relays.forEach((relay, index) => claim(relay.name, "relays", index, "name"));

    const endpoints = new Map<string, string>();
    const listeners = [
      ...fleet.engines.map((engine, index) => ({
        host: engine,
        path: ["engines", index, "port"],
        listens: engine.ssh,
      })),
      ...fleet.relays.map((relay, index) => ({ host: relay, path: ["relays", index, "port"], listens: true })),
    ];
    for (const { host, path, listens } of listeners) {
      if (!listens || host.port === 0) continue;
      const endpoint = `${host.address}:${host.port}`;
      const owner = endpoints.get(endpoint);
      if (owner !== undefined)
        ctx.addIssue({ code: "custom", path, message: `${endpoint} is already used by ${owner}` });
      else endpoints.set(endpoint, host.name);
    }
  });
export type FleetFile = z.infer<typeof FleetFile>;
/** A fleet as written, before defaults are filled in. */
export type FleetFileInput = z.input<typeof FleetFile>;

/** Checks fleet data; throws with every problem and its path, naming `source`. */
export function parseFleetFile(data: unknown, source = "fleet file"): FleetFile {
  const result = FleetFile.safeParse(data);
  if (!result.success) throw new Error(`${source} is invalid:\n${z.prettifyError(result.error)}`);
  return result.data;
}

export function loadFleetFile(path: string): FleetFile {
  const text = readFileSync(path, "utf8");
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`fleet file ${path} is not valid YAML: ${message}`);
  }
  return parseFleetFile(data, `fleet file ${path}`);
}
