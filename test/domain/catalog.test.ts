import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { draftCatalogEntry } from "../../cli/packageInspect";
import {
  catalog,
  draftPlaceholder,
  findHotfix,
  parseCatalog,
  type HotfixEntry,
  type HotfixFile,
} from "../../components/domain/catalog";
import catalogData from "../../components/domain/hotfixes.json";
import { readMsiPackageFile } from "../../components/package/msiPackage";
import { projectDir } from "../support/targets";

/** A deep copy of the shipped KB952089 entry, to build bad catalogs from. */
function kb952089(): HotfixEntry {
  return structuredClone(catalog[0]!);
}

/** The article's file table as published, kept in the repository with its source (not retyped into any test). */
const articlePath = resolve(projectDir, "test/fixtures/articles/KB952089-file-table.txt");

/** The article's lines, without the fixture's notes. */
function articleLines(): string[] {
  return readFileSync(articlePath, "utf8")
    .split(/\r?\n/)
    .filter((line) => !line.startsWith("#"));
}

/**
 * A file's row the way the article prints it: the cells run together, the size grouped with a
 * comma, the date as 08-May-2008 and the time as 11:42, both in UTC.
 */
function articleRowOf(file: HotfixFile): string {
  const at = new Date(file.dateUtc);
  const two = (n: number): string => String(n).padStart(2, "0");
  const month = at.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
  return [
    file.name,
    file.version,
    file.sizeBytes.toLocaleString("en-US"),
    `${two(at.getUTCDate())}-${month}-${at.getUTCFullYear()}`,
    `${two(at.getUTCHours())}:${two(at.getUTCMinutes())}`,
    file.platform,
  ].join("");
}

describe("the shipped catalog", () => {
  it("parses, and lists exactly KB952089", () => {
    expect(parseCatalog(catalogData)).toEqual(catalog);
    expect(catalog.map((entry) => entry.id)).toEqual(["KB952089"]);
  });

  it("carries the KB's package facts for KB952089 and one file with the article's row", () => {
    const { files, ...entry } = findHotfix("KB952089")!;
    expect(entry).toEqual({
      id: "KB952089",
      title: "The Provisioning Engine COM+ component stops responding in Hosted Messaging and Collaboration 4.0",
      article: "https://support.microsoft.com/kb/952089",
      appliesTo: ["Microsoft Solution for Hosted Messaging and Collaboration 4.0"],
      packageFile: "KB952089.msi",
      restartRequired: false,
      replaces: [],
      prerequisites: [],
    });
    expect(files).toHaveLength(1);
    expect(Object.keys(files[0]!).sort()).toEqual(
      ["articleRow", "dateUtc", "name", "platform", "readingNote", "sizeBytes", "version"].sort(),
    );
  });

  it("matches the article's file-information row, rebuilt from the entry's fields", () => {
    const file = findHotfix("KB952089")!.files[0]!;
    const lines = articleLines();
    const rows = lines.filter((line) => line.startsWith(file.name));
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    // The header above the row says which cell is which.
    expect(lines[lines.indexOf(row) - 1]).toBe(
      ["File name", "File version", "File size", "Date", "Time", "Platform"].join(""),
    );
    expect(articleRowOf(file)).toBe(row);
    expect(file.articleRow).toBe(row);
    expect(articleRowOf(file)).toBe(file.articleRow);
  });

  it("takes the reading of the run-together version and size cells the note explains", () => {
    const file = findHotfix("KB952089")!.files[0]!;
    const cells = `${file.version}${file.sizeBytes.toLocaleString("en-US")}`;
    expect(file.articleRow).toContain(cells);
    // The other reading gives the version's last digit to the size.
    const lowerVersion = file.version.slice(0, -1);
    const largerSize = `${file.version.slice(-1)}${file.sizeBytes.toLocaleString("en-US")}`;
    expect(`${lowerVersion}${largerSize}`).toBe(cells);
    expect(file.readingNote).toContain(
      `reads as version ${file.version} with ${file.sizeBytes.toLocaleString("en-US")} bytes`,
    );
    expect(file.readingNote).toContain(`or as ${lowerVersion} with ${largerSize} bytes`);
    expect(file.readingNote).toContain("The higher version is taken");
  });

  it("finds hotfixes by their exact id only", () => {
    expect(findHotfix("KB952089")?.packageFile).toBe("KB952089.msi");
    expect(findHotfix("kb952089")).toBeUndefined();
    expect(findHotfix("KB952090")).toBeUndefined();
  });

  it("looks hotfixes up in the catalog it is given", () => {
    const other = parseCatalog([{ ...kb952089(), id: "KB1234567" }]);
    expect(findHotfix("KB1234567", other)?.id).toBe("KB1234567");
    expect(findHotfix("KB952089", other)).toBeUndefined();
  });
});

describe("parseCatalog", () => {
  it("rejects a duplicate id and says where it is", () => {
    expect(() => parseCatalog([kb952089(), { ...kb952089(), id: "KB1234567" }, kb952089()])).toThrow(
      new Error("hotfix catalog is invalid:\n✖ duplicate hotfix id KB952089\n  → at [2].id"),
    );
  });

  it("rejects a file version that is not four numbers and says where it is", () => {
    const entry = kb952089();
    const bad = { ...entry, files: [{ ...entry.files[0]!, version: "13.3.609" }] };
    expect(() => parseCatalog([bad])).toThrow(
      new Error(
        "hotfix catalog is invalid:\n✖ must be a file version of four numbers, each 0-65535, such as 13.3.609.1\n  → at [0].files[0].version",
      ),
    );
  });

  it("rejects a package file name that is a path", () => {
    expect(() => parseCatalog([{ ...kb952089(), packageFile: "..\\evil.msi" }])).toThrow(
      new Error(
        "hotfix catalog is invalid:\n✖ must be a plain file name (letters, digits, '.', '_', '-')\n  → at [0].packageFile",
      ),
    );
  });

  it("rejects a package that is not an .msi", () => {
    expect(() => parseCatalog([{ ...kb952089(), packageFile: "KB952089.exe" }])).toThrow(
      new Error("hotfix catalog is invalid:\n✖ must name an .msi package\n  → at [0].packageFile"),
    );
  });

  it("rejects a file name with a quote, so no catalog value can break out of a script literal", () => {
    const entry = kb952089();
    const bad = { ...entry, files: [{ ...entry.files[0]!, name: "Maps'proccntl.dll" }] };
    expect(() => parseCatalog([bad])).toThrow(
      new Error(
        "hotfix catalog is invalid:\n✖ must be a plain file name (letters, digits, '.', '_', '-')\n  → at [0].files[0].name",
      ),
    );
  });

  it("rejects unknown keys", () => {
    expect(() => parseCatalog([{ ...kb952089(), supersedes: [] }])).toThrow(
      new Error('hotfix catalog is invalid:\n✖ Unrecognized key: "supersedes"\n  → at [0]'),
    );
  });

  it("rejects an entry without files", () => {
    expect(() => parseCatalog([{ ...kb952089(), files: [] }])).toThrow(/→ at \[0\]\.files$/);
  });

  it("accepts a file without an article row or reading note, and rejects empty ones", () => {
    const entry = kb952089();
    const { articleRow: _row, readingNote: _note, ...plain } = entry.files[0]!;
    expect(parseCatalog([{ ...entry, files: [plain] }])[0]!.files[0]).toEqual(plain);
    expect(() => parseCatalog([{ ...entry, files: [{ ...plain, articleRow: "" }] }])).toThrow(
      /→ at \[0\]\.files\[0\]\.articleRow$/,
    );
    expect(() => parseCatalog([{ ...entry, files: [{ ...plain, readingNote: "" }] }])).toThrow(
      /→ at \[0\]\.files\[0\]\.readingNote$/,
    );
  });
});

describe("a drafted entry", () => {
  const packagePath = resolve(projectDir, "test/fixtures/packages/KB999001.msi");
  const draft = (): HotfixEntry => draftCatalogEntry("KB999001", "KB999001.msi", readMsiPackageFile(packagePath));
  const filledIn = (): HotfixEntry => {
    const entry = draft();
    return {
      ...entry,
      title: "An invented second hotfix",
      article: entry.article.slice(0, -draftPlaceholder.article.length),
      appliesTo: ["Microsoft Solution for Hosted Messaging and Collaboration 4.0"],
      files: entry.files.map((file) => ({ ...file, dateUtc: "2008-05-08T11:42:00Z" })),
    };
  };

  it("is refused by the catalog as it is drafted, each placeholder named where it is", () => {
    const entry = draft();
    const fileName = entry.files[0]!.name;
    const placeholder = (field: string): string =>
      `✖ KB999001 is a draft: ${field} is still the placeholder of package inspect --catalog-entry; fill it in from the article`;
    expect(() => parseCatalog([kb952089(), entry])).toThrow(
      new Error(
        [
          "hotfix catalog is invalid:",
          placeholder("the title"),
          "  → at [1].title",
          placeholder("the article's link"),
          "  → at [1].article",
          placeholder("what it applies to"),
          "  → at [1].appliesTo[0]",
          placeholder(`the date of ${fileName}`),
          "  → at [1].files[0].dateUtc",
        ].join("\n"),
      ),
    );
  });

  it("is refused while any one placeholder is left", () => {
    const complete = filledIn();
    expect(parseCatalog([kb952089(), complete])[1]).toEqual(complete);
    const { title, article, appliesTo, files } = draft();
    for (const [field, left] of [
      ["title", { title }],
      ["article", { article }],
      ["appliesTo[0]", { appliesTo }],
      ["files[0].dateUtc", { files }],
    ] as const) {
      expect(() => parseCatalog([{ ...complete, ...left }])).toThrow(
        new RegExp(`\\n {2}→ at \\[0\\]\\.${field.replace(/[[\]]/g, "\\$&")}$`),
      );
    }
  });
});
