import { z } from "zod";
import { FileVersionText } from "../domain/fileVersion";

/**
 * What a host prints is input too: every answer is `key=value` lines, parsed here and checked
 * with a schema before anything trusts it. An answer that does not fit is an error that quotes
 * the offending line (shortened), never a guess.
 */
export class UnexpectedAnswerError extends Error {
  constructor(script: string, detail: string) {
    super(`unexpected answer to ${script}: ${detail}`);
    this.name = "UnexpectedAnswerError";
  }
}

export interface KeyValueAnswer {
  readonly values: ReadonlyMap<string, string>;
  /** Lines of the form `log:<text>`, in order (the install log tail). */
  readonly logLines: readonly string[];
}

function shorten(line: string): string {
  const printable = line.replace(/[^\x20-\x7e]/g, "?");
  return JSON.stringify(printable.length > 80 ? `${printable.slice(0, 80)}…` : printable);
}

export function parseKeyValueLines(script: string, stdout: string): KeyValueAnswer {
  const values = new Map<string, string>();
  const logLines: string[] = [];
  stdout.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === "") return;
    if (line.startsWith("log:")) {
      logLines.push(line.slice(4));
      return;
    }
    const match = /^([A-Za-z][A-Za-z0-9.:_-]*)=(.*)$/.exec(line);
    if (!match) throw new UnexpectedAnswerError(script, `line ${index + 1} is not key=value: ${shorten(line)}`);
    const key = match[1]!;
    if (values.has(key)) throw new UnexpectedAnswerError(script, `key ${key} appears twice`);
    values.set(key, match[2]!);
  });
  return { values, logLines };
}

function check<T>(script: string, schema: z.ZodType<T>, data: unknown): T {
  const result = schema.safeParse(data);
  if (!result.success) {
    const first = result.error.issues[0];
    const where = first === undefined ? "" : first.path.join(".");
    throw new UnexpectedAnswerError(script, `${where === "" ? "" : `${where}: `}${first?.message ?? "does not match"}`);
  }
  return result.data;
}

const Count = z
  .string()
  .regex(/^[0-9]+$/, "must be a count")
  .transform(Number);

export const ProbeAnswer = z.strictObject({
  files: z.record(z.string(), z.union([z.literal("missing"), FileVersionText])),
  engine: z.enum(["active", "deactivated"]),
  complus: z.enum(["running", "stopped"]),
  complusInstances: Count,
  restart: z.enum(["pending", "none"]),
});
export type ProbeAnswer = z.infer<typeof ProbeAnswer>;

/** The probe's answer; every file asked about must be reported, and nothing else. */
export function parseProbeAnswer(stdout: string, expectedFiles: readonly string[]): ProbeAnswer {
  const { values } = parseKeyValueLines("probe", stdout);
  if (values.size === 0) throw new UnexpectedAnswerError("probe", "the host printed nothing");
  const files: Record<string, string> = {};
  const rest: Record<string, string> = {};
  for (const [key, value] of values) {
    if (key.startsWith("file:")) files[key.slice(5)] = value;
    else if (key === "complus.instances") rest["complusInstances"] = value;
    else if (key !== "exit") rest[key] = value;
  }
  const answer = check("probe", ProbeAnswer, { ...rest, files });
  const reported = Object.keys(answer.files)
    .map((f) => f.toLowerCase())
    .sort();
  const expected = expectedFiles.map((f) => f.toLowerCase()).sort();
  if (reported.join("|") !== expected.join("|")) {
    throw new UnexpectedAnswerError(
      "probe",
      `reported files ${reported.join(", ") || "none"}, asked for ${expected.join(", ")}`,
    );
  }
  return answer;
}

export const StageAnswer = z.strictObject({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase SHA-256"),
  bytes: Count,
  path: z.string().min(1),
});
export type StageAnswer = z.infer<typeof StageAnswer>;

export function parseStageAnswer(stdout: string): StageAnswer {
  const { values } = parseKeyValueLines("stage-package", stdout);
  const { exit: _exit, ...answer } = Object.fromEntries(values);
  return check("stage-package", StageAnswer, answer);
}

export const InstallAnswer = z.strictObject({
  msiexecExit: z
    .string()
    .regex(/^-?[0-9]+$/, "must be an exit code")
    .transform(Number),
  log: z.string().min(1),
});
export type InstallAnswer = z.infer<typeof InstallAnswer>;

export function parseInstallAnswer(stdout: string): InstallAnswer {
  const { values } = parseKeyValueLines("install-package", stdout);
  return check("install-package", InstallAnswer, { msiexecExit: values.get("msiexec.exit"), log: values.get("log") });
}

/** The `error=` line a failing script prints, if any. */
export function errorLine(stdout: string): string | undefined {
  const line = stdout.split(/\r?\n/).find((l) => l.startsWith("error=") || l.startsWith("relay.error="));
  return line?.slice(line.indexOf("=") + 1);
}
