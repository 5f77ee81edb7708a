// Typed, actionable errors: what happened, on which host, and what to do next. Messages never
// carry a secret: they are built from host names, fingerprints and host replies only.

export type HostErrorKind =
  | "authenticationFailed"
  | "hostKeyMismatch"
  | "certificateRejected"
  | "connectionFailed"
  | "connectionDropped"
  | "timeout"
  | "accessDenied"
  | "unsupportedSetting"
  | "unsupportedOs"
  | "badRequest"
  | "failed"
  | "notEnforced"
  | "badReply";

const ADVICE: Record<HostErrorKind, string> = {
  authenticationFailed: "check connection.user and the password, private key or agent",
  hostKeyMismatch:
    "if the host was rebuilt, confirm its new key out of band (ssh-keygen -lf on the host) and update connection.hostKey; otherwise someone may be intercepting the connection",
  certificateRejected:
    "check connection.certificateFingerprint or connection.caCertificate against the host's WinRM HTTPS certificate (Get-ChildItem WSMan:\\localhost\\Listener); otherwise someone may be intercepting the connection",
  connectionFailed: "check connection.host and connection.port and that the OpenSSH server is running",
  connectionDropped: "the host may be partly changed; run `pulumi refresh` to see its settings, then retry",
  timeout: "raise connection.commandTimeoutSeconds or check that the host is responsive",
  accessDenied: "connect as a member of the local Administrators group (elevated)",
  unsupportedSetting: "remove that setting from the resource, or upgrade the host (Windows 11 24H2 / Server 2025)",
  unsupportedOs: "this host is too old to manage",
  badRequest: "this is a bug in pulumi-smb-signing; please report it",
  failed: "see the message from the host",
  notEnforced: "a Group Policy probably enforces another value; change the policy or stop managing this setting",
  badReply: "the host's reply could not be understood; run again, and report it if it persists",
};

export class HostError extends Error {
  constructor(
    readonly kind: HostErrorKind,
    readonly host: string,
    detail: string,
  ) {
    super(`${host}: ${detail} (${ADVICE[kind]})`);
    this.name = "HostError";
  }
}
