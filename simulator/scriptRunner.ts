import { relayUnreachableExitCode } from "../components/host/scripts";
import type { ScriptName } from "../components/host/scriptNames";
import type { ParsedCommand, ParsedScript } from "./commandLine";
import { HostScriptError, sha256Hex, type EngineHost } from "./engineHost";
import type { StepDraft } from "./stepLog";
import { fileNameOf } from "./windowsPath";

/** What the SSH session sees: an answer, silence, or a dropped connection. */
export type HostResponse =
  | { readonly kind: "answer"; readonly stdout: readonly string[]; readonly exitCode: number }
  | { readonly kind: "hang" }
  | { readonly kind: "drop" };

export interface ScriptRun {
  readonly response: HostResponse;
  /** The script's step, then any symptom it caused. */
  readonly steps: readonly StepDraft[];
}

interface Execution {
  readonly stdout: readonly string[];
  readonly exitCode: number;
  readonly symptoms: readonly string[];
}

const hangDetail = "fault hangOnScript: accepted and never answered";
const dropDuringDetail = "fault dropConnectionDuring: connection destroyed while the script ran; it did not complete";
const dropAfterDetail =
  "fault dropConnectionAfter: the script took effect; connection destroyed before its exit status";

/** Runs a script sent straight to an engine over SSH; `stdin` is what the client wrote. */
export function runDirectScript(host: EngineHost, script: ParsedScript, stdin: string): ScriptRun {
  const step = { host: host.name, script: script.name };
  const faults = host.faults;
  if (faults.hangOnScript === script.name)
    return { response: { kind: "hang" }, steps: [{ ...step, detail: hangDetail }] };
  if (faults.dropConnectionDuring === script.name)
    return { response: { kind: "drop" }, steps: [{ ...step, detail: dropDuringDetail }] };

  const execution = execute(host, script, stdin);
  const symptoms = symptomSteps(host.name, undefined, script.name, execution);
  if (faults.dropConnectionAfter === script.name) {
    return {
      response: { kind: "drop" },
      steps: [{ ...step, exitCode: execution.exitCode, detail: dropAfterDetail }, ...symptoms],
    };
  }
  return {
    response: { kind: "answer", stdout: execution.stdout, exitCode: execution.exitCode },
    steps: [{ ...step, exitCode: execution.exitCode }, ...symptoms],
  };
}

/**
 * Runs a relay script on a management host: Invoke-Command to the engine over WinRM, the engine's
 * lines passed through, and the exit code taken from the last `exit=` line (1 when there is none).
 */
export function runRelayScript(
  relayName: string,
  command: Extract<ParsedCommand, { kind: "relay" }>,
  stdin: string,
  engines: readonly EngineHost[],
): ScriptRun {
  const script = command.inner.name;
  const host = engines.find((engine) => engine.answersTo(command.engine));
  const step = { host: host?.name ?? command.engine, via: relayName, script };
  const relayFailure = (message: string, extra: Partial<StepDraft> = {}): ScriptRun => ({
    response: {
      kind: "answer",
      stdout: [`relay.error=${message}`, `exit=${relayUnreachableExitCode}`],
      exitCode: relayUnreachableExitCode,
    },
    steps: [{ ...step, exitCode: relayUnreachableExitCode, detail: message, ...extra }],
  });

  if (host === undefined) {
    return relayFailure(
      `Connecting to remote server ${command.engine} failed with the following error message : WinRM cannot process the request because the computer name ${command.engine} cannot be resolved. For more information, see the about_Remote_Troubleshooting Help topic.`,
    );
  }
  const faults = host.faults;
  if (faults.winrmUnreachable) {
    return relayFailure(
      `Connecting to remote server ${command.engine} failed with the following error message : WinRM cannot complete the operation. Verify that the specified computer name is valid, that the computer is accessible over the network, and that a firewall exception for the WinRM service is enabled and allows access from this computer. For more information, see the about_Remote_Troubleshooting Help topic.`,
    );
  }
  const connectionLost = `Processing data from remote server ${command.engine} failed with the following error message: The WinRM client cannot process the request because the connection to the server was lost. For more information, see the about_Remote_Troubleshooting Help topic.`;
  if (faults.hangOnScript === script) return { response: { kind: "hang" }, steps: [{ ...step, detail: hangDetail }] };
  if (faults.dropConnectionDuring === script)
    return relayFailure(connectionLost, { detail: `${dropDuringDetail}: ${connectionLost}` });

  const execution = execute(host, command.inner, command.forwardInput ? stdin : null);
  const symptoms = symptomSteps(host.name, relayName, script, execution);
  if (faults.dropConnectionAfter === script) {
    const failure = relayFailure(connectionLost, { detail: `${dropAfterDetail}: ${connectionLost}` });
    return { response: failure.response, steps: [...failure.steps, ...symptoms] };
  }
  const exitCode = lastExitLine(execution.stdout) ?? 1;
  return {
    response: { kind: "answer", stdout: execution.stdout, exitCode },
    steps: [{ ...step, exitCode }, ...symptoms],
  };
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

/** The body of a script on the engine, with its trap: an error prints `error=` and `exit=1`. */
function execute(host: EngineHost, script: ParsedScript, payload: string | null): Execution {
  const stdout: string[] = [];
  const symptoms: string[] = [];
  let exitCode = 0;
  try {
    exitCode = bodies[script.name]({ host, script, payload, stdout, symptoms });
  } catch (error: unknown) {
    if (!(error instanceof HostScriptError)) throw error;
    stdout.push(`error=${error.message.replace(/[\r\n]+/g, " ")}`, "exit=1");
    exitCode = 1;
  }
  const answer = script.name === "probe" ? probeAnswer(host, stdout) : stdout;
  return { stdout: answer, exitCode, symptoms };
}

interface Run {
  readonly host: EngineHost;
  readonly script: ParsedScript;
  readonly payload: string | null;
  readonly stdout: string[];
  readonly symptoms: string[];
}

const bodies: Readonly<Record<ScriptName, (run: Run) => number>> = {
  probe({ host, script, stdout }) {
    for (const path of list(script, "FilePaths")) {
      stdout.push(`file:${fileNameOf(path)}=${host.fileVersion(path) ?? "missing"}`);
    }
    host.openEngineControl(text(script, "EngineControlProgId"));
    stdout.push(host.isActive(text(script, "EngineName")) ? "engine=active" : "engine=deactivated");
    const count = host.comPlusInstanceCount(text(script, "ComPlusApplication"));
    stdout.push(`complus.instances=${count}`, count > 0 ? "complus=running" : "complus=stopped");
    stdout.push(host.hasRestartPending() ? "restart=pending" : "restart=none");
    return success(stdout);
  },

  "stage-package"({ host, script, payload, stdout }) {
    const bytes = fromBase64String(payload);
    const { path, stored } = host.stagePackage(text(script, "StagingDir"), text(script, "PackageFile"), bytes);
    stdout.push(`sha256=${sha256Hex(stored)}`, `bytes=${bytes.length}`, `path=${path}`);
    return success(stdout);
  },

  "deactivate-engine"({ host, script, stdout }) {
    const engineName = text(script, "EngineName");
    host.openEngineControl(text(script, "EngineControlProgId"));
    host.deactivate(engineName);
    if (host.isActive(engineName)) throw new HostScriptError(`engine ${engineName} is still active after Deactivate`);
    stdout.push("engine=deactivated");
    return success(stdout);
  },

  "shutdown-complus"({ host, script, stdout, symptoms }) {
    const application = text(script, "ComPlusApplication");
    const symptom = host.shutdownComPlus(application);
    if (symptom !== undefined) symptoms.push(symptom);
    toInt32(text(script, "TimeoutSeconds"));
    const count = host.comPlusInstanceCount(application);
    stdout.push(`complus.instances=${count}`);
    if (count > 0) {
      stdout.push(`error=${application} still has ${count} running instance(s)`, "exit=2");
      return 2;
    }
    stdout.push("complus=stopped");
    return success(stdout);
  },

  "install-package"({ host, script, stdout }) {
    const logPath = text(script, "LogPath");
    const code = host.install(text(script, "PackagePath"), logPath);
    stdout.push(`msiexec.exit=${code}`, `log=${logPath}`, `exit=${code}`);
    return code;
  },

  "start-complus"({ host, script, stdout }) {
    const application = text(script, "ComPlusApplication");
    host.startComPlus(application);
    const count = host.comPlusInstanceCount(application);
    stdout.push(`complus.instances=${count}`);
    if (count === 0) throw new HostScriptError(`${application} has no running instance after StartApplication`);
    stdout.push("complus=running");
    return success(stdout);
  },

  "activate-engine"({ host, script, stdout }) {
    const engineName = text(script, "EngineName");
    host.openEngineControl(text(script, "EngineControlProgId"));
    host.activate(engineName);
    if (!host.isActive(engineName)) throw new HostScriptError(`engine ${engineName} is not active after Activate`);
    stdout.push("engine=active");
    return success(stdout);
  },

  "read-install-log"({ host, script, stdout }) {
    const logPath = text(script, "LogPath");
    const lines = host.installLog(logPath);
    if (lines === undefined) {
      stdout.push(`error=no install log at ${logPath}`);
    } else {
      const last = toInt32(text(script, "Lines"));
      if (last < 0) {
        throw new HostScriptError(
          `Cannot validate argument on parameter 'Last'. The ${last} argument is less than the minimum allowed range of 0. Supply an argument that is greater than or equal to 0 and then try the command again.`,
        );
      }
      stdout.push(...lines.slice(Math.max(lines.length - last, 0)).map((line) => `log:${line}`));
    }
    return success(stdout);
  },
};

function success(stdout: string[]): number {
  stdout.push("exit=0");
  return 0;
}

const garbageProbe = [
  "#< CLIXML",
  '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">Mapsproccntl.dll_x000D__x000A_</S></Objs>',
  "file:Mapsproccntl.dll",
  "engine=",
  "complus.instances=several",
  "restart=unknown",
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
function fromBase64String(payload: string | null): Buffer {
  if (payload === null) {
    throw new HostScriptError(
      `Exception calling "FromBase64String" with "1" argument(s): "Value cannot be null.\r\nParameter name: s"`,
    );
  }
  const compact = payload.replace(/[ \t\r\n]/g, "");
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new HostScriptError(
      `Exception calling "FromBase64String" with "1" argument(s): "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters. "`,
    );
  }
  return Buffer.from(compact, "base64");
}
