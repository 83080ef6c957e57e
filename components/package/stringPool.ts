import { TextDecoder } from "node:util";
import { damaged, MsiPackageError } from "./errors";

// Layout as read by Wine's and msitools' libmsi (string.c: msi_load_string_table): _StringPool
// holds 4-byte entries (2-byte length, 2-byte reference count) and _StringData the bytes of every
// string back to back, in the database's code page.

const LONG_REFS = 0x80000000;
const NEUTRAL_CODEPAGE = 0;

export interface StringPool {
  readonly codepage: number;
  /** Bytes per string reference in a table: 3 when the pool header says so, else 2. */
  readonly refBytes: 2 | 3;
  /** The string with this id; id 0 is the null string. */
  lookup(id: number): string | null;
}

export function readStringPool(pool: Buffer, data: Buffer): StringPool {
  if (pool.length < 4 || pool.length % 4 !== 0) {
    throw damaged(`its _StringPool stream is ${pool.length} bytes, not a header and whole 4-byte entries`);
  }
  // The first entry is the header: the code page, with the top bit marking 3-byte references.
  const header = pool.readUInt32LE(0);
  const refBytes = header >= LONG_REFS ? 3 : 2;
  const codepage = header % LONG_REFS;
  const decoder = decoderFor(codepage);

  // Each string's bytes, decoded when a table refers to it: what no table the reader reads refers to
  // is never judged (time stays proportional to the pool either way).
  const strings: (Buffer | undefined)[] = [undefined];
  const count = pool.length / 4;
  let offset = 0;
  for (let entry = 1; entry < count;) {
    let length = pool.readUInt16LE(entry * 4);
    const refs = pool.readUInt16LE(entry * 4 + 2);
    if (length === 0 && refs === 0) {
      strings.push(undefined);
      entry += 1;
      continue;
    }
    if (length === 0) {
      // A string of 64 KiB or more: this entry keeps the reference count, the next one the length.
      if (entry + 1 >= count) throw damaged("its _StringPool stream ends inside the entry of a long string");
      length = pool.readUInt16LE(entry * 4 + 4) + pool.readUInt16LE(entry * 4 + 6) * 0x10000;
      entry += 2;
    } else {
      entry += 1;
    }
    if (offset + length > data.length) {
      throw damaged(`its string pool needs more than the ${data.length} bytes of its _StringData stream`);
    }
    const bytes = data.subarray(offset, offset + length);
    // Strings are handed out as null-terminated text, so a NUL inside one is read differently by
    // different readers: cut there (the Windows Installer API), or, at the start, the whole string
    // dropped (libmsi's msi_addstring). No writer stores one, so the pool is refused.
    if (bytes.includes(0)) {
      throw damaged(
        `its string pool's string ${strings.length} holds a NUL character, where readers disagree on its end`,
      );
    }
    strings.push(bytes);
    offset += length;
  }
  if (offset !== data.length) {
    throw damaged(`its string pool accounts for ${offset} of the ${data.length} bytes of its _StringData stream`);
  }

  return {
    codepage,
    refBytes,
    lookup(id: number): string | null {
      if (id === 0) return null;
      const found = strings[id];
      if (found === undefined) throw damaged(`a table refers to string ${id}, which its string pool does not hold`);
      return decodeString(id, found, codepage, decoder);
    },
  };
}

/**
 * A string in the database's code page. A neutral database (code page 0) may hold ASCII only
 * (Windows Installer SDK, "Creating a Database with a Neutral Code Page"): bytes past it read as
 * the installing system's code page makes them, and other readers differ again (libmsi drops a
 * string its converter cannot take), so such a string is refused, as are bytes that are not text
 * in the database's code page.
 */
function decodeString(id: number, bytes: Buffer, codepage: number, decoder: TextDecoder): string {
  if (codepage === NEUTRAL_CODEPAGE && bytes.some((byte) => byte >= 0x80)) {
    throw new MsiPackageError(
      "ambiguous",
      `is ambiguous: its string ${id} holds bytes past ASCII in the neutral code page 0, so its text depends on the installing system's code page`,
    );
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw damaged(`its string ${id} is not text in code page ${codepage}`);
  }
}

const ENCODINGS: Readonly<Record<number, string>> = {
  // Code page 0 is neutral: its strings are ASCII (decodeString refuses the rest), which any of
  // these decoders reads alike.
  [NEUTRAL_CODEPAGE]: "windows-1252",
  65001: "utf-8",
  932: "shift_jis",
  936: "gbk",
  949: "euc-kr",
  950: "big5",
  866: "ibm866",
};

function decoderFor(codepage: number): TextDecoder {
  const label = ENCODINGS[codepage] ?? `windows-${codepage}`;
  try {
    return new TextDecoder(label, { fatal: true });
  } catch {
    throw new MsiPackageError("unsupported", `is written in code page ${codepage}, which cannot be decoded here`);
  }
}
