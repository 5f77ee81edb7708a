<#
    .SYNOPSIS
        Pester 5 unit tests of provider/scripts/smb-signing.ps1: the real script, run against
        mocked SMB, registry and WMI cmdlets. For a Windows machine; this repository's CI has no
        Windows and does not run this file (test/unit/scripts.test.ts only parses it).

    .DESCRIPTION
        Run from the checkout, in Windows PowerShell 5.1 (the powershell.exe the provider runs the
        script in) with Pester 5.5 or a later 5.x (see test/windows/README.md):

            Invoke-Pester -Path test/windows/smb-signing.Tests.ps1 -Output Detailed

        Nothing on the machine is read or changed: every cmdlet through which the script reaches
        the SMB configuration, the registry or WMI is mocked and backed by a fake host, $FakeHost,
        which each test starts afresh (a Windows Server 2025 member server as installed).

    .NOTES
        How the script's `exit` is caught. smb-signing.ps1 ends every run with `exit` (in
        Write-Reply). The tests run the script file itself with the call operator,
        `& $ScriptPath -RequestJson $json`, in the test's own session: PowerShell catches the exit
        of a script *file* at that file's boundary, so the script stops, the test goes on, and
        $LASTEXITCODE holds the exit code (an exit in a script *block* would end Pester too). That
        runs the script as shipped, not a copy with `exit` rewritten, and unlike a child
        powershell.exe it sees Pester's mocks. The reply is written to [Console]::Out rather than
        to the pipeline, so each run swaps in a StringWriter with [Console]::SetOut and parses what
        it caught; anything the script writes to the pipeline would land on stdout beside the
        reply in production, so each run also asserts that there is none.

        Why the mocks look the way they do. A mock body runs in the scope chain of its caller,
        the script: it reads the fake host through the dynamically scoped $FakeHost (set in
        BeforeEach, the It's scope) and the mocked command's parameters through
        $PesterBoundParameters, never as bare parameter variables or $script: variables, which
        could resolve to the script's own (it has a $name, for one). Get-Smb*Configuration
        return objects, not hashtables, because the script asks $config.PSObject.Properties which
        settings the host has. The script's text is ASCII, and so is this file: Windows
        PowerShell 5.1 reads a .ps1 without a byte order mark in the ANSI code page.
#>

# Script Analyzer does not understand that Pester's blocks share variables.
[System.Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSUseDeclaredVarsMoreThanAssignments', '')]
param ()

Describe 'smb-signing.ps1' {
    BeforeAll {
        $ScriptPath = (Resolve-Path -Path (Join-Path -Path $PSScriptRoot -ChildPath '../../provider/scripts/smb-signing.ps1')).Path
        $RecordPath = 'HKLM:\SOFTWARE\pulumi-smb-signing'
        # Who asks: the random owner id its resource keeps in its state, and its URN as the label.
        $OwnerId = '0f8fad5b-d9cb-469f-a165-70867728950e'
        $OwnerLabel = 'urn:pulumi:test::smb::pulumi-nodejs:dynamic/smb:SmbSigningPolicy::fs01'
        # Another resource declaring the same host.
        $OtherOwnerId = '7c9e6679-7425-40de-944b-e07fc1f90ae7'
        $OtherOwnerLabel = 'urn:pulumi:prod::infra::pulumi-nodejs:dynamic/smb:SmbSigningPolicy::fs01'
        # The name records of the first format gave this resource: <project>/<stack>/<name>.
        $LegacyOwner = 'smb/test/fs01'
        # A claim made before the test (records the test places on the host), and the form of a
        # claim the script stamps now: (Get-Date).ToUniversalTime().ToString('o').
        $ClaimedBefore = '2025-05-06T07:08:09.0000000Z'
        $IsoUtc = '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$'
        # The well-known GUID of the Default Domain Controllers Policy, as RSoP names a GPO.
        $DcPolicyId = 'cn={6AC1786C-016F-11D2-945F-00C04FB984F9},cn=policies,cn=system,DC=corp,DC=example'
        $ContosoPolicyId = 'cn={3F2E8C1A-5B7D-4E60-9A1C-2D4B6E8F0A13},cn=policies,cn=system,DC=corp,DC=example'

        # A Windows Server 2025 member server as installed: outbound signing required, inbound
        # not, the 24H2 audit properties present, no Group Policy and no record.
        function New-FakeHost {
            @{
                Client     = [ordered] @{
                    RequireSecuritySignature         = $true
                    EnableSecuritySignature          = $true
                    EnableInsecureGuestLogons        = $false
                    AuditServerDoesNotSupportSigning = $false
                    AuditInsecureGuestLogon          = $false
                }
                Server     = [ordered] @{
                    RequireSecuritySignature         = $false
                    EnableSecuritySignature          = $false
                    AuditClientDoesNotSupportSigning = $false
                    AuditInsecureGuestLogon          = $false
                }
                # Registry keys by PowerShell path; each key a table of its values.
                Registry   = @{
                    'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' = @{
                        ProductName        = 'Windows Server 2025 Datacenter'
                        EditionID          = 'ServerDatacenter'
                        DisplayVersion     = '24H2'
                        CurrentBuildNumber = '26100'
                        UBR                = 4061
                    }
                }
                DomainRole = 3
                BrokenWmi  = $false
                # An error every root\rsop\computer query throws (access denied, a missing namespace); $null: none.
                RsopError  = $null
                # Winning RSoP instances in root\rsop\computer, by class, as property tables.
                Rsop       = @{ RSOP_GPO = @(); RSOP_RegistryValue = @(); RSOP_RegistryPolicySetting = @() }
                # What the mocks changed, in order: to see that the record comes before any Set-*.
                Log        = [System.Collections.Generic.List[string]]::new()
                # Event logs by name: IsEnabled and the events (New-FakeEvent). A log not listed
                # does not exist on the host.
                EventLogs  = @{}
                # The SMB providers' manifests (Get-WinEvent -ListProvider): their Audit logs'
                # events and versions as Windows Server 2025 has them, each with its template's
                # data items in order (docs/windows-model.md, "SMB sessions and the SMB audit logs").
                Providers  = @{
                    'Microsoft-Windows-SMBServer' = @(
                        New-FakeMetadata -Id 3000 -Log $ServerAudit -Fields 'ClientName'
                        New-FakeMetadata -Id 3021 -Log $ServerAudit -Fields 'ClientNameLength', 'ClientName', 'ServerRequiresSigning'
                        New-FakeMetadata -Id 3022 -Log $ServerAudit -Fields 'ClientNameLength', 'ClientName', 'ServerRequiresEncryption', 'SmbClientDoesNotSupportEncryptionType'
                        New-FakeMetadata -Id 3023 -Log $ServerAudit -Fields 'ClientNameLength', 'ClientName'
                    )
                    'Microsoft-Windows-SMBClient' = @(
                        New-FakeMetadata -Id 31997 -Log $ClientAudit -Fields 'ServerNameLength', 'ServerName'
                        New-FakeMetadata -Id 31998 -Log $ClientAudit -Fields 'ServerNameLength', 'ServerName', 'ClientRequireSigning'
                        New-FakeMetadata -Id 31999 -Log $ClientAudit -Fields 'ServerNameLength', 'ServerName', 'ClientRequireEncryption'
                    )
                }
            }
        }

        $ServerAudit = 'Microsoft-Windows-SMBServer/Audit'
        $ClientAudit = 'Microsoft-Windows-SMBClient/Audit'

        # One event of a provider's manifest as Get-WinEvent -ListProvider lists it (EventMetadata):
        # Id, Version, LogLink.LogName and Template, the XML Windows gives
        # (<template xmlns=...><data name=... inType=... outType=.../>...</template>).
        function New-FakeMetadata {
            param ([int] $Id, [int] $Version = 0, [string] $Log, [string[]] $Fields)
            $items = foreach ($name in $Fields) { "  <data name=`"$name`" inType=`"win:UnicodeString`" outType=`"xs:string`"/>`r`n" }
            [pscustomobject] @{
                Id       = [long] $Id
                Version  = [byte] $Version
                LogLink  = [pscustomobject] @{ LogName = $Log }
                Template = "<template xmlns=`"http://schemas.microsoft.com/win/2004/08/events`">`r`n$($items -join '')</template>"
            }
        }

        # An event as Get-WinEvent returns it, for as far as the script reads one: Id, TimeCreated,
        # Properties (the values alone) and ToXml() (the data by name, as EvtRender writes it:
        # <EventData><Data Name='...'>...</Data>, Booleans as true/false). $Data holds the
        # template's items in order.
        function New-FakeEvent {
            param ([int] $Id, [datetime] $TimeCreated, [System.Collections.Specialized.OrderedDictionary] $Data)
            $items = foreach ($name in $Data.Keys) {
                $value = $Data[$name]
                $text = if ($value -is [bool]) { ([string]$value).ToLowerInvariant() } else { [System.Security.SecurityElement]::Escape([string]$value) }
                "<Data Name='$name'>$text</Data>"
            }
            $record = [pscustomobject] @{
                Id          = $Id
                TimeCreated = $TimeCreated
                Properties  = @($Data.Values | ForEach-Object -Process { [pscustomobject] @{ Value = $_ } })
                EventXml    = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>$Id</EventID></System><EventData>$($items -join '')</EventData></Event>"
            }
            $record | Add-Member -MemberType ScriptMethod -Name ToXml -Value { $this.EventXml } -PassThru
        }

        # An SMB server signing audit event (3021 version 0, 3027): the client's name and its length first.
        function New-SigningEvent {
            param ([int] $Id = 3021, [datetime] $TimeCreated, [string] $Client)
            New-FakeEvent -Id $Id -TimeCreated $TimeCreated -Data ([ordered] @{ ClientNameLength = [uint16] $Client.Length; ClientName = $Client; ServerRequiresSigning = $false })
        }

        # The record as the script writes it: REG_SZ OriginalSettings under HKLM:\SOFTWARE\pulumi-smb-signing.
        # Format 2: {"version":2,"ownerId":"<uuid>" or "" (released),"ownerLabel":"<URN>","claimedAt":"<UTC>","originals":{...}};
        # format 1, still read: {"version":1,"owner":"<project>/<stack>/<name>","originals":{...}}.
        function Set-FakeRecord {
            param ([Parameter(Mandatory = $true)][string] $Json)
            $FakeHost.Registry[$RecordPath] = @{ OriginalSettings = $Json }
        }

        # A record of format 2 as the script writes it; claimedAt a fixed time, to tell it from a new claim.
        function New-RecordJson {
            param (
                [string] $Id,
                [string] $Label,
                [string] $ClaimedAt = $ClaimedBefore,
                [hashtable] $Originals = @{ client = @{}; server = @{} }
            )
            ConvertTo-Json -InputObject @{ version = 2; ownerId = $Id; ownerLabel = $Label; claimedAt = $ClaimedAt; originals = $Originals } -Depth 4 -Compress
        }

        # A run that took a record over as this owner, writing no setting: the record, claimed anew
        # (the former owner's claimedAt is not this owner's).
        function Assert-NewClaim {
            param($Result)
            $Result.ExitCode | Should -Be 0
            $Result.Reply.ours | Should -BeTrue
            @($Result.Reply.changed).Count | Should -Be 0
            $record = Get-FakeRecord
            $record.version | Should -Be 2
            $record.ownerId | Should -BeExactly $OwnerId
            $record.ownerLabel | Should -BeExactly $OwnerLabel
            $record.claimedAt | Should -Match $IsoUtc
            $record.claimedAt | Should -Not -Be $ClaimedBefore
            $record
        }

        function Get-FakeRecord {
            $key = $FakeHost.Registry[$RecordPath]
            if ($null -eq $key) { return $null }
            ConvertFrom-Json -InputObject $key.OriginalSettings
        }

        # The Default Domain Controllers Policy as RSoP reports it on a domain controller.
        function Add-DomainControllersPolicy {
            $FakeHost.DomainRole = 5
            $FakeHost.Server.RequireSecuritySignature = $true
            $FakeHost.Server.EnableSecuritySignature = $true
            $FakeHost.Rsop.RSOP_GPO = @(@{ id = $DcPolicyId; name = 'Default Domain Controllers Policy' })
            $FakeHost.Rsop.RSOP_RegistryValue = @(
                @{ Path = 'MACHINE\System\CurrentControlSet\Services\LanmanServer\Parameters\RequireSecuritySignature'; Data = '1'; GPOID = $DcPolicyId; precedence = 1 }
                @{ Path = 'MACHINE\System\CurrentControlSet\Services\LanmanServer\Parameters\EnableSecuritySignature'; Data = '4,1'; GPOID = $DcPolicyId; precedence = 1 }
            )
        }

        function New-Request {
            param (
                [Parameter(Mandatory = $true)][ValidateSet('read', 'apply', 'restore', 'release')][string] $Operation,
                [hashtable] $Client = @{},
                [hashtable] $Server = @{},
                [hashtable] $Originals = @{ client = @{}; server = @{} },
                [string] $RequestOwnerId = $OwnerId,
                [string] $RequestOwnerLabel = $OwnerLabel,
                [string[]] $LegacyOwners = @(),
                [switch] $TakeOwnership,
                [object] $AuditDays
            )
            $request = @{
                operation     = $Operation
                ownerId       = $RequestOwnerId
                ownerLabel    = $RequestOwnerLabel
                # An array even when empty or of one name, as the provider sends it.
                legacyOwners  = [object[]] $LegacyOwners
                takeOwnership = [bool] $TakeOwnership
                client        = $Client
                server        = $Server
                originals     = $Originals
            }
            if ($null -ne $AuditDays) { $request.auditDays = $AuditDays }
            $request
        }

        # Runs the script file as the provider's bootstrap would, with the request as JSON; returns
        # its exit code, the text it wrote to the console and that text parsed.
        function Invoke-SigningScript {
            param (
                [Parameter(Mandatory = $true, ParameterSetName = 'Request')][hashtable] $Request,
                [Parameter(Mandatory = $true, ParameterSetName = 'Json')][string] $RequestJson
            )
            if ($PSCmdlet.ParameterSetName -eq 'Request') {
                $RequestJson = ConvertTo-Json -InputObject $Request -Depth 6 -Compress
            }
            $console = [Console]::Out
            $captured = New-Object -TypeName System.IO.StringWriter
            # A run that never reaches `exit` must not pass for one that exited 0.
            $global:LASTEXITCODE = -1
            [Console]::SetOut($captured)
            try {
                $stray = & $ScriptPath -RequestJson $RequestJson
            }
            finally {
                [Console]::SetOut($console)
            }
            $stray | Should -BeNullOrEmpty -Because 'pipeline output would reach stdout beside the reply'
            $text = $captured.ToString()
            $text | Should -Not -BeNullOrEmpty -Because 'every run ends with one reply'
            [pscustomobject] @{
                ExitCode = $global:LASTEXITCODE
                Text     = $text
                Reply    = ConvertFrom-Json -InputObject $text
            }
        }

        Mock -CommandName Get-SmbClientConfiguration -MockWith {
            New-Object -TypeName PSObject -Property $FakeHost.Client
        }
        Mock -CommandName Get-SmbServerConfiguration -MockWith {
            New-Object -TypeName PSObject -Property $FakeHost.Server
        }
        # Only settings the host has can be set: the mock's parameters are the real cmdlet's.
        Mock -CommandName Set-SmbClientConfiguration -MockWith {
            foreach ($parameter in $PesterBoundParameters.GetEnumerator()) {
                if ($FakeHost.Client.Contains($parameter.Key)) { $FakeHost.Client[$parameter.Key] = [bool] $parameter.Value }
            }
            $FakeHost.Log.Add('Set-SmbClientConfiguration')
        }
        Mock -CommandName Set-SmbServerConfiguration -MockWith {
            foreach ($parameter in $PesterBoundParameters.GetEnumerator()) {
                if ($FakeHost.Server.Contains($parameter.Key)) { $FakeHost.Server[$parameter.Key] = [bool] $parameter.Value }
            }
            $FakeHost.Log.Add('Set-SmbServerConfiguration')
        }
        # The registry provider's answers: a missing key or value is an error, silenced only on request.
        Mock -CommandName Get-ItemProperty -MockWith {
            $key = @($PesterBoundParameters['Path'])[0]
            $valueName = @($PesterBoundParameters['Name'])[0]
            $values = $FakeHost.Registry[$key]
            if ($null -eq $values -or ($valueName -and -not $values.Contains($valueName))) {
                if ($PesterBoundParameters['ErrorAction'] -eq 'SilentlyContinue') { return }
                throw (New-Object -TypeName System.Management.Automation.ItemNotFoundException -ArgumentList "Cannot find path '$key' because it does not exist.")
            }
            New-Object -TypeName PSObject -Property $values
        }
        Mock -CommandName Set-ItemProperty -MockWith {
            $key = @($PesterBoundParameters['Path'])[0]
            if (-not $FakeHost.Registry.Contains($key)) {
                throw (New-Object -TypeName System.Management.Automation.ItemNotFoundException -ArgumentList "Cannot find path '$key' because it does not exist.")
            }
            $FakeHost.Registry[$key][$PesterBoundParameters['Name']] = $PesterBoundParameters['Value']
            $FakeHost.Log.Add("Set-ItemProperty $key\$($PesterBoundParameters['Name'])")
        }
        Mock -CommandName Test-Path -MockWith {
            $FakeHost.Registry.Contains(@($PesterBoundParameters['Path'])[0])
        }
        Mock -CommandName New-Item -MockWith {
            $key = @($PesterBoundParameters['Path'])[0]
            if (-not $FakeHost.Registry.Contains($key)) { $FakeHost.Registry[$key] = @{} }
            $FakeHost.Log.Add("New-Item $key")
            New-Object -TypeName PSObject -Property @{ PSPath = $key }
        }
        Mock -CommandName Remove-Item -MockWith {
            $key = @($PesterBoundParameters['Path'])[0]
            $FakeHost.Registry.Remove($key)
            $FakeHost.Log.Add("Remove-Item $key")
        }
        # Get-WinEvent -ListProvider (the fake manifests), -ListLog (nothing for a log the host
        # lacks, with -ErrorAction SilentlyContinue) and -FilterHashtable with -MaxEvents: newest
        # first, and the error NoMatchingEventsFound when nothing matches, as the real cmdlet does.
        Mock -CommandName Get-WinEvent -MockWith {
            if ($PesterBoundParameters.ContainsKey('ListProvider')) {
                $name = @($PesterBoundParameters['ListProvider'])[0]
                if (-not $FakeHost.Providers.ContainsKey($name)) { throw "There is not an event provider on the localhost computer that matches `"$name`"." }
                return [pscustomobject] @{ Name = $name; Events = $FakeHost.Providers[$name] }
            }
            if ($PesterBoundParameters.ContainsKey('ListLog')) {
                $log = $FakeHost.EventLogs[@($PesterBoundParameters['ListLog'])[0]]
                if ($null -eq $log) {
                    if ($PesterBoundParameters['ErrorAction'] -eq 'SilentlyContinue') { return }
                    throw 'There is not an event log on the localhost computer that matches'
                }
                return [pscustomobject] @{ IsEnabled = $log.IsEnabled }
            }
            $filter = $PesterBoundParameters['FilterHashtable']
            $log = $FakeHost.EventLogs[$filter.LogName]
            if ($null -ne $log.Throw) { throw $log.Throw }
            $found = @($log.Events | Where-Object -FilterScript { @($filter.Id) -contains $_.Id -and $_.TimeCreated -ge $filter.StartTime } |
                    Sort-Object -Property TimeCreated -Descending | Select-Object -First $PesterBoundParameters['MaxEvents'])
            if ($found.Count -eq 0) {
                $exception = New-Object -TypeName System.Exception -ArgumentList 'No events were found that match the specified selection criteria.'
                throw (New-Object -TypeName System.Management.Automation.ErrorRecord -ArgumentList $exception, 'NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand', 'ObjectNotFound', $null)
            }
            $found
        }
        # Win32_ComputerSystem, and the winning RSoP entries the script asks for (precedence = 1).
        Mock -CommandName Get-CimInstance -MockWith {
            $class = $PesterBoundParameters['ClassName']
            if ($class -eq 'Win32_ComputerSystem') {
                if ($FakeHost.BrokenWmi) { throw 'Invalid class "Win32_ComputerSystem"' }
                return New-Object -TypeName PSObject -Property @{ DomainRole = $FakeHost.DomainRole }
            }
            if ($PesterBoundParameters['Namespace'] -eq 'root\rsop\computer' -and $null -ne $FakeHost.RsopError) { throw $FakeHost.RsopError }
            if ($PesterBoundParameters['Namespace'] -eq 'root\rsop\computer' -and $FakeHost.Rsop.Contains($class)) {
                return $FakeHost.Rsop[$class] | ForEach-Object -Process { New-Object -TypeName PSObject -Property $_ }
            }
            throw "Get-CimInstance: the fake host has no class $class"
        }
    }

    BeforeEach {
        $FakeHost = New-FakeHost
    }

    Context 'When reading' -Tag 'Read' {
        It 'Should report both sides, the host facts and the source, and change nothing' {
            $result = Invoke-SigningScript -Request (New-Request -Operation 'read')

            $result.ExitCode | Should -Be 0
            $result.Reply.status | Should -Be 'ok'
            $result.Reply.source | Should -Be 'cmdlet'
            $result.Reply.host.productName | Should -Be 'Windows Server 2025 Datacenter'
            $result.Reply.host.build | Should -Be '26100.4061'
            $result.Reply.host.domainRole | Should -Be 3
            $result.Reply.before.client.RequireSecuritySignature | Should -BeTrue
            $result.Reply.before.server.RequireSecuritySignature | Should -BeFalse
            $result.Reply.after.server.AuditClientDoesNotSupportSigning | Should -BeFalse
            @($result.Reply.changed).Count | Should -Be 0
            $result.Reply.record | Should -BeNullOrEmpty
            @($result.Reply.policy.server.PSObject.Properties).Count | Should -Be 0

            Should -Invoke -CommandName Get-SmbClientConfiguration -Scope It
            Should -Invoke -CommandName Get-SmbServerConfiguration -Scope It
            Should -Invoke -CommandName Get-CimInstance -ParameterFilter { $ClassName -eq 'Win32_ComputerSystem' } -Exactly -Times 1 -Scope It
            Should -Invoke -CommandName Set-SmbClientConfiguration -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName Set-SmbServerConfiguration -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName Set-ItemProperty -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName New-Item -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName Remove-Item -Exactly -Times 0 -Scope It
        }

        It 'Should leave out the settings an older build lacks' {
            $FakeHost.Server.Remove('AuditClientDoesNotSupportSigning')
            $FakeHost.Server.Remove('AuditInsecureGuestLogon')

            $result = Invoke-SigningScript -Request (New-Request -Operation 'read')

            $result.ExitCode | Should -Be 0
            $result.Reply.before.server.PSObject.Properties.Name | Should -Not -Contain 'AuditClientDoesNotSupportSigning'
            $result.Reply.before.server.PSObject.Properties.Name | Should -Contain 'RequireSecuritySignature'
            $result.Reply.before.client.PSObject.Properties.Name | Should -Contain 'AuditServerDoesNotSupportSigning'
        }

        It 'Should answer broken WMI with a typed failed reply' {
            $FakeHost.BrokenWmi = $true

            $result = Invoke-SigningScript -Request (New-Request -Operation 'read')

            $result.ExitCode | Should -Be 2
            $result.Reply.status | Should -Be 'error'
            $result.Reply.kind | Should -Be 'failed'
            $result.Reply.message | Should -Match 'Win32_ComputerSystem'
        }

        It 'Should answer a request that is not JSON with badRequest' {
            $result = Invoke-SigningScript -RequestJson 'operation=read'

            $result.ExitCode | Should -Be 2
            $result.Reply.kind | Should -Be 'badRequest'
        }

        It 'Should read its request from stdin when run as a file (connection.scriptPath), and say how it ran' {
            # A child powershell.exe, as the provider starts it: no mocks there, so the request
            # is one the script refuses before it reads anything of the host.
            $out = 'operation=read' | powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File $ScriptPath

            $LASTEXITCODE | Should -Be 2
            $reply = ($out -join "`n") | ConvertFrom-Json
            $reply.kind | Should -Be 'badRequest'
            $reply.script.invocation | Should -Be 'file'
            $reply.script.path | Should -Be $ScriptPath
            $reply.script.languageMode | Should -Be 'FullLanguage'
            $reply.script.signature.status | Should -Be 'NotSigned'
        }

        It 'Should write its reply in ASCII, escaping a GPO name that is not' {
            Add-DomainControllersPolicy
            # Written with [char] so that this file stays ASCII.
            $gpoName = 'Dom' + [char] 0x00E4 + 'nencontroller'
            $FakeHost.Rsop.RSOP_GPO = @(@{ id = $DcPolicyId; name = $gpoName })

            $result = Invoke-SigningScript -Request (New-Request -Operation 'read')

            $result.ExitCode | Should -Be 0
            $result.Text | Should -Match '^[\x00-\x7F]+$'
            $result.Text | Should -Match ([regex]::Escape('\u00e4'))
            $result.Reply.policy.server.RequireSecuritySignature.gpo | Should -BeExactly $gpoName
        }
    }

    Context 'When asked for the SMB audit logs' -Tag 'Read', 'Audit' {
        It 'Should name the peers of the last auditDays days by their name in the event, busiest first, asking only for the events whose template names signing, at most 2000' {
            $now = Get-Date
            $FakeHost.EventLogs[$ServerAudit] = @{
                IsEnabled = $true
                Events    = @(
                    New-SigningEvent -TimeCreated $now.AddHours(-1) -Client '\\SCANNER01'
                    New-SigningEvent -TimeCreated $now.AddHours(-2) -Client '\\10.0.4.17'
                    New-SigningEvent -TimeCreated $now.AddHours(-3) -Client '\\10.0.4.17'
                    # A client that signs but does not encrypt: not one that would be refused.
                    New-FakeEvent -Id 3022 -TimeCreated $now.AddHours(-4) -Data ([ordered] @{ ClientNameLength = [uint16] 11; ClientName = '\\10.0.4.50'; ServerRequiresEncryption = $false; SmbClientDoesNotSupportEncryptionType = [uint32] 0 })
                    New-SigningEvent -TimeCreated $now.AddDays(-10) -Client '\\10.0.4.99'
                )
            }

            $result = Invoke-SigningScript -Request (New-Request -Operation 'read' -AuditDays 7)

            $result.ExitCode | Should -Be 0
            $result.Reply.audit.days | Should -Be 7
            $server = $result.Reply.audit.server
            $server.log | Should -Be 'available'
            @($server.signingIds) | Should -Be @(3021)
            $server.events | Should -Be 3
            $server.truncated | Should -BeFalse
            $server.peerCount | Should -Be 2
            $server.peers[0].peer | Should -Be '10.0.4.17'
            $server.peers[0].events | Should -Be 2
            @($server.peers[0].ids) | Should -Be @(3021)
            $server.peers[1].peer | Should -BeExactly 'SCANNER01'
            $result.Reply.audit.client.log | Should -Be 'absent'
            Should -Invoke -CommandName Get-WinEvent -ParameterFilter {
                $FilterHashtable.LogName -eq 'Microsoft-Windows-SMBServer/Audit' -and (@($FilterHashtable.Id) -join ',') -eq '3021' -and $MaxEvents -eq 2000
            } -Exactly -Times 1 -Scope It
            Should -Invoke -CommandName Set-SmbServerConfiguration -Exactly -Times 0 -Scope It
        }

        It 'Should name a server this host reached by name, without its leading backslash (31998)' {
            $FakeHost.EventLogs[$ClientAudit] = @{
                IsEnabled = $true
                Events    = @(New-FakeEvent -Id 31998 -TimeCreated (Get-Date).AddHours(-1) -Data ([ordered] @{ ServerNameLength = [uint16] 6; ServerName = '\nas01'; ClientRequireSigning = $false }))
            }

            $result = Invoke-SigningScript -Request (New-Request -Operation 'read' -AuditDays 7)

            @($result.Reply.audit.client.signingIds) | Should -Be @(31998)
            $result.Reply.audit.client.peers[0].peer | Should -BeExactly 'nas01'
        }

        It 'Should read the client by its name where a version puts other data before the flag (3021 version 1, with UserName)' {
            $FakeHost.Providers['Microsoft-Windows-SMBServer'] += New-FakeMetadata -Id 3021 -Version 1 -Log $ServerAudit -Fields 'ClientNameLength', 'ClientName', 'UserNameLength', 'UserName', 'ServerRequiresSigning'
            $FakeHost.EventLogs[$ServerAudit] = @{
                IsEnabled = $true
                Events    = @(New-FakeEvent -Id 3021 -TimeCreated (Get-Date).AddHours(-1) -Data ([ordered] @{ ClientNameLength = [uint16] 10; ClientName = '\\PRINTER7'; UserNameLength = [uint16] 12; UserName = 'CONTOSO\scan'; ServerRequiresSigning = $false }))
            }

            $result = Invoke-SigningScript -Request (New-Request -Operation 'read' -AuditDays 7)

            @($result.Reply.audit.server.signingIds) | Should -Be @(3021)
            @($result.Reply.audit.server.peers.peer) | Should -Be @('PRINTER7')
        }

        It 'Should take the signing events from the manifest: 3027 (SMB 1) too where the release has it, none where it has no such event, and then ask for no events' {
            $FakeHost.Providers['Microsoft-Windows-SMBServer'] += New-FakeMetadata -Id 3027 -Log $ServerAudit -Fields 'ClientNameLength', 'ClientName', 'ServerRequiresSigning'
            $FakeHost.EventLogs[$ServerAudit] = @{ IsEnabled = $true; Events = @(New-SigningEvent -Id 3027 -TimeCreated (Get-Date).AddHours(-1) -Client '\\10.0.4.40') }

            $result = Invoke-SigningScript -Request (New-Request -Operation 'read' -AuditDays 7)

            @($result.Reply.audit.server.signingIds) | Should -Be @(3021, 3027)
            $result.Reply.audit.server.peers[0].peer | Should -Be '10.0.4.40'
            @($result.Reply.audit.server.peers[0].ids) | Should -Be @(3027)

            # Windows Server 2022 without KB5066913: the log (SMB 1 access audit, 3000), no signing event.
            $FakeHost.Providers['Microsoft-Windows-SMBServer'] = @(New-FakeMetadata -Id 3000 -Log $ServerAudit -Fields 'ClientName')
            $result = Invoke-SigningScript -Request (New-Request -Operation 'read' -AuditDays 7)

            $result.Reply.audit.server.log | Should -Be 'available'
            @($result.Reply.audit.server.signingIds).Count | Should -Be 0
            $result.Reply.audit.server.events | Should -Be 0
            # One query, the first run's: the second asked for no events.
            Should -Invoke -CommandName Get-WinEvent -ParameterFilter { $null -ne $FilterHashtable } -Exactly -Times 1 -Scope It
        }

        It 'Should decode a socket address given as <Rendered> to <Peer> where the event names no client' -TestCases @(
            @{ Rendered = '0200C0460A000411' + ('00' * 8); Peer = '10.0.4.17' }
            @{ Rendered = '0200c0460a000411' + ('00' * 8); Peer = '10.0.4.17' }
            @{ Rendered = '10.0.4.17:49222'; Peer = '10.0.4.17' }
            @{ Rendered = '170001BD00000000' + '20010DB8' + ('00' * 10) + '0005' + '00000000'; Peer = '2001:db8::5' }
            @{ Rendered = '170001bd00000000fe80' + ('00' * 13) + '01' + '04000000'; Peer = 'fe80::1' }
            @{ Rendered = '170001BD00000000' + ('00' * 15) + '01' + '00000000'; Peer = '::1' }
            @{ Rendered = '170001BD00000000' + '20010DB8000000000001000000000001' + '00000000'; Peer = '2001:db8::1:0:0:1' }
            @{ Rendered = '170001BD00000000' + 'FE800000000000000000001200000001' + '00000000'; Peer = 'fe80::12:0:1' }
            @{ Rendered = '[FE80::1%4]:445'; Peer = 'fe80::1' }
            @{ Rendered = 'not an address'; Peer = 'not an address' }
        ) {
            $FakeHost.EventLogs[$ServerAudit] = @{
                IsEnabled = $true
                Events    = @(New-FakeEvent -Id 3021 -TimeCreated (Get-Date).AddHours(-1) -Data ([ordered] @{ ClientNameLength = [uint16] 0; ClientName = ''; ClientAddressLength = [uint32] ($Rendered.Length / 2); ClientAddress = $Rendered; ServerRequiresSigning = $false }))
            }

            $result = Invoke-SigningScript -Request (New-Request -Operation 'read' -AuditDays 7)

            $result.Reply.audit.server.peers[0].peer | Should -BeExactly $Peer
        }

        It 'Should prefer the name where an event gives both a name and an address' {
            $FakeHost.EventLogs[$ServerAudit] = @{
                IsEnabled = $true
                Events    = @(New-FakeEvent -Id 3021 -TimeCreated (Get-Date).AddHours(-1) -Data ([ordered] @{ ClientNameLength = [uint16] 11; ClientName = '\\SCANNER01'; ClientAddressLength = [uint32] 16; ClientAddress = '0200C0460A000411' + ('00' * 8); ServerRequiresSigning = $false }))
            }

            $result = Invoke-SigningScript -Request (New-Request -Operation 'read' -AuditDays 7)

            $result.Reply.audit.server.peers[0].peer | Should -BeExactly 'SCANNER01'
        }

        It 'Should report an empty log, a disabled one and one it cannot read, and still answer ok' {
            $FakeHost.EventLogs[$ServerAudit] = @{ IsEnabled = $true; Events = @() }
            $FakeHost.EventLogs[$ClientAudit] = @{ IsEnabled = $false; Events = @() }

            $result = Invoke-SigningScript -Request (New-Request -Operation 'read' -AuditDays 7)

            $result.ExitCode | Should -Be 0
            $result.Reply.audit.server.log | Should -Be 'available'
            $result.Reply.audit.server.events | Should -Be 0
            $result.Reply.audit.client.log | Should -Be 'disabled'

            $FakeHost.EventLogs[$ServerAudit].Throw = 'The RPC server is unavailable'
            $result = Invoke-SigningScript -Request (New-Request -Operation 'read' -AuditDays 7)

            $result.ExitCode | Should -Be 0
            $result.Reply.audit.server.log | Should -Be 'unreadable'
            $result.Reply.audit.server.error | Should -Match 'RPC server is unavailable'
        }

        It 'Should not read the logs unless asked, nor for a restore' {
            $result = Invoke-SigningScript -Request (New-Request -Operation 'read')
            $result.Reply.audit | Should -BeNullOrEmpty
            $result = Invoke-SigningScript -Request (New-Request -Operation 'restore' -AuditDays 7)
            $result.Reply.audit | Should -BeNullOrEmpty
            Should -Invoke -CommandName Get-WinEvent -Exactly -Times 0 -Scope It
        }

        It 'Should refuse an auditDays that is not an integer from 1 to 90' {
            foreach ($days in @(0, 91, '7', 1.5)) {
                $result = Invoke-SigningScript -Request (New-Request -Operation 'read' -AuditDays $days)
                $result.ExitCode | Should -Be 2
                $result.Reply.kind | Should -Be 'badRequest'
            }
        }
    }

    Context 'When applying' -Tag 'Apply' {
        It 'Should write the record before the first Set-*, and set only what differs' {
            $request = New-Request -Operation 'apply' `
                -Client @{ RequireSecuritySignature = $true; EnableSecuritySignature = $true } `
                -Server @{ RequireSecuritySignature = $true; EnableSecuritySignature = $false }

            $result = Invoke-SigningScript -Request $request

            $result.ExitCode | Should -Be 0
            $result.Reply.status | Should -Be 'ok'
            $result.Reply.changed | Should -Be 'server.RequireSecuritySignature'
            $result.Reply.after.server.RequireSecuritySignature | Should -BeTrue
            $FakeHost.Server.RequireSecuritySignature | Should -BeTrue
            ($FakeHost.Log -join ' | ') | Should -Be "New-Item $RecordPath | Set-ItemProperty $RecordPath\OriginalSettings | Set-SmbServerConfiguration"

            $record = Get-FakeRecord
            $record.version | Should -Be 2
            $record.ownerId | Should -BeExactly $OwnerId
            $record.ownerLabel | Should -BeExactly $OwnerLabel
            $record.claimedAt | Should -Match $IsoUtc
            $claimedAt = [datetime]::Parse($record.claimedAt, [System.Globalization.CultureInfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::RoundtripKind)
            ([datetime]::UtcNow - $claimedAt).Duration().TotalMinutes | Should -BeLessThan 5
            $record.originals.server.RequireSecuritySignature | Should -BeFalse
            $record.originals.server.EnableSecuritySignature | Should -BeFalse
            $record.originals.client.RequireSecuritySignature | Should -BeTrue
            $result.Reply.ours | Should -BeTrue
            $result.Reply.record.format | Should -Be 2
            $result.Reply.record.ownerId | Should -BeExactly $OwnerId
            $result.Reply.record.ownerLabel | Should -BeExactly $OwnerLabel
            $result.Reply.record.claimedAt | Should -BeExactly $record.claimedAt
            $result.Reply.record.originals.server.RequireSecuritySignature | Should -BeFalse

            Should -Invoke -CommandName Set-SmbServerConfiguration -ParameterFilter {
                $RequireSecuritySignature -eq $true -and -not $PesterBoundParameters.ContainsKey('EnableSecuritySignature')
            } -Exactly -Times 1 -Scope It
            Should -Invoke -CommandName Set-SmbServerConfiguration -Exactly -Times 1 -Scope It
            Should -Invoke -CommandName Set-SmbClientConfiguration -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName Set-ItemProperty -ParameterFilter {
                $Path -eq 'HKLM:\SOFTWARE\pulumi-smb-signing' -and $Name -eq 'OriginalSettings'
            } -Exactly -Times 1 -Scope It
        }

        It 'Should write nothing when the same request comes again' {
            $request = New-Request -Operation 'apply' -Server @{ RequireSecuritySignature = $true }
            $first = Invoke-SigningScript -Request $request
            $first.Reply.changed | Should -Be 'server.RequireSecuritySignature'
            $logged = $FakeHost.Log.Count

            $second = Invoke-SigningScript -Request $request

            $second.ExitCode | Should -Be 0
            @($second.Reply.changed).Count | Should -Be 0
            $second.Reply.ours | Should -BeTrue
            $second.Reply.record.ownerId | Should -BeExactly $OwnerId
            $second.Reply.record.claimedAt | Should -BeExactly $first.Reply.record.claimedAt
            $second.Reply.record.originals.server.RequireSecuritySignature | Should -BeFalse
            $FakeHost.Log.Count | Should -Be $logged
            Should -Invoke -CommandName Set-SmbServerConfiguration -Exactly -Times 1 -Scope It
            Should -Invoke -CommandName Set-ItemProperty -Exactly -Times 1 -Scope It
            Should -Invoke -CommandName New-Item -Exactly -Times 1 -Scope It
        }

        It 'Should answer accessDenied when the account may not change the SMB configuration' {
            Mock -CommandName Set-SmbServerConfiguration -MockWith {
                $denied = New-Object -TypeName System.UnauthorizedAccessException -ArgumentList 'Access denied'
                throw (New-Object -TypeName System.Management.Automation.ErrorRecord -ArgumentList $denied, 'AccessDenied', ([System.Management.Automation.ErrorCategory]::PermissionDenied), $null)
            }

            $result = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Server @{ RequireSecuritySignature = $true })

            $result.ExitCode | Should -Be 2
            $result.Reply.kind | Should -Be 'accessDenied'
            $FakeHost.Server.RequireSecuritySignature | Should -BeFalse
        }
    }

    Context 'When Group Policy enforces another value' -Tag 'Apply', 'Policy' {
        BeforeEach {
            Add-DomainControllersPolicy
        }

        It 'Should refuse before any Set-* or record write, naming the GPO and the value it enforces' {
            $request = New-Request -Operation 'apply' `
                -Client @{ RequireSecuritySignature = $false } `
                -Server @{ RequireSecuritySignature = $false }

            $result = Invoke-SigningScript -Request $request

            $result.ExitCode | Should -Be 2
            $result.Reply.status | Should -Be 'error'
            $result.Reply.kind | Should -Be 'policyConflict'
            @($result.Reply.conflicts).Count | Should -Be 1
            $result.Reply.conflicts[0].side | Should -Be 'server'
            $result.Reply.conflicts[0].name | Should -Be 'RequireSecuritySignature'
            $result.Reply.conflicts[0].declared | Should -BeFalse
            $result.Reply.conflicts[0].enforced | Should -BeTrue
            $result.Reply.conflicts[0].gpo | Should -Be 'Default Domain Controllers Policy'
            $FakeHost.Client.RequireSecuritySignature | Should -BeTrue
            $FakeHost.Registry.Contains($RecordPath) | Should -BeFalse
            $FakeHost.Log.Count | Should -Be 0

            Should -Invoke -CommandName Get-CimInstance -ParameterFilter {
                $Namespace -eq 'root\rsop\computer' -and $ClassName -eq 'RSOP_RegistryValue' -and $Filter -eq 'precedence = 1'
            } -Exactly -Times 1 -Scope It
            Should -Invoke -CommandName Set-SmbClientConfiguration -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName Set-SmbServerConfiguration -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName Set-ItemProperty -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName New-Item -Exactly -Times 0 -Scope It
        }

        It 'Should accept the value the policy enforces, and report the policy' {
            $result = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Server @{ RequireSecuritySignature = $true })

            $result.ExitCode | Should -Be 0
            @($result.Reply.changed).Count | Should -Be 0
            $result.Reply.policy.server.RequireSecuritySignature.value | Should -BeTrue
            $result.Reply.policy.server.EnableSecuritySignature.gpo | Should -Be 'Default Domain Controllers Policy'
            Should -Invoke -CommandName Set-SmbServerConfiguration -Exactly -Times 0 -Scope It
        }
    }

    Context 'When an Administrative Template under HKLM:\SOFTWARE\Policies sets a value' -Tag 'Policy' {
        BeforeEach {
            # "Enable insecure guest logons: Disabled", which wins over ...\LanmanWorkstation\Parameters.
            $FakeHost.Registry['HKLM:\SOFTWARE\Policies\Microsoft\Windows\LanmanWorkstation'] = @{ AllowInsecureGuestAuth = 0 }
            $FakeHost.Rsop.RSOP_GPO = @(@{ id = $ContosoPolicyId; name = 'Contoso Workstations' })
            $FakeHost.Rsop.RSOP_RegistryPolicySetting = @(
                @{ registryKey = 'SOFTWARE\Policies\Microsoft\Windows\LanmanWorkstation'; valueName = 'AllowInsecureGuestAuth'; GPOID = $ContosoPolicyId; precedence = 1 }
            )
        }

        It 'Should find it, named by the GPO that RSoP gives' {
            $result = Invoke-SigningScript -Request (New-Request -Operation 'read')

            $result.ExitCode | Should -Be 0
            $result.Reply.policy.client.EnableInsecureGuestLogons.value | Should -BeFalse
            $result.Reply.policy.client.EnableInsecureGuestLogons.gpo | Should -Be 'Contoso Workstations'
            Should -Invoke -CommandName Get-ItemProperty -ParameterFilter {
                $Path -eq 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\LanmanWorkstation'
            } -Scope It
        }

        It 'Should find it even when RSoP logging is off' {
            $FakeHost.Rsop.RSOP_GPO = @()
            $FakeHost.Rsop.RSOP_RegistryPolicySetting = @()

            $result = Invoke-SigningScript -Request (New-Request -Operation 'read')

            $result.Reply.policy.client.EnableInsecureGuestLogons.value | Should -BeFalse
            $result.Reply.policy.client.EnableInsecureGuestLogons.gpo | Should -Be 'a Group Policy object (RSoP names none)'
        }

        It 'Should refuse to allow the guest logons it disables' {
            $request = New-Request -Operation 'apply' -Client @{ EnableInsecureGuestLogons = $true; RequireSecuritySignature = $false }

            $result = Invoke-SigningScript -Request $request

            $result.ExitCode | Should -Be 2
            $result.Reply.kind | Should -Be 'policyConflict'
            $result.Reply.conflicts[0].name | Should -Be 'EnableInsecureGuestLogons'
            $result.Reply.conflicts[0].gpo | Should -Be 'Contoso Workstations'
            $FakeHost.Log.Count | Should -Be 0
        }
    }

    Context 'When Group Policy cannot be seen' -Tag 'Policy', 'Visibility' {
        It 'Should report it as known where RSoP answers with a GPO' {
            Add-DomainControllersPolicy

            $result = Invoke-SigningScript -Request (New-Request -Operation 'read')

            $result.ExitCode | Should -Be 0
            $result.Reply.policyVisibility.state | Should -Be 'known'
        }

        It 'Should report RSoP logging turned off by policy (RSoPLogging 0) as unknown, and not query RSoP' {
            Add-DomainControllersPolicy
            $FakeHost.Registry['HKLM:\SOFTWARE\Policies\Microsoft\Windows\System'] = @{ RSoPLogging = 0 }

            $result = Invoke-SigningScript -Request (New-Request -Operation 'read')

            $result.ExitCode | Should -Be 0
            $result.Reply.policyVisibility.state | Should -Be 'unknown'
            $result.Reply.policyVisibility.cause | Should -Be 'rsopLoggingOff'
            Should -Invoke -CommandName Get-CimInstance -ParameterFilter { $Namespace -eq 'root\rsop\computer' } -Exactly -Times 0 -Scope It
        }

        It 'Should report a failing RSoP query as unknown with its error, never as no policy' {
            Add-DomainControllersPolicy
            $FakeHost.RsopError = 'Access denied'

            $result = Invoke-SigningScript -Request (New-Request -Operation 'read')

            $result.ExitCode | Should -Be 0
            $result.Reply.policyVisibility.cause | Should -Be 'rsopQueryFailed'
            $result.Reply.policyVisibility.detail | Should -BeLike 'Access denied*'
            Should -Invoke -CommandName Get-CimInstance -ParameterFilter { $Namespace -eq 'root\rsop\computer' -and $ErrorAction -eq 'Stop' } -Scope It
        }

        It 'Should report a domain member whose RSoP names no GPO as unknown' {
            $result = Invoke-SigningScript -Request (New-Request -Operation 'read')

            $result.Reply.policyVisibility.cause | Should -Be 'noGpoInstances'
        }

        It 'Should refuse, before any write, turning off a domain controller''s inbound signing where RSoP logging is off' {
            Add-DomainControllersPolicy
            $FakeHost.Registry['HKLM:\SOFTWARE\Policies\Microsoft\Windows\System'] = @{ RSoPLogging = 0 }

            $result = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Server @{ RequireSecuritySignature = $false })

            $result.ExitCode | Should -Be 2
            $result.Reply.kind | Should -Be 'policyUnknown'
            @($result.Reply.unconfirmed) | Should -Be @('server.RequireSecuritySignature')
            $result.Reply.message | Should -BeLike '*turn RSoP logging back on*'
            $FakeHost.Server.RequireSecuritySignature | Should -BeTrue
            $FakeHost.Log.Count | Should -Be 0
            Should -Invoke -CommandName Set-SmbServerConfiguration -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName New-Item -Exactly -Times 0 -Scope It
        }

        It 'Should leave a domain controller''s Security Options as they are on a restore where its policy is unknown' {
            $FakeHost.DomainRole = 5
            $FakeHost.Server.RequireSecuritySignature = $true
            $FakeHost.RsopError = 'Access denied'
            Set-FakeRecord -Json (New-RecordJson -Id $OwnerId -Label $OwnerLabel -Originals @{ client = @{}; server = @{ RequireSecuritySignature = $false } })

            $result = Invoke-SigningScript -Request (New-Request -Operation 'restore')

            $result.ExitCode | Should -Be 0
            $FakeHost.Server.RequireSecuritySignature | Should -BeTrue
            Should -Invoke -CommandName Set-SmbServerConfiguration -Exactly -Times 0 -Scope It
        }
    }

    Context 'When MDM (Intune) sets a Security Option' -Tag 'Policy', 'Mdm' {
        It 'Should refuse another value, naming the MDM policy, before any write (<Type>)' -TestCases @(
            @{ Type = 'REG_DWORD'; Value = 1 }
            @{ Type = 'REG_SZ'; Value = '1' }
        ) {
            param ($Type, $Value)
            $FakeHost.Registry['HKLM:\SOFTWARE\Microsoft\PolicyManager\current\device\LocalPoliciesSecurityOptions'] = @{
                MicrosoftNetworkClient_DigitallySignCommunicationsAlways             = $Value
                MicrosoftNetworkClient_DigitallySignCommunicationsAlways_ProviderSet = 1
            }

            $result = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Client @{ RequireSecuritySignature = $false })

            $result.ExitCode | Should -Be 2
            $result.Reply.kind | Should -Be 'policyConflict'
            $result.Reply.conflicts[0].source | Should -Be 'mdm'
            $result.Reply.conflicts[0].gpo | Should -Be 'MDM (Intune) policy LocalPoliciesSecurityOptions/MicrosoftNetworkClient_DigitallySignCommunicationsAlways'
            $FakeHost.Log.Count | Should -Be 0
        }
    }

    Context 'When the request names its owner' -Tag 'Record' {
        It 'Should answer badRequest before any write for <Case>' -TestCases @(
            @{ Case = 'a label longer than 1024 characters'; Id = '0f8fad5b-d9cb-469f-a165-70867728950e'; Label = ('u' * 1025); Expected = 'ownerLabel must be at most 1024 characters' }
            @{ Case = 'an ownerId that is not a UUID'; Id = 'smb/test/fs01'; Label = 'urn:pulumi:test::smb::pulumi-nodejs:dynamic/smb:SmbSigningPolicy::fs01'; Expected = 'ownerId must be a UUID' }
            @{ Case = 'an ownerId in braces'; Id = '{0f8fad5b-d9cb-469f-a165-70867728950e}'; Label = 'urn:pulumi:test::smb::pulumi-nodejs:dynamic/smb:SmbSigningPolicy::fs01'; Expected = 'ownerId must be a UUID' }
            @{ Case = 'an apply without an ownerId'; Id = ''; Label = 'urn:pulumi:test::smb::pulumi-nodejs:dynamic/smb:SmbSigningPolicy::fs01'; Expected = 'an apply needs an ownerId' }
        ) {
            $request = New-Request -Operation 'apply' -Server @{ RequireSecuritySignature = $true } -RequestOwnerId $Id -RequestOwnerLabel $Label

            $result = Invoke-SigningScript -Request $request

            $result.ExitCode | Should -Be 2
            $result.Reply.status | Should -Be 'error'
            $result.Reply.kind | Should -Be 'badRequest'
            $result.Reply.message | Should -BeExactly $Expected
            $FakeHost.Server.RequireSecuritySignature | Should -BeFalse
            $FakeHost.Registry.Contains($RecordPath) | Should -BeFalse
            $FakeHost.Log.Count | Should -Be 0
            Should -Invoke -CommandName Set-ItemProperty -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName Set-SmbServerConfiguration -Exactly -Times 0 -Scope It
        }

        It 'Should accept a label of exactly 1024 characters, and record it whole' {
            $prefix = 'urn:pulumi:test::smb::pulumi-nodejs:dynamic/smb:SmbSigningPolicy::'
            $label = $prefix + ('f' * (1024 - $prefix.Length))
            $label.Length | Should -Be 1024

            $result = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Server @{ RequireSecuritySignature = $true } -RequestOwnerLabel $label)

            $result.ExitCode | Should -Be 0
            $result.Reply.record.ownerLabel | Should -BeExactly $label
            (Get-FakeRecord).ownerLabel | Should -BeExactly $label
        }
    }

    Context 'When the host holds a record' -Tag 'Record' {
        It 'Should refuse a record of <Case>, naming its label, before any write' -TestCases @(
            @{ Case = 'another owner id'; RecordId = '7c9e6679-7425-40de-944b-e07fc1f90ae7' }
            # Owner ids are compared case-sensitively (-ceq), as the provider writes them: lower case.
            @{ Case = 'this owner id in upper case'; RecordId = '0F8FAD5B-D9CB-469F-A165-70867728950E' }
        ) {
            $json = New-RecordJson -Id $RecordId -Label $OtherOwnerLabel -Originals @{ client = @{}; server = @{ RequireSecuritySignature = $false } }
            Set-FakeRecord -Json $json

            $result = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Server @{ RequireSecuritySignature = $true })

            $result.ExitCode | Should -Be 2
            $result.Reply.status | Should -Be 'error'
            $result.Reply.kind | Should -Be 'ownedElsewhere'
            $result.Reply.message | Should -Match ([regex]::Escape("owned by another resource: $OtherOwnerLabel"))
            $result.Reply.ours | Should -BeFalse
            $result.Reply.record.format | Should -Be 2
            $result.Reply.record.ownerId | Should -BeExactly $RecordId
            $result.Reply.record.ownerLabel | Should -BeExactly $OtherOwnerLabel
            $FakeHost.Registry[$RecordPath].OriginalSettings | Should -BeExactly $json
            $FakeHost.Server.RequireSecuritySignature | Should -BeFalse
            @($FakeHost.Log | Where-Object -FilterScript { $_ -like 'Set-*' }).Count | Should -Be 0
            $FakeHost.Log.Count | Should -Be 0
            Should -Invoke -CommandName Set-SmbServerConfiguration -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName Set-ItemProperty -Exactly -Times 0 -Scope It
        }

        It 'Should take a record of another owner id over with takeOwnership, keeping its originals and writing its own id' {
            $theirs = New-RecordJson -Id $OtherOwnerId -Label $OtherOwnerLabel -Originals @{ client = @{ RequireSecuritySignature = $false }; server = @{} }
            Set-FakeRecord -Json $theirs

            $result = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Client @{ RequireSecuritySignature = $true } -TakeOwnership)

            $result.Reply.status | Should -Be 'ok'
            $record = Assert-NewClaim -Result $result
            # The original from before the first owner changed it, not the host's value now.
            $record.originals.client.RequireSecuritySignature | Should -BeFalse
            $result.Reply.record.ownerId | Should -BeExactly $OwnerId
            ($FakeHost.Log -join ' | ') | Should -Be "Set-ItemProperty $RecordPath\OriginalSettings"
        }

        It 'Should adopt a released record without takeOwnership, keeping its originals' {
            # Its resource was destroyed leaving the host as it was: inbound signing required.
            $FakeHost.Server.RequireSecuritySignature = $true
            Set-FakeRecord -Json (New-RecordJson -Id '' -Label $OtherOwnerLabel -Originals @{ client = @{}; server = @{ RequireSecuritySignature = $false } })

            $result = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Server @{ RequireSecuritySignature = $true })

            $record = Assert-NewClaim -Result $result
            # The value before the released owner changed it, not the host's value now.
            $record.originals.server.RequireSecuritySignature | Should -BeFalse
            $result.Reply.record.originals.server.RequireSecuritySignature | Should -BeFalse
            ($FakeHost.Log -join ' | ') | Should -Be "Set-ItemProperty $RecordPath\OriginalSettings"
            Should -Invoke -CommandName Set-SmbServerConfiguration -Exactly -Times 0 -Scope It
        }

        It 'Should claim a record of the first format that names one of legacyOwners, rewriting it as format 2 before any Set-*' {
            Set-FakeRecord -Json '{"version":1,"owner":"smb/test/fs01","originals":{"client":{"RequireSecuritySignature":false},"server":{}}}'
            $request = New-Request -Operation 'apply' `
                -Client @{ RequireSecuritySignature = $true } `
                -Server @{ RequireSecuritySignature = $true } `
                -LegacyOwners 'smb/prod/fs01', $LegacyOwner

            $result = Invoke-SigningScript -Request $request

            $result.ExitCode | Should -Be 0
            $result.Reply.ours | Should -BeTrue
            $result.Reply.changed | Should -Be 'server.RequireSecuritySignature'
            $result.Reply.record.format | Should -Be 2
            $result.Reply.record.ownerId | Should -BeExactly $OwnerId
            $record = Get-FakeRecord
            $record.version | Should -Be 2
            $record.PSObject.Properties.Name | Should -Not -Contain 'owner'
            $record.ownerId | Should -BeExactly $OwnerId
            $record.ownerLabel | Should -BeExactly $OwnerLabel
            $record.claimedAt | Should -Match $IsoUtc
            # The first owner's original, and the value the host had before for the new setting.
            $record.originals.client.RequireSecuritySignature | Should -BeFalse
            $record.originals.server.RequireSecuritySignature | Should -BeFalse
            ($FakeHost.Log -join ' | ') | Should -Be "Set-ItemProperty $RecordPath\OriginalSettings | Set-SmbServerConfiguration"
        }

        It 'Should refuse a record of the first format that names none of legacyOwners (compared case-sensitively), before any write' {
            $json = '{"version":1,"owner":"infra/prod/fs01","originals":{"client":{"RequireSecuritySignature":false},"server":{}}}'
            Set-FakeRecord -Json $json

            $result = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Server @{ RequireSecuritySignature = $true } -LegacyOwners $LegacyOwner, 'INFRA/prod/fs01')

            $result.ExitCode | Should -Be 2
            $result.Reply.kind | Should -Be 'ownedElsewhere'
            $result.Reply.message | Should -Match 'owned by another resource: infra/prod/fs01'
            $result.Reply.ours | Should -BeFalse
            $result.Reply.record.format | Should -Be 1
            $result.Reply.record.ownerId | Should -BeExactly ''
            $result.Reply.record.ownerLabel | Should -BeExactly 'infra/prod/fs01'
            $FakeHost.Registry[$RecordPath].OriginalSettings | Should -BeExactly $json
            $FakeHost.Server.RequireSecuritySignature | Should -BeFalse
            $FakeHost.Log.Count | Should -Be 0
        }

        It 'Should take a record of the first format over with takeOwnership, keeping the originals it recorded' {
            Set-FakeRecord -Json '{"version":1,"owner":"infra/prod/fs01","originals":{"client":{"RequireSecuritySignature":false},"server":{}}}'

            $result = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Client @{ RequireSecuritySignature = $true } -TakeOwnership)

            $result.ExitCode | Should -Be 0
            @($result.Reply.changed).Count | Should -Be 0
            $record = Get-FakeRecord
            $record.version | Should -Be 2
            $record.ownerId | Should -BeExactly $OwnerId
            $record.ownerLabel | Should -BeExactly $OwnerLabel
            # The original from before the first owner changed it, not the host's value now.
            $record.originals.client.RequireSecuritySignature | Should -BeFalse
        }

        It 'Should rewrite the label on a rename, keeping the owner id and claimedAt' {
            # What an apply under the old name left.
            $FakeHost.Server.RequireSecuritySignature = $true
            $oldLabel = 'urn:pulumi:test::smb::pulumi-nodejs:dynamic/smb:SmbSigningPolicy::fs01-old'
            Set-FakeRecord -Json (New-RecordJson -Id $OwnerId -Label $oldLabel -Originals @{ client = @{}; server = @{ RequireSecuritySignature = $false } })

            $result = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Server @{ RequireSecuritySignature = $true })

            $result.ExitCode | Should -Be 0
            $result.Reply.ours | Should -BeTrue
            @($result.Reply.changed).Count | Should -Be 0
            $result.Reply.record.ownerLabel | Should -BeExactly $OwnerLabel
            $result.Reply.record.claimedAt | Should -BeExactly $ClaimedBefore
            $record = Get-FakeRecord
            $record.ownerId | Should -BeExactly $OwnerId
            $record.ownerLabel | Should -BeExactly $OwnerLabel
            $record.claimedAt | Should -BeExactly $ClaimedBefore
            $record.originals.server.RequireSecuritySignature | Should -BeFalse
            ($FakeHost.Log -join ' | ') | Should -Be "Set-ItemProperty $RecordPath\OriginalSettings"
            Should -Invoke -CommandName Set-SmbServerConfiguration -Exactly -Times 0 -Scope It
        }

        It 'Should answer badRecord before any write when the record is <Case>' -TestCases @(
            @{ Case = 'not JSON'; RecordJson = 'RequireSecuritySignature=0' }
            @{ Case = 'of another version'; RecordJson = '{"version":3,"ownerId":"","ownerLabel":"","claimedAt":"","originals":{"client":{},"server":{}}}' }
            @{ Case = 'of format 2 without an ownerId'; RecordJson = '{"version":2,"owner":"smb/test/fs01","originals":{"client":{},"server":{}}}' }
            @{ Case = 'of format 2 without claimedAt'; RecordJson = '{"version":2,"ownerId":"0f8fad5b-d9cb-469f-a165-70867728950e","ownerLabel":"fs01","originals":{"client":{},"server":{}}}' }
            @{ Case = 'of format 1 without an owner'; RecordJson = '{"version":1,"originals":{"client":{},"server":{}}}' }
            @{ Case = 'without originals'; RecordJson = '{"version":1,"owner":"smb/test/fs01"}' }
        ) {
            Set-FakeRecord -Json $RecordJson

            $result = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Server @{ RequireSecuritySignature = $true })

            $result.ExitCode | Should -Be 2
            $result.Reply.kind | Should -Be 'badRecord'
            $result.Reply.message | Should -Match ([regex]::Escape('Remove-Item -Path HKLM:\SOFTWARE\pulumi-smb-signing'))
            $FakeHost.Registry[$RecordPath].OriginalSettings | Should -BeExactly $RecordJson
            $FakeHost.Server.RequireSecuritySignature | Should -BeFalse
            $FakeHost.Log.Count | Should -Be 0
        }
    }

    Context 'When releasing' -Tag 'Release', 'Record' {
        It 'Should mark its record released, keeping its label, claimedAt and originals, and change no setting' {
            # What an apply left: inbound signing required, the value before it in the record.
            $FakeHost.Server.RequireSecuritySignature = $true
            Set-FakeRecord -Json (New-RecordJson -Id $OwnerId -Label $OwnerLabel -Originals @{ client = @{}; server = @{ RequireSecuritySignature = $false } })

            $result = Invoke-SigningScript -Request (New-Request -Operation 'release')

            $result.ExitCode | Should -Be 0
            $result.Reply.status | Should -Be 'ok'
            $result.Reply.ours | Should -BeTrue
            $result.Reply.restored | Should -BeFalse
            @($result.Reply.changed).Count | Should -Be 0
            $result.Reply.after.server.RequireSecuritySignature | Should -BeTrue
            $result.Reply.record.format | Should -Be 2
            $result.Reply.record.ownerId | Should -BeExactly ''
            $result.Reply.record.ownerLabel | Should -BeExactly $OwnerLabel
            $record = Get-FakeRecord
            $record.version | Should -Be 2
            $record.ownerId | Should -BeExactly ''
            $record.ownerLabel | Should -BeExactly $OwnerLabel
            $record.claimedAt | Should -BeExactly $ClaimedBefore
            $record.originals.server.RequireSecuritySignature | Should -BeFalse
            $FakeHost.Server.RequireSecuritySignature | Should -BeTrue
            ($FakeHost.Log -join ' | ') | Should -Be "Set-ItemProperty $RecordPath\OriginalSettings"
            Should -Invoke -CommandName Set-SmbClientConfiguration -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName Set-SmbServerConfiguration -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName Remove-Item -Exactly -Times 0 -Scope It

            # Released already: releasing again writes nothing.
            $released = $FakeHost.Registry[$RecordPath].OriginalSettings
            $FakeHost.Log.Clear()

            $again = Invoke-SigningScript -Request (New-Request -Operation 'release')

            $again.ExitCode | Should -Be 0
            $again.Reply.ours | Should -BeTrue
            $FakeHost.Registry[$RecordPath].OriginalSettings | Should -BeExactly $released
            $FakeHost.Log.Count | Should -Be 0
        }

        It 'Should leave another owner''s record alone, writing nothing' {
            $FakeHost.Server.RequireSecuritySignature = $true
            $json = New-RecordJson -Id $OtherOwnerId -Label $OtherOwnerLabel -Originals @{ client = @{}; server = @{ RequireSecuritySignature = $false } }
            Set-FakeRecord -Json $json

            $result = Invoke-SigningScript -Request (New-Request -Operation 'release')

            $result.ExitCode | Should -Be 0
            $result.Reply.status | Should -Be 'ok'
            $result.Reply.ours | Should -BeFalse
            $result.Reply.record.ownerId | Should -BeExactly $OtherOwnerId
            $FakeHost.Registry[$RecordPath].OriginalSettings | Should -BeExactly $json
            $FakeHost.Server.RequireSecuritySignature | Should -BeTrue
            $FakeHost.Log.Count | Should -Be 0
            Should -Invoke -CommandName Set-ItemProperty -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName New-Item -Exactly -Times 0 -Scope It
        }
    }

    Context 'When one side lacks a requested setting' -Tag 'Apply' {
        It 'Should refuse before the other side is changed' {
            # Windows 11 23H2: no audit properties on either side.
            foreach ($absent in 'AuditServerDoesNotSupportSigning', 'AuditInsecureGuestLogon') { $FakeHost.Client.Remove($absent) }
            foreach ($absent in 'AuditClientDoesNotSupportSigning', 'AuditInsecureGuestLogon') { $FakeHost.Server.Remove($absent) }
            $FakeHost.Client.RequireSecuritySignature = $false
            $request = New-Request -Operation 'apply' `
                -Client @{ RequireSecuritySignature = $true } `
                -Server @{ AuditClientDoesNotSupportSigning = $true }

            $result = Invoke-SigningScript -Request $request

            $result.ExitCode | Should -Be 2
            $result.Reply.kind | Should -Be 'unsupportedSetting'
            $result.Reply.message | Should -Match 'no server setting AuditClientDoesNotSupportSigning'
            $FakeHost.Client.RequireSecuritySignature | Should -BeFalse
            $FakeHost.Registry.Contains($RecordPath) | Should -BeFalse
            Should -Invoke -CommandName Set-SmbClientConfiguration -Exactly -Times 0 -Scope It
            Should -Invoke -CommandName Set-ItemProperty -Exactly -Times 0 -Scope It
        }
    }

    Context 'When Set-SmbServerConfiguration fails after the client side was set' -Tag 'Apply' {
        BeforeAll {
            Mock -CommandName Set-SmbServerConfiguration -MockWith {
                $FakeHost.Log.Add('Set-SmbServerConfiguration (failed)')
                throw 'The service has not been started.'
            }
        }

        It 'Should return an error reply carrying the record and what it changed' {
            $FakeHost.Client.RequireSecuritySignature = $false
            $request = New-Request -Operation 'apply' `
                -Client @{ RequireSecuritySignature = $true } `
                -Server @{ RequireSecuritySignature = $true }

            $result = Invoke-SigningScript -Request $request

            $result.ExitCode | Should -Be 2
            $result.Reply.status | Should -Be 'error'
            $result.Reply.kind | Should -Be 'failed'
            $result.Reply.message | Should -Match 'The service has not been started'
            $result.Reply.changed | Should -Be 'client.RequireSecuritySignature'
            $result.Reply.before.client.RequireSecuritySignature | Should -BeFalse
            $result.Reply.ours | Should -BeTrue
            $result.Reply.record.ownerId | Should -BeExactly $OwnerId
            $result.Reply.record.originals.client.RequireSecuritySignature | Should -BeFalse
            $result.Reply.record.originals.server.RequireSecuritySignature | Should -BeFalse
            (Get-FakeRecord).originals.client.RequireSecuritySignature | Should -BeFalse
            $FakeHost.Client.RequireSecuritySignature | Should -BeTrue
            ($FakeHost.Log -join ' | ') | Should -Be "New-Item $RecordPath | Set-ItemProperty $RecordPath\OriginalSettings | Set-SmbClientConfiguration | Set-SmbServerConfiguration (failed)"
        }
    }

    Context 'When the Server service is stopped or disabled' -Tag 'Read', 'Apply', 'HalfWork' {
        BeforeAll {
            # Some such hosts fail Get-/Set-SmbServerConfiguration (docs/windows-model.md, "Hosts that half-work"):
            # a CDXML error whose id names the Win32 error (1062, ERROR_SERVICE_NOT_ACTIVE, inferred).
            $stopped = {
                $exception = New-Object -TypeName System.Exception -ArgumentList 'The service has not been started.'
                throw (New-Object -TypeName System.Management.Automation.ErrorRecord -ArgumentList $exception, 'Windows System Error 1062,Get-SmbServerConfiguration', 'NotSpecified', $null)
            }
            Mock -CommandName Get-SmbServerConfiguration -MockWith $stopped
        }

        It 'Should read the client side and report the server side unavailable with its error' {
            $result = Invoke-SigningScript -Request (New-Request -Operation 'read')

            $result.ExitCode | Should -Be 0
            $result.Reply.before.client.RequireSecuritySignature | Should -BeTrue
            @($result.Reply.before.server.PSObject.Properties).Count | Should -Be 0
            $result.Reply.unavailable.server.message | Should -Be 'The service has not been started.'
            $result.Reply.unavailable.server.errorId | Should -Be 'Windows System Error 1062,Get-SmbServerConfiguration'
            $result.Reply.unavailable.PSObject.Properties['client'] | Should -BeNullOrEmpty
        }

        It 'Should refuse a server setting before anything is written, naming the side, the cause and the fix' {
            $FakeHost.Client.RequireSecuritySignature = $false
            $request = New-Request -Operation 'apply' -Client @{ RequireSecuritySignature = $true } -Server @{ RequireSecuritySignature = $true }

            $result = Invoke-SigningScript -Request $request

            $result.ExitCode | Should -Be 2
            $result.Reply.kind | Should -Be 'sideUnavailable'
            $result.Reply.side | Should -Be 'server'
            $result.Reply.message | Should -Match 'the server side of this host cannot be read'
            $result.Reply.message | Should -Match 'Start-Service -Name LanmanServer'
            $FakeHost.Client.RequireSecuritySignature | Should -BeFalse
            $FakeHost.Registry.Contains($RecordPath) | Should -BeFalse
            $FakeHost.Log.Count | Should -Be 0
        }

        It 'Should apply client settings alone' {
            $FakeHost.Client.RequireSecuritySignature = $false

            $result = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Client @{ RequireSecuritySignature = $true })

            $result.ExitCode | Should -Be 0
            $result.Reply.changed | Should -Be 'client.RequireSecuritySignature'
            $FakeHost.Client.RequireSecuritySignature | Should -BeTrue
            $result.Reply.unavailable.server.errorId | Should -Match 'Windows System Error'
        }

        It 'Should keep the record when a restore owes the server side its originals' {
            Set-FakeRecord -Json (New-RecordJson -Id $OwnerId -Label $OwnerLabel -Originals @{ client = @{}; server = @{ RequireSecuritySignature = $false } })

            $result = Invoke-SigningScript -Request (New-Request -Operation 'restore')

            $result.ExitCode | Should -Be 0
            $result.Reply.restored | Should -BeFalse
            $FakeHost.Registry.Contains($RecordPath) | Should -BeTrue
        }
    }

    Context 'When the settings live in the registry (Windows 7 / Server 2008 R2)' -Tag 'Apply', 'HalfWork' {
        BeforeAll {
            # No SmbShare module: Get-Command finds no Get-SmbClientConfiguration.
            Mock -CommandName Get-Command -ParameterFilter { $PesterBoundParameters['Name'] -eq 'Get-SmbClientConfiguration' } -MockWith { $null }
        }

        It 'Should say which service may need a restart, rather than that the change took effect' {
            $FakeHost.Registry['HKLM:\SYSTEM\CurrentControlSet\Services\LanmanServer\Parameters'] = @{ RequireSecuritySignature = 0; EnableSecuritySignature = 0 }
            $FakeHost.Registry['HKLM:\SYSTEM\CurrentControlSet\Services\LanmanWorkstation\Parameters'] = @{ RequireSecuritySignature = 0; EnableSecuritySignature = 1 }

            $result = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Server @{ RequireSecuritySignature = $true })

            $result.ExitCode | Should -Be 0
            $result.Reply.source | Should -Be 'registry'
            $result.Reply.changed | Should -Be 'server.RequireSecuritySignature'
            $result.Reply.restartNeeded | Should -Be 'LanmanServer'
            $FakeHost.Registry['HKLM:\SYSTEM\CurrentControlSet\Services\LanmanServer\Parameters'].RequireSecuritySignature | Should -Be 1
        }
    }

    Context 'When reporting what ran the script' -Tag 'Read', 'HalfWork' {
        It 'Should report the bitness of this PowerShell and of Windows' {
            $result = Invoke-SigningScript -Request (New-Request -Operation 'read')

            $result.Reply.host.processBits | Should -Be $(if ([Environment]::Is64BitProcess) { 64 } else { 32 })
            $result.Reply.host.osBits | Should -Be $(if ([Environment]::Is64BitOperatingSystem) { 64 } else { 32 })
        }
    }

    Context 'When restoring' -Tag 'Restore' {
        It 'Should put back the originals an apply recorded, and remove the record' {
            $apply = Invoke-SigningScript -Request (New-Request -Operation 'apply' -Server @{ RequireSecuritySignature = $true; EnableSecuritySignature = $true })
            $apply.ExitCode | Should -Be 0
            $FakeHost.Log.Clear()

            # What the state knows may be less than the record: the record is the truth.
            $result = Invoke-SigningScript -Request (New-Request -Operation 'restore' -Originals @{ client = @{}; server = @{ RequireSecuritySignature = $false } })

            $result.ExitCode | Should -Be 0
            $result.Reply.status | Should -Be 'ok'
            $result.Reply.restored | Should -BeTrue
            $result.Reply.record | Should -BeNullOrEmpty
            $result.Reply.after.server.RequireSecuritySignature | Should -BeFalse
            $result.Reply.after.server.EnableSecuritySignature | Should -BeFalse
            $FakeHost.Server.RequireSecuritySignature | Should -BeFalse
            $FakeHost.Server.EnableSecuritySignature | Should -BeFalse
            $FakeHost.Registry.Contains($RecordPath) | Should -BeFalse
            ($FakeHost.Log -join ' | ') | Should -Be "Set-SmbServerConfiguration | Remove-Item $RecordPath"
            Should -Invoke -CommandName Set-SmbServerConfiguration -ParameterFilter {
                $RequireSecuritySignature -eq $false -and $EnableSecuritySignature -eq $false
            } -Exactly -Times 1 -Scope It
            Should -Invoke -CommandName Remove-Item -ParameterFilter { $Path -eq 'HKLM:\SOFTWARE\pulumi-smb-signing' } -Exactly -Times 1 -Scope It
        }

        It 'Should leave a setting that Group Policy enforces to the policy' {
            Add-DomainControllersPolicy
            Set-FakeRecord -Json (New-RecordJson -Id $OwnerId -Label $OwnerLabel -Originals @{ client = @{}; server = @{ RequireSecuritySignature = $false } })

            $result = Invoke-SigningScript -Request (New-Request -Operation 'restore')

            $result.ExitCode | Should -Be 0
            $result.Reply.restored | Should -BeTrue
            $FakeHost.Server.RequireSecuritySignature | Should -BeTrue
            $FakeHost.Registry.Contains($RecordPath) | Should -BeFalse
            Should -Invoke -CommandName Set-SmbServerConfiguration -Exactly -Times 0 -Scope It
        }

        It 'Should leave a host that another owner took over alone' {
            $json = New-RecordJson -Id $OtherOwnerId -Label $OtherOwnerLabel -Originals @{ client = @{}; server = @{ RequireSecuritySignature = $true } }
            Set-FakeRecord -Json $json

            $result = Invoke-SigningScript -Request (New-Request -Operation 'restore' -Originals @{ client = @{}; server = @{ RequireSecuritySignature = $true } })

            $result.ExitCode | Should -Be 0
            $result.Reply.status | Should -Be 'ok'
            $result.Reply.restored | Should -BeFalse
            $result.Reply.ours | Should -BeFalse
            $result.Reply.record.ownerId | Should -BeExactly $OtherOwnerId
            $result.Reply.record.ownerLabel | Should -BeExactly $OtherOwnerLabel
            $FakeHost.Registry[$RecordPath].OriginalSettings | Should -BeExactly $json
            $FakeHost.Server.RequireSecuritySignature | Should -BeFalse
            $FakeHost.Log.Count | Should -Be 0
        }
    }
}
