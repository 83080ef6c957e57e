#!/usr/bin/env bash
# Makes the pinned Pulumi CLI available to the project and prints the folder that holds it.
#   - a `pulumi` on PATH at the pinned version or later is used as it is;
#   - otherwise the pinned CLI is built from its Go modules into .tools/bin (once: a binary
#     already there at the pinned version is kept).
# A launcher of the dynamic-provider host that ships with @pulumi/pulumi is written beside it,
# because the engine looks for `pulumi-resource-pulumi-nodejs` on PATH or next to the CLI.
# The product hands the printed folder to the Automation API (PulumiCommand.get), which asks the
# CLI its version itself.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pinned=$(sed -n 's/^[[:space:]]*github.com\/pulumi\/pulumi\/pkg\/v3 v\([0-9.]*\).*/\1/p' "$root/toolchain/pulumi-cli/go.mod")
tools="$root/.tools/bin"
mkdir -p "$tools"

say() { echo "toolchain: $*" >&2; }

version_of() { "$1" version 2>/dev/null | tr -d 'v[:space:]' || true; }

at_least() { # at_least HAVE WANT
  [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

write_dynamic_provider_host() {
  if [ ! -f "$root/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js" ]; then
    say "node_modules/@pulumi/pulumi is missing: run 'npm ci' first"
    exit 1
  fi
  # What the SDK's own launcher (node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs) does:
  # run the SDK's dynamic-provider host with the engine's arguments. That launcher first starts a
  # node only to resolve the host's path; this one takes it from where it lies, so a copied or
  # moved checkout runs its own. Node's module compile cache (NODE_COMPILE_CACHE, Node 22.1 and
  # later: https://nodejs.org/api/module.html#module-compile-cache) spares each host start the
  # compilation of the SDK's modules after the first.
  cat >"$tools/pulumi-resource-pulumi-nodejs.partial.$$" <<'LAUNCHER'
#!/bin/sh
root=$(dirname "$0")/../..
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$root/.tools/node-compile-cache}"
exec node "$root/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js" "$@"
LAUNCHER
  chmod +x "$tools/pulumi-resource-pulumi-nodejs.partial.$$"
  mv -f "$tools/pulumi-resource-pulumi-nodejs.partial.$$" "$tools/pulumi-resource-pulumi-nodejs"
}

write_dynamic_provider_host
# An earlier release wrote a launcher that answered `pulumi version` itself; nothing runs it now.
rm -rf "$root/.tools/cli"

use_cli() { # use_cli CLI: print the CLI's folder, stop
  dirname "$1"
  exit 0
}

if [ -z "${MPS_HOTFIX_BUILD_PULUMI:-}" ] && installed=$(command -v pulumi 2>/dev/null) \
  && [ "$installed" != "$tools/pulumi" ]; then
  installed_version=$(version_of "$installed")
  if at_least "$installed_version" "$pinned"; then use_cli "$installed"; fi
fi

# Once the built CLI has answered the pinned version, a stamp newer than the binary says so, and
# it is not started again only to ask.
stamp="$tools/pulumi.version"
if [ -f "$stamp" ] && [ "$stamp" -nt "$tools/pulumi" ] && [ "$(cat "$stamp")" = "$pinned" ]; then
  use_cli "$tools/pulumi"
fi
if [ "$(version_of "$tools/pulumi")" = "$pinned" ]; then
  echo "$pinned" >"$stamp"
  use_cli "$tools/pulumi"
fi

command -v go >/dev/null || { say "no pulumi $pinned on PATH and no Go to build it"; exit 1; }
say "building pulumi $pinned from its Go modules (a cold build takes several minutes)"
started=$(date +%s)
cd "$root/toolchain/pulumi-cli"
# -v names each package as it is compiled; a count of them is the progress shown.
go build -v -trimpath \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$pinned" \
  -o "$tools/pulumi.partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi 2>&1 |
  awk '/^go: downloading/ { d++; if (d % 25 == 0) printf "toolchain: downloaded %d modules\n", d > "/dev/stderr"; next }
       /^[A-Za-z0-9._\/-]+$/ { c++; if (c % 100 == 0) printf "toolchain: compiled %d packages\n", c > "/dev/stderr"; next }
       { print > "/dev/stderr" }'
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || { say "go build failed ($status)"; rm -f "$tools/pulumi.partial"; exit "$status"; }
mv "$tools/pulumi.partial" "$tools/pulumi"
built=$(version_of "$tools/pulumi")
[ "$built" = "$pinned" ] || { say "built CLI reports '$built', expected $pinned"; exit 1; }
echo "$pinned" >"$stamp"
say "built pulumi $built in $(($(date +%s) - started))s"
use_cli "$tools/pulumi"
