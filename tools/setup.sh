#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs (as root): OpenSSH server for the simulated hosts,
# the npm dependencies (including Node 24, pinned in package.json), and the Pulumi CLI built
# from the Go module proxy. Idempotent: a second run does nothing it already did.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/sbin/sshd ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq openssh-server >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash tools/pulumi-cli/install.sh >/dev/null
