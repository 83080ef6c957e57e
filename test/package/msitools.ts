import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

export const root = resolve(__dirname, "../..");

/** The committed packages, each beside the WiX source it is built from. */
export const packages = [
  "stacks/demo-packages/KB952089",
  "test/fixtures/packages/KB952089-below",
  "test/fixtures/packages/KB999001",
].map((base) => ({
  name: base.slice(base.lastIndexOf("/") + 1),
  msi: resolve(root, `${base}.msi`),
  wxs: resolve(root, `${base}.wxs`),
}));

export function missingTools(...names: string[]): string[] {
  return names.filter((name) => spawnSync("sh", ["-c", 'command -v "$1"', "sh", name]).status !== 0);
}

/**
 * Says why a suite is skipped. Jest drops the console output of a file whose tests are all
 * skipped, so this goes straight to stderr.
 */
export function skipNotice(testFile: string, notice: string): void {
  process.stderr.write(`\n${testFile}: ${notice}\n\n`);
}

export type IdtRow = Readonly<Record<string, string>>;

/**
 * One table as `msiinfo export` prints it: tab-separated lines of column names, column types and
 * the table's name with its keys, then one line per row. Null cells print as empty text.
 */
export function msiinfoExport(msi: string, table: string): IdtRow[] {
  const text = execFileSync("msiinfo", ["export", msi, table], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
  const names = lines[0]!.split("\t");
  return lines.slice(3).map((line) => {
    const cells = line.split("\t");
    return Object.fromEntries(names.map((name, index) => [name, cells[index] ?? ""]));
  });
}

export interface WxsFacts {
  readonly productCode: string;
  readonly productName: string;
  readonly productVersion: string;
  readonly files: readonly { fileName: string; sizeBytes: number; version: string; language: string }[];
}

/** What a WiX source declares, read from its start tags. */
export function wxsFacts(wxs: string): WxsFacts {
  const source = readFileSync(wxs, "utf8");
  const tags = (element: string): string[] => source.match(new RegExp(`<${element}\\s[^>]*>`, "g")) ?? [];
  const attr = (tag: string, name: string): string => {
    const found = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
    if (found === null) throw new Error(`test setup: ${wxs}: ${name} missing from ${tag}`);
    return found[1]!;
  };
  const product = tags("Product")[0]!;
  return {
    productCode: `{${attr(product, "Id")}}`,
    productName: attr(product, "Name"),
    productVersion: attr(product, "Version"),
    files: tags("File").map((tag) => ({
      fileName: attr(tag, "Name"),
      sizeBytes: Number(attr(tag, "DefaultSize")),
      version: attr(tag, "DefaultVersion"),
      language: attr(tag, "DefaultLanguage"),
    })),
  };
}

/**
 * The inputs of issue 20 that the reader once read wrongly or not at all, built by
 * scripts/build-packages.sh from the committed packages: each must be refused, with what is wrong.
 */
export const regressionPackages = [
  { name: "tampered", kind: "ambiguous" },
  { name: "directory-cycle", kind: "damaged" },
  { name: "huge-stream", kind: "damaged" },
].map(({ name, kind }) => ({ name, kind, msi: resolve(root, `test/fixtures/packages/${name}.msi`) }));
