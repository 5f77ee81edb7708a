// The Kerberos initiator context's pure parts (provider/transport/winrm/kerberos/gssContext.ts),
// with a hand-made acceptor that knows the session key: the authenticator's freshness under a
// clock that stands still, the AP-REP checks (present, under the session key, echoing our
// authenticator), the session it yields with and without an acceptor subkey, each KRB-ERROR code
// mapped to its cause, and what the constructor refuses. MIT judges the same context in
// test/integration/kerberosContext.test.ts.
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { decrypt, encrypt, type EncryptionKey } from "../../provider/transport/winrm/kerberos/crypto";
import { GssInitiatorContext, type ServiceTicket } from "../../provider/transport/winrm/kerberos/gssContext";
import { GssSession } from "../../provider/transport/winrm/kerberos/gssWrap";
import { kerberosRefusal } from "./kerberosAsserts";
import {
  decodeApReq,
  decodeAuthenticator,
  decodeKrb5Token,
  decodeNegTokenInit,
  encodeApRep,
  encodeEncApRepPart,
  encodeKrb5Token,
  encodeKrbError,
  encodeNegTokenResp,
  encodeTicket,
  ErrorCode,
  KeyUsage,
  NegState,
  Oid,
  TokId,
  type Authenticator,
  type EncApRepPart,
} from "../../provider/transport/winrm/kerberos/messages";

const REALM = "CORP.TEST";
const SERVER = { realm: REALM, components: ["HTTP", "web01.corp.test"] };
const SPN = "HTTP/web01.corp.test@CORP.TEST";

function serviceTicket(etype = 18): ServiceTicket {
  const sessionKey: EncryptionKey = { etype, value: crypto.randomBytes(etype === 17 ? 16 : 32) };
  const ticket = encodeTicket({ realm: REALM, sname: { nameType: 2, nameString: [...SERVER.components] }, encPart: { etype: 18, kvno: 2, cipher: crypto.randomBytes(200) } });
  return { ticket, sessionKey, client: { realm: REALM, components: ["alice"] }, server: SERVER };
}

/** What a host holding the service key reads from our token: the authenticator. */
function readAuthenticator(token: Buffer, key: EncryptionKey): Authenticator {
  const krb5 = token.subarray(0, 12).includes(Buffer.from("06062b0601050502", "hex")) ? decodeNegTokenInit(token).mechToken! : token;
  const apReq = decodeApReq(decodeKrb5Token(krb5).message);
  return decodeAuthenticator(decrypt(key, KeyUsage.AP_REQ_AUTHENTICATOR, apReq.authenticator.cipher));
}

/** The host's AP-REP for `auth`, sealed under `key`, with `change` applied to its part. */
function apRep(auth: Authenticator, key: EncryptionKey, part: Partial<EncApRepPart> = {}): Buffer {
  const plain = encodeEncApRepPart({ ctime: auth.ctime, cusec: auth.cusec, ...part });
  return encodeKrb5Token(TokId.AP_REP, encodeApRep({ encPart: { etype: key.etype, cipher: encrypt(key, KeyUsage.AP_REP_ENC_PART, plain) } }));
}

function krbError(errorCode: number, extra: { stime?: Date; eText?: string } = {}): Buffer {
  const stime = extra.stime ?? new Date();
  return encodeKrb5Token(
    TokId.KRB_ERROR,
    encodeKrbError({ stime: new Date(Math.floor(stime.getTime() / 1000) * 1000), susec: (stime.getTime() % 1000) * 1000, errorCode, realm: REALM, sname: { nameType: 2, nameString: [...SERVER.components] }, ...(extra.eText ? { eText: extra.eText } : {}) }),
  );
}

const refused = kerberosRefusal;

describe("Kerberos initiator context (gssContext.ts)", () => {
  it("makes a new authenticator for every token even when the clock stands still: ctime/cusec, subkey and sequence number differ", () => {
    const st = serviceTicket();
    // Not ahead of the real clock: the process's authenticator times never go back, and a clock in
    // the future here would carry into every later test's authenticators.
    const frozen = new Date();
    const ctx = new GssInitiatorContext(st, () => frozen);
    const auths = [0, 1, 2, 3].map(() => readAuthenticator(ctx.initialToken({ cbtAware: false }), st.sessionKey));
    const micros = auths.map((a) => a.ctime.getTime() * 1000 + a.cusec);
    for (let i = 1; i < micros.length; i++) assert.ok(micros[i] > micros[i - 1], "each authenticator's time is later than the last");
    for (const a of auths) assert.ok(Math.abs(a.ctime.getTime() - frozen.getTime()) <= 1000, "and it is the clock's time, give or take the microseconds added");
    assert.equal(new Set(auths.map((a) => a.subkey!.keyvalue.toString("hex"))).size, 4);
    assert.equal(new Set(auths.map((a) => a.seqNumber)).size, 4);
    for (const a of auths) {
      assert.equal(a.subkey!.keytype, 18);
      assert.equal(a.subkey!.keyvalue.length, 32);
      assert.ok(a.seqNumber! >= 1 && a.seqNumber! < 2 ** 30);
      assert.deepEqual(a.cname.nameString, ["alice"]);
      assert.equal(a.crealm, REALM);
    }
    // A clock stepped back by a minute is followed: the time sent never runs ahead of it by more than a second.
    const behind = new Date(Date.now() - 60_000);
    const back = readAuthenticator(new GssInitiatorContext(st, () => behind).initialToken({ cbtAware: false }), st.sessionKey);
    assert.equal(back.ctime.getTime(), Math.floor(behind.getTime() / 1000) * 1000);
    assert.equal(back.cusec, (behind.getTime() % 1000) * 1000);
  });

  it("sends the raw krb5 token (TOK_ID 01 00, ap-options mutual-required), or the same inside a SPNEGO NegTokenInit", () => {
    const st = serviceTicket();
    const ctx = new GssInitiatorContext(st);
    const raw = ctx.initialToken({ cbtAware: false });
    const { tokId, message } = decodeKrb5Token(raw);
    assert.equal(tokId, TokId.AP_REQ);
    const apReq = decodeApReq(message);
    assert.equal(apReq.apOptions, 0x20000000, "mutual-required only");
    assert.ok(message.includes(st.ticket), "the ticket goes out byte for byte");
    const spnego = decodeNegTokenInit(ctx.initialToken({ cbtAware: false, spnego: true }));
    assert.deepEqual(spnego.mechTypes, [Oid.MS_KRB5, Oid.KRB5]);
    assert.equal(decodeKrb5Token(spnego.mechToken!).tokId, TokId.AP_REQ);
  });

  it("refuses a 200 without a token before anything is sent", () => {
    const ctx = new GssInitiatorContext(serviceTicket());
    ctx.initialToken({ cbtAware: false });
    for (const none of [null, Buffer.alloc(0)]) {
      refused(() => ctx.acceptReply(none), "mutualAuthFailed", /^the host answered without proving it holds the key of HTTP\/web01\.corp\.test@CORP\.TEST \(no AP-REP\): refused before anything was sent$/);
    }
  });

  it("refuses an AP-REP that echoes another authenticator's ctime or cusec (a replayed reply)", () => {
    const st = serviceTicket();
    const ctx = new GssInitiatorContext(st);
    const auth = readAuthenticator(ctx.initialToken({ cbtAware: false }), st.sessionKey);
    const other = { cusec: (auth.cusec + 1) % 1_000_000 };
    refused(() => ctx.acceptReply(apRep(auth, st.sessionKey, other)), "mutualAuthFailed", /answers another authenticator \(ctime\/cusec differ/, undefined, [st.sessionKey.value]);
    refused(() => ctx.acceptReply(apRep(auth, st.sessionKey, { ctime: new Date(auth.ctime.getTime() - 1000) })), "mutualAuthFailed", /answers another authenticator/);
    // An earlier token's reply does not answer the latest one.
    const later = readAuthenticator(ctx.initialToken({ cbtAware: false }), st.sessionKey);
    refused(() => ctx.acceptReply(apRep(auth, st.sessionKey)), "mutualAuthFailed", /answers another authenticator/);
    assert.ok(ctx.acceptReply(apRep(later, st.sessionKey)) instanceof GssSession);
  });

  it("refuses a forged AP-REP: sealed under another key, with another enctype, or altered", () => {
    const st = serviceTicket();
    const ctx = new GssInitiatorContext(st);
    const auth = readAuthenticator(ctx.initialToken({ cbtAware: false }), st.sessionKey);
    const forger: EncryptionKey = { etype: 18, value: crypto.randomBytes(32) };
    refused(() => ctx.acceptReply(apRep(auth, forger)), "mutualAuthFailed", /does not decrypt under the ticket's session key/, undefined, [st.sessionKey.value, forger.value]);
    refused(() => ctx.acceptReply(apRep(auth, { etype: 17, value: crypto.randomBytes(16) })), "mutualAuthFailed", /encrypted with aes128-cts-hmac-sha1-96, not the ticket's aes256-cts-hmac-sha1-96/);
    const good = apRep(auth, st.sessionKey);
    for (const at of [good.length - 1, good.length - 13, good.length - 40]) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x04;
      refused(() => ctx.acceptReply(bad), "mutualAuthFailed", /does not decrypt under the ticket's session key/);
    }
    assert.ok(ctx.acceptReply(good));
  });

  it("the session uses the acceptor's subkey and sequence number when the AP-REP has them, else our subkey and our sequence number both ways", () => {
    for (const withSubkey of [true, false]) {
      const st = serviceTicket(withSubkey ? 18 : 17);
      const ctx = new GssInitiatorContext(st);
      const auth = readAuthenticator(ctx.initialToken({ cbtAware: true }), st.sessionKey);
      const acceptorKey: EncryptionKey = { etype: st.sessionKey.etype, value: crypto.randomBytes(st.sessionKey.value.length) };
      const ours = ctx.acceptReply(apRep(auth, st.sessionKey, withSubkey ? { subkey: { keytype: acceptorKey.etype, keyvalue: acceptorKey.value }, seqNumber: 77 } : {}));
      const key = withSubkey ? acceptorKey : { etype: auth.subkey!.keytype, value: auth.subkey!.keyvalue };
      const hostSeq = withSubkey ? 77n : BigInt(auth.seqNumber!);
      const host = new GssSession({ role: "acceptor", key, acceptorSubkey: withSubkey, sendSeq: hostSeq, receiveSeq: BigInt(auth.seqNumber!) });
      assert.equal(ours.nextSendSeq, BigInt(auth.seqNumber!));
      assert.equal(ours.nextReceiveSeq, hostSeq);
      for (const text of ["<s:Envelope/>", "", "x".repeat(5000)]) {
        const sealed = ours.wrap(Buffer.from(text));
        assert.equal(host.unwrap(sealed.header, sealed.data).toString(), text);
        const back = host.wrap(Buffer.from(`re:${text}`));
        assert.equal(ours.unwrap(back.header, back.data).toString(), `re:${text}`);
      }
    }
  });

  it("maps each KRB-ERROR to its cause, naming the fix; skew names the host's time and ours", () => {
    const st = serviceTicket();
    const now = new Date("2025-06-01T18:00:00.000Z");
    const token = () => {
      const ctx = new GssInitiatorContext(st, () => now);
      ctx.initialToken({ cbtAware: false });
      return ctx;
    };
    refused(
      () => token().acceptReply(krbError(ErrorCode.KRB_AP_ERR_SKEW, { stime: new Date("2025-06-01T18:10:00.250Z") })),
      "clockSkew",
      /^KRB_AP_ERR_SKEW \(37\) from HTTP\/web01\.corp\.test@CORP\.TEST: the clocks differ by more than the allowed skew: the host's time is 2025-06-01T18:10:00\.250Z, this machine's 2025-06-01T18:00:00\.000Z \(600 s apart\); synchronise/,
      37,
    );
    refused(() => token().acceptReply(krbError(ErrorCode.KRB_AP_ERR_TKT_NYV)), "clockSkew", /KRB_AP_ERR_TKT_NYV \(33\).*not yet valid/, 33);
    refused(() => token().acceptReply(krbError(ErrorCode.KRB_AP_ERR_REPEAT)), "replay", /KRB_AP_ERR_REPEAT \(34\).*seen this authenticator before/, 34);
    refused(() => token().acceptReply(krbError(ErrorCode.KRB_AP_ERR_BAD_INTEGRITY)), "integrity", /KRB_AP_ERR_BAD_INTEGRITY \(31\).*not the one the KDC used/, 31);
    refused(() => token().acceptReply(krbError(ErrorCode.KRB_AP_ERR_MODIFIED)), "integrity", /KRB_AP_ERR_MODIFIED \(41\)/, 41);
    refused(() => token().acceptReply(krbError(ErrorCode.KRB_AP_ERR_TKT_EXPIRED)), "ticketExpired", /KRB_AP_ERR_TKT_EXPIRED \(32\).*get a new one/, 32);
    for (const code of [ErrorCode.KRB_AP_ERR_BADKEYVER, ErrorCode.KRB_AP_ERR_NOKEY]) {
      refused(() => token().acceptReply(krbError(code)), "mutualAuthFailed", /the host's key is not the one the KDC used: the computer account password or keytab changed; reset the SPN's key \/ rejoin/, code);
    }
    const other = refused(() => token().acceptReply(krbError(ErrorCode.KRB_AP_ERR_NOT_US, { eText: "not\u0007 us\n" })), "protocol", /^the host refused the Kerberos ticket for HTTP\/web01\.corp\.test@CORP\.TEST with KRB_AP_ERR_NOT_US \(35\) \(host says: "not\? us\?"\)$/, 35);
    assert.ok(!/[\x00-\x1f]/.test(other.message));
    refused(() => token().acceptReply(krbError(99)), "protocol", /with error 99/, 99);
  });

  it("reads SPNEGO answers: accept-completed with the AP-REP, a reject with or without a KRB-ERROR; a mechListMIC, a further round or another mechanism is refused", () => {
    const st = serviceTicket();
    const fresh = () => {
      const ctx = new GssInitiatorContext(st);
      return { ctx, auth: readAuthenticator(ctx.initialToken({ cbtAware: false, spnego: true }), st.sessionKey) };
    };
    const a = fresh();
    assert.ok(a.ctx.acceptReply(encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED, supportedMech: Oid.MS_KRB5, responseToken: apRep(a.auth, st.sessionKey) })));
    refused(() => fresh().ctx.acceptReply(encodeNegTokenResp({ negState: NegState.REJECT, responseToken: krbError(ErrorCode.KRB_AP_ERR_SKEW) })), "clockSkew", /KRB_AP_ERR_SKEW/, 37);
    refused(() => fresh().ctx.acceptReply(encodeNegTokenResp({ negState: NegState.REJECT })), "protocol", /rejected Kerberos for HTTP\/web01\.corp\.test@CORP\.TEST \(SPNEGO negState reject\)/);
    const b = fresh();
    refused(
      () => b.ctx.acceptReply(encodeNegTokenResp({ negState: NegState.ACCEPT_INCOMPLETE, supportedMech: Oid.KRB5, responseToken: apRep(b.auth, st.sessionKey), mechListMIC: Buffer.alloc(28) })),
      "protocol",
      /not accept-completed \(negState 1\)/,
    );
    const c = fresh();
    refused(
      () => c.ctx.acceptReply(encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED, supportedMech: Oid.KRB5, responseToken: apRep(c.auth, st.sessionKey), mechListMIC: Buffer.alloc(28) })),
      "unsupported",
      /carries a mechListMIC, which this client does not verify: send the raw krb5 token/,
    );
    refused(() => fresh().ctx.acceptReply(encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED, supportedMech: Oid.NTLMSSP })), "protocol", /chose the mechanism 1\.3\.6\.1\.4\.1\.311\.2\.2\.10, not Kerberos/);
    refused(() => fresh().ctx.acceptReply(Buffer.from([0xa1, 0x03, 0x30, 0x01])), "mutualAuthFailed", /SPNEGO answer .* is malformed/);
  });

  it("refuses a ticket it cannot use: an RC4 session key, a ticket for another service, bytes that are no ticket; and misuse of the context", () => {
    const st = serviceTicket();
    refused(() => new GssInitiatorContext({ ...st, sessionKey: { etype: 23, value: crypto.randomBytes(16) } }), "unsupported", /rc4-hmac session key; only aes256-cts-hmac-sha1-96 and aes128-cts-hmac-sha1-96 are supported/);
    refused(() => new GssInitiatorContext({ ...st, sessionKey: { etype: 18, value: crypto.randomBytes(16) } }), "protocol", /wrong length/);
    refused(() => new GssInitiatorContext({ ...st, server: { realm: REALM, components: ["HTTP", "web02.corp.test"] } }), "configuration", /the ticket given for HTTP\/web02\.corp\.test@CORP\.TEST is for HTTP\/web01\.corp\.test@CORP\.TEST/);
    refused(() => new GssInitiatorContext({ ...st, ticket: Buffer.from("no ticket") }), "protocol", /is not a Kerberos Ticket/);
    const ctx = new GssInitiatorContext(st);
    assert.equal(ctx.servicePrincipal, SPN);
    assert.throws(() => ctx.acceptReply(null), /acceptReply before initialToken/);
    assert.throws(() => ctx.initialToken({ cbtAware: true, bindingsHash: Buffer.alloc(32) }), RangeError);
    const auth = readAuthenticator(ctx.initialToken({ cbtAware: false }), st.sessionKey);
    ctx.acceptReply(apRep(auth, st.sessionKey));
    assert.throws(() => ctx.initialToken({ cbtAware: false }), /complete: a new connection needs a new context/);
  });
});
