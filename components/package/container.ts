import * as CFB from "cfb";
import { damaged, MsiPackageError } from "./errors";
import { decodeStreamName } from "./streamNames";

const SIGNATURE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
const HEADER_BYTES = 512;
const MAX_REGULAR_SECTOR = 0xfffffffa;

export interface Container {
  /** The root storage's class id, e.g. {000C1084-0000-0000-C000-000000000046} for an installer database. */
  readonly rootClass: string;
  /** The table streams at the top of the compound file (the string pool among them), by decoded name. */
  readonly tables: ReadonlyMap<string, Buffer>;
}

export function readContainer(bytes: Buffer): Container {
  if (bytes.length < SIGNATURE.length || !bytes.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
    throw new MsiPackageError("not-a-package", "is not a Windows Installer package (no compound-file header)");
  }
  if (bytes.length < HEADER_BYTES) {
    throw damaged(`it is cut short (${bytes.length} bytes, less than the ${HEADER_BYTES}-byte compound-file header)`);
  }
  checkLength(bytes);

  let container: CFB.CFB$Container;
  try {
    container = CFB.read(bytes, { type: "buffer" });
  } catch (error) {
    throw damaged(`its compound file cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }

  const root = container.FullPaths[0] ?? "";
  const tables = new Map<string, Buffer>();
  container.FileIndex.forEach((entry, index) => {
    if (entry.type !== 2 || container.FullPaths[index] !== root + entry.name) return;
    const content = Buffer.from(entry.content);
    const { table, name } = decodeStreamName(entry.name);
    if (content.length !== entry.size) {
      throw damaged(`stream ${name} is cut short (${content.length} of ${entry.size} bytes)`);
    }
    if (table) tables.set(name, content);
  });
  return { rootClass: guidOf(container.FileIndex[0]?.clsid ?? ""), tables };
}

/** The class id as its 16 bytes in hex, the first three fields little-endian, in registry form. */
function guidOf(hex: string): string {
  const bytes = Buffer.from(hex.padEnd(32, "0").slice(0, 32), "hex");
  const field = (start: number, end: number, littleEndian: boolean): string => {
    const part = bytes.subarray(start, end);
    return Buffer.from(littleEndian ? [...part].reverse() : part).toString("hex");
  };
  return `{${[field(0, 4, true), field(4, 6, true), field(6, 8, true), field(8, 10, false), field(10, 16, false)].join("-").toUpperCase()}}`;
}

/**
 * A cut-short file is told apart here, before the container reader fails on it less clearly: the
 * header names the sectors of the directory and the allocation table, and that table links the rest.
 */
function checkLength(bytes: Buffer): void {
  const sectorShift = bytes.readUInt16LE(0x1e);
  if (sectorShift !== 9 && sectorShift !== 12) {
    throw damaged(`its compound-file header gives a sector size of 2^${sectorShift} bytes`);
  }
  const sectorSize = 1 << sectorShift;
  const sectorsPresent = Math.max(0, Math.floor(bytes.length / sectorSize) - 1);
  // Sector 0 follows the header, which fills the first sector's worth of bytes.
  const startOf = (sector: number): number => (sector + 1) * sectorSize;
  const endOf = (sector: number): number => startOf(sector) + sectorSize;
  const cutShort = (what: string, sector: number): MsiPackageError =>
    damaged(
      `it is cut short (${bytes.length} bytes, but ${what} sector ${sector}, which ends at byte ${endOf(sector)})`,
    );

  // The directory, the mini allocation table and the allocation-table index's overflow.
  const named = [0x30, 0x3c, 0x44].map((offset) => bytes.readUInt32LE(offset));
  const fatSectors: number[] = [];
  for (let offset = 0x4c; offset < HEADER_BYTES; offset += 4) fatSectors.push(bytes.readUInt32LE(offset));
  const furthestNamed = Math.max(-1, ...[...named, ...fatSectors].filter((sector) => sector <= MAX_REGULAR_SECTOR));
  if (furthestNamed >= sectorsPresent) throw cutShort("its compound-file header points at", furthestNamed);

  // Unused entries are free or, from some writers, end-of-chain: only links count.
  let furthestLinked = -1;
  const entries = sectorSize / 4;
  for (const fatSector of fatSectors.filter((sector) => sector <= MAX_REGULAR_SECTOR)) {
    for (let entry = 0; entry < entries; entry++) {
      const next = bytes.readUInt32LE(startOf(fatSector) + entry * 4);
      if (next <= MAX_REGULAR_SECTOR) furthestLinked = Math.max(furthestLinked, next);
    }
  }
  if (furthestLinked >= sectorsPresent) throw cutShort("its allocation table links to", furthestLinked);
}
