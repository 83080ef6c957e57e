import { readFileSync } from "node:fs";
import { z } from "zod";
import { readContainer } from "./container";
import { damaged, MsiPackageError } from "./errors";
import { readStringPool } from "./stringPool";
import { openDatabase, type Row } from "./tables";

export { MsiPackageError, type MsiPackageErrorKind } from "./errors";

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

/** Reads what a Windows Installer package installs; throws MsiPackageError when it cannot. */
export function readMsiPackage(bytes: Buffer): MsiPackage {
  const { rootClass, tables } = readContainer(bytes);
  const otherFile = OTHER_INSTALLER_FILES[rootClass];
  if (otherFile !== undefined) throw new MsiPackageError("not-a-package", `is ${otherFile}, not a package`);
  const pool = tables.get("_StringPool");
  const data = tables.get("_StringData");
  if (pool === undefined && !tables.has("_Columns")) {
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
  const database = openDatabase(tables, readStringPool(pool, data));

  for (const table of ["File", "Property"]) {
    if (database.columns(table) === undefined) throw new MsiPackageError("incomplete", `has no ${table} table`);
  }
  const properties = new Map<string | null, string | null>();
  for (const row of database.rows("Property")) {
    properties.set(text(row, "Property", "Property"), text(row, "Property", "Value"));
  }
  const property = (name: string): string => {
    const value = properties.get(name);
    if (value === undefined || value === null)
      throw new MsiPackageError("incomplete", `has no ${name} in its Property table`);
    return value;
  };

  const fileRows = database.rows("File");
  const fileKeys = new Set(fileRows.map((row) => text(row, "File", "File")));
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
