// What Windows provides to the shipped scripts (provider/scripts/bootstrap.ps1, smb-signing.ps1)
// when they run through the PowerShell interpreter (test/simhost/powershell/): the commands they
// call, the objects those return and the errors they raise, read from and written to a host
// model's HostState (model.ts), which both simulated transports share.
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
//   [xml]$text and member access on the XmlDocument (Get-AuditPeer reads ToXml(), Get-SigningEventIds
//   the event templates); -join; [Convert]::ToByte(s, 16) (a socket address in hexadecimal).
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
//         Get-Smb*Configuration reports and Security Options write [model "Group Policy"]; and
//         any value a test wrote there directly (HostState.registryOnly: KB5066913's audit
//         turned on through the registry, which no cmdlet reports) [model "SMB audit"]. Read
//         on hosts without the SmbShare module (HostState.cmdlets false), written there with
//         -Type DWord.
//     HKLM:\SOFTWARE\Policies\Microsoft\Windows\LanmanWorkstation / ...\LanmanServer   the
//         Administrative Templates (AllowInsecureGuestAuth, AuditServerDoesNotSupportSigning,
//         AuditClientDoesNotSupportSigning, AuditInsecureGuestLogon) as REG_DWORD; the key exists
//         only where a policy sets one [model "Group Policy", KB 4046019].
//     HKLM:\SOFTWARE\pulumi-smb-signing, REG_SZ OriginalSettings   the record (HostState.record;
//         HostState.record32 where a 32-bit process's registry drive wrote it under WOW6432Node).
//     HKLM:\SOFTWARE\Policies\Microsoft\Windows\System   RSoPLogging REG_DWORD 0 where "Turn off
//         Resultant Set of Policy logging" is on (GroupPolicy.rsopLogging false); the key exists
//         only then [model "Group Policy", GroupPolicy.admx].
//     HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon   always; Shell, Userinit, and
//         RSoPLogging REG_DWORD 0 where GroupPolicy.winlogonRsopLogging is false [model "Group Policy"].
//     HKLM:\SOFTWARE\Microsoft\PolicyManager\current\device\LocalPoliciesSecurityOptions   only on
//         an MDM-managed host (HostState.mdm): per Security Option its CSP node's value (REG_DWORD
//         1/0, or REG_SZ "1"/"0" where mdm.dataType is "String"), <node>_ProviderSet (REG_DWORD 1)
//         and <node>_WinningProvider (REG_SZ GUID) [model "MDM"].
//   WOW64 (HostState.process32): the registry drive reads HKLM\SOFTWARE in the 32-bit view, which
//     redirects the record and CurrentVersion (which lacks UBR and DisplayVersion there: unsettled,
//     the harsher case) to WOW6432Node, and Winlogon (without RSoPLogging there) and the
//     PolicyManager (absent there: nothing writes it in that view), the harsher cases;
//     SOFTWARE\Policies and SYSTEM are shared [model "Hosts that half-work", MicrosoftDocs/win32
//     shared-registry-keys.md].
//   The same keys through .NET [Learn RegistryKey; model "Hosts that half-work"]:
//   [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine,
//                                              [Microsoft.Win32.RegistryView]::Registry64)
//     -> a RegistryKey: OpenSubKey(name[, $true]), CreateSubKey(name), GetValue(name),
//        SetValue(name, value, [Microsoft.Win32.RegistryValueKind]::String), DeleteSubKeyTree(name,
//        $false), Close(); their .NET exceptions as MethodInvocationException (registryKeyObject).
//   [Environment]::Is64BitProcess (not HostState.process32), [Environment]::Is64BitOperatingSystem ($true).
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
//        GetCimInstanceCommand (a damaged repository's exact text is unsettled: the
//        harsher case, every query failing, is modelled). The model breaks every CIM query with it.
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
//     RSoP logging off (GroupPolicy.rsopLogging false) or GroupPolicy.rsopQuery "empty": no
//        instances of any RSoP class [model "Group Policy"]. rsopQuery "accessDenied": every
//        root\rsop\computer query writes the non-terminating CimException "Access denied",
//        PermissionDenied, FQID HRESULT 0x80041003,...GetCimInstanceCommand; "namespaceMissing":
//        "Invalid namespace", MetadataError, HRESULT 0x8004100e [PS CimWriteError.cs].
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
//     stoppedServices (LanmanServer, LanmanWorkstation): Get- and Set- of that side fail the same
//        way (the harsher case of a behaviour that varies) [model "Hosts that half-work"].
//
// Event log [PS src/Microsoft.PowerShell.Commands.Diagnostics/GetEventCommand.cs and
// resources/GetEventResources.resx; Learn Get-WinEvent (5.1); Learn System.Diagnostics.Eventing.
// Reader (ProviderMetadata, EventMetadata, EventLogRecord); dotnet/runtime System.Diagnostics.
// EventLog Reader/NativeWrapper.cs (ConvertToObject)]
//   Get-WinEvent -ListProvider <provider> -ErrorAction Stop      (Microsoft-Windows-SMBServer,
//                                        Microsoft-Windows-SMBClient)
//     -> one ProviderMetadata (Name, Events). Events: an EventMetadata per event and version of
//        the provider's manifest that goes to its Audit log, as the release (or KB5066913) has it
//        [model "SMB audit": model.ts SMB_AUDIT_EVENTS, providerEvents]: Id (Int64), Version
//        (Byte), LogLink (EventLogLink: LogName), Template (the template XML: `<template
//        xmlns="http://schemas.microsoft.com/win/2004/08/events">` with `<data name inType
//        outType/>` per item, as PowerShell-Docs New-WinEvent Example 2 prints one), Description
//        (the message template; $null where no source gives the text). Level, Opcode, Task,
//        Keywords, the provider's other logs' events and audit events whose template no source
//        gives (SMBClient's 32000 to 32003) are not modelled. A provider the host lacks (before
//        Windows 8 / Server 2012, build 9200): non-terminating "There is not an event
//        provider on the localhost computer that matches "<name>".", ObjectNotFound, FQID
//        NoMatchingProvidersFound,Microsoft.PowerShell.Commands.GetWinEventCommand.
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
//        at most n: Id, Version (Byte), LogName, ProviderName, RecordId, TimeCreated (a local
//        DateTime), Properties (each with Value, typed as .NET gives it: UInt16, UInt32, String,
//        Boolean, byte[]) and ToXml() (the event's XML as EvtRender writes it: eventXml below;
//        a binary item as hexadecimal, or "<IP>:<port>" where a test says win:SocketAddress
//        renders so, which is unsettled); Message is not modelled. Nothing matches: non-terminating "No events were found that
//        match the specified selection criteria.", ObjectNotFound, FQID NoMatchingEventsFound,
//        Microsoft.PowerShell.Commands.GetWinEventCommand. A LogName the host lacks:
//        NoMatchingLogsFound as above, and then no query at all.
//
// Utility
//   Get-Date                                        -> the host's clock, a local DateTime (the
//                                        interpreter's, from SessionFacts.now).
//
// Run as a file (smb-signing.ps1 under powershell.exe -File; windowsHost.ts) [model
// "Application control"; Learn about_Language_Modes, about_Automatic_Variables,
// Get-AuthenticodeSignature, System.Management.Automation.SignatureStatus]
//   $PSCommandPath                      the -File path (the interpreter's, from RunRequest.file).
//   Language mode                       HostState.languageMode where no application control
//                                        policy locks PowerShell down; under one
//                                        (languageMode "ConstrainedLanguage"), FullLanguage only
//                                        for a file signed by a certificate in
//                                        HostState.applicationControl.allowedSigners with a valid
//                                        signature (model.ts scriptFileLanguageMode).
//                                        $ExecutionContext.SessionState.LanguageMode then still
//                                        says the session's ConstrainedLanguage (unsettled: the
//                                        harsher case), so the script must not trust it.
//   Get-AuthenticodeSignature -FilePath P
//     -> a Signature: Status (SignatureStatus enum: Valid, NotSigned, HashMismatch here: the text
//        before the signature block changed since it was signed), StatusMessage, Path,
//        SignerCertificate (an X509Certificate2 with Subject and Thumbprint; $null unsigned).
//        The script asks only for its own path; a missing file is modelled as the
//        non-terminating ItemNotFoundException other path cmdlets write (its exact FQID is not
//        checked: the script reports any error's message as the status).
//
// Where the interface puts things (test/simhost/powershell/host.ts): Get-Command and Get-Date
// are the interpreter's; Get-Command finds a host command exactly when the host registers it, so
// a host without the SmbShare module simply has no Get-/Set-Smb* commands. Undeclared parameters
// are the interpreter's NamedParameterNotFound; parameters the real command has but the model
// does not are declared here and refused as SurfaceGap. The .NET members, [System.Net.IPAddress]::
// TryParse included, are the interpreter's (members.ts): the host adds no static member.
//
// Not Windows' and not here: the transport's faults (slowStartMs, dropConnection*,
// slowReplyMs, clixmlNoise, oemOutput, crash, the WinRM ones), counters.runs and
// counters.writes (windowsHost.ts counts a run that changed a setting from its reply), and the
// reviewed-script pins. counters.recordWrites counts each write of the record.
//
// Anything the scripts could ask that is not catalogued above (another key, value, class,
// filter, parameter or log) fails loudly with SurfaceGap, naming the command: a gap in this
// model, never an answer Windows might give.
// ---------------------------------------------------------------------------------------------
import * as crypto from "node:crypto";
import { AUDIT_LOGS, AuditEventData, AuditEventModel, EventDefinition, hostFile, HostState, providerEvents, scriptFileLanguageMode, SECURITY_OPTIONS, Side, signatureStatus, TEMPLATE_SETTINGS } from "./model";
import {
  CommandCall,
  CommandError,
  DotNetException,
  StaticMember,
  ErrorCategory,
  ErrorSpec,
  HostCommand,
  HostObject,
  PowerShellHost,
  PSArray,
  PSCustomObject,
  PSDateTime,
  PSEnum,
  PSHashtable,
  PSNumber,
  PSValue,
  hostObject,
  int32,
  int64,
  typeNameOf,
} from "./powershell/host";

/**
 * Something the scripts asked that this model of Windows does not answer: a gap in the model,
 * never an answer Windows might give. Thrown as a plain Error, so no try/catch in the script can
 * take it for a Windows error.
 */
export class SurfaceGap extends Error {
  constructor(command: string, what: string) {
    super(`windowsSurface: ${command}: ${what} is not modelled (test/simhost/windowsSurface.ts)`);
    this.name = "SurfaceGap";
  }
}

export interface SurfaceOptions {
  /** powershell.exe -File: the script file's path; the session's language mode is then the file's (scriptFileLanguageMode). */
  file?: string;
  /** The host's clock (Get-Date); default the real one. */
  now?: () => Date;
  /** The host's time zone as a fixed offset from UTC, in minutes (default 0: the model's hosts keep UTC). */
  utcOffsetMinutes?: number;
}

const SIDES: Side[] = ["client", "server"];

// ---------------------------------------------------------------------------------------------
// Errors, as the catalogue above gives them.

const PS_COMMANDS = "Microsoft.PowerShell.Commands.";
const COMMAND_CLASS: Record<string, string> = {
  "Get-ItemProperty": PS_COMMANDS + "GetItemPropertyCommand",
  "Set-ItemProperty": PS_COMMANDS + "SetItemPropertyCommand",
  "New-Item": PS_COMMANDS + "NewItemCommand",
  "Remove-Item": PS_COMMANDS + "RemoveItemCommand",
  "Test-Path": PS_COMMANDS + "TestPathCommand",
  "Get-AuthenticodeSignature": PS_COMMANDS + "GetAuthenticodeSignatureCommand",
  "Get-WinEvent": PS_COMMANDS + "GetWinEventCommand",
  "Get-CimInstance": "Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand",
};

function spec(command: string, errorId: string, message: string, category: ErrorCategory, exceptionType: string, targetObject: PSValue = null): ErrorSpec {
  // CDXML functions (the SmbShare module) name themselves after the comma; cmdlets their class.
  return { message, category, fullyQualifiedErrorId: `${errorId},${COMMAND_CLASS[command] ?? command}`, exceptionType, targetObject };
}

const pathNotFound = (command: string, path: string) =>
  spec(command, "PathNotFound", `Cannot find path '${path}' because it does not exist.`, "ObjectNotFound", "System.Management.Automation.ItemNotFoundException", path);

/** Opening an HKLM key for writing without an administrator's token (RegistryProvider.cs: SecurityException -> PermissionDenied). */
const registryDenied = (command: string, target: string) =>
  spec(command, "System.Security.SecurityException", "Requested registry access is not allowed.", "PermissionDenied", "System.Security.SecurityException", target);

// ---------------------------------------------------------------------------------------------
// Parameter values as the scripts pass them.

function text(command: string, parameter: string, value: PSValue): string {
  if (typeof value === "string") return value;
  if (value instanceof PSArray && value.items.length === 1 && typeof value.items[0] === "string") return value.items[0];
  throw new SurfaceGap(command, `-${parameter} of type ${typeNameOf(value)}`);
}

function switchOn(value: PSValue | undefined): boolean {
  return value === true;
}

function numberOf(command: string, parameter: string, value: PSValue): number {
  if (value instanceof PSNumber) return value.value;
  if (typeof value === "string" && /^\s*-?\d+\s*$/.test(value)) return Number(value);
  throw new SurfaceGap(command, `-${parameter} of type ${typeNameOf(value)}`);
}

/** Parameters the real command has that the model does not answer: declared so that using one is a SurfaceGap, not PowerShell's NamedParameterNotFound. */
function gapParameters(names: string[]): Record<string, { switch?: boolean }> {
  return Object.fromEntries(names.map((n) => [n, GAP_SWITCHES.has(n) ? { switch: true } : {}]));
}
/** The switch parameters among them (a switch takes no argument: declaring one otherwise would bind the next word). */
const GAP_SWITCHES = new Set(["UseTransaction", "PassThru", "Force", "IsValid", "KeyOnly", "Shallow", "AsJob", "AuditClientCertificateAccess", "AuditSmb1Access"]);

function refuseGaps(call: CommandCall, names: string[]): void {
  for (const name of names) if (call.parameters[name] !== undefined) throw new SurfaceGap(call.name, `-${name}`);
}

// ---------------------------------------------------------------------------------------------
// The registry, as HKLM:\ shows it, over the HostState.

type RegistryValue = { kind: "String" | "DWord"; data: string | number };

/** A registry path the scripts may name: the part under HKEY_LOCAL_MACHINE, as typed and lowercased. */
interface RegistryPath {
  /** The path as the caller typed it (PowerShell's errors quote it so). */
  typed: string;
  /** Under HKEY_LOCAL_MACHINE, backslashes single, no trailing one. */
  sub: string;
  key: string;
}

const HIVE_PREFIXES = ["hklm:\\", "hklm:", "registry::hkey_local_machine\\", "microsoft.powershell.core\\registry::hkey_local_machine\\"];

function registryPath(command: string, typed: string): RegistryPath {
  const lower = typed.toLowerCase();
  const prefix = HIVE_PREFIXES.find((p) => lower.startsWith(p));
  if (prefix === undefined) throw new SurfaceGap(command, `the path '${typed}' (only HKLM:\\ is)`);
  if (/[*?[\]]/.test(typed)) throw new SurfaceGap(command, `a wildcard path ('${typed}')`);
  const sub = typed
    .slice(prefix.length)
    .split(/[\\/]+/)
    .filter((part) => part !== "")
    .join("\\");
  return { typed, sub, key: sub.toLowerCase() };
}

const PARAMETERS_KEY: Record<Side, string> = {
  client: "system\\currentcontrolset\\services\\lanmanworkstation\\parameters",
  server: "system\\currentcontrolset\\services\\lanmanserver\\parameters",
};
const POLICIES_KEY: Record<Side, string> = {
  client: "software\\policies\\microsoft\\windows\\lanmanworkstation",
  server: "software\\policies\\microsoft\\windows\\lanmanserver",
};
const CURRENT_VERSION_KEY = "software\\microsoft\\windows nt\\currentversion";
/** "Turn off Resultant Set of Policy logging" writes RSoPLogging here (REG_DWORD 0 = off; GroupPolicy.admx). */
const RSOP_POLICY_KEY = "software\\policies\\microsoft\\windows\\system";
/** The preference-level RSoPLogging ("Developing an RSoP Management Tool"); a key every Windows has. */
const WINLOGON_KEY = "software\\microsoft\\windows nt\\currentversion\\winlogon";
/** Where the PolicyManager keeps MDM Security Options (Policy CSP LocalPoliciesSecurityOptions; third-party sources, docs/windows-model.md "MDM"). */
const MDM_KEY = "software\\microsoft\\policymanager\\current\\device\\localpoliciessecurityoptions";
/** The CSP node (and registry value) of each Security Option, by side and cmdlet property name. */
export const MDM_NODE: Record<Side, Record<string, string>> = {
  client: { RequireSecuritySignature: "MicrosoftNetworkClient_DigitallySignCommunicationsAlways", EnableSecuritySignature: "MicrosoftNetworkClient_DigitallySignCommunicationsIfServerAgrees" },
  server: { RequireSecuritySignature: "MicrosoftNetworkServer_DigitallySignCommunicationsAlways", EnableSecuritySignature: "MicrosoftNetworkServer_DigitallySignCommunicationsIfClientAgrees" },
};
/** The MDM provider's id as <node>_WinningProvider holds it (an enrollment GUID; this one is the model's). */
const MDM_PROVIDER = "{8A1D6B3C-0F2E-4C5B-9D7A-3E6F1B2C4D5E}";
const RECORD_KEY = "software\\pulumi-smb-signing";
const RECORD_VALUE = "OriginalSettings";
/** The registry value of each Administrative Template, by cmdlet property name (KB 4046019; the audit templates keep their names). */
const TEMPLATE_VALUE: Record<string, string> = {
  EnableInsecureGuestLogons: "AllowInsecureGuestAuth",
  AuditServerDoesNotSupportSigning: "AuditServerDoesNotSupportSigning",
  AuditClientDoesNotSupportSigning: "AuditClientDoesNotSupportSigning",
  AuditInsecureGuestLogon: "AuditInsecureGuestLogon",
};
/** Keys that exist on every Windows but whose values the model does not know. */
const STRUCTURAL_KEYS = new Set([
  "",
  "software",
  "software\\microsoft",
  "software\\microsoft\\windows nt",
  "software\\microsoft\\policymanager",
  "software\\microsoft\\policymanager\\current",
  "software\\microsoft\\policymanager\\current\\device",
  "software\\policies",
  "software\\policies\\microsoft",
  "software\\policies\\microsoft\\windows",
  "system",
  "system\\currentcontrolset",
  "system\\currentcontrolset\\services",
  "system\\currentcontrolset\\services\\lanmanworkstation",
  "system\\currentcontrolset\\services\\lanmanserver",
]);

/**
 * Which registry view a path is read in: "64" the real keys, "32" what a 32-bit process sees on
 * 64-bit Windows (WOW64). HKLM\SOFTWARE is redirected to HKLM\SOFTWARE\WOW6432Node in the 32-bit
 * view, except the keys Microsoft lists as shared (of those the model knows: SOFTWARE\Policies);
 * HKLM\SYSTEM is shared [MicrosoftDocs/win32 WinProg64/shared-registry-keys.md; model "WOW64"].
 */
export type RegistryView = "64" | "32";

/** Whether a key (lowercased, under HKLM) reads differently in the 32-bit view. */
function redirected(key: string): boolean {
  if (key !== "software" && !key.startsWith("software\\")) return false;
  return !(key === "software\\policies" || key.startsWith("software\\policies\\") || key === "software");
}

class Registry {
  /** The record's key made in this run before its value is written, by view (HostState keeps only the value). */
  private recordKeyWithoutValue: Record<RegistryView, boolean> = { "64": false, "32": false };

  constructor(private readonly state: HostState) {}

  /** The view the registry drive (Get-ItemProperty, ...) uses: the process's own. */
  get processView(): RegistryView {
    return this.state.process32 === true ? "32" : "64";
  }

  /** The view a key is actually read in: the 32-bit view only where it is redirected. */
  private viewOf(path: RegistryPath, view: RegistryView): RegistryView {
    return view === "32" && redirected(path.key) ? "32" : "64";
  }

  private record(view: RegistryView): string | undefined {
    return view === "32" ? this.state.record32 : this.state.record;
  }

  private setRecord(view: RegistryView, text: string | undefined): void {
    const field = view === "32" ? "record32" : "record";
    if (text === undefined) delete this.state[field];
    else this.state[field] = text;
  }

  private sideOf(map: Record<Side, string>, key: string): Side | undefined {
    return SIDES.find((side) => map[side] === key);
  }

  /** Whether the key exists in the view (default the process's); a SurfaceGap for a key the model does not know. */
  exists(command: string, path: RegistryPath, view: RegistryView = this.processView): boolean {
    if (STRUCTURAL_KEYS.has(path.key) || path.key === CURRENT_VERSION_KEY || this.sideOf(PARAMETERS_KEY, path.key)) return true;
    const policySide = this.sideOf(POLICIES_KEY, path.key);
    if (policySide) return Object.keys(this.state.groupPolicy.administrativeTemplates[policySide]).length > 0;
    const v = this.viewOf(path, view);
    if (path.key === RECORD_KEY) return this.record(v) !== undefined || this.recordKeyWithoutValue[v];
    // The System policy key exists where a policy writes a value there (the model knows RSoPLogging only; shared under WOW64).
    if (path.key === RSOP_POLICY_KEY) return !this.state.groupPolicy.rsopLogging;
    if (path.key === WINLOGON_KEY) return true;
    // The PolicyManager is redirected under WOW64, and nothing writes it in the 32-bit view.
    if (path.key === MDM_KEY) return v === "64" && this.state.mdm !== undefined;
    throw new SurfaceGap(command, `the registry key HKLM:\\${path.sub}`);
  }

  /** The values of an existing key in the view (default the process's), in the order regedit lists them. */
  values(command: string, path: RegistryPath, view: RegistryView = this.processView): Array<[string, RegistryValue]> {
    const state = this.state;
    const v = this.viewOf(path, view);
    if (path.key === CURRENT_VERSION_KEY) {
      const [buildNumber, ubr] = state.os.build.split(".");
      if (v === "32") {
        // WOW6432Node's CurrentVersion: whether it holds the same values is unsettled; the harsher
        // case: the release's name and build only, no UBR or DisplayVersion [model "WOW64"].
        return [
          ["CurrentBuildNumber", { kind: "String", data: buildNumber }],
          ["EditionID", { kind: "String", data: state.os.edition }],
          ["ProductName", { kind: "String", data: state.os.productName }],
        ];
      }
      const out: Array<[string, RegistryValue]> = [
        ["CurrentBuild", { kind: "String", data: buildNumber }],
        ["CurrentBuildNumber", { kind: "String", data: buildNumber }],
      ];
      // DisplayVersion came with Windows 10 20H2; older releases have no such value.
      if (state.os.displayVersion !== "") out.push(["DisplayVersion", { kind: "String", data: state.os.displayVersion }]);
      out.push(["EditionID", { kind: "String", data: state.os.edition }], ["ProductName", { kind: "String", data: state.os.productName }]);
      if (ubr !== undefined) out.push(["UBR", { kind: "DWord", data: Number(ubr) }]);
      return out;
    }
    const parametersSide = this.sideOf(PARAMETERS_KEY, path.key);
    if (parametersSide) {
      const direct = Object.entries(state.registryOnly?.[parametersSide] ?? {}).map(([name, data]): [string, RegistryValue] => [name, { kind: "DWord", data }]);
      return [...SECURITY_OPTIONS.filter((name) => state[parametersSide][name] !== undefined).map((name): [string, RegistryValue] => [name, { kind: "DWord", data: state[parametersSide][name] ? 1 : 0 }]), ...direct];
    }
    const policySide = this.sideOf(POLICIES_KEY, path.key);
    if (policySide) {
      const templates = state.groupPolicy.administrativeTemplates[policySide];
      return TEMPLATE_SETTINGS[policySide].filter((name) => templates[name] !== undefined).map((name) => [TEMPLATE_VALUE[name], { kind: "DWord", data: templates[name] ? 1 : 0 }]);
    }
    if (path.key === RECORD_KEY) {
      const record = this.record(v);
      return record === undefined ? [] : [[RECORD_VALUE, { kind: "String", data: record }]];
    }
    if (path.key === RSOP_POLICY_KEY) return state.groupPolicy.rsopLogging ? [] : [["RSoPLogging", { kind: "DWord", data: 0 }]];
    if (path.key === WINLOGON_KEY) {
      // Two of the values every Winlogon key has, and RSoPLogging where a test turned the preference
      // off (in the 64-bit view only: WOW6432Node's Winlogon without it is the harsher case).
      const out: Array<[string, RegistryValue]> = [
        ["Shell", { kind: "String", data: "explorer.exe" }],
        ["Userinit", { kind: "String", data: "C:\\Windows\\system32\\userinit.exe," }],
      ];
      if (v === "64" && state.groupPolicy.winlogonRsopLogging === false) out.push(["RSoPLogging", { kind: "DWord", data: 0 }]);
      return out;
    }
    if (path.key === MDM_KEY) {
      const mdm = state.mdm!;
      return SIDES.flatMap((side) =>
        Object.entries(mdm.securityOptions[side]).flatMap(([name, value]): Array<[string, RegistryValue]> => {
          const node = MDM_NODE[side][name];
          if (node === undefined || value === undefined) return [];
          const data = value ? 1 : 0;
          return [
            [node, mdm.dataType === "String" ? { kind: "String", data: String(data) } : { kind: "DWord", data }],
            [`${node}_ProviderSet`, { kind: "DWord", data: 1 }],
            [`${node}_WinningProvider`, { kind: "String", data: MDM_PROVIDER }],
          ];
        }),
      );
    }
    throw new SurfaceGap(command, `the values of HKLM:\\${path.sub}`);
  }

  setValue(command: string, path: RegistryPath, name: string, kind: RegistryValue["kind"], data: string | number, view: RegistryView = this.processView): void {
    const parametersSide = this.sideOf(PARAMETERS_KEY, path.key);
    if (parametersSide && kind === "DWord" && SECURITY_OPTIONS.some((n) => n.toLowerCase() === name.toLowerCase())) {
      const setting = SECURITY_OPTIONS.find((n) => n.toLowerCase() === name.toLowerCase())!;
      // A raw write: the running service keeps the values it started with [model "Raw registry writes", unsettled].
      const running = (this.state.running ??= {});
      running[parametersSide] ??= { ...this.state[parametersSide] };
      // The same value the cmdlets set; another configuration agent puts its values back at once (as after a Set-*).
      Object.assign(this.state[parametersSide], { [setting]: data !== 0 });
      putBack(this.state, parametersSide);
      return;
    }
    if (path.key === RECORD_KEY && name.toLowerCase() === RECORD_VALUE.toLowerCase() && kind === "String") {
      const v = this.viewOf(path, view);
      this.setRecord(v, String(data));
      this.recordKeyWithoutValue[v] = false;
      this.state.counters.recordWrites = (this.state.counters.recordWrites ?? 0) + 1;
      return;
    }
    throw new SurfaceGap(command, `writing ${kind} ${name} under HKLM:\\${path.sub}`);
  }

  /** New-Item -Force: a key that exists is removed (with its values) and made anew. */
  createKey(command: string, path: RegistryPath, view: RegistryView = this.processView): void {
    if (path.key !== RECORD_KEY) throw new SurfaceGap(command, `creating HKLM:\\${path.sub}`);
    const v = this.viewOf(path, view);
    this.setRecord(v, undefined);
    this.recordKeyWithoutValue[v] = true;
  }

  /** RegistryKey.CreateSubKey: a key that exists is opened as it is. */
  openOrCreateKey(command: string, path: RegistryPath, view: RegistryView): void {
    if (path.key !== RECORD_KEY) throw new SurfaceGap(command, `creating HKLM:\\${path.sub}`);
    const v = this.viewOf(path, view);
    if (this.record(v) === undefined) this.recordKeyWithoutValue[v] = true;
  }

  removeKey(command: string, path: RegistryPath, view: RegistryView = this.processView): void {
    if (path.key !== RECORD_KEY) throw new SurfaceGap(command, `removing HKLM:\\${path.sub}`);
    const v = this.viewOf(path, view);
    this.setRecord(v, undefined);
    this.recordKeyWithoutValue[v] = false;
  }
}

const REGISTRY_ROOT = "Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE";

function providerPath(sub: string): string {
  return sub === "" ? "HKEY_LOCAL_MACHINE" : `HKEY_LOCAL_MACHINE\\${sub}`;
}

/** What every item and property object of the registry provider carries. */
function providerProperties(path: RegistryPath): Record<string, PSValue> {
  const parts = path.sub.split("\\");
  const child = parts.pop() ?? "";
  return {
    PSPath: `${REGISTRY_ROOT}\\${path.sub}`,
    PSParentPath: parts.length === 0 ? REGISTRY_ROOT : `${REGISTRY_ROOT}\\${parts.join("\\")}`,
    PSChildName: child,
    PSDrive: hostObject(["System.Management.Automation.PSDriveInfo", "System.Object"], { Name: "HKLM", Root: "HKEY_LOCAL_MACHINE" }, undefined, "HKLM"),
    PSProvider: hostObject(["System.Management.Automation.ProviderInfo", "System.Object"], { Name: "Registry" }, undefined, "Microsoft.PowerShell.Core\\Registry"),
  };
}

const registryData = (value: RegistryValue): PSValue => (value.kind === "DWord" ? int32(value.data as number) : String(value.data));

function registryCommands(state: HostState, registry: Registry): Record<string, HostCommand> {
  const admin = () => state.faults.nonAdmin !== true;
  const commonGaps = ["LiteralPath", "Filter", "Include", "Exclude", "Credential", "UseTransaction"];
  return {
    "Get-ItemProperty": {
      parameters: { Path: { position: 0 }, Name: { position: 1 }, ...gapParameters(commonGaps) },
      run(call) {
        refuseGaps(call, commonGaps);
        const path = registryPath(call.name, text(call.name, "Path", call.parameters.Path));
        if (!registry.exists(call.name, path)) return call.writeError(pathNotFound(call.name, path.typed));
        const values = registry.values(call.name, path);
        let chosen = values;
        if (call.parameters.Name !== undefined) {
          const name = text(call.name, "Name", call.parameters.Name);
          if (/[*?[\]]/.test(name)) throw new SurfaceGap(call.name, `a wildcard -Name ('${name}')`);
          chosen = values.filter(([n]) => n.toLowerCase() === name.toLowerCase());
          if (chosen.length === 0) {
            return call.writeError(
              spec(call.name, "System.Management.Automation.PSArgumentException", `Property ${name} does not exist at path ${providerPath(path.sub)}.`, "InvalidArgument", "System.Management.Automation.PSArgumentException", name),
            );
          }
        }
        // A key without values writes no object at all.
        if (chosen.length === 0) return [];
        return new PSCustomObject([...chosen.map(([n, v]): [string, PSValue] => [n, registryData(v)]), ...Object.entries(providerProperties(path))]);
      },
    },
    "Set-ItemProperty": {
      parameters: { Path: { position: 0 }, Name: { position: 1 }, Value: { position: 2 }, Type: {}, ...gapParameters([...commonGaps, "InputObject", "PassThru", "Force"]) },
      supportsShouldProcess: true,
      run(call) {
        refuseGaps(call, [...commonGaps, "InputObject", "PassThru", "Force"]);
        if (switchOn(call.parameters.WhatIf) || switchOn(call.parameters.Confirm)) throw new SurfaceGap(call.name, "-WhatIf / -Confirm");
        const path = registryPath(call.name, text(call.name, "Path", call.parameters.Path));
        if (call.parameters.Name === undefined) throw new SurfaceGap(call.name, "a call without -Name");
        const name = text(call.name, "Name", call.parameters.Name);
        const raw = call.parameters.Value ?? null;
        const typeName = call.parameters.Type === undefined ? undefined : call.parameters.Type instanceof PSEnum ? call.parameters.Type.name : text(call.name, "Type", call.parameters.Type);
        let kind: RegistryValue["kind"];
        if (typeName === undefined) kind = raw instanceof PSNumber ? "DWord" : "String";
        else if (/^dword$/i.test(typeName)) kind = "DWord";
        else if (/^string$/i.test(typeName)) kind = "String";
        else throw new SurfaceGap(call.name, `-Type ${typeName}`);
        let data: string | number;
        if (kind === "DWord") {
          const n = typeof raw === "boolean" ? (raw ? 1 : 0) : numberOf(call.name, "Value", raw);
          if (!Number.isInteger(n) || n < -2147483648 || n > 4294967295) throw new SurfaceGap(call.name, `the DWord value ${n}`);
          data = n > 2147483647 ? n - 4294967296 : n;
        } else {
          if (typeof raw !== "string") throw new SurfaceGap(call.name, `a String value of type ${typeNameOf(raw)}`);
          data = raw;
        }
        // The path resolves before the provider opens the key for writing.
        if (!registry.exists(call.name, path)) return call.writeError(pathNotFound(call.name, path.typed));
        if (!admin()) return call.writeError(registryDenied(call.name, name));
        registry.setValue(call.name, path, name, kind, data);
      },
    },
    "New-Item": {
      parameters: { Path: { position: 0 }, Force: { switch: true }, ...gapParameters(["Name", "ItemType", "Value", "Credential", "UseTransaction"]) },
      supportsShouldProcess: true,
      run(call) {
        refuseGaps(call, ["Name", "ItemType", "Value", "Credential", "UseTransaction"]);
        if (switchOn(call.parameters.WhatIf) || switchOn(call.parameters.Confirm)) throw new SurfaceGap(call.name, "-WhatIf / -Confirm");
        const path = registryPath(call.name, text(call.name, "Path", call.parameters.Path));
        const exists = registry.exists(call.name, path);
        if (exists && !switchOn(call.parameters.Force)) {
          return call.writeError(spec(call.name, "System.IO.IOException", "A key in this path already exists.", "ResourceExists", "System.IO.IOException", providerPath(path.sub)));
        }
        // The parent is opened for writing (to delete the old key or to create the new one).
        if (!admin()) return call.writeError(registryDenied(call.name, path.typed));
        registry.createKey(call.name, path);
        return hostObject(
          ["Microsoft.Win32.RegistryKey", "System.MarshalByRefObject", "System.Object"],
          { Property: new PSArray([]), SubKeyCount: int32(0), ValueCount: int32(0), Name: providerPath(path.sub), ...providerProperties(path) },
          undefined,
          providerPath(path.sub),
        );
      },
    },
    "Remove-Item": {
      parameters: { Path: { position: 0 }, Recurse: { switch: true }, Force: { switch: true }, ...gapParameters([...commonGaps, "Stream"]) },
      supportsShouldProcess: true,
      run(call) {
        refuseGaps(call, [...commonGaps, "Stream"]);
        if (switchOn(call.parameters.WhatIf) || switchOn(call.parameters.Confirm)) throw new SurfaceGap(call.name, "-WhatIf / -Confirm");
        const path = registryPath(call.name, text(call.name, "Path", call.parameters.Path));
        if (!registry.exists(call.name, path)) return call.writeError(pathNotFound(call.name, path.typed));
        if (!admin()) return call.writeError(registryDenied(call.name, path.typed));
        registry.removeKey(call.name, path);
      },
    },
    "Test-Path": {
      parameters: { Path: { position: 0 }, ...gapParameters([...commonGaps, "PathType", "IsValid", "OlderThan", "NewerThan"]) },
      run(call) {
        refuseGaps(call, [...commonGaps, "PathType", "IsValid", "OlderThan", "NewerThan"]);
        return registry.exists(call.name, registryPath(call.name, text(call.name, "Path", call.parameters.Path)));
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The registry through .NET (Microsoft.Win32.RegistryKey), and [Environment]'s bitness.

const REGISTRY_VIEW = { Default: 0, Registry64: 256, Registry32: 512 } as const;
const REGISTRY_VALUE_KIND: Record<string, number> = { String: 1, DWord: 4 };
const enumMembers = (typeName: string, members: Record<string, number>): Record<string, StaticMember> =>
  Object.fromEntries(Object.entries(members).map(([name, value]) => [name, { value: new PSEnum(typeName, name, value) }]));

/** A subkey name as RegistryKey takes it: backslashes, no leading or trailing one. */
function subKeyPath(method: string, parent: string, name: PSValue): RegistryPath {
  if (typeof name !== "string" || name === "") throw new SurfaceGap(`RegistryKey.${method}`, `a subkey name of type ${typeNameOf(name)} or empty`);
  const sub = [parent, ...name.split("\\").filter((p) => p !== "")].filter((p) => p !== "").join("\\");
  return { typed: `HKEY_LOCAL_MACHINE\\${sub}`, sub, key: sub.toLowerCase() };
}

/**
 * A Microsoft.Win32.RegistryKey under HKEY_LOCAL_MACHINE in one view [Learn RegistryKey,
 * RegistryView; .NET Framework RegistryKey.cs]: OpenSubKey(name[, writable]) ($null for a missing
 * key; writable without an administrator's token: SecurityException "Requested registry access is
 * not allowed."), CreateSubKey(name) (creates or opens for writing; not an administrator:
 * UnauthorizedAccessException "Access to the registry key '<name>' is denied."), GetValue(name)
 * ($null when absent; REG_DWORD as Int32, REG_SZ as String), SetValue(name, value, kind) (a key
 * opened read-only: UnauthorizedAccessException "Cannot write to the registry key."),
 * DeleteSubKeyTree(name, throwOnMissingSubKey) (a key it cannot open for writing, an
 * administrator's lack included, counts as missing: with $false nothing happens, with $true
 * ArgumentException), Close()/Dispose() (after which any call is ObjectDisposedException "Cannot
 * access a closed registry key."), Name. Keys and values: the Registry above.
 */
function registryKeyObject(state: HostState, registry: Registry, view: RegistryView, sub: string, writable: boolean): HostObject {
  let closed = false;
  const admin = () => state.faults.nonAdmin !== true;
  const name = sub === "" ? "HKEY_LOCAL_MACHINE" : `HKEY_LOCAL_MACHINE\\${sub}`;
  const open = () => {
    if (closed) throw new DotNetException("System.ObjectDisposedException", "Cannot access a closed registry key.");
  };
  const self = hostObject(
    ["Microsoft.Win32.RegistryKey", "System.MarshalByRefObject", "System.Object"],
    { Name: name },
    {
      OpenSubKey(...args: PSValue[]) {
        open();
        if (args.length < 1 || args.length > 2) throw new SurfaceGap("RegistryKey.OpenSubKey", `${args.length} arguments`);
        const path = subKeyPath("OpenSubKey", sub, args[0]);
        const write = args.length === 2 && args[1] === true;
        if (!registry.exists("RegistryKey.OpenSubKey", path, view)) return null;
        if (write && !admin()) throw new DotNetException("System.Security.SecurityException", "Requested registry access is not allowed.");
        return registryKeyObject(state, registry, view, path.sub, write);
      },
      CreateSubKey(...args: PSValue[]) {
        open();
        if (args.length !== 1) throw new SurfaceGap("RegistryKey.CreateSubKey", `${args.length} arguments`);
        const path = subKeyPath("CreateSubKey", sub, args[0]);
        if (!admin()) throw new DotNetException("System.UnauthorizedAccessException", `Access to the registry key '${path.typed}' is denied.`);
        registry.openOrCreateKey("RegistryKey.CreateSubKey", path, view);
        return registryKeyObject(state, registry, view, path.sub, true);
      },
      GetValue(...args: PSValue[]) {
        open();
        if (args.length !== 1 || typeof args[0] !== "string") throw new SurfaceGap("RegistryKey.GetValue", "a call other than GetValue(<name>)");
        const wanted = args[0].toLowerCase();
        const own: RegistryPath = { typed: name, sub, key: sub.toLowerCase() };
        const found = registry.values("RegistryKey.GetValue", own, view).find(([n]) => n.toLowerCase() === wanted);
        return found ? registryData(found[1]) : null;
      },
      SetValue(...args: PSValue[]) {
        open();
        if (args.length !== 3 || typeof args[0] !== "string" || !(args[2] instanceof PSEnum) || !(args[2].name in REGISTRY_VALUE_KIND)) {
          throw new SurfaceGap("RegistryKey.SetValue", "a call other than SetValue(<name>, <value>, [RegistryValueKind]::String or ::DWord)");
        }
        if (!writable) throw new DotNetException("System.UnauthorizedAccessException", "Cannot write to the registry key.");
        const kind = args[2].name === "String" ? "String" : "DWord";
        const data = kind === "String" ? toText(args[1]) : numberOf("RegistryKey.SetValue", "value", args[1]);
        registry.setValue("RegistryKey.SetValue", { typed: name, sub, key: sub.toLowerCase() }, args[0], kind, data, view);
        return undefined;
      },
      DeleteSubKeyTree(...args: PSValue[]) {
        open();
        if (args.length !== 2 || typeof args[1] !== "boolean") throw new SurfaceGap("RegistryKey.DeleteSubKeyTree", "a call other than DeleteSubKeyTree(<name>, <bool>)");
        const path = subKeyPath("DeleteSubKeyTree", sub, args[0]);
        // InternalOpenSubKey(name, true) gives null when the key is missing or cannot be opened for writing.
        if (!registry.exists("RegistryKey.DeleteSubKeyTree", path, view) || !admin()) {
          if (args[1]) throw new DotNetException("System.ArgumentException", "Cannot delete a subkey tree because the subkey does not exist.");
          return undefined;
        }
        registry.removeKey("RegistryKey.DeleteSubKeyTree", path, view);
        return undefined;
      },
      // void methods: undefined.
      Close() {
        closed = true;
        return undefined;
      },
      Dispose() {
        closed = true;
        return undefined;
      },
    },
    name,
  );
  return self;
}

/** A String value as SetValue stores it (the scripts give strings only). */
function toText(value: PSValue): string {
  if (typeof value !== "string") throw new SurfaceGap("RegistryKey.SetValue", `a String value of type ${typeNameOf(value)}`);
  return value;
}

/**
 * The static members of [Microsoft.Win32.RegistryKey] (OpenBaseKey(LocalMachine, view): the 64-bit
 * view on 64-bit Windows, which every modelled host is; Default: the process's), the enums it takes,
 * and [Environment]::Is64BitProcess / Is64BitOperatingSystem (HostState.process32) [Learn
 * RegistryKey.OpenBaseKey, RegistryView, Environment.Is64BitProcess].
 */
function dotnetMembers(state: HostState, registry: Registry): Record<string, Record<string, StaticMember>> {
  return {
    "System.Environment": { Is64BitProcess: { value: state.process32 !== true }, Is64BitOperatingSystem: { value: true } },
    "Microsoft.Win32.RegistryHive": enumMembers("Microsoft.Win32.RegistryHive", { LocalMachine: -2147483646 }),
    "Microsoft.Win32.RegistryView": enumMembers("Microsoft.Win32.RegistryView", REGISTRY_VIEW),
    "Microsoft.Win32.RegistryValueKind": enumMembers("Microsoft.Win32.RegistryValueKind", REGISTRY_VALUE_KIND),
    "Microsoft.Win32.RegistryKey": {
      OpenBaseKey: {
        method(...args: PSValue[]) {
          const [hive, view] = args;
          if (args.length !== 2 || !(hive instanceof PSEnum) || hive.name !== "LocalMachine" || !(view instanceof PSEnum) || !(view.name in REGISTRY_VIEW)) {
            throw new SurfaceGap("RegistryKey.OpenBaseKey", "a call other than OpenBaseKey([RegistryHive]::LocalMachine, [RegistryView]::<view>)");
          }
          const chosen: RegistryView = view.name === "Registry32" ? "32" : view.name === "Registry64" ? "64" : registry.processView;
          return registryKeyObject(state, registry, chosen, "", true);
        },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CIM: Win32_ComputerSystem and the RSoP classes of root\rsop\computer.

function cimInstance(namespace: string, className: string, properties: Record<string, PSValue>): HostObject {
  const ns = namespace.replace(/\\/g, "/");
  return hostObject(
    [`Microsoft.Management.Infrastructure.CimInstance#${ns}/${className}`, `Microsoft.Management.Infrastructure.CimInstance#${className}`, "Microsoft.Management.Infrastructure.CimInstance", "System.Object"],
    { ...properties, PSComputerName: null },
    undefined,
    className,
  );
}

const uint32 = (n: number) => new PSNumber("UInt32", n);

/** The GPO's id as RSoP gives it (RSOP_GPO.id, RSOP_PolicySetting.GPOID): "LocalGPO" for local policy, else its LDAP path in the simulated domain. */
function gpoId(name: string): string {
  if (name === "Local Group Policy") return "LocalGPO";
  // The well-known GUIDs of the two default GPOs; any other gets one derived from its name.
  const known: Record<string, string> = {
    "Default Domain Controllers Policy": "6AC1786C-016F-11D2-945F-00C04FB984F9",
    "Default Domain Policy": "31B2F340-016D-11D2-945F-00C04FB984F9",
  };
  const h = crypto.createHash("sha256").update(name).digest("hex").toUpperCase();
  const guid = known[name] ?? `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  return `cn={${guid}},cn=policies,cn=system,DC=corp,DC=example`;
}

/** The RSoP instances of one class: nothing while RSoP logging is off (model "Group Policy"). */
function rsopInstances(state: HostState, className: string): Array<Record<string, PSValue>> {
  const gp = state.groupPolicy;
  if (!gp.rsopLogging || gp.rsopQuery === "empty") return [];
  const id = gpoId(gp.gpo);
  const key = className.toLowerCase();
  if (key === "rsop_gpo") {
    const gpos = [{ id: "LocalGPO", name: "Local Group Policy" }];
    const defines = SIDES.some((side) => Object.keys(gp.securityOptions[side]).length + Object.keys(gp.administrativeTemplates[side]).length > 0);
    if (defines && id !== "LocalGPO") gpos.push({ id, name: gp.gpo });
    return gpos.map((g) => ({ id: g.id, guidName: /\{[^}]+\}/.exec(g.id)?.[0] ?? g.id, name: g.name, enabled: true, accessDenied: false }));
  }
  if (key === "rsop_registryvalue") {
    return SIDES.flatMap((side) =>
      SECURITY_OPTIONS.filter((name) => gp.securityOptions[side][name] !== undefined).map((name) => ({
        id: `{${side}-${name}}`,
        precedence: uint32(1),
        GPOID: id,
        Path: `MACHINE\\System\\CurrentControlSet\\Services\\${side === "client" ? "LanmanWorkstation" : "LanmanServer"}\\Parameters\\${name}`,
        Type: uint32(4),
        // The security template's "type,value" form (model "Group Policy": "1" or "4,1"; the harder one).
        Data: `4,${gp.securityOptions[side][name] ? 1 : 0}`,
      })),
    );
  }
  if (key === "rsop_registrypolicysetting") {
    return SIDES.flatMap((side) =>
      TEMPLATE_SETTINGS[side]
        .filter((name) => gp.administrativeTemplates[side][name] !== undefined)
        .map((name) => ({
          id: `{${side}-${name}}`,
          precedence: uint32(1),
          GPOID: id,
          name: TEMPLATE_VALUE[name],
          registryKey: `Software\\Policies\\Microsoft\\Windows\\${side === "client" ? "LanmanWorkstation" : "LanmanServer"}`,
          valueName: TEMPLATE_VALUE[name],
          valueType: uint32(4),
          value: new PSArray([gp.administrativeTemplates[side][name] ? 1 : 0, 0, 0, 0].map((b) => new PSNumber("Byte", b))),
          deleted: false,
          command: "",
        })),
    );
  }
  throw new SurfaceGap("Get-CimInstance", `the class root\\rsop\\computer:${className}`);
}

/** A WQL -Filter of the forms the script writes: '<prop> IS [NOT] NULL' and '<prop> = <number | 'text'>'. */
function wqlFilter(filter: string): (instance: Record<string, PSValue>) => boolean {
  const lookup = (instance: Record<string, PSValue>, prop: string) => Object.entries(instance).find(([n]) => n.toLowerCase() === prop.toLowerCase())?.[1];
  let m = /^\s*(\w+)\s+IS\s+(NOT\s+)?NULL\s*$/i.exec(filter);
  if (m) {
    const [, prop, not] = m;
    return (i) => (lookup(i, prop) === null || lookup(i, prop) === undefined) !== Boolean(not);
  }
  m = /^\s*(\w+)\s*=\s*(?:(\d+)|'([^']*)')\s*$/.exec(filter);
  if (m) {
    const [, prop, num, str] = m;
    return (i) => {
      const v = lookup(i, prop);
      if (num !== undefined) return v instanceof PSNumber && v.value === Number(num);
      return typeof v === "string" && v.toLowerCase() === str.toLowerCase();
    };
  }
  throw new SurfaceGap("Get-CimInstance", `the WQL filter '${filter}'`);
}

function cimCommands(state: HostState): Record<string, HostCommand> {
  const gaps = ["Query", "QueryDialect", "ComputerName", "CimSession", "InputObject", "KeyOnly", "OperationTimeoutSec", "ResourceUri", "Shallow", "Property"];
  return {
    "Get-CimInstance": {
      parameters: { ClassName: { position: 0 }, Namespace: {}, Filter: {}, ...gapParameters(gaps) },
      run(call) {
        refuseGaps(call, gaps);
        if (call.parameters.ClassName === undefined) throw new SurfaceGap(call.name, "a call without -ClassName");
        const className = text(call.name, "ClassName", call.parameters.ClassName);
        const namespace = call.parameters.Namespace === undefined ? "root\\cimv2" : text(call.name, "Namespace", call.parameters.Namespace).replace(/\//g, "\\");
        const filter = call.parameters.Filter === undefined ? () => true : wqlFilter(text(call.name, "Filter", call.parameters.Filter));
        const ns = namespace.toLowerCase();
        if (ns !== "root\\cimv2" && ns !== "root\\rsop\\computer") throw new SurfaceGap(call.name, `the namespace ${namespace}`);
        if (ns === "root\\cimv2" && className.toLowerCase() !== "win32_computersystem") throw new SurfaceGap(call.name, `the class ${namespace}:${className}`);
        // A damaged WMI repository fails every query (the exact text of such a failure is unsettled).
        if (state.faults.brokenWmi) {
          return call.writeError(
            spec(call.name, "HRESULT 0x80041010", `Invalid class "${className}"`, "MetadataError", "Microsoft.Management.Infrastructure.CimException", `${namespace}:${className}`),
          );
        }
        // RSoP that cannot be read: access to root\rsop\computer denied, or the namespace missing
        // (CimWriteError.cs: AccessDenied -> PermissionDenied, InvalidNamespace -> MetadataError).
        if (ns === "root\\rsop\\computer" && state.groupPolicy.rsopQuery === "accessDenied") {
          return call.writeError(spec(call.name, "HRESULT 0x80041003", "Access denied", "PermissionDenied", "Microsoft.Management.Infrastructure.CimException", `${namespace}:${className}`));
        }
        if (ns === "root\\rsop\\computer" && state.groupPolicy.rsopQuery === "namespaceMissing") {
          return call.writeError(spec(call.name, "HRESULT 0x8004100e", "Invalid namespace", "MetadataError", "Microsoft.Management.Infrastructure.CimException", `${namespace}:${className}`));
        }
        if (ns === "root\\cimv2") {
          const instance = { DomainRole: new PSNumber("UInt16", state.os.domainRole) };
          return filter(instance) ? cimInstance("root/cimv2", "Win32_ComputerSystem", instance) : [];
        }
        const canonical = ({ rsop_gpo: "RSOP_GPO", rsop_registryvalue: "RSOP_RegistryValue", rsop_registrypolicysetting: "RSOP_RegistryPolicySetting" } as Record<string, string>)[className.toLowerCase()];
        if (canonical === undefined) throw new SurfaceGap(call.name, `the class ${namespace}:${className}`);
        return rsopInstances(state, canonical)
          .filter(filter)
          .map((i) => cimInstance("root/rsop/computer", canonical, i));
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The SmbShare module: Get-/Set-SmbClientConfiguration and Get-/Set-SmbServerConfiguration.

/** The parameters Windows Server 2025's Set-Smb*Configuration has (windows-powershell-docs, winserver2025-ps) beyond the managed settings: declared, and refused as gaps. */
const SET_SMB_OTHER_PARAMETERS: Record<Side, string[]> = {
  client: (
    "AuditServerDoesNotSupportEncryption BlockNTLM CompressibilitySamplingSize CompressibleThreshold ConnectionCountPerRssNetworkInterface " +
    "DirectoryCacheEntriesMax DirectoryCacheEntrySizeMax DirectoryCacheLifetime DisableCompression DormantFileLimit EnableBandwidthThrottling " +
    "EnableByteRangeLockingOnReadOnlyFiles EnableCompressibilitySampling EnableLargeMtu EnableLoadBalanceScaleOut EnableMailslots EnableMultiChannel " +
    "EnableSMBQUIC EncryptionCiphers ExtendedSessionTimeout FileInfoCacheEntriesMax FileInfoCacheLifetime FileNotFoundCacheEntriesMax " +
    "FileNotFoundCacheLifetime ForceSMBEncryptionOverQuic InvalidAuthenticationCacheLifetime KeepConn MaxCmds MaximumConnectionCountPerServer " +
    "OplocksDisabled RequestCompression RequireEncryption SessionTimeout SkipCertificateCheck Smb2DialectMax Smb2DialectMin UseOpportunisticLocking " +
    "WindowSizeThreshold CimSession ThrottleLimit AsJob"
  ).split(" "),
  server: (
    "AnnounceComment AnnounceServer AsynchronousCredits AuditClientCertificateAccess AuditClientDoesNotSupportEncryption AuditSmb1Access " +
    "AutoDisconnectTimeoutInMinutesV1 AutoDisconnectTimeoutInSecondsV2 AutoShareServer AutoShareWorkstation CachedOpenLimit EnableDirectoryHandleLeasing " +
    "DisableCompression DisableSmbEncryptionOnSecureConnection DurableHandleV2TimeoutInSeconds EnableAuthenticateUserSharing EnableDownlevelTimewarp " +
    "EnableForcedLogoff EnableLeasing EnableMailslots EnableMultiChannel EnableOplocks EnableSMB1Protocol EnableSMB2Protocol EnableSMBQUIC " +
    "EnableStrictNameChecking EncryptData EncryptionCiphers InvalidAuthenticationDelayTimeInMs IrpStackSize KeepAliveTime MaxChannelPerSession " +
    "MaxMpxCount MaxSessionPerConnection MaxThreadsPerQueue MaxWorkItems NullSessionPipes NullSessionShares OplockBreakWait " +
    "PendingClientTimeoutInSeconds RejectUnencryptedAccess RequestCompression RestrictNamedpipeAccessViaQuic ServerHidden Smb2CreditsMax " +
    "Smb2CreditsMin Smb2DialectMax Smb2DialectMin SmbServerNameHardeningLevel TreatHostAsStableStorage ValidateAliasNotCircular ValidateShareScope " +
    "ValidateShareScopeNotAliased ValidateTargetName CimSession ThrottleLimit AsJob"
  ).split(" "),
};

function smbCommands(state: HostState): Record<string, HostCommand> {
  const commands: Record<string, HostCommand> = {};
  for (const side of SIDES) {
    const noun = side === "client" ? "SmbClientConfiguration" : "SmbServerConfiguration";
    const getGaps = ["CimSession", "ThrottleLimit", "AsJob"];
    const service = side === "client" ? "LanmanWorkstation" : "LanmanServer";
    /** The service is stopped or disabled: the CDXML call fails (the harsher case of a behaviour that varies). */
    const serviceStopped = (call: CommandCall) =>
      state.faults.stoppedServices?.includes(service) === true &&
      (call.writeError(spec(call.name, "Windows System Error 1062", "The service has not been started.", "NotSpecified", "Microsoft.Management.Infrastructure.CimException", `MSFT_${noun}`)), true);
    commands[`Get-${noun}`] = {
      parameters: gapParameters(getGaps),
      run(call) {
        refuseGaps(call, getGaps);
        if (serviceStopped(call)) return;
        // The ...\Parameters values as the cmdlets report them; only the managed properties are modelled.
        return cimInstance("ROOT/Microsoft/Windows/SMB", `MSFT_${noun}`, { ...state[side] });
      },
    };
    // The settings this release has are its parameters; one it lacks is PowerShell's NamedParameterNotFound, as on that release.
    const settings = Object.keys(state[side]);
    const gaps = SET_SMB_OTHER_PARAMETERS[side].filter((name) => !settings.includes(name));
    commands[`Set-${noun}`] = {
      parameters: { ...Object.fromEntries(settings.map((name) => [name, {}])), Force: { switch: true }, ...gapParameters(gaps) },
      supportsShouldProcess: true,
      run(call) {
        refuseGaps(call, gaps);
        if (switchOn(call.parameters.WhatIf)) throw new SurfaceGap(call.name, "-WhatIf");
        if (!switchOn(call.parameters.Force) || call.parameters.Confirm === true) throw new SurfaceGap(call.name, "a call that may prompt for confirmation (without -Force, or with -Confirm)");
        const values: Record<string, boolean> = {};
        for (const name of settings) {
          const v = call.parameters[name];
          if (v === undefined) continue;
          if (typeof v === "boolean") values[name] = v;
          else if (v instanceof PSNumber) values[name] = v.value !== 0;
          else {
            throw new CommandError({
              message: `Cannot process argument transformation on parameter '${name}'. Cannot convert value "${typeNameOf(v)}" to type "System.Boolean". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.`,
              category: "InvalidData",
              fullyQualifiedErrorId: `ParameterArgumentTransformationError,${call.name}`,
              exceptionType: "System.Management.Automation.ParameterBindingArgumentTransformationException",
            });
          }
        }
        if (state.faults.nonAdmin) {
          return call.writeError(spec(call.name, "Windows System Error 5", "Access denied", "PermissionDenied", "Microsoft.Management.Infrastructure.CimException", `MSFT_${noun}`));
        }
        if (serviceStopped(call)) return;
        if (state.faults.failingCmdlet === call.name) {
          return call.writeError(spec(call.name, "Windows System Error 1062", "The service has not been started.", "NotSpecified", "Microsoft.Management.Infrastructure.CimException", `MSFT_${noun}`));
        }
        // The local write sticks until Group Policy is applied again; another agent puts its values back at once.
        Object.assign(state[side], values);
        putBack(state, side);
      },
    };
  }
  return commands;
}

// ---------------------------------------------------------------------------------------------
// Get-WinEvent over the SMB audit logs.

const LOG_SIDE: Record<string, Side> = Object.fromEntries(SIDES.map((side) => [AUDIT_LOGS[side].log.toLowerCase(), side]));
const PROVIDER_SIDE: Record<string, Side> = Object.fromEntries(SIDES.map((side) => [AUDIT_LOGS[side].provider.toLowerCase(), side]));

/** The manifest's output type of each input type (the first, default one: MicrosoftDocs/win32 eventmanifestschema-inputtype-complextype.md). */
const OUT_TYPE: Record<EventDefinition["fields"][number][1], string> = {
  UInt16: "xs:unsignedShort",
  UInt32: "xs:unsignedInt",
  HexInt32: "win:HexInt32",
  UnicodeString: "xs:string",
  AnsiString: "xs:string",
  Boolean: "xs:boolean",
  Binary: "xs:hexBinary",
};

/** EventMetadata.Template as Windows writes it (PowerShell-Docs New-WinEvent, Example 2: `<template xmlns=...>` with one `<data name inType outType/>` per item). */
function templateXml(definition: EventDefinition): string {
  const items = definition.fields.map(([name, type]) => `  <data name="${name}" inType="win:${type}" outType="${OUT_TYPE[type]}"/>\r\n`).join("");
  return `<template xmlns="http://schemas.microsoft.com/win/2004/08/events">\r\n${items}</template>`;
}

/** XML 1.0's Char production: what an event's text may hold. */
const XML_CHAR = /^[\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

function xmlText(text: string, quote: boolean): string {
  // What EvtRender does with a character XML cannot hold is not known: the model refuses to render one.
  if (!XML_CHAR.test(text)) throw new SurfaceGap("Get-WinEvent", "rendering a character XML 1.0 cannot hold as event XML");
  const escaped = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return quote ? escaped.replace(/'/g, "&apos;") : escaped;
}

/**
 * A SOCKADDR's text as win:SocketAddress gives it: "<IPv4>:<port>", "[<IPv6>%<scope>]:<port>"
 * (family little-endian, port and address in network order; ws2def.h, ws2ipdef.h). The IPv6
 * address is written as RFC 5952 shortens it and the scope id only when it is not 0, as
 * WSAAddressToString writes an address (its exact shortening rules are unsettled).
 */
export function socketAddressText(bytes: number[]): string {
  const family = bytes[0] | (bytes[1] << 8);
  const port = (bytes[2] << 8) | bytes[3];
  if (family === 2 && bytes.length >= 8) return `${bytes.slice(4, 8).join(".")}:${port}`;
  if (family === 23 && bytes.length >= 24) {
    const groups = Array.from({ length: 8 }, (_, i) => ((bytes[8 + 2 * i] << 8) | bytes[9 + 2 * i]).toString(16));
    // RFC 5952 4.2: the longest run of two or more zero groups (the first of equal ones) becomes "::".
    let best = { at: -1, length: 1 };
    for (let i = 0; i < 8; ) {
      let j = i;
      while (j < 8 && groups[j] === "0") j++;
      if (j - i > best.length) best = { at: i, length: j - i };
      i = j === i ? i + 1 : j;
    }
    const text = best.at < 0 ? groups.join(":") : `${groups.slice(0, best.at).join(":")}::${groups.slice(best.at + best.length).join(":")}`;
    const scope = bytes.length >= 28 ? (bytes[24] | (bytes[25] << 8) | (bytes[26] << 16) | (bytes[27] << 24)) >>> 0 : 0;
    return `[${text}${scope === 0 ? "" : `%${scope}`}]:${port}`;
  }
  throw new SurfaceGap("Get-WinEvent", `rendering a socket address of family ${family} as win:SocketAddress`);
}

/** One data item as EvtRender writes it in the event's XML (xs:boolean "true"/"false", numbers in decimal, binary as hex or as a socket address). */
function dataText(item: AuditEventData): string {
  switch (item.type) {
    case "Boolean":
      return item.value === true ? "true" : "false";
    case "UInt16":
    case "UInt32":
      return String(item.value);
    case "Binary": {
      const bytes = item.value as number[];
      return item.render === "socketAddress" ? socketAddressText(bytes) : bytes.map((b) => b.toString(16).toUpperCase().padStart(2, "0")).join("");
    }
    default:
      return xmlText(String(item.value), false);
  }
}

/**
 * EventLogRecord.ToXml() (EvtRender, EvtRenderEventXml): an <Event> in the event namespace,
 * attributes in single quotes, no white space between elements, and one <Data Name='...'> per
 * template item in order (a logged SMBClient event's XML as published: <Data
 * Name="ServerNameLength">14</Data><Data Name="ServerName">\172.31.30.112</Data>). Of <System>
 * the model writes Provider, EventID, Version, TimeCreated, EventRecordID and Channel.
 */
export function eventXml(e: AuditEventModel, side: Side, recordId: number): string {
  // SystemTime with seven fractional digits, as EvtRender writes it.
  const time = new Date(e.timeCreated).toISOString().replace(/Z$/, "0000Z");
  const data = e.data.map((d) => (d.type !== "Binary" && String(d.value) === "" ? `<Data Name='${xmlText(d.name, true)}'></Data>` : `<Data Name='${xmlText(d.name, true)}'>${dataText(d)}</Data>`)).join("");
  return (
    `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='${AUDIT_LOGS[side].provider}'/><EventID>${e.id}</EventID><Version>${e.version}</Version>` +
    `<TimeCreated SystemTime='${time}'/><EventRecordID>${recordId}</EventRecordID><Channel>${AUDIT_LOGS[side].log}</Channel></System><EventData>${data}</EventData></Event>`
  );
}

/** EventProperty.Value as .NET gives it (NativeWrapper.ConvertToObject): UInt16, UInt32, String, Boolean, byte[] (the model's arrays are object[] of Byte). */
function propertyValue(item: AuditEventData): PSValue {
  switch (item.type) {
    case "UInt16":
    case "UInt32":
      return new PSNumber(item.type, item.value as number);
    case "Boolean":
      return item.value === true;
    case "Binary":
      return new PSArray((item.value as number[]).map((b) => new PSNumber("Byte", b)));
    default:
      return String(item.value);
  }
}

function eventCommands(state: HostState, offsetMinutes: number): Record<string, HostCommand> {
  const gaps = ["LogName", "ProviderName", "Path", "FilterXPath", "FilterXml", "ComputerName", "Credential"];
  const noSuchLog = (call: CommandCall, log: string) =>
    call.writeError(spec(call.name, "NoMatchingLogsFound", `There is not an event log on the localhost computer that matches "${log}".`, "ObjectNotFound", "System.Exception", log));
  const sideOf = (call: CommandCall, log: string): Side => {
    if (/[*?[\]]/.test(log)) throw new SurfaceGap(call.name, `a wildcard log name ('${log}')`);
    const side = LOG_SIDE[log.toLowerCase()];
    if (side === undefined) throw new SurfaceGap(call.name, `the log '${log}' (only the SMB audit logs are)`);
    return side;
  };
  const items = (v: PSValue): PSValue[] => (v instanceof PSArray ? v.items : [v]);
  return {
    "Get-WinEvent": {
      parameters: { ListLog: {}, ListProvider: {}, FilterHashtable: {}, MaxEvents: {}, Oldest: { switch: true }, Force: { switch: true }, ...gapParameters(gaps) },
      run(call) {
        refuseGaps(call, gaps);
        if (call.parameters.ListProvider !== undefined) {
          const out: PSValue[] = [];
          for (const value of items(call.parameters.ListProvider)) {
            const name = text(call.name, "ListProvider", value);
            if (/[*?[\]]/.test(name)) throw new SurfaceGap(call.name, `a wildcard provider name ('${name}')`);
            const side = PROVIDER_SIDE[name.toLowerCase()];
            if (side === undefined) throw new SurfaceGap(call.name, `the provider '${name}' (only the SMB providers are)`);
            // The SMB providers came with Windows 8 / Server 2012 (build 9200): before, there is no such provider.
            if (Number(state.os.build.split(".")[0]) < 9200) {
              call.writeError(spec(call.name, "NoMatchingProvidersFound", `There is not an event provider on the localhost computer that matches "${name}".`, "ObjectNotFound", "System.Exception", name));
              continue;
            }
            out.push(
              hostObject(
                ["System.Diagnostics.Eventing.Reader.ProviderMetadata", "System.Object"],
                {
                  Name: AUDIT_LOGS[side].provider,
                  Events: new PSArray(
                    providerEvents(state, side).map((e) =>
                      hostObject(
                        ["System.Diagnostics.Eventing.Reader.EventMetadata", "System.Object"],
                        {
                          Id: int64(e.id),
                          Version: new PSNumber("Byte", e.version),
                          LogLink: hostObject(["System.Diagnostics.Eventing.Reader.EventLogLink", "System.Object"], { LogName: AUDIT_LOGS[side].log, IsImported: false }, undefined, "System.Diagnostics.Eventing.Reader.EventLogLink"),
                          Template: templateXml(e),
                          Description: e.description,
                        },
                        undefined,
                        "System.Diagnostics.Eventing.Reader.EventMetadata",
                      ),
                    ),
                  ),
                },
                undefined,
                "System.Diagnostics.Eventing.Reader.ProviderMetadata",
              ),
            );
          }
          return out;
        }
        if (call.parameters.ListLog !== undefined) {
          const out: PSValue[] = [];
          for (const name of items(call.parameters.ListLog)) {
            const log = text(call.name, "ListLog", name);
            const model = state.auditLogs?.[sideOf(call, log)];
            if (!model) {
              noSuchLog(call, log);
              continue;
            }
            out.push(
              hostObject(
                ["System.Diagnostics.Eventing.Reader.EventLogConfiguration", "System.Object"],
                {
                  LogName: AUDIT_LOGS[sideOf(call, log)].log,
                  LogType: new PSEnum("System.Diagnostics.Eventing.Reader.EventLogType", "Operational", 1),
                  IsEnabled: model.enabled,
                  RecordCount: int64(model.events.length),
                  IsLogFull: false,
                },
                undefined,
                "System.Diagnostics.Eventing.Reader.EventLogConfiguration",
              ),
            );
          }
          return out;
        }
        if (call.parameters.FilterHashtable === undefined) throw new SurfaceGap(call.name, "a call without -ListLog or -FilterHashtable");
        const filters = items(call.parameters.FilterHashtable);
        if (filters.length !== 1 || !(filters[0] instanceof PSHashtable)) throw new SurfaceGap(call.name, "-FilterHashtable other than one hashtable");
        const filter = filters[0];
        let logName: string | undefined;
        let ids: number[] | undefined;
        let start: number | undefined;
        let end: number | undefined;
        for (const [k, v] of filter.pairs()) {
          const key = typeof k === "string" ? k.toLowerCase() : "";
          if (key === "logname") logName = text(call.name, "FilterHashtable.LogName", v);
          else if (key === "id") ids = items(v).map((i) => numberOf(call.name, "FilterHashtable.Id", i));
          else if (key === "starttime" || key === "endtime") {
            if (!(v instanceof PSDateTime)) throw new SurfaceGap(call.name, `FilterHashtable.${String(k)} of type ${typeNameOf(v)}`);
            if (key === "starttime") start = v.epochMs;
            else end = v.epochMs;
          } else throw new SurfaceGap(call.name, `the FilterHashtable key ${String(k)}`);
        }
        if (logName === undefined) throw new SurfaceGap(call.name, "a FilterHashtable without LogName");
        const side = sideOf(call, logName);
        const model = state.auditLogs?.[side];
        // A log the host lacks is named, and then there is no query at all (ProcessHashQuery: empty query).
        if (!model) return noSuchLog(call, logName);
        const max = call.parameters.MaxEvents === undefined ? Infinity : numberOf(call.name, "MaxEvents", call.parameters.MaxEvents);
        if (max < 1) {
          throw new CommandError({
            message: `Cannot validate argument on parameter 'MaxEvents'. The ${max} argument is less than the minimum allowed range of 1. Supply an argument that is greater than or equal to 1 and then try the command again.`,
            category: "InvalidData",
            fullyQualifiedErrorId: "ParameterArgumentValidationError,Microsoft.PowerShell.Commands.GetWinEventCommand",
            exceptionType: "System.Management.Automation.ParameterBindingValidationException",
          });
        }
        // The reader runs in reverse record order (newest first) unless -Oldest: the order events were logged, not sorted by time.
        const records = model.events.map((e, index) => ({ e, recordId: index + 1 }));
        if (!switchOn(call.parameters.Oldest)) records.reverse();
        const out: PSValue[] = [];
        for (const { e, recordId } of records) {
          if (out.length >= max) break;
          const at = Date.parse(e.timeCreated);
          if (ids !== undefined && !ids.includes(e.id)) continue;
          if (start !== undefined && at < start) continue;
          if (end !== undefined && at > end) continue;
          out.push(
            hostObject(
              ["System.Diagnostics.Eventing.Reader.EventLogRecord", "System.Diagnostics.Eventing.Reader.EventRecord", "System.Object"],
              {
                Id: int32(e.id),
                Version: new PSNumber("Byte", e.version),
                RecordId: int64(recordId),
                LogName: AUDIT_LOGS[side].log,
                ProviderName: AUDIT_LOGS[side].provider,
                TimeCreated: new PSDateTime(at, "Local", offsetMinutes),
                Properties: new PSArray(e.data.map((item) => hostObject(["System.Diagnostics.Eventing.Reader.EventProperty", "System.Object"], { Value: propertyValue(item) }))),
              },
              { ToXml: () => eventXml(e, side, recordId) },
              "System.Diagnostics.Eventing.Reader.EventLogRecord",
            ),
          );
        }
        if (out.length === 0) {
          return call.writeError(spec(call.name, "NoMatchingEventsFound", "No events were found that match the specified selection criteria.", "ObjectNotFound", "System.Exception"));
        }
        return out;
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** $PSVersionTable.PSVersion: Windows PowerShell 5.1 reports the OS build; WMF 5.1 on Windows 7 / 2008 R2 is 5.1.14409.1005. */
function psVersion(state: HostState): string {
  if (state.powershellVersion !== "5.1") return state.powershellVersion;
  const [build, ubr] = state.os.build.split(".");
  return Number(build) < 10240 ? "5.1.14409.1005" : `5.1.${build}.${ubr ?? 0}`;
}

/**
 * What Windows supplies to one run of the scripts on the host `state` describes: the session's
 * facts and the commands of the catalogue above, reading and changing `state` as Windows
 * would. Make one per run.
 */
export function windowsSurface(state: HostState, options: SurfaceOptions = {}): PowerShellHost {
  const offset = options.utcOffsetMinutes ?? 0;
  const registry = new Registry(state);
  const file = options.file === undefined ? undefined : hostFile(state, options.file);
  return {
    session: {
      psVersion: psVersion(state),
      languageMode: file ? scriptFileLanguageMode(state, file) : state.languageMode,
      ...(file ? { reportedLanguageMode: state.languageMode } : {}),
      now: options.now ?? (() => new Date()),
      utcOffsetMinutes: offset,
    },
    staticMembers: dotnetMembers(state, registry),
    commands: {
      ...registryCommands(state, registry),
      ...cimCommands(state),
      ...eventCommands(state, offset),
      ...signatureCommands(state),
      // Without the SmbShare module these commands do not exist: Get-Command finds nothing, a call is CommandNotFoundException.
      ...(state.cmdlets ? smbCommands(state) : {}),
    },
  };
}

const SIGNATURE_STATUS = ["Valid", "UnknownError", "NotSigned", "HashMismatch", "NotTrusted", "NotSupportedFileFormat", "Incompatible"];
const SIGNATURE_MESSAGE: Record<string, string> = {
  Valid: "Signature verified.",
  NotSigned: "The file is not digitally signed.",
  HashMismatch: "The contents of file might have been changed by an unauthorized user or process, because the hash of the file does not match the hash stored in the digital signature.",
};

/** Get-AuthenticodeSignature -FilePath, over HostState.files (see the catalogue above). */
function signatureCommands(state: HostState): Record<string, HostCommand> {
  const gaps = ["LiteralPath", "SourcePathOrExtension", "Content"];
  return {
    "Get-AuthenticodeSignature": {
      parameters: { FilePath: { position: 0 }, ...gapParameters(gaps) },
      run(call) {
        refuseGaps(call, gaps);
        const path = text(call.name, "FilePath", call.parameters.FilePath);
        const file = hostFile(state, path);
        if (!file) {
          return call.writeError(spec(call.name, "PathNotFound", `Cannot find path '${path}' because it does not exist.`, "ObjectNotFound", "System.Management.Automation.ItemNotFoundException", path));
        }
        const status = signatureStatus(file);
        const signer = file.signature
          ? hostObject(["System.Security.Cryptography.X509Certificates.X509Certificate2", "System.Object"], { Subject: file.signature.subject, Thumbprint: file.signature.thumbprint })
          : null;
        return hostObject(["System.Management.Automation.Signature", "System.Object"], {
          Status: new PSEnum("System.Management.Automation.SignatureStatus", status, SIGNATURE_STATUS.indexOf(status)),
          StatusMessage: SIGNATURE_MESSAGE[status],
          Path: path,
          SignerCertificate: signer,
        });
      },
    },
  };
}

/** The revertingAgent fault: the agent puts its values back at once, for the settings this host has (it cannot add one the release lacks). */
function putBack(state: HostState, side: Side): void {
  for (const [name, value] of Object.entries(state.faults.revertingAgent?.[side] ?? {})) if (name in state[side]) state[side][name] = value;
}
