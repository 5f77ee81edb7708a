"""Talks to the WinRM emulator with Debian's python3-winrm (pywinrm 0.3.0, requests-ntlm):
NTLM with message encryption, one shell, one command, its output. Prints one JSON line.
Uses the Protocol API: Session.run_ps in 0.3.0 raises TypeError whenever stderr is non-empty."""
import json
import sys

from winrm.protocol import Protocol

endpoint, user, password = sys.argv[1:4]
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
