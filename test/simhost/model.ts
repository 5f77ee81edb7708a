// The model of a Windows host's SMB signing configuration: presets per edition, state kept on
// disk across connections, Group Policy, the SMB audit logs and SMB sessions, and fault switches.
// Windows only: what the shipped scripts do with it is theirs (windowsHost.ts runs them through
// the PowerShell interpreter on windowsSurface.ts, which reads and writes this state).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export type Side = "client" | "server";
export type Values = Record<string, boolean>;

export interface HostFaults {
  /** The connecting user is not an elevated administrator: Set-* is denied. */
  nonAdmin?: boolean;
  /** PowerShell writes "#< CLIXML" progress records to stderr even on success. */
  clixmlNoise?: boolean;
  /** Console output goes through the OEM code page: every non-ASCII character arrives as '?'. */
  oemOutput?: boolean;
  /** Milliseconds PowerShell takes to start. */
  slowStartMs?: number;
  /** The connection drops after the settings were applied, before the reply is complete. */
  dropConnection?: boolean;
  /** Like dropConnection, for this many runs only (each drop counts one down): a transient drop. */
  dropConnectionRuns?: number;
  /** Milliseconds between applying the settings and replying (a window to kill the client in). */
  slowReplyMs?: number;
  /** Set-SmbServerConfiguration (or Set-SmbClientConfiguration) throws. */
  failingCmdlet?: "Set-SmbClientConfiguration" | "Set-SmbServerConfiguration";
  /**
   * These services are stopped or disabled: Get- and Set-SmbServerConfiguration (LanmanServer),
   * Get- and Set-SmbClientConfiguration (LanmanWorkstation) fail with "The service has not been
   * started." (Windows System Error 1062). Some such hosts still answer (docs/windows-model.md,
   * "Services stopped or disabled": unsettled); the model takes the harsher case, every call
   * failing. The ...\Parameters keys stay readable and writable.
   */
  stoppedServices?: Array<"LanmanServer" | "LanmanWorkstation">;
  /** PowerShell fails before the script can reply (uncaught error, exit code 1). */
  crash?: boolean;
  /** WMI is broken: Get-CimInstance Win32_ComputerSystem throws (a damaged repository). */
  brokenWmi?: boolean;
  /**
   * Another agent (a configuration manager such as a DSC pull server or an MDM) puts these values
   * back at once after any local write, so a change does not even survive its re-read.
   */
  revertingAgent?: { client?: Values; server?: Values };
  /** WinRM: at most this many output bytes per Receive reply (spreads output over several). */
  receiveChunkBytes?: number;
  /**
   * WinRM: the next N HTTP requests get 503 Service Unavailable from HTTP.sys (its request queue
   * for the WinRM URL is full), before any authentication.
   */
  serviceUnavailableRequests?: number;
  /**
   * WinRM: the next N shell Creates fail with the w:QuotaLimit fault (MaxShellsPerUser, 30 by
   * default on Windows, taken by other sessions' shells until they end or idle out).
   */
  shellQuotaCreates?: number;
}

/**
 * Group Policy on the host (docs/windows-model.md, "Group Policy"). Security Options write the
 * same ...\Parameters values as the cmdlets, so a local change sticks until the policy is applied
 * again (boot, gpupdate /force, the background refresh, the 16-hour security re-apply):
 * applyGroupPolicy. Administrative Templates live under HKLM\SOFTWARE\Policies and win over the
 * ...\Parameters values; Get-Smb*Configuration is modelled as reporting the ...\Parameters value
 * (unsettled; the harsher case: a re-read cannot reveal the conflict, only the policy keys can).
 */
export interface GroupPolicy {
  /** The GPO's display name as RSOP_GPO.name gives it ("Local Group Policy" for local policy). */
  gpo: string;
  /** Security Options it defines, by side, in cmdlet property names. */
  securityOptions: { client: Values; server: Values };
  /** Administrative Templates it defines (AllowInsecureGuestAuth, the audit settings), in cmdlet property names. */
  administrativeTemplates: { client: Values; server: Values };
  /**
   * RSoP logging: on by default; off by policy ("Turn off Resultant Set of Policy logging":
   * HKLM\SOFTWARE\Policies\Microsoft\Windows\System RSoPLogging = 0), and then RSoP names nothing
   * (the harsher reading; docs/windows-model.md, "Group Policy"). The policy still applies.
   */
  rsopLogging: boolean;
  /**
   * The RSoP query itself fails, while the policy still applies (applyGroupPolicy): "accessDenied"
   * (HRESULT 0x80041003, PermissionDenied) or "namespaceMissing" (root\rsop\computer absent,
   * HRESULT 0x8004100e, MetadataError), or "empty": it answers no instance of any class (as
   * before the first policy pass logged, or with data discarded; undocumented). Absent: RSoP answers.
   */
  rsopQuery?: "accessDenied" | "namespaceMissing" | "empty";
  /** false: the preference-level RSoPLogging = 0 under HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon (absent: not set). */
  winlogonRsopLogging?: false;
}

/**
 * Security Options pushed by MDM (Intune, Policy CSP LocalPoliciesSecurityOptions): the
 * PolicyManager keeps them as values under HKLM\SOFTWARE\Microsoft\PolicyManager\current\device\
 * LocalPoliciesSecurityOptions (with <node>_ProviderSet and <node>_WinningProvider), RSoP never
 * shows them, and an MDM sync puts them back as a Group Policy refresh does (applyGroupPolicy;
 * docs/windows-model.md, "MDM"). The data type of the values is unsettled: "DWord" (the CSP's
 * int, the default) or "String".
 */
export interface MdmPolicy {
  securityOptions: { client: Values; server: Values };
  dataType?: "DWord" | "String";
}

export interface HostState {
  preset: PresetName;
  os: { productName: string; edition: string; displayVersion: string; build: string; domainRole: number };
  /** Whether the SmbShare module (Get-/Set-Smb*Configuration) exists. */
  cmdlets: boolean;
  /** $PSVersionTable.PSVersion of Windows PowerShell ("2.0" on a stock Windows 7 / 2008 R2). */
  powershellVersion: string;
  /** $ExecutionContext.SessionState.LanguageMode: "ConstrainedLanguage" under AppLocker or WDAC. */
  languageMode: "FullLanguage" | "ConstrainedLanguage";
  /** The ...\Parameters values as Get-Smb*Configuration reports them. */
  client: Values;
  server: Values;
  /**
   * The values a running Workstation (client) or Server (server) service took when it started,
   * where a raw registry write (Set-ItemProperty on ...\Parameters) has changed them since:
   * whether the service re-reads them without a restart is not documented (docs/windows-model.md,
   * "Raw registry writes", unsettled), so the model's sessions (smbConnect) keep these until
   * restartService. Absent: the service uses the values above.
   */
  running?: Partial<Record<Side, Values>>;
  /**
   * PowerShell on this host runs as a 32-bit process on 64-bit Windows (WOW64: the sessions of a
   * 32-bit OpenSSH build): the registry drive sees HKLM\SOFTWARE redirected to
   * HKLM\SOFTWARE\WOW6432Node, except the shared keys (docs/windows-model.md, "WOW64").
   */
  process32?: boolean;
  /** HKLM\SOFTWARE\WOW6432Node\pulumi-smb-signing\OriginalSettings: a record written through the 32-bit view (absent: none). */
  record32?: string;
  groupPolicy: GroupPolicy;
  /** MDM (Intune) Security Options (absent: the host is not MDM-managed). */
  mdm?: MdmPolicy;
  faults: HostFaults;
  /** How long powershell.exe takes to start on this host (about 400 ms on real Windows; 0 in tests). */
  powershellStartMs?: number;
  /** Size and SHA-256 of the stdin of the last bootstrap run, for transport tests. */
  lastStdin?: { bytes: number; sha256: string };
  /**
   * Runs whose script has finished and whose host state is saved (the reply may still be held
   * back by slowReplyMs): what a test waits on before changing the host under a run in flight.
   */
  finishedRuns?: number;
  /**
   * The REG_SZ value HKLM:\SOFTWARE\pulumi-smb-signing\OriginalSettings as smb-signing.ps1
   * writes it (absent: no record). Tests may corrupt it as an administrator could.
   */
  record?: string;
  /** Counters tests read: remote runs, runs that changed a setting, and writes of the record. */
  counters: { runs: number; writes: number; recordWrites?: number };
  /**
   * The SMB audit event logs, Microsoft-Windows-SMBServer/Audit (`server`) and
   * Microsoft-Windows-SMBClient/Audit (`client`): a missing key is a log the release does not
   * have, `enabled: false` a log turned off. Events land here through smbConnect (or a test).
   * Which events the release can log there is its providers' manifest (providerEvents).
   */
  auditLogs: Partial<Record<Side, AuditLogModel>>;
  /**
   * KB5066913 (September 2025, CVE-2025-55234) is installed: the SMB server's manifest gains the
   * signing and EPA audit events (3021 version 1, 3024 to 3027), so the server logs clients that
   * do not sign once its audit is on, on any release (docs/windows-model.md, "SMB audit").
   */
  kb5066913?: boolean;
  /**
   * REG_DWORD values under ...\Lanman{Workstation,Server}\Parameters that no cmdlet reports: the
   * way KB5066913's server signing audit is turned on "through the registry" on a release whose
   * Get-SmbServerConfiguration lacks AuditClientDoesNotSupportSigning (the value name is
   * unsettled; the model reads AuditClientDoesNotSupportSigning, as srv2.sys is reported to).
   */
  registryOnly?: Partial<Record<Side, Record<string, number>>>;
  /**
   * SMB encryption audit (Set-SmbServerConfiguration -AuditClientDoesNotSupportEncryption,
   * Set-SmbClientConfiguration -AuditServerDoesNotSupportEncryption): not a setting this
   * provider manages, so a test sets it here; a peer that cannot encrypt is then logged (3022,
   * 31999) where the release has the event.
   */
  encryptionAudit?: Partial<Record<Side, boolean>>;
  /**
   * Files on the host's disk by full path in lower case (Windows paths ignore case): what
   * `type <path>` prints and `powershell.exe -File <path>` runs. A test places the signed copy of
   * smb-signing.ps1 here (signScript), edits it, or places an unsigned one.
   */
  files?: Record<string, HostFile>;
  /**
   * The application control policy (WDAC / App Control, or AppLocker script rules) behind
   * languageMode "ConstrainedLanguage": the thumbprints of the code-signing certificates a signer
   * (publisher) rule allows. A -File script signed by one of them, its signature valid, runs in
   * FullLanguage; every other script, -EncodedCommand and -Command run in ConstrainedLanguage
   * (docs/windows-model.md "Application control").
   */
  applicationControl?: { allowedSigners: string[] };
  /** Every command line the host received, oldest first (the last 50), for transport tests. */
  commandLines?: string[];
}

/** A file on the host: its text (its bytes are the text in UTF-8) and its Authenticode signature, if signed. */
export interface HostFile {
  text: string;
  signature?: FileSignature;
}

/**
 * An Authenticode signature of a script: its signer certificate and the SHA-256 of the text it
 * covers (the text before the signature block). Modelled as chaining to a root the host trusts.
 */
export interface FileSignature {
  subject: string;
  thumbprint: string;
  signedSha256: string;
}

/** The first line of the comment block Set-AuthenticodeSignature appends to a script (about_Signing). */
export const SIGNATURE_BLOCK_BEGIN = "# SIG # Begin signature block";

/** The text a script's signature covers: everything before its signature block. */
export function unsignedText(text: string): string {
  const at = text.indexOf(`\n${SIGNATURE_BLOCK_BEGIN}`);
  return at < 0 ? text : text.slice(0, at + 1);
}

/** A script as Set-AuthenticodeSignature leaves it: the text, then a signature block of base64 comment lines, CRLF line ends. */
export function signScript(text: string, signer: { subject: string; thumbprint: string }): HostFile {
  const body = text.endsWith("\n") ? text : text + "\r\n";
  const blob = crypto.createHash("sha512").update(body).update(signer.thumbprint).digest("base64");
  const block = [SIGNATURE_BLOCK_BEGIN, `# MIIj${blob.slice(0, 60)}`, `# ${blob.slice(60)}AAAA`, "# SIG # End signature block"].join("\r\n") + "\r\n";
  return { text: body + block, signature: { ...signer, signedSha256: sha256(body) } };
}

const sha256 = (text: string) => crypto.createHash("sha256").update(text, "utf8").digest("hex");

/** Get-AuthenticodeSignature's Status (System.Management.Automation.SignatureStatus) for a file. */
export function signatureStatus(file: HostFile): "Valid" | "NotSigned" | "HashMismatch" {
  if (!file.signature) return "NotSigned";
  return sha256(unsignedText(file.text)) === file.signature.signedSha256 ? "Valid" : "HashMismatch";
}

/** The language mode `powershell.exe -File` runs a script file in on this host. */
export function scriptFileLanguageMode(state: HostState, file: HostFile): "FullLanguage" | "ConstrainedLanguage" {
  if (state.languageMode === "FullLanguage") return "FullLanguage";
  const allowed = state.applicationControl?.allowedSigners ?? [];
  return signatureStatus(file) === "Valid" && allowed.includes(file.signature!.thumbprint) ? "FullLanguage" : "ConstrainedLanguage";
}

/** The file at a Windows path (case ignored), or undefined. */
export function hostFile(state: HostState, filePath: string): HostFile | undefined {
  return state.files?.[filePath.toLowerCase()];
}

export interface AuditLogModel {
  enabled: boolean;
  events: AuditEventModel[];
}

/** The manifest's data types the model's events use (win:UInt16, win:UnicodeString, ...). */
export type EventDataType = "UInt16" | "UInt32" | "UnicodeString" | "AnsiString" | "Boolean" | "Binary";

/** One named data item of a logged event, in its template's order. */
export interface AuditEventData {
  name: string;
  type: EventDataType;
  /** UInt16/UInt32: a number; the strings: a string; Boolean: a boolean; Binary: the bytes. */
  value: number | string | boolean | number[];
  /**
   * Binary only: how ToXml() renders it. "hex" (xs:hexBinary, the default and the harsher case:
   * the script must decode the bytes) or "socketAddress" (win:SocketAddress, "<IP>:<port>"); which
   * one Windows uses for an SMB address is unsettled (docs/windows-model.md, "SMB audit").
   */
  render?: "hex" | "socketAddress";
}

/** One logged event as Get-WinEvent returns it: Id, Version, TimeCreated and its named data (Properties, ToXml()). */
export interface AuditEventModel {
  id: number;
  version: number;
  /** UTC, ISO 8601. */
  timeCreated: string;
  data: AuditEventData[];
}

/**
 * One event of the SMB providers' manifests as Get-WinEvent -ListProvider lists it
 * (EventMetadata): its id, version, the log it goes to, its template's data items in order, and
 * the manifest symbol (not something Windows shows; it says what the event means).
 */
export interface EventDefinition {
  side: Side;
  id: number;
  version: number;
  symbol: string;
  /** The template's data items in order, with their manifest types. */
  fields: ReadonlyArray<readonly [string, EventDataType | "HexInt32"]>;
  /** EventMetadata.Description: the message template, where a source gives it; null where none does (the model invents no text). */
  description: string | null;
  /** Where it exists: from Windows 10 1511 (build 10586), from 24H2 / Server 2025 (26100), or with KB5066913. */
  since: 10586 | 26100 | "KB5066913";
}

const AUDIT_CLIENT = { AuditServerDoesNotSupportSigning: false, AuditInsecureGuestLogon: false };
const AUDIT_SERVER = { AuditClientDoesNotSupportSigning: false, AuditInsecureGuestLogon: false };

export function noGroupPolicy(): GroupPolicy {
  return { gpo: "", securityOptions: { client: {}, server: {} }, administrativeTemplates: { client: {}, server: {} }, rsopLogging: true };
}

/**
 * The Default Domain Controllers Policy: "Microsoft network server: Digitally sign communications
 * (always)" and "(if client agrees)" Enabled (Microsoft Learn, the security policy setting pages,
 * "Default Domain Controller Policy: Enabled"). Domain controllers get their inbound signing from
 * it, not from a local default.
 */
function defaultDomainControllersPolicy(): GroupPolicy {
  return {
    ...noGroupPolicy(),
    gpo: "Default Domain Controllers Policy",
    securityOptions: { client: {}, server: { RequireSecuritySignature: true, EnableSecuritySignature: true } },
  };
}

interface PresetSpec {
  productName: string;
  edition: string;
  displayVersion: string;
  build: string;
  /** Win32_ComputerSystem.DomainRole: 1 member workstation, 3 member server, 5 primary domain controller. */
  domainRole: 1 | 3 | 5;
  clientRequire: boolean;
  serverRequire: boolean;
  /** EnableInsecureGuestLogons; undefined where the property does not exist. */
  guest: boolean | undefined;
  /** The 24H2 / Server 2025 audit properties exist. */
  audit: boolean;
  cmdlets?: boolean;
  powershellVersion?: string;
}

function preset(spec: PresetSpec): Omit<HostState, "preset"> {
  const domainController = spec.domainRole === 5;
  const guest: Values = spec.guest === undefined ? {} : { EnableInsecureGuestLogons: spec.guest };
  const state: Omit<HostState, "preset"> = {
    os: { productName: spec.productName, edition: spec.edition, displayVersion: spec.displayVersion, build: spec.build, domainRole: spec.domainRole },
    cmdlets: spec.cmdlets ?? true,
    powershellVersion: spec.powershellVersion ?? "5.1",
    languageMode: "FullLanguage",
    // The client signs if the server agrees everywhere ("Microsoft network client: Digitally sign
    // communications (if server agrees)", default Enabled); the server only where it requires it.
    client: { RequireSecuritySignature: spec.clientRequire, EnableSecuritySignature: true, ...guest, ...(spec.audit ? AUDIT_CLIENT : {}) },
    server: { RequireSecuritySignature: spec.serverRequire, EnableSecuritySignature: spec.serverRequire, ...(spec.audit ? AUDIT_SERVER : {}) },
    groupPolicy: domainController ? defaultDomainControllersPolicy() : noGroupPolicy(),
    faults: {},
    counters: { runs: 0, writes: 0 },
    // Both audit logs exist from Windows 10 / Server 2016 on (SMB 1 access audit, event 3000,
    // logs to SMBServer/Audit from build 10586; Server 2019 and 2022 list both channels), enabled
    // (third-party listings; no Microsoft source). What a release logs there is its manifest
    // (providerEvents): signing audit from 24H2 / Server 2025, or with KB5066913.
    auditLogs: Number(spec.build.split(".")[0]) >= 10586 ? { server: { enabled: true, events: [] }, client: { enabled: true, events: [] } } : {},
  };
  // A host as booted: its policy applied.
  applyGroupPolicy(state);
  return state;
}

const WIN11_24H2 = { displayVersion: "24H2", build: "26100.4061", domainRole: 1, audit: true } as const;
const SERVER_2025 = { productName: "Windows Server 2025 Datacenter", edition: "ServerDatacenter", displayVersion: "24H2", build: "26100.4061", audit: true } as const;
const SERVER_2022 = { productName: "Windows Server 2022 Standard", edition: "ServerStandard", displayVersion: "21H2", build: "20348.2762", audit: false } as const;
const SERVER_2019 = { productName: "Windows Server 2019 Standard", edition: "ServerStandard", displayVersion: "", build: "17763.6414", audit: false } as const;
const SERVER_2016 = { productName: "Windows Server 2016 Standard", edition: "ServerStandard", displayVersion: "", build: "14393.7428", audit: false } as const;
const WIN10_22H2 = { displayVersion: "22H2", build: "19045.5011", domainRole: 1, audit: false } as const;

/**
 * The editions and releases the model knows, with their defaults (sources in
 * docs/windows-model.md, "Defaults"). Windows 11 still reports "Windows 10" in ProductName.
 * Before 24H2 only domain controllers required signing (as servers, by their GPO); Server 2025
 * requires outbound signing; insecure guest logons are off on Enterprise/Education and Server 2019+
 * (KB 4046019), on Windows 11 Pro only from 24H2. The 24H2 audit properties exist only on
 * 24H2 / Server 2025: KB5066913 backports server signing audit to older releases through policy
 * and registry, but whether Get-SmbServerConfiguration shows it there is undocumented, so the
 * model reports it as absent (the harsher case).
 */
export const PRESETS = {
  "win11-24h2-enterprise": () => preset({ ...WIN11_24H2, productName: "Windows 10 Enterprise", edition: "Enterprise", clientRequire: true, serverRequire: true, guest: false }),
  "win11-24h2-pro": () => preset({ ...WIN11_24H2, productName: "Windows 10 Pro", edition: "Professional", clientRequire: true, serverRequire: true, guest: false }),
  "win11-24h2-education": () => preset({ ...WIN11_24H2, productName: "Windows 10 Education", edition: "Education", clientRequire: true, serverRequire: true, guest: false }),
  "win11-24h2-home": () => preset({ ...WIN11_24H2, productName: "Windows 10 Home", edition: "Core", clientRequire: false, serverRequire: false, guest: true }),
  "server-2025": () => preset({ ...SERVER_2025, domainRole: 3, clientRequire: true, serverRequire: false, guest: false }),
  "server-2025-dc": () => preset({ ...SERVER_2025, domainRole: 5, clientRequire: true, serverRequire: false, guest: false }),
  // 23H2 Pro still allowed insecure guest logons (inferred: the Pro change came with 24H2).
  "win11-23h2-pro": () => preset({ productName: "Windows 10 Pro", edition: "Professional", displayVersion: "23H2", build: "22631.4317", domainRole: 1, clientRequire: false, serverRequire: false, guest: true, audit: false }),
  "win10-22h2-pro": () => preset({ ...WIN10_22H2, productName: "Windows 10 Pro", edition: "Professional", clientRequire: false, serverRequire: false, guest: true }),
  "win10-22h2-enterprise": () => preset({ ...WIN10_22H2, productName: "Windows 10 Enterprise", edition: "Enterprise", clientRequire: false, serverRequire: false, guest: false }),
  "server-2022": () => preset({ ...SERVER_2022, domainRole: 3, clientRequire: false, serverRequire: false, guest: false }),
  "server-2022-dc": () => preset({ ...SERVER_2022, domainRole: 5, clientRequire: false, serverRequire: false, guest: false }),
  "server-2019": () => preset({ ...SERVER_2019, domainRole: 3, clientRequire: false, serverRequire: false, guest: false }),
  "server-2019-dc": () => preset({ ...SERVER_2019, domainRole: 5, clientRequire: false, serverRequire: false, guest: false }),
  // Server 2016's guest default is unsettled (KB 4046019 once named it, now names 2019): allowed, the harsher case.
  "server-2016": () => preset({ ...SERVER_2016, domainRole: 3, clientRequire: false, serverRequire: false, guest: true }),
  "server-2016-dc": () => preset({ ...SERVER_2016, domainRole: 5, clientRequire: false, serverRequire: false, guest: true }),
  // Windows Server 2008 R2 with WMF 5.1: no SmbShare module, so the settings live in the registry
  // only, and no AllowInsecureGuestAuth (it came with Windows 10).
  "server-2008r2": () =>
    preset({ productName: "Windows Server 2008 R2 Standard", edition: "ServerStandard", displayVersion: "", build: "7601.24546", domainRole: 3, clientRequire: false, serverRequire: false, guest: undefined, audit: false, cmdlets: false }),
  // The same as installed: Windows PowerShell 2.0 only.
  "server-2008r2-stock": () =>
    preset({ productName: "Windows Server 2008 R2 Standard", edition: "ServerStandard", displayVersion: "", build: "7601.17514", domainRole: 3, clientRequire: false, serverRequire: false, guest: undefined, audit: false, cmdlets: false, powershellVersion: "2.0" }),
} as const;

export type PresetName = keyof typeof PRESETS;

export function newHostState(preset: PresetName): HostState {
  return { preset, ...PRESETS[preset]() };
}

/**
 * The policy applied as at boot, gpupdate /force, a background refresh or the 16-hour security
 * re-apply: its Security Options overwrite the ...\Parameters values, whatever was set locally.
 */
export function applyGroupPolicy(state: Pick<HostState, "client" | "server" | "groupPolicy" | "mdm">): void {
  for (const side of ["client", "server"] as Side[]) Object.assign(state[side], state.groupPolicy.securityOptions[side]);
  // An MDM sync reasserts its Security Options the same way (unsettled whether it does so when
  // nothing changed in Intune: the harsher case, it does). Where both set one, which wins is a
  // race (Policy CSP ControlPolicyConflict): the model lets MDM apply last.
  for (const side of ["client", "server"] as Side[]) Object.assign(state[side], state.mdm?.securityOptions[side] ?? {});
}

/** Where a host's state lives: one JSON file per simulated host, named by its address. */
export function stateFile(stateDir: string, address: string, port: number): string {
  return path.join(stateDir, `${address}_${port}.json`);
}

export function loadState(file: string): HostState {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

export function saveState(file: string, state: HostState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2), { mode: 0o666 });
  fs.renameSync(tmp, file);
}

/** The SMB audit log of each side and the provider that writes to it. */
export const AUDIT_LOGS: Record<Side, { log: string; provider: string }> = {
  server: { log: "Microsoft-Windows-SMBServer/Audit", provider: "Microsoft-Windows-SMBServer" },
  client: { log: "Microsoft-Windows-SMBClient/Audit", provider: "Microsoft-Windows-SMBClient" },
};

const SMB1_ACCESS_TEXT =
  "SMB1 access\r\n\r\nClient Address: %1\r\n\r\nGuidance:\r\n\r\nThis event indicates that a client attempted to access the server using SMB1. To stop auditing SMB1 access, use the Windows PowerShell cmdlet Set-SmbServerConfiguration.";

/**
 * The events of the SMB providers' manifests that go to the two Audit logs, with their
 * templates, as the registered manifests list them (jdu2600/Windows10EtwEvents, one dump per
 * release: 3021 to 3023 and 31997 to 31999 first in 26100; 3021 version 1 and 3024 to 3027 with
 * the September 2025 work, first in build 28000; 3000 from 10586) and OSSEM-DD / nasbench
 * EVTX-ETW-Resources for 3000 to 3003. Descriptions: only 3000's is known (nasbench, Server
 * 2019/2022); the others' text no source gives, so the model has none (null). Other events of the
 * two providers (their Operational, Connectivity, Security logs; SMBClient's 32000 to 32003,
 * whose templates no source read gives) are not modelled.
 */
export const SMB_AUDIT_EVENTS: readonly EventDefinition[] = [
  { side: "server", id: 3000, version: 0, symbol: "AuditSmb1Access", fields: [["ClientName", "AnsiString"]], description: SMB1_ACCESS_TEXT, since: 10586 },
  { side: "server", id: 3021, version: 0, symbol: "Smb2ClientDoesNotSupportSigning", fields: [["ClientNameLength", "UInt16"], ["ClientName", "UnicodeString"], ["ServerRequiresSigning", "Boolean"]], description: null, since: 26100 },
  {
    side: "server",
    id: 3021,
    version: 1,
    symbol: "Smb2ClientDoesNotSupportSigning_V1",
    fields: [["ClientNameLength", "UInt16"], ["ClientName", "UnicodeString"], ["UserNameLength", "UInt16"], ["UserName", "UnicodeString"], ["ServerRequiresSigning", "Boolean"]],
    description: null,
    since: "KB5066913",
  },
  {
    side: "server",
    id: 3022,
    version: 0,
    symbol: "Smb2ClientDoesNotSupportEncryption",
    fields: [["ClientNameLength", "UInt16"], ["ClientName", "UnicodeString"], ["ServerRequiresEncryption", "Boolean"], ["SmbClientDoesNotSupportEncryptionType", "UInt32"]],
    description: null,
    since: 26100,
  },
  { side: "server", id: 3023, version: 0, symbol: "InsecureGuestLogon", fields: [["ClientNameLength", "UInt16"], ["ClientName", "UnicodeString"]], description: null, since: 26100 },
  { side: "server", id: 3024, version: 0, symbol: "SrvNetClientDoesNotSupportSpn", fields: [["ClientNameLength", "UInt16"], ["ClientName", "UnicodeString"], ["Status", "HexInt32"], ["SPNValidationPolicy", "UInt32"]], description: null, since: "KB5066913" },
  {
    side: "server",
    id: 3025,
    version: 0,
    symbol: "SrvNetClientSentUnrecognizedSpn",
    fields: [["ClientNameLength", "UInt16"], ["ClientName", "UnicodeString"], ["SPN", "UnicodeString"], ["ServiceClassIsValid", "Boolean"], ["PrincipalNameIsValid", "Boolean"], ["SPNValidationPolicy", "UInt32"]],
    description: null,
    since: "KB5066913",
  },
  { side: "server", id: 3026, version: 0, symbol: "SrvNetClientSentEmptySpn", fields: [["ClientNameLength", "UInt16"], ["ClientName", "UnicodeString"], ["SPNValidationPolicy", "UInt32"]], description: null, since: "KB5066913" },
  { side: "server", id: 3027, version: 0, symbol: "Smb1ClientDoesNotSupportSigning", fields: [["ClientNameLength", "UInt16"], ["ClientName", "UnicodeString"], ["ServerRequiresSigning", "Boolean"]], description: null, since: "KB5066913" },
  { side: "client", id: 31997, version: 0, symbol: "InsecureGuestLogon", fields: [["ServerNameLength", "UInt16"], ["ServerName", "UnicodeString"]], description: null, since: 26100 },
  { side: "client", id: 31998, version: 0, symbol: "ServerDoesNotSupportSigning", fields: [["ServerNameLength", "UInt16"], ["ServerName", "UnicodeString"], ["ClientRequireSigning", "Boolean"]], description: null, since: 26100 },
  { side: "client", id: 31999, version: 0, symbol: "ServerDoesNotSupportEncryption", fields: [["ServerNameLength", "UInt16"], ["ServerName", "UnicodeString"], ["ClientRequireEncryption", "Boolean"]], description: null, since: 26100 },
];

/**
 * The audit events of one side's provider on this host: none where the release has no such log
 * (before Windows 10 / Server 2016; then the provider is missing too), the release's own, and
 * KB5066913's where it is installed. KB5066913 covers the server side only; whether it also
 * brings 3022 or 3023 to an older release is unsettled (not modelled: the harsher case for a
 * reader that would count them).
 */
export function providerEvents(state: Pick<HostState, "os" | "kb5066913" | "auditLogs">, side: Side): EventDefinition[] {
  const build = Number(state.os.build.split(".")[0]);
  if (build < 10586) return [];
  return SMB_AUDIT_EVENTS.filter((e) => e.side === side && (e.since === "KB5066913" ? state.kb5066913 === true : build >= e.since));
}

/**
 * An event as the host's provider logs it: its template's data items in order, each *Length
 * item the length in characters of the string after it (as in a logged SMBClient event:
 * ServerNameLength 14, ServerName "\172.31.30.112"), the others from `values` (a Boolean false,
 * a number 0, a string "" when not given).
 */
export function auditEvent(definition: EventDefinition, at: Date, values: Record<string, string | number | boolean>): AuditEventModel {
  const data: AuditEventData[] = definition.fields.map(([name, type], i) => {
    if (type === "HexInt32") throw new Error(`the model logs no ${type} data (${definition.id} ${name})`);
    const next = definition.fields[i + 1];
    if (type === "UInt16" && name.endsWith("Length") && next && next[0] === name.slice(0, -"Length".length)) {
      return { name, type, value: String(values[next[0]] ?? "").length };
    }
    const given = values[name];
    const value = type === "Boolean" ? given === true : type === "UInt16" || type === "UInt32" ? Number(given ?? 0) : String(given ?? "");
    return { name, type, value };
  });
  return { id: definition.id, version: definition.version, timeCreated: at.toISOString(), data };
}

/** A peer of an SMB session with this host (smbConnect). */
export interface SmbPeer {
  /** "inbound": a client connects to this host's SMB server; "outbound": this host's SMB client connects to a server. */
  direction: "inbound" | "outbound";
  /** The peer's address. */
  address: string;
  /**
   * How this host's SMB audit event names the peer (ClientName, ServerName). Default: `\\<address>`
   * for a client (as the SMB server's events name clients, "Client Name: \\10.254.254.1") and
   * `\<address>` for a server (as SMBClient's events name servers, "\172.31.30.112"). Whether a
   * host name can stand there instead is unsettled: tests give one (the harsher case).
   */
  name?: string;
  /** Whether the peer supports signing (every Windows does; some NAS, printers and scanners do not). */
  signs: boolean;
  /** Whether the peer supports SMB encryption (SMB 3; default true). Logged only where encryption audit is on. */
  encrypts?: boolean;
  /** Outbound: the server admits only guests (no account), as many NAS do. */
  guestOnly?: boolean;
  /** Inbound: the account the session uses; the events that carry a UserName (3021 version 1) log it. */
  account?: string;
  /** Inbound: the client speaks SMB 1 (logged as 3027, where the release has it, rather than 3021). */
  smb1?: boolean;
  /** When the session happens (default now). */
  at?: Date;
}

export interface SmbOutcome {
  connected: boolean;
  signed: boolean;
  /** What the user sees when it fails (windowsserverdocs, "Control SMB signing behavior"). */
  error?: string;
  /** An audit event was logged for it. */
  audited: boolean;
}

export const STATUS_INVALID_SIGNATURE = "0xc000a000 STATUS_INVALID_SIGNATURE: The cryptographic signature is invalid.";
export const GUEST_ACCESS_BLOCKED =
  "System error 3227320323 has occurred (0x80070035 The network path was not found): You can't access this shared folder because your organization's security policies block unauthenticated guest access.";
export const SIGNING_REQUIRED_REFUSED = "the session is refused: this host requires signing and the client does not sign";

/** The values one side's running service uses (HostState.running). */
export function live(state: Pick<HostState, "client" | "server" | "running">, side: Side): Values {
  return state.running?.[side] ?? state[side];
}

/** A restart of the Workstation (client) or Server (server) service, or a reboot: it takes the ...\Parameters values as they are now. */
export function restartService(state: Pick<HostState, "running">, side: Side): void {
  if (state.running) delete state.running[side];
}

/**
 * A setting as it takes effect: an Administrative Template under HKLM\SOFTWARE\Policies wins over
 * ...\Parameters (what the cmdlet reports, or, where it reports nothing, a value written there
 * directly: registryOnly).
 */
function effective(state: HostState, side: Side, name: string): boolean | undefined {
  const direct = state.registryOnly?.[side]?.[name];
  return state.groupPolicy.administrativeTemplates[side][name] ?? live(state, side)[name] ?? (direct === undefined ? undefined : direct !== 0);
}

/**
 * One SMB session between this host and a peer, as Windows decides it: signing is used when
 * either side requires it; a side that requires it refuses a peer that cannot sign (the client
 * with STATUS_INVALID_SIGNATURE); guest logons need EnableInsecureGuestLogons and are blocked
 * whenever the client requires signing; an unsigned session is logged in the audit log of its
 * side (3021, 3027 for an SMB 1 client; 31998) when that audit is on (the setting, the policy
 * that sets it, or a value written under ...\Parameters), the log is enabled and the release's
 * manifest has the event; a peer that cannot encrypt likewise (3022, 31999) where encryption
 * audit is on. A refused session is not logged (whether Windows logs it with
 * ServerRequiresSigning true is unsettled). Sources: windowsserverdocs smb-signing-overview.md,
 * smb-signing.md, smb-security-hardening.md; the events' templates: SMB_AUDIT_EVENTS.
 */
export function smbConnect(state: HostState, peer: SmbPeer): SmbOutcome {
  const at = peer.at ?? new Date();
  const side: Side = peer.direction === "outbound" ? "client" : "server";
  const name = peer.name ?? (side === "server" ? `\\\\${peer.address}` : `\\${peer.address}`);
  const nameField = side === "server" ? "ClientName" : "ServerName";
  /** Logs the event of that id (its newest version on this host) if the audit is on, the log enabled and the release has the event. */
  const log = (on: boolean, id: number, values: Record<string, string | number | boolean>): boolean => {
    const target = state.auditLogs?.[side];
    const definition = providerEvents(state, side)
      .filter((e) => e.id === id)
      .sort((a, b) => b.version - a.version)[0];
    if (!on || !target?.enabled || !definition) return false;
    target.events.push(auditEvent(definition, at, { [nameField]: name, ...values }));
    return true;
  };
  // Encryption audit logs a peer that cannot encrypt, signing or not (the event says whether this side requires encryption; EncryptData is not modelled: false).
  const encryptionAudited = () =>
    peer.encrypts === false &&
    (side === "server" ? log(state.encryptionAudit?.server === true, 3022, { ServerRequiresEncryption: false }) : log(state.encryptionAudit?.client === true, 31999, { ClientRequireEncryption: false }));
  if (side === "client") {
    const requires = live(state, "client").RequireSecuritySignature === true;
    if (peer.guestOnly) {
      // Hosts without the setting (before Windows 10) fall back to guest as they always did.
      const guests = effective(state, "client", "EnableInsecureGuestLogons") !== false && !requires;
      return guests ? { connected: true, signed: false, audited: false } : { connected: false, signed: false, error: GUEST_ACCESS_BLOCKED, audited: false };
    }
    if (peer.signs) return { connected: true, signed: requires, audited: encryptionAudited() };
    if (requires) return { connected: false, signed: false, error: STATUS_INVALID_SIGNATURE, audited: false };
    const signing = log(effective(state, "client", "AuditServerDoesNotSupportSigning") === true, 31998, { ClientRequireSigning: false });
    return { connected: true, signed: false, audited: encryptionAudited() || signing };
  }
  const requires = live(state, "server").RequireSecuritySignature === true;
  if (peer.signs) return { connected: true, signed: requires, audited: encryptionAudited() };
  if (requires) return { connected: false, signed: false, error: SIGNING_REQUIRED_REFUSED, audited: false };
  const signing = log(effective(state, "server", "AuditClientDoesNotSupportSigning") === true, peer.smb1 ? 3027 : 3021, { ServerRequiresSigning: false, UserName: peer.account ?? "" });
  const encryption = !peer.smb1 && encryptionAudited();
  return { connected: true, signed: false, audited: signing || encryption };
}

/** Administrative Templates by cmdlet property name (the registry value under HKLM\SOFTWARE\Policies). */
export const TEMPLATE_SETTINGS: Record<Side, readonly string[]> = {
  client: ["EnableInsecureGuestLogons", "AuditServerDoesNotSupportSigning", "AuditInsecureGuestLogon"],
  server: ["AuditClientDoesNotSupportSigning", "AuditInsecureGuestLogon"],
};
export const SECURITY_OPTIONS: readonly string[] = ["RequireSecuritySignature", "EnableSecuritySignature"];

/**
 * A plain `powershell.exe -Command` as users run one cmdlet at a time with a generic remote-
 * command resource (the benchmark's naive baseline): `exit`, `Get-Smb*Configuration |
 * ConvertTo-Json`, and `Set-Smb*Configuration -Name $true|$false ... -Force`.
 */
export function runGenericCommand(state: HostState, text: string): { stdout: string; exitCode: number; changed: boolean } {
  const command = text.trim();
  if (command === "exit") return { stdout: "", exitCode: 0, changed: false };
  const get = /^Get-Smb(Client|Server)Configuration \| ConvertTo-Json$/.exec(command);
  if (get) {
    const side: Side = get[1] === "Client" ? "client" : "server";
    return { stdout: asciiJson(state[side]), exitCode: 0, changed: false };
  }
  const set = /^Set-Smb(Client|Server)Configuration((?: -\w+ \$(?:true|false))+) -Force$/.exec(command);
  if (set) {
    const side: Side = set[1] === "Client" ? "client" : "server";
    if (state.faults.nonAdmin) return { stdout: "", exitCode: 1, changed: false };
    let changed = false;
    for (const [, name, value] of set[2].matchAll(/-(\w+) \$(true|false)/g)) {
      if (!(name in state[side])) return { stdout: "", exitCode: 1, changed };
      changed ||= state[side][name] !== (value === "true");
      state[side][name] = value === "true";
    }
    return { stdout: "", exitCode: 0, changed };
  }
  return { stdout: "", exitCode: 1, changed: false };
}

/** PowerShell's ConvertTo-Json output as the script writes it: ASCII only, \uXXXX escapes. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/** A CLIXML stream as powershell.exe writes it to stderr when it is not attached to a console. */
export function clixml(records: Array<{ kind: "progress" | "error"; text: string }>): string {
  const esc = (t: string) =>
    t
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/\r/g, "_x000D_")
      .replace(/\n/g, "_x000A_");
  const body = records
    .map((r, i) =>
      r.kind === "progress"
        ? `<Obj S="progress" RefId="${i}"><TN RefId="${i}"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>${esc(r.text)}</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj>`
        : `<S S="Error">${esc(r.text)}</S>`,
    )
    .join("");
  return `#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">${body}</Objs>`;
}
