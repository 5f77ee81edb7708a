// Pure rules of the resource: what is managed, what changed (diff without a host call), which
// original values to record, and whether the host ended up as declared.
import type { Readiness } from "./impact";
import { type Connection, DEFAULT_READINESS_DAYS, type KnownPolicyInputs, type PolicyInputs } from "./schema";
import { type DeclaredSettings, type ObservedSettings, Side, SideSettings, SIDES } from "./settings";

// The settings' shapes are settings.ts's (impact.ts needs them too, and imports nothing of this file).
export type { DeclaredSettings, ObservedSettings } from "./settings";

/**
 * The inputs as state records them: the schema's (schema.ts), known and validated, except that
 * state written by earlier versions may lack the owner (before records existed) and readinessDays
 * (before readiness existed: 7).
 */
type RecordedInputFields = Omit<KnownPolicyInputs, "owner" | "readinessDays"> & Partial<Pick<KnownPolicyInputs, "owner" | "readinessDays">>;

/** What the provider stores as outputs: the inputs it acted on plus what it observed. */
export type PolicyOutputs = RecordedInputFields & {
  /** The random id the host's record names as its owner (domain/owner.ts). Absent in state written before owner ids, until its next apply. */
  ownerId?: string;
  /** Every signing setting the host reported, managed or not (null: the host lacks it). */
  observed: ObservedSettings;
  /** The values the host had before this resource first managed them; restored on delete. */
  originalSettings: DeclaredSettings;
  hostFacts: Record<string, unknown>;
  settingsSource: string;
  /** Settings a Group Policy object enforces on the host: side -> setting -> value and GPO name. */
  policyManaged?: PolicyEnforced;
  /** Declared settings the host no longer has because a Group Policy object set them back. */
  policyDrift?: string[];
  /** Whether the last run could see the host's Group Policy (absent in state written before it was reported). */
  policyVisibility?: PolicyVisibility;
  /** What the host's SMB audit logs said at the last read (null: the host was not asked). */
  readiness?: Readiness | null;
  /** What the declared settings change for people on this host, compared with how it was before this resource (impact.ts). */
  consequences?: string[];
  /** Sides the host could not read at the last up or refresh, with the error (e.g. the Server service disabled); absent or {}: none. */
  unavailableSides?: Partial<Record<Side, string>>;
  /** Services that may need a restart before settings written to the registry take effect (Windows 7 / Server 2008 R2), e.g. ["LanmanServer"]. */
  restartNeeded?: string[];
  /** With connection.scriptPath: how the signed copy ran at the last up or refresh (path, language mode, signature). */
  scriptRun?: { invocation: "file"; path: string; languageMode: string; signature: { status: string; signer: string; thumbprint: string } };
  /**
   * WinRM: the mechanism the last up or refresh authenticated with ("kerberos", "ntlm" or "basic";
   * with "negotiate", which it chose). Absent over SSH and in state written before it was reported.
   */
  authenticatedWith?: "kerberos" | "ntlm" | "basic";
};

/** "<project>/<stack>/<resource name>" (both front ends): the owner records of the first format named, and a label where no URN is known. */
export function ownerName(project: string, stack: string, name: string): string {
  return `${project}/${stack}/${name}`;
}

/** The module and type SmbSigningPolicy registers its dynamic resource under, and the type token the engine forms of them. */
export const RESOURCE_MODULE = "smb";
export const RESOURCE_TYPE_NAME = "SmbSigningPolicy";
export const RESOURCE_TYPE = `pulumi-nodejs:dynamic/${RESOURCE_MODULE}:${RESOURCE_TYPE_NAME}`;
/** The provider plugin's package (`pulumi-resource-smbsigning`, configuration keys `smbsigning:<key>`) and its resource's type token. */
export const PLUGIN_PACKAGE = "smbsigning";
export const PLUGIN_RESOURCE_TYPE = `${PLUGIN_PACKAGE}:index:${RESOURCE_TYPE_NAME}`;
/** Both front ends' type tokens: the same resource, the same rules (the policy pack judges both). */
export const RESOURCE_TYPES: readonly string[] = [RESOURCE_TYPE, PLUGIN_RESOURCE_TYPE];

/**
 * Settings a Group Policy object enforces on a host: side -> setting (our names) -> the value and
 * the GPO's name (or the MDM policy's, see groupPolicySource).
 */
export type PolicyEnforced = Record<Side, Record<string, { value: boolean; gpo: string }>>;

/**
 * Whether the last run could see the host's Group Policy: "unknown" where RSoP logging is off,
 * the RSoP query failed, or a domain member's RSoP names no GPO (reason says which). Unknown is
 * not "no policy": a policy may still set a setting back.
 */
export type PolicyVisibility = { state: "known" } | { state: "unknown"; reason: string };

/** The text the script gives MDM policy in place of a GPO name begins so (smb-signing.ps1, Get-PolicySettings). */
const MDM_PREFIX = "MDM (Intune)";

/** A policy source for people: `Group Policy "<GPO>"`, or the MDM policy as the script names it. */
export function groupPolicySource(gpo: string): string {
  return gpo.startsWith(MDM_PREFIX) ? gpo : `Group Policy "${gpo}"`;
}

/** The settings the user declared (left-out settings are not managed). */
export function declaredSettings(inputs: Pick<PolicyInputs, "client" | "server">): DeclaredSettings {
  const pick = (side: Side): SideSettings => {
    const out: SideSettings = {};
    for (const [k, v] of Object.entries(inputs[side] ?? {})) if (typeof v === "boolean") out[k] = v;
    return out;
  };
  return { client: pick("client"), server: pick("server") };
}

/** The resource id names the host it owns. */
export function policyId(conn: Pick<Connection, "host">): string {
  return conn.host;
}

export interface PolicyDiff {
  changes: boolean;
  replaces: string[];
  /** Property paths that differ, for messages and tests. */
  changed: string[];
}

/**
 * Local diff (no host call). A different host (or transport) is another resource: replace.
 * Any other connection property (credentials, host key, port, certificate settings, timeouts)
 * is an update that writes nothing on the host, so refresh and destroy use what the program
 * says now. A managed setting changes when its declared value differs from the previously
 * declared one or from what the host was last seen with.
 */
export function diffPolicy(olds: Partial<PolicyOutputs>, news: PolicyInputs): PolicyDiff {
  const replaces: string[] = [];
  for (const key of ["host", "transport"] as const) {
    if (olds.connection?.[key] !== undefined && olds.connection[key] !== news.connection[key]) {
      replaces.push(`connection.${key}`);
    }
  }
  const changed: string[] = [];
  const oldConnection = (olds.connection ?? {}) as Record<string, unknown>;
  const newConnection = news.connection as Record<string, unknown>;
  for (const key of new Set([...Object.keys(oldConnection), ...Object.keys(newConnection)])) {
    if (key !== "host" && key !== "transport" && !sameValue(oldConnection[key], newConnection[key])) changed.push(`connection.${key}`);
  }
  for (const side of SIDES) {
    // By name, as strings: olds come from state and may hold names an older version managed.
    const declared: Record<string, unknown> = news[side] ?? {};
    const before: Record<string, unknown> = olds[side] ?? {};
    for (const name of new Set([...Object.keys(declared), ...Object.keys(before)])) {
      const want = declared[name];
      if (want !== before[name] || (want !== undefined && want !== olds.observed?.[side]?.[name])) {
        changed.push(`${side}.${name}`);
      }
    }
  }
  if ((olds.onDelete ?? "restore") !== news.onDelete) changed.push("onDelete");
  // A new window re-reads the audit logs at the next up; state from before readiness read 7 days.
  if ((olds.readinessDays ?? DEFAULT_READINESS_DAYS) !== news.readinessDays) changed.push("readinessDays");
  if (olds.acknowledgeInsecureSettings !== news.acknowledgeInsecureSettings) changed.push("acknowledgeInsecureSettings");
  for (const key of ["owner", "takeOwnership", "customTimeouts"] as const) {
    // State written before owners existed carries none: adopting the default is no change.
    if (key === "owner" && olds.owner === undefined) continue;
    if (!sameValue(olds[key], news[key])) changed.push(key);
  }
  return { changes: changed.length > 0 || replaces.length > 0, replaces, changed: [...replaces, ...changed] };
}

/** Originals so far, plus the pre-change value of every newly managed setting. */
export function recordOriginals(previous: DeclaredSettings | undefined, before: ObservedSettings, declared: DeclaredSettings): DeclaredSettings {
  const result: DeclaredSettings = { client: { ...previous?.client }, server: { ...previous?.server } };
  for (const side of SIDES) {
    for (const name of Object.keys(declared[side])) {
      const seen = before[side][name];
      if (result[side][name] === undefined && typeof seen === "boolean") result[side][name] = seen;
    }
  }
  return result;
}

/** Declared settings the host still does not have after applying them (e.g. Group Policy wins). */
export function unenforcedSettings(declared: DeclaredSettings, after: ObservedSettings): string[] {
  const out: string[] = [];
  for (const side of SIDES) {
    for (const [name, want] of Object.entries(declared[side])) {
      if (after[side][name] !== want) out.push(`${side}.${name} (declared ${want}, host has ${after[side][name]})`);
    }
  }
  return out;
}

/** Inputs as the host really has them: what `pulumi refresh` records so drift shows as a diff. */
export function inputsFromObserved<T extends Pick<PolicyInputs, "client" | "server">>(inputs: T, observed: ObservedSettings): T {
  const result = { ...inputs };
  for (const side of SIDES) {
    const declared = inputs[side] as SideSettings | undefined;
    if (!declared) continue;
    const updated: SideSettings = {};
    for (const name of Object.keys(declared)) {
      const seen = observed[side][name];
      updated[name] = typeof seen === "boolean" ? seen : declared[name];
    }
    result[side] = updated as T[typeof side];
  }
  return result;
}

/** Deep equality of plain JSON values (inputs and outputs are nothing else). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Drift that Group Policy caused: a declared value the host lost to the value a GPO enforces. */
export function groupPolicyDrift(declared: DeclaredSettings, observed: ObservedSettings, enforced: PolicyEnforced): string[] {
  const out: string[] = [];
  for (const side of SIDES) {
    for (const [name, want] of Object.entries(declared[side])) {
      const policy = enforced[side][name];
      if (policy && observed[side][name] !== want && observed[side][name] === policy.value) {
        out.push(`${side}.${name}: ${groupPolicySource(policy.gpo)} set it back to ${policy.value}`);
      }
    }
  }
  return out;
}
