import { leaseHeldError } from "../components/host/answers";
import { relayFailedExitCode, relayUnreachableExitCode } from "../components/host/scriptAssembly";
import type { ScriptName } from "../components/host/scriptNames";
import type { ParsedCommand, ParsedScript } from "./commandLine";
import { HostScriptError, sha256Hex, type EngineHost } from "./engineHost";
import type { StepDraft } from "./stepLog";
import { fileNameOf } from "./windowsPath";

/** What the SSH session sees: an answer, silence, or a dropped connection. */
export type HostResponse =
  | { readonly kind: "answer"; readonly stdout: readonly string[]; readonly exitCode: number }
  | { readonly kind: "hang" }
  | { readonly kind: "drop" }
  /** The script's answer begins and never ends: lines stream until the client closes the channel. */
  | { readonly kind: "flood"; readonly exitCode: number };

export interface ScriptRun {
  readonly response: HostResponse;
  /** How long the script ran before it answered (a background job waited for to its timeout). */
  readonly answerAfterMs?: number;
  /** The script's step, then any symptom it caused. */
  readonly steps: readonly StepDraft[];
}

/**
 * install-package in two halves. Windows Installer runs an install on its own time, whatever
 * becomes of the session that started it: `now` is what the session sees at once (an answer when
 * no install started, or the session dropped by a fault), `finish` the install completing later,
 * with the answer for the session if it is still there.
 */
export interface InstallRun {
  readonly now?: ScriptRun;
  readonly finish?: () => ScriptRun;
}

/** How the session on a relay logged on: a password carries the account's credentials to a second hop; a key does not. */
export type Logon = "password" | "publickey";

type DirectCommand = Extract<ParsedCommand, { kind: "script" }>;
type RelayCommand = Extract<ParsedCommand, { kind: "relay" }>;

interface Execution {
  readonly stdout: readonly string[];
  readonly exitCode: number;
  readonly symptoms: readonly string[];
  /** Time the script spent waiting on the host (Wait-Job -Timeout running out). */
  readonly waitedMs: number;
}

const hangDetail = "fault hangOnScript: accepted and never answered";
const dropDuringDetail = "fault dropConnectionDuring: connection destroyed while the script ran; it did not complete";
const dropDuringInstallDetail =
  "fault dropConnectionDuring: connection destroyed while msiexec ran; Windows Installer carries on with the install";
const dropAfterDetail =
  "fault dropConnectionAfter: the script took effect; connection destroyed before its exit status";
const floodDetail = "fault floodAnswer: the script took effect, then its answer streams without end";
const remoteErrorDetail = "fault remoteScriptError: the engine raised an error outside the script's trap";

/** Runs a script sent straight to an engine over SSH. */
export function runDirectScript(host: EngineHost, command: DirectCommand): ScriptRun {
  const { script, payload } = command;
  const step = { host: host.name, script: script.name };
  const faults = host.faults;
  if (faults.hangOnScript === script.name)
    return { response: { kind: "hang" }, steps: [{ ...step, detail: hangDetail }] };
  if (faults.dropConnectionDuring === script.name)
    return { response: { kind: "drop" }, steps: [{ ...step, detail: dropDuringDetail }] };

  const execution = execute(host, script, payload);
  return directAnswer(host, script.name, execution);
}

function directAnswer(host: EngineHost, script: ScriptName, execution: Execution, detail?: string): ScriptRun {
  const step = { host: host.name, script, ...(detail === undefined ? {} : { detail }) };
  const symptoms = symptomSteps(host.name, undefined, script, execution);
  if (host.faults.floodAnswer === script) {
    return {
      response: { kind: "flood", exitCode: execution.exitCode },
      steps: [{ ...step, exitCode: execution.exitCode, detail: floodDetail }, ...symptoms],
    };
  }
  if (host.faults.dropConnectionAfter === script) {
    return {
      response: { kind: "drop" },
      steps: [{ ...step, exitCode: execution.exitCode, detail: dropAfterDetail }, ...symptoms],
    };
  }
  return {
    response: { kind: "answer", stdout: execution.stdout, exitCode: execution.exitCode },
    steps: [{ ...step, exitCode: execution.exitCode }, ...symptoms],
    ...waited(execution),
  };
}

function waited(execution: Execution): Pick<ScriptRun, "answerAfterMs"> {
  return execution.waitedMs > 0 ? { answerAfterMs: execution.waitedMs } : {};
}

/** install-package sent straight to an engine: msiexec starts now, and finishes after its run time. */
export function startDirectInstall(host: EngineHost, command: DirectCommand): InstallRun {
  const { script } = command;
  const step = { host: host.name, script: script.name };
  if (host.faults.hangOnScript === script.name) {
    return { now: { response: { kind: "hang" }, steps: [{ ...step, detail: hangDetail }] } };
  }
  const refused = leaseRefusal(host, script);
  if (refused !== undefined) return { now: directAnswer(host, script.name, refused) };
  const started = beginInstall(host, script);
  if (started.kind === "answered") return { now: directAnswer(host, script.name, started.execution) };
  if (host.faults.dropConnectionDuring === script.name) {
    return {
      now: { response: { kind: "drop" }, steps: [{ ...step, detail: dropDuringInstallDetail }] },
      finish: () => finishedUnseen(host, undefined, script, "the interrupted install"),
    };
  }
  return { finish: () => directAnswer(host, script.name, finishInstall(host, script)) };
}

/** The step of an install that finished with nobody to tell. */
function finishedUnseen(host: EngineHost, via: string | undefined, script: ParsedScript, what: string): ScriptRun {
  const execution = finishInstall(host, script);
  return {
    response: { kind: "drop" },
    steps: [
      {
        host: host.name,
        ...(via === undefined ? {} : { via }),
        script: script.name,
        exitCode: execution.exitCode,
        detail: `Windows Installer finished ${what} on its own: msiexec exit code ${execution.exitCode}`,
      },
    ],
  };
}

/** The answer of an install whose session went away before it finished: recorded, never delivered. */
export function unseen(run: ScriptRun, host: EngineHost, via: string | undefined): ScriptRun {
  const exitCode = run.response.kind === "answer" ? run.response.exitCode : undefined;
  return {
    response: { kind: "drop" },
    steps: [
      {
        host: host.name,
        ...(via === undefined ? {} : { via }),
        script: "install-package",
        ...(exitCode === undefined ? {} : { exitCode }),
        detail: `the client disconnected while msiexec ran; Windows Installer finished the install on its own${exitCode === undefined ? "" : `: msiexec exit code ${exitCode}`}`,
      },
    ],
  };
}

interface RelayContext {
  readonly relayName: string;
  readonly command: RelayCommand;
  readonly engines: readonly EngineHost[];
  readonly logon: Logon;
}

function relayStep(context: RelayContext, host: EngineHost | undefined): StepDraft {
  return { host: host?.name ?? context.command.engine, via: context.relayName, script: context.command.inner.name };
}

function relayFailure(
  step: StepDraft,
  key: "relay.winrm" | "relay.error",
  message: string,
  extra: Partial<StepDraft> = {},
): ScriptRun {
  const exitCode = key === "relay.winrm" ? relayUnreachableExitCode : relayFailedExitCode;
  return {
    response: { kind: "answer", stdout: [`${key}=${message}`, `exit=${exitCode}`], exitCode },
    steps: [{ ...step, exitCode, detail: message, ...extra }],
  };
}

function connectionLost(engine: string): string {
  return `Processing data from remote server ${engine} failed with the following error message: The WinRM client cannot process the request because the connection to the server was lost. For more information, see the about_Remote_Troubleshooting Help topic.`;
}

/**
 * What Invoke-Command meets before the engine runs anything: a name WinRM cannot resolve, an
 * engine it cannot reach, a logon that cannot make the second hop. Undefined when it connects.
 */
function relayConnectFailure(context: RelayContext, host: EngineHost | undefined): ScriptRun | undefined {
  const engine = context.command.engine;
  const step = relayStep(context, host);
  if (host === undefined) {
    return relayFailure(
      step,
      "relay.winrm",
      `Connecting to remote server ${engine} failed with the following error message : WinRM cannot process the request because the computer name ${engine} cannot be resolved. For more information, see the about_Remote_Troubleshooting Help topic.`,
    );
  }
  if (host.faults.winrmUnreachable) {
    return relayFailure(
      step,
      "relay.winrm",
      `Connecting to remote server ${engine} failed with the following error message : WinRM cannot complete the operation. Verify that the specified computer name is valid, that the computer is accessible over the network, and that a firewall exception for the WinRM service is enabled and allows access from this computer. For more information, see the about_Remote_Troubleshooting Help topic.`,
    );
  }
  if (context.logon === "publickey") {
    return relayFailure(
      step,
      "relay.winrm",
      `Connecting to remote server ${engine} failed with the following error message : Access is denied. For more information, see the about_Remote_Troubleshooting Help topic.`,
      {
        detail: `second hop: the relay session logged on with a key and carries no credentials for WinRM: Access is denied`,
      },
    );
  }
  if (host.faults.remoteScriptError === context.command.inner.name) {
    return relayFailure(
      step,
      "relay.error",
      `The WSMan provider host process did not return a proper response. A provider in the host process may have behaved improperly.`,
      { detail: remoteErrorDetail },
    );
  }
  return undefined;
}

/**
 * Runs a relay script on a management host: Invoke-Command to the engine over WinRM, the engine's
 * lines passed through, and the exit code taken from the last `exit=` line (1 when there is none).
 */
export function runRelayScript(
  relayName: string,
  command: RelayCommand,
  engines: readonly EngineHost[],
  logon: Logon,
): ScriptRun {
  const context: RelayContext = { relayName, command, engines, logon };
  const script = command.inner.name;
  const host = engines.find((engine) => engine.answersTo(command.engine));
  const failed = relayConnectFailure(context, host);
  if (failed !== undefined || host === undefined) return failed!;
  const step = relayStep(context, host);
  const faults = host.faults;
  if (faults.hangOnScript === script) return { response: { kind: "hang" }, steps: [{ ...step, detail: hangDetail }] };
  if (faults.dropConnectionDuring === script) {
    const lost = connectionLost(command.engine);
    return relayFailure(step, "relay.winrm", lost, { detail: `${dropDuringDetail}: ${lost}` });
  }
  return relayAnswer(context, host, execute(host, command.inner, command.payload));
}

function relayAnswer(context: RelayContext, host: EngineHost, execution: Execution): ScriptRun {
  const script = context.command.inner.name;
  const step = relayStep(context, host);
  const symptoms = symptomSteps(host.name, context.relayName, script, execution);
  if (host.faults.floodAnswer === script) {
    // Invoke-Command passes each line on as it arrives: the relay's answer streams as the engine's does.
    return {
      response: { kind: "flood", exitCode: execution.exitCode },
      steps: [{ ...step, exitCode: execution.exitCode, detail: floodDetail }, ...symptoms],
    };
  }
  if (host.faults.dropConnectionAfter === script) {
    const lost = connectionLost(context.command.engine);
    const failure = relayFailure(step, "relay.winrm", lost, { detail: `${dropAfterDetail}: ${lost}` });
    return { response: failure.response, steps: [...failure.steps, ...symptoms] };
  }
  const exitCode = lastExitLine(execution.stdout) ?? 1;
  return {
    response: { kind: "answer", stdout: execution.stdout, exitCode },
    steps: [{ ...step, exitCode }, ...symptoms],
    ...waited(execution),
  };
}

/** install-package through a relay: msiexec starts on the engine now and finishes after its run time. */
export function startRelayInstall(
  relayName: string,
  command: RelayCommand,
  engines: readonly EngineHost[],
  logon: Logon,
): InstallRun {
  const context: RelayContext = { relayName, command, engines, logon };
  const host = engines.find((engine) => engine.answersTo(command.engine));
  const failed = relayConnectFailure(context, host);
  if (failed !== undefined || host === undefined) return { now: failed! };
  const step = relayStep(context, host);
  const script = command.inner;
  if (host.faults.hangOnScript === script.name) {
    return { now: { response: { kind: "hang" }, steps: [{ ...step, detail: hangDetail }] } };
  }
  const refused = leaseRefusal(host, script);
  if (refused !== undefined) return { now: relayAnswer(context, host, refused) };
  const started = beginInstall(host, script);
  if (started.kind === "answered") return { now: relayAnswer(context, host, started.execution) };
  if (host.faults.dropConnectionDuring === script.name) {
    const lost = connectionLost(command.engine);
    return {
      now: relayFailure(step, "relay.winrm", lost, { detail: `${dropDuringInstallDetail}: ${lost}` }),
      finish: () => finishedUnseen(host, relayName, script, "the interrupted install"),
    };
  }
  return { finish: () => relayAnswer(context, host, finishInstall(host, script)) };
}

function symptomSteps(host: string, via: string | undefined, script: ScriptName, execution: Execution): StepDraft[] {
  return execution.symptoms.map((symptom) => ({
    host,
    ...(via === undefined ? {} : { via }),
    script: "symptom",
    detail: `${script}: ${symptom}`,
  }));
}

/** The relay's `"$line" -match '^exit=(-?[0-9]+)$'` loop: -match ignores case, the last match wins. */
function lastExitLine(lines: readonly string[]): number | undefined {
  let code: number | undefined;
  for (const line of lines) {
    const match = /^exit=(-?[0-9]+)$/i.exec(line);
    if (match?.[1] !== undefined) code = Number(match[1]);
  }
  return code;
}

interface Run {
  readonly host: EngineHost;
  readonly script: ParsedScript;
  readonly payload: string;
  readonly stdout: string[];
  readonly symptoms: string[];
  /** Milliseconds the script waited on the host, one entry per wait. */
  readonly waits: number[];
}

/** The body of a script on the engine, with its trap: an error prints `error=` and `exit=1`. */
function execute(host: EngineHost, script: ParsedScript, payload: string): Execution {
  return trapped(host, script, (run) => bodies[script.name](run), payload);
}

function trapped(host: EngineHost, script: ParsedScript, body: (run: Run) => number, payload = ""): Execution {
  const stdout: string[] = [];
  const symptoms: string[] = [];
  const waits: number[] = [];
  let exitCode = 0;
  try {
    exitCode = body({ host, script, payload, stdout, symptoms, waits });
  } catch (error: unknown) {
    if (!(error instanceof HostScriptError)) throw error;
    stdout.push(`error=${error.message.replace(/[\r\n]+/g, " ")}`, "exit=1");
    exitCode = 1;
  }
  const answer = script.name === "probe" ? probeAnswer(host, stdout) : stdout;
  return { stdout: answer, exitCode, symptoms, waitedMs: waits.reduce((sum, ms) => sum + ms, 0) };
}

/** msiexec starting: 1618 at once while another install runs, or an install under way. */
function beginInstall(
  host: EngineHost,
  script: ParsedScript,
): { readonly kind: "answered"; readonly execution: Execution } | { readonly kind: "begun" } {
  const logPath = text(script, "LogPath");
  const begun = host.beginInstall(text(script, "PackagePath"), logPath);
  if (begun.kind === "begun") return { kind: "begun" };
  return { kind: "answered", execution: trapped(host, script, (run) => installAnswer(run, begun.exitCode)) };
}

function finishInstall(host: EngineHost, script: ParsedScript): Execution {
  return trapped(host, script, (run) => installAnswer(run, host.finishInstall()));
}

function installAnswer({ script, stdout }: Run, code: number): number {
  stdout.push(`msiexec.exit=${code}`, `log=${text(script, "LogPath")}`, `exit=${code}`);
  return code;
}

/**
 * What a statement that calls `call` prints: nothing when the script discards the value
 * (`[void]`, `$null =`, `| Out-Null`) or assigns it, the value's text otherwise, as PowerShell
 * writes every expression statement's value to the output stream.
 */
export function uncapturedOutput(scriptText: string, call: string, value: string): readonly string[] {
  const statement = scriptText.split("\n").find((line) => line.includes(call));
  if (statement === undefined) return [];
  const trimmed = statement.trim();
  const discarded =
    trimmed.startsWith("[void]") || /^\$[A-Za-z_][A-Za-z0-9_]* = /.test(trimmed) || /\|\s*Out-Null$/.test(trimmed);
  return discarded ? [] : [value];
}

/**
 * Enter-MaintenanceLease (components/host/powershell/lease.ps1): under the host's lease mutex,
 * which a single-threaded simulator holds by running one script at a time. Refuses, with the error
 * naming the holder, when another run holds the lease and the script was not told to take that
 * run's over.
 */
function setLease({ host, script }: Pick<Run, "host" | "script">): void {
  const run = text(script, "LeaseRun");
  if (run === "") return;
  const holder = host.leaseValue("Run");
  if (holder !== undefined && holder !== run && holder !== text(script, "LeaseTakeover")) {
    throw new HostScriptError(`${leaseHeldError}${holder}`);
  }
  for (const field of list(script, "Lease")) {
    const match = /^([A-Za-z]+)=(.*)$/i.exec(field);
    if (match !== null) host.setLeaseValue(match[1]!, match[2]!);
  }
}

/** Remove-MaintenanceLease: the key goes only when it is this run's. */
function removeLease({ host, script }: Pick<Run, "host" | "script">): void {
  const run = text(script, "LeaseRun");
  if (run !== "" && host.leaseValue("Run") === run) host.deleteLease();
}

/** A lease the install could not take: msiexec never starts, and the script answers with the refusal. */
function leaseRefusal(host: EngineHost, script: ParsedScript): Execution | undefined {
  const execution = trapped(host, script, (run) => {
    setLease(run);
    return 0;
  });
  return execution.exitCode === 0 ? undefined : execution;
}

/**
 * `$catalog.ShutdownApplication(…)` or `StartApplication`, then the application's instances, as
 * the script counts and prints them; an effect of the change on the KB's symptom is recorded.
 */
function changeComPlus(
  { host, script, stdout, symptoms }: Run,
  call: "ShutdownApplication" | "StartApplication",
): { application: string; count: number } {
  const application = text(script, "ComPlusApplication");
  const symptom = call === "StartApplication" ? host.startComPlus(application) : host.shutdownComPlus(application);
  if (symptom !== undefined) symptoms.push(symptom);
  const count = host.comPlusInstanceCount(application);
  stdout.push(`complus.instances=${count}`);
  return { application, count };
}

/**
 * `$engine.Activate($EngineName)` or `Deactivate`, then IsActive to check it took: the engine's
 * state line, or the script's error when the engine did not change.
 */
function switchEngine({ host, script, stdout }: Run, call: "Activate" | "Deactivate"): void {
  const engineName = text(script, "EngineName");
  const activating = call === "Activate";
  host.openEngineControl(text(script, "EngineControlProgId"));
  const returned = activating ? host.activate(engineName) : host.deactivate(engineName);
  stdout.push(...uncapturedOutput(script.text, `$engine.${call}(`, powershellBoolean(returned)));
  if (host.isActive(engineName) !== activating) {
    throw new HostScriptError(`engine ${engineName} ${activating ? "is not" : "is still"} active after ${call}`);
  }
  stdout.push(activating ? "engine=active" : "engine=deactivated");
}

const bodies: Readonly<Record<ScriptName, (run: Run) => number>> = {
  probe(run) {
    const { host, script, stdout } = run;
    for (const path of list(script, "FilePaths")) {
      stdout.push(`file:${fileNameOf(path)}=${host.fileVersion(path) ?? "missing"}`);
    }
    host.openEngineControl(text(script, "EngineControlProgId"));
    stdout.push(host.isActive(text(script, "EngineName")) ? "engine=active" : "engine=deactivated");
    const count = host.comPlusInstanceCount(text(script, "ComPlusApplication"));
    stdout.push(`complus.instances=${count}`, count > 0 ? "complus=running" : "complus=stopped");
    if (count > 0) stdout.push(`complus.responding=${componentResponse(run)}`);
    const entries = host.pendingRenameEntries() ?? [];
    entries.forEach((entry, index) => stdout.push(`rename.${index}=${entry}`));
    stdout.push(`renames=${entries.length}`);
    for (const [name, value] of host.leaseValues() ?? []) stdout.push(`lease.${name}=${value}`);
    return success(stdout);
  },

  "stage-package"({ host, script, payload, stdout }) {
    const bytes = fromBase64String(payload);
    const { path, stored } = host.stagePackage(text(script, "StagingDir"), text(script, "PackageFile"), bytes);
    stdout.push(`sha256=${sha256Hex(stored)}`, `bytes=${bytes.length}`, `path=${path}`);
    return success(stdout);
  },

  "deactivate-engine"(run) {
    setLease(run);
    switchEngine(run, "Deactivate");
    return success(run.stdout);
  },

  "shutdown-complus"(run) {
    // [int]$TimeoutSeconds is converted when the script block's parameters are bound, before its body.
    toInt32(text(run.script, "TimeoutSeconds"));
    setLease(run);
    const { application, count } = changeComPlus(run, "ShutdownApplication");
    if (count > 0) {
      run.stdout.push(`error=${application} still has ${count} running instance(s)`, "exit=2");
      return 2;
    }
    run.stdout.push("complus=stopped");
    return success(run.stdout);
  },

  "install-package"(run) {
    setLease(run);
    return installAnswer(run, run.host.install(text(run.script, "PackagePath"), text(run.script, "LogPath")));
  },

  "start-complus"(run) {
    setLease(run);
    const { application, count } = changeComPlus(run, "StartApplication");
    if (count === 0) throw new HostScriptError(`${application} has no running instance after StartApplication`);
    run.stdout.push("complus=running");
    return success(run.stdout);
  },

  "activate-engine"(run) {
    setLease(run);
    switchEngine(run, "Activate");
    removeLease(run);
    return success(run.stdout);
  },

  "check-response"(run) {
    const { host, script, stdout } = run;
    const application = text(script, "ComPlusApplication");
    const count = host.comPlusInstanceCount(application);
    stdout.push(`complus.instances=${count}`);
    if (count === 0) throw new HostScriptError(`${application} has no running instance`);
    stdout.push(`complus.responding=${componentResponse(run)}`);
    return success(stdout);
  },

  "read-install-log"({ host, script, stdout }) {
    const logPath = text(script, "LogPath");
    const lines = host.installLog(logPath);
    if (lines === undefined) {
      stdout.push(`error=no install log at ${logPath}`);
    } else {
      // `$from = $all.Length - [int]$Lines`, then every line from there: none for a negative count.
      const from = lines.length - toInt32(text(script, "Lines"));
      stdout.push(...lines.filter((_, index) => index >= from).map((line) => `log:${line}`));
    }
    return success(stdout);
  },

  "installer-status"({ host, script, stdout }) {
    if (host.isInstalling()) {
      stdout.push("installer=running");
      return success(stdout);
    }
    stdout.push("installer=idle");
    const lines = host.installLog(text(script, "LogPath"));
    let result = "none";
    for (const line of lines ?? []) {
      const match = /MainEngineThread is returning (-?[0-9]+)/.exec(line);
      if (match?.[1] !== undefined) result = match[1];
    }
    stdout.push(lines === undefined ? "log=absent" : "log=present", `log.result=${result}`);
    return success(stdout);
  },
};

/**
 * `Test-ComPlusResponse`: the component's creation in a background job finishes at once, or, on
 * an engine that shows the symptom, never: Wait-Job returns when ResponseTimeoutSeconds run out.
 */
function componentResponse({ host, script, waits }: Run): "yes" | "no" {
  const timeoutSeconds = toInt32(text(script, "ResponseTimeoutSeconds"));
  if (host.componentResponds(text(script, "ComPlusApplication"))) return "yes";
  waits.push(timeoutSeconds * 1000);
  return "no";
}

/** How PowerShell writes a Boolean value on its own line. */
function powershellBoolean(value: boolean): string {
  return value ? "True" : "False";
}

function success(stdout: string[]): number {
  stdout.push("exit=0");
  return 0;
}

/** What the probeAnswer "garbage" fault prints: a CLIXML error record and lines no probe prints, then exit=0. */
export const garbageProbe: readonly string[] = [
  "#< CLIXML",
  '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">Mapsproccntl.dll_x000D__x000A_</S></Objs>',
  "file:Mapsproccntl.dll",
  "engine=",
  "complus.instances=several",
  "renames=unknown",
  "exit=0",
];

/** The probeAnswer fault: what a broken probe prints instead of its answer. */
function probeAnswer(host: EngineHost, stdout: readonly string[]): readonly string[] {
  switch (host.faults.probeAnswer) {
    case undefined:
      return stdout;
    case "garbage":
      return garbageProbe;
    case "empty":
      return [];
    case "bad-version":
      return stdout.map((line) => line.replace(/^(file:[^=]+=\d+\.\d+\.\d+)\.\d+$/, "$1"));
  }
}

function text(script: ParsedScript, name: string): string {
  const value = script.params[name];
  if (typeof value !== "string") throw new Error(`script ${script.name} has no string parameter ${name}`);
  return value;
}

function list(script: ParsedScript, name: string): readonly string[] {
  const value = script.params[name];
  if (value === undefined || typeof value === "string")
    throw new Error(`script ${script.name} has no list parameter ${name}`);
  return value;
}

/** PowerShell's `[int]` cast of a string. */
function toInt32(value: string): number {
  const trimmed = value.trim();
  const number = /^[+-]?[0-9]+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < -2147483648 || number > 2147483647) {
    throw new HostScriptError(
      `Cannot convert value "${value}" to type "System.Int32". Error: "Input string was not in a correct format."`,
    );
  }
  return number;
}

/** `[Convert]::FromBase64String`: whitespace is ignored, anything else off the alphabet is an error. */
function fromBase64String(payload: string): Buffer {
  const compact = payload.replace(/[ \t\r\n]/g, "");
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new HostScriptError(
      `Exception calling "FromBase64String" with "1" argument(s): "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters. "`,
    );
  }
  return Buffer.from(compact, "base64");
}
