// The inputs of SmbSigningPolicy, declared once in zod: types are inferred from here and every
// validation error carries the path of the offending property and what is allowed.
import { isIP } from "node:net";
import { z } from "zod";
import { SETTINGS, SettingName, Side } from "./settings";

/** During `pulumi preview`, inputs that depend on other resources arrive as this sentinel. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Accepts the engine's "not known yet" sentinel wherever a value is expected. */
function orUnknown<T extends z.ZodType>(schema: T) {
  return z.union([z.literal(UNKNOWN), schema]);
}

// RFC 1123 host names and IPv4 literals; IPv6 literals separately. Nothing else can reach a shell.
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
// Windows account names (optionally DOMAIN\name or name@domain) exclude these characters
// ("User Name Formats", Microsoft Learn); control characters are never valid.
const ACCOUNT = /^[^\x00-\x1f\x7f"/[\]:;|=,+*?<>]{1,104}$/;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
/** Whether a host is given as an IPv4 or IPv6 address (bracketed or not) rather than a name. */
const isIpAddress = (host: string) => isIP(host.replace(/^\[(.*)\]$/, "$1")) !== 0;
/** A Kerberos service principal: service/host, optionally @REALM ("HTTP/web01.corp.example"). */
const SERVICE_PRINCIPAL = /^[A-Za-z][A-Za-z0-9-]*\/[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?:@[A-Za-z0-9][A-Za-z0-9.-]*)?$/;
/** A Kerberos realm as Active Directory and MIT name them: letters, digits, dots and hyphens. */
const REALM = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$/;
/** A KDC: host, host:port or [IPv6]:port. */
const KDC = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::\d{1,5})?$/;
// A resource's name may hold any printable character, in any number (Pulumi sets no limit).
const OWNER = /^[^\x00-\x1f\x7f]+$/;
const URN = /^urn:pulumi:[^\x00-\x1f\x7f]+$/;
/** The owner recorded by resources declared without one (direct use of the operations). */
export const DEFAULT_OWNER = "pulumi-smb-signing";
/** Days of SMB audit log readiness covers unless the program says otherwise (and in state written before readiness existed). */
export const DEFAULT_READINESS_DAYS = 7;

/**
 * A field's one reason for every way its value can be wrong (type, range, whole number, format),
 * naming what is allowed, in place of zod's own ("Too small: expected number to be >=1"). A value
 * that is missing falls through to parsePolicyInputs's "is required".
 */
function allowed(message: string) {
  return { error: (issue: { input?: unknown }) => (issue.input === undefined ? undefined : message) };
}
/** true or false. */
const flag = () => z.boolean(allowed("must be true or false"));
/** A whole number from min to max. */
function wholeNumber(min: number, max: number, message: string) {
  const reason = allowed(message);
  return z.number(reason).int(reason).min(min, reason).max(max, reason);
}
/** A string that is not empty. */
function text(message: string) {
  const reason = allowed(message);
  return z.string(reason).min(1, reason);
}
/** A string matching a pattern. */
function matching(pattern: RegExp, message: string) {
  const reason = allowed(message);
  return z.string(reason).regex(pattern, reason);
}

// The signed copy of smb-signing.ps1 on the host (connection.scriptPath): a full path on a
// drive, to a .ps1 file (powershell.exe -File refuses any other extension). Every character is
// one that needs no escaping inside double quotes for cmd.exe (no % ^ & | < > " !) nor for
// CommandLineToArgvW (no backslash before the closing quote: the path ends in .ps1), and that
// no console code page can change (ASCII); no relative component, no name Windows would change
// (a trailing dot or space) or take for a device.
const SCRIPT_PATH_COMPONENT = /^[A-Za-z0-9_.()~+\- ]+$/;
const DEVICE_NAME = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
export const SCRIPT_PATH_REASON =
  'must be the full path of the signed copy of smb-signing.ps1 on the host, e.g. "C:\\Program Files\\pulumi-smb-signing\\smb-signing.ps1": a drive letter, ' +
  "then folders and a file name ending in .ps1, each of letters, digits, spaces and _ . ( ) ~ + - only (no . or .. folders, no name ending in a dot or a " +
  "space, no device names such as NUL), at most 259 characters";

/** Whether a value is a path connection.scriptPath allows (SCRIPT_PATH_REASON). */
export function isScriptPath(value: string): boolean {
  if (value.length > 259 || !/^[A-Za-z]:\\/.test(value) || !/\.ps1$/i.test(value)) return false;
  const components = value.slice(3).split("\\");
  return components.every((c) => SCRIPT_PATH_COMPONENT.test(c) && c !== "." && c !== ".." && !/[. ]$/.test(c) && !c.startsWith(" ") && !DEVICE_NAME.test(c));
}
const scriptPathSchema = z.string(allowed(SCRIPT_PATH_REASON)).refine(isScriptPath, allowed(SCRIPT_PATH_REASON));

const timeoutSeconds = wholeNumber(1, 86_400, "must be a whole number of seconds from 1 to 86400 (24h)");

const HOST_REASON = "must be a DNS host name or an IPv4/IPv6 address";
const hostSchema = z.union([matching(HOSTNAME, HOST_REASON), z.ipv6(allowed(HOST_REASON))]);

export const connectionSchema = z
  .strictObject(
    {
      transport: orUnknown(z.enum(["ssh", "winrm"], allowed('must be "ssh" or "winrm"'))).default("ssh"),
      host: orUnknown(hostSchema),
      /** Default: 22 for ssh, 5985 for winrm (filled in by parsePolicyInputs). */
      port: orUnknown(wholeNumber(1, 65535, "must be an integer from 1 to 65535")).optional(),
      user: orUnknown(matching(ACCOUNT, 'must be a Windows account name (1-104 characters, none of " / [ ] : ; | = , + * ? < > or control characters)')),
      password: orUnknown(text("must be a non-empty string")).optional(),
      privateKey: orUnknown(text("must be the private key's text (OpenSSH, PEM or PPK), not empty")).optional(),
      passphrase: orUnknown(text("must be a non-empty string")).optional(),
      agent: orUnknown(text("must be the path of an SSH agent socket")).optional(),
      hostKey: orUnknown(matching(FINGERPRINT, 'must be an OpenSSH fingerprint "SHA256:" + 43 base64 characters (ssh-keygen -lf)')).optional(),
      dangerouslyAcceptAnyHostKey: orUnknown(flag()).optional(),
      /** WinRM only: HTTPS (port 5986) instead of HTTP with NTLM message encryption. */
      https: orUnknown(flag()).optional(),
      /**
       * WinRM only: "ntlm" (default), "kerberos" (never anything else), "negotiate" (Kerberos when
       * a ticket for the host can be had with the password, else NTLM), or "basic" (HTTPS only).
       */
      authentication: orUnknown(z.enum(["ntlm", "kerberos", "negotiate", "basic"], allowed('must be "ntlm", "kerberos", "negotiate" or "basic"'))).optional(),
      /** Kerberos: the host's service principal; HTTP/<host> unless given (required when host is an IP address). */
      servicePrincipal: orUnknown(matching(SERVICE_PRINCIPAL, 'must be a service principal "HTTP/<host name>", optionally with "@REALM"')).optional(),
      /** Kerberos: the realm; from user@REALM, the ticket cache, or krb5.conf's default_realm unless given. */
      realm: orUnknown(matching(REALM, 'must be a Kerberos realm name such as "CORP.EXAMPLE"')).optional(),
      /** Kerberos: the realm's KDCs ("dc1.corp.example", "dc2.corp.example:88"); krb5.conf [realms] unless given. */
      kdc: orUnknown(
        z
          .array(
            matching(KDC, 'must list KDCs as "host", "host:port" or "[IPv6]:port"'),
            allowed('must be a list of KDCs, each "host", "host:port" or "[IPv6]:port"'),
          )
          .min(1, allowed("must list at least one KDC")),
      ).optional(),
      /** Kerberos: a keytab file holding the user's keys (kinit -kt's), on the machine that runs Pulumi. */
      keytabFile: orUnknown(text("must be the path of a keytab file")).optional(),
      /** Kerberos: a FILE ticket cache (kinit -c FILE:<path>); KRB5CCNAME unless given. */
      ccache: orUnknown(text('must be the path of a FILE ticket cache ("FILE:/path" or "/path")')).optional(),
      /** WinRM over HTTPS: PEM certificate(s) of the CA to trust instead of the system's. */
      caCertificate: orUnknown(matching(/-----BEGIN CERTIFICATE-----/, 'must be PEM text ("-----BEGIN CERTIFICATE-----" ...)')).optional(),
      /** WinRM over HTTPS: SHA-256 of the server certificate (hex, colons allowed) to pin. */
      certificateFingerprint: orUnknown(
        matching(/^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, "must be the certificate's SHA-256 fingerprint: 64 hex digits, colons allowed"),
      ).optional(),
      dangerouslySkipCertificateCheck: orUnknown(flag()).optional(),
      connectTimeoutSeconds: orUnknown(wholeNumber(1, 300, "must be a whole number of seconds from 1 to 300")).default(20),
      commandTimeoutSeconds: orUnknown(wholeNumber(1, 3600, "must be a whole number of seconds from 1 to 3600")).default(120),
      /**
       * The signed copy of smb-signing.ps1 on the host: run with powershell.exe -File (never
       * -EncodedCommand), after its text was checked to be this release's (README, "Hosts with
       * WDAC or AppLocker").
       */
      scriptPath: orUnknown(scriptPathSchema).optional(),
    },
    allowed("must be an object of connection settings (host, user, a credential, ...)"),
  )
  .superRefine((c, ctx) => {
    const kerberos = c.transport === "winrm" && c.authentication === "kerberos";
    const credentials = (["password", "privateKey", "agent"] as const).filter((k) => c[k] !== undefined);
    // SSH needs one of these; WinRM's own rules below say what it needs (a password, or for
    // Kerberos a password, keytab or ticket cache, possibly KRB5CCNAME's).
    if (credentials.length === 0 && c.transport !== "winrm") {
      ctx.addIssue({ code: "custom", path: ["password"], message: "one of password, privateKey or agent is required", params: { lendable: "credential" } });
    }
    // One credential per resource: with several, ssh2 offers each in turn, so a password would
    // be sent to a host that was meant to see only a key.
    if (credentials.length > 1) {
      ctx.addIssue({
        code: "custom",
        path: [credentials[1]],
        message: `cannot be combined with connection.${credentials[0]}: give exactly one of password, privateKey or agent`,
      });
    }
    if (c.passphrase !== undefined && c.privateKey === undefined) {
      ctx.addIssue({ code: "custom", path: ["passphrase"], message: "is only allowed together with privateKey" });
    }
    // A transport not known yet (preview, from another resource's output): which fields belong
    // to it is judged when it is known, at up.
    if (c.transport === UNKNOWN) return;
    if (c.transport === "winrm") {
      // WinRM over HTTP authenticates with NTLM and seals every message with the password-derived
      // session key; over HTTPS the certificate authenticates the host. No host key to pin.
      for (const key of ["privateKey", "agent", "hostKey", "dangerouslyAcceptAnyHostKey"] as const) {
        if (c[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: 'is only for transport "ssh"' });
      }
      if (c.authentication === UNKNOWN) return;
      // Negotiate may use Kerberos with the password: the service principal, realm and KDCs
      // apply; its key source is the password (NTLM needs it), never a keytab or a cache.
      const negotiate = c.authentication === "negotiate";
      if (!kerberos) {
        for (const key of ["servicePrincipal", "realm", "kdc"] as const) {
          if (c[key] !== undefined && !negotiate)
            ctx.addIssue({ code: "custom", path: [key], message: 'is only for authentication "kerberos" or "negotiate"' });
        }
        for (const key of ["keytabFile", "ccache"] as const) {
          if (c[key] !== undefined)
            ctx.addIssue({
              code: "custom",
              path: [key],
              message: `is only for authentication: "kerberos"${negotiate ? ' ("negotiate" uses the password)' : ""}`,
            });
        }
        if (c.password === undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["password"],
            message: negotiate
              ? 'is required for authentication "negotiate" (NTLM needs it when Kerberos is not available)'
              : 'is required for transport "winrm"',
            params: { lendable: "credential" },
          });
        }
      } else {
        // One source of the user's keys: a password, a keytab, or a ticket cache (given, or KRB5CCNAME).
        const sources = (["password", "keytabFile", "ccache"] as const).filter((k) => c[k] !== undefined);
        if (sources.length > 1) {
          ctx.addIssue({
            code: "custom",
            path: [sources[1]],
            message: `cannot be combined with connection.${sources[0]}: give one of password, keytabFile or ccache (or none, to use KRB5CCNAME)`,
          });
        }
        if (typeof c.user === "string" && c.user.includes("\\")) {
          ctx.addIssue({ code: "custom", path: ["user"], message: 'for Kerberos must be "user" or "user@REALM" (DOMAIN\\user is the NTLM form)' });
        }
        if (typeof c.host === "string" && c.host !== UNKNOWN && isIpAddress(c.host) && c.servicePrincipal === undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["servicePrincipal"],
            message:
              `is required when connection.host is an IP address (${c.host}): Kerberos names the host as its SPN has it, e.g. ` +
              `"HTTP/web01.corp.example"; or give host as that name`,
          });
        }
      }
      if (c.https !== true && c.https !== UNKNOWN) {
        for (const key of ["caCertificate", "certificateFingerprint", "dangerouslySkipCertificateCheck"] as const) {
          if (c[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "is only for https: true" });
        }
        // Basic sends the password itself: only inside TLS.
        if (c.authentication === "basic") ctx.addIssue({ code: "custom", path: ["authentication"], message: '"basic" needs https: true' });
      }
      return;
    }
    for (const key of [
      "https",
      "authentication",
      "caCertificate",
      "certificateFingerprint",
      "dangerouslySkipCertificateCheck",
      "servicePrincipal",
      "realm",
      "kdc",
      "keytabFile",
      "ccache",
    ] as const) {
      if (c[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: 'is only for transport "winrm"' });
    }
    if (c.hostKey !== undefined && c.dangerouslyAcceptAnyHostKey === true) {
      ctx.addIssue({
        code: "custom",
        path: ["dangerouslyAcceptAnyHostKey"],
        message: "contradicts connection.hostKey: a pinned key would be ignored; remove dangerouslyAcceptAnyHostKey to enforce the pin",
      });
    }
    if (c.hostKey === undefined && c.dangerouslyAcceptAnyHostKey !== true && c.dangerouslyAcceptAnyHostKey !== UNKNOWN) {
      ctx.addIssue({
        code: "custom",
        path: ["hostKey"],
        message:
          'is required: the host\'s "SHA256:..." key fingerprint (or set dangerouslyAcceptAnyHostKey: true to accept any key, which allows a man in the ' +
          "middle)",
      });
    }
  });

const settingValue = () => orUnknown(flag()).optional();

function sideSchema<S extends Side>(side: S) {
  const shape = {} as Record<SettingName<S>, ReturnType<typeof settingValue>>;
  for (const def of SETTINGS[side]) shape[def.name as SettingName<S>] = settingValue();
  return z.strictObject(shape, allowed(`must be an object of ${side} settings, each true or false`));
}

export const policySchema = z.strictObject(
  {
    connection: connectionSchema,
    client: sideSchema("client").optional(),
    server: sideSchema("server").optional(),
    acknowledgeInsecureSettings: orUnknown(flag()).optional(),
    /**
     * "retain" (default): destroy leaves the host as it is, secured, with its originals still
     * recorded on it; "restore": destroy puts the recorded originals back, insecure ones included
     * (a deliberate choice, warned about when it happens). A hardening resource must never undo
     * itself by accident.
     */
    onDelete: orUnknown(z.enum(["restore", "retain"], allowed('must be "restore" or "retain"'))).default("retain"),
    /** Set from the `import` resource option: create adopts the host instead of changing it. */
    importId: orUnknown(text("must be a non-empty string: the import id")).optional(),
    /**
     * "<project>/<stack>/<resource name>", set by SmbSigningPolicy: the name records written before
     * owner ids give their owner, and the record's label where no URN is known (domain/owner.ts).
     */
    owner: orUnknown(matching(OWNER, "must be the resource's name: printable characters, at least one")).default(DEFAULT_OWNER),
    /** Take over a host whose record names another owner, keeping the originals it recorded. */
    takeOwnership: orUnknown(flag()).optional(),
    /** How many days of the host's SMB audit logs readiness covers (reading them never changes the host). */
    readinessDays: orUnknown(wholeNumber(1, 90, "must be a whole number of days from 1 to 90")).default(DEFAULT_READINESS_DAYS),
    /** The resource's own URN (set by SmbSigningPolicy), so the provider's warnings show on the resource. */
    resourceUrn: orUnknown(matching(URN, "must be a Pulumi URN")).optional(),
    /** Seconds per operation from the resource's customTimeouts option (set by SmbSigningPolicy). */
    customTimeouts: z
      .strictObject(
        {
          create: orUnknown(timeoutSeconds).optional(),
          update: orUnknown(timeoutSeconds).optional(),
          delete: orUnknown(timeoutSeconds).optional(),
        },
        allowed("must be an object of create, update and delete seconds"),
      )
      .optional(),
  },
  allowed("must be an object of SmbSigningPolicy inputs"),
);

/** The name of an input of SmbSigningPolicy: a key of the schema above. */
export type InputKey = keyof typeof policySchema.shape;
/** Every input of SmbSigningPolicy, in the schema's order: what state records as inputs (domain/recordedInputs.ts). */
export const INPUT_KEYS = Object.keys(policySchema.shape) as InputKey[];
/**
 * Inputs a front end sets itself, never the program: the dynamic SmbSigningPolicy from its name and
 * options (resource.ts), the provider plugin from the request (plugin/provider.ts).
 */
export const FRONT_END_KEYS = ["importId", "owner", "resourceUrn", "customTimeouts"] as const satisfies readonly InputKey[];
/** An input a program declares. */
export type DeclaredKey = Exclude<InputKey, (typeof FRONT_END_KEYS)[number]>;
/** The inputs a program declares (SmbSigningPolicyArgs; the plugin's input properties), in the schema's order. */
export const DECLARED_KEYS = INPUT_KEYS.filter((k): k is DeclaredKey => !(FRONT_END_KEYS as readonly string[]).includes(k));

/** Connection settings a fleet shares (the provider plugin's configuration keys); per-host ones (host, port, hostKey, certificate pins) are not among them. */
export const SHARED_KEYS = [
  "transport",
  "user",
  "password",
  "privateKey",
  "passphrase",
  "agent",
  "https",
  "authentication",
  "realm",
  "kdc",
  "keytabFile",
  "ccache",
  "caCertificate",
  "connectTimeoutSeconds",
  "commandTimeoutSeconds",
  "scriptPath",
] as const;

/** The credentials: taken from configuration at run time, never recorded in a resource's state. */
export const CREDENTIAL_KEYS = ["password", "privateKey", "passphrase", "agent", "keytabFile", "ccache"] as const;
/** Secret values: wrapped as secrets wherever they appear in what the plugin returns. */
export const SECRET_KEYS = ["password", "privateKey", "passphrase"] as const;

export type ConnectionInputs = z.infer<typeof connectionSchema>;
/** What a program may give as `connection` (defaults not yet filled in), sentinel excluded. */
export type ConnectionArgsSchema = Known<z.input<typeof connectionSchema>>;
export type PolicyInputs = z.infer<typeof policySchema>;

/** A value with the engine's "not known yet" sentinel taken out, at any depth. */
export type Known<T> = T extends typeof UNKNOWN ? never : T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]: Known<T[K]> } : T;

/** Fully known, validated connection settings: the schema's output, no sentinel, port filled in. */
export type Connection = Known<Omit<ConnectionInputs, "port">> & { port: number };

/** Fully known, validated inputs: what create, update and read act on. */
export type KnownPolicyInputs = Known<Omit<PolicyInputs, "connection">> & { connection: Connection };

/** Narrows validated inputs to known ones (parsePolicyInputs has filled in the port). */
export function knownInputs(inputs: PolicyInputs): KnownPolicyInputs | undefined {
  return isFullyKnown(inputs) && typeof inputs.connection.port === "number" ? (inputs as KnownPolicyInputs) : undefined;
}

export interface CheckFailure {
  property: string;
  reason: string;
  /**
   * A missing value that the provider plugin's configuration may lend every resource: a
   * credential (smbsigning:password, privateKey or agent) or the user. The plugin says so.
   */
  lendable?: "credential" | "user";
}

export type ParseResult = { ok: true; inputs: PolicyInputs } | { ok: false; failures: CheckFailure[] };

/** zod's expected types, in words. */
const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "an object",
  array: "a list",
};

/**
 * The reason for an issue no field words itself. Each field names what it allows (`allowed`
 * above); this is the net under them, so that no reason is zod's raw text ("Invalid input:
 * expected string, received number"). A missing value "is required", not zod's "expected string,
 * received undefined".
 */
export function inOurWords(issue: z.core.$ZodRawIssue): string {
  if (issue.input === undefined) return "is required";
  return wordsFor(issue);
}

function wordsFor(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}`;
    case "too_small":
      return `must be at least ${issue.minimum}${issue.origin === "string" ? " characters long" : ""}`;
    case "too_big":
      return `must be at most ${issue.maximum}${issue.origin === "string" ? " characters long" : ""}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return "is not valid";
  }
}

/** Validates raw inputs; failures name the property path (e.g. `connection.port`). */
export function parsePolicyInputs(raw: unknown): ParseResult {
  const result = policySchema.safeParse(raw, { error: inOurWords });
  if (result.success) {
    const c = result.data.connection;
    if (c.port === undefined) c.port = c.transport === "ssh" ? 22 : c.https === true ? 5986 : 5985;
    return { ok: true, inputs: result.data };
  }
  const failures: CheckFailure[] = [];
  for (const issue of result.error.issues) {
    // A list member's failure is the list's (connection.kdc, not connection.kdc.1).
    const path = issue.path.filter((p) => typeof p !== "number").map(String);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        failures.push({ property: [...path, key].join("."), reason: `is not a known property; allowed: ${allowedKeys(path[0])}` });
      }
    } else {
      failures.push({ property: path.length > 0 ? path.join(".") : "(inputs)", reason: reasonOf(issue), ...lendableOf(issue, path) });
    }
  }
  return { ok: false, failures };
}

/** Whether a failure is a missing value the plugin's configuration could lend (see CheckFailure). */
function lendableOf(issue: z.core.$ZodIssue, path: string[]): Pick<CheckFailure, "lendable"> {
  const marked = issue.code === "custom" ? (issue.params as { lendable?: unknown } | undefined)?.lendable : undefined;
  if (marked === "credential") return { lendable: "credential" };
  if (path.join(".") === "connection.user" && issue.input === undefined) return { lendable: "user" };
  return {};
}

/** A union with the unknown sentinel fails as a whole: report why the real schema refused the value. */
export function reasonOf(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return "is not valid";
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    const real = issue.errors[issue.errors.length - 1][0];
    if (real) return reasonOf(real);
  }
  return issue.message;
}

function allowedKeys(top: string | undefined): string {
  if (top === "connection") return Object.keys(connectionSchema.shape).join(", ");
  if (top === "client" || top === "server") return SETTINGS[top].map((d) => d.name).join(", ");
  return Object.keys(policySchema.shape).join(", ");
}

/** True when no part of the value is the engine's unknown sentinel. */
export function isFullyKnown(value: unknown): boolean {
  if (value === UNKNOWN) return false;
  if (Array.isArray(value)) return value.every(isFullyKnown);
  if (value && typeof value === "object") return Object.values(value).every(isFullyKnown);
  return true;
}
