<#
.SYNOPSIS
    Reads the SMB signing settings of this host, applies or restores the requested ones, and
    re-reads them, keeping the values the host had before in a record on the host itself.
.DESCRIPTION
    Shipped by pulumi-smb-signing and run through bootstrap.ps1, or as a signed file
    (powershell.exe -File, the request on stdin): one JSON request in, one JSON reply out. The
    reply is ASCII only (other characters as \uXXXX) so that no console code page can corrupt it.

    Request: {"operation": "read" | "apply" | "restore" | "release",
              "ownerId": "<uuid>" | "", "ownerLabel": "<the resource's URN>", "legacyOwners": ["<project>/<stack>/<resource>"],
              "takeOwnership": false,
              "client": {"RequireSecuritySignature": true, ...},
              "server": {"RequireSecuritySignature": true, ...},
              "originals": {"client": {...}, "server": {...}},
              "auditDays": 7, "auditMaxEvents": 2000}
    Reply:   {"status": "ok", "host": {...}, "source": "cmdlet" | "registry",
              "before": {"client": {...}, "server": {...}}, "after": {...}, "changed": [...],
              "record": {"format": 2, "ownerId": "...", "ownerLabel": "...", "claimedAt": "...", "originals": {...}} | null,
              "ours": true | false, "restored": true | false,
              "policy": {"client": {"RequireSecuritySignature": {"value": true, "gpo": "..."}}, "server": {...}},
              "audit": {"readAt": "...", "days": 7, "server": {"log": "available", "signingIds": [3021], "events": 4, "truncated": false,
                        "peerCount": 1, "peers": [{"peer": "10.0.4.17", "events": 2, "ids": [3021], "lastSeen": "..."}]}, "client": {...}}}
             run as a file, every reply also has "script": {"invocation": "file", "path": "...",
              "languageMode": "FullLanguage", "signature": {"status": "Valid", "signer": "CN=...", "thumbprint": "..."}}
        or   {"status": "error", "kind": "...", "message": "...", "before": {...}, "changed": [...],
              "record": {...}, "conflicts": [{"side": "...", "name": "...", "declared": true, "enforced": false, "gpo": "..."}]}
    Exit code: 0 with an ok reply, 2 with an error reply.

    Group Policy is read before anything is written: a setting that a policy enforces with
    another value than requested is refused (kind policyConflict), since the policy would win it
    back at its next application (boot, gpupdate /force, the background refresh, or the security
    policy's forced re-apply every 16 hours). A restore leaves such settings to the policy.

    With auditDays (1 to 90) a read or an apply also reads the SMB audit logs of the last
    auditDays days (at most auditMaxEvents events each): the peers that SMB signing audit logged,
    for the provider to tell who would be refused once signing is required, and which event IDs
    this release logs for them (signingIds, from its SMB providers' manifests; none: it logs no
    such event). Reading them never fails the run: a log the host lacks, has disabled or cannot
    read is reported as such.

    The record: HKLM:\SOFTWARE\pulumi-smb-signing, REG_SZ value OriginalSettings, holding
    {"version": 2, "ownerId": "<uuid>", "ownerLabel": "<URN>", "claimedAt": "<UTC>",
     "originals": {"client": {...}, "server": {...}}}. It is written before the first Set-*, so
    the values the host had before survive a connection that drops, a process that is killed or a
    cmdlet that fails half way. A restore that puts every original back removes it.

    The owner is the random ownerId its resource keeps in its Pulumi state; ownerLabel (at most
    1024 characters) only names it for people. A record is this request's when its ownerId is the
    request's, when it is released (ownerId "": its resource was destroyed leaving the host as it
    was, and the originals stay for the next owner), or when it is a record of the first format
    ({"version": 1, "owner": "<project>/<stack>/<resource>", ...}, written by releases before
    owner ids) naming one of legacyOwners. An apply refuses another owner's record unless
    takeOwnership is true; a restore or a release leaves it alone. A release marks this owner's
    record released.

    An administrator may remove the record with Remove-Item -Path HKLM:\SOFTWARE\pulumi-smb-signing
    (the originals are then lost).
#>
param([string]$RequestJson)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# Run as a file without -RequestJson (powershell.exe -File <a signed copy of this script>, for
# hosts whose WDAC or AppLocker policy allows only signed scripts; connection.scriptPath): the
# request comes on stdin, and every reply says how the script ran. (Run by path with
# -RequestJson, as the Pester tests do, it takes the parameter.) Nothing up to the stdin read needs
# FullLanguage: a copy the policy does not allow runs in ConstrainedLanguage, where reading stdin
# (a method call on a non-core type) fails, and gets the typed answer bootstrap.ps1 gives. The
# language mode is told by that call, not by the session's LanguageMode property, which may name
# the session's mode inside an allowed script (docs/windows-model.md).
$ScriptRun = $null
if ($PSVersionTable.PSVersion.Major -lt 3) {
    Write-Output ('{"status":"error","kind":"unsupportedOs","message":"Windows PowerShell ' + $PSVersionTable.PSVersion + ' is too old: install Windows Management Framework 5.1"}')
    exit 2
}
if ($PSCommandPath -and $RequestJson -eq '') {
    try {
        $RequestJson = [Console]::In.ReadToEnd()
    } catch {
        if ($ExecutionContext.SessionState.LanguageMode -eq 'FullLanguage') { throw }
        Write-Output '{"status":"error","kind":"constrainedLanguage","message":"PowerShell runs this copy of smb-signing.ps1 in ConstrainedLanguage mode: the AppLocker or WDAC policy of this host does not allow it (is it signed by a certificate the policy allows, and its signature valid?)"}'
        exit 2
    }
    $ScriptRun = @{ invocation = 'file'; path = $PSCommandPath; languageMode = 'FullLanguage'; signature = @{ status = 'Unknown'; signer = ''; thumbprint = '' } }
    try {
        $signature = Get-AuthenticodeSignature -FilePath $PSCommandPath
        $ScriptRun.signature = @{ status = [string]$signature.Status; signer = [string]$signature.SignerCertificate.Subject; thumbprint = [string]$signature.SignerCertificate.Thumbprint }
    } catch {
        $ScriptRun.signature.status = "Unknown: $($_.Exception.Message)"
    }
}

# Properties of Get-SmbClientConfiguration / Get-SmbServerConfiguration this script manages.
$Properties = @{
    client = @('RequireSecuritySignature', 'EnableSecuritySignature', 'EnableInsecureGuestLogons',
        'AuditServerDoesNotSupportSigning', 'AuditInsecureGuestLogon')
    server = @('RequireSecuritySignature', 'EnableSecuritySignature',
        'AuditClientDoesNotSupportSigning', 'AuditInsecureGuestLogon')
}

# Hosts without the SmbShare module (before Windows 8 / Server 2012) keep the same settings
# as REG_DWORD values; an absent value means the default of those releases. Those releases have
# no AllowInsecureGuestAuth (it came with Windows 10), so guest logons are not managed there.
$RegistryKey = @{
    client = 'HKLM:\SYSTEM\CurrentControlSet\Services\LanmanWorkstation\Parameters'
    server = 'HKLM:\SYSTEM\CurrentControlSet\Services\LanmanServer\Parameters'
}
$RegistryValue = @{
    client = @{ RequireSecuritySignature = 'RequireSecuritySignature'; EnableSecuritySignature = 'EnableSecuritySignature' }
    server = @{ RequireSecuritySignature = 'RequireSecuritySignature'; EnableSecuritySignature = 'EnableSecuritySignature' }
}
$RegistryDefault = @{
    client = @{ RequireSecuritySignature = $false; EnableSecuritySignature = $true }
    server = @{ RequireSecuritySignature = $false; EnableSecuritySignature = $false }
}

# Group Policy. Security Options ("Microsoft network client/server: Digitally sign
# communications") write the same ...\Parameters values as the cmdlets; RSoP names the winning
# GPO (root\rsop\computer, RSOP_RegistryValue with precedence 1, Path ending as below, Data "1"
# or "0"). Administrative Templates live under HKLM:\SOFTWARE\Policies and win over
# ...\Parameters (KB 4046019); RSOP_RegistryPolicySetting names their GPO.
$SecurityOptionPath = @{
    client = 'System\CurrentControlSet\Services\LanmanWorkstation\Parameters\'
    server = 'System\CurrentControlSet\Services\LanmanServer\Parameters\'
}
$SecurityOptions = @{
    client = @('RequireSecuritySignature', 'EnableSecuritySignature')
    server = @('RequireSecuritySignature', 'EnableSecuritySignature')
}
$PolicyKey = @{
    client = 'SOFTWARE\Policies\Microsoft\Windows\LanmanWorkstation'
    server = 'SOFTWARE\Policies\Microsoft\Windows\LanmanServer'
}
$AdministrativeTemplates = @{
    client = @{ EnableInsecureGuestLogons = 'AllowInsecureGuestAuth'; AuditServerDoesNotSupportSigning = 'AuditServerDoesNotSupportSigning'; AuditInsecureGuestLogon = 'AuditInsecureGuestLogon' }
    server = @{ AuditClientDoesNotSupportSigning = 'AuditClientDoesNotSupportSigning'; AuditInsecureGuestLogon = 'AuditInsecureGuestLogon' }
}

# SMB signing audit (Windows 11 24H2, Windows Server 2025; KB5066913 for the server side of
# older releases) logs the peers that do not sign in these logs, which exist from Windows 10 /
# Server 2016 on. Which events mean that is read at run time from the SMB provider's own manifest
# (Get-WinEvent -ListProvider): the events of the Audit log whose template has the data item
# named in 'signing'. Not fixed IDs: each log has a signing and an encryption event (3021 and
# 3022, 31998 and 31999; Microsoft's table does not say which is which), SMB 1 has its own
# (3027), and a release may have none. Not the message text: EventMetadata.Description is in
# the host's language and no source publishes these texts. The template's data names are the
# manifest's own, the same in every language and every version of an event.
# The peer is the event's data item named in 'name' ("\\<address>" or a host name), else its
# socket address ('address'; '' where no event of that side is known to carry one).
$AuditLog = @{
    server = @{ log = 'Microsoft-Windows-SMBServer/Audit'; provider = 'Microsoft-Windows-SMBServer'; signing = 'ServerRequiresSigning'; name = 'ClientName'; address = 'ClientAddress' }
    client = @{ log = 'Microsoft-Windows-SMBClient/Audit'; provider = 'Microsoft-Windows-SMBClient'; signing = 'ClientRequireSigning'; name = 'ServerName'; address = '' }
}
# The most peers a reply names per log (the busiest first).
$AuditPeersMax = 50

# Where the values the host had before are kept (see .DESCRIPTION).
$RecordKey = 'HKLM:\SOFTWARE\pulumi-smb-signing'
$RecordValue = 'OriginalSettings'

# Windows 7 / Server 2008 R2 (build 7601) is the oldest release this script knows.
$MinimumBuild = 7601

function Write-Reply {
    param([hashtable]$Reply, [int]$ExitCode)
    if ($null -ne $ScriptRun) { $Reply.script = $ScriptRun }
    $json = ConvertTo-Json -InputObject $Reply -Depth 8 -Compress
    $ascii = [regex]::Replace($json, '[^\x00-\x7F]', { param($m) '\u{0:x4}' -f [int][char]$m.Value })
    [Console]::Out.Write($ascii)
    exit $ExitCode
}

function Get-HostFacts {
    $version = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    @{
        productName    = [string]$version.ProductName
        edition        = [string]$version.EditionID
        displayVersion = [string]$version.DisplayVersion
        build          = '{0}.{1}' -f $version.CurrentBuildNumber, $version.UBR
        domainRole     = [int](Get-CimInstance -ClassName Win32_ComputerSystem).DomainRole
    }
}

# The RSoP query of one class, winning entries only; none where RSoP logging is off.
function Get-RsopInstances {
    param([string]$ClassName, [string]$Filter)
    @(Get-CimInstance -Namespace 'root\rsop\computer' -ClassName $ClassName -Filter $Filter -ErrorAction SilentlyContinue)
}

# What Group Policy enforces, by side and setting: @{ value = $true; gpo = 'Default Domain Controllers Policy' }.
function Get-PolicySettings {
    $result = @{ client = @{}; server = @{} }
    $names = @{}
    foreach ($gpo in (Get-RsopInstances -ClassName 'RSOP_GPO' -Filter 'id IS NOT NULL')) { $names[[string]$gpo.id] = [string]$gpo.name }
    $securityValues = Get-RsopInstances -ClassName 'RSOP_RegistryValue' -Filter 'precedence = 1'
    $templateValues = Get-RsopInstances -ClassName 'RSOP_RegistryPolicySetting' -Filter 'precedence = 1'
    foreach ($side in 'client', 'server') {
        foreach ($name in $SecurityOptions[$side]) {
            $suffix = $SecurityOptionPath[$side] + $name
            foreach ($entry in $securityValues) {
                if (([string]$entry.Path).EndsWith($suffix, [System.StringComparison]::OrdinalIgnoreCase)) {
                    # Data is text: "1", or "4,1" in the security template's type,value form.
                    $data = ([string]$entry.Data).Split(',')[-1].Trim()
                    $result[$side][$name] = @{ value = ($data -ne '0'); gpo = (Get-GpoName -Names $names -Id ([string]$entry.GPOID)) }
                }
            }
        }
        $item = Get-ItemProperty -Path ('HKLM:\' + $PolicyKey[$side]) -ErrorAction SilentlyContinue
        foreach ($name in $AdministrativeTemplates[$side].Keys) {
            $valueName = $AdministrativeTemplates[$side][$name]
            if ($null -eq $item -or $null -eq $item.$valueName) { continue }
            $gpo = 'a Group Policy object (RSoP names none)'
            foreach ($entry in $templateValues) {
                if (([string]$entry.registryKey) -ieq $PolicyKey[$side] -and ([string]$entry.valueName) -ieq $valueName) { $gpo = Get-GpoName -Names $names -Id ([string]$entry.GPOID) }
            }
            $result[$side][$name] = @{ value = ([int]$item.$valueName -ne 0); gpo = $gpo }
        }
    }
    $result
}

function Get-GpoName {
    param([hashtable]$Names, [string]$Id)
    if ($Names.ContainsKey($Id) -and $Names[$Id]) { return $Names[$Id] }
    if ($Id) { return $Id }
    'an unnamed Group Policy object'
}

# The IDs of the events one side's SMB provider logs to its Audit log for a peer that does not
# sign: those whose template (EventMetadata.Template: <template><data name="..." .../>...) has the
# data item $Spec.signing. The provider lists each version of an event; an ID counts once. None:
# this release logs no such event. Throws when the provider's metadata cannot be read.
function Get-SigningEventIds {
    param([hashtable]$Spec)
    $ids = @()
    foreach ($metadata in @((Get-WinEvent -ListProvider $Spec.provider -ErrorAction Stop).Events)) {
        if ($null -eq $metadata -or $null -eq $metadata.LogLink -or [string]$metadata.LogLink.LogName -ne $Spec.log -or [string]::IsNullOrEmpty($metadata.Template)) { continue }
        $names = @(foreach ($data in @(([xml]$metadata.Template).template.data)) { [string]$data.name })
        if ($names -contains $Spec.signing -and $ids -notcontains [int]$metadata.Id) { $ids += [int]$metadata.Id }
    }
    $ids | Sort-Object
}

# The peer an audit event names: its data item $Spec.name, leading backslashes removed (the SMB
# server's events name a client "\\<address>", SMBClient's a server "\<name>"), else its socket
# address ($Spec.address) decoded. Read by name from the event's XML (ToXml(): <EventData><Data
# Name="...">): Properties has values only, and their positions differ between versions of an
# event (3021 version 1 puts UserNameLength and UserName before ServerRequiresSigning) and begin
# with the name's length.
function Get-AuditPeer {
    param($Logged, [hashtable]$Spec)
    $fields = @{}
    foreach ($data in @(([xml]$Logged.ToXml()).Event.EventData.Data)) {
        $name = [string]$data.Name
        if ($name -ne '' -and -not $fields.ContainsKey($name)) { $fields[$name] = [string]$data.'#text' }
    }
    $peer = ([string]$fields[$Spec.name]).Trim().TrimStart('\')
    if ($peer -ne '' -or $Spec.address -eq '') { return $peer }
    ConvertFrom-SocketAddress -Text ([string]$fields[$Spec.address])
}

# A socket address as an event's XML may give it (which form is not documented): "<IPv4>:<port>",
# "[<IPv6>]:<port>", or the SOCKADDR's bytes in hexadecimal of either case: the family in bytes
# 0-1 (little-endian: 2 IPv4, 23 IPv6), the port in 2-3, the IPv4 address in 4-7 or the IPv6
# address in 8-23 (ws2def.h, ws2ipdef.h); whatever follows (sin_zero, the scope id, the rest of
# a SOCKADDR_STORAGE) is ignored. Gives the address alone, IPv6 shortened as RFC 5952 writes it
# (the longest run of two or more zero groups, the first of equal ones, as "::"), or the text as
# it is when it is neither form.
function ConvertFrom-SocketAddress {
    param([string]$Text)
    $text = $Text.Trim()
    if ($text -match '\A\d{1,3}(\.\d{1,3}){3}:\d{1,5}\z') { return ($text -replace ':\d+\z', '') }
    if ($text -match '\A\[[0-9A-Fa-f:.]+(%[0-9A-Za-z]+)?\]:\d{1,5}\z') { return ($text -replace '\A\[([^\]%]+)(%[^\]]*)?\]:\d+\z', '$1').ToLower() }
    if ($text -notmatch '\A([0-9A-Fa-f]{2}){4,}\z') { return $text }
    $family = (Get-HexByte -Hex $text -Index 0) + 256 * (Get-HexByte -Hex $text -Index 1)
    if ($family -eq 2 -and $text.Length -ge 16) {
        return '{0}.{1}.{2}.{3}' -f (Get-HexByte -Hex $text -Index 4), (Get-HexByte -Hex $text -Index 5), (Get-HexByte -Hex $text -Index 6), (Get-HexByte -Hex $text -Index 7)
    }
    if ($family -ne 23 -or $text.Length -lt 48) { return $text }
    $groups = @(foreach ($i in @(4, 5, 6, 7, 8, 9, 10, 11)) { '{0:x}' -f (256 * (Get-HexByte -Hex $text -Index (2 * $i)) + (Get-HexByte -Hex $text -Index (2 * $i + 1))) })
    $address = ':' + ($groups -join ':') + ':'
    foreach ($length in @(8, 7, 6, 5, 4, 3, 2)) {
        $run = ':' + ((@('0') * $length) -join ':') + ':'
        if ($address.Contains($run)) {
            $address = $address -replace ('\A(.*?)' + $run), '$1::'
            break
        }
    }
    if (-not $address.StartsWith('::')) { $address = $address.Substring(1) }
    if (-not $address.EndsWith('::')) { $address = $address.Substring(0, $address.Length - 1) }
    $address
}

# Byte $Index of a text of hexadecimal digits, two a byte.
function Get-HexByte {
    param([string]$Hex, [int]$Index)
    [int][Convert]::ToByte($Hex.Substring(2 * $Index, 2), 16)
}

# The peers one audit log (side 'server' or 'client') names in the last $Days days, busiest
# first: each with its event count, event IDs and newest time. Never throws.
function Get-AuditFindings {
    param([string]$Side, [int]$Days, [int]$MaxEvents)
    $spec = $AuditLog[$Side]
    $result = @{ log = 'absent'; signingIds = @(); events = 0; truncated = $false; peerCount = 0; peers = @() }
    try {
        $info = Get-WinEvent -ListLog $spec.log -ErrorAction SilentlyContinue
        if ($null -eq $info) { return $result }
        if (-not $info.IsEnabled) {
            $result.log = 'disabled'
            return $result
        }
        $result.log = 'available'
        $result.signingIds = @(Get-SigningEventIds -Spec $spec)
        if ($result.signingIds.Count -eq 0) { return $result }
        $filter = @{ LogName = $spec.log; Id = $result.signingIds; StartTime = (Get-Date).AddDays(-$Days) }
        $logged = @()
        try {
            $logged = @(Get-WinEvent -FilterHashtable $filter -MaxEvents $MaxEvents -ErrorAction Stop)
        } catch {
            if ($_.FullyQualifiedErrorId -notlike 'NoMatchingEventsFound*') { throw }
        }
        $result.events = $logged.Count
        $result.truncated = ($logged.Count -ge $MaxEvents)
        $byPeer = @{}
        foreach ($entry in $logged) {
            $peer = Get-AuditPeer -Logged $entry -Spec $spec
            if (-not $byPeer.ContainsKey($peer)) { $byPeer[$peer] = @{ peer = $peer; events = 0; ids = @(); lastSeen = $entry.TimeCreated } }
            $found = $byPeer[$peer]
            $found.events = $found.events + 1
            if ($found.ids -notcontains [int]$entry.Id) { $found.ids = $found.ids + [int]$entry.Id }
            if ($entry.TimeCreated -gt $found.lastSeen) { $found.lastSeen = $entry.TimeCreated }
        }
        $result.peerCount = $byPeer.Count
        $busiest = @($byPeer.Values | Sort-Object -Property @{ Expression = { $_.events }; Descending = $true }, @{ Expression = { $_.peer }; Descending = $false } | Select-Object -First $AuditPeersMax)
        $result.peers = @(foreach ($found in $busiest) {
                @{ peer = $found.peer; events = $found.events; ids = @($found.ids | Sort-Object); lastSeen = $found.lastSeen.ToUniversalTime().ToString('o') }
            })
    } catch {
        $result.log = 'unreadable'
        $result.error = [string]$_.Exception.Message
    }
    $result
}

function Get-SigningSettings {
    param([string]$Source)
    $result = @{}
    foreach ($side in 'client', 'server') {
        $values = @{}
        if ($Source -eq 'cmdlet') {
            $config = if ($side -eq 'client') { Get-SmbClientConfiguration } else { Get-SmbServerConfiguration }
            foreach ($name in $Properties[$side]) {
                if ($config.PSObject.Properties[$name]) { $values[$name] = [bool]$config.$name }
            }
        } else {
            $item = Get-ItemProperty -Path $RegistryKey[$side]
            foreach ($name in $RegistryValue[$side].Keys) {
                $raw = $item.($RegistryValue[$side][$name])
                $values[$name] = if ($null -eq $raw) { $RegistryDefault[$side][$name] } else { [int]$raw -ne 0 }
            }
        }
        $result[$side] = $values
    }
    $result
}

function Set-SigningSettings {
    param([string]$Source, [string]$Side, [hashtable]$Values)
    if ($Values.Count -eq 0) { return }
    if ($Source -eq 'registry') {
        foreach ($name in $Values.Keys) {
            Set-ItemProperty -Path $RegistryKey[$Side] -Name $RegistryValue[$Side][$name] -Value ([int]$Values[$name]) -Type DWord
        }
    } elseif ($Side -eq 'client') {
        Set-SmbClientConfiguration @Values -Force -Confirm:$false
    } else {
        Set-SmbServerConfiguration @Values -Force -Confirm:$false
    }
}

# Known settings with Boolean values from a JSON object ({"RequireSecuritySignature": true}), by side.
function ConvertTo-SideTable {
    param($Object)
    $result = @{ client = @{}; server = @{} }
    if ($null -eq $Object) { return $result }
    foreach ($side in 'client', 'server') {
        if ($null -eq $Object.$side) { continue }
        foreach ($property in $Object.$side.PSObject.Properties) {
            if ($Properties[$side] -contains $property.Name -and $property.Value -is [bool]) {
                $result[$side][$property.Name] = $property.Value
            }
        }
    }
    $result
}

# The record, or $null when there is none; a record this script did not write is reported, never used.
function Read-Record {
    $item = Get-ItemProperty -Path $RecordKey -Name $RecordValue -ErrorAction SilentlyContinue
    if ($null -eq $item) { return $null }
    $parsed = $null
    try { $parsed = ConvertFrom-Json -InputObject ([string]$item.$RecordValue) } catch { $parsed = $null }
    $valid = $null -ne $parsed -and $null -ne $parsed.originals -and (
        ($parsed.version -eq 1 -and $parsed.owner -is [string]) -or
        ($parsed.version -eq 2 -and $parsed.ownerId -is [string] -and $parsed.ownerLabel -is [string] -and $parsed.claimedAt -is [string]))
    if (-not $valid) {
        Write-Reply @{ status = 'error'; kind = 'badRecord'; message = "$RecordKey\$RecordValue is not a record this provider wrote; inspect it, then remove it (Remove-Item -Path $RecordKey) to let the provider start afresh" } 2
    }
    if ($parsed.version -eq 1) {
        return @{ format = 1; ownerId = ''; ownerLabel = [string]$parsed.owner; claimedAt = ''; originals = (ConvertTo-SideTable $parsed.originals) }
    }
    @{ format = 2; ownerId = [string]$parsed.ownerId; ownerLabel = [string]$parsed.ownerLabel; claimedAt = [string]$parsed.claimedAt; originals = (ConvertTo-SideTable $parsed.originals) }
}

# Writes the record (format 2) and returns it as Read-Record would.
function Write-Record {
    param([string]$Id, [string]$Label, [string]$ClaimedAt, [hashtable]$Originals)
    if (-not (Test-Path -Path $RecordKey)) { New-Item -Path $RecordKey -Force | Out-Null }
    $json = ConvertTo-Json -InputObject @{ version = 2; ownerId = $Id; ownerLabel = $Label; claimedAt = $ClaimedAt; originals = $Originals } -Depth 4 -Compress
    Set-ItemProperty -Path $RecordKey -Name $RecordValue -Value $json -Type String
    @{ format = 2; ownerId = $Id; ownerLabel = $Label; claimedAt = $ClaimedAt; originals = $Originals }
}

# Originals kept so far: the record first, then those the caller's state knows, then the values
# the host has now for every setting about to be managed for the first time.
function Join-Originals {
    param($Record, [hashtable]$FromState, [hashtable]$Before, [hashtable]$Declared)
    $result = @{ client = @{}; server = @{} }
    foreach ($side in 'client', 'server') {
        $sources = @()
        if ($null -ne $Record) { $sources += , $Record.originals[$side] }
        $sources += , $FromState[$side]
        foreach ($source in $sources) {
            foreach ($name in $source.Keys) {
                if (-not $result[$side].ContainsKey($name)) { $result[$side][$name] = $source[$name] }
            }
        }
        foreach ($name in $Declared[$side].Keys) {
            if (-not $result[$side].ContainsKey($name) -and $Before[$side].ContainsKey($name)) { $result[$side][$name] = $Before[$side][$name] }
        }
    }
    $result
}

function Test-SameRecord {
    param($Record, [string]$Id, [string]$Label, [hashtable]$Originals)
    if ($null -eq $Record -or $Record.format -ne 2 -or $Record.ownerId -cne $Id -or $Record.ownerLabel -cne $Label) { return $false }
    foreach ($side in 'client', 'server') {
        if ($Record.originals[$side].Count -ne $Originals[$side].Count) { return $false }
        foreach ($name in $Originals[$side].Keys) {
            if (-not $Record.originals[$side].ContainsKey($name) -or $Record.originals[$side][$name] -ne $Originals[$side][$name]) { return $false }
        }
    }
    $true
}

try {
    $request = ConvertFrom-Json -InputObject $RequestJson
} catch {
    Write-Reply @{ status = 'error'; kind = 'badRequest'; message = "the request is not JSON: $($_.Exception.Message)" } 2
}
if (@('read', 'apply', 'restore', 'release') -notcontains $request.operation) {
    Write-Reply @{ status = 'error'; kind = 'badRequest'; message = "unknown operation '$($request.operation)'" } 2
}
# Who asks: its owner id ('' when its state has none yet), its label, and the names it had in
# records of the first format.
$ownerId = [string]$request.ownerId
$ownerLabel = [string]$request.ownerLabel
# A UUID as the provider makes them: lowercase, nothing before or after (-cnotmatch: case-sensitive; \A and \z, since $ also matches before a final newline).
if ($ownerId -ne '' -and $ownerId -cnotmatch '\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\z') {
    Write-Reply @{ status = 'error'; kind = 'badRequest'; message = 'ownerId must be a UUID' } 2
}
if ($request.operation -eq 'apply' -and $ownerId -eq '') {
    Write-Reply @{ status = 'error'; kind = 'badRequest'; message = 'an apply needs an ownerId' } 2
}
if ($ownerLabel.Length -gt 1024) {
    Write-Reply @{ status = 'error'; kind = 'badRequest'; message = 'ownerLabel must be at most 1024 characters' } 2
}
$legacyOwners = @()
foreach ($name in @($request.legacyOwners)) { if ($name -is [string] -and $name -ne '') { $legacyOwners += $name } }
# Every requested setting must be one this script knows, on both sides, before anything is written.
foreach ($side in 'client', 'server') {
    if ($null -eq $request.$side) { continue }
    foreach ($property in $request.$side.PSObject.Properties) {
        if ($Properties[$side] -notcontains $property.Name -or -not ($property.Value -is [bool])) {
            Write-Reply @{ status = 'error'; kind = 'badRequest'; message = "unknown $side setting '$($property.Name)' or not a Boolean" } 2
        }
    }
}
$declared = ConvertTo-SideTable $request
$fromState = ConvertTo-SideTable $request.originals
# The audit logs are read for a read or an apply that asks for them (auditDays 1 to 90).
$auditDays = 0
$auditMaxEvents = 2000
if ($null -ne $request.auditDays) {
    if (-not (($request.auditDays -is [int] -or $request.auditDays -is [long]) -and $request.auditDays -ge 1 -and $request.auditDays -le 90)) {
        Write-Reply @{ status = 'error'; kind = 'badRequest'; message = 'auditDays must be an integer from 1 to 90' } 2
    }
    $auditDays = [int]$request.auditDays
}
if ($null -ne $request.auditMaxEvents) {
    if (-not (($request.auditMaxEvents -is [int] -or $request.auditMaxEvents -is [long]) -and $request.auditMaxEvents -ge 1 -and $request.auditMaxEvents -le 10000)) {
        Write-Reply @{ status = 'error'; kind = 'badRequest'; message = 'auditMaxEvents must be an integer from 1 to 10000' } 2
    }
    $auditMaxEvents = [int]$request.auditMaxEvents
}

# A host whose WMI is broken still gets a typed reply.
try {
    $facts = Get-HostFacts
} catch {
    Write-Reply @{ status = 'error'; kind = 'failed'; message = "could not read the host's facts (registry, WMI Win32_ComputerSystem): $($_.Exception.Message)" } 2
}
if ([int]($facts.build.Split('.')[0]) -lt $MinimumBuild) {
    Write-Reply @{ status = 'error'; kind = 'unsupportedOs'; message = "build $($facts.build) is older than Windows 7 / Server 2008 R2"; host = $facts } 2
}
$source = if (Get-Command -Name Get-SmbClientConfiguration -ErrorAction SilentlyContinue) { 'cmdlet' } else { 'registry' }
$record = Read-Record
$ours = ($null -eq $record) -or
    ($record.format -eq 2 -and ($record.ownerId -eq '' -or ($ownerId -ne '' -and $record.ownerId -ceq $ownerId))) -or
    ($record.format -eq 1 -and $legacyOwners -ccontains $record.ownerLabel)
# Only a JSON true takes a host over ("true" or 1 would pass -ne $true's conversions).
$takeOwnership = $request.takeOwnership -is [bool] -and $request.takeOwnership
if (-not $ours -and $request.operation -eq 'apply' -and -not $takeOwnership) {
    Write-Reply @{ status = 'error'; kind = 'ownedElsewhere'; message = "the SMB signing settings of this host are owned by another resource: $($record.ownerLabel) (record $RecordKey)"; host = $facts; record = $record; ours = $false } 2
}
if ((-not $ours -and $request.operation -eq 'restore') -or $request.operation -eq 'release') {
    # Another resource took this host over: its originals are its to restore now. A release
    # leaves the settings as they are and keeps the originals for whoever declares the host next.
    if ($ours -and $null -ne $record -and -not ($record.format -eq 2 -and $record.ownerId -eq '')) {
        try {
            $record = Write-Record -Id '' -Label $record.ownerLabel -ClaimedAt $record.claimedAt -Originals $record.originals
        } catch {
            $kind = if ($_.CategoryInfo.Category -eq 'PermissionDenied') { 'accessDenied' } else { 'failed' }
            Write-Reply @{ status = 'error'; kind = $kind; message = [string]$_.Exception.Message; host = $facts; record = $record; ours = $ours } 2
        }
    }
    try {
        $current = Get-SigningSettings -Source $source
    } catch {
        $kind = if ($_.CategoryInfo.Category -eq 'PermissionDenied') { 'accessDenied' } else { 'failed' }
        Write-Reply @{ status = 'error'; kind = $kind; message = [string]$_.Exception.Message; host = $facts; record = $record; ours = $ours } 2
    }
    Write-Reply @{ status = 'ok'; host = $facts; source = $source; before = $current; after = $current; changed = @(); record = $record; ours = $ours; restored = $false } 0
}
$before = $null
$changed = @()
$policy = $null
$audit = $null
try {
    $before = Get-SigningSettings -Source $source
    $policy = Get-PolicySettings
    if ($auditDays -gt 0 -and $request.operation -ne 'restore') {
        $audit = @{
            readAt = (Get-Date).ToUniversalTime().ToString('o')
            days   = $auditDays
            server = Get-AuditFindings -Side 'server' -Days $auditDays -MaxEvents $auditMaxEvents
            client = Get-AuditFindings -Side 'client' -Days $auditDays -MaxEvents $auditMaxEvents
        }
    }
    foreach ($side in 'client', 'server') {
        foreach ($name in $declared[$side].Keys) {
            if (-not $before[$side].ContainsKey($name)) {
                Write-Reply @{ status = 'error'; kind = 'unsupportedSetting'; message = "this host has no $side setting $name (build $($facts.build))"; host = $facts; source = $source; before = $before; record = $record; ours = $ours; policy = $policy } 2
            }
        }
    }
    if ($request.operation -eq 'apply') {
        $conflicts = @()
        foreach ($side in 'client', 'server') {
            foreach ($name in $declared[$side].Keys) {
                $enforced = $policy[$side][$name]
                if ($null -ne $enforced -and $enforced.value -ne $declared[$side][$name]) {
                    $conflicts += @{ side = $side; name = $name; declared = $declared[$side][$name]; enforced = $enforced.value; gpo = $enforced.gpo }
                }
            }
        }
        if ($conflicts.Count -gt 0) {
            Write-Reply @{ status = 'error'; kind = 'policyConflict'; message = "Group Policy enforces other values than requested"; conflicts = $conflicts; host = $facts; source = $source; before = $before; record = $record; ours = $ours; policy = $policy } 2
        }
    }
    if ($request.operation -ne 'read') {
        $originals = Join-Originals -Record $record -FromState $fromState -Before $before -Declared $declared
        if ($request.operation -eq 'apply') {
            $desired = $declared
            if (-not (Test-SameRecord -Record $record -Id $ownerId -Label $ownerLabel -Originals $originals)) {
                # Claimed when first written for this owner; a rename (aliases) keeps the claim.
                $claimedAt = if ($null -ne $record -and $record.format -eq 2 -and $record.ownerId -ceq $ownerId) { $record.claimedAt } else { (Get-Date).ToUniversalTime().ToString('o') }
                $record = Write-Record -Id $ownerId -Label $ownerLabel -ClaimedAt $claimedAt -Originals $originals
                $ours = $true
            }
        } else {
            # A setting Group Policy enforces is the policy's to set, whatever it was before.
            $desired = @{ client = @{}; server = @{} }
            foreach ($side in 'client', 'server') {
                foreach ($name in $originals[$side].Keys) {
                    $enforced = $policy[$side][$name]
                    if ($null -eq $enforced -or $enforced.value -eq $originals[$side][$name]) { $desired[$side][$name] = $originals[$side][$name] }
                }
            }
        }
        foreach ($side in 'client', 'server') {
            $values = @{}
            foreach ($name in $desired[$side].Keys) {
                if ($before[$side].ContainsKey($name) -and $before[$side][$name] -ne $desired[$side][$name]) { $values[$name] = $desired[$side][$name] }
            }
            Set-SigningSettings -Source $source -Side $side -Values $values
            foreach ($name in $values.Keys) { $changed += "$side.$name" }
        }
    }
    $after = Get-SigningSettings -Source $source
    $restored = $false
    if ($request.operation -eq 'restore') {
        $restored = $true
        foreach ($side in 'client', 'server') {
            foreach ($name in $desired[$side].Keys) {
                if ($after[$side].ContainsKey($name) -and $after[$side][$name] -ne $desired[$side][$name]) { $restored = $false }
            }
        }
        if ($restored -and $null -ne $record) {
            Remove-Item -Path $RecordKey -Recurse -Force
            $record = $null
        }
    }
} catch {
    $kind = if ($_.CategoryInfo.Category -eq 'PermissionDenied') { 'accessDenied' } else { 'failed' }
    Write-Reply @{ status = 'error'; kind = $kind; message = [string]$_.Exception.Message; host = $facts; source = $source; before = $before; changed = $changed; record = $record; ours = $ours; policy = $policy } 2
}
Write-Reply @{ status = 'ok'; host = $facts; source = $source; before = $before; after = $after; changed = $changed; record = $record; ours = $ours; restored = $restored; policy = $policy; audit = $audit } 0
