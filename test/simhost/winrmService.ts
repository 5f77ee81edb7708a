// One simulated host's WinRM service configuration and the accounts that may log on to it,
// shared by the host's HTTP and HTTPS listeners: who an NTLM or Basic logon names, and what
// Windows then lets that account do over WinRM. Tests change it as an administrator would
// (winrm set winrm/config/service/auth, the LocalAccountTokenFilterPolicy value, configSDDL).

/** The host's names, as its NTLM CHALLENGE announces them (winrmServer.ts simulatedChallenge). */
export const SIM_COMPUTER = "SIMHOST";
export const SIM_DOMAIN = "SIM";
export const SIM_DNS_DOMAIN = "sim.example";

/**
 * What an account is to this host, which decides what WinRM lets it do:
 * - builtinAdministrator: the local Administrator (RID 500, possibly renamed): a full token over
 *   the network (exempt from UAC remote restrictions by FilterAdministratorToken's default; notes
 *   8g, from WinRb/WinRM 239 and winrm-java 149);
 * - localAdministrator: another local member of Administrators: a filtered token unless
 *   LocalAccountTokenFilterPolicy = 1 (KB 951016), refused by WinRM with 401 (notes 8g);
 * - domainAdministrator: a domain account in the host's Administrators group: a full token (KB 951016);
 * - remoteManagementUser: a member of Remote Management Users only: WinRM admits it, but it is no
 *   administrator (about_Remote_Requirements).
 */
export type AccountKind = "builtinAdministrator" | "localAdministrator" | "domainAdministrator" | "remoteManagementUser";

export interface WinrmAccount {
  /** The local user name, or a domain account's sAMAccountName. */
  user: string;
  /** A domain account's NetBIOS domain (SIM_DOMAIN); absent for a local account. */
  domain?: string;
  /** A domain account's userPrincipalName, which need not be user@SIM_DNS_DOMAIN. */
  upn?: string;
  /** Absent until an administrator sets one: no logon succeeds. */
  password?: string;
  kind: AccountKind;
}

/** CbtHardeningLevel (MS-WSMV 2.2.4.34 ServiceAuthType, default "Relaxed"). */
export type CbtHardeningLevel = "None" | "Relaxed" | "Strict";

export interface WinrmServiceSettings {
  /**
   * Channel binding over HTTPS: None ignores it, Relaxed checks it when the client sends one,
   * Strict requires it (HTTP.sys hardening levels Legacy, Medium, Strict; notes 8b).
   */
  cbtHardeningLevel: CbtHardeningLevel;
  /** winrm/config/service/auth Basic (MS-WSMV 2.2.4.34: default false). */
  allowBasic: boolean;
  /** HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System LocalAccountTokenFilterPolicy (KB 951016: default 0). */
  localAccountTokenFilterPolicy: 0 | 1;
  /**
   * The cmd shell plugin's security descriptor (`winrm configSDDL default`) grants Remote
   * Management Users: off as Windows ships it, where only Administrators may open a cmd shell
   * (pywinrm issues 336, 338 and 362).
   */
  shellOpenToRemoteManagementUsers: boolean;
  /** MaxTimeoutms: the longest OperationTimeout the service honours (60000 in `winrm get winrm/config` dumps, pywinrm issue 258). */
  maxTimeoutMs: number;
  /**
   * "Network security: Restrict NTLM: Incoming NTLM traffic" = Deny all accounts: the server
   * "will deny NTLM authentication requests" (Microsoft Learn, that policy's page). Kerberos
   * still works where the host has an acceptor (WinrmHostOptions.kerberos).
   */
  restrictNtlmIncoming: boolean;
}

export const DEFAULT_SETTINGS: WinrmServiceSettings = {
  cbtHardeningLevel: "Relaxed",
  allowBasic: false,
  localAccountTokenFilterPolicy: 0,
  shellOpenToRemoteManagementUsers: false,
  maxTimeoutMs: 60_000,
  restrictNtlmIncoming: false,
};

const same = (a: string, b: string | undefined) => b !== undefined && a.toLowerCase() === b.toLowerCase();

export class WinrmService {
  readonly settings: WinrmServiceSettings;
  private readonly accounts: WinrmAccount[];

  constructor(accounts: WinrmAccount[], settings: Partial<WinrmServiceSettings> = {}) {
    this.accounts = accounts.map((a) => ({ ...a }));
    this.settings = { ...DEFAULT_SETTINGS, ...settings };
  }

  /** An administrator creates an account (on the host, or in the domain). */
  addAccount(account: WinrmAccount): void {
    this.accounts.push({ ...account });
  }

  /** An administrator sets an account's password; account names are case-insensitive. */
  setPassword(user: string, password: string): void {
    const account = this.accounts.find((a) => same(user, a.user));
    if (!account) throw new Error(`the simulated host has no account ${user}`);
    account.password = password;
  }

  /**
   * The account an NTLM AUTHENTICATE names by its UserName and DomainName fields:
   * - an empty domain and a UserName with "@": a domain account by its UPN, as pyspnego and
   *   requests-ntlm send a UPN (notes 8a). Only the UPN itself: an implicit UPN
   *   (sAMAccountName@DNS domain) is not resolved (harsher than Windows may be; unsettled);
   * - an empty domain otherwise: the local accounts first, then the domain (KB 163632, "If no
   *   domain name is provided ... the local SAM database is first checked");
   * - the computer's name: local accounts; the domain's NetBIOS or DNS name: domain accounts;
   * - any other domain: nobody. (Windows processes an unknown domain name as if it were the
   *   computer's, per the NTLM pass-through documentation; refusing it is harsher.)
   */
  resolve(userName: string, domainName: string): WinrmAccount | undefined {
    const local = this.accounts.filter((a) => a.domain === undefined);
    const domain = this.accounts.filter((a) => a.domain !== undefined);
    if (domainName === "") {
      if (userName.includes("@")) return domain.find((a) => same(userName, a.upn));
      return local.find((a) => same(userName, a.user)) ?? domain.find((a) => same(userName, a.user));
    }
    if (same(domainName, SIM_COMPUTER)) return local.find((a) => same(userName, a.user));
    if (same(domainName, SIM_DOMAIN) || same(domainName, SIM_DNS_DOMAIN)) return domain.find((a) => same(userName, a.user));
    return undefined;
  }

  /**
   * The account a Kerberos ticket's client principal names: `name@REALM` where REALM is the
   * domain's (SIM_DNS_DOMAIN in upper case, as AD names its realm) and name a domain account's
   * sAMAccountName, or an enterprise principal equal to its userPrincipalName. Local accounts
   * have no Kerberos identity; any other realm is nobody's (no trusts are modelled).
   */
  resolveKerberos(principal: string): WinrmAccount | undefined {
    const at = principal.lastIndexOf("@");
    if (at <= 0) return undefined;
    const name = principal.slice(0, at);
    const realm = principal.slice(at + 1);
    if (realm !== SIM_DNS_DOMAIN.toUpperCase()) return undefined;
    const domain = this.accounts.filter((a) => a.domain !== undefined);
    // An enterprise principal arrives as "user\@upn.suffix@REALM" (RFC 6806 NT-ENTERPRISE).
    const unescaped = name.replace(/\\@/g, "@");
    return unescaped.includes("@") ? domain.find((a) => same(unescaped, a.upn)) : domain.find((a) => same(name, a.user));
  }

  /** Basic authentication maps to local accounts only (jborean93 in pywinrm issue 154). */
  resolveBasic(userName: string): WinrmAccount | undefined {
    return this.accounts.find((a) => a.domain === undefined && same(userName, a.user));
  }

  /**
   * Whether WinRM lets an authenticated account in at all. A local administrator other than the
   * built-in one carries a filtered token (KB 951016) unless LocalAccountTokenFilterPolicy = 1,
   * and WinRM answers it with HTTP 401 (pywinrm issue 188, ansible issue 42978; notes 8g). That
   * it is 401 and not a SOAP "Access is denied" fault is observed, not documented: the emulator
   * gives the 401, on the very request that carried the AUTHENTICATE (over HTTPS that request
   * also carries the Create, which is where pywinrm issue 188 saw it), so no message is ever
   * processed for that account: the harsher of the two.
   */
  admits(account: WinrmAccount): boolean {
    return account.kind !== "localAdministrator" || this.settings.localAccountTokenFilterPolicy === 1;
  }
}
