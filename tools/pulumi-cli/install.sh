#!/usr/bin/env bash
# Builds the Pulumi CLI, its Node.js language host (pulumi-language-nodejs), the YAML language
# host (pulumi-language-yaml, from the module github.com/pulumi/pulumi-yaml) and a Go language host
# (pulumi-language-go: this repository's own, language-go/main.go, because the Go module proxy
# refuses upstream's module; it serves `pulumi package gen-sdk --language go` with upstream's
# generator and runs Go programs) from the Go module proxy (the official installer needs the
# internet) into a cache directory, lays that directory out as the official distribution does
# (the plugin shims beside `pulumi`), and prints it. Each binary is built only when it is missing,
# so a second run builds nothing, and a directory that an older install.sh filled gets just the
# binaries it lacks. The one exception is our own source: pulumi-language-go is also rebuilt
# when language-go/ changed since it was built (the hash of its files lies beside it, in
# .pulumi-language-go.sources), so no checkout runs a host older than its own source.
# Build output goes to stderr; stdout carries only the directory.
#   PULUMI_SMB_CLI_DIR   where to put the binaries (default ~/.cache/pulumi-smb-signing/pulumi-<version>)
#
# The shims beside `pulumi`:
#   pulumi-resource-pulumi-nodejs  the provider of dynamic resources (SmbSigningPolicy is one),
#                                  from the npm package @pulumi/pulumi of this checkout;
#   pulumi-analyzer-policy         the Node.js policy pack starter that distributions of the CLI
#                                  shipped, from the Go module of the language host we build
#                                  (no npm package carries it; @pulumi/policy does not).
# The CLI prefers plugins on $PATH, and warns "using pulumi-resource-pulumi-nodejs from $PATH"
# unless the one it finds there is the one beside the running `pulumi`; with the shim here, a
# program needs only this directory (and node) on PATH, and no run prints that warning.
#
# Why copies are safe in a directory that every checkout on the machine shares: neither shim
# refers to where it lies or to the checkout it came from. Each runs `node -e "require.resolve(
# '@pulumi/pulumi/cmd/...')"`, which resolves from the working directory, and the CLI starts a
# provider in the program's directory and a policy pack starter in the pack's directory. So the
# @pulumi/pulumi that runs is always the program's (or the pack's) own; deleting the checkout
# that installed a shim breaks nothing. They are plain copies, never links into a node_modules.
set -euo pipefail
VERSION=v3.276.0
# The Node.js language host's module (its version: tools/pulumi-cli/language-nodejs/go.mod).
LANGUAGE_HOST_SDK=github.com/pulumi/pulumi/sdk/v3
# The YAML language host's version, as tools/pulumi-cli/language-yaml/go.mod requires it; it is
# what the host reports to the CLI (GetPluginInfo).
YAML_VERSION=v1.25.0
here=$(cd "$(dirname "$0")" && pwd)
checkout=$(cd "$here/../.." && pwd)
dest=${PULUMI_SMB_CLI_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-smb-signing/pulumi-$VERSION}

# Builds $1 into $dest unless it is there already (and $rebuild is not $1): `go build` in the
# wrapper module $2 of the main package $3 (further arguments go to `go build`), written to a .tmp
# name of this run's own and moved into place, so that no reader ever runs half a binary, nor two
# checkouts building at once write one file.
rebuild=
build() {
  local name=$1 module=$2 package=$3
  shift 3
  [ -x "$dest/$name" ] && [ "$rebuild" != "$name" ] && return 0
  command -v go >/dev/null || { echo "install.sh: Go is required to build $name" >&2; exit 1; }
  mkdir -p "$dest"
  local start
  start=$(date +%s)
  echo "Building $name into $dest (minutes on a fresh machine)..." >&2
  (cd "$here/$module" && go build -trimpath "$@" -o "$dest/$name.$$.tmp" "$package") >&2
  mv -f "$dest/$name.$$.tmp" "$dest/$name"
  echo "Built $name in $(( $(date +%s) - start )) s" >&2
}

build pulumi cli github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
  -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION"
build pulumi-language-nodejs language-nodejs github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
build pulumi-language-yaml language-yaml github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml \
  -ldflags "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$YAML_VERSION"
# Reports the CLI's version: it is built from the same pkg/v3 and sdk/v3 (language-go/go.mod).
go_sources=$(cd "$here/language-go" && cat main.go go.mod go.sum | sha256sum | cut -d' ' -f1)
[ "$(cat "$dest/.pulumi-language-go.sources" 2>/dev/null)" = "$go_sources" ] || rebuild=pulumi-language-go
build pulumi-language-go language-go . \
  -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION"
if [ "$rebuild" = pulumi-language-go ]; then
  stamp=$(mktemp "$dest/.pulumi-language-go.sources.XXXXXX")
  echo "$go_sources" > "$stamp"
  chmod 644 "$stamp"
  mv -f "$stamp" "$dest/.pulumi-language-go.sources"
fi

# Puts $1 at $dest/$2 unless an identical file is there already. Checkouts run this concurrently
# (every e2e test asks for the directory), so the copy is written aside and renamed into place:
# a reader sees the old file or the new one, never half of one.
place() {
  local source=$1 name=$2
  if [ -f "$dest/$name" ] && [ ! -L "$dest/$name" ] && cmp -s "$source" "$dest/$name" && [ -x "$dest/$name" ]; then
    return 0
  fi
  local tmp
  tmp=$(mktemp "$dest/.$name.XXXXXX")
  cp "$source" "$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$dest/$name"
}

# The dynamic provider shim of the @pulumi/pulumi that matches the CLI: package.json pins
# @pulumi/pulumi to the CLI's version, and `npm ci` (tools/setup.sh) installs it before this runs.
sdk_package="$checkout/node_modules/@pulumi/pulumi"
if [ ! -f "$sdk_package/pulumi-resource-pulumi-nodejs" ]; then
  echo "install.sh: $sdk_package/pulumi-resource-pulumi-nodejs is missing; run npm ci in $checkout first" >&2
  exit 1
fi
sdk_version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$sdk_package/package.json" | head -n 1)
if [ "v$sdk_version" != "$VERSION" ]; then
  echo "install.sh: $sdk_package is version $sdk_version, the CLI is $VERSION; its shim would not be the distribution's" >&2
  exit 1
fi
place "$sdk_package/pulumi-resource-pulumi-nodejs" pulumi-resource-pulumi-nodejs

# The policy pack starter ships in the language host's Go module (nodejs/dist), which the build
# above downloaded; `go mod download` fetches it again if the module cache was cleaned since.
# Without Go on PATH, a directory that has it already keeps it: everything is built, nothing needs Go.
if [ -x "$dest/pulumi-analyzer-policy" ] && ! command -v go >/dev/null; then
  :
else
  sdk_module=$(cd "$here/language-nodejs" && go list -m -f '{{.Dir}}' "$LANGUAGE_HOST_SDK" 2>/dev/null || true)
  if [ -z "$sdk_module" ] || [ ! -f "$sdk_module/nodejs/dist/pulumi-analyzer-policy" ]; then
    command -v go >/dev/null || { echo "install.sh: Go is required to fetch pulumi-analyzer-policy" >&2; exit 1; }
    (cd "$here/language-nodejs" && go mod download "$LANGUAGE_HOST_SDK") >&2
    sdk_module=$(cd "$here/language-nodejs" && go list -m -f '{{.Dir}}' "$LANGUAGE_HOST_SDK")
  fi
  place "$sdk_module/nodejs/dist/pulumi-analyzer-policy" pulumi-analyzer-policy
fi

echo "$dest"
