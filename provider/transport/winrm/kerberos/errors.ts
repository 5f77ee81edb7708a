// What can go wrong getting or using a Kerberos ticket, as one error type the WinRM client maps
// to the provider's error kinds: a failure (the cause, named for the code that tells it), the
// RFC 4120 7.5.9 error code when a KDC or acceptor sent one, and whether trying again later can
// help (only a KDC that did not answer). Messages name the cause and the fix, never a credential.

/** Why Kerberos failed, one name per cause a user can act on. */
export type KerberosFailure =
  /** KRB_AP_ERR_SKEW (37): this machine's clock and the KDC's or host's differ by more than the allowed skew. */
  | "clockSkew"
  /** KDC_ERR_S_PRINCIPAL_UNKNOWN (7): no account holds the service principal (HTTP/<host>). */
  | "servicePrincipalUnknown"
  /** KDC_ERR_C_PRINCIPAL_UNKNOWN (6): the user is not in the realm. */
  | "clientPrincipalUnknown"
  /** KDC_ERR_PREAUTH_FAILED (24): a wrong password, or a keytab whose key is no longer the account's. */
  | "preauthFailed"
  /** KDC_ERR_KEY_EXPIRED (23): the account's password has expired. */
  | "passwordExpired"
  /** KDC_ERR_CLIENT_REVOKED (18): the account is disabled or locked out. */
  | "accountRevoked"
  /** A ticket cache whose tickets have all ended, or KRB_AP_ERR_TKT_EXPIRED (32). */
  | "ticketExpired"
  /** No credential cache where KRB5CCNAME (or the default) points, or one in a form we do not read. */
  | "cacheUnusable"
  /** No KDC answered (none configured, unreachable, or not resolving): transient. */
  | "kdcUnreachable"
  /** KRB_AP_ERR_REPEAT (34): the host saw this authenticator before. */
  | "replay"
  /** A token or reply failed its integrity check (KRB_AP_ERR_BAD_INTEGRITY 31, KRB_AP_ERR_MODIFIED 41, a wrap token's checksum). */
  | "integrity"
  /** The host did not prove it holds the service key (no AP-REP, or one we cannot verify). */
  | "mutualAuthFailed"
  /** An encryption type, name form or feature we do not implement. */
  | "unsupported"
  /** Realm, KDC or service principal cannot be worked out from what was given and krb5.conf. */
  | "configuration"
  /** Any other KDC or acceptor error, or a reply that is not a Kerberos message. */
  | "protocol";

export class KerberosError extends Error {
  /** The RFC 4120 error code a KDC or acceptor sent, if any. */
  readonly code?: number;
  /** True only where trying again later can help: a KDC that did not answer. */
  readonly transient: boolean;

  constructor(
    readonly failure: KerberosFailure,
    message: string,
    options: { code?: number; transient?: boolean } = {},
  ) {
    super(message);
    this.name = "KerberosError";
    if (options.code !== undefined) this.code = options.code;
    this.transient = options.transient ?? failure === "kdcUnreachable";
  }
}
