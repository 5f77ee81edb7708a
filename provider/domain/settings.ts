// The catalogue of SMB signing settings this provider manages: our property names, the
// Get-/Set-SmbClientConfiguration and Get-/Set-SmbServerConfiguration property names they map
// to, and the oldest build that has them. Everything else (schema, diff, scripts' requests,
// outputs) is derived from this one table.

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
}

// Windows 11 24H2 / Server 2025 build 10.0.26100.3613 and later have the audit properties
// (Microsoft: "SMB signing and encryption auditing"); older builds report them as unsupported.
export const CLIENT_SETTINGS: readonly SettingDefinition[] = [
  {
    name: "requireSigning",
    cmdletProperty: "RequireSecuritySignature",
    description: "the SMB client always signs outbound traffic (\"Digitally sign communications (always)\")",
    weakenedWhen: false,
  },
  {
    name: "enableSigning",
    cmdletProperty: "EnableSecuritySignature",
    description: "the SMB client signs if the server agrees (matters to SMB 1 only)",
    weakenedWhen: undefined,
  },
  {
    name: "enableInsecureGuestLogons",
    cmdletProperty: "EnableInsecureGuestLogons",
    description: "the SMB client may log on to servers as an unauthenticated guest",
    weakenedWhen: true,
  },
  {
    name: "auditServerDoesNotSupportSigning",
    cmdletProperty: "AuditServerDoesNotSupportSigning",
    description: "log event 31998 when a server does not support signing (24H2 build 26100.3613+)",
    weakenedWhen: undefined,
  },
  {
    name: "auditInsecureGuestLogon",
    cmdletProperty: "AuditInsecureGuestLogon",
    description: "log an event when the client logs on as an insecure guest (24H2 build 26100.3613+)",
    weakenedWhen: undefined,
  },
];

export const SERVER_SETTINGS: readonly SettingDefinition[] = [
  {
    name: "requireSigning",
    cmdletProperty: "RequireSecuritySignature",
    description: "the SMB server always requires signed inbound traffic",
    weakenedWhen: false,
  },
  {
    name: "enableSigning",
    cmdletProperty: "EnableSecuritySignature",
    description: "the SMB server signs if the client agrees (matters to SMB 1 only)",
    weakenedWhen: undefined,
  },
  {
    name: "auditClientDoesNotSupportSigning",
    cmdletProperty: "AuditClientDoesNotSupportSigning",
    description: "log event 3021 when a client does not support signing (Server 2025 / 24H2 build 26100.3613+)",
    weakenedWhen: undefined,
  },
  {
    name: "auditInsecureGuestLogon",
    cmdletProperty: "AuditInsecureGuestLogon",
    description: "log an event when a client logs on as an insecure guest (Server 2025 / 24H2 build 26100.3613+)",
    weakenedWhen: undefined,
  },
];

export const SETTINGS: Readonly<Record<Side, readonly SettingDefinition[]>> = {
  client: CLIENT_SETTINGS,
  server: SERVER_SETTINGS,
};

export const SIDES: readonly Side[] = ["client", "server"];

/** Settings of one side keyed by our names; a missing key is "not managed" / "not reported". */
export type SideSettings = Partial<Record<string, boolean>>;

/** Observed values of one side: `null` means the host does not have that setting (older build). */
export type ObservedSide = Record<string, boolean | null>;

export interface SigningSettings {
  client?: SideSettings;
  server?: SideSettings;
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

/** Translates a host's cmdlet-named values back to our names; absent or null means unsupported. */
export function fromCmdletProperties(side: Side, values: Record<string, unknown> | undefined): ObservedSide {
  const out: ObservedSide = {};
  for (const def of SETTINGS[side]) {
    const v = values?.[def.cmdletProperty];
    out[def.name] = typeof v === "boolean" ? v : null;
  }
  return out;
}
