<#
.SYNOPSIS
    NOT RUN BY THIS REPOSITORY'S CI. The PowerShell side of the real-host experiment of
    .github/workflows/windows.yml (job real-host-experiment), on a THROW-AWAY GitHub runner:
    what the host is and has (-Step Inventory, read only), an SMB connection that does not sign
    (-Step Connect), and everything both SMB audit logs hold (-Step Dump, read only).
.DESCRIPTION
    The settings themselves are changed and restored by the provider's own script, through
    test/windows/signingExperiment.ts; this file only looks, and makes the connection.

    Each step prints every section into the job log and appends it to
    <OutputDirectory>\<step>[-<Label>].txt; Dump also writes audit-events.json. A section that
    fails prints its error (type, message, FullyQualifiedErrorId) and the next one runs: the
    failures are findings too. The exit code is 0 unless a parameter is wrong.

    Inventory: the OS build and hotfixes; Get-SmbServerConfiguration and
    Get-SmbClientConfiguration whole, and the audit and signing parameters their Set-* cmdlets
    take; the LanmanServer / LanmanWorkstation Parameters and Policies registry values; both audit
    logs' state; RSoP logging and the RSoP queries smb-signing.ps1 makes (RSOP_GPO,
    RSOP_RegistryValue, RSOP_RegistryPolicySetting).

    Connect: turns on a disabled audit log (saying so), shares a new folder as SmbExperiment
    (Everyone, by SID), reaches it as \\127.0.0.1\SmbExperiment and \\localhost\SmbExperiment
    (a UNC read and write, then New-SmbMapping), prints Get-SmbConnection, Get-SmbSession and
    Get-SmbMapping whole (Signed, Dialect), waits for the audit events to land, and removes the
    mappings, the share and the folder. Run it while the provider's script holds
    client.requireSigning and server.requireSigning false, so that nothing asks for signing.

    Dump: each event of Microsoft-Windows-SMBServer/Audit and Microsoft-Windows-SMBClient/Audit
    (Id, Version, TimeCreated, its message, each Properties value with its type, ToXml()), and
    what Get-WinEvent -ListProvider says of Microsoft-Windows-SMBServer and
    Microsoft-Windows-SMBClient: every event's Id, Version and log, and the Description and
    Template of those in an Audit log or numbered like the audit events.

    Values arrive as parameters; nothing is spliced into PowerShell source.
#>
param(
    [Parameter(Mandatory = $true)][ValidateSet('Inventory', 'Connect', 'Dump')][string]$Step,
    [Parameter(Mandatory = $true)][string]$OutputDirectory,
    [ValidatePattern('^[a-z]+$')][string]$Label = ''
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$AuditLogs = @('Microsoft-Windows-SMBServer/Audit', 'Microsoft-Windows-SMBClient/Audit')
$EventProviders = @('Microsoft-Windows-SMBServer', 'Microsoft-Windows-SMBClient')
# The audit events the research names (docs: 22-audit): 3000 SMB1 access, 3021 client did not
# sign, 3022 did not encrypt, 3023 guest, 3024-3026 EPA, 3027 SMB1 client did not sign; 31997
# guest, 31998 server did not sign, 31999 did not encrypt.
$AuditIds = @(3000, 3021, 3022, 3023, 3024, 3025, 3026, 3027, 31997, 31998, 31999)
$ShareName = 'SmbExperiment'

New-Item -ItemType Directory -Path $OutputDirectory -Force | Out-Null
$baseName = if ($Label -ne '') { "$($Step.ToLowerInvariant())-$Label" } else { $Step.ToLowerInvariant() }
$OutFile = Join-Path -Path $OutputDirectory -ChildPath "$baseName.txt"

# Prints a section and appends it to $OutFile; a section that fails prints its error instead.
function Write-Section {
    param([string]$Title, [scriptblock]$Body)
    $text = "`r`n=== $Title ===`r`n"
    try {
        $text += (& $Body | Out-String -Width 4096)
    } catch {
        $text += "FAILED: $($_.Exception.GetType().FullName): $($_.Exception.Message)`r`n"
        $text += "FullyQualifiedErrorId: $($_.FullyQualifiedErrorId); CategoryInfo: $($_.CategoryInfo)`r`n"
    }
    [Console]::Out.Write($text)
    Add-Content -Path $OutFile -Value $text -Encoding UTF8
}

# A property's value as text: bytes as hex (an address would be one), the rest as PowerShell renders it.
function ConvertTo-ValueText {
    param($Value)
    if ($null -eq $Value) { return '(null)' }
    if ($Value -is [byte[]]) { return ('0x' + [BitConverter]::ToString($Value).Replace('-', '')) }
    [string]$Value
}

function Get-TypeName {
    param($Value)
    if ($null -eq $Value) { return '(null)' }
    $Value.GetType().FullName
}

function Invoke-Inventory {
    Write-Section 'Windows' {
        Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' |
            Format-List -Property 'ProductName', 'EditionID', 'DisplayVersion', 'CurrentBuildNumber', 'UBR', 'InstallationType'
        $PSVersionTable | Format-Table -AutoSize
    }
    Write-Section 'Hotfixes (Get-HotFix)' {
        Get-HotFix | Sort-Object -Property InstalledOn | Format-Table -Property 'HotFixID', 'Description', 'InstalledOn' -AutoSize
    }
    Write-Section 'Get-SmbServerConfiguration' { Get-SmbServerConfiguration | Format-List * }
    Write-Section 'Get-SmbClientConfiguration' { Get-SmbClientConfiguration | Format-List * }
    foreach ($cmdlet in 'Set-SmbServerConfiguration', 'Set-SmbClientConfiguration') {
        Write-Section "$cmdlet parameters (Audit*, *Signing*, *Signature*)" {
            (Get-Command -Name $cmdlet).Parameters.Keys | Where-Object { $_ -like 'Audit*' -or $_ -like '*Signing*' -or $_ -like '*Signature*' } | Sort-Object
        }
    }
    foreach ($key in @(
            'HKLM:\SYSTEM\CurrentControlSet\Services\LanmanServer\Parameters',
            'HKLM:\SYSTEM\CurrentControlSet\Services\LanmanWorkstation\Parameters',
            'HKLM:\SOFTWARE\Policies\Microsoft\Windows\LanmanServer',
            'HKLM:\SOFTWARE\Policies\Microsoft\Windows\LanmanWorkstation')) {
        Write-Section $key {
            if (Test-Path -Path $key) { Get-ItemProperty -Path $key | Format-List * } else { 'no such key' }
        }
    }
    foreach ($log in $AuditLogs) {
        Write-Section "Get-WinEvent -ListLog $log" {
            Get-WinEvent -ListLog $log | Format-List -Property 'LogName', 'IsEnabled', 'LogMode', 'LogType', 'MaximumSizeInBytes', 'RecordCount', 'LastWriteTime', 'LogFilePath'
        }
    }
    Write-Section 'RSoP logging (HKLM\SOFTWARE\Policies\Microsoft\Windows\System and ...\Winlogon, value RSoPLogging; 0 is off)' {
        foreach ($key in 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\System', 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon') {
            $item = Get-ItemProperty -Path $key -ErrorAction SilentlyContinue
            $value = if ($null -eq $item -or $null -eq $item.RSoPLogging) { '(absent)' } else { [string]$item.RSoPLogging }
            "$key RSoPLogging = $value"
        }
    }
    Write-Section 'RSoP: root\rsop\computer RSOP_GPO' {
        Get-CimInstance -Namespace 'root\rsop\computer' -ClassName 'RSOP_GPO' | Format-List -Property 'id', 'name', 'guidName', 'version', 'enabled', 'accessDenied', 'filterAllowed', 'fileSystemPath'
    }
    Write-Section 'RSoP: RSOP_RegistryValue, precedence 1, under Lanman*' {
        Get-CimInstance -Namespace 'root\rsop\computer' -ClassName 'RSOP_RegistryValue' -Filter 'precedence = 1' |
            Where-Object { [string]$_.Path -like '*Lanman*' } | Format-List -Property 'Path', 'Data', 'GPOID', 'precedence'
    }
    Write-Section 'RSoP: RSOP_RegistryPolicySetting, precedence 1, under Lanman*' {
        Get-CimInstance -Namespace 'root\rsop\computer' -ClassName 'RSOP_RegistryPolicySetting' -Filter 'precedence = 1' |
            Where-Object { [string]$_.registryKey -like '*Lanman*' } | Format-List -Property 'registryKey', 'valueName', 'value', 'GPOID', 'precedence'
    }
}

function Invoke-Connect {
    foreach ($log in $AuditLogs) {
        Write-Section "audit log $log on" {
            $info = Get-WinEvent -ListLog $log
            if ($info.IsEnabled) {
                "$log was enabled already"
            } else {
                $info.IsEnabled = $true
                $info.SaveChanges()
                "$log was DISABLED; enabled it now"
            }
        }
    }
    Write-Section 'signing and audit settings now' {
        Get-SmbServerConfiguration | Format-List -Property 'RequireSecuritySignature', 'EnableSecuritySignature', 'Audit*'
        Get-SmbClientConfiguration | Format-List -Property 'RequireSecuritySignature', 'EnableSecuritySignature', 'Audit*'
    }
    $folder = Join-Path -Path $env:TEMP -ChildPath 'smb-experiment-share'
    Write-Section "share $ShareName of $folder" {
        New-Item -ItemType Directory -Path $folder -Force | Out-Null
        Set-Content -Path (Join-Path -Path $folder -ChildPath 'hello.txt') -Value 'hello over SMB'
        if (Get-SmbShare -Name $ShareName -ErrorAction SilentlyContinue) { Remove-SmbShare -Name $ShareName -Force }
        # Everyone by its SID: the name is localized.
        $everyone = (New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList 'S-1-1-0').Translate([System.Security.Principal.NTAccount]).Value
        New-SmbShare -Name $ShareName -Path $folder -FullAccess $everyone | Format-List -Property 'Name', 'Path', 'EncryptData', 'CurrentUsers'
    }
    $servers = @('127.0.0.1', 'localhost')
    foreach ($server in $servers) {
        $remote = "\\$server\$ShareName"
        Write-Section "UNC read and write $remote" {
            Get-Content -Path (Join-Path -Path $remote -ChildPath 'hello.txt')
            Set-Content -Path (Join-Path -Path $remote -ChildPath "written-via-$server.txt") -Value "written via $server"
            Get-ChildItem -Path $remote | Format-Table -Property 'Name', 'Length' -AutoSize
        }
        Write-Section "New-SmbMapping -RemotePath $remote" {
            New-SmbMapping -RemotePath $remote | Format-List *
        }
    }
    Write-Section 'Get-SmbConnection (client side: Dialect, Signed, Encrypted)' { Get-SmbConnection | Format-List * }
    Write-Section 'Get-SmbSession (server side)' { Get-SmbSession | Format-List * }
    Write-Section 'Get-SmbMapping' { Get-SmbMapping | Format-List * }
    Write-Section 'waiting 10 s for the audit events to land' { Start-Sleep -Seconds 10; 'done' }
    Write-Section 'clean-up: the mappings, the share, the folder' {
        foreach ($server in $servers) {
            $remote = "\\$server\$ShareName"
            if (Get-SmbMapping -RemotePath $remote -ErrorAction SilentlyContinue) { Remove-SmbMapping -RemotePath $remote -Force }
        }
        if (Get-SmbShare -Name $ShareName -ErrorAction SilentlyContinue) { Remove-SmbShare -Name $ShareName -Force }
        Remove-Item -Path $folder -Recurse -Force
        'removed'
    }
}

function Invoke-Dump {
    # A list, not an array: the sections run in scopes of their own, where $records += ... would
    # make a new local array; .Add() reaches this one.
    $records = New-Object -TypeName 'System.Collections.Generic.List[object]'
    foreach ($log in $AuditLogs) {
        Write-Section "Get-WinEvent -ListLog $log" {
            Get-WinEvent -ListLog $log | Format-List -Property 'LogName', 'IsEnabled', 'LogMode', 'RecordCount', 'LastWriteTime'
        }
        Write-Section "Get-WinEvent -LogName $log (oldest first, at most 500)" {
            $logged = @()
            try {
                $logged = @(Get-WinEvent -LogName $log -MaxEvents 500 -Oldest)
            } catch {
                if ($_.FullyQualifiedErrorId -notlike 'NoMatchingEventsFound*') { throw }
                "no events ($($_.FullyQualifiedErrorId))"
            }
            "$($logged.Count) event(s)"
            foreach ($entry in $logged) {
                $values = @()
                for ($i = 0; $i -lt $entry.Properties.Count; $i++) {
                    $value = $entry.Properties[$i].Value
                    $values += [pscustomobject]@{ index = $i; type = (Get-TypeName $value); value = (ConvertTo-ValueText $value) }
                }
                $message = $null
                try { $message = $entry.FormatDescription() } catch { $message = "(FormatDescription failed: $($_.Exception.Message))" }
                $xml = $entry.ToXml()
                ''
                "--- Id $($entry.Id) version $($entry.Version), $($entry.TimeCreated.ToUniversalTime().ToString('o')), record $($entry.RecordId)"
                "message: $message"
                $values | Format-Table -Property 'index', 'type', 'value' -AutoSize
                "xml: $xml"
                $records.Add([pscustomobject]@{
                    log         = $log
                    id          = $entry.Id
                    version     = $entry.Version
                    timeCreated = $entry.TimeCreated.ToUniversalTime().ToString('o')
                    recordId    = $entry.RecordId
                    message     = $message
                    properties  = $values
                    xml         = $xml
                })
            }
        }
    }
    $json = ConvertTo-Json -InputObject @($records.ToArray()) -Depth 5
    Set-Content -Path (Join-Path -Path $OutputDirectory -ChildPath 'audit-events.json') -Value $json -Encoding UTF8
    foreach ($name in $EventProviders) {
        Write-Section "Get-WinEvent -ListProvider $name : which audit ids it has" {
            $known = @((Get-WinEvent -ListProvider $name).Events | ForEach-Object { [int]$_.Id })
            foreach ($id in $AuditIds) { if ($known -contains $id) { "$id present" } else { "$id absent" } }
        }
        Write-Section "Get-WinEvent -ListProvider $name : every event (Id, Version, log)" {
            (Get-WinEvent -ListProvider $name).Events |
                Select-Object -Property 'Id', 'Version', @{ Name = 'Log'; Expression = { $_.LogLink.LogName } } |
                Format-Table -AutoSize
        }
        Write-Section "Get-WinEvent -ListProvider $name : events of an Audit log or numbered as audit events (Description, Template)" {
            (Get-WinEvent -ListProvider $name).Events |
                Where-Object { [string]$_.LogLink.LogName -like '*/Audit' -or $AuditIds -contains [int]$_.Id } |
                Format-List -Property 'Id', 'Version', @{ Name = 'Log'; Expression = { $_.LogLink.LogName } }, 'Description', 'Template'
        }
    }
}

if ($Step -eq 'Inventory') { Invoke-Inventory }
elseif ($Step -eq 'Connect') { Invoke-Connect }
else { Invoke-Dump }
exit 0
