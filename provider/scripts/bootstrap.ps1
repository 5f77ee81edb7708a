# pulumi-smb-signing bootstrap (powershell.exe -EncodedCommand). Reads {"script","request"} JSON
# from stdin and runs that script with the request as data. PowerShell 2.0 (no ConvertFrom-Json)
# and Constrained Language Mode (no [Console], [ScriptBlock]) get a typed answer first.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
if ($PSVersionTable.PSVersion.Major -lt 3) {
    Write-Output ('{"status":"error","kind":"unsupportedOs","message":"Windows PowerShell ' + $PSVersionTable.PSVersion + ' is too old: install Windows Management Framework 5.1"}')
    exit 2
}
$mode = $ExecutionContext.SessionState.LanguageMode
if ($mode -ne 'FullLanguage') {
    Write-Output ('{"status":"error","kind":"constrainedLanguage","message":"PowerShell runs in ' + $mode + ' mode (AppLocker or WDAC)"}')
    exit 2
}
$envelope = [Console]::In.ReadToEnd() | ConvertFrom-Json
& ([ScriptBlock]::Create([string]$envelope.script)) -RequestJson ([string]$envelope.request)
exit 3
