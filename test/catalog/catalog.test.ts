import { catalog, findHotfix, parseCatalog, type HotfixEntry } from "../../components/catalog/catalog";
import catalogData from "../../components/catalog/hotfixes.json";

/** A deep copy of the shipped KB952089 entry, to build bad catalogs from. */
function kb952089(): HotfixEntry {
  return structuredClone(catalog[0]!);
}

describe("the shipped catalog", () => {
  it("parses, and lists exactly KB952089", () => {
    expect(parseCatalog(catalogData)).toEqual(catalog);
    expect(catalog.map((entry) => entry.id)).toEqual(["KB952089"]);
  });

  it("carries the KB's file table and package facts for KB952089", () => {
    expect(findHotfix("KB952089")).toEqual({
      id: "KB952089",
      title: "The Provisioning Engine COM+ component stops responding in Hosted Messaging and Collaboration 4.0",
      article: "https://support.microsoft.com/kb/952089",
      appliesTo: ["Microsoft Solution for Hosted Messaging and Collaboration 4.0"],
      packageFile: "KB952089.msi",
      restartRequired: false,
      replaces: [],
      prerequisites: [],
      files: [
        {
          name: "Mapsproccntl.dll",
          version: "13.3.609.1",
          sizeBytes: 21408,
          dateUtc: "2008-05-08T11:42:00Z",
          platform: "x86",
        },
      ],
    });
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
});
