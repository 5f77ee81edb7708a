#!/usr/bin/env bash
# Builds the provider plugin's tarball, the form `pulumi plugin install` takes:
#   pulumi plugin install resource smbsigning <version> --file pulumi-resource-smbsigning-v<version>-<os>-<arch>.tar.gz
# It holds the launcher `pulumi-resource-smbsigning` at its top and, in node_modules/, this package
# (as `npm pack` makes it) with its production dependencies: the plugin needs only `node` (22 or
# 24) on PATH. Written to $1 (default dist/plugin/); stdout carries only the tarball's path.
# Run `npm run build` first (npm run plugin:pack does both).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
version=$(node -p "require('$root/package.json').version")
out=$(mkdir -p "${1:-$root/dist/plugin}" && cd "${1:-$root/dist/plugin}" && pwd)
case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
os=$(uname -s | tr '[:upper:]' '[:lower:]')
[ -f "$root/dist/provider/plugin/main.js" ] || { echo "pack.sh: dist/provider/plugin/main.js is missing; run npm run build first" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
package=$(cd "$root" && npm pack --silent --pack-destination "$stage" | tail -n 1)
# npm installs from its cache when it can (the checkout's `npm ci` filled it), else the registry.
(cd "$stage" && printf '{"name":"pulumi-resource-smbsigning","private":true}\n' > package.json &&
  npm install --omit=dev --no-package-lock --prefer-offline --no-audit --no-fund "./$package" >&2)
rm -f "$stage/$package" "$stage/package.json"
# `pulumi plugin install` takes regular files and directories only: no links (npm's .bin holds
# symlinks; files npm took from its cache may be hard links, hence --hard-dereference below).
find "$stage/node_modules" -type d -name .bin -prune -exec rm -rf {} +
if find "$stage" -type l | grep -q .; then echo "pack.sh: symbolic links in the plugin: $(find "$stage" -type l | head -3)" >&2; exit 1; fi
cat > "$stage/pulumi-resource-smbsigning" <<'LAUNCHER'
#!/bin/sh
# The provider plugin smbsigning, as `pulumi plugin install` lays it out: the package is in
# node_modules/ beside this file; node 22 or 24 must be on PATH.
exec node "$(dirname "$0")/node_modules/pulumi-smb-signing/bin/pulumi-resource-smbsigning" "$@"
LAUNCHER
chmod 755 "$stage/pulumi-resource-smbsigning"
tarball="$out/pulumi-resource-smbsigning-v$version-$os-$arch.tar.gz"
tar --hard-dereference -czf "$tarball.tmp" -C "$stage" .
mv "$tarball.tmp" "$tarball"
echo "$tarball"
