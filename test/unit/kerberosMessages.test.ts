// Kerberos messages and their GSS framing (provider/transport/winrm/kerberos/messages.ts):
// MIT's own AS and TGS exchanges (test/fixtures/kerberos, recorded from kinit and kvno against a
// throw-away KDC) decoded and re-encoded byte for byte; encode -> decode round trips of every
// message type over random values (fast-check); the GSS and SPNEGO tokens, the 0x8003 checksum and
// the channel-binding authorization data against hand-worked bytes; the RFC's numbers by name.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import * as der from "../../provider/transport/winrm/kerberos/der";
import { DerError } from "../../provider/transport/winrm/kerberos/der";
import * as m from "../../provider/transport/winrm/kerberos/messages";
import { ErrorCode, KdcOptions, KeyUsage, MsgType, PaType } from "../../provider/transport/winrm/kerberos/messages";
import { REPO_ROOT } from "../e2e/pulumiCli";

const FIXTURES = path.join(REPO_ROOT, "test", "fixtures", "kerberos");
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name));
const hex = (b: Buffer) => b.toString("hex");
const bytes = (h: string) => Buffer.from(h.replace(/\s+/g, ""), "hex");
const krbtgt = { nameType: 2, nameString: ["krbtgt", "FIXTURE.TEST"] };
const alice = { nameType: 1, nameString: ["alice"] };

describe("Kerberos messages: MIT's exchanges (kinit and kvno against a loopback KDC)", () => {
  it("the first AS-REQ: alice for krbtgt/FIXTURE.TEST, forwardable and renewable, aes256 then aes128, no pre-authentication", () => {
    const req = m.decodeKdcReq(fixture("as-req.der"), MsgType.AS_REQ);
    assert.equal(req.msgType, MsgType.AS_REQ);
    assert.deepEqual(req.padata?.map((p) => p.padataType), [PaType.AS_FRESHNESS, PaType.REQ_ENC_PA_REP]);
    const body = req.reqBody;
    assert.equal(body.kdcOptions, (KdcOptions.FORWARDABLE | KdcOptions.RENEWABLE) >>> 0);
    assert.deepEqual(body.cname, alice);
    assert.deepEqual(body.sname, krbtgt);
    assert.equal(body.realm, "FIXTURE.TEST");
    assert.deepEqual(body.etype, [m.EncType.AES256_CTS_HMAC_SHA1_96, m.EncType.AES128_CTS_HMAC_SHA1_96]);
    // kinit asks for the default lifetime (24 h) in till and for -r 2d in rtime
    assert.equal(body.rtime!.getTime() - body.till.getTime(), 24 * 3600 * 1000);
    assert.ok(body.nonce >= 0 && body.nonce <= 0xffffffff);
    assert.ok(fixture("as-req.der").includes(req.reqBodyDer));
  });

  it("the KDC's reply: KRB-ERROR KDC_ERR_PREAUTH_REQUIRED whose e-data METHOD-DATA carries PA-ETYPE-INFO2 with the salt", () => {
    const err = m.decodeKrbError(fixture("krb-error-preauth-required.der"));
    assert.equal(err.errorCode, ErrorCode.KDC_ERR_PREAUTH_REQUIRED);
    assert.equal(m.errorName(err.errorCode), "KDC_ERR_PREAUTH_REQUIRED");
    assert.equal(err.eText, "NEEDED_PREAUTH");
    assert.deepEqual([err.realm, err.sname, err.crealm, err.cname], ["FIXTURE.TEST", krbtgt, "FIXTURE.TEST", alice]);
    assert.deepEqual(m.errorEtypeInfo2(err), [{ etype: m.EncType.AES256_CTS_HMAC_SHA1_96, salt: "FIXTURE.TESTalice" }]);
    const methods = m.decodeMethodData(err.eData!).map((p) => p.padataType);
    assert.deepEqual(methods, [PaType.FX_FAST, PaType.ETYPE_INFO2, PaType.ENC_TIMESTAMP, PaType.FX_COOKIE]);
    assert.equal(m.messageType(fixture("krb-error-preauth-required.der")), MsgType.KRB_ERROR);
  });

  it("the second AS-REQ carries PA-ENC-TIMESTAMP: EncryptedData in aes256, without kvno", () => {
    const req = m.decodeKdcReq(fixture("as-req-enc-timestamp.der"));
    const ts = req.padata!.find((p) => p.padataType === PaType.ENC_TIMESTAMP)!;
    const enc = m.decodeEncryptedData(ts.padataValue);
    assert.equal(enc.etype, m.EncType.AES256_CTS_HMAC_SHA1_96);
    assert.equal(enc.kvno, undefined);
    // 16-byte confounder + PA-ENC-TS-ENC (about 26 bytes) + 12-byte HMAC
    assert.ok(enc.cipher.length > 40 && enc.cipher.length < 70, `${enc.cipher.length}`);
    assert.equal(req.padata!.find((p) => p.padataType === PaType.FX_COOKIE)!.padataValue.toString(), "MIT");
  });

  it("the AS-REP: alice's TGT (enc-part under the krbtgt key, kvno 1) and the reply part under alice's key", () => {
    const rep = m.decodeKdcRep(fixture("as-rep.der"), MsgType.AS_REP);
    assert.deepEqual([rep.crealm, rep.cname], ["FIXTURE.TEST", alice]);
    assert.deepEqual(rep.ticket.sname, krbtgt);
    assert.equal(rep.ticket.encPart.kvno, 1);
    assert.deepEqual(m.decodeEtypeInfo2(rep.padata!.find((p) => p.padataType === PaType.ETYPE_INFO2)!.padataValue), [{ etype: 18, salt: "FIXTURE.TESTalice" }]);
    assert.equal(rep.encPart.etype, 18);
    assert.throws(() => m.decodeKdcRep(fixture("as-rep.der"), MsgType.TGS_REP), /TGS-REP: expected \[APPLICATION 13\], found tag 0x6b/);
  });

  it("the TGS-REQ: PA-TGS-REQ holds an AP-REQ presenting the AS-REP's ticket, byte for byte; the TGS-REP brings HTTP/web01's ticket", () => {
    const req = m.decodeKdcReq(fixture("tgs-req.der"), MsgType.TGS_REQ);
    assert.deepEqual(req.reqBody.sname, { nameType: 1, nameString: ["HTTP", "web01.fixture.test"] });
    assert.equal(req.reqBody.cname, undefined);
    const apReq = m.decodeApReq(req.padata!.find((p) => p.padataType === PaType.TGS_REQ)!.padataValue);
    assert.equal(apReq.apOptions, 0);
    const asRep = m.decodeKdcRep(fixture("as-rep.der"));
    assert.equal(hex(m.encodeTicket(apReq.ticket)), hex(m.encodeTicket(asRep.ticket)));
    assert.ok(fixture("as-rep.der").includes(m.encodeTicket(asRep.ticket)));
    const rep = m.decodeKdcRep(fixture("tgs-rep.der"), MsgType.TGS_REP);
    assert.deepEqual(rep.ticket.sname, { nameType: 1, nameString: ["HTTP", "web01.fixture.test"] });
    assert.equal(rep.ticket.encPart.kvno, 1);
  });

  it("re-encodes each recorded message to exactly the bytes MIT sent", () => {
    for (const name of ["as-req.der", "as-req-enc-timestamp.der", "tgs-req.der"]) {
      const { reqBodyDer: _, ...req } = m.decodeKdcReq(fixture(name));
      assert.equal(hex(m.encodeKdcReq(req)), hex(fixture(name)), name);
    }
    for (const name of ["as-rep.der", "tgs-rep.der"]) assert.equal(hex(m.encodeKdcRep(m.decodeKdcRep(fixture(name)))), hex(fixture(name)), name);
    assert.equal(hex(m.encodeKrbError(m.decodeKrbError(fixture("krb-error-preauth-required.der")))), hex(fixture("krb-error-preauth-required.der")));
  });

  it("MIT's KDC parses AS-REQs of our encoder: PREAUTH_REQUIRED with the salt for alice, C_PRINCIPAL_UNKNOWN for a stranger", () => {
    const ours = m.decodeKdcReq(fixture("our-as-req-alice.der"), MsgType.AS_REQ);
    assert.equal(m.decodePaPacRequest(ours.padata![0].padataValue), true);
    assert.equal(ours.reqBody.nonce, 0x12345678);
    const reply = m.decodeKrbError(fixture("our-as-req-alice.reply.der"));
    assert.equal(m.errorName(reply.errorCode), "KDC_ERR_PREAUTH_REQUIRED");
    assert.deepEqual(reply.cname, alice);
    assert.deepEqual(m.errorEtypeInfo2(reply), [{ etype: 18, salt: "FIXTURE.TESTalice" }]);
    const stranger = m.decodeKrbError(fixture("our-as-req-unknown.reply.der"));
    assert.equal(m.errorName(stranger.errorCode), "KDC_ERR_C_PRINCIPAL_UNKNOWN");
    assert.deepEqual(stranger.cname, { nameType: 1, nameString: ["nobody"] });
    assert.equal(m.errorEtypeInfo2(stranger), undefined);
  });

  it("reads PA-ETYPE-INFO2 from PREAUTH_REQUIRED strictly, from PREAUTH_FAILED when it is there, from no other error", () => {
    const required = m.decodeKrbError(fixture("krb-error-preauth-required.der"));
    const typedData = m.encodeAuthorizationData([{ adType: 3, adData: Buffer.alloc(2) }]); // [0]/[1] members, as TYPED-DATA has
    assert.deepEqual(m.errorEtypeInfo2({ ...required, errorCode: ErrorCode.KDC_ERR_PREAUTH_FAILED }), [{ etype: 18, salt: "FIXTURE.TESTalice" }]);
    assert.equal(m.errorEtypeInfo2({ ...required, errorCode: ErrorCode.KDC_ERR_PREAUTH_FAILED, eData: typedData }), undefined);
    assert.throws(() => m.errorEtypeInfo2({ ...required, eData: typedData }), /METHOD-DATA\[0\]: unknown field \[0\]/);
    assert.equal(m.errorEtypeInfo2({ ...required, errorCode: ErrorCode.KRB_AP_ERR_SKEW }), undefined);
  });

  it("refuses a recorded message cut short or with a byte appended, naming the message", () => {
    const rep = fixture("as-rep.der");
    assert.throws(() => m.decodeKdcRep(rep.subarray(0, rep.length - 1)), (e: unknown) => e instanceof DerError && /^KDC-REP: length \d+ runs past the end/.test(e.message));
    assert.throws(() => m.decodeKrbError(Buffer.concat([fixture("krb-error-preauth-required.der"), Buffer.from([0])])), /KRB-ERROR: 1 trailing bytes after the value/);
    assert.throws(() => m.decodeApReq(fixture("as-rep.der")), /AP-REQ: expected \[APPLICATION 14\], found \[APPLICATION 11\]/);
  });

  it("reads a KRB-ERROR whose e-text is not UTF-8 (Latin-1), so the error code still shows", () => {
    const err = { ...m.decodeKrbError(fixture("krb-error-preauth-required.der")), eText: "x" };
    const latin1 = Buffer.from(m.encodeKrbError(err).toString("hex").replace("1b0178", "1b01e9"), "hex");
    assert.deepEqual([m.decodeKrbError(latin1).errorCode, m.decodeKrbError(latin1).eText], [25, "é"]);
  });
});

// ---- arbitraries ------------------------------------------------------------------------------

/** fc.record with plain objects, which deepEqual compares with what the decoders return. */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }, constraints: { requiredKeys?: (keyof T)[] } = {}): fc.Arbitrary<any> {
  return fc.record(model, { ...constraints, noNullPrototype: true } as any);
}

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const uint32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const usec = fc.integer({ min: 0, max: 999999 });
const octets = fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b));
const kstring = fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 20 });
const time = fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) / 1000 }).map((s) => new Date(s * 1000));
const principal = rec({ nameType: int32, nameString: fc.array(kstring, { minLength: 1, maxLength: 3 }) });
const encData = rec({ etype: int32, kvno: uint32, cipher: octets }, { requiredKeys: ["etype", "cipher"] });
const key = rec({ keytype: int32, keyvalue: octets });
const cksum = rec({ cksumtype: int32, checksum: octets });
const ticket = rec({ realm: kstring, sname: principal, encPart: encData });
const padata = rec({ padataType: int32, padataValue: octets });
const address = rec({ addrType: int32, address: octets });
const authData = fc.array(rec({ adType: int32, adData: octets }), { maxLength: 3 });
const kdcReqBody = rec(
  {
    kdcOptions: uint32,
    cname: principal,
    realm: kstring,
    sname: principal,
    from: time,
    till: time,
    rtime: time,
    nonce: uint32,
    etype: fc.array(int32, { maxLength: 4 }),
    addresses: fc.array(address, { maxLength: 2 }),
    encAuthorizationData: encData,
    additionalTickets: fc.array(ticket, { maxLength: 2 }),
  },
  { requiredKeys: ["kdcOptions", "realm", "till", "nonce", "etype"] },
);

/** encode -> decode gives the value back, and decode -> encode the bytes. */
function roundTrips<T>(arb: fc.Arbitrary<T>, encode: (v: T) => Buffer, decode: (b: Buffer) => T, numRuns = 200): void {
  fc.assert(
    fc.property(arb, (v) => {
      const b = encode(v);
      const back = decode(b);
      assert.deepEqual(back, v);
      assert.equal(hex(encode(back)), hex(b));
    }),
    { numRuns },
  );
}

describe("Kerberos messages: encode -> decode round trips (fast-check)", () => {
  it("PrincipalName, EncryptedData, EncryptionKey, Checksum, Ticket", () => {
    roundTrips(principal, m.encodePrincipalName, m.decodePrincipalName);
    roundTrips(encData, m.encodeEncryptedData, m.decodeEncryptedData);
    roundTrips(key, m.encodeEncryptionKey, m.decodeEncryptionKey);
    roundTrips(cksum, m.encodeChecksum, m.decodeChecksum);
    roundTrips(ticket, m.encodeTicket, m.decodeTicket);
  });

  it("PA-DATA lists (METHOD-DATA), PA-ENC-TS-ENC, ETYPE-INFO2, AuthorizationData, KERB-PA-PAC-REQUEST", () => {
    roundTrips(fc.array(padata, { maxLength: 4 }), m.encodeMethodData, m.decodeMethodData);
    roundTrips(rec({ patimestamp: time, pausec: usec }, { requiredKeys: ["patimestamp"] }), m.encodePaEncTsEnc, m.decodePaEncTsEnc);
    roundTrips(fc.array(rec({ etype: int32, salt: kstring, s2kparams: octets }, { requiredKeys: ["etype"] }), { minLength: 1, maxLength: 3 }), m.encodeEtypeInfo2, m.decodeEtypeInfo2);
    roundTrips(authData, m.encodeAuthorizationData, m.decodeAuthorizationData);
    roundTrips(fc.boolean(), m.encodePaPacRequest, m.decodePaPacRequest, 10);
    assert.equal(hex(m.encodePaPacRequest(true)), "3005a0030101ff");
  });

  it("AS-REQ and TGS-REQ (KDC-REQ-BODY with every optional field)", () => {
    const req = rec({ msgType: fc.constantFrom(MsgType.AS_REQ, MsgType.TGS_REQ), padata: fc.array(padata, { maxLength: 3 }), reqBody: kdcReqBody }, { requiredKeys: ["msgType", "reqBody"] });
    roundTrips(req as fc.Arbitrary<m.KdcReq>, m.encodeKdcReq, (b) => {
      const { reqBodyDer, ...rest } = m.decodeKdcReq(b);
      assert.equal(hex(reqBodyDer), hex(m.encodeKdcReqBody(rest.reqBody)));
      return rest;
    });
  });

  it("AS-REP and TGS-REP, and EncKDCRepPart under either APPLICATION tag", () => {
    const rep = rec(
      { msgType: fc.constantFrom(MsgType.AS_REP, MsgType.TGS_REP), padata: fc.array(padata, { maxLength: 2 }), crealm: kstring, cname: principal, ticket, encPart: encData },
      { requiredKeys: ["msgType", "crealm", "cname", "ticket", "encPart"] },
    );
    roundTrips(rep as fc.Arbitrary<m.KdcRep>, m.encodeKdcRep, (b) => m.decodeKdcRep(b));
    const part = rec(
      {
        key,
        lastReq: fc.array(rec({ lrType: int32, lrValue: time }), { maxLength: 2 }),
        nonce: uint32,
        keyExpiration: time,
        flags: uint32,
        authtime: time,
        starttime: time,
        endtime: time,
        renewTill: time,
        srealm: kstring,
        sname: principal,
        caddr: fc.array(address, { maxLength: 2 }),
        encryptedPaData: fc.array(padata, { maxLength: 2 }),
      },
      { requiredKeys: ["key", "lastReq", "nonce", "flags", "authtime", "endtime", "srealm", "sname"] },
    );
    roundTrips(part, (p) => m.encodeEncKdcRepPart(p, 25), m.decodeEncKdcRepPart);
    roundTrips(part, (p) => m.encodeEncKdcRepPart(p, 26), m.decodeEncKdcRepPart);
  });

  it("AP-REQ, Authenticator, AP-REP, EncAPRepPart", () => {
    roundTrips(rec({ apOptions: uint32, ticket, authenticator: encData }), m.encodeApReq, m.decodeApReq);
    const auth = rec(
      { crealm: kstring, cname: principal, cksum, cusec: usec, ctime: time, subkey: key, seqNumber: uint32, authorizationData: authData },
      { requiredKeys: ["crealm", "cname", "cusec", "ctime"] },
    );
    roundTrips(auth, m.encodeAuthenticator, m.decodeAuthenticator);
    roundTrips(rec({ encPart: encData }), m.encodeApRep, m.decodeApRep);
    roundTrips(rec({ ctime: time, cusec: usec, subkey: key, seqNumber: uint32 }, { requiredKeys: ["ctime", "cusec"] }), m.encodeEncApRepPart, m.decodeEncApRepPart);
  });

  it("KRB-ERROR with every optional field", () => {
    const err = rec(
      { ctime: time, cusec: usec, stime: time, susec: usec, errorCode: int32, crealm: kstring, cname: principal, realm: kstring, sname: principal, eText: kstring, eData: octets },
      { requiredKeys: ["stime", "susec", "errorCode", "realm", "sname"] },
    );
    roundTrips(err, m.encodeKrbError, m.decodeKrbError);
  });

  it("SPNEGO NegTokenInit and NegTokenResp, and krb5 tokens", () => {
    const mech = fc.constantFrom(m.Oid.KRB5, m.Oid.MS_KRB5, m.Oid.NTLMSSP, "1.3.6.1.4.1.311.2.2.30");
    roundTrips(rec({ mechTypes: fc.array(mech, { minLength: 1, maxLength: 4 }), mechToken: octets, mechListMIC: octets }, { requiredKeys: ["mechTypes"] }), m.encodeNegTokenInit, m.decodeNegTokenInit);
    roundTrips(rec({ negState: fc.integer({ min: 0, max: 3 }), supportedMech: mech, responseToken: octets, mechListMIC: octets }, { requiredKeys: [] }), m.encodeNegTokenResp, m.decodeNegTokenResp);
    roundTrips(
      rec({ apOptions: uint32, ticket, authenticator: encData }).map((r) => ({ tokId: m.TokId.AP_REQ as number, message: m.encodeApReq(r) })),
      (t) => m.encodeKrb5Token(t.tokId, t.message),
      m.decodeKrb5Token,
      50,
    );
  });

  it("every decoder refuses random bytes with a DerError, never another exception", () => {
    const decoders = [m.decodeKdcReq, m.decodeKdcRep, m.decodeEncKdcRepPart, m.decodeApReq, m.decodeAuthenticator, m.decodeApRep, m.decodeEncApRepPart, m.decodeKrbError, m.decodeNegTokenInit, m.decodeNegTokenResp, m.decodeKrb5Token];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...decoders), (b, decode) => {
        try {
          decode(Buffer.from(b));
        } catch (e) {
          assert.ok(e instanceof DerError, `${(e as Error).name}: ${(e as Error).message}`);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("Kerberos GSS framing (RFC 4121 4.1, RFC 4178)", () => {
  const apReq = m.encodeApReq({ apOptions: m.ApOptions.MUTUAL_REQUIRED, ticket: { realm: "R", sname: { nameType: 2, nameString: ["HTTP", "h"] }, encPart: { etype: 18, kvno: 2, cipher: Buffer.alloc(4) } }, authenticator: { etype: 18, cipher: Buffer.alloc(4) } });

  it("wraps an AP-REQ as 0x60, the krb5 OID, TOK_ID 01 00; reads AP-REP (02 00) and KRB-ERROR (03 00) tokens", () => {
    const token = m.encodeKrb5Token(m.TokId.AP_REQ, apReq);
    assert.equal(hex(token.subarray(0, 2 + 11 + 2)), `60${(11 + 2 + apReq.length).toString(16)}06092a864886f7120102020100`);
    assert.deepEqual(m.decodeKrb5Token(token), { tokId: m.TokId.AP_REQ, message: apReq });
    const apRep = m.encodeApRep({ encPart: { etype: 18, cipher: Buffer.alloc(3) } });
    assert.equal(m.decodeKrb5Token(m.encodeKrb5Token(m.TokId.AP_REP, apRep)).tokId, m.TokId.AP_REP);
    const error = fixture("krb-error-preauth-required.der");
    assert.equal(m.decodeKrb5Token(m.encodeKrb5Token(m.TokId.KRB_ERROR, error)).tokId, m.TokId.KRB_ERROR);
  });

  it("refuses a TOK_ID that does not match the message, an unknown TOK_ID and a foreign mechanism", () => {
    assert.throws(() => m.decodeKrb5Token(m.encodeKrb5Token(m.TokId.AP_REP, apReq)), /TOK_ID 0200 does not frame a message of type 15/);
    assert.throws(() => m.decodeKrb5Token(m.encodeKrb5Token(0x0404, apReq)), /TOK_ID 0404 is none of 0100, 0200, 0300/);
    const spnego = m.encodeNegTokenInit({ mechTypes: [m.Oid.KRB5] });
    assert.throws(() => m.decodeKrb5Token(spnego), /mechanism 1.3.6.1.5.5.2 is not Kerberos/);
  });

  it("NegTokenInit: mechTypes MS-KRB5 then KRB5, the AP-REQ token as the optimistic mechToken", () => {
    const mechToken = m.encodeKrb5Token(m.TokId.AP_REQ, apReq);
    const init = m.encodeNegTokenInit({ mechTypes: [m.Oid.MS_KRB5, m.Oid.KRB5], mechToken });
    const mechList = "3016 06092a864882f712010202 06092a864886f712010202";
    assert.equal(hex(m.encodeMechTypeList([m.Oid.MS_KRB5, m.Oid.KRB5])), mechList.replace(/\s/g, ""));
    assert.ok(hex(init).includes(`a018${mechList.replace(/\s/g, "")}`));
    const afterLength = init[1] & 0x80 ? 2 + (init[1] & 0x7f) : 2;
    assert.equal(init[0], 0x60);
    assert.equal(hex(init.subarray(afterLength, afterLength + 8)), "06062b0601050502");
    assert.deepEqual(m.decodeNegTokenInit(init), { mechTypes: [m.Oid.MS_KRB5, m.Oid.KRB5], mechToken });
  });

  it("NegTokenInit2 (MS-SPNG): negHints in [3] and mechListMIC in [4] are read", () => {
    // mechTypes [KRB5], [3] negHints { hintName "none" }, [4] mechListMIC
    const hints = bytes("a3 0a 30 08 a0 06 1b 04 6e 6f 6e 65");
    const mic = bytes("a4 04 04 02 beef");
    const seq = Buffer.concat([bytes("a00d300b06092a864886f712010202"), hints, mic]);
    const body = Buffer.concat([Buffer.from([0x30, seq.length]), seq]);
    const choice = Buffer.concat([Buffer.from([0xa0, body.length]), body]);
    const inner = Buffer.concat([bytes("06062b0601050502"), choice]);
    const token = Buffer.concat([Buffer.from([0x60, inner.length]), inner]);
    assert.deepEqual(m.decodeNegTokenInit(token), { mechTypes: [m.Oid.KRB5], mechListMIC: bytes("beef"), hintName: "none" });
  });

  it("NegTokenResp as Windows sends it (accept-completed, MS-KRB5, the AP-REP token) and a reject", () => {
    const responseToken = m.encodeKrb5Token(m.TokId.AP_REP, m.encodeApRep({ encPart: { etype: 18, cipher: Buffer.alloc(3) } }));
    const resp = m.encodeNegTokenResp({ negState: m.NegState.ACCEPT_COMPLETED, supportedMech: m.Oid.MS_KRB5, responseToken });
    assert.equal(hex(resp.subarray(0, 1)), "a1");
    assert.ok(hex(resp).includes("a0030a0100a10b06092a864882f712010202"));
    assert.deepEqual(m.decodeNegTokenResp(resp), { negState: 0, supportedMech: m.Oid.MS_KRB5, responseToken });
    assert.deepEqual(m.decodeNegTokenResp(bytes("a1 07 30 05 a0 03 0a 01 02")), { negState: m.NegState.REJECT });
    assert.throws(() => m.decodeNegTokenResp(bytes("a1 07 30 05 a0 03 0a 01 07")), /negState 7 is none of 0..3/);
  });

  it("the 0x8003 authenticator checksum: Lgth 16, Bnd, flags little-endian; zero Bnd without channel bindings", () => {
    const flags = m.GssFlags.MUTUAL | m.GssFlags.REPLAY | m.GssFlags.SEQUENCE | m.GssFlags.CONF | m.GssFlags.INTEG;
    const plain = m.encodeGssChecksum({ flags });
    assert.equal(plain.cksumtype, 0x8003);
    assert.equal(hex(plain.checksum), `10000000${"00".repeat(16)}3e000000`);
    const bnd = Buffer.from("00112233445566778899aabbccddeeff", "hex");
    const bound = m.encodeGssChecksum({ bindingsHash: bnd, flags: m.GssFlags.MUTUAL | m.GssFlags.INTEG });
    assert.equal(hex(bound.checksum), "10000000" + hex(bnd) + "22000000");
    assert.deepEqual(m.decodeGssChecksum(bound), { bindingsHash: bnd, flags: 0x22 });
    assert.throws(() => m.encodeGssChecksum({ bindingsHash: Buffer.alloc(15), flags }), /Bnd is 15 bytes/);
    assert.throws(() => m.decodeGssChecksum({ cksumtype: 0x8003, checksum: bytes("0c000000" + "00".repeat(20)) }), /Lgth 12, expected 16/);
    assert.throws(() => m.decodeGssChecksum({ cksumtype: 16, checksum: plain.checksum }), /checksum type 16, expected 0x8003/);
  });

  it("channel-binding-aware authorization data: AD-IF-RELEVANT { AD-AUTH-DATA-AP-OPTIONS (143) = KERB_AP_OPTIONS_CBT 0x4000 }", () => {
    const ad = m.cbtAwareAuthorizationData();
    assert.equal(hex(m.encodeAuthorizationData(ad)), "301d 301b a003020101 a114 0412 3010 300e a004 0202008f a106 0404 00400000".replace(/\s/g, ""));
    const inner = m.decodeAuthorizationData(ad[0].adData);
    assert.deepEqual(inner, [{ adType: 143, adData: bytes("00400000") }]);
    assert.equal(ad[0].adType, m.AdType.IF_RELEVANT);
    assert.equal(m.authDataApOptions(ad), m.KERB_AP_OPTIONS_CBT);
    assert.equal(m.authDataApOptions([]), undefined);
  });
});

describe("Kerberos messages as Windows encodes numbers (MIT asn1_k_encode.c: kvnos are signed on Windows)", () => {
  /** A Ticket whose enc-part kvno is the INTEGER -5 (02 01 FB), as Windows writes a read-only DC's large kvno. */
  const negativeKvnoTicket = () =>
    der.application(
      m.AppTag.TICKET,
      der.sequence(
        der.explicit(0, der.integer(5)),
        der.explicit(1, der.kerberosString("CORP.EXAMPLE")),
        der.explicit(2, m.encodePrincipalName({ nameType: 2, nameString: ["HTTP", "web01.corp.example"] })),
        der.explicit(3, der.sequence(der.explicit(0, der.integer(18)), der.explicit(1, der.integer(-5)), der.explicit(2, der.octetString(Buffer.alloc(8, 1))))),
      ),
    );

  it("reads a negative kvno as the same 32 bits, and passes the ticket on byte for byte", () => {
    const received = negativeKvnoTicket();
    assert.ok(received.includes(Buffer.from("a1030201fb", "hex")), "kvno -5 as Windows writes it");
    const t = m.decodeTicket(received);
    assert.equal(t.encPart.kvno, 0xfffffffb);
    // An AP-REQ carries the ticket exactly as it came, not re-encoded (which would write the kvno as 5 bytes).
    const apReq = m.encodeApReq({ apOptions: 0, ticket: t, authenticator: { etype: 18, cipher: Buffer.alloc(4) } });
    assert.ok(apReq.includes(received), "the ticket's own bytes are inside the AP-REQ");
    assert.equal(m.encodeTicket(t).toString("hex"), received.toString("hex"));
    assert.deepEqual(Object.keys(t), ["realm", "sname", "encPart"], "the received bytes stay out of comparisons");
  });

  it("reads a negative seq-number in an AP-REP's EncAPRepPart (and an Authenticator) as the same 32 bits", () => {
    const part = m.encodeEncApRepPart({ ctime: new Date(Date.UTC(2026, 11, 7)), cusec: 5, seqNumber: 1 });
    // seq-number 1 is "a3 03 02 01 01": write it as -2 ("a3 03 02 01 fe"), same length.
    const at = part.indexOf(Buffer.from("a303020101", "hex"));
    assert.ok(at > 0);
    const edited = Buffer.from(part);
    edited[at + 4] = 0xfe;
    assert.equal(m.decodeEncApRepPart(edited).seqNumber, 0xfffffffe);
  });
});

describe("Kerberos numbers by name", () => {
  it("error codes of RFC 4120 7.5.9, and their names back", () => {
    const expected: Record<string, number> = {
      KDC_ERR_C_PRINCIPAL_UNKNOWN: 6,
      KDC_ERR_S_PRINCIPAL_UNKNOWN: 7,
      KDC_ERR_CLIENT_REVOKED: 18,
      KDC_ERR_KEY_EXPIRED: 23,
      KDC_ERR_PREAUTH_FAILED: 24,
      KDC_ERR_PREAUTH_REQUIRED: 25,
      KRB_AP_ERR_BAD_INTEGRITY: 31,
      KRB_AP_ERR_TKT_EXPIRED: 32,
      KRB_AP_ERR_TKT_NYV: 33,
      KRB_AP_ERR_REPEAT: 34,
      KRB_AP_ERR_SKEW: 37,
      KRB_AP_ERR_MODIFIED: 41,
      KRB_AP_ERR_BADKEYVER: 44,
      KRB_AP_ERR_MUT_FAIL: 46,
      KRB_ERR_RESPONSE_TOO_BIG: 52,
      KRB_ERR_GENERIC: 60,
      KDC_ERR_WRONG_REALM: 68,
    };
    for (const [name, code] of Object.entries(expected)) {
      assert.equal((ErrorCode as Record<string, number>)[name], code, name);
      assert.equal(m.errorName(code), name);
    }
    assert.equal(m.errorName(99), "error 99");
    assert.equal(new Set(Object.values(ErrorCode)).size, Object.keys(ErrorCode).length, "no code twice");
  });

  it("key usages of RFC 4120 7.5.1 and RFC 4121 2", () => {
    assert.deepEqual(
      [KeyUsage.AS_REQ_PA_ENC_TIMESTAMP, KeyUsage.KDC_REP_TICKET, KeyUsage.AS_REP_ENC_PART, KeyUsage.TGS_REQ_PA_AUTHENTICATOR_CKSUM, KeyUsage.TGS_REQ_PA_AUTHENTICATOR, KeyUsage.TGS_REP_ENC_PART_SESSION_KEY, KeyUsage.TGS_REP_ENC_PART_SUBKEY],
      [1, 2, 3, 6, 7, 8, 9],
    );
    assert.deepEqual([KeyUsage.AP_REQ_AUTHENTICATOR_CKSUM, KeyUsage.AP_REQ_AUTHENTICATOR, KeyUsage.AP_REP_ENC_PART], [10, 11, 12]);
    assert.deepEqual([KeyUsage.GSS_ACCEPTOR_SEAL, KeyUsage.GSS_ACCEPTOR_SIGN, KeyUsage.GSS_INITIATOR_SEAL, KeyUsage.GSS_INITIATOR_SIGN], [22, 23, 24, 25]);
  });

  it("flags as 32-bit numbers with bit 0 first on the wire", () => {
    assert.equal(KdcOptions.FORWARDABLE, 0x40000000);
    assert.equal(KdcOptions.CANONICALIZE, 0x00010000);
    assert.equal(KdcOptions.RENEWABLE_OK, 0x00000010);
    assert.equal(m.TicketFlags.INITIAL, 0x00400000);
    assert.equal(m.TicketFlags.PRE_AUTHENT, 0x00200000);
    assert.equal(m.ApOptions.MUTUAL_REQUIRED, 0x20000000);
  });
});
