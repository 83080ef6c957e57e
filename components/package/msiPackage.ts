import { readFileSync } from "node:fs";
import { z } from "zod";
import { readContainer } from "./container";
import { damaged, MsiPackageError } from "./errors";
import { encodeStreamName } from "./streamNames";
import { readStringPool } from "./stringPool";
import { openDatabase, type Database, type Row } from "./tables";

export { MsiPackageError, type MsiPackageErrorKind } from "./errors";
export type { Cell, Database } from "./tables";

// Root storage classes of the installer's compound files (msi.h: CLSID_MsiDatabase, CLSID_MsiPatch, CLSID_MsiTransform).
const DATABASE_CLASS = "{000C1084-0000-0000-C000-000000000046}";
const OTHER_INSTALLER_FILES: Readonly<Record<string, string>> = {
  "{000C1086-0000-0000-C000-000000000046}": "a Windows Installer patch (.msp)",
  "{000C1082-0000-0000-C000-000000000046}": "a Windows Installer transform (.mst)",
};

export const MsiPackageFile = z.strictObject({
  /** The long name: the File table's FileName holds `SHORT|Long` when both are given. */
  fileName: z.string().min(1),
  /** The file version, or null for an unversioned file and for a companion file (whose Version names another file). */
  version: z.string().min(1).nullable(),
  sizeBytes: z.number().int().nonnegative(),
  /** Language ids as the package lists them, e.g. "1033" or "1033,1031"; null when none are given. */
  language: z.string().min(1).nullable(),
});
export type MsiPackageFile = z.infer<typeof MsiPackageFile>;

export const MsiPackage = z.strictObject({
  productCode: z.string().regex(/^\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}$/i, "expected a GUID in braces"),
  productVersion: z.string().min(1),
  productName: z.string().min(1),
  /** In the order of the package's File table. */
  files: z.array(MsiPackageFile),
});
export type MsiPackage = z.infer<typeof MsiPackage>;

/**
 * The installer database of a package, its tables read as Windows Installer reads them; throws
 * MsiPackageError when it cannot be read.
 */
export function openMsiDatabase(bytes: Buffer): Database {
  const { rootClass, streams } = readContainer(bytes);
  // As Windows Installer does, a table is opened by the stream name it encodes for it.
  const table = (name: string): Buffer | undefined => streams.get(encodeStreamName({ table: true, name }));
  const otherFile = OTHER_INSTALLER_FILES[rootClass];
  if (otherFile !== undefined) throw new MsiPackageError("not-a-package", `is ${otherFile}, not a package`);
  const pool = table("_StringPool");
  const data = table("_StringData");
  if (pool === undefined && table("_Columns") === undefined) {
    throw new MsiPackageError(
      "not-a-package",
      "is not a Windows Installer package (a compound file without an installer database)",
    );
  }
  if (rootClass !== DATABASE_CLASS) {
    throw new MsiPackageError(
      "not-a-package",
      `is not a Windows Installer package (its compound file is of class ${rootClass}, not ${DATABASE_CLASS})`,
    );
  }
  if (pool === undefined || data === undefined) {
    throw damaged(`it has no ${pool === undefined ? "_StringPool" : "_StringData"} stream`);
  }
  return openDatabase(table, readStringPool(pool, data));
}

/** Reads what a Windows Installer package installs; throws MsiPackageError when it cannot. */
export function readMsiPackage(bytes: Buffer): MsiPackage {
  const database = openMsiDatabase(bytes);
  const listed = database.tables();
  for (const name of ["File", "Property"]) {
    if (database.columns(name) === undefined) throw new MsiPackageError("incomplete", `has no ${name} table`);
    // Windows Installer (and libmsi, for a table's keys) takes the tables from _Tables: a table
    // described in _Columns alone is one a reader may or may not see.
    if (!listed.has(name)) throw damaged(`its _Tables table does not list its ${name} table`);
  }
  const properties = new Map<string | null, string | null>();
  for (const row of database.rows("Property")) {
    const name = text(row, "Property", "Property");
    // A key given twice is read one way here and perhaps another by the installer: refused.
    if (properties.has(name)) throw damaged(`its Property table gives ${name ?? "a null property"} twice`);
    properties.set(name, text(row, "Property", "Value"));
  }
  const property = (name: string): string => {
    const value = properties.get(name);
    if (value === undefined || value === null)
      throw new MsiPackageError("incomplete", `has no ${name} in its Property table`);
    return value;
  };

  const fileRows = database.rows("File");
  const fileKeys = new Set<string | null>();
  for (const row of fileRows) {
    const key = text(row, "File", "File");
    if (fileKeys.has(key)) throw damaged(`its File table gives the key ${key ?? "(null)"} twice`);
    fileKeys.add(key);
  }
  const files = fileRows.map((row) => {
    const names = text(row, "File", "FileName") ?? "";
    const version = text(row, "File", "Version");
    const size = row.FileSize;
    if (typeof size !== "number") throw damaged(`its File table gives ${names || "a file"} no FileSize`);
    return {
      fileName: names.slice(names.indexOf("|") + 1),
      version: version !== null && fileKeys.has(version) ? null : version,
      sizeBytes: size,
      language: text(row, "File", "Language"),
    };
  });

  const parsed = MsiPackage.safeParse({
    productCode: property("ProductCode"),
    productVersion: property("ProductVersion"),
    productName: property("ProductName"),
    files,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw damaged(`its tables hold unexpected values (${problems.join("; ")})`);
  }
  return parsed.data;
}

export function readMsiPackageFile(path: string): MsiPackage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : (error as Error).message;
    throw new MsiPackageError("unreadable", `cannot be read (${why})`);
  }
  return readMsiPackage(bytes);
}

function text(row: Row, table: string, column: string): string | null {
  const cell = row[column];
  if (cell === undefined) throw damaged(`its ${table} table has no ${column} column`);
  if (typeof cell === "number") throw damaged(`its ${table} table holds a number in its text column ${column}`);
  return cell;
}
