"""Talks to the WinRM emulator with Debian's python3-winrm (pywinrm 0.3.0, requests-ntlm):
NTLM with message encryption over HTTP, or NTLM over HTTPS; one shell, one command, its
output. Prints one JSON line.
Uses the Protocol API: Session.run_ps in 0.3.0 raises TypeError whenever stderr is non-empty."""
import json
import sys

from winrm.protocol import Protocol

endpoint, user, password = sys.argv[1:4]
if endpoint.startswith("https:"):
    # Over HTTPS TLS protects the messages; the emulator's certificate is checked against the
    # CA file given as the fourth argument.
    protocol = Protocol(endpoint=endpoint, transport="ntlm", username=user, password=password,
                        server_cert_validation="validate", ca_trust_path=sys.argv[4],
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
