#!/usr/bin/env bash
# Builds the Pulumi CLI and its Node.js language host from the Go module proxy (the official
# installer needs the internet) into a cache directory, and prints that directory. A second run
# is instant. Build output goes to stderr; stdout carries only the directory.
#   PULUMI_SMB_CLI_DIR   where to put the binaries (default ~/.cache/pulumi-smb-signing/pulumi-<version>)
set -euo pipefail
VERSION=v3.276.0
here=$(cd "$(dirname "$0")" && pwd)
dest=${PULUMI_SMB_CLI_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-smb-signing/pulumi-$VERSION}
if [ -x "$dest/pulumi" ] && [ -x "$dest/pulumi-language-nodejs" ]; then
  echo "$dest"
  exit 0
fi
command -v go >/dev/null || { echo "install.sh: Go is required to build the Pulumi CLI" >&2; exit 1; }
mkdir -p "$dest"
start=$(date +%s)
echo "Building Pulumi CLI $VERSION into $dest (a few minutes on a fresh machine)..." >&2
(cd "$here/cli" && go build -trimpath \
  -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION" \
  -o "$dest/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) >&2
(cd "$here/language-nodejs" && go build -trimpath \
  -o "$dest/pulumi-language-nodejs.tmp" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs) >&2
mv "$dest/pulumi.tmp" "$dest/pulumi"
mv "$dest/pulumi-language-nodejs.tmp" "$dest/pulumi-language-nodejs"
echo "Built in $(( $(date +%s) - start )) s" >&2
echo "$dest"
