import { z } from "zod";

/** A Windows file version: four numbers, each 0..65535 (the VS_FIXEDFILEINFO parts). */
export type FileVersion = readonly [number, number, number, number];

const part = /^(0|[1-9][0-9]{0,4})$/;

/** Parses "13.3.609.1"; returns undefined for anything that is not exactly four numbers. */
export function parseFileVersion(text: string): FileVersion | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => part.test(p))) return undefined;
  const numbers = parts.map(Number);
  if (numbers.some((n) => n > 65535)) return undefined;
  return [numbers[0]!, numbers[1]!, numbers[2]!, numbers[3]!];
}

/** Negative when a is older than b, zero when equal, positive when later. */
export function compareFileVersions(a: FileVersion, b: FileVersion): number {
  for (let i = 0; i < 4; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** The KB's "or later file attributes": a deployed version satisfies a requirement when it is not older. */
export function satisfies(deployed: string, required: string): boolean {
  const have = parseFileVersion(deployed);
  const want = parseFileVersion(required);
  return have !== undefined && want !== undefined && compareFileVersions(have, want) >= 0;
}

/** One part of a version as a pattern: 0 to 65535 without leading zeros, what parseFileVersion accepts. */
const partPattern = "(?:0|[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])";

/**
 * A zod schema for a version string in config and catalog data. A pattern rather than a refinement
 * over parseFileVersion, so that the stack file's JSON Schema carries the same rule to an editor.
 */
export const FileVersionText = z
  .string()
  .regex(
    new RegExp(`^${partPattern}(?:\\.${partPattern}){3}$`),
    "must be a file version of four numbers, each 0-65535, such as 13.3.609.1",
  );
