/**
 * Quoting for values the product puts into PowerShell scripts. PowerShell treats the typographic
 * single quotes (U+2018..U+201B) as quote characters too, so each of them is doubled like "'".
 */
const singleQuotes = /['\u2018\u2019\u201A\u201B]/g;

/** A PowerShell single-quoted string literal: nothing inside it is expanded or executed. */
export function quotePowerShell(value: string): string {
  if (/[\0\r\n]/.test(value))
    throw new Error(`refusing to quote a value with a control character: ${JSON.stringify(value)}`);
  return `'${value.replace(singleQuotes, (q) => q + q)}'`;
}

/** Reverses quotePowerShell for one literal, or returns undefined if the text is not exactly one. */
export function unquotePowerShell(literal: string): string | undefined {
  const match = /^'((?:[^'\u2018\u2019\u201A\u201B]|['\u2018\u2019\u201A\u201B]{2})*)'$/.exec(literal);
  if (!match) return undefined;
  return match[1]!.replace(/(['\u2018\u2019\u201A\u201B])\1/g, "$1");
}

/** `-EncodedCommand` takes the script as base64 of its UTF-16LE bytes (supported since PowerShell 2.0). */
export function encodeCommand(script: string): string {
  return Buffer.from(script, "utf16le").toString("base64");
}

export function decodeCommand(encoded: string): string {
  return Buffer.from(encoded, "base64").toString("utf16le");
}

/** The one command line shape the product ever sends to a host. */
export const powershellPrefix =
  "powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ";

export function powershellCommandLine(script: string): string {
  return powershellPrefix + encodeCommand(script);
}
