// Typed, actionable errors: what happened, on which host, and what to do next. Messages never
// carry a secret: they are built from host names, fingerprints and host replies only. Whether a
// kind is worth retrying is decided here, once, for every transport.

export type HostErrorKind =
  | "authenticationFailed"
  | "hostKeyMismatch"
  | "certificateRejected"
  | "connectionFailed"
  | "connectionDropped"
  | "hostBusy"
  | "timeout"
  | "accessDenied"
  | "unsupportedSetting"
  | "sideUnavailable"
  | "unsupportedOs"
  | "constrainedLanguage"
  | "scriptMismatch"
  | "policyConflict"
  | "policyUnknown"
  | "ownedElsewhere"
  | "badRecord"
  | "badRequest"
  | "failed"
  | "notEnforced"
  | "badReply";

const ADVICE: Record<HostErrorKind, string> = {
  authenticationFailed: "check connection.user and the password, private key or agent",
  hostKeyMismatch:
    "if the host was rebuilt, confirm its new key out of band (ssh-keygen -lf on the host) and update connection.hostKey; otherwise someone may be " +
    "intercepting the connection",
  certificateRejected:
    "check connection.certificateFingerprint or connection.caCertificate against the host's WinRM HTTPS certificate (Get-ChildItem " +
    "WSMan:\\localhost\\Listener); otherwise someone may be intercepting the connection",
  connectionFailed: "check connection.host and connection.port and that the OpenSSH server (or WinRM) is running",
  connectionDropped: "the host may be partly changed, and its original values are kept in its record; run `pulumi refresh` to see its settings, then retry",
  hostBusy: "the host refused more connections or shells for now (sshd MaxStartups, WinRM 503 or shell quota); retry later or lower `pulumi up --parallel`",
  timeout: "raise connection.commandTimeoutSeconds (or the resource's customTimeouts) or check that the host is responsive",
  accessDenied: "connect as a member of the local Administrators group (elevated)",
  unsupportedSetting: "remove that setting from the resource, or upgrade the host (Windows 11 24H2 / Server 2025)",
  sideUnavailable: "start the service the message names, or declare only the other side's settings for this host; refresh and destroy still work",
  unsupportedOs: "this host is too old to manage as it is",
  constrainedLanguage:
    "the host's application control policy (AppLocker or WDAC) puts PowerShell in Constrained Language Mode, which cannot run the provider's scripts; " +
    "sign a copy of the package's provider/scripts/smb-signing.ps1 with a code-signing certificate that policy allows, place it on the host and name it " +
    'in connection.scriptPath (README, "Hosts with WDAC or AppLocker"), or manage this host by Group Policy instead',
  scriptMismatch:
    "copy provider/scripts/smb-signing.ps1 of the installed pulumi-smb-signing package to the host unchanged, sign it there with " +
    "Set-AuthenticodeSignature and a code-signing certificate the host's application control policy allows, and name it in connection.scriptPath " +
    '(README, "Hosts with WDAC or AppLocker")',
  policyConflict:
    "declare the value the policy enforces, stop managing that setting, or change the Group Policy object: a local change would only last until the " +
    "policy's next application (boot, gpupdate /force, the background refresh or the 16-hour security policy re-apply)",
  policyUnknown:
    "make the host's Group Policy readable (the message says how), or declare the value the host has now; a domain controller's signing normally comes " +
    "from the Default Domain Controllers Policy, which would put a local change back at its next refresh",
  ownedElsewhere:
    "to hand the host over, remove that resource first (`pulumi up` without it, or `pulumi destroy` of its stack: it then releases the host, or " +
    'restores it with onDelete: "restore"), or set takeOwnership: true on this resource to take the host over with the originals recorded there; if ' +
    "this same run renames or moves that resource (a new name, parent or type without aliases), give it `aliases` naming the old one instead, so " +
    "that Pulumi keeps one resource and its ownership",
  badRecord: "the record under HKLM:\\SOFTWARE\\pulumi-smb-signing was changed by hand; inspect it on the host",
  badRequest: "this is a bug in pulumi-smb-signing; please report it",
  failed:
    "the host may be partly changed, and its original values are kept in its record on the host; fix what the message names, then run `pulumi up` (or " +
    "`destroy`) again: it reads the host and applies only what still differs",
  notEnforced: "a Group Policy probably enforces another value; change the policy or stop managing this setting",
  badReply: "the host's reply could not be understood; run again, and report it if it persists",
};

/** True for the kinds above; a host's reply may name any string. */
export function isHostErrorKind(kind: unknown): kind is HostErrorKind {
  return typeof kind === "string" && Object.hasOwn(ADVICE, kind);
}

/**
 * Kinds that say the script never ran: retrying cannot change anything twice. A connection that
 * dropped while the script ran is not among them: the host may hold a half-finished run (and,
 * over WinRM, a shell that lives on until its idle timeout), so the user's next `up` retries it,
 * which is safe because the originals are in the host's record.
 */
const TRANSIENT: ReadonlySet<HostErrorKind> = new Set(["connectionFailed", "hostBusy"]);

export class HostError extends Error {
  /**
   * `advice` replaces the kind's own where the failure says more about what to do (a refused SSH
   * key: the file Windows OpenSSH reads an administrator's keys from).
   */
  constructor(
    readonly kind: HostErrorKind,
    readonly host: string,
    readonly detail: string,
    readonly advice: string = ADVICE[kind],
  ) {
    super(`${host}: ${detail} (${advice})`);
    this.name = "HostError";
  }

  /** Retried within the operation's deadline: refused or reset connections, a busy host. */
  get transient(): boolean {
    return TRANSIENT.has(this.kind);
  }
}
