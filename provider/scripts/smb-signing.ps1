<#
.SYNOPSIS
    Reads the SMB signing settings of this host, applies the requested ones, and re-reads them.
.DESCRIPTION
    Shipped by pulumi-smb-signing and run through bootstrap.ps1: one JSON request in, one JSON
    reply out. The reply is ASCII only (other characters as \uXXXX) so that no console code page
    can corrupt it.

    Request: {"operation": "read" | "apply",
              "client": {"RequireSecuritySignature": true, ...},
              "server": {"RequireSecuritySignature": true, ...}}
    Reply:   {"status": "ok", "host": {...}, "source": "cmdlet" | "registry",
              "before": {"client": {...}, "server": {...}}, "after": {...}, "changed": [...]}
        or   {"status": "error", "kind": "...", "message": "...", "before": {...}, "changed": [...]}
    Exit code: 0 with an ok reply, 2 with an error reply.
#>
param([Parameter(Mandatory = $true)][string]$RequestJson)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# Properties of Get-SmbClientConfiguration / Get-SmbServerConfiguration this script manages.
$Properties = @{
    client = @('RequireSecuritySignature', 'EnableSecuritySignature', 'EnableInsecureGuestLogons',
        'AuditServerDoesNotSupportSigning', 'AuditInsecureGuestLogon')
    server = @('RequireSecuritySignature', 'EnableSecuritySignature',
        'AuditClientDoesNotSupportSigning', 'AuditInsecureGuestLogon')
}

# Hosts without the SmbShare module (before Windows 8 / Server 2012) keep the same settings
# as REG_DWORD values; an absent value means the default of those releases.
$RegistryKey = @{
    client = 'HKLM:\SYSTEM\CurrentControlSet\Services\LanmanWorkstation\Parameters'
    server = 'HKLM:\SYSTEM\CurrentControlSet\Services\LanmanServer\Parameters'
}
$RegistryValue = @{
    client = @{ RequireSecuritySignature = 'RequireSecuritySignature'; EnableSecuritySignature = 'EnableSecuritySignature'; EnableInsecureGuestLogons = 'AllowInsecureGuestAuth' }
    server = @{ RequireSecuritySignature = 'RequireSecuritySignature'; EnableSecuritySignature = 'EnableSecuritySignature' }
}
$RegistryDefault = @{
    client = @{ RequireSecuritySignature = $false; EnableSecuritySignature = $true; EnableInsecureGuestLogons = $true }
    server = @{ RequireSecuritySignature = $false; EnableSecuritySignature = $false }
}

# Windows 7 / Server 2008 R2 (build 7601) is the oldest release this script knows.
$MinimumBuild = 7601

function Write-Reply {
    param([hashtable]$Reply, [int]$ExitCode)
    $json = ConvertTo-Json -InputObject $Reply -Depth 5 -Compress
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

try {
    $request = ConvertFrom-Json -InputObject $RequestJson
} catch {
    Write-Reply @{ status = 'error'; kind = 'badRequest'; message = "the request is not JSON: $($_.Exception.Message)" } 2
}
if (@('read', 'apply') -notcontains $request.operation) {
    Write-Reply @{ status = 'error'; kind = 'badRequest'; message = "unknown operation '$($request.operation)'" } 2
}

$facts = Get-HostFacts
if ([int]($facts.build.Split('.')[0]) -lt $MinimumBuild) {
    Write-Reply @{ status = 'error'; kind = 'unsupportedOs'; message = "build $($facts.build) is older than Windows 7 / Server 2008 R2"; host = $facts } 2
}
$source = if (Get-Command -Name Get-SmbClientConfiguration -ErrorAction SilentlyContinue) { 'cmdlet' } else { 'registry' }
$before = $null
$changed = @()
try {
    $before = Get-SigningSettings -Source $source
    if ($request.operation -eq 'apply') {
        foreach ($side in 'client', 'server') {
            $desired = @{}
            if ($null -ne $request.$side) {
                foreach ($property in $request.$side.PSObject.Properties) {
                    if ($Properties[$side] -notcontains $property.Name) {
                        Write-Reply @{ status = 'error'; kind = 'badRequest'; message = "unknown $side setting '$($property.Name)'"; host = $facts } 2
                    }
                    if (-not $before[$side].ContainsKey($property.Name)) {
                        Write-Reply @{ status = 'error'; kind = 'unsupportedSetting'; message = "this host has no $side setting $($property.Name) (build $($facts.build))"; host = $facts; source = $source; before = $before } 2
                    }
                    if ($before[$side][$property.Name] -ne [bool]$property.Value) {
                        $desired[$property.Name] = [bool]$property.Value
                    }
                }
            }
            Set-SigningSettings -Source $source -Side $side -Values $desired
            foreach ($name in $desired.Keys) { $changed += "$side.$name" }
        }
    }
    $after = Get-SigningSettings -Source $source
} catch {
    $kind = if ($_.CategoryInfo.Category -eq 'PermissionDenied') { 'accessDenied' } else { 'failed' }
    Write-Reply @{ status = 'error'; kind = $kind; message = [string]$_.Exception.Message; host = $facts; source = $source; before = $before; changed = $changed } 2
}
Write-Reply @{ status = 'ok'; host = $facts; source = $source; before = $before; after = $after; changed = $changed } 0
