import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { z } from "zod";
import { MsiPackage } from "../../components/package/msiPackage";
import { root } from "./msitools";

/** The bounds each parse runs under: a hang or a blow-up fails the test, not the test run. */
export const parseBounds = {
  /** Wall-clock time for one parse. */
  seconds: 5,
  /** Peak resident memory of the reading process. */
  residentMiB: 768,
  /** The address space the process may map: a larger allocation fails there, not on the machine. */
  addressSpaceMiB: 2048,
} as const;

/** A table as the reader decodes it: its column names and its rows, cells in column order. */
export const TableDump = z.strictObject({
  columns: z.array(z.string()),
  /** The columns of the table's primary key. */
  keys: z.array(z.string()),
  rows: z.array(z.array(z.union([z.string(), z.number(), z.null()]))),
});
export type TableDump = z.infer<typeof TableDump>;

/** The tables the comparison with msiinfo covers. */
export const comparedTables = ["File", "Property"] as const;

/** What the package reader did with one input, as its process reported it. */
export const ParseOutcome = z.discriminatedUnion("outcome", [
  z.strictObject({
    outcome: z.literal("read"),
    pkg: MsiPackage,
    tables: z.strictObject({ File: TableDump, Property: TableDump }),
    peakMiB: z.number(),
  }),
  z.strictObject({ outcome: z.literal("refused"), kind: z.string(), message: z.string(), peakMiB: z.number() }),
  z.strictObject({ outcome: z.literal("untyped"), name: z.string(), message: z.string(), peakMiB: z.number() }),
]);
export type ParseOutcome = z.infer<typeof ParseOutcome>;

/** What a parse came to, including what its process could not report. */
export type BoundedOutcome =
  | ParseOutcome
  | { readonly outcome: "hang"; readonly seconds: number }
  | { readonly outcome: "died"; readonly detail: string };

/**
 * The reading process: the built reader (dist/, as `npm test` builds it before jest runs), one
 * input per message, each answered with its outcome (for a package it reads, with the tables the
 * package was read from) and the peak resident memory of that parse.
 */
const readerProcess = `
const { MsiPackageError, openMsiDatabase, readMsiPackage } = require(process.env.READER_MODULE);
const dump = (database, table) => {
  const schema = database.columns(table);
  const columns = schema.map((column) => column.name);
  const keys = schema.filter((column) => (column.type & 0x2000) !== 0).map((column) => column.name);
  return { columns, keys, rows: database.rows(table).map((row) => columns.map((name) => row[name])) };
};
const { readFileSync, writeFileSync } = require("node:fs");
// This process's own peak resident memory, from /proc: VmHWM starts afresh at exec (getrusage's
// maxrss keeps the peak of the jest process that forked it), and writing 5 to clear_refs resets it,
// so each parse is measured alone. Without VmHWM the bound cannot be checked, and the parse says so.
const peakMiB = () => {
  const hwm = /^VmHWM:\\s+(\\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
  if (hwm === null) throw new Error("/proc/self/status has no VmHWM line: the memory bound cannot be checked");
  return Number(hwm[1]) / 1024;
};
process.on("message", (base64) => {
  writeFileSync("/proc/self/clear_refs", "5");
  const bytes = Buffer.from(base64, "base64");
  let answer;
  try {
    const pkg = readMsiPackage(bytes);
    const database = openMsiDatabase(bytes);
    answer = { outcome: "read", pkg, tables: { File: dump(database, "File"), Property: dump(database, "Property") } };
  } catch (error) {
    answer = error instanceof MsiPackageError
      ? { outcome: "refused", kind: error.kind, message: error.message }
      : { outcome: "untyped", name: String(error && error.name), message: String(error && error.message) };
  }
  process.send({ ...answer, peakMiB: peakMiB() });
});
`;

/**
 * Runs the package reader in a child process with a time, heap and address-space bound, reusing
 * the process from one input to the next and starting a new one after a hang or a death.
 */
export class BoundedReader {
  private child: ChildProcess | undefined;
  /** The end of what the reading process wrote to stderr, for a death's report. */
  private stderr = "";

  async parse(bytes: Buffer): Promise<BoundedOutcome> {
    const child = this.child ?? this.start();
    return new Promise<BoundedOutcome>((resolve) => {
      const finish = (outcome: BoundedOutcome): void => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve(outcome);
      };
      const onMessage = (message: unknown): void => {
        const parsed = ParseOutcome.safeParse(message);
        finish(
          parsed.success ? parsed.data : { outcome: "died", detail: `unreadable answer ${JSON.stringify(message)}` },
        );
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        this.child = undefined;
        finish({
          outcome: "died",
          detail: `the reading process exited (code ${code}, signal ${signal}): ${this.stderr.slice(-2000)}`,
        });
      };
      const timer = setTimeout(() => {
        this.stop();
        finish({ outcome: "hang", seconds: parseBounds.seconds });
      }, parseBounds.seconds * 1000);
      child.on("message", onMessage);
      child.on("exit", onExit);
      child.send(bytes.toString("base64"));
    });
  }

  stop(): void {
    this.child?.kill("SIGKILL");
    this.child = undefined;
  }

  private start(): ChildProcess {
    const child = spawn(
      "sh",
      [
        "-c",
        'ulimit -v "$1" && exec "$2" --max-old-space-size="$3" -e "$4"',
        "sh",
        String(parseBounds.addressSpaceMiB * 1024),
        process.execPath,
        String(parseBounds.residentMiB),
        readerProcess,
      ],
      {
        stdio: ["ignore", "ignore", "pipe", "ipc"],
        env: { ...process.env, READER_MODULE: join(root, "dist", "components", "package", "msiPackage.js") },
      },
    );
    this.stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
    this.child = child;
    return child;
  }
}
