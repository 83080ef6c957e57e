import { damaged } from "./errors";
import type { StringPool } from "./stringPool";

// Tables are stored column by column: all rows of the first column, then all rows of the next.
// Integers are biased (i2 by 0x8000, i4 by 0x80000000) so that 0 can mean null; strings are
// string-pool ids. Format as read by libmsi (table.c: read_table_from_storage, get_tablecolumns).

const VALID = 0x0100;
const STRING = 0x0800;
const NULLABLE = 0x1000;
const KEY = 0x2000;
const SIZE = 0x00ff;

export type Cell = string | number | null;
export type Row = Readonly<Record<string, Cell>>;

export interface Column {
  readonly name: string;
  /** The _Columns type word: size in the low byte, then the valid, string, nullable and key bits. */
  readonly type: number;
}

export interface Database {
  /** The tables the database lists in its _Tables table. */
  tables(): ReadonlySet<string>;
  /** The table's columns in order, or undefined when the database defines no such table. */
  columns(table: string): readonly Column[] | undefined;
  rows(table: string): readonly Row[];
}

// _Tables lists the tables and _Columns describes every other table, so their schemas are fixed.
const TABLES_SCHEMA: readonly Column[] = [{ name: "Name", type: VALID | STRING | KEY | 64 }];
const COLUMNS_SCHEMA: readonly Column[] = [
  { name: "Table", type: VALID | STRING | KEY | 64 },
  { name: "Number", type: VALID | KEY | 2 },
  { name: "Name", type: VALID | STRING | 64 },
  { name: "Type", type: VALID | 2 },
];

/** A table's stream by the table's name, or undefined when the database holds no stream for it. */
export type TableStreams = (table: string) => Buffer | undefined;

export function openDatabase(streams: TableStreams, strings: StringPool): Database {
  const catalogue = decodeRows("_Columns", streams("_Columns"), COLUMNS_SCHEMA, strings);

  const columns = (table: string): readonly Column[] | undefined => {
    const numbered = new Map<number, Column>();
    for (const row of catalogue) {
      if (row.Table !== table) continue;
      const { Number: number, Name: name, Type: type } = row;
      if (typeof number !== "number" || typeof name !== "string" || typeof type !== "number") {
        throw damaged(`its _Columns table has an incomplete entry for table ${table}`);
      }
      if (numbered.has(number)) throw damaged(`its _Columns table gives table ${table} two columns ${number}`);
      numbered.set(number, { name, type });
    }
    if (numbered.size === 0) return undefined;
    return Array.from({ length: numbered.size }, (_, index) => {
      const column = numbered.get(index + 1);
      if (column === undefined) throw damaged(`its _Columns table leaves out column ${index + 1} of table ${table}`);
      return column;
    });
  };

  return {
    tables(): ReadonlySet<string> {
      const names = decodeRows("_Tables", streams("_Tables"), TABLES_SCHEMA, strings).map((row) => row.Name);
      return new Set(names.filter((name): name is string => typeof name === "string"));
    },
    columns,
    rows(table: string): readonly Row[] {
      const schema = columns(table);
      return schema === undefined ? [] : decodeRows(table, streams(table), schema, strings);
    },
  };
}

function decodeRows(table: string, stream: Buffer | undefined, schema: readonly Column[], strings: StringPool): Row[] {
  // A table without rows has no stream at all.
  if (stream === undefined) return [];
  const widths = schema.map((column) => widthOf(table, column, strings.refBytes));
  const rowBytes = widths.reduce((sum, width) => sum + width, 0);
  if (stream.length % rowBytes !== 0) {
    throw damaged(`its ${table} table is ${stream.length} bytes, not whole rows of ${rowBytes} bytes`);
  }
  const rowCount = stream.length / rowBytes;

  const rows: Record<string, Cell>[] = Array.from({ length: rowCount }, () => ({}));
  let columnStart = 0;
  schema.forEach((column, index) => {
    const width = widths[index]!;
    rows.forEach((row, rowIndex) => {
      row[column.name] = decodeCell(column, stream.readUIntLE(columnStart + rowIndex * width, width), strings);
    });
    columnStart += rowCount * width;
  });
  return rows;
}

function isBinary(type: number): boolean {
  return (type & ~NULLABLE) === (STRING | VALID);
}

function widthOf(table: string, column: Column, refBytes: number): number {
  if (isBinary(column.type)) return 2;
  if (column.type & STRING) return refBytes;
  const size = column.type & SIZE;
  if (size <= 2) return 2;
  if (size === 4) return 4;
  throw damaged(`column ${column.name} of its ${table} table is an integer of ${size} bytes`);
}

function decodeCell(column: Column, raw: number, strings: StringPool): Cell {
  // Binary columns name a stream of their own; what it holds is not needed here.
  if (isBinary(column.type)) return null;
  if (column.type & STRING) return strings.lookup(raw);
  if (raw === 0) return null;
  return (column.type & SIZE) === 4 ? (raw ^ 0x80000000) | 0 : raw - 0x8000;
}
