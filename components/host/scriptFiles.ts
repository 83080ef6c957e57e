import { readFileSync } from "node:fs";
import { join } from "node:path";
import { scriptNames, type ScriptName } from "./scriptNames";

/**
 * The PowerShell the product runs on hosts, as files: `powershell/<step>.ps1` for each step; the
 * shared files a step includes (`common.ps1`, the error trap every step starts with; `complus.ps1`;
 * `lease.ps1`); `relay.ps1` and `bootstrap.ps1`. The folder sits beside this module in the source
 * tree, and the build copies it beside the compiled module.
 */
export const powershellDir = join(__dirname, "powershell");

/** The types a script's `param()` block may give a parameter. */
export const parameterTypes = ["string", "string[]", "int"] as const;
export type ParameterType = (typeof parameterTypes)[number];

export interface ScriptParameter {
  readonly name: string;
  readonly type: ParameterType;
}

export interface ScriptFile {
  /** The file's path, for messages. */
  readonly path: string;
  /** The file's text, as it is in the repository. */
  readonly text: string;
  /** What the product sends of it: each include replaced by the shared file, without comment or blank lines. */
  readonly sent: string;
  /** Its `param()` block, in order; empty for a file without one. */
  readonly params: readonly ScriptParameter[];
}

/** The parameter that takes what follows the script on standard input (the staged package). */
export const payloadParameter = "Payload";

const parameterLine = /^ {2}\[(string|string\[\]|int)\]\$([A-Za-z][A-Za-z0-9]*)(,?)$/;

/**
 * The `param()` block of a file: a line `param(`, one line per parameter (`  [type]$Name,`, the
 * last without the comma), then `)`. Any other layout is refused, so what the product fills in is
 * always what the file declares.
 */
export function paramBlockOf(path: string, text: string): ScriptParameter[] {
  const lines = text.split("\n");
  const start = lines.indexOf("param(");
  if (start < 0) return [];
  const params: ScriptParameter[] = [];
  for (let index = start + 1; index < lines.length; index++) {
    const line = lines[index]!;
    if (line === ")") {
      if (params.length === 0) throw new Error(`${path}: line ${start + 1}: an empty param() block`);
      return params;
    }
    const match = parameterLine.exec(line);
    const last = lines[index + 1] === ")";
    if (match === null || (match[3] === ",") === last) {
      throw new Error(
        `${path}: line ${index + 1}: not a parameter of the form "  [type]$Name," (the last one without the comma)`,
      );
    }
    params.push({ type: match[1] as ParameterType, name: match[2]! });
  }
  throw new Error(`${path}: line ${start + 1}: the param() block does not end`);
}

/** A step's include of a shared file: `. .\\<name>.ps1`, a line of its own. */
export const includeLine = /^\. \.\\([a-z-]+\.ps1)$/;

/** The files a step may include. */
export const sharedFileNames = ["common.ps1", "complus.ps1", "lease-key.ps1", "lease.ps1"] as const;

/**
 * What is sent of a text: whole-line comments and blank lines left out (they would only lengthen
 * every script, and an echo pipe through cmd.exe carries at most 8,191 characters), each include
 * replaced by what is sent of that shared file.
 */
function sentText(path: string, text: string, shared: ReadonlyMap<string, string>): string {
  const lines = text.split("\n").flatMap((line, index) => {
    const include = includeLine.exec(line);
    if (include === null) return line.trim() === "" || line.trimStart().startsWith("#") ? [] : [line];
    const sent = shared.get(include[1]!);
    if (sent === undefined) throw new Error(`${path}: line ${index + 1}: ${include[1]} is not a shared file`);
    return sent.slice(0, -1).split("\n");
  });
  return `${lines.join("\n")}\n`;
}

function readText(file: string): { path: string; text: string } {
  const path = join(powershellDir, file);
  const text = readFileSync(path, "utf8");
  if (text.includes("\r")) throw new Error(`${path}: has carriage returns; the product sends line feeds only`);
  if (!text.endsWith("\n")) throw new Error(`${path}: does not end with a line feed`);
  return { path, text };
}

/** The shared files, each as sent; a shared file may include one listed before it. */
const sharedSent: ReadonlyMap<string, string> = sharedFileNames.reduce((sent, file) => {
  const { path, text } = readText(file);
  return new Map([...sent, [file, sentText(path, text, sent)]]);
}, new Map<string, string>());

export function readScriptFile(file: string): ScriptFile {
  const { path, text } = readText(file);
  return { path, text, sent: sentText(path, text, sharedSent), params: paramBlockOf(path, text) };
}

/** Every step's file, by step. */
export const stepFiles: Readonly<Record<ScriptName, ScriptFile>> = Object.fromEntries(
  scriptNames.map((name) => [name, readScriptFile(`${name}.ps1`)]),
) as Record<ScriptName, ScriptFile>;

export const relayFile = readScriptFile("relay.ps1");
export const bootstrapFile = readScriptFile("bootstrap.ps1");
