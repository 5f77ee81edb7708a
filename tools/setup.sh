#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs (as root): OpenSSH server for the simulated hosts,
# python3-winrm for the WinRM interop test,
# the npm dependencies (including Node 24, pinned in package.json), and the Pulumi CLI built
# from the Go module proxy. Idempotent: a second run does nothing it already did.
set -euo pipefail
cd "$(dirname "$0")/.."
# openssh-server: the simulated hosts' sshd; python3-winrm: the independent WinRM client the
# emulator is tested against.
missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
/usr/bin/python3 -c "import winrm" 2>/dev/null || missing+=(python3-winrm)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash tools/pulumi-cli/install.sh >/dev/null
