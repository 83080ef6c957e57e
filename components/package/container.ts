import { ambiguous, damaged, MsiPackageError } from "./errors";
import { describeStream, printable, streamNameProblem } from "./streamNames";

// A bounded reader of the compound files Windows Installer keeps its databases in, after [MS-CFB]
// (Compound File Binary File Format, Microsoft Open Specifications). Everything the file says about
// itself is outside input: every sector number is checked against the sectors the file holds, every
// chain and every directory tree is walked once with a record of what was visited, and every size
// is checked against what its chain holds before a byte is copied. So reading takes time and memory
// in proportion to the file, and a damaged file is refused with what is wrong, never a hang.

const SIGNATURE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
const HEADER_BYTES = 512;
// [MS-CFB] 2.1: sector numbers above MAXREGSECT are markers, not sectors.
const MAX_REGULAR_SECTOR = 0xfffffffa;
const END_OF_CHAIN = 0xfffffffe;
const FREE_SECTOR = 0xffffffff;
// [MS-CFB] 2.6: stream ids above MAXREGSID are markers; NOSTREAM ends a link.
const NO_STREAM = 0xffffffff;
const DIRECTORY_ENTRY_BYTES = 128;
const MINI_SECTOR_BYTES = 64;
const MINI_STREAM_CUTOFF = 4096;

/** [MS-CFB] 2.6.1: a directory entry's object type. */
const ObjectType = { Unallocated: 0, Storage: 1, Stream: 2, Root: 5 } as const;

export interface Container {
  /** The root storage's class id, e.g. {000C1084-0000-0000-C000-000000000046} for an installer database. */
  readonly rootClass: string;
  /**
   * The streams at the top of the compound file, by their exact (encoded) names: Windows Installer
   * opens a table's stream by the name it encodes, so a lookup here is by that name, never by a decoding.
   */
  readonly streams: ReadonlyMap<string, Buffer>;
}

interface Header {
  readonly majorVersion: number;
  readonly sectorSize: number;
  readonly fatSectorCount: number;
  readonly firstDirectorySector: number;
  readonly firstMiniFatSector: number;
  readonly miniFatSectorCount: number;
  readonly firstDifatSector: number;
  readonly difatSectorCount: number;
}

interface Entry {
  readonly id: number;
  readonly name: string;
  readonly type: number;
  readonly left: number;
  readonly right: number;
  readonly child: number;
  readonly classId: Buffer;
  readonly startSector: number;
  readonly size: number;
}

export function readContainer(bytes: Buffer): Container {
  if (bytes.length < SIGNATURE.length || !bytes.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
    throw new MsiPackageError("not-a-package", "is not a Windows Installer package (no compound-file header)");
  }
  if (bytes.length < HEADER_BYTES) {
    throw damaged(`it is cut short (${bytes.length} bytes, less than the ${HEADER_BYTES}-byte compound-file header)`);
  }
  const header = readHeader(bytes);
  checkLength(bytes, header.sectorSize);
  return new CompoundFile(bytes, header).read();
}

/** [MS-CFB] 2.2 Compound File Header: only the layouts of versions 3 and 4 are known. */
function readHeader(bytes: Buffer): Header {
  const majorVersion = bytes.readUInt16LE(0x1a);
  const sectorShift = bytes.readUInt16LE(0x1e);
  if (sectorShift !== 9 && sectorShift !== 12) {
    throw damaged(`its compound-file header gives a sector size of 2^${sectorShift} bytes`);
  }
  const expectedShift = majorVersion === 3 ? 9 : majorVersion === 4 ? 12 : undefined;
  if (expectedShift === undefined) throw damaged(`its compound-file header gives version ${majorVersion}, not 3 or 4`);
  if (sectorShift !== expectedShift) {
    throw damaged(`its compound-file header gives version ${majorVersion} with sectors of 2^${sectorShift} bytes`);
  }
  if (bytes.readUInt16LE(0x1c) !== 0xfffe)
    throw damaged("its compound-file header has no little-endian byte-order mark");
  const miniShift = bytes.readUInt16LE(0x20);
  if (miniShift !== 6) throw damaged(`its compound-file header gives mini sectors of 2^${miniShift} bytes, not 64`);
  const cutoff = bytes.readUInt32LE(0x38);
  if (cutoff !== MINI_STREAM_CUTOFF) {
    throw damaged(`its compound-file header gives a mini-stream cutoff of ${cutoff} bytes, not ${MINI_STREAM_CUTOFF}`);
  }
  return {
    majorVersion,
    sectorSize: 1 << sectorShift,
    fatSectorCount: bytes.readUInt32LE(0x2c),
    firstDirectorySector: bytes.readUInt32LE(0x30),
    firstMiniFatSector: bytes.readUInt32LE(0x3c),
    miniFatSectorCount: bytes.readUInt32LE(0x40),
    firstDifatSector: bytes.readUInt32LE(0x44),
    difatSectorCount: bytes.readUInt32LE(0x48),
  };
}

class CompoundFile {
  private readonly sectorSize: number;
  /** Sectors the file holds in full; sector n starts at (n + 1) * sectorSize ([MS-CFB] 2.2). */
  private readonly sectorCount: number;
  /** Which chain holds each sector: no sector may be in two ([MS-CFB] 2.3: a sector has one FAT entry). */
  private readonly owner: (string | undefined)[];
  private fat: Uint32Array = new Uint32Array(0);

  constructor(
    private readonly bytes: Buffer,
    private readonly header: Header,
  ) {
    this.sectorSize = header.sectorSize;
    this.sectorCount = Math.max(0, Math.floor(bytes.length / this.sectorSize) - 1);
    this.owner = new Array<string | undefined>(this.sectorCount);
  }

  read(): Container {
    if (this.header.fatSectorCount === 0) throw damaged("its compound-file header counts no allocation-table sector");
    this.fat = this.readFat();
    const directory = this.readChain(this.header.firstDirectorySector, "the directory");
    const entries = this.readEntries(directory);
    const root = entries[0];
    if (root === undefined || root.type !== ObjectType.Root) {
      throw damaged("its compound-file directory does not start with the root storage");
    }
    // The root has no siblings ([MS-CFB] 2.6.2); a reader that follows them anyway reads another tree.
    if (root.left !== NO_STREAM || root.right !== NO_STREAM) {
      throw damaged("its compound-file root storage has siblings in the directory");
    }
    const miniStream = this.readMiniStream(root);
    const miniFat = this.readMiniFat();
    const miniOwner = new Array<string | undefined>(Math.floor(miniStream.length / MINI_SECTOR_BYTES));

    const streams = new Map<string, Buffer>();
    const children = this.walkDirectory(entries, root);
    for (const entry of children) {
      if (entry.type !== ObjectType.Stream) continue;
      const what = describeStream(entry.name);
      if (streams.has(entry.name)) {
        throw ambiguous(`it has two streams named ${printable(entry.name)}`);
      }
      const content =
        entry.size < MINI_STREAM_CUTOFF
          ? readMiniChain(miniStream, miniFat, miniOwner, entry, what)
          : this.readChain(entry.startSector, what, entry.size);
      streams.set(entry.name, content);
    }
    // Windows Installer finds a table by the name it encodes; a second name that reads the same, or
    // a name that does not encode back to itself, would let this reader and the installer see
    // different tables. Such a package is refused rather than read one of the two ways.
    const problem = streamNameProblem([...streams.keys()]);
    if (problem !== undefined) throw ambiguous(problem);
    return { rootClass: guidOf(root.classId), streams };
  }

  /** [MS-CFB] 2.5: the FAT's sectors, listed by the header's 109 DIFAT entries and then the DIFAT chain. */
  private readFat(): Uint32Array {
    const { fatSectorCount, firstDifatSector, difatSectorCount } = this.header;
    if (fatSectorCount > this.sectorCount) {
      throw damaged(
        `its compound-file header counts ${fatSectorCount} allocation-table sectors in a file of ${this.sectorCount} sectors`,
      );
    }
    if (difatSectorCount > this.sectorCount) {
      throw damaged(
        `its compound-file header counts ${difatSectorCount} DIFAT sectors in a file of ${this.sectorCount} sectors`,
      );
    }
    const listed: number[] = [];
    for (let offset = 0x4c; offset < HEADER_BYTES && listed.length < fatSectorCount; offset += 4) {
      listed.push(this.bytes.readUInt32LE(offset));
    }
    // The header counts the DIFAT sectors, and other readers walk that many: it must be exactly the
    // number the FAT's sectors need, the chain ending after the last ([MS-CFB] 2.2, 2.5).
    const perDifatSector = this.sectorSize / 4 - 1;
    const needed = Math.ceil((fatSectorCount - listed.length) / perDifatSector);
    if (difatSectorCount !== needed) {
      throw damaged(
        `its compound-file header counts ${difatSectorCount} DIFAT sectors where its ${fatSectorCount} allocation-table sectors need ${needed}`,
      );
    }
    let difat = firstDifatSector;
    for (let read = 0; read < difatSectorCount; read++) {
      this.claim(difat, "the DIFAT");
      const start = this.startOf(difat);
      for (let index = 0; index < perDifatSector && listed.length < fatSectorCount; index++) {
        listed.push(this.bytes.readUInt32LE(start + index * 4));
      }
      difat = this.bytes.readUInt32LE(start + perDifatSector * 4);
    }
    if (difat !== END_OF_CHAIN) throw damaged("its DIFAT goes on past the sectors its header counts");

    const perSector = this.sectorSize / 4;
    const fat = new Uint32Array(fatSectorCount * perSector);
    listed.forEach((sector, index) => {
      this.claim(sector, "the allocation table");
      const start = this.startOf(sector);
      for (let entry = 0; entry < perSector; entry++)
        fat[index * perSector + entry] = this.bytes.readUInt32LE(start + entry * 4);
    });
    return fat;
  }

  /**
   * A chain of regular sectors from the FAT ([MS-CFB] 2.3), each sector at most once in the whole
   * file; with a size, exactly the sectors that size needs and the bytes it gives.
   */
  private readChain(first: number, what: string, size?: number): Buffer {
    const needed = size === undefined ? undefined : Math.ceil(size / this.sectorSize);
    if (needed !== undefined && needed > this.sectorCount) {
      throw damaged(`${what} gives a size of ${size} bytes, more than the file's ${this.bytes.length} bytes`);
    }
    const sectors: number[] = [];
    let sector = first;
    while (sector !== END_OF_CHAIN) {
      if (needed !== undefined && sectors.length === needed) {
        throw damaged(`${what} is ${size} bytes, but its sector chain goes on past sector ${sectors.at(-1)}`);
      }
      this.claim(sector, what);
      sectors.push(sector);
      sector = this.fat[sector]!;
    }
    if (needed !== undefined && sectors.length < needed) {
      throw damaged(`${what} is ${size} bytes, but its sector chain ends after ${sectors.length * this.sectorSize}`);
    }
    const content = Buffer.alloc(sectors.length * this.sectorSize);
    sectors.forEach((s, index) =>
      this.bytes.copy(content, index * this.sectorSize, this.startOf(s), this.startOf(s) + this.sectorSize),
    );
    return size === undefined ? content : content.subarray(0, size);
  }

  /** Marks a sector as part of a chain, refusing one that is a marker, beyond the file, or in a chain already. */
  private claim(sector: number, what: string): void {
    if (sector > MAX_REGULAR_SECTOR) {
      const marker = sector === FREE_SECTOR ? "a free sector" : `the marker 0x${sector.toString(16)}`;
      throw damaged(`${what} leads to ${marker} before its end`);
    }
    // While the FAT itself is read, its sectors are checked against the file alone; after, every
    // sector of a chain must also have an entry in it.
    if (sector >= this.sectorCount || (this.fat.length > 0 && sector >= this.fat.length)) {
      throw damaged(`${what} leads to sector ${sector}, beyond the file's ${this.sectorCount} sectors`);
    }
    const before = this.owner[sector];
    if (before !== undefined) {
      throw damaged(
        `${what} leads to sector ${sector}, which ${before === what ? "it holds already (a loop)" : `is in ${before} already`}`,
      );
    }
    this.owner[sector] = what;
  }

  private startOf(sector: number): number {
    return (sector + 1) * this.sectorSize;
  }

  /** [MS-CFB] 2.6.1 Compound File Directory Entry. */
  private readEntries(directory: Buffer): Entry[] {
    const entries: Entry[] = [];
    const count = Math.floor(directory.length / DIRECTORY_ENTRY_BYTES);
    for (let id = 0; id < count; id++) {
      const at = id * DIRECTORY_ENTRY_BYTES;
      const type = directory.readUInt8(at + 0x42);
      const nameBytes = directory.readUInt16LE(at + 0x40);
      const entry = {
        id,
        type,
        name: "",
        left: directory.readUInt32LE(at + 0x44),
        right: directory.readUInt32LE(at + 0x48),
        child: directory.readUInt32LE(at + 0x4c),
        classId: directory.subarray(at + 0x50, at + 0x60),
        startSector: directory.readUInt32LE(at + 0x74),
        size: directory.readUInt32LE(at + 0x78),
      };
      if (type === ObjectType.Unallocated) {
        entries.push(entry);
        continue;
      }
      if (type !== ObjectType.Storage && type !== ObjectType.Stream && type !== ObjectType.Root) {
        throw damaged(`its compound-file directory entry ${id} is of unknown type ${type}`);
      }
      // The name is at most 32 UTF-16 code units with its terminating null, counted in bytes.
      if (nameBytes < 2 || nameBytes > 64 || nameBytes % 2 !== 0) {
        throw damaged(`its compound-file directory entry ${id} gives a name of ${nameBytes} bytes`);
      }
      const name = directory.subarray(at, at + nameBytes - 2).toString("utf16le");
      if (directory.readUInt16LE(at + nameBytes - 2) !== 0 || name.includes("\u0000")) {
        throw damaged(`its compound-file directory entry ${id} has a name that does not end where its length says`);
      }
      if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(name)) {
        throw damaged(`its compound-file directory entry ${id} has a name that is not UTF-16 text`);
      }
      // A version 3 file's sizes fit 32 bits ([MS-CFB] 2.6.3); a version 4 file this reader would need to hold in memory does too.
      if (directory.readUInt32LE(at + 0x7c) !== 0) {
        throw damaged(
          `${describeStream(name)} gives a size over 4 GiB, more than the file's ${this.bytes.length} bytes`,
        );
      }
      for (const [link, value] of [
        ["left sibling", entry.left],
        ["right sibling", entry.right],
        ["child", entry.child],
      ] as const) {
        if (value !== NO_STREAM && value >= count) {
          throw damaged(
            `its compound-file directory entry ${id} links to ${link} ${value}, beyond the directory's ${count} entries`,
          );
        }
      }
      if (type !== ObjectType.Storage && entry.size > this.bytes.length) {
        throw damaged(
          `${type === ObjectType.Root ? "its mini stream" : describeStream(name)} gives a size of ${entry.size} bytes, more than the file's ${this.bytes.length} bytes`,
        );
      }
      entries.push({ ...entry, name });
    }
    return entries;
  }

  /**
   * The root's children, by walking the tree of each storage ([MS-CFB] 2.6.4) with a record of the
   * entries seen: a link back to one seen is a cycle, refused, instead of a walk that never ends.
   */
  private walkDirectory(entries: readonly Entry[], root: Entry): Entry[] {
    const seen = new Set<number>([root.id]);
    const topLevel: Entry[] = [];
    const storages: { storage: Entry; top: boolean }[] = [{ storage: root, top: true }];
    for (let next = storages.pop(); next !== undefined; next = storages.pop()) {
      const pending = [next.storage.child];
      for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
        if (id === NO_STREAM) continue;
        if (seen.has(id)) {
          throw damaged(`its compound-file directory links to entry ${id} twice (a cycle or a shared subtree)`);
        }
        seen.add(id);
        const entry = entries[id]!;
        if (entry.type !== ObjectType.Storage && entry.type !== ObjectType.Stream) {
          throw damaged(`its compound-file directory links to entry ${id}, which is not a storage or a stream`);
        }
        if (entry.type === ObjectType.Stream && entry.child !== NO_STREAM) {
          throw damaged(`${describeStream(entry.name)} has children in the compound-file directory`);
        }
        if (next.top) topLevel.push(entry);
        if (entry.type === ObjectType.Storage) storages.push({ storage: entry, top: false });
        pending.push(entry.left, entry.right);
      }
    }
    return topLevel;
  }

  /** [MS-CFB] 2.4: the mini stream is the root entry's stream, in regular sectors. */
  private readMiniStream(root: Entry): Buffer {
    if (root.size === 0) return Buffer.alloc(0);
    return this.readChain(root.startSector, "the mini stream", root.size);
  }

  private readMiniFat(): Uint32Array {
    const { firstMiniFatSector, miniFatSectorCount } = this.header;
    if (miniFatSectorCount === 0) return new Uint32Array(0);
    if (miniFatSectorCount > this.sectorCount) {
      throw damaged(
        `its compound-file header counts ${miniFatSectorCount} mini allocation-table sectors in a file of ${this.sectorCount} sectors`,
      );
    }
    const table = this.readChain(firstMiniFatSector, "the mini allocation table", miniFatSectorCount * this.sectorSize);
    const entries = new Uint32Array(table.length / 4);
    for (let index = 0; index < entries.length; index++) entries[index] = table.readUInt32LE(index * 4);
    return entries;
  }
}

/** A stream under the cutoff: a chain of 64-byte sectors of the mini stream, by the mini FAT ([MS-CFB] 2.4). */
function readMiniChain(
  miniStream: Buffer,
  miniFat: Uint32Array,
  owner: (string | undefined)[],
  entry: Entry,
  what: string,
): Buffer {
  const needed = Math.ceil(entry.size / MINI_SECTOR_BYTES);
  const content = Buffer.alloc(needed * MINI_SECTOR_BYTES);
  let sector = entry.startSector;
  for (let index = 0; index < needed; index++) {
    if (sector > MAX_REGULAR_SECTOR || sector >= owner.length || sector >= miniFat.length) {
      throw damaged(
        `${what} is ${entry.size} bytes, but its mini-sector chain leads to ${sector === END_OF_CHAIN ? "its end" : `mini sector ${sector}`} after ${index * MINI_SECTOR_BYTES}`,
      );
    }
    const before = owner[sector];
    if (before !== undefined) {
      throw damaged(
        `${what} leads to mini sector ${sector}, which ${before === what ? "it holds already (a loop)" : `is in ${before} already`}`,
      );
    }
    owner[sector] = what;
    miniStream.copy(content, index * MINI_SECTOR_BYTES, sector * MINI_SECTOR_BYTES, (sector + 1) * MINI_SECTOR_BYTES);
    sector = miniFat[sector]!;
  }
  if (needed > 0 && sector !== END_OF_CHAIN) {
    throw damaged(`${what} is ${entry.size} bytes, but its mini-sector chain goes on past them`);
  }
  return content.subarray(0, entry.size);
}

/** The class id as its 16 bytes in hex, the first three fields little-endian, in registry form. */
function guidOf(bytes: Buffer): string {
  const field = (start: number, end: number, littleEndian: boolean): string => {
    const part = bytes.subarray(start, end);
    return Buffer.from(littleEndian ? [...part].reverse() : part).toString("hex");
  };
  return `{${[field(0, 4, true), field(4, 6, true), field(6, 8, true), field(8, 10, false), field(10, 16, false)].join("-").toUpperCase()}}`;
}

/**
 * A cut-short file is told apart here, before the chains are walked, with the clearer message: the
 * header names the sectors of the directory and the allocation table, and that table links the rest.
 */
function checkLength(bytes: Buffer, sectorSize: number): void {
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
