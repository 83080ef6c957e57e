// Windows Installer stores each database table in a compound-file stream whose name packs two
// characters of [0-9A-Za-z._] into one UTF-16 code unit (0x3800-0x47FF), one character into
// 0x4800-0x483F, and marks table streams with a leading 0x4840. Microsoft does not publish the
// packing; the format here is as implemented by Wine's and msitools' libmsi (table.c:
// encode_streamname / decode_streamname), which open a table's stream by the name they encode
// (read_stream_data), so a stream counts only under its exact encoded name.

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

/** A raw stream name as text a message can carry: code units outside printable ASCII as \uXXXX. */
export function printable(raw: string): string {
  return raw.replace(/[^\x20-\x7e]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`);
}

/** How a message names a stream: a table by its table name, any other stream by its decoded name. */
export function describeStream(raw: string): string {
  const { table, name } = decodeStreamName(raw);
  return table ? `the stream of table ${printable(name)}` : `stream ${printable(name)}`;
}

/**
 * Why these names (of the streams at the top of one compound file) cannot be read one to one as
 * Windows Installer reads them, or undefined when they can: a stream marked as a table whose name
 * is not the one the installer encodes for that table (so it would never open it, while a reader
 * that decodes names would), or two streams whose names decode alike.
 */
export function streamNameProblem(raws: readonly string[]): string | undefined {
  const decoded = new Map<string, string>();
  for (const raw of raws) {
    const name = decodeStreamName(raw);
    const encoded = encodeStreamName(name);
    if (name.table && encoded !== raw) {
      return (
        `its stream ${printable(raw)} is marked as table ${printable(name.name)}, but Windows Installer opens that ` +
        `table under the name ${printable(encoded)}, so the two could hold different tables`
      );
    }
    const key = `${name.table ? "table" : "stream"} ${name.name}`;
    const other = decoded.get(key);
    if (other !== undefined) {
      return `its streams ${printable(other)} and ${printable(raw)} both read as ${printable(key)}`;
    }
    decoded.set(key, raw);
  }
  return undefined;
}
