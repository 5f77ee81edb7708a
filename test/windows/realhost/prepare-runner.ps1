<#
.SYNOPSIS
    NOT RUN BY THIS REPOSITORY'S CI. The first step of the real-host experiment of
    .github/workflows/windows.yml (job real-host-experiment), on a throw-away GitHub runner:
    starts the OpenSSH server and creates a local administrator with a random password, for
    test/windows/signingExperiment.ts to reach the runner over SSH as the provider would.
.DESCRIPTION
    Writes SMB_ACCEPTANCE_PASSWORD and SMB_HOST_KEY to the file -EnvironmentFile names (the job's
    GITHUB_ENV) for later steps. The password is masked (::add-mask::) before anything could
    print it, and reaches later steps only through the environment. Values arrive as parameters:
    nothing is spliced into PowerShell source.
#>
param(
    [Parameter(Mandatory = $true)][string]$UserName,
    [Parameter(Mandatory = $true)][string]$EnvironmentFile
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$capability = Get-WindowsCapability -Online -Name 'OpenSSH.Server~~~~0.0.1.0'
if ($capability.State -ne 'Installed') { Add-WindowsCapability -Online -Name 'OpenSSH.Server~~~~0.0.1.0' | Out-Null }
Set-Service -Name sshd -StartupType Manual
Start-Service -Name sshd

# A random password, masked before anything could print it. AppendAllText writes UTF-8 without a
# byte order mark, as GITHUB_ENV must be.
$bytes = New-Object -TypeName byte[] -ArgumentList 24
[System.Security.Cryptography.RandomNumberGenerator]::Create().GetBytes($bytes)
$password = 'Aa1-' + [Convert]::ToBase64String($bytes)
Write-Output "::add-mask::$password"
$secure = ConvertTo-SecureString -String $password -AsPlainText -Force
New-LocalUser -Name $UserName -Password $secure -PasswordNeverExpires -AccountNeverExpires | Out-Null
# Administrators by its SID: the group's name is localized.
Add-LocalGroupMember -SID 'S-1-5-32-544' -Member $UserName
[System.IO.File]::AppendAllText($EnvironmentFile, "SMB_ACCEPTANCE_PASSWORD=$password`n")

# sshd makes its host keys on its first start; read the fingerprint the way a user would.
$hostKey = 'C:\ProgramData\ssh\ssh_host_ed25519_key.pub'
$until = (Get-Date).AddSeconds(60)
while (-not (Test-Path -Path $hostKey)) {
    if ((Get-Date) -gt $until) { throw "sshd made no host key at $hostKey" }
    Start-Sleep -Seconds 1
}
$fingerprint = (& "$env:WINDIR\System32\OpenSSH\ssh-keygen.exe" -lf $hostKey).Split(' ')[1]
Write-Output "host key $fingerprint"
[System.IO.File]::AppendAllText($EnvironmentFile, "SMB_HOST_KEY=$fingerprint`n")
