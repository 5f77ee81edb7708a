// The rules of the SMB signing policy pack, as plain functions of a resource's properties and the
// organisation's config, so they can be read and tested without a Pulumi engine; index.ts serves
// them as a CrossGuard policy pack. Messages name settings and inputs, never a credential or other
// value of the connection.
import { insecureValues } from "../provider/domain/safety";
import { SIDES, Side } from "../provider/domain/settings";

/** The type token of SmbSigningPolicy (provider/domain/policy.ts). */
export { RESOURCE_TYPES } from "../provider/domain/policy";

/** The pack's name, as `pulumi preview` prints it and as the Pulumi Cloud knows it. */
export const PACK_NAME = "smb-signing";

/** Waives one rule for one resource: named by its resource name or its full URN, with the reason shown in every run. */
export interface Waiver {
  resource: string;
  reason: string;
}

/** What one rule finds wrong with one resource: one message per problem. */
export type Findings = string[];

/** The props a rule sees: the resource's inputs (resource rules) or its outputs (the stack rule). */
export type Props = Record<string, unknown>;

export interface Rule<C> {
  name: string;
  description: string;
  /**
   * "resource": judged on the inputs before each create or update, so a mandatory violation stops
   * `pulumi up` before any host is touched. "stack": judged on the outputs (what the state
   * records), at the end of preview and up, and by `pulumi policy analyze`.
   */
  kind: "resource" | "stack";
  /**
   * The enforcement level unless the organisation's config sets one. "mandatory" for rules that
   * judge before anything changes; "advisory" for a rule that can only judge what an `up`
   * already did (a mandatory verdict then stops nothing, and blocks every later preview).
   */
  defaultLevel: "mandatory" | "advisory";
  /** JSON schema of the rule's own parameters (besides enforcementLevel and waivers). */
  parameters: Record<string, object>;
  /** The rule's parameters from the pack's config, defaults filled in; throws on a bad value. */
  parse(config: Record<string, unknown>): C;
  check(props: Props, config: C): Findings;
}

const sideSettings = (props: Props, side: Side): Record<string, unknown> => {
  const v = props[side];
  return v && typeof v === "object" ? (v as Record<string, unknown>) : {};
};

const connectionOf = (props: Props): Record<string, unknown> => {
  const v = props.connection;
  return v && typeof v === "object" ? (v as Record<string, unknown>) : {};
};

/** A boolean parameter: its value, the default where absent, an error naming it otherwise. */
function booleanParameter(rule: string, config: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = config[key];
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") throw new Error(`policy pack config: ${rule}.${key} must be true or false, not ${JSON.stringify(v)}`);
  return v;
}

const WHAT_REQUIRE_SIGNING_PROTECTS: Record<Side, string> = {
  client: "outbound SMB traffic (the host as a client) can go unsigned, to be tampered with or relayed",
  server: "inbound SMB traffic (the host as a server) can go unsigned, to be tampered with or relayed",
};

export const signingRequired: Rule<{ sides: Side[] }> = {
  name: "smb-signing-required",
  description: "SMB signing is required on both sides: client.requireSigning and server.requireSigning are declared true.",
  kind: "resource",
  defaultLevel: "mandatory",
  parameters: {
    sides: {
      type: "array",
      items: { type: "string", enum: ["client", "server"] },
      minItems: 1,
      uniqueItems: true,
      description: 'The sides whose requireSigning must be declared true (default ["client", "server"]).',
    },
  },
  parse(config) {
    const sides = config.sides ?? [...SIDES];
    if (!Array.isArray(sides) || sides.length === 0 || !sides.every((s) => s === "client" || s === "server")) {
      throw new Error(`policy pack config: smb-signing-required.sides must list "client" and/or "server", not ${JSON.stringify(config.sides)}`);
    }
    return { sides: [...new Set(sides as Side[])] };
  },
  check(props, { sides }) {
    const findings: Findings = [];
    for (const side of sides) {
      const value = sideSettings(props, side).requireSigning;
      if (value === true) continue;
      const state = value === undefined ? "is not declared (left unmanaged, the host keeps whatever it has)" : `is ${JSON.stringify(value)}`;
      findings.push(`${side}.requireSigning ${state}: ${WHAT_REQUIRE_SIGNING_PROTECTS[side]}. Declare ${side}: { requireSigning: true }.`);
    }
    return findings;
  },
};

export const guestLogonsOff: Rule<{ requireDeclared: boolean }> = {
  name: "smb-insecure-guest-logons-off",
  description: "Insecure guest logons stay off: client.enableInsecureGuestLogons is never declared true.",
  kind: "resource",
  defaultLevel: "mandatory",
  parameters: {
    requireDeclared: {
      type: "boolean",
      description: "Also require client.enableInsecureGuestLogons to be declared false, not left unmanaged (default false: hosts before Windows 10 lack it).",
    },
  },
  parse(config) {
    return { requireDeclared: booleanParameter("smb-insecure-guest-logons-off", config, "requireDeclared", false) };
  },
  check(props, { requireDeclared }) {
    const value = sideSettings(props, "client").enableInsecureGuestLogons;
    if (value === true) {
      return [
        "client.enableInsecureGuestLogons is true: the host logs on to SMB servers as an unauthenticated guest, so any server can impersonate a share. " +
          "Declare it false.",
      ];
    }
    if (requireDeclared && value !== false) {
      return [
        "client.enableInsecureGuestLogons is not declared: this organisation requires it declared false, so the host cannot keep guest logons on unnoticed.",
      ];
    }
    return [];
  },
};

export const hostIdentityPinned: Rule<{ acceptCaCertificate: boolean; requireHttpsForWinrm: boolean }> = {
  name: "smb-host-identity-pinned",
  description:
    "The host's identity is pinned before any credential is sent: connection.hostKey over SSH; over WinRM HTTPS connection.certificateFingerprint (or a " +
    "private CA in connection.caCertificate).",
  kind: "resource",
  defaultLevel: "mandatory",
  parameters: {
    acceptCaCertificate: {
      type: "boolean",
      description: "Over WinRM HTTPS, a private CA given in connection.caCertificate counts as pinned (default true); the system's CAs never do.",
    },
    requireHttpsForWinrm: {
      type: "boolean",
      description:
        "Refuse WinRM over HTTP, where NTLM seals the messages but no certificate or key identifies the host (default false: it is Windows' default " +
        "WinRM configuration).",
    },
  },
  parse(config) {
    return {
      acceptCaCertificate: booleanParameter("smb-host-identity-pinned", config, "acceptCaCertificate", true),
      requireHttpsForWinrm: booleanParameter("smb-host-identity-pinned", config, "requireHttpsForWinrm", false),
    };
  },
  check(props, { acceptCaCertificate, requireHttpsForWinrm }) {
    const c = connectionOf(props);
    const set = (key: string) => c[key] !== undefined && c[key] !== null && c[key] !== "";
    if ((c.transport ?? "ssh") === "ssh") {
      return set("hostKey")
        ? []
        : [
            "connection.hostKey is not set: the SSH host key is not pinned, so a man in the middle could receive the credentials. Set it to the host's " +
              '"SHA256:..." fingerprint (ssh-keygen -lf).',
          ];
    }
    if (c.https !== true) {
      return requireHttpsForWinrm
        ? [
            "connection.https is not true: over WinRM HTTP no certificate or key identifies the host; this organisation requires WinRM over HTTPS with a " +
              "pinned certificate.",
          ]
        : [];
    }
    if (set("certificateFingerprint")) return [];
    if (set("caCertificate") && acceptCaCertificate) return [];
    return [
      set("caCertificate")
        ? "connection.certificateFingerprint is not set: this organisation does not accept a CA (connection.caCertificate) as a pin; pin the host's " +
          "certificate by its SHA-256 fingerprint."
        : "connection.certificateFingerprint is not set: the WinRM HTTPS certificate is checked only against the system's CAs. Pin it by its SHA-256 " +
          "fingerprint (or give the private CA in connection.caCertificate).",
    ];
  },
};

export const noDangerousOptions: Rule<Record<string, never>> = {
  name: "smb-no-dangerous-options",
  description: "No dangerously* option is set: no connection.dangerouslyAcceptAnyHostKey, no connection.dangerouslySkipCertificateCheck, nor any later one.",
  kind: "resource",
  defaultLevel: "mandatory",
  parameters: {},
  parse() {
    return {};
  },
  check(props) {
    // By prefix, so an option added to the provider later is caught too. `false` is the default
    // spelled out and harmless; any other value (true, or one not known yet) is refused.
    const found: Findings = [];
    const scan = (where: string, values: Record<string, unknown>) => {
      for (const key of Object.keys(values).sort()) {
        if (/^dangerously/.test(key) && values[key] !== false && values[key] !== undefined) {
          found.push(`${where}${key} is set: it disables a check that stops a man in the middle. Remove it and pin the host instead.`);
        }
      }
    };
    scan("", props);
    scan("connection.", connectionOf(props));
    return found;
  },
};

export const restoreSecure: Rule<{ whenOriginalsUnknown: "pass" | "violation" }> = {
  name: "smb-restore-secure",
  description:
    'A resource that declares onDelete "restore" does not put back insecure values on destroy (requireSigning false, insecure guest logons on); onDelete ' +
    '"retain" (the default) keeps the host secured.',
  kind: "stack",
  // Originals are known once an up recorded them, so in up this rule judges after the hosts
  // changed: advisory unless the organisation's config says otherwise.
  defaultLevel: "advisory",
  parameters: {
    whenOriginalsUnknown: {
      type: "string",
      enum: ["pass", "violation"],
      description:
        "Until a resource has run (a create, and in preview an update: the engine then has no outputs from a dynamic provider) the originals it would " +
        'restore are unknown: "pass" (default) judges them once recorded; "violation" asks, before the first up, for onDelete "retain" on every resource ' +
        'that declares "restore".',
    },
  },
  parse(config) {
    const v = config.whenOriginalsUnknown ?? "pass";
    if (v !== "pass" && v !== "violation") {
      throw new Error(`policy pack config: smb-restore-secure.whenOriginalsUnknown must be "pass" or "violation", not ${JSON.stringify(v)}`);
    }
    return { whenOriginalsUnknown: v };
  },
  check(props, { whenOriginalsUnknown }) {
    // State written before "retain" became the default has onDelete recorded, so only an
    // explicit (or recorded) "restore" is judged.
    if (props.onDelete !== "restore") return [];
    const originals = props.originalSettings;
    if (!originals || typeof originals !== "object") {
      return whenOriginalsUnknown === "violation"
        ? ['onDelete "restore": the values a destroy would put back are not known yet and may be insecure: set onDelete: "retain".']
        : [];
    }
    const insecure = insecureValues(originals as Partial<Record<Side, Record<string, unknown>>>);
    if (insecure.length === 0) return [];
    return [
      `destroy would restore ${insecure.join(", ")} on this host (onDelete "restore" puts back the values it had before): set onDelete: "retain" to keep ` +
        `it secure, or waive this rule for the resource with the reason.`,
    ];
  },
};

/** Every rule, in the order they run. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each rule has its own configuration type
export const RULES: ReadonlyArray<Rule<any>> = [signingRequired, guestLogonsOff, hostIdentityPinned, noDangerousOptions, restoreSecure];

/** The policy that shows each waiver used, with its reason; advisory, so a waiver never blocks. */
export const WAIVERS_POLICY = "smb-waivers";

/** The waivers from a rule's config; throws, naming the entry, on a malformed one. */
export function parseWaivers(rule: string, config: Record<string, unknown>): Waiver[] {
  const list = config.waivers ?? [];
  if (!Array.isArray(list)) throw new Error(`policy pack config: ${rule}.waivers must be a list of {"resource", "reason"}`);
  return list.map((w, i) => {
    const entry = w as Partial<Waiver> | null;
    if (!entry || typeof entry.resource !== "string" || entry.resource.trim() === "" || typeof entry.reason !== "string" || entry.reason.trim() === "") {
      throw new Error(`policy pack config: ${rule}.waivers[${i}] needs a "resource" (a resource name or URN) and a non-empty "reason"`);
    }
    return { resource: entry.resource, reason: entry.reason };
  });
}

/** The waiver that covers this resource, named by its URN or by its name. */
export function waiverFor(waivers: Waiver[], urn: string, name: string): Waiver | undefined {
  return waivers.find((w) => w.resource === urn || w.resource === name);
}

/** The JSON schema of a rule's config, as the CLI validates it: its parameters and waivers. */
export function configSchema(rule: Rule<unknown>): { properties: Record<string, object> } {
  return {
    properties: {
      ...rule.parameters,
      waivers: {
        type: "array",
        description: "Resources this rule does not judge, each with the reason, which every preview and up shows.",
        items: {
          type: "object",
          properties: {
            resource: { type: "string", minLength: 1, description: "The resource's name, or its full URN." },
            reason: { type: "string", minLength: 1, description: "Why, and until when: shown in the output of every run." },
          },
          required: ["resource", "reason"],
          additionalProperties: false,
        },
      },
    },
  };
}

/** Judges one resource by one rule: the findings to report, and the waived ones with their waiver. */
export function judge(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any rule, whatever its configuration type
  rule: Rule<any>,
  config: Record<string, unknown>,
  resource: { urn: string; name: string; props: Props },
): { findings: Findings; waived: Array<{ waiver: Waiver; finding: string }> } {
  // The CLI checks the config against configSchema, which cannot refuse unknown keys: a typo
  // ("sidez") would leave a parameter silently at its default, so it is refused here.
  const known = [...Object.keys(rule.parameters), "waivers"];
  const unknown = Object.keys(config).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new Error(
      `policy pack config: ${rule.name} has no parameter ${unknown.map((k) => JSON.stringify(k)).join(", ")}; it takes ${known.join(", ")} (and ` +
        `enforcementLevel)`,
    );
  }
  const findings = rule.check(resource.props, rule.parse(config));
  const waiver = waiverFor(parseWaivers(rule.name, config), resource.urn, resource.name);
  if (!waiver || findings.length === 0) return { findings, waived: [] };
  return { findings: [], waived: findings.map((finding) => ({ waiver, finding })) };
}

/** The message that shows a waived finding: the rule, the reason, and what was waived. */
export function waivedMessage(rule: string, waiver: Waiver, finding: string): string {
  return `${rule} waived for "${waiver.resource}": ${waiver.reason} (waived: ${finding})`;
}
