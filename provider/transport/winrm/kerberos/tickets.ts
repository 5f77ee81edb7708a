// Getting Kerberos tickets from a KDC (RFC 4120 3.1 and 3.3) and keeping them for the provider
// process: the AS exchange for a user's ticket-granting ticket from a password (string-to-key
// with the salt the KDC names in PA-ETYPE-INFO2) or a keytab, with PA-ENC-TIMESTAMP
// pre-authentication and PA-PAC-REQUEST as Windows clients send it; the TGS exchange for a
// service ticket (HTTP/<host>) under that TGT; and credentials an MIT FILE ccache already holds
// (after `kinit -kt` in a CI job). Replies are checked before use: decrypted with the right key
// usage, the nonce and names matched, the times within the allowed clock skew of ours. KDC
// errors become KerberosErrors that name the cause and the fix, never a password or key.
//
// The KDCs of a realm come from the `kdc` option or krb5.conf [realms]; DNS SRV lookups
// (_kerberos._udp/_tcp) are not done yet. Cross-realm referrals are refused as unsupported.
import * as crypto from "node:crypto";
import * as net from "node:net";
import { CcacheError, Credential, CredentialCache, findCredential, findTgt, readCcache, resolveCcacheName } from "./ccache";
import { EncryptionKey, KerberosCryptoError, checksum, checksumType, decrypt, encrypt, enctypeName, isSupportedEnctype, stringToKey } from "./crypto";
import { DerError } from "./der";
import { KerberosError } from "./errors";
import { KdcAddress, KdcSender, KdcSendOptions, sendKdcRequest } from "./kdcTransport";
import { KeytabEntry, KeytabError, keytabPrincipals, newestKey, readKeytab } from "./keytab";
import { Krb5Config, Krb5ConfigError, defaultRealm, kdcAddresses, loadKrb5Config, parseKdcAddress } from "./krb5conf";
import * as m from "./messages";
import { Principal, formatPrincipal, parsePrincipal } from "./principal";

/** The enctypes asked for and used, in order of preference: aes256, then aes128 (crypto.ts speaks no others). */
const PREFERRED_ENCTYPES: readonly number[] = [m.EncType.AES256_CTS_HMAC_SHA1_96, m.EncType.AES128_CTS_HMAC_SHA1_96];
/** MIT's and Windows' default maximum clock difference, krb5.conf [libdefaults] clockskew. */
const DEFAULT_CLOCK_SKEW_SECONDS = 300;
/** The fewest PBKDF2 iterations a KDC may ask a password's key for (RFC 3962's default, AD's and MIT's). */
const MIN_ITERATIONS = 4096;
/** A ticket is reused until this long before its end, then a new one is obtained. */
const REUSE_MARGIN_SECONDS = 300;
/** The lifetime asked for in an AS-REQ; the KDC shortens it to the realm's maximum. */
const REQUESTED_LIFETIME_SECONDS = 24 * 3600;

/** What proves the user's identity to the KDC: a password, or the keys of a keytab. */
export type ClientSecret = { password: string } | { keytab: readonly KeytabEntry[]; keytabName: string };

/** Where and how to reach a realm's KDCs, and the clock the replies are checked against. */
export interface KdcTarget {
  realm: string;
  kdcs: readonly KdcAddress[];
  /** The sender (sendKdcRequest unless a test counts or fakes requests). */
  send?: KdcSender;
  sendOptions?: KdcSendOptions;
  /** The largest difference between our clock and the KDC's that is accepted; 300 s unless told. */
  clockSkewSeconds?: number;
  /** Our clock; the system's unless a test fixes it. */
  now?: () => Date;
}

const nowOf = (t: KdcTarget) => (t.now ?? (() => new Date()))();
const text = (p: { realm: string; components: readonly string[] }) => formatPrincipal(p);
const nameOf = (p: Principal): m.PrincipalName => ({ nameType: p.nameType, nameString: [...p.components] });
const sameName = (a: { realm: string; components: readonly string[] }, b: { realm: string; components: readonly string[] }) =>
  // Active Directory compares names without case and may answer in its own spelling.
  a.realm.toUpperCase() === b.realm.toUpperCase() &&
  a.components.length === b.components.length &&
  a.components.every((c, i) => c.toLowerCase() === b.components[i].toLowerCase());

/** The salt of RFC 4120 4 used when the KDC names none: the realm followed by the name components. */
export function defaultSalt(p: { realm: string; components: readonly string[] }): string {
  return p.realm + p.components.join("");
}

/**
 * The ETYPE-INFO2 entry to use: the first the KDC lists (its order is its preference) whose
 * enctype we can use; undefined when none is.
 */
export function chooseEtype(offered: readonly m.EtypeInfo2Entry[], usable: readonly number[]): m.EtypeInfo2Entry | undefined {
  return offered.find((e) => usable.includes(e.etype));
}

/** The enctypes this secret can make keys for, best first: every preferred one for a password, those the keytab holds for a keytab. */
export function usableEtypes(client: Principal, secret: ClientSecret): number[] {
  if ("password" in secret) return [...PREFERRED_ENCTYPES];
  return PREFERRED_ENCTYPES.filter((e) => newestKey(secret.keytab, client, e) !== undefined);
}

/** The client's long-term key for `etype`: string-to-key of the password with the KDC's salt and parameters, or the keytab's newest. */
function clientKey(client: Principal, secret: ClientSecret, etype: number, info?: m.EtypeInfo2Entry): EncryptionKey {
  if ("password" in secret) {
    // PA-ETYPE-INFO2 is not authenticated: a forged reply asking for a few iterations would make
    // the encrypted timestamp we send cheap to guess the password from. AD and MIT use 4096.
    const s2k = info?.s2kparams;
    if (s2k && s2k.length === 4 && s2k.readUInt32BE(0) !== 0 && s2k.readUInt32BE(0) < MIN_ITERATIONS) {
      throw new KerberosError(
        "protocol",
        `the KDC asks for ${s2k.readUInt32BE(0)} PBKDF2 iterations for ${text(client)}'s key, fewer than the ${MIN_ITERATIONS} Active Directory and MIT ` +
          `use: refused before anything derived from the password was sent (a forged reply?)`,
      );
    }
    try {
      return stringToKey(etype, secret.password, info?.salt ?? defaultSalt(client), s2k);
    } catch (err) {
      if (err instanceof KerberosCryptoError)
        throw new KerberosError("protocol", `the KDC's key parameters for ${text(client)} cannot be used: ${err.message}`);
      throw err;
    }
  }
  const entry = newestKey(secret.keytab, client, etype);
  if (!entry)
    throw new KerberosError(
      "configuration",
      `keytab ${secret.keytabName} holds no ${enctypeName(etype)} key for ${text(client)}, the enctype the KDC uses: export a keytab with that key ` +
        `(ktpass /crypto AES256-SHA1, or kadmin ktadd)`,
    );
  return { etype, value: entry.key };
}

/** A 31-bit nonce: MIT and Windows read it as signed, so the top bit stays clear. */
function newNonce(): number {
  return crypto.randomInt(1, 0x7fffffff);
}

const seconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);
const micros = (d: Date) => (d.getTime() % 1000) * 1000;

/** The fix offered when a ticket cache holds only ended tickets. */
export const KINIT_AGAIN = "run kinit again; in CI: kinit -kt <keytab> -c FILE:<path> <principal> before pulumi";

interface ErrorContext {
  realm: string;
  client: Principal;
  server: Principal;
  /** The time we put in the request, to set beside the KDC's when they disagree. */
  sentAt: Date;
  clockSkewSeconds: number;
}

/** A KRB-ERROR from the KDC as the KerberosError a user can act on. */
export function kdcErrorToKerberosError(e: m.KrbError, ctx: ErrorContext): KerberosError {
  const code = e.errorCode;
  const client = text(ctx.client);
  const server = text(ctx.server);
  const head = `${m.errorName(code)} (${code})`;
  switch (code) {
    case m.ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN:
      return new KerberosError("clientPrincipalUnknown", `${head}: ${client} is not in realm ${ctx.realm}: check the user name and its realm (user@REALM)`, {
        code,
      });
    case m.ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN: {
      const host = ctx.server.components[1] ?? "<host>";
      return new KerberosError(
        "servicePrincipalUnknown",
        `${head}: no account in realm ${ctx.realm} holds the service principal ${server}: register HTTP/${host} (setspn -S HTTP/${host} <computer ` +
          `account>) or set the service principal to the name the SPN has`,
        { code },
      );
    }
    case m.ErrorCode.KDC_ERR_CLIENT_REVOKED:
      return new KerberosError(
        "accountRevoked",
        `${head} for ${client}: the account is disabled, locked out or expired: have it enabled or unlocked in the directory`,
        { code },
      );
    case m.ErrorCode.KDC_ERR_KEY_EXPIRED:
      return new KerberosError(
        "passwordExpired",
        `${head} for ${client}: the account's password has expired: set a new one, then update the stored password or export a new keytab`,
        { code },
      );
    case m.ErrorCode.KDC_ERR_PREAUTH_FAILED:
      return new KerberosError("preauthFailed", `${head} for ${client}: wrong password, or the keytab's key is older than the account's: export a new keytab`, {
        code,
      });
    case m.ErrorCode.KRB_AP_ERR_TKT_EXPIRED:
      return new KerberosError("ticketExpired", `${head}: the KDC of ${ctx.realm} says the ticket-granting ticket of ${client} has expired: ${KINIT_AGAIN}`, {
        code,
      });
    case m.ErrorCode.KRB_AP_ERR_SKEW: {
      // MIT's kinit answers this error by taking the KDC's time (stime) as its own and trying
      // again. We do not: a host whose clock is wrong fails later anyway, at the WinRM host, with
      // a less clear error, and quietly living on another clock hides the fault. The user fixes
      // the time synchronisation; the message gives both clocks.
      const kdcTime = new Date(e.stime.getTime() + Math.floor(e.susec / 1000));
      return clockSkewError(ctx.sentAt, kdcTime, ctx.clockSkewSeconds, `the KDC of ${ctx.realm} refused our time`, code);
    }
    default:
      return new KerberosError("protocol", `${head} from the KDC of ${ctx.realm} for ${client} asking for ${server}${e.eText ? `: ${e.eText}` : ""}`, { code });
  }
}

function clockSkewError(ours: Date, theirs: Date, skew: number, what: string, code?: number): KerberosError {
  const apart = Math.round(Math.abs(theirs.getTime() - ours.getTime()) / 1000);
  return new KerberosError(
    "clockSkew",
    `${code !== undefined ? `${m.errorName(code)} (${code}): ` : ""}${what}: this machine's clock said ${ours.toISOString()} and the KDC's ` +
      `${theirs.toISOString()}, ${apart} s apart, more than the ${skew} s Kerberos allows: synchronise this machine's clock with the domain's time (w32tm ` +
      `/resync, chronyc makestep, timedatectl set-ntp true); the KDC's time is not adopted`,
    code !== undefined ? { code } : {},
  );
}

/** A KDC reply that is not what a KDC sends. */
function badReply(realm: string, what: string, detail: string): KerberosError {
  return new KerberosError("protocol", `the KDC of ${realm} sent ${what}: ${detail}`);
}

type Reply = { kind: "error"; error: m.KrbError } | { kind: "rep"; rep: m.KdcRep };

async function exchange(target: KdcTarget, request: Buffer, expected: m.KdcRep["msgType"]): Promise<Reply> {
  const send = target.send ?? sendKdcRequest;
  const { reply } = await send(target.realm, target.kdcs, request, target.sendOptions);
  const type = m.messageType(reply);
  try {
    if (type === m.MsgType.KRB_ERROR) return { kind: "error", error: m.decodeKrbError(reply) };
    if (type === expected) return { kind: "rep", rep: m.decodeKdcRep(reply, expected) };
  } catch (err) {
    if (err instanceof DerError) throw badReply(target.realm, "a malformed reply", err.message);
    throw err;
  }
  throw badReply(
    target.realm,
    "a reply that is neither a KRB-ERROR nor a " + (expected === m.MsgType.AS_REP ? "AS-REP" : "TGS-REP"),
    `message type ${type ?? "none"}`,
  );
}

/** Decrypts and checks a KDC reply's enc-part: the nonce sent, the server asked for, times near ours. */
function openReply(
  target: KdcTarget,
  rep: m.KdcRep,
  key: EncryptionKey,
  usage: number,
  expect: { nonce: number; client: Principal; server: Principal; sentAt: Date },
  onIntegrityFailure: () => KerberosError,
): m.EncKdcRepPart {
  let part: m.EncKdcRepPart;
  try {
    part = m.decodeEncKdcRepPart(decrypt(key, usage, rep.encPart.cipher));
  } catch (err) {
    if (err instanceof KerberosCryptoError) throw onIntegrityFailure();
    if (err instanceof DerError) throw badReply(target.realm, "an enc-part that is not an EncKDCRepPart", err.message);
    throw err;
  }
  // The nonce ties the encrypted reply to this request: without it, a reply recorded earlier
  // (an old session key an attacker may know) could be played back.
  if (part.nonce !== expect.nonce)
    throw badReply(target.realm, "a reply to another request", `its nonce is ${part.nonce}, ours was ${expect.nonce}; refused as a replayed or forged reply`);
  const client = { realm: rep.crealm, components: rep.cname.nameString };
  if (!sameName(client, expect.client)) throw badReply(target.realm, "a ticket for another client", `${text(client)}, not ${text(expect.client)}`);
  const server = { realm: part.srealm, components: part.sname.nameString };
  if (!sameName({ realm: rep.ticket.realm, components: rep.ticket.sname.nameString }, server)) {
    throw badReply(
      target.realm,
      "a ticket whose names disagree",
      `the ticket is for ${text({ realm: rep.ticket.realm, components: rep.ticket.sname.nameString })}, its reply part says ${text(server)}`,
    );
  }
  if (!isSupportedEnctype(part.key.keytype)) {
    throw new KerberosError(
      "unsupported",
      `the KDC of ${target.realm} gave a session key of ${enctypeName(part.key.keytype)} (${part.key.keytype}): only aes256-cts-hmac-sha1-96 and ` +
        `aes128-cts-hmac-sha1-96 are supported; allow AES for the account and the service`,
    );
  }
  // A reply whose ticket starts far from our clock: the KDC's clock and ours disagree. MIT takes
  // the KDC's time here (kdc_timesync); we refuse, so the fault is fixed where it is (see above).
  const skew = target.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const start = part.starttime ?? (rep.msgType === m.MsgType.AS_REP ? part.authtime : undefined);
  if (start && Math.abs(start.getTime() - expect.sentAt.getTime()) > skew * 1000) {
    throw clockSkewError(expect.sentAt, start, skew, `the KDC of ${target.realm} issued a ticket starting at its time`);
  }
  return part;
}

function credentialOf(rep: m.KdcRep, part: m.EncKdcRepPart): Credential {
  return {
    client: { realm: rep.crealm, components: rep.cname.nameString, nameType: rep.cname.nameType },
    server: { realm: part.srealm, components: part.sname.nameString, nameType: part.sname.nameType },
    key: { etype: part.key.keytype, value: part.key.keyvalue },
    authtime: part.authtime,
    starttime: part.starttime ?? part.authtime,
    endtime: part.endtime,
    ...(part.renewTill ? { renewTill: part.renewTill } : {}),
    isSkey: false,
    ticketFlags: part.flags,
    addresses: part.caddr ?? [],
    authdata: [],
    ticket: m.encodeTicket(rep.ticket),
    secondTicket: Buffer.alloc(0),
  };
}

const pacRequest: m.PaData = { padataType: m.PaType.PAC_REQUEST, padataValue: m.encodePaPacRequest(true) };

/**
 * The AS exchange: a TGT (krbtgt/REALM@REALM) for `client` proved with a password or keytab.
 * The first AS-REQ goes without pre-authentication, as MIT's and Windows' clients do; the KDC's
 * PREAUTH_REQUIRED names the enctype, salt and s2kparams (PA-ETYPE-INFO2) for the second, which
 * carries PA-ENC-TIMESTAMP (key usage 1). The AS-REP's enc-part is decrypted with key usage 3.
 */
export async function getInitialTicket(client: Principal, secret: ClientSecret, target: KdcTarget): Promise<Credential> {
  const realm = target.realm;
  const server: Principal = { realm, components: ["krbtgt", realm], nameType: m.NameType.SRV_INST };
  const usable = usableEtypes(client, secret);
  if (usable.length === 0) {
    const held = "keytab" in secret ? keytabPrincipals(secret.keytab) : [];
    throw new KerberosError(
      "configuration",
      `keytab ${"keytab" in secret ? secret.keytabName : ""} holds no aes256-cts-hmac-sha1-96 or aes128-cts-hmac-sha1-96 key for ` +
        `${text(client)}${held.length ? ` (it holds keys for ${held.join(", ")})` : ""}: export one (ktpass /crypto AES256-SHA1, or kadmin ktadd)`,
    );
  }
  let preauth: { key: EncryptionKey; info?: m.EtypeInfo2Entry } | undefined;
  for (let round = 0; round < 2; round++) {
    const sentAt = nowOf(target);
    const nonce = newNonce();
    const padata: m.PaData[] = [];
    if (preauth) {
      const ts = m.encodePaEncTsEnc({ patimestamp: seconds(sentAt), pausec: micros(sentAt) });
      const enc: m.EncryptedData = { etype: preauth.key.etype, cipher: encrypt(preauth.key, m.KeyUsage.AS_REQ_PA_ENC_TIMESTAMP, ts) };
      padata.push({ padataType: m.PaType.ENC_TIMESTAMP, padataValue: m.encodeEncryptedData(enc) });
    }
    padata.push(pacRequest);
    const reqBody: m.KdcReqBody = {
      kdcOptions: 0,
      cname: nameOf(client),
      realm,
      sname: nameOf(server),
      till: new Date(sentAt.getTime() + REQUESTED_LIFETIME_SECONDS * 1000),
      nonce,
      etype: preauth ? [preauth.key.etype] : usable,
    };
    const request = m.encodeKdcReq({ msgType: m.MsgType.AS_REQ, padata, reqBody });
    const reply = await exchange(target, request, m.MsgType.AS_REP);
    const ctx: ErrorContext = { realm, client, server, sentAt, clockSkewSeconds: target.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS };
    if (reply.kind === "error") {
      const e = reply.error;
      if (e.errorCode !== m.ErrorCode.KDC_ERR_PREAUTH_REQUIRED || preauth) throw kdcErrorToKerberosError(e, ctx);
      let offered: m.EtypeInfo2Entry[] | undefined;
      try {
        offered = m.errorEtypeInfo2(e);
      } catch (err) {
        if (err instanceof DerError) throw badReply(realm, "a PREAUTH_REQUIRED error whose e-data is not METHOD-DATA", err.message);
        throw err;
      }
      const info = offered ? chooseEtype(offered, usable) : { etype: usable[0] };
      if (!info) {
        throw new KerberosError(
          "unsupported",
          `the KDC of ${realm} offers ${offered!.map((o) => `${enctypeName(o.etype)} (${o.etype})`).join(", ")} for ${text(client)}, none of which ` +
            `${"password" in secret ? "this client speaks" : "the keytab holds"}: allow AES for the account (msDS-SupportedEncryptionTypes) and set its ` +
            `password again, or export an AES keytab`,
        );
      }
      preauth = { key: keyOrCryptoError(() => clientKey(client, secret, info.etype, info)), info };
      continue;
    }
    const rep = reply.rep;
    // The reply's key: the one pre-authentication used, or (no pre-authentication asked for) the
    // one for the enctype the KDC encrypted with, salted as its PA-ETYPE-INFO2 says if it sent one.
    let key = preauth?.key;
    if (!key || key.etype !== rep.encPart.etype) {
      if (!usable.includes(rep.encPart.etype)) {
        throw new KerberosError(
          "unsupported",
          `the KDC of ${realm} encrypted its AS-REP with ${enctypeName(rep.encPart.etype)} (${rep.encPart.etype}), which was not asked for: allow AES ` +
            `for the account`,
        );
      }
      const info = replyEtypeInfo(rep, rep.encPart.etype) ?? (preauth?.info?.etype === rep.encPart.etype ? preauth.info : undefined);
      key = keyOrCryptoError(() => clientKey(client, secret, rep.encPart.etype, info));
    }
    const part = openReply(target, rep, key, m.KeyUsage.AS_REP_ENC_PART, { nonce, client, server, sentAt }, () =>
      // Without pre-authentication a wrong password shows only here: the reply does not decrypt.
      kdcErrorToKerberosError({ errorCode: m.ErrorCode.KDC_ERR_PREAUTH_FAILED, stime: sentAt, susec: 0, realm, sname: nameOf(server) }, ctx),
    );
    if (!sameName({ realm: part.srealm, components: part.sname.nameString }, server)) {
      throw badReply(realm, "a ticket for another service", `${text({ realm: part.srealm, components: part.sname.nameString })}, not ${text(server)}`);
    }
    return credentialOf(rep, part);
  }
  throw badReply(realm, "PREAUTH_REQUIRED twice", "the KDC asked for pre-authentication again after it was given");
}

function replyEtypeInfo(rep: m.KdcRep, etype: number): m.EtypeInfo2Entry | undefined {
  const pa = rep.padata?.find((p) => p.padataType === m.PaType.ETYPE_INFO2);
  if (!pa) return undefined;
  try {
    return m.decodeEtypeInfo2(pa.padataValue).find((e) => e.etype === etype);
  } catch {
    return undefined;
  }
}

function keyOrCryptoError(make: () => EncryptionKey): EncryptionKey {
  try {
    return make();
  } catch (err) {
    if (err instanceof KerberosCryptoError) throw new KerberosError("unsupported", err.message);
    throw err;
  }
}

/**
 * The TGS exchange: a service ticket for `server` under `tgt`. The TGS-REQ carries PA-TGS-REQ,
 * an AP-REQ with the TGT and an authenticator (key usage 7) whose checksum covers the req-body
 * (usage 6) and which holds a fresh subkey; the reply is decrypted with that subkey (usage 9;
 * usage 8 would be the TGT session key's, used only when no subkey is sent). Canonicalize is
 * set, as Windows sets it; a reply that is a referral to another realm is refused as unsupported.
 */
export async function getServiceTicket(tgt: Credential, server: Principal, target: KdcTarget): Promise<Credential> {
  const realm = target.realm;
  const sentAt = nowOf(target);
  const nonce = newNonce();
  const reqBody: m.KdcReqBody = {
    kdcOptions: m.KdcOptions.CANONICALIZE,
    realm: server.realm,
    sname: nameOf(server),
    till: tgt.endtime,
    nonce,
    etype: [...PREFERRED_ENCTYPES],
  };
  const bodyDer = m.encodeKdcReqBody(reqBody);
  const tgtKey: EncryptionKey = tgt.key;
  const subkey: EncryptionKey = { etype: tgtKey.etype, value: crypto.randomBytes(tgtKey.value.length) };
  let apReq: Buffer;
  try {
    const authenticator = m.encodeAuthenticator({
      crealm: tgt.client.realm,
      cname: nameOf(tgt.client),
      cksum: { cksumtype: checksumType(tgtKey.etype), checksum: checksum(tgtKey, m.KeyUsage.TGS_REQ_PA_AUTHENTICATOR_CKSUM, bodyDer) },
      cusec: micros(sentAt),
      ctime: seconds(sentAt),
      subkey: { keytype: subkey.etype, keyvalue: subkey.value },
    });
    apReq = m.encodeApReq({
      apOptions: 0,
      ticket: m.decodeTicket(tgt.ticket),
      authenticator: { etype: tgtKey.etype, cipher: encrypt(tgtKey, m.KeyUsage.TGS_REQ_PA_AUTHENTICATOR, authenticator) },
    });
  } catch (err) {
    if (err instanceof KerberosCryptoError) throw new KerberosError("unsupported", `the ticket-granting ticket of ${text(tgt.client)}: ${err.message}`);
    if (err instanceof DerError)
      throw new KerberosError("cacheUnusable", `the ticket-granting ticket of ${text(tgt.client)} is not a Kerberos ticket (${err.message}): ${KINIT_AGAIN}`);
    throw err;
  }
  const request = m.encodeKdcReq({ msgType: m.MsgType.TGS_REQ, padata: [{ padataType: m.PaType.TGS_REQ, padataValue: apReq }], reqBody });
  const ctx: ErrorContext = { realm, client: tgt.client, server, sentAt, clockSkewSeconds: target.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS };
  const reply = await exchange(target, request, m.MsgType.TGS_REP);
  if (reply.kind === "error") throw kdcErrorToKerberosError(reply.error, ctx);
  const rep = reply.rep;
  const part = openReply(target, rep, subkey, m.KeyUsage.TGS_REP_ENC_PART_SUBKEY, { nonce, client: tgt.client, server, sentAt }, () =>
    badReply(realm, "a TGS-REP that does not decrypt with our subkey", "refused as altered or forged"),
  );
  const got = { realm: part.srealm, components: part.sname.nameString };
  if (part.sname.nameString[0] === "krbtgt" && !sameName(got, server)) {
    throw new KerberosError(
      "unsupported",
      `the KDC of ${realm} referred ${text(server)} to realm ${part.sname.nameString[1] ?? part.srealm} (a cross-realm referral), which this client does ` +
        `not follow yet: use a user and a service principal of the same realm`,
    );
  }
  if (!sameName(got, server)) throw badReply(realm, "a ticket for another service", `${text(got)}, not ${text(server)}`);
  return credentialOf(rep, part);
}

// ---- what a connection asks for, resolved -----------------------------------------------------

/** What the WinRM client asks a ticket for: the host, the user's credentials, and optional overrides. */
export interface TicketRequest {
  /** The host as the connection names it; its SPN is HTTP/<host> unless `servicePrincipal` is given. */
  host: string;
  /** The service principal, "HTTP/web01.corp.example" or with "@REALM". */
  servicePrincipal?: string;
  /** The user, "alice" or "alice@CORP.EXAMPLE"; with a ccache, its default principal unless given. */
  user?: string;
  password?: string;
  /** A keytab file (a path, or FILE:path) holding the user's keys. */
  keytab?: string;
  /** A FILE ccache (a path or FILE:path); KRB5CCNAME (or MIT's default) when neither password nor keytab is given. */
  ccache?: string;
  realm?: string;
  /** KDCs as host, host:port or [v6]:port; krb5.conf [realms] <realm> kdc unless given. */
  kdc?: readonly string[];
  /** The environment KRB5_CONFIG and KRB5CCNAME are read from; process.env unless given. */
  env?: NodeJS.ProcessEnv;
  /** A configuration already read (tests); loadKrb5Config(env) unless given. */
  config?: Krb5Config;
}

/** A TicketRequest with everything worked out: the realm, the principals, the KDCs, the credential source. */
export interface ResolvedTicketRequest {
  realm: string;
  server: Principal;
  kdcs: KdcAddress[];
  source:
    | { kind: "password"; client: Principal; password: string }
    | { kind: "keytab"; client: Principal; path: string }
    | { kind: "ccache"; client?: Principal; path: string };
  clockSkewSeconds: number;
  udpPreferenceLimit?: number;
}

function configNumber(conf: Krb5Config, tag: string): number | undefined {
  const v = conf.get("libdefaults", tag);
  if (v === undefined) return undefined;
  // MIT's clockskew also takes durations ("5m"); plain seconds are what this reader takes.
  const n = /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isFinite(n) || n <= 0)
    throw new KerberosError("configuration", `krb5.conf [libdefaults] ${tag} = "${v}" is not a whole number of ${tag === "clockskew" ? "seconds" : "bytes"}`);
  return n;
}

const configurationError = (err: unknown): never => {
  if (err instanceof Krb5ConfigError || (err instanceof Error && /^principal "/.test(err.message))) throw new KerberosError("configuration", err.message);
  if (err instanceof CcacheError) throw new KerberosError("cacheUnusable", err.message);
  throw err;
};

/**
 * Works out realm, principals, KDCs and credential source before any KDC traffic: the realm is
 * the explicit one, else the user's "@REALM", else krb5.conf's default_realm (a ccache's own
 * principal's realm when the ccache names the user); the KDCs are the explicit list, else
 * krb5.conf [realms]. A host that is an IP address with no service principal is refused here.
 */
export function resolveTicketRequest(req: TicketRequest): ResolvedTicketRequest {
  const bare = req.host.replace(/^\[(.*)\]$/, "$1");
  if (!req.servicePrincipal && net.isIP(bare)) {
    throw new KerberosError(
      "configuration",
      `Kerberos needs the host's name as its SPN has it (HTTP/<name>), not the IP address ${req.host}: give connection.host as that name or set the ` +
        `service principal`,
    );
  }
  if (req.password !== undefined && req.keytab !== undefined) throw new KerberosError("configuration", "give a password or a keytab for Kerberos, not both");
  const env = req.env ?? process.env;
  try {
    const conf = req.config ?? loadKrb5Config(env);
    // The realm a user name carries after an unquoted "@" (krb5_parse_name's quoting: "\\@").
    const userRealm = req.user !== undefined ? /^(?:[^\\@]|\\.)*@(.*)$/s.exec(req.user)?.[1] : undefined;
    let ccachePath: string | undefined;
    let ccacheClient: Principal | undefined;
    if (req.password === undefined && req.keytab === undefined) {
      ccachePath = resolveCcacheName(req.ccache ?? env.KRB5CCNAME);
      if (req.user === undefined && req.realm === undefined) {
        // The realm is the cache's own principal's: read it now (the tickets are read again when used).
        ccacheClient = readCcache(ccachePath).defaultPrincipal;
      }
    } else if (req.user === undefined) {
      throw new KerberosError("configuration", `Kerberos with a ${req.password !== undefined ? "password" : "keytab"} needs the user name (user@REALM)`);
    }
    const realm = req.realm ?? userRealm ?? ccacheClient?.realm ?? defaultRealm(conf);
    if (!realm)
      throw new KerberosError(
        "configuration",
        "no Kerberos realm is known: give the user as user@REALM, set the realm, or set default_realm in krb5.conf [libdefaults]",
      );
    if (userRealm && userRealm !== realm) {
      throw new KerberosError(
        "unsupported",
        `the user ${req.user} is in realm ${userRealm}, the connection's realm is ${realm}: cross-realm authentication is not supported`,
      );
    }
    const client = req.user !== undefined ? parsePrincipal(req.user, realm) : ccacheClient;
    const server = req.servicePrincipal
      ? parsePrincipal(req.servicePrincipal, realm, m.NameType.SRV_INST)
      : { realm, components: ["HTTP", bare.toLowerCase().replace(/\.$/, "")], nameType: m.NameType.SRV_INST };
    if (server.realm !== realm) {
      throw new KerberosError(
        "unsupported",
        `the service principal ${text(server)} is in realm ${server.realm}, the user in ${realm}: cross-realm authentication is not supported`,
      );
    }
    // DNS SRV records (_kerberos._udp.<realm>) are not looked up yet: the KDCs must be listed.
    const kdcs = req.kdc && req.kdc.length > 0 ? req.kdc.map(parseKdcAddress) : kdcAddresses(conf, realm);
    if (kdcs.length === 0) {
      throw new KerberosError(
        "configuration",
        `no KDC is known for realm ${realm}: list it in krb5.conf ([realms] ${realm} = { kdc = <host> }) or set connection.kdc (KDCs are not looked up in DNS)`,
      );
    }
    const udpPreferenceLimit = configNumber(conf, "udp_preference_limit");
    const source: ResolvedTicketRequest["source"] =
      req.password !== undefined
        ? { kind: "password", client: client!, password: req.password }
        : req.keytab !== undefined
          ? { kind: "keytab", client: client!, path: req.keytab.replace(/^(WR)?FILE:/, "") }
          : { kind: "ccache", ...(client ? { client } : {}), path: ccachePath! };
    return {
      realm,
      server,
      kdcs,
      source,
      clockSkewSeconds: configNumber(conf, "clockskew") ?? DEFAULT_CLOCK_SKEW_SECONDS,
      ...(udpPreferenceLimit !== undefined ? { udpPreferenceLimit } : {}),
    };
  } catch (err) {
    return configurationError(err);
  }
}

// ---- the provider process's tickets ----------------------------------------------------------

export interface TicketStoreOptions {
  /** The KDC sender (sendKdcRequest unless a test counts requests). */
  send?: KdcSender;
  /** Per-try timeout and deadline span for each KDC request. */
  tryTimeoutMs?: number;
  deadlineMs?: number;
  /** Overrides krb5.conf's udp_preference_limit. */
  udpPreferenceLimit?: number;
  now?: () => Date;
}

/**
 * The tickets of one provider process: TGTs per (client, realm, KDC set, credential), service
 * tickets per client and SPN, each reused until 5 minutes before it ends. Callers asking for the
 * same ticket at once share one KDC exchange, so a run makes at most one per service. Nothing is
 * written to disk; a password is never kept, only a keyed hash that tells two passwords apart.
 */
export class TicketStore {
  private readonly tickets = new Map<string, Credential>();
  private readonly inflight = new Map<string, Promise<Credential>>();
  private readonly hashKey = crypto.randomBytes(32);

  constructor(private readonly options: TicketStoreOptions = {}) {}

  private now(): Date {
    return (this.options.now ?? (() => new Date()))();
  }

  private fresh(c: Credential): boolean {
    return c.endtime.getTime() - REUSE_MARGIN_SECONDS * 1000 > this.now().getTime();
  }

  /** Forgets every ticket (tests; a provider process keeps them for its life). */
  clear(): void {
    this.tickets.clear();
  }

  private target(r: ResolvedTicketRequest): KdcTarget {
    const limit = this.options.udpPreferenceLimit ?? r.udpPreferenceLimit;
    return {
      realm: r.realm,
      kdcs: r.kdcs,
      ...(this.options.send ? { send: this.options.send } : {}),
      sendOptions: {
        ...(limit !== undefined ? { udpPreferenceLimit: limit } : {}),
        ...(this.options.tryTimeoutMs !== undefined ? { tryTimeoutMs: this.options.tryTimeoutMs } : {}),
        ...(this.options.deadlineMs !== undefined ? { deadline: Date.now() + this.options.deadlineMs } : {}),
      },
      clockSkewSeconds: r.clockSkewSeconds,
      ...(this.options.now ? { now: this.options.now } : {}),
    };
  }

  /** One shared exchange per key: a fresh stored ticket, else the exchange in flight, else a new one. */
  private once(key: string, obtain: () => Promise<Credential>): Promise<Credential> {
    const stored = this.tickets.get(key);
    if (stored && this.fresh(stored)) return Promise.resolve(stored);
    const running = this.inflight.get(key);
    if (running) return running;
    const p = (async () => {
      const c = await obtain();
      this.tickets.set(key, c);
      return c;
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** A service ticket for the request's host (or service principal), from memory when one is still good. */
  async getServiceTicket(req: TicketRequest): Promise<Credential> {
    const r = resolveTicketRequest(req);
    const s = r.source;
    const kdcSet = r.kdcs.map((k) => `${k.host}:${k.port}`).join(",");
    const secretId =
      s.kind === "password" ? `password:${crypto.createHmac("sha256", this.hashKey).update(s.password, "utf8").digest("hex")}` : `${s.kind}:${s.path}`;
    const tgtKey = JSON.stringify([s.client ? text(s.client) : "", r.realm, kdcSet, secretId]);
    const serviceKey = JSON.stringify([tgtKey, text(r.server)]);
    const target = this.target(r);
    return this.once(serviceKey, async () => {
      if (s.kind === "ccache") return this.fromCcache(r, s.path, s.client, target);
      const tgt = await this.once(tgtKey, () => getInitialTicket(s.client, this.secret(s), target));
      return getServiceTicket(tgt, r.server, target);
    });
  }

  private secret(s: { kind: "password"; password: string } | { kind: "keytab"; path: string }): ClientSecret {
    if (s.kind === "password") return { password: s.password };
    try {
      return { keytab: readKeytab(s.path), keytabName: s.path };
    } catch (err) {
      if (err instanceof KeytabError) throw new KerberosError("configuration", err.message);
      const code = (err as NodeJS.ErrnoException).code;
      throw new KerberosError("configuration", `keytab ${s.path} cannot be read (${code ?? String(err)})`);
    }
  }

  /** A service ticket from a FILE ccache: one it holds, else a TGS exchange with the TGT it holds. */
  private async fromCcache(r: ResolvedTicketRequest, path: string, client: Principal | undefined, target: KdcTarget): Promise<Credential> {
    let cache: CredentialCache;
    try {
      cache = readCcache(path);
    } catch (err) {
      if (err instanceof CcacheError) throw new KerberosError("cacheUnusable", err.message);
      throw err;
    }
    if (client && !sameName(client, cache.defaultPrincipal)) {
      throw new KerberosError(
        "configuration",
        `the credential cache ${path} is ${text(cache.defaultPrincipal)}'s, not ${text(client)}'s: kinit as ${text(client)} or leave the user out`,
      );
    }
    const now = this.now();
    const mine = (c: Credential) => sameName(c.client, cache.defaultPrincipal);
    const service = findCredential({ ...cache, credentials: cache.credentials.filter(mine) }, r.server, now);
    if (service) return service;
    const tgt = findTgt({ ...cache, credentials: cache.credentials.filter(mine) }, r.realm, now);
    if (tgt) return getServiceTicket(tgt, r.server, target);
    const ended = cache.credentials
      .filter(mine)
      .filter((c) => sameName(c.server, r.server) || sameName(c.server, { realm: r.realm, components: ["krbtgt", r.realm] }));
    if (ended.length > 0) {
      const last = new Date(Math.max(...ended.map((c) => c.endtime.getTime())));
      throw new KerberosError(
        "ticketExpired",
        `the Kerberos tickets of ${text(cache.defaultPrincipal)} in ${path} ended at ${last.toISOString()}: ${KINIT_AGAIN}`,
      );
    }
    throw new KerberosError(
      "cacheUnusable",
      `the credential cache ${path} holds no ticket-granting ticket for realm ${r.realm} and no ticket for ${text(r.server)}: ${KINIT_AGAIN}`,
    );
  }
}

let processStore: TicketStore | undefined;

/** The provider process's own TicketStore, made on first use. */
export function processTicketStore(): TicketStore {
  processStore ??= new TicketStore();
  return processStore;
}
