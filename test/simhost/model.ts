// The model of a Windows host's SMB signing configuration: presets per edition, state kept on
// disk across connections, fault switches, and an emulation of what the shipped smb-signing.ps1
// does with a request on such a host. Both simulated transports dispatch here.
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
  /** PowerShell fails before the script can reply (uncaught error, exit code 1). */
  crash?: boolean;
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

export interface HostState {
  preset: PresetName;
  os: { productName: string; edition: string; displayVersion: string; build: string; domainRole: number };
  /** Whether the SmbShare module (Get-/Set-Smb*Configuration) exists. */
  cmdlets: boolean;
  client: Values;
  server: Values;
  /** Values a Group Policy enforces: a local Set-* does not stick. */
  groupPolicy: { client: Values; server: Values };
  faults: HostFaults;
  /** How long powershell.exe takes to start on this host (about 400 ms on real Windows; 0 in tests). */
  powershellStartMs?: number;
  /** Size and SHA-256 of the stdin of the last bootstrap run, for transport tests. */
  lastStdin?: { bytes: number; sha256: string };
  /**
   * The REG_SZ value HKLM:\SOFTWARE\pulumi-smb-signing\OriginalSettings as smb-signing.ps1
   * writes it (absent: no record). Tests may corrupt it as an administrator could.
   */
  record?: string;
  /** Counters tests read: remote runs, runs that changed a setting, and writes of the record. */
  counters: { runs: number; writes: number; recordWrites?: number };
}

const AUDIT_CLIENT = { AuditServerDoesNotSupportSigning: false, AuditInsecureGuestLogon: false };
const AUDIT_SERVER = { AuditClientDoesNotSupportSigning: false, AuditInsecureGuestLogon: false };

function win11(edition: string, productName: string, required: boolean, guest: boolean): Omit<HostState, "preset"> {
  return {
    // Windows 11 still reports "Windows 10" in the ProductName registry value.
    os: { productName, edition, displayVersion: "24H2", build: "26100.4061", domainRole: 1 },
    cmdlets: true,
    client: { RequireSecuritySignature: required, EnableSecuritySignature: true, EnableInsecureGuestLogons: guest, ...AUDIT_CLIENT },
    server: { RequireSecuritySignature: required, EnableSecuritySignature: required, ...AUDIT_SERVER },
    groupPolicy: { client: {}, server: {} },
    faults: {},
    counters: { runs: 0, writes: 0 },
  };
}

function server2025(domainController: boolean): Omit<HostState, "preset"> {
  return {
    os: {
      productName: "Windows Server 2025 Datacenter",
      edition: "ServerDatacenter",
      displayVersion: "24H2",
      build: "26100.4061",
      domainRole: domainController ? 5 : 3,
    },
    cmdlets: true,
    client: { RequireSecuritySignature: true, EnableSecuritySignature: true, EnableInsecureGuestLogons: false, ...AUDIT_CLIENT },
    server: { RequireSecuritySignature: domainController, EnableSecuritySignature: domainController, ...AUDIT_SERVER },
    groupPolicy: { client: {}, server: {} },
    faults: {},
    counters: { runs: 0, writes: 0 },
  };
}

export const PRESETS = {
  "win11-24h2-enterprise": () => win11("Enterprise", "Windows 10 Enterprise", true, false),
  "win11-24h2-pro": () => win11("Professional", "Windows 10 Pro", true, false),
  "win11-24h2-education": () => win11("Education", "Windows 10 Education", true, false),
  "win11-24h2-home": () => win11("Core", "Windows 10 Home", false, true),
  "server-2025": () => server2025(false),
  "server-2025-dc": () => server2025(true),
  // Windows 11 23H2: SmbShare cmdlets, but none of the 24H2 audit properties.
  "win11-23h2-pro": (): Omit<HostState, "preset"> => ({
    ...win11("Professional", "Windows 10 Pro", false, false),
    os: { productName: "Windows 10 Pro", edition: "Professional", displayVersion: "23H2", build: "22631.4317", domainRole: 1 },
    client: { RequireSecuritySignature: false, EnableSecuritySignature: true, EnableInsecureGuestLogons: false },
    server: { RequireSecuritySignature: false, EnableSecuritySignature: false },
  }),
  // Windows Server 2008 R2: no SmbShare module; settings live in the registry only.
  "server-2008r2": (): Omit<HostState, "preset"> => ({
    os: { productName: "Windows Server 2008 R2 Standard", edition: "ServerStandard", displayVersion: "", build: "7601.24546", domainRole: 3 },
    cmdlets: false,
    client: { RequireSecuritySignature: false, EnableSecuritySignature: true, EnableInsecureGuestLogons: true },
    server: { RequireSecuritySignature: false, EnableSecuritySignature: false },
    groupPolicy: { client: {}, server: {} },
    faults: {},
    counters: { runs: 0, writes: 0 },
  }),
} as const;

export type PresetName = keyof typeof PRESETS;

export function newHostState(preset: PresetName): HostState {
  return { preset, ...PRESETS[preset]() };
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

export interface ScriptOutcome {
  reply: Record<string, unknown>;
  exitCode: number;
}

function errorReply(kind: string, message: string, extra: Record<string, unknown> = {}): ScriptOutcome {
  return { reply: { status: "error", kind, message, ...extra }, exitCode: 2 };
}

/** What smb-signing.ps1 reads on this host (cmdlet properties or registry-backed names). */
function readSettings(state: HostState): { client: Values; server: Values } {
  return { client: { ...state.client }, server: { ...state.server } };
}

type Sides = { client: Values; server: Values };
interface HostRecordModel {
  owner: string;
  originals: Sides;
}

const SIDES: Side[] = ["client", "server"];

/** Known settings with Boolean values, by side, as ConvertTo-SideTable keeps them. */
function sideTable(value: unknown): Sides {
  const out: Sides = { client: {}, server: {} };
  const object = value as Record<string, Record<string, unknown>> | null | undefined;
  for (const side of SIDES) {
    for (const [name, v] of Object.entries(object?.[side] ?? {})) {
      if (knownProperty(side, name) && typeof v === "boolean") out[side][name] = v;
    }
  }
  return out;
}

/** Read-Record: null without a record; "bad" for a value the script did not write. */
function readRecord(state: HostState): HostRecordModel | null | "bad" {
  if (state.record === undefined) return null;
  let parsed: { version?: unknown; owner?: unknown; originals?: unknown };
  try {
    parsed = JSON.parse(state.record);
  } catch {
    return "bad";
  }
  if (!parsed || parsed.version !== 1 || typeof parsed.owner !== "string" || parsed.originals == null) return "bad";
  return { owner: parsed.owner, originals: sideTable(parsed.originals) };
}

/** Join-Originals: the record first, then the caller's state, then current values of newly declared settings. */
function joinOriginals(record: HostRecordModel | null, fromState: Sides, before: Sides, declared: Sides): Sides {
  const out: Sides = { client: {}, server: {} };
  for (const side of SIDES) {
    Object.assign(out[side], fromState[side], record?.originals[side]);
    for (const name of Object.keys(declared[side])) {
      if (!(name in out[side]) && name in before[side]) out[side][name] = before[side][name];
    }
  }
  return out;
}

function sameRecord(record: HostRecordModel | null, owner: string, originals: Sides): boolean {
  if (!record || record.owner !== owner) return false;
  return SIDES.every(
    (side) =>
      Object.keys(record.originals[side]).length === Object.keys(originals[side]).length &&
      Object.entries(originals[side]).every(([name, v]) => record.originals[side][name] === v),
  );
}

/**
 * Emulates smb-signing.ps1 on this host, step by step as the script does them: validate the
 * request, read the record, refuse another owner's host, read, write the record before the first
 * Set-* (a non-administrator cannot write HKLM either), apply, re-read, and remove the record
 * after a complete restore. Mutates `state` as Windows would (Set-* calls, then Group Policy
 * winning back its values) and returns the script's reply and exit code.
 */
export function runSigningScript(state: HostState, requestJson: string): ScriptOutcome {
  let request: {
    operation?: string;
    owner?: unknown;
    previousOwner?: unknown;
    takeOwnership?: unknown;
    client?: Record<string, unknown>;
    server?: Record<string, unknown>;
    originals?: unknown;
  };
  try {
    // ConvertFrom-Json gives $null for "null", and $null.operation is $null: a badRequest, not a crash.
    request = JSON.parse(requestJson) ?? {};
  } catch (err) {
    return errorReply("badRequest", `the request is not JSON: ${(err as Error).message}`);
  }
  if (request.operation !== "read" && request.operation !== "apply" && request.operation !== "restore") {
    return errorReply("badRequest", `unknown operation '${asText(request.operation)}'`);
  }
  for (const side of SIDES) {
    for (const [name, value] of Object.entries(request[side] ?? {})) {
      if (!knownProperty(side, name) || typeof value !== "boolean") return errorReply("badRequest", `unknown ${side} setting '${name}' or not a Boolean`);
    }
  }
  const owner = asText(request.owner);
  const previousOwner = asText(request.previousOwner);
  const declared = sideTable(request);
  const fromState = sideTable(request.originals);
  const facts = { ...state.os };
  const source = state.cmdlets ? "cmdlet" : "registry";
  let record = readRecord(state);
  if (record === "bad") {
    return errorReply("badRecord", "HKLM:\\SOFTWARE\\pulumi-smb-signing\\OriginalSettings is not a record this provider wrote; inspect it, then remove it");
  }
  const ours = record === null || record.owner === owner || (previousOwner !== "" && record.owner === previousOwner);
  if (!ours && request.operation === "apply" && request.takeOwnership !== true) {
    return errorReply("ownedElsewhere", `the SMB signing settings of this host are owned by ${record!.owner}`, { host: facts, record });
  }
  if (!ours && request.operation === "restore") {
    const current = readSettings(state);
    return { reply: { status: "ok", host: facts, source, before: current, after: current, changed: [], record, restored: false }, exitCode: 0 };
  }
  const before = readSettings(state);
  for (const side of SIDES) {
    for (const name of Object.keys(declared[side])) {
      if (!(name in before[side])) {
        return errorReply("unsupportedSetting", `this host has no ${side} setting ${name} (build ${facts.build})`, { host: facts, source, before, record });
      }
    }
  }
  const changed: string[] = [];
  let originals: Sides = { client: {}, server: {} };
  if (request.operation !== "read") {
    originals = joinOriginals(record, fromState, before, declared);
    let desired = originals;
    if (request.operation === "apply") {
      desired = declared;
      if (!sameRecord(record, owner, originals)) {
        // HKLM\SOFTWARE is writable by administrators only: the same denial Set-* would meet.
        if (state.faults.nonAdmin) return errorReply("accessDenied", "Requested registry access is not allowed.", { host: facts, source, before, changed, record });
        state.record = JSON.stringify({ version: 1, owner, originals });
        state.counters.recordWrites = (state.counters.recordWrites ?? 0) + 1;
        record = { owner, originals };
      }
    }
    for (const side of SIDES) {
      const values: Values = {};
      for (const [name, value] of Object.entries(desired[side])) {
        if (name in before[side] && before[side][name] !== value) values[name] = value;
      }
      if (Object.keys(values).length === 0) continue;
      const cmdlet = side === "client" ? "Set-SmbClientConfiguration" : "Set-SmbServerConfiguration";
      if (state.faults.nonAdmin) return errorReply("accessDenied", "Access denied", { host: facts, source, before, changed, record });
      if (state.faults.failingCmdlet === cmdlet) {
        return errorReply("failed", "The service has not been started.", { host: facts, source, before, changed, record });
      }
      Object.assign(state[side], values, state.groupPolicy[side]);
      for (const name of Object.keys(values)) changed.push(`${side}.${name}`);
    }
  }
  const after = readSettings(state);
  let restored = false;
  if (request.operation === "restore") {
    restored = SIDES.every((side) => Object.entries(originals[side]).every(([name, v]) => !(name in after[side]) || after[side][name] === v));
    if (restored && record !== null) {
      delete state.record;
      record = null;
    }
  }
  return { reply: { status: "ok", host: facts, source, before, after, changed, record, restored }, exitCode: 0 };
}

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
    Object.assign(state[side], state.groupPolicy[side]);
    return { stdout: "", exitCode: 0, changed };
  }
  return { stdout: "", exitCode: 1, changed: false };
}

/** PowerShell's [string] of a JSON value never fails; String() of an object without toString does. */
function asText(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function knownProperty(side: Side, name: string): boolean {
  const all = PRESETS["win11-24h2-enterprise"]();
  // Own properties only: `in` would take toString or constructor for settings, which the script's
  // `$Properties[$side] -contains $name` never does.
  return Object.hasOwn(all[side], name);
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
