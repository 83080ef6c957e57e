import { execFile } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../../cli/projectRoot";
import { e2eEnv } from "./scenario";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The built command, as an operator runs it, against the end-to-end tests' state backend. */
export function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(projectRoot, "dist", "cli", "main.js"), ...args],
      { cwd: projectRoot, env: { ...process.env, ...e2eEnv }, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
    );
  });
}

/** The end summary `mps-hotfix up` prints, read back: label => engines. */
export function summaryOf(stdout: string): Record<string, string[]> {
  const block = stdout.slice(stdout.lastIndexOf("Rollout summary:"));
  const entries = [...block.matchAll(/^ {2}\d+ (.+?)(?: \(((?:[A-Z0-9]+(?:, )?)+)\))?$/gm)].map((m) => [
    m[1]!.trim(),
    m[2] === undefined ? [] : m[2].split(", "),
  ]);
  return Object.fromEntries(entries) as Record<string, string[]>;
}

/**
 * An up as an operator runs it, in its own process: a failed up leaves the inline program's
 * last registrations to a terminating engine, which belongs to that process and not to the suite.
 */
export async function failedUp(stackName: string): Promise<{ output: string; summary: Record<string, string[]> }> {
  const result = await cli("up", "--stack", stackName);
  expect(result.code).not.toBe(0);
  return { output: `${result.stdout}\n${result.stderr}`, summary: summaryOf(result.stdout) };
}
