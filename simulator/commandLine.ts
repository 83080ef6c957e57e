import { encodeCommand, decodeCommand, powershellPrefix, unquotePowerShell } from "../components/host/powershell";
import {
  endOfParameters,
  relayHeader,
  renderRelayScript,
  renderScript,
  scriptHeaderPrefix,
  type PayloadSource,
  type ScriptParams,
} from "../components/host/scripts";
import { scriptNames, type ScriptName } from "../components/host/scriptNames";

export interface ParsedScript {
  readonly name: ScriptName;
  readonly params: ScriptParams;
  readonly payloadSource: PayloadSource;
}

export type ParsedCommand =
  | { readonly kind: "script"; readonly script: ParsedScript }
  | { readonly kind: "relay"; readonly engine: string; readonly forwardInput: boolean; readonly inner: ParsedScript };

export type ParseResult =
  { readonly ok: true; readonly command: ParsedCommand } | { readonly ok: false; readonly reason: string };

class Rejection extends Error {}

/**
 * Accepts a command line only if the product would have sent exactly it: the parameters are read
 * back out and the script is rendered again with the product's own renderer, byte for byte.
 */
export function parseCommandLine(commandLine: string): ParseResult {
  try {
    return { ok: true, command: parseOrThrow(commandLine) };
  } catch (error: unknown) {
    if (error instanceof Rejection) return { ok: false, reason: error.message };
    throw error;
  }
}

function parseOrThrow(commandLine: string): ParsedCommand {
  if (!commandLine.startsWith(powershellPrefix))
    throw new Rejection("not a powershell.exe -EncodedCommand command line");
  const encoded = commandLine.slice(powershellPrefix.length);
  if (!isCanonicalBase64(encoded)) throw new Rejection("-EncodedCommand is not base64");
  const text = decodeCommand(encoded);
  if (encodeCommand(text) !== encoded) throw new Rejection("-EncodedCommand is not UTF-16LE text");

  if (text.startsWith(`${relayHeader}\n`)) return parseRelay(text);
  return { kind: "script", script: parseScript(text, "stdin") };
}

function parseRelay(text: string): ParsedCommand {
  const lines = text.split("\n");
  const params = readParameters(lines, 1);
  const engine = requireText(params, "Engine");
  const forwardInput = requireText(params, "ForwardInput");
  const innerEncoded = requireText(params, "InnerScript");
  if (forwardInput !== "yes" && forwardInput !== "no") throw new Rejection("relay $ForwardInput must be 'yes' or 'no'");
  if (!isCanonicalBase64(innerEncoded)) throw new Rejection("relay $InnerScript is not base64");
  const innerText = Buffer.from(innerEncoded, "base64").toString("utf8");
  if (Buffer.from(innerText, "utf8").toString("base64") !== innerEncoded)
    throw new Rejection("relay $InnerScript is not UTF-8 text");

  const inner = parseScript(innerText, "argument");
  if (rendered(() => renderRelayScript(engine, innerText, forwardInput === "yes")) !== text) {
    throw new Rejection("relay script differs from the product's relay script");
  }
  return { kind: "relay", engine, forwardInput: forwardInput === "yes", inner };
}

function parseScript(text: string, payloadSource: PayloadSource): ParsedScript {
  const lines = text.split("\n");
  const header = lines[0] ?? "";
  if (!header.startsWith(scriptHeaderPrefix)) throw new Rejection("not an mps-hotfix script (missing its header line)");
  const name = scriptNames.find((candidate) => `${scriptHeaderPrefix}${candidate}` === header);
  if (name === undefined)
    throw new Rejection(`unknown script ${JSON.stringify(header.slice(scriptHeaderPrefix.length))}`);

  const firstParameter = payloadSource === "argument" && lines[1] === "param($Payload)" ? 2 : 1;
  const params = readParameters(lines, firstParameter);
  const script: ParsedScript = { name, params, payloadSource };
  if (rendered(() => renderScript({ name, params }, payloadSource)) !== text) {
    throw new Rejection(`script ${name} differs from the product's ${name} script`);
  }
  return script;
}

const assignment = /^\$([A-Za-z][A-Za-z0-9]*) = (.*)$/;

function readParameters(lines: readonly string[], from: number): ScriptParams {
  const params: Record<string, string | readonly string[]> = {};
  for (let index = from; index < lines.length; index++) {
    const line = lines[index] ?? "";
    if (line === endOfParameters) return params;
    const match = assignment.exec(line);
    if (match === null) throw new Rejection(`line ${index + 1} is not a parameter assignment`);
    const [, name = "", value = ""] = match;
    if (Object.hasOwn(params, name)) throw new Rejection(`parameter $${name} is assigned twice`);
    params[name] = parseValue(value, name);
  }
  throw new Rejection(`missing "${endOfParameters}"`);
}

const literal = /'(?:[^'\u2018\u2019\u201A\u201B]|['\u2018\u2019\u201A\u201B]{2})*'/y;

function parseValue(text: string, name: string): string | readonly string[] {
  if (!text.startsWith("@(")) return unquoteOrReject(text, name);
  if (!text.endsWith(")")) throw new Rejection(`parameter $${name} is not a list of literals`);
  const inner = text.slice(2, -1);
  const items: string[] = [];
  let position = 0;
  while (position < inner.length) {
    if (items.length > 0) {
      if (!inner.startsWith(", ", position)) throw new Rejection(`parameter $${name} is not a list of literals`);
      position += 2;
    }
    literal.lastIndex = position;
    const match = literal.exec(inner);
    if (match === null) throw new Rejection(`parameter $${name} is not a list of literals`);
    items.push(unquoteOrReject(match[0], name));
    position = literal.lastIndex;
  }
  return items;
}

function unquoteOrReject(text: string, name: string): string {
  const value = unquotePowerShell(text);
  if (value === undefined) throw new Rejection(`parameter $${name} is not a single-quoted literal`);
  return value;
}

function requireText(params: ScriptParams, name: string): string {
  const value = params[name];
  if (typeof value !== "string") throw new Rejection(`relay parameter $${name} is missing or not a string`);
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
