#!/usr/bin/env bash
# Rebuilds the Windows Installer packages from their WiX sources, each .msi beside its .wxs:
#   stacks/demo-packages/KB952089.wxs
#   test/fixtures/packages/KB952089-below.wxs
#   test/fixtures/packages/KB999001.wxs
# and the two broken fixtures test/fixtures/packages/not-an-msi.msi (plain text) and damaged.msi
# (the first 4096 bytes of KB952089.msi).
#
#   scripts/build-packages.sh [OUT_DIR]
#
# With OUT_DIR, every package is written into OUT_DIR instead and the committed ones are left alone.
#
# Needs wixl and msibuild (Debian: apt-get install msitools wixl), and faketime for byte-identical
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
head -c 4096 "$(destination "$root/stacks/demo-packages/KB952089.wxs")" >"$fixtures/damaged.msi"
say "$fixtures/not-an-msi.msi and $fixtures/damaged.msi"
