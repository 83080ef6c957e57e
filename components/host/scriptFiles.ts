import { readFileSync } from "node:fs";
import { join } from "node:path";
import { scriptNames, type ScriptName } from "./scriptNames";

/**
 * The PowerShell the product runs on hosts, as files: `powershell/<step>.ps1` for each step;
 * `common.ps1`, the error trap every step starts with, which the product sends right after each
 * step's param() line; the shared files a step includes (`complus.ps1`, `lease-key.ps1`,
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

const paramLine = /^param\((.*)\)$/;
const parameter = /^\[(string|string\[\]|int)\]\$([A-Za-z][A-Za-z0-9]*)$/;

/**
 * The `param()` block of a file: one line `param([type]$Name, [type]$Other)`, the first that starts
 * with `param(`. Any other layout is refused, so what the product fills in is always what the file
 * declares. Undefined for a file without one.
 */
export function paramBlockOf(
  path: string,
  text: string,
): { readonly line: number; readonly params: ScriptParameter[] } | undefined {
  const lines = text.split("\n");
  const index = lines.findIndex((line) => /^param\s*\(/.test(line));
  if (index < 0) return undefined;
  const block = paramLine.exec(lines[index]!);
  const declared = block?.[1]?.split(", ") ?? [];
  const params = declared.map((text) => parameter.exec(text));
  if (block === null || params.length === 0 || params.some((match) => match === null)) {
    throw new Error(
      `${path}: line ${index + 1}: not a param() block of the form "param([type]$Name, [type]$Other)" with a type among ${parameterTypes.join(", ")}`,
    );
  }
  return { line: index, params: params.map((match) => ({ type: match![1] as ParameterType, name: match![2]! })) };
}

/** A step's include of a shared file: `. .\\<name>.ps1`, a line of its own. */
export const includeLine = /^\. \.\\([a-z-]+\.ps1)$/;

/** The files a step may include. */
export const sharedFileNames = ["complus.ps1", "lease-key.ps1", "lease.ps1"] as const;

/** The file every step starts with, sent right after its param() line. */
export const commonFileName = "common.ps1";

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

const commonSent = ((): string => {
  const { path, text } = readText(commonFileName);
  return sentText(path, text, new Map());
})();

/** The shared files, each as sent; a shared file may include one listed before it. */
const sharedSent: ReadonlyMap<string, string> = sharedFileNames.reduce((sent, file) => {
  const { path, text } = readText(file);
  return new Map([...sent, [file, sentText(path, text, sent)]]);
}, new Map<string, string>());

/** A step's file as the product sends it: common.ps1 right after its param() line. */
function readStepFile(file: string): ScriptFile {
  const { path, text } = readText(file);
  const block = paramBlockOf(path, text);
  if (block === undefined) throw new Error(`${path}: a step has no param() line, which common.ps1 is sent after`);
  const lines = text.split("\n");
  const head = `${lines.slice(0, block.line + 1).join("\n")}\n`;
  const body = lines.slice(block.line + 1).join("\n");
  const sent = `${sentText(path, head, sharedSent)}${commonSent}${sentText(path, body, sharedSent)}`;
  return { path, text, sent, params: block.params };
}

/** A script that wraps a step's (the relay) or starts it (the bootstrap), as the product sends it. */
function readWrapperFile(file: string): ScriptFile {
  const { path, text } = readText(file);
  return { path, text, sent: sentText(path, text, sharedSent), params: paramBlockOf(path, text)?.params ?? [] };
}

/** Every step's file, by step. */
export const stepFiles: Readonly<Record<ScriptName, ScriptFile>> = Object.fromEntries(
  scriptNames.map((name) => [name, readStepFile(`${name}.ps1`)]),
) as Record<ScriptName, ScriptFile>;

export const relayFile = readWrapperFile("relay.ps1");
export const bootstrapFile = readWrapperFile("bootstrap.ps1");
