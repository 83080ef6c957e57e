#!/usr/bin/env bash
# Rebuilds the Windows Installer packages from their WiX sources, each .msi beside its .wxs:
#   stacks/demo-packages/KB952089.wxs
#   test/fixtures/packages/KB952089-below.wxs
#   test/fixtures/packages/KB999001.wxs
# and the broken fixtures in test/fixtures/packages:
#   not-an-msi.msi      plain text
#   damaged.msi         the first 4096 bytes of KB952089.msi
#   directory-cycle.msi KB952089.msi with 01 00 00 00 at 0x1EC4: a directory entry's left-sibling link
#                       pointing back up its tree
#   huge-stream.msi     KB952089.msi with ff ff ff ff at 0x2278: a stream size of 4 GiB in a 9.5 KiB file
#   tampered.msi        KB952089-below.msi with a second File table whose stream name is the table mark
#                       U+4840 followed by the plain letters "File", its Version cell pointing at a new
#                       string 13.3.609.117: Windows Installer opens the File table by its encoded name and
#                       reads 13.3.609.11; a reader that decodes names could read the other one
#
#   scripts/build-packages.sh [OUT_DIR]
#
# With OUT_DIR, every package is written into OUT_DIR instead and the committed ones are left alone.
#
# Needs wixl and msibuild, and node (scripts/node.sh) with the project's node_modules for tampered.msi (Debian: apt-get install msitools wixl), and faketime for byte-identical
# rebuilds (apt-get install faketime; without it the build still works but the summary timestamps
# are the current time).
#
# wixl 0.101 leaves out parts of the WiX source, which this script supplies itself:
#   - File/@DefaultSize: the payload is generated here, DefaultSize zero bytes per file;
#   - File/@DefaultVersion, @DefaultLanguage and @ShortName are ignored (with a GLib warning), so they
#     are stripped before wixl runs and written into the File table afterwards with `msibuild -q`
#     (Version, Language, and FileName as SHORT|Long);
#   - Package/@Id is ignored and a random PackageCode drawn: `msibuild -s` sets the pinned one
#     (`msibuild -s` must come alone, after `-q`: with all four arguments it stops parsing there);
#   - Product/@Codepage is ignored as well: the string pool keeps the neutral code page 0;
#   - the summary information carries the build time: wixl runs under faketime, frozen at
#     SOURCE_DATE_EPOCH (default 2008-07-01T00:00:00Z);
#   - the embedded cabinet carries each payload file's mtime: set to SOURCE_DATE_EPOCH, with TZ=UTC.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out_dir=${1:-}
epoch=${SOURCE_DATE_EPOCH:-1214870400}
export TZ=UTC

say() { echo "build-packages: $*" >&2; }
fail() {
  say "$*"
  exit 1
}

command -v wixl >/dev/null || fail "wixl is missing: apt-get install msitools wixl (Debian ships wixl as its own package)"
command -v msibuild >/dev/null || fail "msibuild is missing: apt-get install msitools"
command -v msiinfo >/dev/null || fail "msiinfo is missing: apt-get install msitools"
[[ $epoch =~ ^[0-9]+$ ]] || fail "SOURCE_DATE_EPOCH must be whole seconds, not '$epoch'"
stamp=$(date -u -d "@$epoch" '+%Y-%m-%d %H:%M:%S')

frozen=()
if command -v faketime >/dev/null; then
  frozen=(faketime -f "$stamp")
else
  say "faketime is missing (apt-get install faketime): summary timestamps will be the current time, so bytes differ between builds"
fi

if [ -n "$out_dir" ]; then
  mkdir -p "$out_dir"
  out_dir=$(cd "$out_dir" && pwd)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# attr TAG NAME: the value of attribute NAME in the single-line element TAG (empty when absent).
attr() { sed -n 's/.*[[:space:]]'"$2"'="\([^"]*\)".*/\1/p' <<<"$1"; }

# elements FILE NAME: each <NAME ...> start tag of FILE on a line of its own.
elements() { tr '\n\r\t' '   ' <"$1" | grep -o "<$2[[:space:]][^>]*>" || true; }

check() { # check VALUE REGEX WHAT: the value goes into SQL, so only plain values pass.
  [[ $1 =~ $2 ]] || fail "$3 '$1' is not of the form $2"
}

destination() { # destination SOURCE.wxs: where its .msi goes
  local name
  name=$(basename "$1" .wxs).msi
  if [ -n "$out_dir" ]; then echo "$out_dir/$name"; else echo "$(dirname "$1")/$name"; fi
}

build() { # build SOURCE.wxs
  local source=$1 name dir target tag id file_name short size version language package_code
  name=$(basename "$source" .wxs)
  dir="$work/$name"
  target=$(destination "$source")
  mkdir -p "$dir"

  local updates=()
  while IFS= read -r tag; do
    [ -n "$tag" ] || continue
    id=$(attr "$tag" Id)
    file_name=$(attr "$tag" Name)
    short=$(attr "$tag" ShortName)
    size=$(attr "$tag" DefaultSize)
    version=$(attr "$tag" DefaultVersion)
    language=$(attr "$tag" DefaultLanguage)
    [ "$(attr "$tag" Source)" = "$file_name" ] || fail "$source: File $id must have Source=\"$file_name\" (the payload is generated)"
    check "$id" '^[A-Za-z0-9_.]+$' "$source: File Id"
    check "$file_name" '^[A-Za-z0-9_. -]+$' "$source: File Name"
    check "$size" '^[0-9]+$' "$source: File $id DefaultSize"
    head -c "$size" /dev/zero >"$dir/$file_name"
    touch -d "@$epoch" "$dir/$file_name"

    local sets=()
    if [ -n "$short" ]; then
      check "$short" '^[A-Z0-9_~]{1,8}(\.[A-Z0-9_]{1,3})?$' "$source: File $id ShortName"
      sets+=("FileName = '$short|$file_name'")
    fi
    if [ -n "$version" ]; then
      check "$version" '^[0-9]+(\.[0-9]+){0,3}$' "$source: File $id DefaultVersion"
      sets+=("Version = '$version'")
    fi
    if [ -n "$language" ]; then
      check "$language" '^[0-9]+(,[0-9]+)*$' "$source: File $id DefaultLanguage"
      sets+=("Language = '$language'")
    fi
    if [ ${#sets[@]} -gt 0 ]; then
      local joined
      joined=$(printf ', %s' "${sets[@]}")
      updates+=("UPDATE \`File\` SET ${joined:2} WHERE \`File\` = '$id'")
    fi
  done < <(elements "$source" File)

  package_code=$(attr "$(elements "$source" Package | head -n1)" Id)
  check "$package_code" '^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$' "$source: Package Id"

  sed -E 's/[[:space:]](DefaultSize|DefaultVersion|DefaultLanguage|ShortName)="[^"]*"//g' "$source" >"$dir/$name.wxs"
  (cd "$dir" && "${frozen[@]}" wixl -o "$name.msi" "$name.wxs")

  local update
  for update in "${updates[@]}"; do
    "${frozen[@]}" msibuild "$dir/$name.msi" -q "$update"
  done

  # msibuild -s rewrites Subject, Author and Template too, so hand back what wixl wrote.
  local summary subject author template
  summary=$(msiinfo suminfo "$dir/$name.msi")
  subject=$(sed -n 's/^Subject: //p' <<<"$summary")
  author=$(sed -n 's/^Author: //p' <<<"$summary")
  template=$(sed -n 's/^Template: //p' <<<"$summary")
  "${frozen[@]}" msibuild "$dir/$name.msi" -s "$subject" "$author" "$template" "{${package_code^^}}"

  cp "$dir/$name.msi" "$target"
  say "$target ($(wc -c <"$target") bytes, sha256 $(sha256sum "$target" | cut -d' ' -f1))"
}

build "$root/stacks/demo-packages/KB952089.wxs"
build "$root/test/fixtures/packages/KB952089-below.wxs"
build "$root/test/fixtures/packages/KB999001.wxs"

fixtures=${out_dir:-$root/test/fixtures/packages}
printf '%s\n' "This is plain text, not a Windows Installer package: a fixture for the package reader's errors." \
  >"$fixtures/not-an-msi.msi"
demo=$(destination "$root/stacks/demo-packages/KB952089.wxs")
head -c 4096 "$demo" >"$fixtures/damaged.msi"
say "$fixtures/not-an-msi.msi and $fixtures/damaged.msi"

patched() { # patched SOURCE TARGET OFFSET HEX: a copy of SOURCE with the bytes HEX written at OFFSET
  cp "$1" "$2"
  xxd -r -p <<<"$4" | dd of="$2" bs=1 seek=$(($3)) conv=notrunc status=none
  say "$2 ($(wc -c <"$2") bytes, sha256 $(sha256sum "$2" | cut -d' ' -f1))"
}
patched "$demo" "$fixtures/directory-cycle.msi" 0x1EC4 01000000
patched "$demo" "$fixtures/huge-stream.msi" 0x2278 ffffffff

# tampered.msi, rewritten with the cfb package the product's tests use: the string 13.3.609.117 is
# added to the pool, and a copy of the File table's stream with its one Version cell pointing at it is
# added under the raw name U+4840 "File". Table layout as in components/package/tables.ts.
below=$(destination "$root/test/fixtures/packages/KB952089-below.wxs")
PACKAGE_IN="$below" PACKAGE_OUT="$fixtures/tampered.msi" CFB_MODULE="$root/node_modules/cfb" \
  bash "$root/scripts/node.sh" node -e '
const { readFileSync, writeFileSync } = require("node:fs");
const CFB = require(process.env.CFB_MODULE);
const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._";
const encoded = (name) => {
  let raw = "\u4840";
  for (let i = 0; i < name.length; i += 2) {
    const first = alphabet.indexOf(name[i]);
    raw += i + 1 < name.length
      ? String.fromCharCode(0x3800 + first + (alphabet.indexOf(name[i + 1]) << 6))
      : String.fromCharCode(0x4800 + first);
  }
  return raw;
};
const container = CFB.read(readFileSync(process.env.PACKAGE_IN), { type: "buffer" });
const stream = (name) => {
  const entry = container.FileIndex.find((e) => e.name === encoded(name));
  if (entry === undefined) throw new Error("no stream for table " + name);
  return entry;
};
const pool = stream("_StringPool");
const data = stream("_StringData");
const file = stream("File");
const version = Buffer.from("13.3.609.117", "latin1");
const poolBytes = Buffer.from(pool.content);
if (poolBytes.readUInt32LE(0) >= 0x80000000) throw new Error("3-byte string references: not the fixture this was written for");
const id = poolBytes.length / 4;
const entry = Buffer.alloc(4);
entry.writeUInt16LE(version.length, 0);
entry.writeUInt16LE(1, 2);
pool.content = Buffer.concat([poolBytes, entry]);
pool.size = pool.content.length;
data.content = Buffer.concat([Buffer.from(data.content), version]);
data.size = data.content.length;
// One row: File, Component_, FileName (string ids, 2 bytes each), FileSize (4), Version, Language (2 each),
// Attributes (2), Sequence (4).
const tampered = Buffer.from(file.content);
if (tampered.length !== 2 + 2 + 2 + 4 + 2 + 2 + 2 + 4) throw new Error("the File table is not the one row this was written for");
tampered.writeUInt16LE(id, 10);
CFB.utils.cfb_add(container, "\u4840File", tampered);
writeFileSync(process.env.PACKAGE_OUT, Buffer.from(CFB.write(container, { type: "buffer" })));
'
say "$fixtures/tampered.msi ($(wc -c <"$fixtures/tampered.msi") bytes, sha256 $(sha256sum "$fixtures/tampered.msi" | cut -d' ' -f1))"
