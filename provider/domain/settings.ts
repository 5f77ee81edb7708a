// The catalogue of SMB signing settings this provider manages: our property names, the
// Get-/Set-SmbClientConfiguration and Get-/Set-SmbServerConfiguration property names they map
// to, where hosts without the SmbShare module keep them, and how Group Policy sets them. The
// schema, diff, requests and outputs derive from this table; smb-signing.ps1 keeps its own copy
// (a static script cannot import it), and test/unit/settingsTable.test.ts fails when they differ.

export type Side = "client" | "server";

export interface SettingDefinition {
  /** Our input/output name, e.g. `requireSigning`. */
  readonly name: string;
  /** The property of Get-SmbClientConfiguration / Get-SmbServerConfiguration. */
  readonly cmdletProperty: string;
  /** What it means, for docs and error messages. */
  readonly description: string;
  /** True when setting it to `true` weakens security (needs the acknowledgement input). */
  readonly weakenedWhen: boolean | undefined;
  /**
   * The REG_DWORD under ...\Lanman{Workstation,Server}\Parameters that hosts without the SmbShare
   * module (before Windows 8 / Server 2012) use; undefined: not managed on those hosts.
   */
  readonly registryFallback: string | undefined;
  /**
   * How Group Policy sets it: a Security Option (written into the same ...\Parameters value,
   * found through RSoP), or an Administrative Template (a value under
   * HKLM\SOFTWARE\Policies\Microsoft\Windows\Lanman{Workstation,Server}, which wins).
   */
  readonly groupPolicy: { readonly kind: "securityOption" } | { readonly kind: "administrativeTemplate"; readonly valueName: string };
}

const SECURITY_OPTION = { kind: "securityOption" } as const;
const template = (valueName: string) => ({ kind: "administrativeTemplate", valueName }) as const;

// Windows 11 24H2 / Server 2025 have the audit properties (Microsoft: "SMB signing and
// encryption auditing"); older builds report them as unsupported. EnableSecuritySignature is
// ignored by SMB 2 and 3 ("Overview of SMB signing"): it is reported, and manageable, for SMB 1.
export const CLIENT_SETTINGS = [
  {
    name: "requireSigning",
    cmdletProperty: "RequireSecuritySignature",
    description: 'the SMB client always signs outbound traffic ("Digitally sign communications (always)")',
    weakenedWhen: false,
    registryFallback: "RequireSecuritySignature",
    groupPolicy: SECURITY_OPTION,
  },
  {
    name: "enableSigning",
    cmdletProperty: "EnableSecuritySignature",
    description: "the SMB client signs if the server agrees: SMB 1 only, ignored by SMB 2 and 3",
    weakenedWhen: undefined,
    registryFallback: "EnableSecuritySignature",
    groupPolicy: SECURITY_OPTION,
  },
  {
    name: "enableInsecureGuestLogons",
    cmdletProperty: "EnableInsecureGuestLogons",
    description: "the SMB client may log on to servers as an unauthenticated guest",
    weakenedWhen: true,
    registryFallback: undefined,
    groupPolicy: template("AllowInsecureGuestAuth"),
  },
  {
    name: "auditServerDoesNotSupportSigning",
    cmdletProperty: "AuditServerDoesNotSupportSigning",
    description: "log an event in SMBClient/Audit when a server does not support signing (24H2 / Server 2025)",
    weakenedWhen: undefined,
    registryFallback: undefined,
    groupPolicy: template("AuditServerDoesNotSupportSigning"),
  },
  {
    name: "auditInsecureGuestLogon",
    cmdletProperty: "AuditInsecureGuestLogon",
    description: "log an event when the client logs on as an insecure guest (24H2 / Server 2025)",
    weakenedWhen: undefined,
    registryFallback: undefined,
    groupPolicy: template("AuditInsecureGuestLogon"),
  },
] as const satisfies readonly SettingDefinition[];

export const SERVER_SETTINGS = [
  {
    name: "requireSigning",
    cmdletProperty: "RequireSecuritySignature",
    description: "the SMB server always requires signed inbound traffic",
    weakenedWhen: false,
    registryFallback: "RequireSecuritySignature",
    groupPolicy: SECURITY_OPTION,
  },
  {
    name: "enableSigning",
    cmdletProperty: "EnableSecuritySignature",
    description: "the SMB server signs if the client agrees: SMB 1 only, ignored by SMB 2 and 3",
    weakenedWhen: undefined,
    registryFallback: "EnableSecuritySignature",
    groupPolicy: SECURITY_OPTION,
  },
  {
    name: "auditClientDoesNotSupportSigning",
    cmdletProperty: "AuditClientDoesNotSupportSigning",
    description: "log an event in SMBServer/Audit when a client does not support signing (24H2 / Server 2025)",
    weakenedWhen: undefined,
    registryFallback: undefined,
    groupPolicy: template("AuditClientDoesNotSupportSigning"),
  },
  {
    name: "auditInsecureGuestLogon",
    cmdletProperty: "AuditInsecureGuestLogon",
    description: "log an event when a client logs on as an insecure guest (24H2 / Server 2025)",
    weakenedWhen: undefined,
    registryFallback: undefined,
    groupPolicy: template("AuditInsecureGuestLogon"),
  },
] as const satisfies readonly SettingDefinition[];

/** The names of one side's settings, as literal types (the resource's argument types are held to them). */
export type SettingName<S extends Side> = (S extends "client" ? typeof CLIENT_SETTINGS : typeof SERVER_SETTINGS)[number]["name"];

export const SETTINGS: Readonly<Record<Side, readonly SettingDefinition[]>> = {
  client: CLIENT_SETTINGS,
  server: SERVER_SETTINGS,
};

export const SIDES: readonly Side[] = ["client", "server"];

/** Settings of one side keyed by our names; a missing key is "not managed" / "not reported". */
export type SideSettings = Partial<Record<string, boolean>>;

/** Observed values of one side: `null` means the host does not have that setting (older build). */
export type ObservedSide = Record<string, boolean | null>;

/** Every signing setting a host reported, both sides, in our names (null: the host lacks it). */
export interface ObservedSettings {
  client: ObservedSide;
  server: ObservedSide;
}

/** Settings with a value, both sides, in our names: what a program declares, the originals a record keeps, what a restore puts back. */
export interface DeclaredSettings {
  client: SideSettings;
  server: SideSettings;
}

/** Settings named without values, both sides, in our names (e.g. what a run wrote). */
export type SettingNames = Record<Side, string[]>;

/** The setting a host names by its cmdlet property on one side; undefined for a name we do not manage. */
export function settingByCmdlet(side: Side, cmdletProperty: string): SettingDefinition | undefined {
  return SETTINGS[side].find((d) => d.cmdletProperty === cmdletProperty);
}

/** Translates our names to cmdlet property names, dropping keys we do not know. */
export function toCmdletProperties(side: Side, values: SideSettings | undefined): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const def of SETTINGS[side]) {
    const v = values?.[def.name];
    if (typeof v === "boolean") out[def.cmdletProperty] = v;
  }
  return out;
}

/** Renames the entries a host reports under cmdlet property names to our names, both sides; unknown or absent keys are dropped. */
export function bothSidesFromCmdlet<T>(values: Partial<Record<Side, Record<string, T>>>): Record<Side, Record<string, T>> {
  const out: Record<Side, Record<string, T>> = { client: {}, server: {} };
  for (const side of SIDES) {
    for (const def of SETTINGS[side]) {
      const v = values[side]?.[def.cmdletProperty];
      if (v !== undefined) out[side][def.name] = v;
    }
  }
  return out;
}

/** Translates a host's cmdlet-named values back to our names; absent or null means unsupported. */
export function fromCmdletProperties(side: Side, values: Record<string, unknown> | undefined): ObservedSide {
  const out: ObservedSide = {};
  for (const def of SETTINGS[side]) {
    const v = values?.[def.cmdletProperty];
    out[def.name] = typeof v === "boolean" ? v : null;
  }
  return out;
}
