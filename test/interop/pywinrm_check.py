"""Talks to the WinRM emulator with Debian's python3-winrm (pywinrm 0.3.0, requests-ntlm 1.1.0,
ntlm-auth 1.4.0): NTLM with message encryption over HTTP, or NTLM over HTTPS; one shell, one
command, its output. Prints one JSON line.
Usage: pywinrm_check.py ENDPOINT USER PASSWORD [--ca FILE] [--no-cbt] [--kerberos HOSTNAME]
  --ca FILE  over HTTPS, check the emulator's certificate against this CA file
  --no-cbt   over HTTPS, send no channel binding (pywinrm's send_cbt=False; it sends one by default)
  --kerberos HOSTNAME  Kerberos (requests-kerberos 0.12 on pykerberos 1.1.14) with the ticket cache
             KRB5CCNAME names, for the service principal HTTP/HOSTNAME; USER and PASSWORD unused.
             Mutual authentication is required (pywinrm's default). This pykerberos can neither
             seal messages nor bind to the channel, so over HTTP pywinrm sends plain SOAP and
             over HTTPS no channel binding.
Uses the Protocol API: Session.run_ps in 0.3.0 raises TypeError whenever stderr is non-empty."""
import json
import sys

from winrm.protocol import Protocol

endpoint, user, password = sys.argv[1:4]
flags = sys.argv[4:]
ca_file = flags[flags.index("--ca") + 1] if "--ca" in flags else None
send_cbt = "--no-cbt" not in flags
kerberos_host = flags[flags.index("--kerberos") + 1] if "--kerberos" in flags else None
if kerberos_host is not None:
    protocol = Protocol(endpoint=endpoint, transport="kerberos", username=None,
                        kerberos_hostname_override=kerberos_host,
                        server_cert_validation="validate", ca_trust_path=ca_file,
                        operation_timeout_sec=20, read_timeout_sec=30)
elif endpoint.startswith("https:"):
    # Over HTTPS TLS protects the messages; requests-ntlm binds NTLM to the certificate (CBT).
    protocol = Protocol(endpoint=endpoint, transport="ntlm", username=user, password=password,
                        server_cert_validation="validate", ca_trust_path=ca_file, send_cbt=send_cbt,
                        operation_timeout_sec=20, read_timeout_sec=30)
else:
    protocol = Protocol(endpoint=endpoint, transport="ntlm", username=user, password=password,
                        message_encryption="always", operation_timeout_sec=20, read_timeout_sec=30)
shell = protocol.open_shell()
command = protocol.run_command(shell, "powershell.exe",
                               ["-NoProfile", "-NonInteractive", "-Command",
                                '"Get-SmbServerConfiguration | ConvertTo-Json"'])
stdout, stderr, code = protocol.get_command_output(shell, command)
protocol.cleanup_command(shell, command)
protocol.close_shell(shell)
print(json.dumps({"stdout": stdout.decode("utf-8"), "stderr": stderr.decode("utf-8"), "code": code}))
