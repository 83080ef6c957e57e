import { createHash } from "node:crypto";
import { MsiPackageError, readMsiPackage } from "../components/package/msiPackage";
import { FILE_COLUMNS, PROPERTY_COLUMNS, syntheticMsi } from "./msiBuilder";

/**
 * A Windows Installer package that installs the given files at the given versions, for tests of the
 * simulated fleet: `simulatedPackageBytes("KB952089", { "Mapsproccntl.dll": "13.3.609.117" })`.
 * The product code is derived from the contents, so the same arguments give the same bytes.
 */
export function simulatedPackageBytes(id: string, installs: Readonly<Record<string, string>>): Buffer {
  const entries = Object.entries(installs);
  if (entries.length === 0) throw new Error("a package must install at least one file");
  const digest = createHash("sha256")
    .update(JSON.stringify([id, entries]))
    .digest("hex")
    .toUpperCase();
  const productCode = `{${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}}`;
  return syntheticMsi({
    tables: {
      Property: {
        columns: PROPERTY_COLUMNS,
        rows: [
          ["ProductCode", productCode],
          ["ProductName", id],
          ["ProductVersion", entries[0]![1]],
          ["ProductLanguage", "1033"],
        ],
      },
      File: {
        columns: FILE_COLUMNS,
        rows: entries.map(([name, version], i) => [name, `${name}-component`, name, 1024, version, "1033", 512, i + 1]),
      },
    },
  });
}

/** What a package installs, file name => version, from its File table; undefined when it is no package. */
export function readSimulatedPackage(
  bytes: Buffer,
): { readonly installs: Readonly<Record<string, string>> } | undefined {
  try {
    const pkg = readMsiPackage(bytes);
    return {
      installs: Object.fromEntries(pkg.files.flatMap((f) => (f.version === null ? [] : [[f.fileName, f.version]]))),
    };
  } catch (error) {
    if (error instanceof MsiPackageError) return undefined;
    throw error;
  }
}

/** The project's KB952089 package (built by scripts/build-packages.sh): the demo stack's, staged by the tests and the bench. */
export const simulatedKb952089 = {
  /** Relative to the project directory. */
  path: "stacks/demo-packages/KB952089.msi",
  sha256: "bb2e019b68f742f5cff0928a4418423a543d6d471ed78c34489483cd59ff1010",
} as const;
