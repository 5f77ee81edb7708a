// SmbSigningPolicy: the resource users declare. Thin: it marks credentials secret, notes (info)
// when a declared value weakens SMB security or does nothing, and registers a dynamic resource with one shared provider.
import * as pulumi from "@pulumi/pulumi";
import { smbSigningProvider } from "./dynamicProvider";
import { declarationWarnings } from "./domain/safety";
import { withSecretFields } from "./secrets";
import type { ConnectionArgsSchema, DeclaredKey, FRONT_END_KEYS, KnownPolicyInputs } from "./domain/schema";
import { customTimeoutSeconds } from "./domain/timeouts";
import { topLevelUrn } from "./domain/urn";
import type { Readiness } from "./domain/impact";
import { ownerName, type PolicyEnforced, type PolicyVisibility, RESOURCE_MODULE, RESOURCE_TYPE, RESOURCE_TYPE_NAME } from "./domain/policy";

/** How to reach one Windows host: over SSH (Windows OpenSSH) or WinRM, as which account, trusting what. */
export interface ConnectionArgs {
  /** "ssh" (default): Windows OpenSSH server; "winrm": WinRM over HTTP with NTLM message encryption. */
  transport?: pulumi.Input<"ssh" | "winrm">;
  /** DNS name or IP address of the Windows host. Changing it replaces the resource. */
  host: pulumi.Input<string>;
  /** Port (default 22 for ssh; 5985 for winrm, 5986 with https). */
  port?: pulumi.Input<number>;
  /** A local or domain administrator: `admin`, `CORP\admin` or `admin@corp.example`. */
  user: pulumi.Input<string>;
  /** Password (stored as a secret). */
  password?: pulumi.Input<string>;
  /** OpenSSH or PEM private key text (stored as a secret). */
  privateKey?: pulumi.Input<string>;
  /** Passphrase of privateKey (stored as a secret). */
  passphrase?: pulumi.Input<string>;
  /** Path of an SSH agent socket, e.g. process.env.SSH_AUTH_SOCK. */
  agent?: pulumi.Input<string>;
  /** The host's key fingerprint as `ssh-keygen -lf` prints it: "SHA256:...". Required unless dangerouslyAcceptAnyHostKey. */
  hostKey?: pulumi.Input<string>;
  /** Accept any host key (allows a man in the middle). Only for throw-away lab hosts. */
  dangerouslyAcceptAnyHostKey?: pulumi.Input<boolean>;
  /** WinRM: HTTPS on 5986 instead of HTTP on 5985 with NTLM message encryption. */
  https?: pulumi.Input<boolean>;
  /**
   * WinRM: "ntlm" (default), "kerberos" (a domain account; tickets from a password, keytabFile, ccache or KRB5CCNAME;
   * the host must prove it holds its service key before anything is sent; never anything else), "negotiate" (Kerberos
   * with the password when a ticket for the host can be had, else NTLM; output authenticatedWith says which), or
   * "basic" (HTTPS only).
   */
  authentication?: pulumi.Input<"ntlm" | "kerberos" | "negotiate" | "basic">;
  /** Kerberos (and negotiate): the host's service principal, "HTTP/<host>" unless given; required for kerberos when host is an IP address. */
  servicePrincipal?: pulumi.Input<string>;
  /** Kerberos (and negotiate): the realm ("CORP.EXAMPLE"); from user@REALM, the ticket cache, or krb5.conf's default_realm unless given. */
  realm?: pulumi.Input<string>;
  /** Kerberos (and negotiate): the realm's KDCs ("dc1.corp.example", "dc2.corp.example:88"); krb5.conf [realms] unless given. */
  kdc?: pulumi.Input<string[]>;
  /** Kerberos: path of a keytab holding the user's keys (as `kinit -kt` uses), on the machine running Pulumi. */
  keytabFile?: pulumi.Input<string>;
  /** Kerberos: a FILE ticket cache ("FILE:/path" or "/path", as `kinit -c` writes); KRB5CCNAME unless given. */
  ccache?: pulumi.Input<string>;
  /** WinRM over HTTPS: PEM of the CA to trust instead of the system's. */
  caCertificate?: pulumi.Input<string>;
  /** WinRM over HTTPS: the certificate's SHA-256 fingerprint to pin (hex, colons allowed). */
  certificateFingerprint?: pulumi.Input<string>;
  /** WinRM over HTTPS: accept any certificate (allows a man in the middle). Only for lab hosts. */
  dangerouslySkipCertificateCheck?: pulumi.Input<boolean>;
  /** Handshake deadline in seconds (default 20). */
  connectTimeoutSeconds?: pulumi.Input<number>;
  /** Deadline for the PowerShell run in seconds (default 120). */
  commandTimeoutSeconds?: pulumi.Input<number>;
  /**
   * For hosts whose WDAC or AppLocker policy allows only signed scripts: the full path on the host of a signed copy of this
   * package's provider/scripts/smb-signing.ps1 (e.g. "C:\Program Files\pulumi-smb-signing\smb-signing.ps1"). The provider
   * then checks that the file's text, without its signature block, is this release's script, and runs it with
   * powershell.exe -File, never -EncodedCommand.
   */
  scriptPath?: pulumi.Input<string>;
}

// ConnectionArgs is the pulumi.Input form of the schema's connection (provider/domain/schema.ts):
// written out here for its doc comments, held to the schema by the compiler, both ways.
type InputsOf<T> = { [K in keyof T]: pulumi.Input<NonNullable<T[K]>> };
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type ConnectionArgsFollowTheSchema = Assert<Mutual<ConnectionArgs, InputsOf<ConnectionArgsSchema>>>;

/**
 * Outbound signing (Set-SmbClientConfiguration). Leave a setting out to leave it unmanaged.
 * Each field's comment begins with its description in provider/domain/settings.ts
 * (test/unit/docComments.test.ts holds them together).
 */
export interface ClientSigningArgs {
  /** The SMB client always signs outbound traffic ("Digitally sign communications (always)"). `RequireSecuritySignature`. */
  requireSigning?: pulumi.Input<boolean>;
  /** The SMB client signs if the server agrees: SMB 1 only, ignored by SMB 2 and 3. `EnableSecuritySignature`. */
  enableSigning?: pulumi.Input<boolean>;
  /** The SMB client may log on to servers as an unauthenticated guest. `EnableInsecureGuestLogons`; true needs acknowledgeInsecureSettings. */
  enableInsecureGuestLogons?: pulumi.Input<boolean>;
  /** Log an event in SMBClient/Audit when a server does not support signing (24H2 / Server 2025). `AuditServerDoesNotSupportSigning`. */
  auditServerDoesNotSupportSigning?: pulumi.Input<boolean>;
  /** Log an event when the client logs on as an insecure guest (24H2 / Server 2025). `AuditInsecureGuestLogon`. */
  auditInsecureGuestLogon?: pulumi.Input<boolean>;
}

/** Inbound signing (Set-SmbServerConfiguration). Leave a setting out to leave it unmanaged. */
export interface ServerSigningArgs {
  /** The SMB server always requires signed inbound traffic. `RequireSecuritySignature`; false needs acknowledgeInsecureSettings. */
  requireSigning?: pulumi.Input<boolean>;
  /** The SMB server signs if the client agrees: SMB 1 only, ignored by SMB 2 and 3. `EnableSecuritySignature`. */
  enableSigning?: pulumi.Input<boolean>;
  /** Log an event in SMBServer/Audit when a client does not support signing (24H2 / Server 2025). `AuditClientDoesNotSupportSigning`. */
  auditClientDoesNotSupportSigning?: pulumi.Input<boolean>;
  /** Log an event when a client logs on as an insecure guest (24H2 / Server 2025). `AuditInsecureGuestLogon`. */
  auditInsecureGuestLogon?: pulumi.Input<boolean>;
}

// The settings' names come from the settings table through the schema: a setting added there and
// not here (or the other way round) is a compile error.
export type ClientArgsFollowTheSchema = Assert<Mutual<keyof ClientSigningArgs, keyof NonNullable<KnownPolicyInputs["client"]>>>;
export type ServerArgsFollowTheSchema = Assert<Mutual<keyof ServerSigningArgs, keyof NonNullable<KnownPolicyInputs["server"]>>>;

/** The arguments of SmbSigningPolicy: the host's connection and the settings to manage on it. */
export interface SmbSigningPolicyArgs {
  /**
   * How to reach the host: transport, address, account and credentials, and what to trust. May
   * be built from other resources' outputs (`vm.privateIp.apply(ip => ({ host: ip, ... }))`):
   * preview then shows it as known later, and check judges it at `up`.
   */
  connection: pulumi.Input<ConnectionArgs>;
  /** Outbound signing: the settings of Set-SmbClientConfiguration this resource manages. */
  client?: pulumi.Input<ClientSigningArgs>;
  /** Inbound signing: the settings of Set-SmbServerConfiguration this resource manages. */
  server?: pulumi.Input<ServerSigningArgs>;
  /** Must be true to set requireSigning to false or to allow insecure guest logons. */
  acknowledgeInsecureSettings?: pulumi.Input<boolean>;
  /**
   * "retain" (default): destroy leaves the host as it is (its originals stay recorded on it);
   * "restore": destroy puts back the values the host had before, insecure ones included.
   */
  onDelete?: pulumi.Input<"restore" | "retain">;
  /**
   * Take over a host whose record (HKLM:\SOFTWARE\pulumi-smb-signing) names another stack or
   * resource as its owner, keeping the original values it recorded. Shown in preview.
   */
  takeOwnership?: pulumi.Input<boolean>;
  /**
   * How many days of the host's SMB audit logs (Microsoft-Windows-SMBServer/Audit and
   * -SMBClient/Audit) readiness covers: the peers that did not sign, named before requireSigning
   * lands (default 7, at most 90).
   */
  readinessDays?: pulumi.Input<number>;
}

type Observed = Record<string, boolean | null>;

// Every input a program declares in the schema (domain/schema.ts, DECLARED_KEYS) is an argument here and nothing
// else is: a compile error otherwise (the plugin's input properties are generated from the same keys).
export type ArgsFollowTheSchema = Assert<Mutual<keyof SmbSigningPolicyArgs, DeclaredKey>>;

/** The resource's outputs: SmbSigningPolicy's Output properties below, which the SDK creates from these keys of its props. */
export const OUTPUTS = [
  "observed",
  "originalSettings",
  "hostFacts",
  "settingsSource",
  "policyManaged",
  "policyDrift",
  "policyVisibility",
  "readiness",
  "consequences",
  "ownerId",
  "unavailableSides",
  "restartNeeded",
  "scriptRun",
  "authenticatedWith",
] as const;

/**
 * The SMB signing settings of one Windows host, outbound (client) and inbound (server), reached
 * over SSH or WinRM. Declared settings are applied by `up` and compared by `refresh`; settings
 * left out are reported (`observed`) and never changed. The values the host had before are
 * recorded on the host and in state; `destroy` leaves the host secured, or puts them back with
 * `onDelete: "restore"`.
 * Turning signing off or allowing insecure guest logons needs `acknowledgeInsecureSettings`.
 */
export class SmbSigningPolicy extends pulumi.dynamic.Resource {
  /** Every signing setting the host reports, managed or not (null: not supported by its build). */
  declare public readonly observed: pulumi.Output<{ client: Observed; server: Observed }>;
  /** The values the host had before this resource first changed them. */
  declare public readonly originalSettings: pulumi.Output<{ client: Record<string, boolean>; server: Record<string, boolean> }>;
  /** productName, edition, displayVersion, build, domainRole, and the bitness of the host's PowerShell and of Windows (processBits, osBits: 32 or 64). */
  declare public readonly hostFacts: pulumi.Output<{
    productName: string;
    edition: string;
    displayVersion: string;
    build: string;
    domainRole: number;
    processBits?: number;
    osBits?: number;
  }>;
  /** "cmdlet" (SmbShare module) or "registry" (older Windows). */
  declare public readonly settingsSource: pulumi.Output<string>;
  /** Settings a Group Policy object enforces on the host (side -> setting -> value and GPO name), managed or not. */
  declare public readonly policyManaged: pulumi.Output<PolicyEnforced>;
  /** Declared settings a Group Policy object set back since the last up (what `refresh` found). */
  declare public readonly policyDrift: pulumi.Output<string[]>;
  /**
   * Whether the last up or refresh could see the host's Group Policy: `{ state: "known" }`, or
   * `{ state: "unknown", reason }` where RSoP logging is off, the RSoP query failed, or a domain
   * member's RSoP names no GPO. Unknown is not "no policy": on a domain controller a change to a
   * signing setting no visible policy confirms is refused.
   */
  declare public readonly policyVisibility: pulumi.Output<PolicyVisibility | undefined>;
  /**
   * What the declared settings change for people on this host, compared with how it was before
   * this resource changed it: which servers or clients fail and with which error, guest access,
   * the peers its SMB audit log saw not signing, and what destroy would put back.
   */
  declare public readonly consequences: pulumi.Output<string[]>;
  /** What the host's SMB audit logs said at the last up or refresh: per side, the peers that did not sign in the last readinessDays days. */
  declare public readonly readiness: pulumi.Output<Readiness | null>;
  /**
   * The random id the host's record names as its owner, created with this resource and kept in
   * its state (renames with aliases and stack renames keep it); the record shows the URN beside it.
   */
  declare public readonly ownerId: pulumi.Output<string>;
  /**
   * Sides the host could not read at the last up or refresh, with the error, e.g. `server` where
   * the Server service (LanmanServer) is disabled; empty: none. Such a side's settings cannot be
   * declared until it can be read; the other side is managed as usual.
   */
  declare public readonly unavailableSides: pulumi.Output<{ client?: string; server?: string }>;
  /**
   * Services that may need a restart (or a reboot) before settings written to the registry take
   * effect, e.g. ["LanmanServer"]: Windows 7 / Server 2008 R2 have no SmbShare module, and whether
   * their running services re-read the registry is not documented. The provider cannot tell when
   * the service was restarted, so this stays until the resource is replaced.
   */
  declare public readonly restartNeeded: pulumi.Output<string[]>;
  /**
   * With connection.scriptPath: how the signed copy of smb-signing.ps1 ran at the last up or refresh, as the script itself
   * reports it: its path, its language mode, and its Authenticode signature (status, signer, thumbprint). Absent otherwise.
   */
  declare public readonly scriptRun: pulumi.Output<
    { invocation: "file"; path: string; languageMode: string; signature: { status: string; signer: string; thumbprint: string } } | undefined
  >;
  /**
   * WinRM: the mechanism the last up or refresh authenticated with: "kerberos", "ntlm" or "basic"; with authentication
   * "negotiate", the one it chose (an info message says why when it was NTLM). Absent over SSH.
   */
  declare public readonly authenticatedWith: pulumi.Output<"kerberos" | "ntlm" | "basic" | undefined>;

  constructor(name: string, args: SmbSigningPolicyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      smbSigningProvider,
      name,
      registeredProps(name, args, opts),
      opts?.import ? { ...opts, import: undefined } : opts,
      RESOURCE_MODULE,
      RESOURCE_TYPE_NAME,
    );
    // The hook's Outputs cost about 0.1 ms of the program's CPU per resource: left out when the
    // arguments already show that it would warn of nothing.
    if (mayWarn(args)) noteDeclarations(this, args);
  }
}

/**
 * What SmbSigningPolicy registers: the program's arguments (credentials as secrets) with the
 * inputs the resource sets itself (domain/schema.ts, FRONT_END_KEYS), and its outputs.
 */
function registeredProps(name: string, args: SmbSigningPolicyArgs, opts: pulumi.CustomResourceOptions | undefined): Record<string, unknown> {
  // Typed by FRONT_END_KEYS: an input the schema says the front end sets and this one does not is a compile error.
  const own: Record<(typeof FRONT_END_KEYS)[number], unknown> = {
    // The engine reads imported resources without inputs, which a dynamic provider cannot
    // serve; the import id travels as an input and create adopts the host instead.
    importId: opts?.import,
    // The name records written before owner ids give their owner (the owner is now a random
    // id the provider creates with the resource: domain/owner.ts).
    owner: ownerName(pulumi.getProject(), pulumi.getStack(), name),
    // The dynamic-provider runtime does not pass customTimeouts to the provider: carry them.
    customTimeouts: customTimeoutSeconds(opts?.customTimeouts),
    // The provider's warnings (the consequences of a change, in preview) go to the engine
    // with this URN, so they show on this resource. Not named `urn`: every resource has that
    // output, and an input of that name never reaches the provider. A string, or under a
    // parent a promise, not an Output: the URN of a parent must not become a dependency on it
    // (a component's children include this one).
    resourceUrn: ownUrn(name, opts?.parent),
  };
  const inputs: Record<string, unknown> = { ...args, connection: withSecretCredentials(args.connection), ...own };
  // Each property costs the SDK a handful of promises at registration (about 0.1 ms of the
  // program's CPU per resource, more with source-map-support loaded, as it is under the CLI):
  // leave out the inputs that are absent, ours and the caller's (`onDelete: config.get(...)`).
  // The SDK sends an undefined input as no input at all. The outputs stay: they are the
  // resource's Output properties.
  const props: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inputs)) if (value !== undefined) props[key] = value;
  for (const key of OUTPUTS) props[key] = undefined;
  return props;
}

/** Notes (info, on the resource) what the declared settings weaken or leave without effect, once they are known. */
function noteDeclarations(resource: SmbSigningPolicy, args: SmbSigningPolicyArgs): void {
  const c = args.connection;
  pulumi
    .all([
      pulumi.Output.isInstance(c) ? c.apply((x) => x.host) : "host" in c ? c.host : pulumi.output(c).apply((x) => x.host),
      args.client,
      args.server,
      args.acknowledgeInsecureSettings,
    ])
    // pulumi.log.info answers with a promise: the apply waits on them, so none is left floating.
    .apply(([host, client, server, acknowledged]) =>
      Promise.all(declarationWarnings(host, { client, server }, acknowledged).map((message) => pulumi.log.info(message, resource))),
    );
}

/**
 * The connection with password, privateKey and passphrase as secrets. A connection that is an
 * Output (built from another resource's outputs) is wrapped inside its apply, so only the
 * credentials become secret, not the whole connection (pulumi.output would deep-resolve it and
 * make all of it secret as soon as one field is).
 */
function withSecretCredentials(c: pulumi.Input<ConnectionArgs>): pulumi.Input<ConnectionArgs> {
  const wrap = (x: ConnectionArgs): ConnectionArgs => withSecretFields(x);
  if (pulumi.Output.isInstance(c)) return c.apply(wrap);
  if (typeof (c as PromiseLike<ConnectionArgs>).then === "function") return pulumi.output(Promise.resolve(c).then(wrap));
  return wrap(c as ConnectionArgs);
}

/**
 * Whether the constructor's warnings could say anything: false only when both are plain values now
 * (no Output or promise): no side declares enableSigning, and acknowledgeInsecureSettings is not true.
 */
function mayWarn(args: SmbSigningPolicyArgs): boolean {
  const pending = (v: unknown) => pulumi.Output.isInstance(v) || typeof (v as PromiseLike<unknown> | undefined)?.then === "function";
  const acknowledged = args.acknowledgeInsecureSettings;
  if (acknowledged !== undefined && acknowledged !== false) return true;
  for (const side of [args.client, args.server]) {
    if (side === undefined || side === null) continue;
    if (pending(side) || (side as ClientSigningArgs | ServerSigningArgs).enableSigning !== undefined) return true;
  }
  return false;
}

/**
 * The URN the engine gives this resource, as pulumi.createUrn computes it. Without a parent it is
 * known now: the string createUrn would resolve to, without the Outputs it builds to get there
 * (about 0.3 ms of the program's CPU per resource). Under a parent it waits for the parent's URN.
 */
function ownUrn(name: string, parent: pulumi.Resource | undefined): string | Promise<string> {
  if (!parent) return topLevelUrn(pulumi.getStack(), pulumi.getProject(), RESOURCE_TYPE, name);
  return new Promise<string>((resolve) => pulumi.createUrn(name, RESOURCE_TYPE, parent).apply((urn) => resolve(urn)));
}

// Every declared output is in OUTPUTS and nothing else is: a compile error otherwise.
export type OutputsFollowTheClass = Assert<Mutual<(typeof OUTPUTS)[number], Exclude<keyof SmbSigningPolicy, keyof pulumi.dynamic.Resource>>>;
