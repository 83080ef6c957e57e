import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/**
 * The layers point one way, and the layer table of docs/architecture.md says which: every row's
 * folder imports only the folders its "imports of the product" cell names (and itself), and each of
 * them. The table is read from that page, so it cannot say one thing while the code does another; and
 * the simulator, a test double, stays out of the shipped command's import graph.
 */
const root = resolve(__dirname, "../..");

/** The cells of a table row; a `|` inside a code span or escaped as `\|` stays in its cell. */
function cellsOf(line: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let inCode = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (char === "\\" && line[i + 1] === "|") {
      cell += "|";
      i++;
    } else if (char === "`") {
      inCode = !inCode;
      cell += char;
    } else if (char === "|" && !inCode) {
      cells.push(cell.trim());
      cell = "";
    } else {
      cell += char;
    }
  }
  // A row starts and ends with a pipe: drop the empty cells outside them.
  return cells.slice(1);
}

interface Row {
  /** As the table writes it: `components/domain/` (the folder, recursively) or `components/*.ts`. */
  readonly folder: string;
  /** The names of the imports cell, parentheses (notes) left out: `domain`, `all of the above`. */
  readonly imports: readonly string[];
}

const page = "docs/architecture.md";

/** The layer table: the table under docs/architecture.md's "Layers" heading, whose header names both columns. */
function architectureTable(): Row[] {
  const text = readFileSync(join(root, page), "utf8");
  const section = text.split(/^## /m).find((part) => part.startsWith("Layers\n"));
  if (section === undefined) throw new Error(`${page} has no Layers section`);
  const lines = section.split("\n").filter((line) => line.startsWith("|"));
  const header = cellsOf(lines[0] ?? "");
  const folderColumn = header.indexOf("folder");
  const importsColumn = header.indexOf("imports of the product");
  if (folderColumn < 0 || importsColumn < 0) {
    throw new Error(`${page}'s layer table has no "folder" or "imports of the product" column: ${lines[0]}`);
  }
  return lines.slice(2).map((line) => {
    const cells = cellsOf(line);
    return {
      folder: (cells[folderColumn] ?? "").replaceAll("`", ""),
      imports: (cells[importsColumn] ?? "")
        .replace(/\([^)]*\)/g, "")
        .split(/[,;]/)
        .map((name) => name.trim())
        .filter((name) => name !== "" && name !== "none"),
    };
  });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The project files a source file imports, relative to the project root, without extension. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  const specifiers = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)";/gms)].map((m) => m[1]!);
  return specifiers
    .filter((s) => s.startsWith("."))
    .map((s) => relative(root, resolve(root, dirname(file), s)).replace(/\.(ts|json)$/, ""));
}

/** Whether a project path (a file, with or without extension) lies in a row's folder. */
function inRow(path: string, row: Row): boolean {
  if (row.folder.endsWith("/*.ts")) {
    const dir = row.folder.slice(0, -"/*.ts".length);
    return dirname(path) === dir;
  }
  return path.startsWith(row.folder);
}

const rows = architectureTable();

/** The rows an import name stands for: `domain` is components/domain/, `components` every row under it. */
function rowsNamed(name: string, index: number): Row[] {
  if (name === "all of the above") return rows.slice(0, index);
  const named = rows.filter((row) => row.folder === `components/${name}/` || row.folder.startsWith(`${name}/`));
  if (named.length === 0) throw new Error(`${page}'s layer table names "${name}", which is no row's folder`);
  return named;
}

describe("the layer table of docs/architecture.md", () => {
  it("has a row for every folder of the product's sources", () => {
    const files = ["components", "cli", "simulator"].flatMap(sourceFiles);
    expect(files.filter((file) => !rows.some((row) => inRow(file, row)))).toEqual([]);
    expect(rows.length).toBeGreaterThanOrEqual(9);
  });

  describe.each(rows.map((row, index) => [row.folder, row, index] as const))("row %s", (_folder, row, index) => {
    const imported = new Set<string>();
    const files = sourceFiles(row.folder.endsWith("/*.ts") ? dirname(row.folder) : row.folder);
    for (const file of files.filter((f) => inRow(f, row))) {
      for (const target of importsOf(file)) {
        const targetRow = rows.find((candidate) => inRow(target, candidate));
        if (targetRow !== row) imported.add(targetRow?.folder ?? `${target} (in no row)`);
      }
    }

    it("imports nothing its imports cell does not name", () => {
      const named = new Set(row.imports.flatMap((name) => rowsNamed(name, index)).map((r) => r.folder));
      expect([...imported].filter((folder) => !named.has(folder))).toEqual([]);
    });

    // "all of the above" grants the layers above; any other name is a claim that the code imports it.
    it("imports every folder its imports cell names", () => {
      const unused = row.imports.filter(
        (name) => name !== "all of the above" && !rowsNamed(name, index).some((r) => imported.has(r.folder)),
      );
      expect(unused).toEqual([]);
    });
  });
});

describe("layers", () => {
  test("the shipped command and the components never load the simulator", () => {
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const target of importsOf(`${file}.ts`)) {
        if (!target.endsWith("hotfixes")) visit(target);
      }
    };
    visit("cli/main");
    visit("components/index");
    visit("index");
    expect([...seen].filter((file) => file.startsWith("simulator/"))).toEqual([]);
    expect(seen.has("components/provider/hotfixProvider")).toBe(false);
    expect(seen.size).toBeGreaterThan(20);
  });

  test("of the command's folder, only the demo imports the simulator (as the table's cli/ row says)", () => {
    const importers = sourceFiles("cli").filter((file) => importsOf(file).some((t) => t.startsWith("simulator/")));
    expect(importers).toEqual(["cli/demo.ts"]);
  });
});
