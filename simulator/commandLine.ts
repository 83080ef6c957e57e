import { unquotePowerShell } from "../components/host/powershell";
import {
  endOfParameters,
  parametersEnd,
  parametersStart,
  payloadEntry,
  payloadParam,
  relayHeader,
  renderRelayScript,
  renderScript,
  scriptHeaderPrefix,
  type ScriptParams,
} from "../components/host/scriptAssembly";
import { bootstrapCommandLine } from "../components/host/invocation";
import { scriptNames, type ScriptName } from "../components/host/scriptNames";
import type { DefaultShell } from "./fleetFile";

export interface ParsedScript {
  readonly name: ScriptName;
  readonly params: ScriptParams;
  /** The script's text, as the host runs it (what decides which of its statements print). */
  readonly text: string;
}

export type ParsedCommand =
  | { readonly kind: "script"; readonly script: ParsedScript; readonly payload: string }
  | {
      readonly kind: "relay";
      readonly engine: string;
      readonly inner: ParsedScript;
      readonly payload: string;
      /** The relay script's text, as the relay host runs it. */
      readonly text: string;
    };

export type ParseResult =
  { readonly ok: true; readonly command: ParsedCommand } | { readonly ok: false; readonly reason: string };

class Rejection extends Error {}

/** Why a command line is not the product's, or undefined when it is: the bootstrap, byte for byte. */
export function commandLineRejection(commandLine: string): string | undefined {
  if (commandLine === bootstrapCommandLine) return undefined;
  return "not the mps-hotfix bootstrap (powershell.exe -EncodedCommand of the script that reads its script from standard input)";
}

/**
 * Where the bootstrap's standard input comes from: the SSH channel (the bootstrap alone on the
 * command line), or cmd.exe's pipe from `echo <text>|`, which carries `<text>` and CRLF, then ends.
 */
export type CommandLineResult =
  | {
      readonly ok: true;
      readonly stdin: { readonly from: "channel" } | { readonly from: "echo"; readonly text: string };
    }
  | { readonly ok: false; readonly reason: string };

const echoPrefix = "echo ";
/** What cmd.exe would read as an operator, an expansion or a quote inside echo's text, and line ends. */
const cmdMetacharacters = /[&<>^|"%\r\n\0]/;

/**
 * The command line as the host's default shell runs it: the bootstrap, or on cmd.exe
 * `echo <text>|<bootstrap>`. cmd.exe gives echo everything between `echo ` and the pipe (trailing
 * spaces included) and skips the spaces before the command after it; echo writes the text and CRLF
 * into the pipe, the command's standard input, which ends when echo does.
 */
export function readCommandLine(commandLine: string, shell: DefaultShell): CommandLineResult {
  if (!commandLine.startsWith(echoPrefix)) {
    const refused = commandLineRejection(commandLine);
    return refused === undefined ? { ok: true, stdin: { from: "channel" } } : { ok: false, reason: refused };
  }
  if (shell !== "cmd") {
    return {
      ok: false,
      reason: "echo piped into the bootstrap is modeled for cmd.exe only; this host's default shell is PowerShell",
    };
  }
  const pipe = commandLine.indexOf("|");
  if (pipe < 0) return { ok: false, reason: "echo without a pipe: nothing reaches the bootstrap" };
  const text = commandLine.slice(echoPrefix.length, pipe);
  const special = cmdMetacharacters.exec(text);
  if (special !== null) {
    return {
      ok: false,
      reason: `echo's text holds ${JSON.stringify(special[0])}, which cmd.exe does not pass to echo as it is (it would need escaping with ^)`,
    };
  }
  if (/^\s*$|^\s*(on|off)\s*$|^\s*\/\?/i.test(text)) {
    return {
      ok: false,
      reason: `echo ${JSON.stringify(text)} shows or sets the echo setting, or its help: it prints no text`,
    };
  }
  const refused = commandLineRejection(commandLine.slice(pipe + 1).replace(/^[ \t]+/, ""));
  if (refused !== undefined) return { ok: false, reason: `after echo's pipe: ${refused}` };
  return { ok: true, stdin: { from: "echo", text: `${text}\r\n` } };
}

/**
 * Reads what the bootstrap reads from standard input: the first line, base64 of a script's UTF-8
 * text; the rest, its payload. The script is accepted only if the product would have sent exactly
 * it: the parameters are read back out and the script rendered again with the product's own
 * renderer, byte for byte.
 */
export function parseInput(stdin: string): ParseResult {
  try {
    return { ok: true, command: parseOrThrow(stdin) };
  } catch (error: unknown) {
    if (error instanceof Rejection) return { ok: false, reason: error.message };
    throw error;
  }
}

/** `[Console]::In.ReadLine()`: up to the first line feed, without it or a carriage return before it. */
function splitFirstLine(stdin: string): { first: string; rest: string } {
  const newline = stdin.indexOf("\n");
  if (newline < 0) return { first: stdin, rest: "" };
  return { first: stdin.slice(0, newline).replace(/\r$/, ""), rest: stdin.slice(newline + 1) };
}

function parseOrThrow(stdin: string): ParsedCommand {
  const { first, rest } = splitFirstLine(stdin);
  if (!isCanonicalBase64(first)) throw new Rejection("the first line of standard input is not base64");
  const text = Buffer.from(first, "base64").toString("utf8");
  if (Buffer.from(text, "utf8").toString("base64") !== first)
    throw new Rejection("the script on standard input is not UTF-8 text");
  if (text.startsWith(`${relayHeader}\n`)) return parseRelay(text, rest);
  return { kind: "script", script: parseScript(text), payload: rest };
}

function parseRelay(text: string, payload: string): ParsedCommand {
  const params = readParameters(text.split("\n"));
  const engine = requireText(params, "Engine");
  const innerEncoded = requireText(params, "InnerScript");
  if (!isCanonicalBase64(innerEncoded)) throw new Rejection("relay InnerScript is not base64");
  const innerText = Buffer.from(innerEncoded, "base64").toString("utf8");
  if (Buffer.from(innerText, "utf8").toString("base64") !== innerEncoded)
    throw new Rejection("relay InnerScript is not UTF-8 text");

  const inner = parseScript(innerText);
  if (rendered(() => renderRelayScript(engine, innerText)) !== text) {
    throw new Rejection("relay script differs from the product's relay script");
  }
  return { kind: "relay", engine, inner, payload, text };
}

function parseScript(text: string): ParsedScript {
  const lines = text.split("\n");
  const header = lines[0] ?? "";
  if (!header.startsWith(scriptHeaderPrefix)) throw new Rejection("not an mps-hotfix script (missing its header line)");
  const name = scriptNames.find((candidate) => `${scriptHeaderPrefix}${candidate}` === header);
  if (name === undefined)
    throw new Rejection(`unknown script ${JSON.stringify(header.slice(scriptHeaderPrefix.length))}`);

  const params = readParameters(lines);
  if (rendered(() => renderScript({ name, params })) !== text) {
    throw new Rejection(`script ${name} differs from the product's ${name} script`);
  }
  return { name, params, text };
}

const entry = /^ {2}([A-Za-z][A-Za-z0-9]*) = (.*)$/;

/**
 * The parameters' hashtable after the header (and `param($Payload)`, for a script that takes the
 * payload): one `  Name = literal` line each; the payload's own entry is not a parameter.
 */
function readParameters(lines: readonly string[]): ScriptParams {
  let index = lines[1] === payloadParam ? 2 : 1;
  if (lines[index] !== parametersStart) throw new Rejection(`line ${index + 1} is not "${parametersStart}"`);
  const params: Record<string, string | readonly string[]> = {};
  for (index++; index < lines.length; index++) {
    const line = lines[index] ?? "";
    if (line === parametersEnd) {
      if (lines[index + 1] !== endOfParameters) throw new Rejection(`missing "${endOfParameters}"`);
      return params;
    }
    if (line === payloadEntry) continue;
    const match = entry.exec(line);
    if (match === null) throw new Rejection(`line ${index + 1} is not a parameter`);
    const [, name = "", value = ""] = match;
    if (Object.hasOwn(params, name)) throw new Rejection(`parameter ${name} is given twice`);
    params[name] = parseValue(value, name);
  }
  throw new Rejection(`the parameters' hashtable does not end`);
}

const literal = /'(?:[^'\u2018\u2019\u201A\u201B]|['\u2018\u2019\u201A\u201B]{2})*'/y;

function parseValue(text: string, name: string): string | readonly string[] {
  if (!text.startsWith("@(")) return unquoteOrReject(text, name);
  if (!text.endsWith(")")) throw new Rejection(`parameter ${name} is not a list of literals`);
  const inner = text.slice(2, -1);
  const items: string[] = [];
  let position = 0;
  while (position < inner.length) {
    if (items.length > 0) {
      if (!inner.startsWith(", ", position)) throw new Rejection(`parameter ${name} is not a list of literals`);
      position += 2;
    }
    literal.lastIndex = position;
    const match = literal.exec(inner);
    if (match === null) throw new Rejection(`parameter ${name} is not a list of literals`);
    items.push(unquoteOrReject(match[0], name));
    position = literal.lastIndex;
  }
  return items;
}

function unquoteOrReject(text: string, name: string): string {
  const value = unquotePowerShell(text);
  if (value === undefined) throw new Rejection(`parameter ${name} is not a single-quoted literal`);
  return value;
}

function requireText(params: ScriptParams, name: string): string {
  const value = params[name];
  if (typeof value !== "string") throw new Rejection(`relay parameter ${name} is missing or not a string`);
  return value;
}

/** The product's rendering, or a rejection when the renderer refuses these parameters. */
function rendered(render: () => string): string {
  try {
    return render();
  } catch (error: unknown) {
    throw new Rejection(error instanceof Error ? error.message : String(error));
  }
}

function isCanonicalBase64(text: string): boolean {
  return text.length > 0 && text.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(text);
}
