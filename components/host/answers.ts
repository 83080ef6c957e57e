import { z } from "zod";
import { FileVersionText } from "../domain/fileVersion";
import { MaintenanceLease, RunId } from "../domain/lease";
import { decodeCodePage, readableCodePages } from "./codePages";
import { encodingKey } from "./invocation";

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

/** Whether the COM+ application's component answered within the timeout (asked only while it runs). */
const Responding = z.enum(["yes", "no"]);

export const ProbeAnswer = z.strictObject({
  files: z.record(z.string(), z.union([z.literal("missing"), FileVersionText])),
  engine: z.enum(["active", "deactivated"]),
  complus: z.enum(["running", "stopped"]),
  complusInstances: Count,
  complusResponding: Responding.optional(),
  /**
   * Every entry of PendingFileRenameOperations, in order: pairs of the source and the target of
   * each rename Windows carries out at the next restart (`\\??\\C:\\…`, a target to replace
   * prefixed `!`), a deletion's target empty.
   */
  renames: z.array(z.string()),
  /** The maintenance lease on the engine (lease.<field>= lines), when a run holds or left one. */
  lease: MaintenanceLease.optional(),
});
export type ProbeAnswer = z.infer<typeof ProbeAnswer>;

/** The probe's answer; every file asked about must be reported, and nothing else. */
export function parseProbeAnswer(stdout: string, expectedFiles: readonly string[]): ProbeAnswer {
  const { values } = parseKeyValueLines("probe", stdout);
  if (values.size === 0) throw new UnexpectedAnswerError("probe", "the host printed nothing");
  const files: Record<string, string> = {};
  const renames: string[] = [];
  const rest: Record<string, string> = {};
  const lease: Record<string, string> = {};
  for (const [key, value] of values) {
    const rename = /^rename\.([0-9]+)$/.exec(key);
    if (key.startsWith("file:")) files[key.slice(5)] = value;
    else if (key.startsWith("lease.")) lease[key.slice(6)] = value;
    else if (rename !== null) {
      if (Number(rename[1]) !== renames.length)
        throw new UnexpectedAnswerError("probe", `${key} is out of order (expected rename.${renames.length})`);
      renames.push(value);
    } else if (key === "complus.instances") rest["complusInstances"] = value;
    else if (key === "complus.responding") rest["complusResponding"] = value;
    else if (key === "renames") {
      if (value !== String(renames.length))
        throw new UnexpectedAnswerError("probe", `renames=${value}, but ${renames.length} rename entries were printed`);
    } else if (key !== "exit") rest[key] = value;
  }
  const answer = check("probe", ProbeAnswer, {
    ...rest,
    files,
    renames,
    ...(Object.keys(lease).length === 0 ? {} : { lease }),
  });
  if (!values.has("renames"))
    throw new UnexpectedAnswerError("probe", "renames: missing (the count of pending renames)");
  if ((answer.complus === "running") !== (answer.complusResponding !== undefined)) {
    throw new UnexpectedAnswerError(
      "probe",
      `complus=${answer.complus}, but complus.responding is ${answer.complusResponding === undefined ? "missing" : "there"} (it is asked exactly while COM+ runs)`,
    );
  }
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

export const ResponseAnswer = z.strictObject({
  complusInstances: Count,
  complusResponding: Responding,
});
export type ResponseAnswer = z.infer<typeof ResponseAnswer>;

/** check-response: whether the running COM+ application's component answered. */
export function parseResponseAnswer(stdout: string): ResponseAnswer {
  const { values } = parseKeyValueLines("check-response", stdout);
  return check("check-response", ResponseAnswer, {
    complusInstances: values.get("complus.instances"),
    complusResponding: values.get("complus.responding"),
  });
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

export const InstallerStatus = z.discriminatedUnion("installer", [
  z.strictObject({ installer: z.literal("running") }),
  z.strictObject({
    installer: z.literal("idle"),
    log: z.enum(["present", "absent"]),
    /** What `MainEngineThread is returning <code>` in the install's log says, or "none". */
    logResult: z.union([z.literal("none"), z.string().regex(/^-?[0-9]+$/, "must be an exit code")]),
  }),
]);
export type InstallerStatus = z.infer<typeof InstallerStatus>;

/** Whether Windows Installer is still installing, and once it is not, what the install's log says. */
export function parseInstallerStatus(stdout: string): InstallerStatus {
  const { values } = parseKeyValueLines("installer-status", stdout);
  const { exit: _exit, "log.result": logResult, ...rest } = Object.fromEntries(values);
  return check("installer-status", InstallerStatus, { ...rest, ...(logResult === undefined ? {} : { logResult }) });
}

/**
 * What the host printed, as text: the bootstrap's first line says the code page it is written in
 * (`encoding=65001` once the switch to UTF-8 took, the console's OEM code page otherwise), and is
 * taken off. Output without that line (a host that dropped the connection first, say) is read as
 * UTF-8.
 */
export function decodeHostOutput(
  script: string,
  bytes: Uint8Array,
): { readonly text: string; readonly codePage?: number } {
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  const newline = bytes.indexOf(0x0a, start);
  const first = Buffer.from(bytes.subarray(start, newline < 0 ? bytes.length : newline))
    .toString("latin1")
    .replace(/\r$/, "");
  const declared = new RegExp(`^${encodingKey}=([0-9]{1,5})$`).exec(first);
  if (declared === null) return { text: Buffer.from(bytes.subarray(start)).toString("utf8") };
  const codePage = Number(declared[1]);
  const rest = newline < 0 ? new Uint8Array() : bytes.subarray(newline + 1);
  const text = decodeCodePage(rest, codePage);
  if (text === undefined) {
    throw new UnexpectedAnswerError(
      script,
      `the host writes its answers in code page ${codePage}, which mps-hotfix does not read (it reads ${readableCodePages().join(", ")})`,
    );
  }
  return { text, codePage };
}

/** How lease.ps1's Enter-MaintenanceLease refuses a step's work, before the run that holds the engine. */
export const leaseHeldError = "the engine is in maintenance by run ";

/** The run whose lease made a script refuse to start its work (`error=<leaseHeldError><run>`), if that is why it failed. */
export function leaseHeldBy(stdout: string): string | undefined {
  const prefix = `error=${leaseHeldError}`;
  const line = stdout.split(/\r?\n/).find((l) => l.startsWith(prefix));
  if (line === undefined) return undefined;
  return check("lease", RunId, line.slice(prefix.length));
}

/** The `error=` line a failing script prints, if any. */
export function errorLine(stdout: string): string | undefined {
  const line = stdout.split(/\r?\n/).find((l) => l.startsWith("error=") || l.startsWith("relay.error="));
  return line?.slice(line.indexOf("=") + 1);
}
