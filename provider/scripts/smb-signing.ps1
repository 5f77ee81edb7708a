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
    Reply:   {"status": "ok", "host": {..., "processBits": 64, "osBits": 64}, "source": "cmdlet" | "registry",
              "before": {"client": {...}, "server": {...}}, "after": {...}, "changed": [...],
              "record": {"format": 2, "ownerId": "...", "ownerLabel": "...", "claimedAt": "...", "originals": {...}} | null,
              "ours": true | false, "restored": true | false,
              "unavailable": {"server": {"message": "...", "errorId": "Windows System Error 1062,Get-SmbServerConfiguration"}},
              "restartNeeded": ["LanmanServer"],
              "policy": {"client": {"RequireSecuritySignature": {"value": true, "gpo": "...", "source": "gpo" | "mdm"}}, "server": {...}},
              "policyVisibility": {"state": "known"} | {"state": "unknown", "cause": "rsopLoggingOff" | "rsopQueryFailed" | "noGpoInstances", "detail": "..."},
              "audit": {"readAt": "...", "days": 7, "server": {"log": "available", "signingIds": [3021], "events": 4, "truncated": false,
                        "peerCount": 1, "peers": [{"peer": "10.0.4.17", "events": 2, "ids": [3021], "lastSeen": "..."}]}, "client": {...}}}
             run as a file, every reply also has "script": {"invocation": "file", "path": "...",
              "languageMode": "FullLanguage", "signature": {"status": "Valid", "signer": "CN=...", "thumbprint": "..."}}
        or   {"status": "error", "kind": "...", "message": "...", "before": {...}, "changed": [...],
              "record": {...}, "conflicts": [{"side": "...", "name": "...", "declared": true, "enforced": false, "gpo": "...", "source": "gpo" | "mdm"}],
              "unconfirmed": ["server.RequireSecuritySignature"] (kind policyUnknown)}
    Exit code: 0 with an ok reply, 2 with an error reply.

    Group Policy is read before anything is written: a setting that a policy enforces with
    another value than requested is refused (kind policyConflict), since the policy would win it
    back at its next application (boot, gpupdate /force, the background refresh, or the security
    policy's forced re-apply every 16 hours). A restore leaves such settings to the policy.
    Security Options pushed by MDM (Intune) are read from the PolicyManager's registry (RSoP never
    shows them) and count the same way: an MDM sync puts them back.

    Whether Group Policy could be seen is said in every reply that read it (policyVisibility):
    unknown where RSoP logging is turned off, the RSoP query failed, or a domain member's RSoP
    names no GPO at all; never read as "no policy". A domain controller gets its signing from
    policy: where its policy is unknown, an apply that would change a Security Option no visible
    policy sets is refused (kind policyUnknown) before anything is written, and a restore leaves
    its Security Options as they are (an original written back could weaken it).

    With auditDays (1 to 90) a read or an apply also reads the SMB audit logs of the last
    auditDays days (at most auditMaxEvents events each): the peers that SMB signing audit logged,
    for the provider to tell who would be refused once signing is required, and which event IDs
    this release logs for them (signingIds, from its SMB providers' manifests; none: it logs no
    such event). Reading them never fails the run: a log the host lacks, has disabled or cannot
    read is reported as such.

    A side whose settings cannot be read (unavailable: Get-SmbServerConfiguration fails on some
    hosts whose Server service is stopped or disabled) is reported with its error; the other side
    is read and managed as usual, and a request that declares settings of that side is refused
    (kind sideUnavailable) before anything is written. Where the settings are written to the
    registry (Windows 7 / Server 2008 R2: no SmbShare module), restartNeeded names the services
    of the sides written: whether a running service takes a raw registry change is not documented.

    The record: HKLM:\SOFTWARE\pulumi-smb-signing (in the registry's 64-bit view, whatever the
    bitness of this PowerShell), REG_SZ value OriginalSettings, holding
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
    in a 64-bit PowerShell (the originals are then lost).
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

# Where the values the host had before are kept (see .DESCRIPTION), read and written in the
# registry's 64-bit view (see $Wow64).
$RecordKey = 'HKLM:\SOFTWARE\pulumi-smb-signing'
$RecordSubKey = 'SOFTWARE\pulumi-smb-signing'
$RecordValue = 'OriginalSettings'

# The service whose start makes a raw registry write take effect, by side. Whether the Server and
# Workstation services of Windows 7 / Server 2008 R2 re-read ...\Parameters while running is
# documented nowhere: a registry write is reported as needing a restart of its service.
$SideService = @{ client = 'LanmanWorkstation'; server = 'LanmanServer' }

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

# A 32-bit PowerShell on 64-bit Windows (WOW64: the sessions of a 32-bit OpenSSH build) sees
# HKLM\SOFTWARE redirected to HKLM\SOFTWARE\WOW6432Node, except the shared keys (SOFTWARE\Policies
# among them; HKLM\SYSTEM is shared): through the registry drive it would keep the record, and read
# the release, where a 64-bit run never looks. There those keys are opened through .NET in the
# registry's 64-bit view; elsewhere the registry drive shows that view already.
$Wow64 = (-not [Environment]::Is64BitProcess) -and [Environment]::Is64BitOperatingSystem

function Open-LocalMachine64 {
    [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
}

# Values of one key under HKLM in the 64-bit view, by name ($null where absent); $null when the key is missing.
function Read-Registry64 {
    param([string]$SubKey, $Names)
    $machine = Open-LocalMachine64
    $key = $machine.OpenSubKey($SubKey)
    if ($null -eq $key) {
        $machine.Close()
        return $null
    }
    $values = @{}
    foreach ($name in $Names) { $values[$name] = $key.GetValue($name) }
    $key.Close()
    $machine.Close()
    $values
}

# Values of one key under HKLM, by name ($null where absent), as a 64-bit process sees them: the
# registry drive, or under WOW64 the 64-bit view (the drive would read WOW6432Node, which holds
# neither Winlogon's RSoPLogging nor the PolicyManager's values). $null when the key is missing;
# a key that exists but cannot be read throws.
function Read-MachineValues {
    param([string]$SubKey, $Names)
    if ($Wow64) { return Read-Registry64 -SubKey $SubKey -Names $Names }
    $path = 'HKLM:\' + $SubKey
    if (-not (Test-Path -Path $path)) { return $null }
    $item = Get-ItemProperty -Path $path
    $values = @{}
    foreach ($name in $Names) { $values[$name] = $item.$name }
    $values
}

# The release (in the 64-bit view: the redirected CurrentVersion need not hold the same values),
# the domain role, and the bitness of this PowerShell and of Windows.
function Get-HostFacts {
    if ($Wow64) {
        $version = Read-Registry64 -SubKey 'SOFTWARE\Microsoft\Windows NT\CurrentVersion' -Names 'ProductName', 'EditionID', 'DisplayVersion', 'CurrentBuildNumber', 'UBR'
        if ($null -eq $version) { throw 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion is missing from the 64-bit view' }
    } else {
        $version = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    }
    $processBits = 32
    if ([Environment]::Is64BitProcess) { $processBits = 64 }
    $osBits = 32
    if ([Environment]::Is64BitOperatingSystem) { $osBits = 64 }
    @{
        productName    = [string]$version.ProductName
        edition        = [string]$version.EditionID
        displayVersion = [string]$version.DisplayVersion
        build          = '{0}.{1}' -f $version.CurrentBuildNumber, $version.UBR
        domainRole     = [int](Get-CimInstance -ClassName Win32_ComputerSystem).DomainRole
        processBits    = $processBits
        osBits         = $osBits
    }
}

# The RSoP query of one class, winning entries only. Throws when RSoP cannot be read (access
# denied: HRESULT 0x80041003; root\rsop\computer missing: 0x8004100e): that is no answer, never
# "no policy".
function Get-RsopInstances {
    param([string]$ClassName, [string]$Filter)
    @(Get-CimInstance -Namespace 'root\rsop\computer' -ClassName $ClassName -Filter $Filter -ErrorAction Stop)
}

# Where RSoP logging is turned off, 0 = off ("Turn off Resultant Set of Policy logging" writes
# the first; the second is the preference-level value). RSoP data may then be stale either way.
$RsopLoggingKeys = @('SOFTWARE\Policies\Microsoft\Windows\System', 'SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon')

# MDM (Intune, Policy CSP LocalPoliciesSecurityOptions) pushes the same Security Options, which
# RSoP never shows; the PolicyManager keeps each under this key as a value named after its CSP
# node (int: 1 enabled, 0 disabled; as REG_DWORD or text), with <node>_ProviderSet and
# <node>_WinningProvider beside it. An MDM sync puts them back as a policy refresh does.
$MdmKey = 'SOFTWARE\Microsoft\PolicyManager\current\device\LocalPoliciesSecurityOptions'
$MdmNode = @{
    client = @{ RequireSecuritySignature = 'MicrosoftNetworkClient_DigitallySignCommunicationsAlways'; EnableSecuritySignature = 'MicrosoftNetworkClient_DigitallySignCommunicationsIfServerAgrees' }
    server = @{ RequireSecuritySignature = 'MicrosoftNetworkServer_DigitallySignCommunicationsAlways'; EnableSecuritySignature = 'MicrosoftNetworkServer_DigitallySignCommunicationsIfClientAgrees' }
}

# What policy enforces, by side and setting, and whether Group Policy could be seen at all:
# @{ enforced = @{ client = @{ Name = @(@{ value = $true; gpo = '...'; source = 'gpo' | 'mdm' }, ...) }; server = ... };
#    visibility = @{ state = 'known' } or @{ state = 'unknown'; cause = 'rsopLoggingOff' | 'rsopQueryFailed' | 'noGpoInstances'; detail = '...' } }
# Both a GPO and MDM may set one setting (which wins is then a race): every source is kept.
function Get-PolicySettings {
    param([int]$DomainRole)
    $result = @{ client = @{}; server = @{} }
    $visibility = @{ state = 'known' }
    $names = @{}
    $gpos = @()
    $securityValues = @()
    $templateValues = @()
    foreach ($key in $RsopLoggingKeys) {
        $values = Read-MachineValues -SubKey $key -Names 'RSoPLogging'
        $logging = if ($null -eq $values) { $null } else { $values['RSoPLogging'] }
        if ($null -ne $logging -and [int]$logging -eq 0 -and $visibility.state -eq 'known') {
            $visibility = @{ state = 'unknown'; cause = 'rsopLoggingOff'; detail = "HKLM:\$key RSoPLogging is 0" }
        }
    }
    if ($visibility.state -eq 'known') {
        try {
            $gpos = @(Get-RsopInstances -ClassName 'RSOP_GPO' -Filter 'id IS NOT NULL')
            $securityValues = @(Get-RsopInstances -ClassName 'RSOP_RegistryValue' -Filter 'precedence = 1')
            $templateValues = @(Get-RsopInstances -ClassName 'RSOP_RegistryPolicySetting' -Filter 'precedence = 1')
        } catch {
            $visibility = @{ state = 'unknown'; cause = 'rsopQueryFailed'; detail = "$($_.Exception.Message) ($($_.FullyQualifiedErrorId))" }
            $gpos = @()
            $securityValues = @()
            $templateValues = @()
        }
    }
    # A domain member (Win32_ComputerSystem.DomainRole 1, 3, 4 or 5; 0 and 2 are standalone) has
    # at least the Local Group Policy in RSOP_GPO once its policy was processed.
    if ($visibility.state -eq 'known' -and ($DomainRole -eq 1 -or $DomainRole -ge 3) -and $gpos.Count -eq 0) {
        $visibility = @{ state = 'unknown'; cause = 'noGpoInstances'; detail = "RSOP_GPO has no instances on a domain member (domainRole $DomainRole)" }
    }
    foreach ($gpo in $gpos) { $names[[string]$gpo.id] = [string]$gpo.name }
    $mdm = Read-MachineValues -SubKey $MdmKey -Names @(foreach ($nodeSide in 'client', 'server') { $MdmNode[$nodeSide].Values })
    foreach ($side in 'client', 'server') {
        foreach ($name in $SecurityOptions[$side]) {
            $suffix = $SecurityOptionPath[$side] + $name
            foreach ($entry in $securityValues) {
                if (([string]$entry.Path).EndsWith($suffix, [System.StringComparison]::OrdinalIgnoreCase)) {
                    # Data is text: "1", or "4,1" in the security template's type,value form.
                    $data = ([string]$entry.Data).Split(',')[-1].Trim()
                    $result[$side][$name] = @(@{ value = ($data -ne '0'); gpo = (Get-GpoName -Names $names -Id ([string]$entry.GPOID)); source = 'gpo' })
                }
            }
            $node = $MdmNode[$side][$name]
            if ($null -ne $mdm -and $null -ne $mdm.$node) {
                # REG_DWORD or text ("1", "0"): the data type is not documented.
                $entry = @{ value = (([string]$mdm.$node).Trim() -ne '0'); gpo = "MDM (Intune) policy LocalPoliciesSecurityOptions/$node"; source = 'mdm' }
                if ($result[$side].ContainsKey($name)) { $result[$side][$name] += , $entry } else { $result[$side][$name] = @($entry) }
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
            $result[$side][$name] = @(@{ value = ([int]$item.$valueName -ne 0); gpo = $gpo; source = 'gpo' })
        }
    }
    @{ enforced = $result; visibility = $visibility }
}

# The reply's policy: one source per setting (a GPO's before MDM's); conflicts weigh them all.
function Get-PolicySummary {
    param([hashtable]$Enforced)
    $summary = @{ client = @{}; server = @{} }
    foreach ($side in 'client', 'server') {
        foreach ($name in $Enforced[$side].Keys) { $summary[$side][$name] = $Enforced[$side][$name][0] }
    }
    $summary
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

# The settings of both sides, each read on its own: a side that cannot be read (Get-SmbServerConfiguration
# fails on some hosts whose Server service, LanmanServer, is stopped or disabled; Get-SmbClientConfiguration
# likewise without LanmanWorkstation) has no values, and its error goes into $Unavailable[side]
# (message and FullyQualifiedErrorId: 'Windows System Error 1062' is the likely one, but the
# message is localized and the id unconfirmed, so any failure counts). Access denied is no such
# side: it fails the run as accessDenied.
function Get-SigningSettings {
    param([string]$Source, [hashtable]$Unavailable)
    $result = @{}
    foreach ($side in 'client', 'server') {
        $values = @{}
        try {
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
            if ($Unavailable.ContainsKey($side)) { $Unavailable.Remove($side) }
        } catch {
            if ((Get-FailureKind $_) -eq 'accessDenied') { throw }
            $values = @{}
            $Unavailable[$side] = @{ message = [string]$_.Exception.Message; errorId = [string]$_.FullyQualifiedErrorId }
        }
        $result[$side] = $values
    }
    $result
}

# accessDenied for an error that says so: a cmdlet's PermissionDenied, or a .NET registry call's
# SecurityException or UnauthorizedAccessException (PowerShell gives "Exception calling ..." the
# inner exception's type name as its FullyQualifiedErrorId); 'failed' for any other.
function Get-FailureKind {
    param($Failure)
    if ($Failure.CategoryInfo.Category -eq 'PermissionDenied' -or @('SecurityException', 'UnauthorizedAccessException') -contains [string]$Failure.FullyQualifiedErrorId) { return 'accessDenied' }
    'failed'
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
    $text = $null
    if ($Wow64) {
        $values = Read-Registry64 -SubKey $RecordSubKey -Names $RecordValue
        if ($null -ne $values) { $text = $values[$RecordValue] }
    } else {
        $item = Get-ItemProperty -Path $RecordKey -Name $RecordValue -ErrorAction SilentlyContinue
        if ($null -ne $item) { $text = $item.$RecordValue }
    }
    if ($null -eq $text) { return $null }
    $parsed = $null
    try { $parsed = ConvertFrom-Json -InputObject ([string]$text) } catch { $parsed = $null }
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
    $json = ConvertTo-Json -InputObject @{ version = 2; ownerId = $Id; ownerLabel = $Label; claimedAt = $ClaimedAt; originals = $Originals } -Depth 4 -Compress
    if ($Wow64) {
        $machine = Open-LocalMachine64
        $key = $machine.CreateSubKey($RecordSubKey)
        $key.SetValue($RecordValue, $json, [Microsoft.Win32.RegistryValueKind]::String)
        $key.Close()
        $machine.Close()
    } else {
        if (-not (Test-Path -Path $RecordKey)) { New-Item -Path $RecordKey -Force | Out-Null }
        Set-ItemProperty -Path $RecordKey -Name $RecordValue -Value $json -Type String
    }
    @{ format = 2; ownerId = $Id; ownerLabel = $Label; claimedAt = $ClaimedAt; originals = $Originals }
}

# Removes the record. Under WOW64 the key is opened for writing first: DeleteSubKeyTree(name,
# $false) does nothing, and says nothing, when it cannot open it for writing (a non-administrator).
function Remove-Record {
    if (-not $Wow64) {
        Remove-Item -Path $RecordKey -Recurse -Force
        return
    }
    $machine = Open-LocalMachine64
    $key = $machine.OpenSubKey($RecordSubKey, $true)
    if ($null -ne $key) {
        $key.Close()
        $machine.DeleteSubKeyTree($RecordSubKey, $false)
    }
    $machine.Close()
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
            $kind = Get-FailureKind $_
            Write-Reply @{ status = 'error'; kind = $kind; message = [string]$_.Exception.Message; host = $facts; record = $record; ours = $ours } 2
        }
    }
    $unavailable = @{}
    try {
        $current = Get-SigningSettings -Source $source -Unavailable $unavailable
    } catch {
        $kind = Get-FailureKind $_
        Write-Reply @{ status = 'error'; kind = $kind; message = [string]$_.Exception.Message; host = $facts; record = $record; ours = $ours } 2
    }
    Write-Reply @{ status = 'ok'; host = $facts; source = $source; before = $current; after = $current; changed = @(); record = $record; ours = $ours; restored = $false; unavailable = $unavailable; restartNeeded = @() } 0
}
$before = $null
$changed = @()
$policy = $null
$policyVisibility = $null
$audit = $null
# Sides that could not be read (Get-SigningSettings), and the services a registry write needs restarted.
$unavailable = @{}
$restartNeeded = @()
try {
    $before = Get-SigningSettings -Source $source -Unavailable $unavailable
    $policyRead = Get-PolicySettings -DomainRole $facts.domainRole
    $policySources = $policyRead.enforced
    $policyVisibility = $policyRead.visibility
    $policy = Get-PolicySummary -Enforced $policySources
    # A domain controller gets its signing from policy (the Default Domain Controllers Policy):
    # where its policy cannot be seen, a Security Option no policy is known to set may be one.
    $policyUnseen = $facts.domainRole -ge 4 -and $policyVisibility.state -ne 'known'
    if ($auditDays -gt 0 -and $request.operation -ne 'restore') {
        $audit = @{
            readAt = (Get-Date).ToUniversalTime().ToString('o')
            days   = $auditDays
            server = Get-AuditFindings -Side 'server' -Days $auditDays -MaxEvents $auditMaxEvents
            client = Get-AuditFindings -Side 'client' -Days $auditDays -MaxEvents $auditMaxEvents
        }
    }
    # A side that cannot be read cannot be managed: refused before anything is written.
    foreach ($side in 'client', 'server') {
        if ($declared[$side].Count -gt 0 -and $unavailable.ContainsKey($side)) {
            $service = $SideService[$side]
            $reader = if ($source -eq 'registry') { "reading $($RegistryKey[$side])" } elseif ($side -eq 'client') { 'Get-SmbClientConfiguration' } else { 'Get-SmbServerConfiguration' }
            $message = "the $side side of this host cannot be read, so its settings cannot be managed: $reader failed: $($unavailable[$side].message) ($($unavailable[$side].errorId)). This happens on some hosts whose $service service is stopped or disabled: start it (Set-Service -Name $service -StartupType Automatic; Start-Service -Name $service), or declare no $side settings for this host"
            Write-Reply @{ status = 'error'; kind = 'sideUnavailable'; message = $message; side = $side; host = $facts; source = $source; before = $before; record = $record; ours = $ours; policy = $policy; unavailable = $unavailable } 2
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
                if (-not $policySources[$side].ContainsKey($name)) { continue }
                foreach ($enforced in $policySources[$side][$name]) {
                    if ($enforced.value -ne $declared[$side][$name]) {
                        $conflicts += @{ side = $side; name = $name; declared = $declared[$side][$name]; enforced = $enforced.value; gpo = $enforced.gpo; source = $enforced.source }
                    }
                }
            }
        }
        if ($conflicts.Count -gt 0) {
            Write-Reply @{ status = 'error'; kind = 'policyConflict'; message = "policy (Group Policy or MDM) enforces other values than requested"; conflicts = $conflicts; host = $facts; source = $source; before = $before; record = $record; ours = $ours; policy = $policy; policyVisibility = $policyVisibility } 2
        }
        # A change to a Security Option that no visible policy confirms, on a domain controller
        # whose policy cannot be seen: a policy may put it back at its next refresh. Refused.
        if ($policyUnseen) {
            $unconfirmed = @()
            foreach ($side in 'client', 'server') {
                foreach ($name in $declared[$side].Keys) {
                    if ($SecurityOptions[$side] -contains $name -and -not $policySources[$side].ContainsKey($name) -and $before[$side][$name] -ne $declared[$side][$name]) { $unconfirmed += "$side.$name" }
                }
            }
            if ($unconfirmed.Count -gt 0) {
                $fix = 'run gpupdate /force so that RSoP records the policy this domain controller applies'
                if ($policyVisibility.cause -eq 'rsopLoggingOff') { $fix = 'turn RSoP logging back on (set "Turn off Resultant Set of Policy logging" to Not Configured or Disabled, then run gpupdate /force)' }
                if ($policyVisibility.cause -eq 'rsopQueryFailed') { $fix = 'connect as an elevated member of the local Administrators group, or repair WMI (root\rsop\computer), so that the policy can be read' }
                Write-Reply @{ status = 'error'; kind = 'policyUnknown'; message = "the Group Policy of this domain controller cannot be read ($($policyVisibility.detail)), so a policy such as the Default Domain Controllers Policy may enforce $($unconfirmed -join ', ') and put it back; nothing was changed; $fix, or declare the value the host has now"; unconfirmed = $unconfirmed; host = $facts; source = $source; before = $before; record = $record; ours = $ours; policy = $policy; policyVisibility = $policyVisibility } 2
            }
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
            # A setting policy enforces is the policy's to set, whatever it was before. On a
            # domain controller whose policy cannot be seen, so is every Security Option: writing
            # an original back could weaken the domain controller until a policy, if any, puts
            # its value back; the setting stays as it is.
            $desired = @{ client = @{}; server = @{} }
            foreach ($side in 'client', 'server') {
                foreach ($name in $originals[$side].Keys) {
                    $keep = -not ($policyUnseen -and $SecurityOptions[$side] -contains $name)
                    if ($policySources[$side].ContainsKey($name)) {
                        $keep = $true
                        foreach ($enforced in $policySources[$side][$name]) { if ($enforced.value -ne $originals[$side][$name]) { $keep = $false } }
                    }
                    if ($keep) { $desired[$side][$name] = $originals[$side][$name] }
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
            if ($source -eq 'registry' -and $values.Count -gt 0) { $restartNeeded += $SideService[$side] }
        }
    }
    $after = Get-SigningSettings -Source $source -Unavailable $unavailable
    $restored = $false
    if ($request.operation -eq 'restore') {
        $restored = $true
        foreach ($side in 'client', 'server') {
            # Originals of a side that cannot be read stay recorded until it can.
            if ($unavailable.ContainsKey($side) -and $desired[$side].Count -gt 0) { $restored = $false }
            foreach ($name in $desired[$side].Keys) {
                if ($after[$side].ContainsKey($name) -and $after[$side][$name] -ne $desired[$side][$name]) { $restored = $false }
            }
        }
        if ($restored -and $null -ne $record) {
            Remove-Record
            $record = $null
        }
    }
} catch {
    $kind = Get-FailureKind $_
    Write-Reply @{ status = 'error'; kind = $kind; message = [string]$_.Exception.Message; host = $facts; source = $source; before = $before; changed = $changed; record = $record; ours = $ours; policy = $policy; policyVisibility = $policyVisibility; unavailable = $unavailable; restartNeeded = $restartNeeded } 2
}
Write-Reply @{ status = 'ok'; host = $facts; source = $source; before = $before; after = $after; changed = $changed; record = $record; ours = $ours; restored = $restored; policy = $policy; policyVisibility = $policyVisibility; audit = $audit; unavailable = $unavailable; restartNeeded = $restartNeeded } 0
