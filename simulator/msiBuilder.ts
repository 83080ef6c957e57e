import * as CFB from "cfb";
import { encodeStreamName } from "../components/package/streamNames";

// Builds installer databases by hand, in the layout Windows Installer reads (and components/package,
// which the tests hold to msiinfo): packages of any content for the simulated fleet's tests, and
// what wixl never writes (3-byte string references, strings of 64 KiB and more, missing tables).

export const TYPES = {
  key: 0x2d48, // s72, primary key
  text: 0x0d48, // s72
  nullableText: 0x1d48, // S72
  longText: 0x0f00, // l0
  i2: 0x0502,
  nullableI2: 0x1502,
  i4: 0x0104,
} as const;

export type SyntheticCell = string | number | null;

export interface SyntheticTable {
  readonly columns: readonly { name: string; type: number }[];
  readonly rows: readonly (readonly SyntheticCell[])[];
}

export const DATABASE_CLASS = "84100c0000000000c000000000000046";

export interface SyntheticOptions {
  /** The root storage's class id as cfb spells it: 16 bytes in hex. */
  readonly rootClass?: string;
  readonly codepage?: number;
  readonly longRefs?: boolean;
  readonly tables: Readonly<Record<string, SyntheticTable>>;
}

const CATALOGUE_COLUMNS: SyntheticTable["columns"] = [
  { name: "Table", type: 0x2d40 },
  { name: "Number", type: 0x2502 },
  { name: "Name", type: 0x0d40 },
  { name: "Type", type: 0x0502 },
];

export function syntheticMsi({
  rootClass = DATABASE_CLASS,
  codepage = 65001,
  longRefs = false,
  tables,
}: SyntheticOptions): Buffer {
  const ids = new Map<string, number>();
  const refs: number[] = [];
  const idOf = (text: string): number => {
    let id = ids.get(text);
    if (id === undefined) {
      id = ids.size + 1;
      ids.set(text, id);
    }
    refs[id] = (refs[id] ?? 0) + 1;
    return id;
  };
  const refBytes = longRefs ? 3 : 2;

  const encodeTable = ({ columns, rows }: SyntheticTable): Buffer => {
    const parts = columns.map((column, index) => {
      const isString = (column.type & 0x0800) !== 0;
      const width = isString ? refBytes : (column.type & 0xff) === 4 ? 4 : 2;
      const part = Buffer.alloc(width * rows.length);
      rows.forEach((row, rowIndex) => {
        const cell = row[index] ?? null;
        let raw = 0;
        if (typeof cell === "string") raw = idOf(cell);
        else if (typeof cell === "number") raw = width === 4 ? (cell ^ 0x80000000) >>> 0 : cell + 0x8000;
        part.writeUIntLE(raw, rowIndex * width, width);
      });
      return part;
    });
    return Buffer.concat(parts);
  };

  const streams = new Map<string, Buffer>();
  const names = Object.keys(tables);
  for (const name of names) {
    const table = tables[name]!;
    if (table.rows.length > 0) streams.set(name, encodeTable(table));
  }
  streams.set("_Tables", encodeTable({ columns: [{ name: "Name", type: 0x2d40 }], rows: names.map((n) => [n]) }));
  const catalogue = names.flatMap((name) =>
    tables[name]!.columns.map((column, index) => [name, index + 1, column.name, column.type]),
  );
  streams.set("_Columns", encodeTable({ columns: CATALOGUE_COLUMNS, rows: catalogue }));

  const pool: Buffer[] = [u16pair(codepage & 0xffff, (codepage >>> 16) | (longRefs ? 0x8000 : 0))];
  const data: Buffer[] = [];
  for (const [text, id] of ids) {
    const bytes = Buffer.from(text, codepage === 65001 ? "utf8" : "latin1");
    if (bytes.length >= 0x10000) pool.push(u16pair(0, refs[id]!), u16pair(bytes.length & 0xffff, bytes.length >>> 16));
    else pool.push(u16pair(bytes.length, refs[id]!));
    data.push(bytes);
  }
  streams.set("_StringPool", Buffer.concat(pool));
  streams.set("_StringData", Buffer.concat(data));

  const container = CFB.utils.cfb_new();
  container.FileIndex[0]!.clsid = rootClass;
  for (const [name, content] of streams) {
    CFB.utils.cfb_add(container, encodeStreamName({ table: true, name }), content);
  }
  return Buffer.from(CFB.write(container, { type: "buffer" }) as Uint8Array);
}

function u16pair(low: number, high: number): Buffer {
  const entry = Buffer.alloc(4);
  entry.writeUInt16LE(low, 0);
  entry.writeUInt16LE(high, 2);
  return entry;
}

export const FILE_COLUMNS: SyntheticTable["columns"] = [
  { name: "File", type: TYPES.key },
  { name: "Component_", type: TYPES.text },
  { name: "FileName", type: 0x0fff },
  { name: "FileSize", type: TYPES.i4 },
  { name: "Version", type: TYPES.nullableText },
  { name: "Language", type: 0x1d14 },
  { name: "Attributes", type: TYPES.nullableI2 },
  { name: "Sequence", type: TYPES.i4 },
];

export const PROPERTY_COLUMNS: SyntheticTable["columns"] = [
  { name: "Property", type: TYPES.key },
  { name: "Value", type: TYPES.longText },
];
