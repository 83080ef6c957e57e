// Windows Installer stores each database table in a compound-file stream whose name packs two
// characters of [0-9A-Za-z._] into one UTF-16 code unit (0x3800-0x47FF), one character into
// 0x4800-0x483F, and marks table streams with a leading 0x4840. Format as implemented by Wine's
// and msitools' libmsi (table.c: encode_streamname / decode_streamname).

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._";
const PAIRS = 0x3800;
const SINGLE = 0x4800;
const TABLE_MARK = 0x4840;

export interface StreamName {
  /** Whether the stream holds a table (or the string pool) rather than a plain stream. */
  readonly table: boolean;
  readonly name: string;
}

export function decodeStreamName(raw: string): StreamName {
  const table = raw.charCodeAt(0) === TABLE_MARK;
  let name = "";
  for (const unit of (table ? raw.slice(1) : raw).split("")) {
    const code = unit.charCodeAt(0);
    if (code >= PAIRS && code < SINGLE) {
      const pair = code - PAIRS;
      name += ALPHABET[pair & 0x3f]! + ALPHABET[(pair >> 6) & 0x3f]!;
    } else if (code >= SINGLE && code < TABLE_MARK) {
      name += ALPHABET[code - SINGLE]!;
    } else {
      name += unit;
    }
  }
  return { table, name };
}

export function encodeStreamName({ table, name }: StreamName): string {
  let raw = table ? String.fromCharCode(TABLE_MARK) : "";
  for (let i = 0; i < name.length; i++) {
    const first = ALPHABET.indexOf(name[i]!);
    if (first < 0) {
      raw += name[i]!;
      continue;
    }
    const second = i + 1 < name.length ? ALPHABET.indexOf(name[i + 1]!) : -1;
    if (second < 0) {
      raw += String.fromCharCode(SINGLE + first);
    } else {
      raw += String.fromCharCode(PAIRS + first + (second << 6));
      i++;
    }
  }
  return raw;
}
