# pulumi-smb-signing bootstrap, sent as powershell.exe -EncodedCommand.
# Reads one JSON envelope from stdin: {"script": "<text of a shipped .ps1>", "request": "<JSON>"}
# and runs that script with the request as its only argument. Values travel as data: nothing is
# ever spliced into PowerShell source. The script ends the process with its own exit code.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false
$envelope = [Console]::In.ReadToEnd() | ConvertFrom-Json
$script = [ScriptBlock]::Create([string]$envelope.script)
& $script -RequestJson ([string]$envelope.request)
# Reached only if the script returned without exiting: a bug, reported as such.
exit 3
