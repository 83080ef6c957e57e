import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as fc from "fast-check";
import { z } from "zod";
import { BoundedReader, comparedTables, parseBounds, type BoundedOutcome, type TableDump } from "./boundedReader";
import { missingTools, packages, regressionPackages } from "./msitools";

/**
 * The package reader against mutations of every committed package and of the regression inputs:
 * it reads or refuses, never throws an untyped error, hangs or passes its memory bound; and where
 * msiinfo (libmsi, which opens tables by their encoded names as Windows Installer does) is
 * installed, whatever the reader accepts msiinfo reads the same, so whatever msiinfo refuses the
 * reader refuses too. Seeded and bounded; MPS_FUZZ_SEED, MPS_FUZZ_RUNS and MPS_FUZZ_SECONDS widen a run.
 */

/** The run's budget: a few seconds by default, in `npm test`; wider from the environment. */
const {
  MPS_FUZZ_SEED: seed,
  MPS_FUZZ_RUNS: numRuns,
  MPS_FUZZ_SECONDS: seconds,
} = z
  .object({
    MPS_FUZZ_SEED: z.coerce.number().int().default(20),
    MPS_FUZZ_RUNS: z.coerce.number().int().positive().default(400),
    MPS_FUZZ_SECONDS: z.coerce.number().positive().default(45),
  })
  .parse(process.env);

const withMsiinfo = missingTools("msiinfo").length === 0;
if (!withMsiinfo) {
  console.warn(
    "test/package/fuzz.test.ts: the comparison with msiinfo is skipped: msiinfo is not installed (apt-get install msitools); " +
      "only the reader's own bounds are checked",
  );
}

/** Each input mutated, with what the reader does with it unmutated: reads it, or refuses it as the kind given. */
const bases = [
  ...packages.map(({ name, msi }) => ({ name, msi, refusedAs: undefined })),
  ...regressionPackages.map(({ name, msi, kind }) => ({ name, msi, refusedAs: kind })),
].map(({ name, msi, refusedAs }) => ({ name, refusedAs, bytes: readFileSync(msi) }));

/** Where a mutation lands: where the structures a reader trusts are, or anywhere. */
type Region = "header" | "allocation table" | "directory" | "anywhere";

type Mutation =
  | { readonly kind: "bytes"; readonly region: Region; readonly at: number; readonly bytes: readonly number[] }
  | { readonly kind: "word"; readonly region: Region; readonly at: number; readonly value: number }
  | { readonly kind: "truncate"; readonly at: number };

const region: fc.Arbitrary<Region> = fc.oneof(fc.constantFrom<Region>("header", "allocation table", "directory"), {
  arbitrary: fc.constant<Region>("anywhere"),
  weight: 3,
});
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("bytes" as const),
      region,
      at: fc.nat(),
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("word" as const),
      region,
      at: fc.nat(),
      // Sector and stream ids, their markers ([MS-CFB] 2.1), sizes and string ids near the edges.
      value: fc.oneof(
        fc.constantFrom(0, 1, 2, 3, 0x7fffffff, 0x80000000, 0xfffffffa, 0xfffffffc, 0xfffffffd, 0xfffffffe, 0xffffffff),
        fc.integer({ min: 0, max: 64 }),
        fc.integer({ min: 0, max: 0xffffffff }),
      ),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }), weight: 1 },
);

const mutant = fc.record({
  base: fc.integer({ min: 0, max: bases.length - 1 }),
  mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
});

/** The byte range of a region in an unmutated compound file, from its header. */
function rangeOf(bytes: Buffer, where: Region): readonly [number, number] {
  const sectorSize = 1 << bytes.readUInt16LE(0x1e);
  const sector = (offset: number): readonly [number, number] => {
    const start = (bytes.readUInt32LE(offset) + 1) * sectorSize;
    return start + sectorSize <= bytes.length ? [start, start + sectorSize] : [0, bytes.length];
  };
  if (where === "header") return [0, 0x200];
  if (where === "allocation table") return sector(0x4c);
  if (where === "directory") return sector(0x30);
  return [0, bytes.length];
}

function mutate(base: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(base);
  for (const m of mutations) {
    if (m.kind === "truncate") {
      bytes = bytes.subarray(0, m.at % (bytes.length + 1));
      continue;
    }
    if (bytes.length < 0x200) continue;
    const [start, end] = rangeOf(base, m.region);
    const size = m.kind === "bytes" ? m.bytes.length : 4;
    const span = Math.min(end, bytes.length) - size - start;
    if (span <= 0) continue;
    // Words land on 4-byte boundaries, where every field of a header, a FAT or a directory entry starts.
    const at = start + (m.kind === "word" ? (m.at % span) & ~3 : m.at % span);
    if (m.kind === "bytes") Buffer.from(m.bytes).copy(bytes, at);
    else bytes.writeUInt32LE(m.value, at);
  }
  return bytes;
}

/** A table as `msiinfo export` prints it, without its line of column types. */
interface Exported {
  readonly columns: string;
  readonly keys: string;
  readonly rows: string;
}

/**
 * A table as `msiinfo export` prints it: a line of column names, one of column types, one of the
 * table's name and key columns, then a line per row, cells tab-separated, a null as nothing; or
 * undefined when msiinfo refuses the file. msiinfo escapes nothing, so rows are compared as text.
 */
function msiinfoExport(path: string, table: string): Exported | undefined {
  const run = spawnSync("msiinfo", ["export", path, table], {
    encoding: "utf8",
    timeout: parseBounds.seconds * 1000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (run.status !== 0) return undefined;
  const [columns = "", , keys = "", ...rows] = run.stdout.split("\r\n");
  return { columns, keys, rows: rows.join("\r\n") };
}

/** The reader's table in msiinfo's layout. */
function asExported(table: string, { columns, keys, rows }: TableDump): Exported {
  const line = (cells: readonly (string | number | null)[]): string =>
    cells.map((cell) => (cell === null ? "" : String(cell))).join("\t");
  return {
    columns: line(columns),
    keys: line([table, ...keys]),
    rows: rows.map((row) => `${line(row)}\r\n`).join(""),
  };
}

describe("the package reader under mutation", () => {
  const reader = new BoundedReader();
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "mps-fuzz-"));
  });
  afterAll(() => {
    reader.stop();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  it("reads or refuses each input unmutated as it should, within the bounds", async () => {
    // The process that starts the reader holds more than the bound, as jest does late in a run:
    // a parse's peak is the reading process's own, so this must not count against it.
    const heldByTheStarter = Buffer.alloc((parseBounds.residentMiB + 128) * 1024 * 1024, 1);
    for (const { name, refusedAs, bytes } of bases) {
      const outcome = await reader.parse(bytes);
      const what = outcome.outcome === "refused" ? `refused as ${outcome.kind}` : outcome.outcome;
      const peakMiB = "peakMiB" in outcome ? outcome.peakMiB : undefined;
      expect({
        name,
        what,
        withinBound: peakMiB !== undefined && peakMiB > 0 && peakMiB <= parseBounds.residentMiB,
      }).toEqual({
        name,
        what: refusedAs === undefined ? "read" : `refused as ${refusedAs}`,
        withinBound: true,
      });
    }
    expect(heldByTheStarter.at(-1)).toBe(1);
  });

  it(
    "reads or refuses every mutant, within the bounds and, where msiinfo reads it, as msiinfo does",
    async () => {
      const tally = { read: 0, refused: 0, comparedWithMsiinfo: 0 };
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(mutant, async ({ base, mutations }) => {
          const bytes = mutate(bases[base]!.bytes, mutations);
          const outcome: BoundedOutcome = await reader.parse(bytes);
          if (outcome.outcome !== "read" && outcome.outcome !== "refused") {
            throw new Error(`the reader did not read or refuse: ${JSON.stringify(outcome)}`);
          }
          if (outcome.peakMiB > parseBounds.residentMiB) {
            throw new Error(`the reading process peaked at ${outcome.peakMiB.toFixed(0)} MiB`);
          }
          tally[outcome.outcome]++;
          if (outcome.outcome === "read" && withMsiinfo) {
            tally.comparedWithMsiinfo++;
            const path = join(dir, "mutant.msi");
            writeFileSync(path, bytes);
            for (const table of comparedTables) {
              expect({ table, msiinfo: msiinfoExport(path, table) }).toEqual({
                table,
                msiinfo: asExported(table, outcome.tables[table]),
              });
            }
          }
        }),
        { seed, numRuns, plugins: [fc.interruptAfterTimeLimit(seconds * 1000)] },
      );
      const runs = tally.read + tally.refused;
      process.stderr.write(
        `\ntest/package/fuzz.test.ts: seed ${seed}: ${runs} mutants in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
          `${tally.refused} refused, ${tally.read} read (${tally.comparedWithMsiinfo} compared with msiinfo)\n\n`,
      );
      expect(runs).toBeGreaterThan(0);
      // Jest's own limit, past fast-check's: a run interrupted at its time limit still reports.
    },
    (seconds + 60) * 1000,
  );
});
