#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs (as root): OpenSSH server for the simulated hosts,
# python3-winrm for the WinRM interop test, MIT Kerberos (KDC, kadmin.local, client tools),
# python3-gssapi and faketime for the Kerberos tests,
# the npm dependencies (including Node 24, pinned in package.json), and the Pulumi CLI built
# from the Go module proxy. Idempotent: a second run does nothing it already did; no prompt
# (CI=true with no stdin works), and no system KDC or kadmind is started or left enabled.
set -euo pipefail
cd "$(dirname "$0")/.."
# openssh-server: the simulated hosts' sshd; python3-winrm: the independent WinRM client the
# emulator is tested against. krb5-kdc (krb5kdc, kdb5_util), krb5-admin-server (kadmin.local) and
# krb5-user (kinit, kvno, klist): the throw-away realm the Kerberos tests start on loopback
# (test/simhost/kdc.ts); python3-gssapi: the real GSSAPI peer (test/simhost/gssSidecar.py);
# faketime: a peer whose clock is off.
missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
/usr/bin/python3 -c "import winrm" 2>/dev/null || missing+=(python3-winrm)
[ -x /usr/sbin/krb5kdc ] && [ -x /usr/sbin/kdb5_util ] || missing+=(krb5-kdc)
[ -x /usr/sbin/kadmin.local ] || missing+=(krb5-admin-server)
[ -x /usr/bin/kinit ] && [ -x /usr/bin/kvno ] || missing+=(krb5-user)
/usr/bin/python3 -c "import gssapi" 2>/dev/null || missing+=(python3-gssapi)
[ -x /usr/bin/faketime ] || missing+=(faketime)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # The Kerberos server packages would start a system KDC and kadmind (for a realm nobody made);
  # the tests run their own krb5kdc. A policy-rc.d that refuses (exit 101) keeps invoke-rc.d from
  # starting them during the install, unless the machine already has one (containers do).
  kdc_services=()
  for unit in krb5-kdc krb5-admin-server; do
    [[ " ${missing[*]} " == *" $unit "* ]] && kdc_services+=("$unit")
  done
  policy_added=
  if [ ${#kdc_services[@]} -gt 0 ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# tools/setup.sh: no service starts while it installs packages\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_added=1
    trap '[ -z "$policy_added" ] || rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" </dev/null >/dev/null
  if [ -n "$policy_added" ]; then
    rm -f /usr/sbin/policy-rc.d
    policy_added=
  fi
  # Nor at boot, where systemd runs: the services were installed just now and serve nothing.
  if [ ${#kdc_services[@]} -gt 0 ] && [ -d /run/systemd/system ]; then
    systemctl disable --now "${kdc_services[@]}" >/dev/null 2>&1 || true
  fi
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash tools/pulumi-cli/install.sh >/dev/null
