// What Windows provides to the shipped scripts (provider/scripts/bootstrap.ps1, smb-signing.ps1)
// when they run through the PowerShell interpreter (test/simhost/powershell/): the commands they
// call, the objects those return and the errors they raise, read from and written to a host
// model's HostState (model.ts) as the TypeScript twin runSigningScript reads and writes it.
//
// ---------------------------------------------------------------------------------------------
// Catalogue: everything the two scripts ask of Windows, with exactly the parameters they pass.
// "non-terminating" is WriteError (the caller's -ErrorAction / $ErrorActionPreference decides;
// both scripts set $ErrorActionPreference = 'Stop', so every such error throws unless the call
// says -ErrorAction SilentlyContinue); "terminating" is ThrowTerminatingError. FQID is the
// ErrorRecord's FullyQualifiedErrorId ("<errorId>,<command>"). Sources in brackets:
//   [PS]   PowerShell/PowerShell source (the engine, registry provider, CIM and Diagnostics
//          cmdlets that Windows PowerShell 5.1 shares), files named per entry;
//   [Learn] Microsoft Learn / PowerShell-Docs reference pages;
//   [model] docs/windows-model.md, which cites its own sources; "unsettled" there means the
//          model takes the harsher case.
//
// Session facts (bootstrap.ps1)
//   $PSVersionTable.PSVersion.Major     HostState.powershellVersion ("5.1", "2.0"): bootstrap
//                                        refuses < 3 [model "PowerShell on the host"].
//   $ExecutionContext.SessionState.LanguageMode   HostState.languageMode; bootstrap refuses
//                                        anything but FullLanguage [model, about_Language_Modes].
//   [Console]::In.ReadToEnd()            the envelope on stdin (ASCII; windowsHost.ts checks it).
//   [Console]::Out.Write($text)          the reply on stdout.
//   [ScriptBlock]::Create($text)         compiles smb-signing.ps1 (FullLanguage only).
//   exit N                               the process exit code (0 ok, 2 error reply, 3 fell through).
//   $ErrorActionPreference, $ProgressPreference (set by the scripts), $_ in catch blocks.
//
// .NET members the script uses (the interpreter's value model; no Windows state behind them)
//   [regex]::Replace(s, pattern, scriptblock)   Write-Reply's \uXXXX escaping.
//   [System.StringComparison]::OrdinalIgnoreCase, string.EndsWith(s, comparison).
//   [System.Net.IPAddress]::TryParse(s, [ref]$address)   Get-AuditPeer.
//   [int], [char], [string], [bool], [hashtable] conversions; '{0:x4}' -f, '{0}.{1}' -f.
//   DateTime: (Get-Date).AddDays(-n), .ToUniversalTime().ToString('o') (7 fractional digits and
//   a "Z" for a UTC DateTime [Learn: Standard date and time format strings, "O" round-trip]),
//   -gt between DateTimes.
//   String: Split, Trim, TrimStart, Contains, Length; hashtable Keys/Values/ContainsKey/Count;
//   $obj.PSObject.Properties and .PSObject.Properties[$name].
//   Engine cmdlets: ConvertFrom-Json, ConvertTo-Json -Depth -Compress, Sort-Object -Property
//   @{Expression; Descending}, Select-Object -First, Out-Null, Write-Output. Not Windows': the
//   interpreter's.
//
// Registry (PowerShell's registry provider, drive HKLM:) [PS src/System.Management.Automation/
// namespaces/RegistryProvider.cs; Learn Get-ItemProperty, Set-ItemProperty, New-Item, Remove-Item,
// Test-Path]
//   Keys the scripts name:
//     HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion      read: ProductName, EditionID,
//         DisplayVersion (REG_SZ; absent before Windows 10 20H2 / Server 2022, so the model omits
//         it where HostState.os.displayVersion is ""), CurrentBuildNumber (REG_SZ), UBR (REG_DWORD).
//     HKLM:\SYSTEM\CurrentControlSet\Services\LanmanWorkstation\Parameters   client,
//     HKLM:\SYSTEM\CurrentControlSet\Services\LanmanServer\Parameters        server:
//         RequireSecuritySignature, EnableSecuritySignature as REG_DWORD 1/0; the same values
//         Get-Smb*Configuration reports and Security Options write [model "Group Policy"]. Read
//         on hosts without the SmbShare module (HostState.cmdlets false), written there with
//         -Type DWord.
//     HKLM:\SOFTWARE\Policies\Microsoft\Windows\LanmanWorkstation / ...\LanmanServer   the
//         Administrative Templates (AllowInsecureGuestAuth, AuditServerDoesNotSupportSigning,
//         AuditClientDoesNotSupportSigning, AuditInsecureGuestLogon) as REG_DWORD; the key exists
//         only where a policy sets one [model "Group Policy", KB 4046019].
//     HKLM:\SOFTWARE\pulumi-smb-signing, REG_SZ OriginalSettings   the record (HostState.record).
//   Get-ItemProperty -Path P                       (CurrentVersion, the Parameters keys)
//   Get-ItemProperty -Path P -ErrorAction SilentlyContinue          (the Policies keys)
//   Get-ItemProperty -Path P -Name OriginalSettings -ErrorAction SilentlyContinue   (the record)
//     -> one PSCustomObject: a note property per value (REG_DWORD as Int32, REG_SZ as String)
//        plus PSPath, PSParentPath, PSChildName, PSDrive, PSProvider; with -Name only that value.
//        A key without values writes nothing at all (GetProperty writes its object only when a
//        value was added).
//     missing key: non-terminating ItemNotFoundException "Cannot find path '<path>' because it
//        does not exist.", ObjectNotFound, FQID PathNotFound,Microsoft.PowerShell.Commands.
//        GetItemPropertyCommand [PS LocationGlobber.cs, SessionStateStrings PathNotFound,
//        SessionStateExceptions.cs ItemNotFoundException -> ObjectNotFound].
//     missing value with -Name: non-terminating PSArgumentException "Property <name> does not
//        exist at path <HKEY_LOCAL_MACHINE\...>.", InvalidArgument, FQID System.Management.
//        Automation.PSArgumentException,Microsoft.PowerShell.Commands.GetItemPropertyCommand
//        [PS RegistryProvider.cs WriteErrorIfPerfectMatchNotFound, RegistryProviderStrings
//        PropertyNotAtPath].
//   Set-ItemProperty -Path P -Name N -Value V -Type String | DWord
//     -> nothing. Missing key: PathNotFound as above (SetItemPropertyCommand).
//     not an administrator (HKLM is writable by administrators only): the key cannot be opened
//        for writing; non-terminating System.Security.SecurityException "Requested registry
//        access is not allowed.", PermissionDenied, FQID System.Security.SecurityException,
//        Microsoft.PowerShell.Commands.SetItemPropertyCommand [PS RegistryProvider.cs SetProperty
//        -> GetRegkeyForPathWriteIfError; model "Set-Smb*Configuration needs an elevated
//        administrator; a non-administrator also cannot write HKLM\SOFTWARE"].
//   Test-Path -Path P                              -> $true / $false (a key).
//   New-Item -Path HKLM:\SOFTWARE\pulumi-smb-signing -Force
//     -> the new key (a RegistryKey; the script pipes it to Out-Null). -Force on a key that
//        exists deletes it and its values first [PS RegistryProvider.cs NewItem: RemoveItem when
//        Force]. Not an administrator: SecurityException "Requested registry access is not
//        allowed.", PermissionDenied (opening HKLM\SOFTWARE for writing), NewItemCommand.
//   Remove-Item -Path HKLM:\SOFTWARE\pulumi-smb-signing -Recurse -Force
//     -> nothing; the key and its values are gone. Missing key: PathNotFound (RemoveItemCommand).
//        Not an administrator: PermissionDenied as above [PS RegistryProvider.cs RemoveItem].
//
// CIM / WMI [PS src/Microsoft.Management.Infrastructure.CimCmdlets/CimWriteError.cs (a CIM error
// code's ErrorCategory: AccessDenied -> PermissionDenied, InvalidClass -> MetadataError);
// Learn Get-CimInstance]
//   Get-CimInstance -ClassName Win32_ComputerSystem            (root\cimv2)
//     -> one instance; the script reads DomainRole (uint16: 1 member workstation, 3 member
//        server, 5 primary domain controller) [Learn Win32_ComputerSystem]. HostState.os.
//     brokenWmi fault: non-terminating CimException 'Invalid class "Win32_ComputerSystem"',
//        MetadataError, FQID HRESULT 0x80041010,Microsoft.Management.Infrastructure.CimCmdlets.
//        GetCimInstanceCommand (the twin's message; a damaged repository's exact text is
//        unsettled). The model breaks every CIM query with it.
//   Get-CimInstance -Namespace 'root\rsop\computer' -ClassName RSOP_GPO -Filter 'id IS NOT NULL'
//                   -ErrorAction SilentlyContinue
//     -> RSOP_GPO instances: id (the GPO's LDAP path, "LocalGPO" for local policy), name (its
//        display name), guidName [Learn RSOP_GPO].
//   Get-CimInstance -Namespace 'root\rsop\computer' -ClassName RSOP_RegistryValue -Filter
//                   'precedence = 1' -ErrorAction SilentlyContinue
//     -> the winning Security Options: Path ("MACHINE\System\CurrentControlSet\Services\
//        LanmanServer\Parameters\RequireSecuritySignature"), Data (text; the model writes the
//        security template's "4,1" type,value form, the harder one to read [model "Group
//        Policy"]), Type (4, REG_DWORD), precedence, GPOID [Learn RSOP_RegistryValue,
//        RSOP_PolicySetting].
//   Get-CimInstance -Namespace 'root\rsop\computer' -ClassName RSOP_RegistryPolicySetting
//                   -Filter 'precedence = 1' -ErrorAction SilentlyContinue
//     -> the winning Administrative Templates: registryKey ("Software\Policies\Microsoft\
//        Windows\LanmanWorkstation"), valueName, valueType (4), value (uint8[] little-endian
//        DWORD), precedence, GPOID, id, name [Learn RSOP_RegistryPolicySetting].
//     RSoP logging off (GroupPolicy.rsopLogging false): no instances of any RSoP class
//        [model "Group Policy"].
//   -Filter: the WQL forms above only ('<prop> IS NOT NULL', '<prop> = <number>').
//
// SmbShare module (CDXML functions over root/Microsoft/Windows/SMB; Windows 8 / Server 2012 and
// later) [Learn Get-SmbClientConfiguration, Get-SmbServerConfiguration, Set-SmbClientConfiguration,
// Set-SmbServerConfiguration; windows-powershell-docs winserver2025-ps for the audit parameters]
//   Get-Command -Name Get-SmbClientConfiguration -ErrorAction SilentlyContinue
//     -> its FunctionInfo (CommandType Function, Source/ModuleName SmbShare) where the module
//        exists (HostState.cmdlets); otherwise non-terminating CommandNotFoundException "The
//        term 'Get-SmbClientConfiguration' is not recognized as the name of a cmdlet, function,
//        script file, or operable program. ...", ObjectNotFound, FQID CommandNotFoundException,
//        Microsoft.PowerShell.Commands.GetCommandCommand [PS engine/GetCommandCommand.cs,
//        DiscoveryExceptions; the wording is Windows PowerShell 5.1's].
//   Get-SmbClientConfiguration / Get-SmbServerConfiguration   (no parameters)
//     -> one CimInstance MSFT_SmbClientConfiguration / MSFT_SmbServerConfiguration with a
//        Boolean property per setting the release has (HostState.client / .server: the audit
//        properties only on 24H2 / Server 2025, EnableInsecureGuestLogons from Windows 10)
//        [model "Defaults per release"]. Only the managed properties are modelled. Where the
//        module is missing the command does not exist: CommandNotFoundException.
//   Set-SmbClientConfiguration / Set-SmbServerConfiguration @Values -Force -Confirm:$false
//     -> nothing; the values are set (and a revertingAgent fault puts its values back at once
//        [model "Group Policy"]). A parameter the release lacks: terminating
//        ParameterBindingException "A parameter cannot be found that matches parameter name
//        '<name>'.", InvalidArgument, FQID NamedParameterNotFound,<command>.
//     not an administrator (nonAdmin): CimException "Access denied", PermissionDenied, FQID
//        Windows System Error 5,<command> [model; CimWriteError.cs AccessDenied].
//     failingCmdlet fault (the service is not running): CimException "The service has not been
//        started.", NotSpecified, FQID Windows System Error 1062,<command> (ERROR_SERVICE_NOT_
//        ACTIVE) [model, shared/reference smb-settings.md].
//
// Event log [PS src/Microsoft.PowerShell.Commands.Diagnostics/GetEventCommand.cs and
// resources/GetEventResources.resx; Learn Get-WinEvent (5.1)]
//   Get-WinEvent -ListLog <log> -ErrorAction SilentlyContinue
//     -> an EventLogConfiguration (LogName, IsEnabled, LogType, ...) with the note properties
//        FileSize, IsLogFull, LastAccessTime, LastWriteTime, OldestRecordNumber, RecordCount.
//        A log the host lacks: non-terminating "There is not an event log on the localhost
//        computer that matches "<log>".", ObjectNotFound, FQID NoMatchingLogsFound,
//        Microsoft.PowerShell.Commands.GetWinEventCommand. Logs: HostState.auditLogs
//        (Microsoft-Windows-SMBServer/Audit = server, Microsoft-Windows-SMBClient/Audit = client).
//   Get-WinEvent -FilterHashtable @{ LogName = <log>; Id = <int[]>; StartTime = <DateTime> }
//                -MaxEvents <n> -ErrorAction Stop
//     -> EventLogRecords newest first (the reader runs in reverse record order unless -Oldest),
//        at most n: Id, LogName, ProviderName, TimeCreated (a local DateTime), Properties (each
//        with Value), Message. Nothing matches: non-terminating "No events were found that
//        match the specified selection criteria.", ObjectNotFound, FQID NoMatchingEventsFound,
//        Microsoft.PowerShell.Commands.GetWinEventCommand. A LogName the host lacks:
//        NoMatchingLogsFound as above, and then no query at all.
//
// Utility
//   Get-Date                                        -> the host's clock, a local DateTime.
//
// Not Windows' and not here: the transport's faults (slowStartMs, dropConnection*,
// slowReplyMs, clixmlNoise, oemOutput, crash, the WinRM ones), counters.runs and
// counters.writes (windowsHost.ts counts a run that changed a setting from its reply), and the
// reviewed-script pins. counters.recordWrites counts each write of the record, as the twin's
// writeRecord does.
//
// Anything the scripts could ask that is not catalogued above (another key, value, class,
// filter, parameter or log) fails loudly with SurfaceGap, naming the command: a gap in this
// model, never an answer Windows might give.
// ---------------------------------------------------------------------------------------------
