// The initiator side of a Kerberos GSS-API security context (RFC 4121 4.1, RFC 4120 3.2) for one
// WinRM connection, from a service ticket already in hand: the AP-REQ sent under
// `Authorization: Negotiate`, and the check of the host's answer (mutual authentication), which
// yields the GssSession that seals and unseals the connection's messages.
//
// The AP-REQ asks for mutual authentication (ap-options mutual-required) and carries a fresh
// authenticator under the ticket's session key (key usage 11): the client's name, a time never
// used before by this process, a random subkey of the session key's enctype, a random initial
// sequence number, the 0x8003 checksum (RFC 4121 4.1.1: the MD5 of the channel bindings when TLS
// gives one, and the context flags MUTUAL | REPLAY | SEQUENCE | CONF | INTEG), and, for a client
// aware of channel bindings, KERB_AP_OPTIONS_CBT in AD-IF-RELEVANT (MS-KILE 3.2.5.8).
//
// The host must answer with an AP-REP that decrypts under the same session key (key usage 12)
// and echoes the authenticator's ctime and cusec: only a holder of the service key could have
// read them. Anything else (no token, a token under another key or for another authenticator, a
// KRB-ERROR) is refused before a single WinRM message is sealed. Messages name the cause and the
// fix, never key material or ticket bytes.
import * as crypto from "node:crypto";
import { decrypt, encrypt, enctypeName, isSupportedEnctype, KerberosCryptoError, type EncryptionKey } from "./crypto";
import { application, DerError, explicit, flags32, integer, sequence } from "./der";
import { KerberosError } from "./errors";
import { GssSession } from "./gssWrap";
import {
  ApOptions,
  cbtAwareAuthorizationData,
  decodeApRep,
  decodeEncApRepPart,
  decodeKrb5Token,
  decodeKrbError,
  decodeNegTokenResp,
  decodeTicket,
  encodeAuthenticator,
  encodeEncryptedData,
  encodeGssChecksum,
  encodeKrb5Token,
  encodeNegTokenInit,
  errorName,
  ErrorCode,
  GssFlags,
  KeyUsage,
  MsgType,
  NameType,
  NegState,
  Oid,
  PVNO,
  TokId,
  type EncApRepPart,
  type KrbError,
} from "./messages";
import { formatPrincipal, samePrincipal, type Principal } from "./principal";

/** A service ticket and what goes with it, as a ccache or a TGS exchange gives them. */
export interface ServiceTicket {
  /** The Ticket's DER, exactly as the KDC issued it (sent as is). */
  ticket: Buffer;
  /** The ticket's session key (crypto.ts's shape). */
  sessionKey: EncryptionKey;
  /** The client principal the ticket was issued to. */
  client: { realm: string; components: readonly string[]; nameType?: number };
  /** The service principal (HTTP/<host>@REALM) the ticket is for. */
  server: { realm: string; components: readonly string[] };
}

export interface InitialTokenOptions {
  /**
   * Bnd of the 0x8003 checksum: the MD5 of the gss_channel_bindings_struct
   * (channelBinding.ts channelBindingsHash of the RFC 5929 tls-server-end-point binding) over
   * HTTPS; omitted over HTTP, where Bnd is 16 zero bytes.
   */
  bindingsHash?: Buffer;
  /**
   * Whether to declare this client aware of channel bindings (KERB_AP_OPTIONS_CBT, MS-KILE
   * 3.2.5.8): an acceptor that has bindings then refuses an authenticator without them instead of
   * letting it pass unbound. Meant with `bindingsHash`; without one it is harmless where the
   * acceptor has no bindings either (plain HTTP).
   */
  cbtAware: boolean;
  /**
   * Wrap the krb5 token in a SPNEGO NegTokenInit (mechTypes MS-KRB5, KRB5) instead of sending it
   * raw. Off by default: under `Authorization: Negotiate` the raw krb5 token is what
   * pykerberos/requests-kerberos (pywinrm, Ansible) send to Windows, whose SSPI Negotiate package
   * recognises the krb5 OID and answers in the same form, a raw AP-REP; SPNEGO adds nothing for a
   * single mechanism and may bring a mechListMIC round, which this client does not do.
   */
  spnego?: boolean;
}

/**
 * The context flags of our 0x8003 checksum. MUTUAL: we verify the AP-REP. SEQUENCE and REPLAY: our
 * GssSession accepts only the next sequence number, so it detects both, and the acceptor is asked
 * to do the same for our messages (SSPI's WinRM client and pyspnego ask for both). CONF and INTEG:
 * WinRM seals every message. No DELEG: credentials are never forwarded to the host.
 */
export const CONTEXT_FLAGS = GssFlags.MUTUAL | GssFlags.REPLAY | GssFlags.SEQUENCE | GssFlags.CONF | GssFlags.INTEG;

/** SPNEGO mechTypes of our NegTokenInit: the OID Windows lists first, then the standard one. */
const SPNEGO_MECH_TYPES = [Oid.MS_KRB5, Oid.KRB5];

/**
 * Initial sequence numbers are drawn from 1..2^30-1. RFC 4121 allows any 32-bit value; MIT
 * (gen_seqnum.c) masks to 26 bits and Heimdal to 30, both avoiding 0 and the upper half, which old
 * peers read as negative. 30 random bits keep the number unpredictable.
 */
const SEQ_LIMIT = 0x40000000;

/** The last authenticator time this process used, in microseconds since 1970: each is later. */
let lastAuthenticatorMicros = 0;

/**
 * An authenticator's ctime and cusec: the clock's time in microseconds, moved one microsecond past
 * the last one this process used when the clock has not advanced beyond it (several tokens in one
 * millisecond, a clock stepped back a little), so no two authenticators share a time. A clock
 * stepped back by more than a second is followed, so the time sent never runs far ahead of it.
 */
function freshAuthenticatorTime(now: Date): { ctime: Date; cusec: number } {
  let micros = now.getTime() * 1000;
  if (micros <= lastAuthenticatorMicros && lastAuthenticatorMicros - micros < 1_000_000) micros = lastAuthenticatorMicros + 1;
  lastAuthenticatorMicros = micros;
  return { ctime: new Date(Math.floor(micros / 1_000_000) * 1000), cusec: micros % 1_000_000 };
}

const KEY_LENGTH: Record<number, number> = { 17: 16, 18: 32 };

/** What one AP-REQ promised: the reply must echo its time; its subkey and sequence number start the session. */
interface SentAuthenticator {
  ctime: Date;
  cusec: number;
  subkey: EncryptionKey;
  seqNumber: number;
}

/** Text a host sent (KRB-ERROR e-text) as one printable line of bounded length. */
const hostText = (s: string) => s.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);

/**
 * A Kerberos initiator context for one WinRM connection. `initialToken` makes the AP-REQ (each
 * call a new authenticator, for a new connection or a retry); `acceptReply` verifies the host's
 * answer to the latest one and returns the GssSession for the connection. One context completes
 * once.
 */
export class GssInitiatorContext {
  private readonly service: string;
  private sent: SentAuthenticator | undefined;
  private complete = false;

  constructor(
    private readonly credential: ServiceTicket,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.service = formatPrincipal(credential.server);
    const key = credential.sessionKey;
    if (!isSupportedEnctype(key.etype)) {
      throw new KerberosError(
        "unsupported",
        `the service ticket for ${this.service} has a ${enctypeName(key.etype)} session key; only aes256-cts-hmac-sha1-96 and aes128-cts-hmac-sha1-96 ` +
          `are supported: allow AES for the service account (msDS-SupportedEncryptionTypes) and get a new ticket`,
      );
    }
    if (key.value.length !== KEY_LENGTH[key.etype]) {
      throw new KerberosError(
        "protocol",
        `the service ticket for ${this.service} has a ${enctypeName(key.etype)} session key of the wrong length: the ticket cache is corrupt; get a new ticket`,
      );
    }
    let ticket;
    try {
      ticket = decodeTicket(credential.ticket);
    } catch (e) {
      if (e instanceof DerError)
        throw new KerberosError("protocol", `the service ticket for ${this.service} is not a Kerberos Ticket (${e.message}): get a new ticket`);
      throw e;
    }
    if (!samePrincipal({ realm: ticket.realm, components: ticket.sname.nameString }, credential.server)) {
      const named = formatPrincipal({ realm: ticket.realm, components: ticket.sname.nameString });
      throw new KerberosError("configuration", `the ticket given for ${this.service} is for ${named}: get a ticket for ${this.service}`);
    }
  }

  /** The service principal this context authenticates to, as text. */
  get servicePrincipal(): string {
    return this.service;
  }

  /**
   * The token for `Authorization: Negotiate <base64>`: an RFC 2743 InitialContextToken (krb5 OID,
   * TOK_ID 01 00, the AP-REQ), or that inside a SPNEGO NegTokenInit when `spnego` is set. Every
   * call makes a new authenticator (time, subkey, sequence number), and `acceptReply` expects the
   * answer to the latest.
   */
  initialToken(options: InitialTokenOptions): Buffer {
    if (this.complete) throw new Error("this Kerberos context is complete: a new connection needs a new context");
    const { sessionKey, client } = this.credential;
    if (options.bindingsHash !== undefined && options.bindingsHash.length !== 16) {
      throw new RangeError(`bindingsHash must be the 16-byte MD5 of the channel bindings, not ${options.bindingsHash.length} bytes`);
    }
    const { ctime, cusec } = freshAuthenticatorTime(this.clock());
    const subkey: EncryptionKey = { etype: sessionKey.etype, value: crypto.randomBytes(KEY_LENGTH[sessionKey.etype]) };
    const seqNumber = crypto.randomInt(1, SEQ_LIMIT);
    const authenticator = encodeAuthenticator({
      crealm: client.realm,
      cname: { nameType: client.nameType ?? NameType.PRINCIPAL, nameString: [...client.components] },
      cksum: encodeGssChecksum({ bindingsHash: options.bindingsHash, flags: CONTEXT_FLAGS }),
      cusec,
      ctime,
      subkey: { keytype: subkey.etype, keyvalue: subkey.value },
      seqNumber,
      ...(options.cbtAware ? { authorizationData: cbtAwareAuthorizationData() } : {}),
    });
    const sealed = encrypt(sessionKey, KeyUsage.AP_REQ_AUTHENTICATOR, authenticator);
    // The AP-REQ is built here rather than with encodeApReq so that the ticket goes out byte for
    // byte as the KDC issued it, not decoded and encoded again.
    const apReq = application(
      MsgType.AP_REQ,
      sequence(
        explicit(0, integer(PVNO)),
        explicit(1, integer(MsgType.AP_REQ)),
        explicit(2, flags32(ApOptions.MUTUAL_REQUIRED)),
        explicit(3, this.credential.ticket),
        explicit(4, encodeEncryptedData({ etype: sessionKey.etype, cipher: sealed })),
      ),
    );
    this.sent = { ctime, cusec, subkey, seqNumber };
    const token = encodeKrb5Token(TokId.AP_REQ, apReq);
    return options.spnego ? encodeNegTokenInit({ mechTypes: SPNEGO_MECH_TYPES, mechToken: token }) : token;
  }

  /**
   * Verifies the host's answer to the latest AP-REQ: the token of `WWW-Authenticate: Negotiate
   * <base64>` on its 200, raw krb5 (an AP-REP, or a KRB-ERROR) or a SPNEGO NegTokenResp, or null
   * when the header carried none. Returns the connection's GssSession; throws KerberosError
   * (mutualAuthFailed, or the cause a KRB-ERROR names) otherwise.
   */
  acceptReply(token: Buffer | null): GssSession {
    if (this.complete) throw new Error("this Kerberos context is already complete");
    const sent = this.sent;
    if (!sent) throw new Error("acceptReply before initialToken");
    if (token === null || token.length === 0) {
      throw new KerberosError(
        "mutualAuthFailed",
        `the host answered without proving it holds the key of ${this.service} (no AP-REP): refused before anything was sent`,
      );
    }
    const krb5 = this.mechanismToken(token);
    let parsed: { tokId: number; message: Buffer };
    try {
      parsed = decodeKrb5Token(krb5);
    } catch (e) {
      if (e instanceof DerError)
        throw new KerberosError(
          "mutualAuthFailed",
          `the host's answer for ${this.service} is not a Kerberos AP-REP (${e.message}): refused before anything was sent`,
        );
      throw e;
    }
    if (parsed.tokId === TokId.KRB_ERROR) throw this.krbErrorFailure(parsed.message);
    if (parsed.tokId !== TokId.AP_REP)
      throw new KerberosError(
        "mutualAuthFailed",
        `the host answered ${this.service}'s AP-REQ with another AP-REQ, not an AP-REP: refused before anything was sent`,
      );
    const part = this.verifyApRep(parsed.message, sent);
    let key = sent.subkey;
    let acceptorSubkey = false;
    if (part.subkey) {
      if (!isSupportedEnctype(part.subkey.keytype)) {
        throw new KerberosError(
          "unsupported",
          `the host chose a ${enctypeName(part.subkey.keytype)} subkey for ${this.service}; only the AES enctypes are supported: allow AES on the host`,
        );
      }
      if (part.subkey.keyvalue.length !== KEY_LENGTH[part.subkey.keytype]) {
        throw new KerberosError("protocol", `the host's ${enctypeName(part.subkey.keytype)} subkey for ${this.service} has the wrong length`);
      }
      key = { etype: part.subkey.keytype, value: part.subkey.keyvalue };
      acceptorSubkey = true;
    }
    this.complete = true;
    return new GssSession({
      role: "initiator",
      key,
      acceptorSubkey,
      sendSeq: BigInt(sent.seqNumber),
      // RFC 4121 4.1: without a sequence number in the AP-REP, the acceptor starts from ours.
      receiveSeq: BigInt(part.seqNumber ?? sent.seqNumber),
    });
  }

  /** The krb5 token inside the reply: the reply itself, or a NegTokenResp's responseToken. */
  private mechanismToken(token: Buffer): Buffer {
    if (token[0] !== 0xa1) return token;
    let resp;
    try {
      resp = decodeNegTokenResp(token);
    } catch (e) {
      if (e instanceof DerError)
        throw new KerberosError(
          "mutualAuthFailed",
          `the host's SPNEGO answer for ${this.service} is malformed (${e.message}): refused before anything was sent`,
        );
      throw e;
    }
    if (resp.negState === NegState.REJECT) {
      // A rejecting acceptor may still carry the mechanism's KRB-ERROR, which names the cause.
      if (resp.responseToken) {
        try {
          const inner = decodeKrb5Token(resp.responseToken);
          if (inner.tokId === TokId.KRB_ERROR) throw this.krbErrorFailure(inner.message);
        } catch (e) {
          if (!(e instanceof DerError)) throw e;
        }
      }
      throw new KerberosError(
        "protocol",
        `the host rejected Kerberos for ${this.service} (SPNEGO negState reject) without saying why: check the host's SPN and its System event log`,
      );
    }
    if (resp.supportedMech !== undefined && resp.supportedMech !== Oid.KRB5 && resp.supportedMech !== Oid.MS_KRB5) {
      throw new KerberosError("protocol", `the host chose the mechanism ${resp.supportedMech}, not Kerberos, for ${this.service}`);
    }
    if (resp.negState !== undefined && resp.negState !== NegState.ACCEPT_COMPLETED) {
      throw new KerberosError(
        "protocol",
        `the host's SPNEGO answer for ${this.service} is not accept-completed (negState ${resp.negState}): a further SPNEGO round (mechListMIC) is not ` +
          `supported; send the raw krb5 token`,
      );
    }
    if (!resp.responseToken) {
      throw new KerberosError(
        "mutualAuthFailed",
        `the host answered without proving it holds the key of ${this.service} (no AP-REP): refused before anything was sent`,
      );
    }
    // A mechListMIC would be a MIC token (RFC 4121 4.2.6.1) that also takes one of the acceptor's
    // sequence numbers; ignoring it would leave the session one number behind the host.
    if (resp.mechListMIC) {
      throw new KerberosError(
        "unsupported",
        `the host's SPNEGO answer for ${this.service} carries a mechListMIC, which this client does not verify: send the raw krb5 token (the default)`,
      );
    }
    return resp.responseToken;
  }

  /** The AP-REP's decrypted part, once it decrypts under the session key and echoes our authenticator. */
  private verifyApRep(message: Buffer, sent: SentAuthenticator): EncApRepPart {
    const refused = (why: string) =>
      new KerberosError("mutualAuthFailed", `the host did not prove it holds the key of ${this.service}: ${why}; refused before anything was sent`);
    let apRep;
    try {
      apRep = decodeApRep(message);
    } catch (e) {
      if (e instanceof DerError) throw refused(`its AP-REP is malformed (${e.message})`);
      throw e;
    }
    const sessionKey = this.credential.sessionKey;
    if (apRep.encPart.etype !== sessionKey.etype)
      throw refused(`its AP-REP is encrypted with ${enctypeName(apRep.encPart.etype)}, not the ticket's ${enctypeName(sessionKey.etype)}`);
    let plain: Buffer;
    try {
      plain = decrypt(sessionKey, KeyUsage.AP_REP_ENC_PART, apRep.encPart.cipher);
    } catch (e) {
      if (e instanceof KerberosCryptoError)
        throw refused("its AP-REP does not decrypt under the ticket's session key (a forged or altered reply, or one from another context)");
      throw e;
    }
    let part: EncApRepPart;
    try {
      part = decodeEncApRepPart(plain);
    } catch (e) {
      if (e instanceof DerError) throw refused(`its AP-REP's encrypted part is malformed (${e.message})`);
      throw e;
    }
    if (part.ctime.getTime() !== sent.ctime.getTime() || part.cusec !== sent.cusec) {
      throw refused("its AP-REP answers another authenticator (ctime/cusec differ from ours: a replayed reply)");
    }
    return part;
  }

  /** The KerberosError a KRB-ERROR from the host stands for. */
  private krbErrorFailure(message: Buffer): KerberosError {
    let e: KrbError;
    try {
      e = decodeKrbError(message);
    } catch (err) {
      if (err instanceof DerError)
        return new KerberosError("protocol", `the host refused the Kerberos ticket for ${this.service} with a malformed KRB-ERROR (${err.message})`);
      throw err;
    }
    const code = e.errorCode;
    const name = `${errorName(code)} (${code})`;
    const text = e.eText ? ` (host says: "${hostText(e.eText)}")` : "";
    const svc = this.service;
    switch (code) {
      case ErrorCode.KRB_AP_ERR_SKEW:
      case ErrorCode.KRB_AP_ERR_TKT_NYV: {
        const hostTime = new Date(e.stime.getTime() + Math.floor(e.susec / 1000));
        const ours = this.clock();
        const apart = Math.round(Math.abs(hostTime.getTime() - ours.getTime()) / 1000);
        const what = code === ErrorCode.KRB_AP_ERR_SKEW ? "the clocks differ by more than the allowed skew" : "the ticket is not yet valid by the host's clock";
        return new KerberosError(
          "clockSkew",
          `${name} from ${svc}: ${what}: the host's time is ${hostTime.toISOString()}, this machine's ${ours.toISOString()} (${apart} s apart); ` +
            `synchronise both clocks with the domain (w32tm /resync on the host, NTP here)`,
          { code },
        );
      }
      case ErrorCode.KRB_AP_ERR_REPEAT:
        return new KerberosError(
          "replay",
          `${name} from ${svc}: the host has seen this authenticator before (a replayed request); try again on a new connection, and look for something ` +
            `replaying traffic if it persists`,
          { code },
        );
      case ErrorCode.KRB_AP_ERR_BAD_INTEGRITY:
      case ErrorCode.KRB_AP_ERR_MODIFIED:
        return new KerberosError(
          "integrity",
          `${name} from ${svc}: the host could not decrypt the ticket or authenticator: its key for ${svc} is not the one the KDC used (the computer ` +
            `account password or keytab changed: reset the SPN's key or rejoin the host), or the request was altered in transit`,
          { code },
        );
      case ErrorCode.KRB_AP_ERR_TKT_EXPIRED:
        return new KerberosError(
          "ticketExpired",
          `${name} from ${svc}: the service ticket has expired; get a new one (kinit, or let the provider request one)`,
          { code },
        );
      case ErrorCode.KRB_AP_ERR_BADKEYVER:
      case ErrorCode.KRB_AP_ERR_NOKEY:
        return new KerberosError(
          "mutualAuthFailed",
          `${name} from ${svc}: the host's key is not the one the KDC used: the computer account password or keytab changed; reset the SPN's key / rejoin`,
          { code },
        );
      default:
        return new KerberosError("protocol", `the host refused the Kerberos ticket for ${svc} with ${name}${text}`, { code });
    }
  }
}

/** A ServiceTicket from a ccache credential (ccache.ts's Credential has the same parts). */
export function serviceTicketOf(credential: { ticket: Buffer; key: EncryptionKey; client: Principal; server: Principal }): ServiceTicket {
  return { ticket: credential.ticket, sessionKey: credential.key, client: credential.client, server: credential.server };
}
