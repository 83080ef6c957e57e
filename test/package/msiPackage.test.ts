import * as CFB from "cfb";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  MsiPackage,
  MsiPackageError,
  readMsiPackage,
  readMsiPackageFile,
  type MsiPackageErrorKind,
} from "../../components/package/msiPackage";
import { missingTools, msiinfoExport, packages, regressionPackages, root, skipNotice, wxsFacts } from "./msitools";
import { decodeStreamName, encodeStreamName, printable } from "../../components/package/streamNames";
import { FILE_COLUMNS, PROPERTY_COLUMNS, syntheticMsi, type SyntheticCell } from "../../simulator/msiBuilder";

const fixtures = resolve(root, "test/fixtures/packages");

function failure(read: () => unknown): MsiPackageError {
  try {
    read();
  } catch (error) {
    if (error instanceof MsiPackageError) return error;
    throw error;
  }
  throw new Error("expected an MsiPackageError, but the package was read");
}

function expectFailure(read: () => unknown, kind: MsiPackageErrorKind, message: RegExp): void {
  const error = failure(read);
  expect(error.kind).toBe(kind);
  expect(error.message).toMatch(message);
}

const properties = (rows: Record<string, SyntheticCell>): SyntheticCell[][] =>
  Object.entries(rows).map(([name, value]) => [name, value]);

const standardProperties = {
  ProductCode: "{0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D}",
  ProductVersion: "1.2.3.4",
  ProductName: "Synthetic",
};

describe.each(packages)("$name.msi", ({ msi, wxs }) => {
  const read = readMsiPackageFile(msi);

  it("holds what its WiX source declares", () => {
    const facts = wxsFacts(wxs);
    expect(read).toEqual({
      productCode: facts.productCode,
      productVersion: facts.productVersion,
      productName: facts.productName,
      files: facts.files,
    });
  });

  it("passes its own schema", () => {
    expect(MsiPackage.parse(read)).toEqual(read);
  });

  it("reads the same from a buffer as from its path", () => {
    expect(readMsiPackage(readFileSync(msi))).toEqual(read);
  });
});

const missingMsiinfo = missingTools("msiinfo");
if (missingMsiinfo.length > 0) {
  skipNotice(
    "test/package/msiPackage.test.ts",
    "comparisons with msiinfo skipped: msiinfo not installed (apt-get install msitools)",
  );
}
const withMsiinfo = missingMsiinfo.length === 0 ? describe : describe.skip;

withMsiinfo("against msiinfo export", () => {
  it("reads the tampered package's File table as the below-requirement build, as Windows Installer would", () => {
    const tampered = regressionPackages.find((p) => p.name === "tampered")!.msi;
    const below = readMsiPackageFile(packages.find((p) => p.name === "KB952089-below")!.msi).files[0]!;
    expect(msiinfoExport(tampered, "File").map((row) => row.Version)).toEqual([below.version]);
  });

  describe.each(packages)("$name.msi", ({ msi }) => {
    const read = readMsiPackageFile(msi);

    it("lists the files of the File table, field by field", () => {
      const rows = msiinfoExport(msi, "File");
      expect(read.files).toHaveLength(rows.length);
      rows.forEach((row, index) => {
        const file = read.files[index]!;
        const names = row.FileName!;
        expect(file.fileName).toBe(names.slice(names.indexOf("|") + 1));
        expect(file.sizeBytes).toBe(Number(row.FileSize));
        expect(file.version).toBe(row.Version === "" ? null : row.Version);
        expect(file.language).toBe(row.Language === "" ? null : row.Language);
      });
    });

    it("takes the product from the Property table", () => {
      const values = new Map(msiinfoExport(msi, "Property").map((row) => [row.Property, row.Value]));
      expect(read.productCode).toBe(values.get("ProductCode"));
      expect(read.productVersion).toBe(values.get("ProductVersion"));
      expect(read.productName).toBe(values.get("ProductName"));
    });
  });

  it("agrees on a database with 3-byte string references and a string over 64 KiB", () => {
    const name = "Long ".repeat(14000);
    const bytes = syntheticMsi({
      longRefs: true,
      tables: {
        Property: { columns: PROPERTY_COLUMNS, rows: properties({ ...standardProperties, ProductName: name }) },
        File: {
          columns: FILE_COLUMNS,
          rows: [["a.dll", "A", "A~1.DLL|Alpha.dll", 70000, "2.0.0.1", "1033,1031", 512, 1]],
        },
      },
    });
    const dir = mkdtempSync(join(tmpdir(), "msi-"));
    try {
      const path = join(dir, "synthetic.msi");
      writeFileSync(path, bytes);
      const [file] = msiinfoExport(path, "File");
      expect(file).toMatchObject({ FileName: "A~1.DLL|Alpha.dll", FileSize: "70000", Version: "2.0.0.1" });
      const values = new Map(msiinfoExport(path, "Property").map((row) => [row.Property, row.Value]));
      expect(values.get("ProductName")).toBe(name);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(readMsiPackage(bytes).productName).toBe(name);
  });
});

/** A synthetic package with the standard properties and an empty File table, as a compound file to edit. */
function emptyFileTableContainer(): CFB.CFB$Container {
  return CFB.read(
    syntheticMsi({
      tables: {
        Property: { columns: PROPERTY_COLUMNS, rows: properties(standardProperties) },
        File: { columns: FILE_COLUMNS, rows: [] },
      },
    }),
    { type: "buffer" },
  );
}

describe("synthetic databases", () => {
  const fileRow = (key: string, version: SyntheticCell, language: SyntheticCell = null): SyntheticCell[] => [
    key,
    "C",
    `${key.toUpperCase()}|${key}`,
    1024,
    version,
    language,
    null,
    1,
  ];

  it.each([
    ["2-byte", false],
    ["3-byte", true],
  ])("reads %s string references and strings of 64 KiB and more", (_, longRefs) => {
    const name = "x".repeat(0x10000 + 17);
    const read = readMsiPackage(
      syntheticMsi({
        longRefs,
        tables: {
          Property: { columns: PROPERTY_COLUMNS, rows: properties({ ...standardProperties, ProductName: name }) },
          File: { columns: FILE_COLUMNS, rows: [fileRow("b.dll", "1.0.0.0", "0")] },
        },
      }),
    );
    expect(read.productName).toBe(name);
    expect(read.files).toEqual([{ fileName: "b.dll", version: "1.0.0.0", sizeBytes: 1024, language: "0" }]);
  });

  it("gives no version for unversioned and companion files", () => {
    const read = readMsiPackage(
      syntheticMsi({
        tables: {
          Property: { columns: PROPERTY_COLUMNS, rows: properties(standardProperties) },
          File: {
            columns: FILE_COLUMNS,
            rows: [
              fileRow("main.dll", "5.0.0.0", "1033"),
              fileRow("readme.txt", null),
              fileRow("main.pdb", "main.dll"),
            ],
          },
        },
      }),
    );
    expect(read.files.map((file) => [file.fileName, file.version, file.language])).toEqual([
      ["main.dll", "5.0.0.0", "1033"],
      ["readme.txt", null, null],
      ["main.pdb", null, null],
    ]);
  });

  it("reads a File table without rows as no files", () => {
    const read = readMsiPackage(
      syntheticMsi({
        tables: {
          Property: { columns: PROPERTY_COLUMNS, rows: properties(standardProperties) },
          File: { columns: FILE_COLUMNS, rows: [] },
        },
      }),
    );
    expect(read.files).toEqual([]);
  });

  it("decodes strings in the database's code page", () => {
    const read = readMsiPackage(
      syntheticMsi({
        codepage: 1252,
        tables: {
          Property: { columns: PROPERTY_COLUMNS, rows: properties({ ...standardProperties, ProductName: "Café" }) },
          File: { columns: FILE_COLUMNS, rows: [] },
        },
      }),
    );
    expect(read.productName).toBe("Café");
  });
});

describe("packages that cannot be read", () => {
  it("names a file that is not a compound file", () => {
    expectFailure(
      () => readMsiPackageFile(join(fixtures, "not-an-msi.msi")),
      "not-a-package",
      /^is not a Windows Installer package \(no compound-file header\)$/,
    );
  });

  it("names a package that is cut short", () => {
    expectFailure(
      () => readMsiPackageFile(join(fixtures, "damaged.msi")),
      "damaged",
      /^is damaged: it is cut short \(4096 bytes, but its compound-file header points at sector \d+, which ends at byte \d+\)$/,
    );
  });

  it("names a compound file that holds no installer database", () => {
    const container = CFB.utils.cfb_new();
    CFB.utils.cfb_add(container, "WordDocument", Buffer.from("not an installer database"));
    const bytes = Buffer.from(CFB.write(container, { type: "buffer" }) as Uint8Array);
    expectFailure(
      () => readMsiPackage(bytes),
      "not-a-package",
      /^is not a Windows Installer package \(a compound file/,
    );
  });

  it.each([
    ["86100c0000000000c000000000000046", /^is a Windows Installer patch \(\.msp\), not a package$/],
    ["82100c0000000000c000000000000046", /^is a Windows Installer transform \(\.mst\), not a package$/],
    [
      "00000000000000000000000000000000",
      /^is not a Windows Installer package \(its compound file is of class \{00000000-0000-0000-0000-000000000000\}, not \{000C1084-0000-0000-C000-000000000046\}\)$/,
    ],
  ])("names a compound file of class %s", (rootClass, message) => {
    const bytes = syntheticMsi({ rootClass, tables: { File: { columns: FILE_COLUMNS, rows: [] } } });
    expectFailure(() => readMsiPackage(bytes), "not-a-package", message);
  });

  it("names a database without a File table", () => {
    const bytes = syntheticMsi({
      tables: { Property: { columns: PROPERTY_COLUMNS, rows: properties(standardProperties) } },
    });
    expectFailure(() => readMsiPackage(bytes), "incomplete", /^has no File table$/);
  });

  it("names a database without a Property table", () => {
    const bytes = syntheticMsi({ tables: { File: { columns: FILE_COLUMNS, rows: [] } } });
    expectFailure(() => readMsiPackage(bytes), "incomplete", /^has no Property table$/);
  });

  it("names a product property that is missing", () => {
    const { ProductCode: _, ...rest } = standardProperties;
    const bytes = syntheticMsi({
      tables: {
        Property: { columns: PROPERTY_COLUMNS, rows: properties(rest) },
        File: { columns: FILE_COLUMNS, rows: [] },
      },
    });
    expectFailure(() => readMsiPackage(bytes), "incomplete", /^has no ProductCode in its Property table$/);
  });

  it("names a table whose stream is not whole rows", () => {
    const bytes = readFileSync(join(root, "stacks/demo-packages/KB952089.msi"));
    const container = CFB.read(bytes, { type: "buffer" });
    const file = container.FileIndex.find((entry) => {
      const { table, name } = decodeStreamName(entry.name);
      return table && name === "File";
    });
    if (file === undefined) throw new Error("test setup: KB952089.msi has no File stream");
    file.content = Buffer.concat([Buffer.from(file.content), Buffer.alloc(1)]);
    file.size += 1;
    const patched = Buffer.from(CFB.write(container, { type: "buffer" }) as Uint8Array);
    expectFailure(
      () => readMsiPackage(patched),
      "damaged",
      /^is damaged: its File table is \d+ bytes, not whole rows of \d+ bytes$/,
    );
  });

  it("names a table that _Columns describes but _Tables does not list", () => {
    const container = emptyFileTableContainer();
    const tables = container.FileIndex.find(
      (entry) => entry.name === encodeStreamName({ table: true, name: "_Tables" }),
    );
    if (tables === undefined) throw new Error("test setup: the synthetic package has no _Tables stream");
    // Its rows are string ids of two bytes each: keep only the first table listed.
    tables.content = Buffer.from(tables.content).subarray(0, 2);
    tables.size = 2;
    const bytes = Buffer.from(CFB.write(container, { type: "buffer" }) as Uint8Array);
    expectFailure(
      () => readMsiPackage(bytes),
      "damaged",
      /^is damaged: its _Tables table does not list its \w+ table$/,
    );
  });

  it("names a path that does not exist", () => {
    expectFailure(
      () => readMsiPackageFile(join(fixtures, "absent.msi")),
      "unreadable",
      /^cannot be read \(no such file\)$/,
    );
  });

  it("reads well after the caller's prefix", () => {
    const path = join(fixtures, "damaged.msi");
    const error = failure(() => readMsiPackageFile(path));
    expect(`packages.KB952089 (${path}): ${error.message}`).toMatch(
      /^packages\.KB952089 \(.*damaged\.msi\): is damaged: /,
    );
    expect(error.name).toBe("MsiPackageError");
  });
});

describe("the regression inputs of issue 20", () => {
  const fixture = (name: string): string => regressionPackages.find((p) => p.name === name)!.msi;

  it("refuses a second File table whose stream name Windows Installer would never open", () => {
    const error = failure(() => readMsiPackageFile(fixture("tampered")));
    const opened = printable(encodeStreamName({ table: true, name: "File" }));
    expect([error.kind, error.message]).toEqual([
      "ambiguous",
      `is ambiguous: its stream ${printable("\u4840File")} is marked as table File, but Windows Installer opens that ` +
        `table under the name ${opened}, so the two could hold different tables`,
    ]);
  });

  it("refuses a directory whose sibling link leads back up its tree", () => {
    expectFailure(
      () => readMsiPackageFile(fixture("directory-cycle")),
      "damaged",
      /^is damaged: its compound-file directory links to entry 1 twice \(a cycle or a shared subtree\)$/,
    );
  });

  it("refuses a stream size beyond the file before allocating it", () => {
    const path = fixture("huge-stream");
    expectFailure(
      () => readMsiPackageFile(path),
      "damaged",
      new RegExp(
        `^is damaged: the stream of table _Tables gives a size of 4294967295 bytes, more than the file's ${readFileSync(path).length} bytes$`,
      ),
    );
  });
});

describe("compound files damaged where a reader trusts them", () => {
  const demo = (): Buffer => readFileSync(join(root, "stacks/demo-packages/KB952089.msi"));
  const sectorStart = (bytes: Buffer, sector: number): number => (sector + 1) * (1 << bytes.readUInt16LE(0x1e));

  it("refuses a sector chain that loops", () => {
    const bytes = demo();
    const directory = bytes.readUInt32LE(0x30);
    bytes.writeUInt32LE(directory, sectorStart(bytes, bytes.readUInt32LE(0x4c)) + directory * 4);
    expectFailure(
      () => readMsiPackage(bytes),
      "damaged",
      new RegExp(`^is damaged: the directory leads to sector ${directory}, which it holds already \\(a loop\\)$`),
    );
  });

  it("refuses a header whose DIFAT count is not what its allocation table needs", () => {
    const bytes = demo();
    bytes.writeUInt32LE(1, 0x48);
    expectFailure(
      () => readMsiPackage(bytes),
      "damaged",
      /^is damaged: its compound-file header counts 1 DIFAT sectors where its 1 allocation-table sectors need 0$/,
    );
  });
});

describe("stream names read one to one", () => {
  /** A synthetic package with extra top-level streams, by raw name. */
  function withStreams(extra: Readonly<Record<string, Buffer>>): Buffer {
    const container = emptyFileTableContainer();
    for (const [name, content] of Object.entries(extra)) CFB.utils.cfb_add(container, name, content);
    return Buffer.from(CFB.write(container, { type: "buffer" }) as Uint8Array);
  }

  it("reads a package whose other streams have names of their own", () => {
    const bytes = withStreams({
      [encodeStreamName({ table: false, name: "Binary.Icon" })]: Buffer.from("icon"),
      "\u0005SummaryInformation": Buffer.alloc(48),
    });
    expect(readMsiPackage(bytes).productName).toBe(standardProperties.ProductName);
  });

  it("refuses two streams whose names decode alike", () => {
    const packed = encodeStreamName({ table: false, name: "Binary.Icon" });
    expectFailure(
      () => readMsiPackage(withStreams({ [packed]: Buffer.from("one"), "Binary.Icon": Buffer.from("two") })),
      "ambiguous",
      /^is ambiguous: its streams .+ and .+ both read as stream Binary\.Icon$/,
    );
  });
});

describe("table values as Windows Installer hands them out", () => {
  it("refuses a string with a NUL inside it, which readers end at different places", () => {
    const bytes = syntheticMsi({
      tables: {
        Property: {
          columns: PROPERTY_COLUMNS,
          rows: properties({ ...standardProperties, ProductVersion: "1.2.3.4\u0000hidden" }),
        },
        File: { columns: FILE_COLUMNS, rows: [] },
      },
    });
    expectFailure(
      () => readMsiPackage(bytes),
      "damaged",
      /^is damaged: its string pool's string \d+ holds a NUL character, where readers disagree on its end$/,
    );
  });

  it("refuses a string past ASCII in the neutral code page, which reads as the installing system makes it", () => {
    const bytes = syntheticMsi({
      codepage: 0,
      tables: {
        Property: { columns: PROPERTY_COLUMNS, rows: properties({ ...standardProperties, ProductName: "Café" }) },
        File: { columns: FILE_COLUMNS, rows: [] },
      },
    });
    expectFailure(
      () => readMsiPackage(bytes),
      "ambiguous",
      /^is ambiguous: its string \d+ holds bytes past ASCII in the neutral code page 0, so its text depends on the installing system's code page$/,
    );
  });

  it("refuses a string that is not text in the database's code page", () => {
    const bytes = syntheticMsi({
      codepage: 65001,
      tables: {
        Property: { columns: PROPERTY_COLUMNS, rows: properties(standardProperties) },
        File: { columns: FILE_COLUMNS, rows: [] },
      },
    });
    // The last string of the pool ends the _StringData stream: its last byte becomes a stray UTF-8 lead byte.
    const container = CFB.read(bytes, { type: "buffer" });
    const data = container.FileIndex.find((e) => e.name === encodeStreamName({ table: true, name: "_StringData" }))!;
    const content = Buffer.from(data.content);
    content[content.length - 1] = 0xc3;
    data.content = content;
    const patched = Buffer.from(CFB.write(container, { type: "buffer" }) as Uint8Array);
    expectFailure(
      () => readMsiPackage(patched),
      "damaged",
      /^is damaged: its string \d+ is not text in code page 65001$/,
    );
  });

  it("refuses a Property table that gives a property twice", () => {
    const bytes = syntheticMsi({
      tables: {
        Property: {
          columns: PROPERTY_COLUMNS,
          rows: [...properties(standardProperties), ["ProductVersion", "9.9.9.9"]],
        },
        File: { columns: FILE_COLUMNS, rows: [] },
      },
    });
    expectFailure(
      () => readMsiPackage(bytes),
      "damaged",
      /^is damaged: its Property table gives ProductVersion twice$/,
    );
  });
});
