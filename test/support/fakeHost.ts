import { createHash } from "node:crypto";
import type { ScriptName } from "../../components/host/scriptNames";
import type { HostScript, ScriptParams } from "../../components/host/scriptAssembly";
import { hostPath } from "../../components/domain/target";
import type { ScriptResult, ScriptRunner } from "../../components/runbook/steps";
import { readSimulatedPackage } from "../../simulator/simulatedPackage";
import { kbFile } from "./targets";

/** One script the fake host was asked to run. */
export interface RunCall {
  readonly script: ScriptName;
  readonly params: ScriptParams;
  readonly stdin: string | undefined;
  readonly timeoutMs: number;
}

/** What the fake engine holds; the scripts it runs as a host would change it. */
export interface HostState {
  /** File name => deployed version under binDir; a file not listed is missing. */
  files: Record<string, string>;
  engine: "active" | "deactivated";
  complus: "running" | "stopped";
  /** "pending": PendingFileRenameOperations replaces the first probed file at the next restart. */
  restart: "pending" | "none";
  /** Other PendingFileRenameOperations entries (pairs of source and target), of files no hotfix installs. */
  otherRenames: string[];
  /** Windows Installer is running an install (Global\_MSIExecute is held). */
  installing: boolean;
  /** false: the COM+ component does not answer (KB952089's symptom). */
  responding: boolean;
}

/** A scripted answer: a result, a thrown error (the transport failed), or an answer computed from the call. */
export type Reply = ScriptResult | Error | ComputedReply;
export type ComputedReply = (call: RunCall, host: FakeHost) => ScriptResult;

/** The fake host's own answers, by the short names tests script them under. */
const scriptOfKey = {
  probe: "probe",
  stage: "stage-package",
  deactivate: "deactivate-engine",
  shutdown: "shutdown-complus",
  install: "install-package",
  start: "start-complus",
  activate: "activate-engine",
  checkResponse: "check-response",
  readLog: "read-install-log",
  status: "installer-status",
} as const satisfies Record<string, ScriptName>;
type ReplyKey = keyof typeof scriptOfKey;

/**
 * The host's state to start with (MPS01 as the demo has it: KB952089's file at 13.3.600.0, in
 * rotation), and for any script the answers to its calls in order; a call with no answer left is
 * answered by the host itself, as a real one would.
 */
export type FakeHostOptions = Partial<HostState> & { readonly [K in ReplyKey]?: readonly Reply[] };

export const oldVersion = "13.3.600.0";

/** The lines a host prints, as Windows writes them. */
export function output(lines: readonly string[], exitCode = 0, stderr = ""): ScriptResult {
  return { stdout: lines.map((l) => `${l}\r\n`).join(""), stderr, exitCode };
}

/** A script whose trap caught an error. */
export function failedWith(message: string, exitCode = 1): ScriptResult {
  return output([`error=${message}`, `exit=${exitCode}`], exitCode);
}

function param(call: RunCall, name: string): string {
  const value = call.params[name];
  if (typeof value !== "string") throw new Error(`test setup: parameter ${name} of ${call.script} is not a string`);
  return value;
}

function fileNameOf(windowsPath: string): string {
  return windowsPath.slice(windowsPath.lastIndexOf("\\") + 1);
}

/** The last lines of the verbose log of a failed install, as the fake host writes it. */
export function failedInstallLog(packageFile: string, code: number): string[] {
  return [
    `MSI (s) (A4:B8) [10:20:31:123]: Product: ${packageFile.replace(/\.msi$/i, "")} -- Installation failed.`,
    `MSI (s) (A4:B8) [10:20:31:125]: MainEngineThread is returning ${code}`,
  ];
}

/** msiexec ends with `code` and changes no file, whatever the code says (0 included); it writes its log. */
export function msiexec(code: number): ComputedReply {
  return (call, host) => {
    const log = param(call, "LogPath");
    if (code !== 0) host.logs.set(log, failedInstallLog(fileNameOf(param(call, "PackagePath")), code));
    return output([`msiexec.exit=${code}`, `log=${log}`, `exit=${code}`], code);
  };
}

/** The host's own answer, for a call in the middle of scripted ones. */
export const asHost: ComputedReply = (call, host) => host.answer(call);

/** stage-package stores the package, and reports `sha256` instead of the bytes' hash. */
export function stageReports(sha256: string): ComputedReply {
  return (call, host) => {
    const { stdout } = host.answer(call);
    return { stdout: stdout.replace(/^sha256=[0-9a-f]+/m, `sha256=${sha256}`), stderr: "", exitCode: 0 };
  };
}

/**
 * A fake engine for the runbook: it records every script it is asked to run and answers each by
 * name, from the replies a test scripted or else as a host would (the probe reports its files,
 * staging stores the bytes and hashes them, msiexec installs what a staged simulated package
 * declares, the engine and COM+ scripts change its state).
 */
export class FakeHost implements ScriptRunner {
  readonly calls: RunCall[] = [];
  readonly state: HostState;
  /** Staged packages by their path on the host. */
  readonly staged = new Map<string, Buffer>();
  /** Install logs by their path on the host. */
  readonly logs = new Map<string, readonly string[]>();
  private readonly replies: Map<ScriptName, Reply[]>;

  constructor(options: FakeHostOptions = {}) {
    this.state = {
      files: { ...(options.files ?? { [kbFile.name]: oldVersion }) },
      engine: options.engine ?? "active",
      complus: options.complus ?? "running",
      restart: options.restart ?? "none",
      otherRenames: [...(options.otherRenames ?? [])],
      installing: options.installing ?? false,
      responding: options.responding ?? true,
    };
    this.replies = new Map(
      (Object.keys(scriptOfKey) as ReplyKey[]).map((key) => [scriptOfKey[key], [...(options[key] ?? [])]]),
    );
  }

  async run(script: HostScript, timeoutMs: number): Promise<ScriptResult> {
    const call: RunCall = { script: script.name, params: script.params, stdin: script.stdin, timeoutMs };
    this.calls.push(call);
    const reply = this.replies.get(script.name)?.shift() ?? asHost;
    if (reply instanceof Error) throw reply;
    return typeof reply === "function" ? reply(call, this) : reply;
  }

  /** The names of the scripts run, in order. */
  get scripts(): ScriptName[] {
    return this.calls.map((c) => c.script);
  }

  callsTo(name: ScriptName): RunCall[] {
    return this.calls.filter((c) => c.script === name);
  }

  /** What the host itself answers to a call, changing its state as the script would. */
  answer(call: RunCall): ScriptResult {
    const s = this.state;
    switch (call.script) {
      case "probe": {
        const paths = call.params["FilePaths"];
        if (!Array.isArray(paths)) throw new Error("test setup: the probe got no FilePaths list");
        const versions = new Map(Object.entries(s.files).map(([name, v]) => [name.toLowerCase(), v]));
        const first = (paths as readonly string[])[0] ?? "C:\\x.dll";
        const renames = [
          ...s.otherRenames,
          ...(s.restart === "pending"
            ? [`\\??\\${first.slice(0, first.lastIndexOf("\\"))}\\MSI4F2A.tmp`, `!\\??\\${first}`]
            : []),
        ];
        return output([
          ...paths.map((path: string) => {
            const name = fileNameOf(path);
            return `file:${name}=${versions.get(name.toLowerCase()) ?? "missing"}`;
          }),
          `engine=${s.engine}`,
          `complus.instances=${s.complus === "running" ? 1 : 0}`,
          `complus=${s.complus}`,
          ...(s.complus === "running" ? [`complus.responding=${s.responding ? "yes" : "no"}`] : []),
          ...renames.map((entry, index) => `rename.${index}=${entry}`),
          `renames=${renames.length}`,
          "exit=0",
        ]);
      }
      case "stage-package": {
        const bytes = Buffer.from(call.stdin ?? "", "base64");
        const path = hostPath(param(call, "StagingDir"), param(call, "PackageFile"));
        this.staged.set(path, bytes);
        const sha256 = createHash("sha256").update(bytes).digest("hex");
        return output([`sha256=${sha256}`, `bytes=${bytes.length}`, `path=${path}`, "exit=0"]);
      }
      case "deactivate-engine":
        s.engine = "deactivated";
        return output(["engine=deactivated", "exit=0"]);
      case "shutdown-complus":
        s.complus = "stopped";
        return output(["complus.instances=0", "complus=stopped", "exit=0"]);
      case "install-package": {
        const bytes = this.staged.get(param(call, "PackagePath"));
        const manifest = bytes === undefined ? undefined : readSimulatedPackage(bytes);
        if (manifest === undefined) return msiexec(1619)(call, this);
        Object.assign(s.files, manifest.installs);
        return output(["msiexec.exit=0", `log=${param(call, "LogPath")}`, "exit=0"]);
      }
      case "start-complus":
        s.complus = "running";
        return output(["complus.instances=1", "complus=running", "exit=0"]);
      case "activate-engine":
        s.engine = "active";
        return output(["engine=active", "exit=0"]);
      case "check-response":
        if (s.complus !== "running") return failedWith(`${param(call, "ComPlusApplication")} has no running instance`);
        return output(["complus.instances=1", `complus.responding=${s.responding ? "yes" : "no"}`, "exit=0"]);
      case "read-install-log": {
        const log = param(call, "LogPath");
        const lines = this.logs.get(log);
        if (lines === undefined) return output([`error=no install log at ${log}`, "exit=0"]);
        return output([...lines.slice(-Number(param(call, "Lines"))).map((l) => `log:${l}`), "exit=0"]);
      }
      case "installer-status": {
        if (s.installing) return output(["installer=running", "exit=0"]);
        const lines = this.logs.get(param(call, "LogPath"));
        const result = (lines ?? [])
          .map((l) => /MainEngineThread is returning (-?[0-9]+)/.exec(l)?.[1])
          .filter((r) => r !== undefined)
          .pop();
        return output([
          "installer=idle",
          lines === undefined ? "log=absent" : "log=present",
          `log.result=${result ?? "none"}`,
          "exit=0",
        ]);
      }
    }
  }
}

/** A fake engine; see FakeHost. */
export function fakeHost(options: FakeHostOptions = {}): FakeHost {
  return new FakeHost(options);
}
