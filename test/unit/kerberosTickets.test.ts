// The pure parts of the Kerberos ticket client: the default salt, which enctype is chosen, how a
// connection's realm, KDCs, service principal and credential source are worked out from options
// and krb5.conf, the KDC error messages; the AS exchange against an in-process fake KDC (the salt
// and iteration count it names are used, a reply with another nonce or under another key is
// refused); the TGS exchange against one (authenticator checksum over the req-body, reply under
// our subkey, a referral refused as unsupported); and the KDC transport against fake UDP and TCP
// servers on loopback (RESPONSE_TOO_BIG then TCP, framing split over reads, refused and silent
// KDCs, the deadline).
import assert from "node:assert/strict";
import * as dgram from "node:dgram";
import * as net from "node:net";
import { decrypt, encrypt, stringToKey, verifyChecksum } from "../../provider/transport/winrm/kerberos/crypto";
import { KerberosError } from "../../provider/transport/winrm/kerberos/errors";
import { KdcSender, sendKdcRequest } from "../../provider/transport/winrm/kerberos/kdcTransport";
import { KeytabEntry } from "../../provider/transport/winrm/kerberos/keytab";
import { parseKrb5Config } from "../../provider/transport/winrm/kerberos/krb5conf";
import * as m from "../../provider/transport/winrm/kerberos/messages";
import { parsePrincipal } from "../../provider/transport/winrm/kerberos/principal";
import { chooseEtype, defaultSalt, getInitialTicket, getServiceTicket, kdcErrorToKerberosError, resolveTicketRequest, TicketRequest, usableEtypes } from "../../provider/transport/winrm/kerberos/tickets";

const CONF = parseKrb5Config([
  {
    source: "krb5.conf",
    text: `[libdefaults]
  default_realm = CORP.EXAMPLE
[realms]
  CORP.EXAMPLE = {
    kdc = dc1.corp.example
    kdc = dc2.corp.example:1088
  }
  OTHER.EXAMPLE = {
    kdc = [fd00::5]:88
  }
`,
  },
]);

function thrown(f: () => unknown): KerberosError {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof KerberosError, String(err));
    return err;
  }
  assert.fail("no error");
}

async function rejected(p: Promise<unknown>): Promise<KerberosError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof KerberosError, String(err));
    return err;
  }
  assert.fail("no error");
}

describe("Kerberos tickets: salt, enctype choice, configuration", () => {
  it("the default salt is the realm followed by the name components, with no separator", () => {
    assert.equal(defaultSalt(parsePrincipal("alice@CORP.EXAMPLE")), "CORP.EXAMPLEalice");
    assert.equal(defaultSalt(parsePrincipal("HTTP/web01.corp.example@CORP.EXAMPLE")), "CORP.EXAMPLEHTTPweb01.corp.example");
  });

  it("the enctype is the first the KDC offers that we can use (its order is its preference)", () => {
    const offered = [{ etype: 23 }, { etype: 17, salt: "s17" }, { etype: 18, salt: "s18" }];
    assert.deepEqual(chooseEtype(offered, [18, 17]), { etype: 17, salt: "s17" });
    assert.deepEqual(chooseEtype(offered, [18]), { etype: 18, salt: "s18" });
    assert.equal(chooseEtype([{ etype: 23 }, { etype: 16 }], [18, 17]), undefined);
  });

  it("a password can make keys of both AES enctypes; a keytab only those it holds for the principal", () => {
    const alice = parsePrincipal("alice@CORP.EXAMPLE");
    assert.deepEqual(usableEtypes(alice, { password: "x" }), [18, 17]);
    const entry = (name: string, enctype: number): KeytabEntry => ({ principal: parsePrincipal(name), timestamp: new Date(0), kvno: 2, enctype, key: Buffer.alloc(enctype === 18 ? 32 : 16) });
    const keytab = [entry("alice@CORP.EXAMPLE", 17), entry("alice@CORP.EXAMPLE", 23), entry("bob@CORP.EXAMPLE", 18)];
    assert.deepEqual(usableEtypes(alice, { keytab, keytabName: "k" }), [17]);
    assert.deepEqual(usableEtypes(parsePrincipal("carol@CORP.EXAMPLE"), { keytab, keytabName: "k" }), []);
  });

  describe("resolveTicketRequest", () => {
    const base: TicketRequest = { host: "web01.corp.example", user: "alice", password: "pw", config: CONF, env: {} };

    it("realm: explicit, else the user's @REALM, else default_realm; KDCs: explicit, else krb5.conf [realms]", () => {
      const r = resolveTicketRequest(base);
      assert.equal(r.realm, "CORP.EXAMPLE");
      assert.deepEqual(r.kdcs, [
        { host: "dc1.corp.example", port: 88 },
        { host: "dc2.corp.example", port: 1088 },
      ]);
      assert.deepEqual([r.server.realm, r.server.components, r.server.nameType], ["CORP.EXAMPLE", ["HTTP", "web01.corp.example"], m.NameType.SRV_INST]);
      assert.deepEqual(r.source, { kind: "password", client: { realm: "CORP.EXAMPLE", components: ["alice"], nameType: 1 }, password: "pw" });
      assert.equal(r.clockSkewSeconds, 300);
      assert.equal(r.udpPreferenceLimit, undefined);
      const other = resolveTicketRequest({ ...base, user: "alice@OTHER.EXAMPLE" });
      assert.deepEqual([other.realm, other.kdcs, other.server.realm], ["OTHER.EXAMPLE", [{ host: "fd00::5", port: 88 }], "OTHER.EXAMPLE"]);
      const explicit = resolveTicketRequest({ ...base, realm: "OTHER.EXAMPLE", kdc: ["127.0.0.9:8888", "kdc.other.example"] });
      assert.deepEqual([explicit.realm, explicit.kdcs], ["OTHER.EXAMPLE", [{ host: "127.0.0.9", port: 8888 }, { host: "kdc.other.example", port: 88 }]]);
    });

    it("the host name is lower-cased into HTTP/<host>; a service principal given is used as is", () => {
      assert.deepEqual(resolveTicketRequest({ ...base, host: "WEB01.Corp.Example." }).server.components, ["HTTP", "web01.corp.example"]);
      const r = resolveTicketRequest({ ...base, host: "10.0.0.5", servicePrincipal: "WSMAN/Web01.corp.example" });
      assert.deepEqual([r.server.realm, r.server.components], ["CORP.EXAMPLE", ["WSMAN", "Web01.corp.example"]]);
    });

    it("refuses an IP address without a service principal, and what cannot be worked out, as configuration", () => {
      for (const host of ["192.0.2.7", "2001:db8::1", "[2001:db8::1]"]) {
        const e = thrown(() => resolveTicketRequest({ ...base, host }));
        assert.equal(e.failure, "configuration");
        assert.match(e.message, /^Kerberos needs the host's name as its SPN has it \(HTTP\/<name>\)/);
      }
      const empty = parseKrb5Config([{ source: "empty", text: "" }]);
      assert.match(thrown(() => resolveTicketRequest({ ...base, config: empty })).message, /^no Kerberos realm is known: give the user as user@REALM/);
      assert.equal(
        thrown(() => resolveTicketRequest({ ...base, user: "alice@NOKDC.EXAMPLE" })).message,
        "no KDC is known for realm NOKDC.EXAMPLE: list it in krb5.conf ([realms] NOKDC.EXAMPLE = { kdc = <host> }) or set connection.kdc (KDCs are not looked up in DNS)",
      );
      assert.equal(thrown(() => resolveTicketRequest({ ...base, user: undefined })).failure, "configuration");
      assert.equal(thrown(() => resolveTicketRequest({ ...base, keytab: "/k" })).failure, "configuration");
      assert.equal(thrown(() => resolveTicketRequest({ ...base, kdc: ["not a kdc"] })).failure, "configuration");
    });

    it("cross-realm (a user or service principal in another realm than the connection's) is unsupported", () => {
      assert.equal(thrown(() => resolveTicketRequest({ ...base, realm: "CORP.EXAMPLE", user: "alice@OTHER.EXAMPLE" })).failure, "unsupported");
      assert.equal(thrown(() => resolveTicketRequest({ ...base, servicePrincipal: "HTTP/web01@OTHER.EXAMPLE" })).failure, "unsupported");
    });

    it("a ccache: explicit, else KRB5CCNAME; refusals of other cache types are cacheUnusable", () => {
      const r = resolveTicketRequest({ host: "web01.corp.example", user: "alice", ccache: "FILE:/tmp/cc", config: CONF, env: {} });
      assert.deepEqual(r.source, { kind: "ccache", client: { realm: "CORP.EXAMPLE", components: ["alice"], nameType: 1 }, path: "/tmp/cc" });
      const env = resolveTicketRequest({ host: "web01.corp.example", realm: "CORP.EXAMPLE", config: CONF, env: { KRB5CCNAME: "/tmp/other" } });
      assert.deepEqual(env.source, { kind: "ccache", path: "/tmp/other" });
      const kcm = thrown(() => resolveTicketRequest({ host: "web01.corp.example", realm: "CORP.EXAMPLE", config: CONF, env: { KRB5CCNAME: "KCM:" } }));
      assert.equal(kcm.failure, "cacheUnusable");
      const missing = thrown(() => resolveTicketRequest({ host: "web01.corp.example", config: CONF, env: { KRB5CCNAME: "FILE:/nonexistent/cc" } }));
      assert.equal(missing.failure, "cacheUnusable");
      assert.match(missing.message, /^no credential cache at \/nonexistent\/cc: run "kinit -c FILE:\/nonexistent\/cc <principal>" first$/);
    });

    it("reads clockskew and udp_preference_limit from [libdefaults]", () => {
      const conf = parseKrb5Config([{ source: "c", text: "[libdefaults]\n default_realm = R.EXAMPLE\n clockskew = 120\n udp_preference_limit = 1\n[realms]\n R.EXAMPLE = {\n  kdc = k\n }\n" }]);
      const r = resolveTicketRequest({ ...base, config: conf });
      assert.deepEqual([r.clockSkewSeconds, r.udpPreferenceLimit], [120, 1]);
    });
  });

  it("KDC errors: each cause with its fix; others as protocol with the code's name and the e-text", () => {
    const ctx = { realm: "CORP.EXAMPLE", client: parsePrincipal("alice@CORP.EXAMPLE"), server: parsePrincipal("HTTP/web01@CORP.EXAMPLE"), sentAt: new Date(0), clockSkewSeconds: 300 };
    const error = (errorCode: number, eText?: string): m.KrbError => ({ errorCode, stime: new Date(600_000), susec: 0, realm: "CORP.EXAMPLE", sname: { nameType: 2, nameString: ["krbtgt", "CORP.EXAMPLE"] }, ...(eText ? { eText } : {}) });
    const f = (code: number, eText?: string) => kdcErrorToKerberosError(error(code, eText), ctx);
    assert.deepEqual([f(18).failure, f(23).failure, f(24).failure, f(32).failure, f(6).failure, f(7).failure, f(37).failure], [
      "accountRevoked",
      "passwordExpired",
      "preauthFailed",
      "ticketExpired",
      "clientPrincipalUnknown",
      "servicePrincipalUnknown",
      "clockSkew",
    ]);
    assert.equal(f(18).message, "KDC_ERR_CLIENT_REVOKED (18) for alice@CORP.EXAMPLE: the account is disabled, locked out or expired: have it enabled or unlocked in the directory");
    assert.equal(f(23).message, "KDC_ERR_KEY_EXPIRED (23) for alice@CORP.EXAMPLE: the account's password has expired: set a new one, then update the stored password or export a new keytab");
    assert.match(f(37).message, /this machine's clock said 1970-01-01T00:00:00\.000Z and the KDC's 1970-01-01T00:10:00\.000Z, 600 s apart, more than the 300 s/);
    const other = f(m.ErrorCode.KDC_ERR_POLICY, "account policy refused");
    assert.deepEqual([other.failure, other.code, other.transient], ["protocol", 12, false]);
    assert.equal(other.message, "KDC_ERR_POLICY (12) from the KDC of CORP.EXAMPLE for alice@CORP.EXAMPLE asking for HTTP/web01@CORP.EXAMPLE: account policy refused");
  });
});

/** An in-process KDC for the AS exchange: PREAUTH_REQUIRED naming a salt, then an AS-REP under the key it derives. */
function fakeKdc(options: { salt: string; s2kparams?: Buffer; password: string; tamper?: (p: m.EncKdcRepPart) => m.EncKdcRepPart; requirePreauth?: boolean }) {
  const seen: m.DecodedKdcReq[] = [];
  const key = stringToKey(18, options.password, options.salt, options.s2kparams);
  const send: KdcSender = async (_realm, kdcs, request) => {
    const req = m.decodeKdcReq(request, m.MsgType.AS_REQ);
    seen.push(req);
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const sname = req.reqBody.sname!;
    const answer = (reply: Buffer) => ({ reply, kdc: kdcs[0], protocol: "udp" as const, attempts: [] });
    if ((options.requirePreauth ?? true) && !req.padata?.some((p) => p.padataType === m.PaType.ENC_TIMESTAMP)) {
      const eData = m.encodeMethodData([{ padataType: m.PaType.ETYPE_INFO2, padataValue: m.encodeEtypeInfo2([{ etype: 18, salt: options.salt, ...(options.s2kparams ? { s2kparams: options.s2kparams } : {}) }]) }]);
      return answer(m.encodeKrbError({ stime: now, susec: 0, errorCode: m.ErrorCode.KDC_ERR_PREAUTH_REQUIRED, realm: req.reqBody.realm, sname, eData }));
    }
    let part: m.EncKdcRepPart = {
      key: { keytype: 18, keyvalue: Buffer.alloc(32, 7) },
      lastReq: [],
      nonce: req.reqBody.nonce,
      flags: m.TicketFlags.INITIAL,
      authtime: now,
      endtime: new Date(now.getTime() + 36_000_000),
      srealm: req.reqBody.realm,
      sname,
    };
    if (options.tamper) part = options.tamper(part);
    const rep: m.KdcRep = {
      msgType: m.MsgType.AS_REP,
      crealm: req.reqBody.realm,
      cname: req.reqBody.cname!,
      ticket: { realm: req.reqBody.realm, sname, encPart: { etype: 18, kvno: 1, cipher: Buffer.alloc(60, 1) } },
      encPart: { etype: 18, cipher: encrypt(key, m.KeyUsage.AS_REP_ENC_PART, m.encodeEncKdcRepPart(part, 26)) },
    };
    return answer(m.encodeKdcRep(rep));
  };
  return { send, seen };
}

describe("Kerberos AS exchange against an in-process KDC", () => {
  const alice = parsePrincipal("alice@CORP.EXAMPLE");
  const target = (send: KdcSender) => ({ realm: "CORP.EXAMPLE", kdcs: [{ host: "127.0.0.1", port: 88 }], send });

  it("uses the salt and iteration count the KDC names in PA-ETYPE-INFO2 (an AD-style salt, 5000 iterations)", async () => {
    const s2kparams = Buffer.from([0, 0, 0x13, 0x88]);
    const kdc = fakeKdc({ salt: "CORP.EXAMPLEhostalice.corp.example", s2kparams, password: "pw-1" });
    const tgt = await getInitialTicket(alice, { password: "pw-1" }, target(kdc.send));
    assert.deepEqual(tgt.key, { etype: 18, value: Buffer.alloc(32, 7) });
    assert.equal(kdc.seen.length, 2);
  });

  it("refuses a KDC that asks for fewer than 4096 PBKDF2 iterations before sending anything derived from the password", async () => {
    const kdc = fakeKdc({ salt: "CORP.EXAMPLEalice", s2kparams: Buffer.from([0, 0, 0x03, 0xe8]), password: "pw-1" });
    const err = await rejected(getInitialTicket(alice, { password: "pw-1" }, target(kdc.send)));
    assert.equal(err.failure, "protocol");
    assert.match(err.message, /asks for 1000 PBKDF2 iterations for alice@CORP\.EXAMPLE's key, fewer than the 4096/);
    assert.equal(kdc.seen.length, 1, "no PA-ENC-TIMESTAMP was sent");
  });

  it("refuses an AS-REP whose enc-part carries another nonce than the request's", async () => {
    const kdc = fakeKdc({ salt: "CORP.EXAMPLEalice", password: "pw-1", tamper: (p) => ({ ...p, nonce: (p.nonce + 1) % 0x7fffffff }) });
    const err = await rejected(getInitialTicket(alice, { password: "pw-1" }, target(kdc.send)));
    assert.equal(err.failure, "protocol");
    assert.match(err.message, /^the KDC of CORP\.EXAMPLE sent a reply to another request: its nonce is \d+, ours was \d+; refused as a replayed or forged reply$/);
  });

  it("refuses an AS-REP for another server than krbtgt/REALM", async () => {
    const kdc = fakeKdc({ salt: "CORP.EXAMPLEalice", password: "pw-1", tamper: (p) => ({ ...p, sname: { nameType: 2, nameString: ["krbtgt", "EVIL.EXAMPLE"] } }) });
    const err = await rejected(getInitialTicket(alice, { password: "pw-1" }, target(kdc.send)));
    assert.equal(err.failure, "protocol");
  });

  it("without pre-authentication, a wrong password shows as an AS-REP that does not decrypt: preauthFailed", async () => {
    const kdc = fakeKdc({ salt: "CORP.EXAMPLEalice", password: "the-real-one", requirePreauth: false });
    const err = await rejected(getInitialTicket(alice, { password: "a-wrong-one" }, target(kdc.send)));
    assert.equal(err.failure, "preauthFailed");
    assert.ok(!err.message.includes("a-wrong-one") && !String(err.stack).includes("a-wrong-one"));
  });

  it("refuses an AS-REP whose ticket starts more than the clock skew from our time", async () => {
    const kdc = fakeKdc({ salt: "CORP.EXAMPLEalice", password: "pw-1", tamper: (p) => ({ ...p, authtime: new Date(p.authtime.getTime() - 400_000) }) });
    const err = await rejected(getInitialTicket(alice, { password: "pw-1" }, target(kdc.send)));
    assert.equal(err.failure, "clockSkew");
  });
});

describe("Kerberos TGS exchange against an in-process KDC", () => {
  const sessionKey = { etype: 18, value: Buffer.alloc(32, 3) };
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const tgt = {
    client: parsePrincipal("alice@CORP.EXAMPLE"),
    server: parsePrincipal("krbtgt/CORP.EXAMPLE@CORP.EXAMPLE"),
    key: sessionKey,
    authtime: now,
    starttime: now,
    endtime: new Date(now.getTime() + 36_000_000),
    isSkey: false,
    ticketFlags: 0,
    addresses: [],
    authdata: [],
    ticket: m.encodeTicket({ realm: "CORP.EXAMPLE", sname: { nameType: 2, nameString: ["krbtgt", "CORP.EXAMPLE"] }, encPart: { etype: 18, kvno: 1, cipher: Buffer.alloc(60, 1) } }),
    secondTicket: Buffer.alloc(0),
  };
  const spn = parsePrincipal("HTTP/web01.corp.example@CORP.EXAMPLE", undefined, m.NameType.SRV_INST);

  /** A KDC that checks the authenticator (usage 7) and its checksum over the req-body (usage 6), and answers under the subkey (usage 9). */
  function tgsKdc(answerFor: (asked: m.PrincipalName) => m.PrincipalName & { realm?: string }) {
    const checked: string[] = [];
    const send: KdcSender = async (_realm, kdcs, request) => {
      const req = m.decodeKdcReq(request, m.MsgType.TGS_REQ);
      const apReq = m.decodeApReq(req.padata!.find((p) => p.padataType === m.PaType.TGS_REQ)!.padataValue);
      const auth = m.decodeAuthenticator(decrypt(sessionKey, m.KeyUsage.TGS_REQ_PA_AUTHENTICATOR, apReq.authenticator.cipher));
      assert.ok(verifyChecksum(sessionKey, m.KeyUsage.TGS_REQ_PA_AUTHENTICATOR_CKSUM, req.reqBodyDer, auth.cksum!.checksum));
      checked.push(`${auth.cname.nameString.join("/")} ${auth.cksum!.cksumtype} ${auth.subkey!.keytype}`);
      const sname = answerFor(req.reqBody.sname!);
      const part: m.EncKdcRepPart = { key: { keytype: 17, keyvalue: Buffer.alloc(16, 9) }, lastReq: [], nonce: req.reqBody.nonce, flags: 0, authtime: now, starttime: new Date(), endtime: tgt.endtime, srealm: sname.realm ?? "CORP.EXAMPLE", sname: { nameType: sname.nameType, nameString: sname.nameString } };
      const rep: m.KdcRep = {
        msgType: m.MsgType.TGS_REP,
        crealm: "CORP.EXAMPLE",
        cname: auth.cname,
        ticket: { realm: part.srealm, sname: part.sname, encPart: { etype: 18, kvno: 4, cipher: Buffer.alloc(70, 2) } },
        encPart: { etype: 18, cipher: encrypt({ etype: 18, value: auth.subkey!.keyvalue }, m.KeyUsage.TGS_REP_ENC_PART_SUBKEY, m.encodeEncKdcRepPart(part, 26)) },
      };
      return { reply: m.encodeKdcRep(rep), kdc: kdcs[0], protocol: "udp" as const, attempts: [] };
    };
    return { send, checked };
  }
  const target = (send: KdcSender) => ({ realm: "CORP.EXAMPLE", kdcs: [{ host: "127.0.0.1", port: 88 }], send });

  it("sends an authenticator under the TGT key whose checksum covers the req-body and which carries a subkey; reads the reply under that subkey", async () => {
    const kdc = tgsKdc((asked) => asked);
    const cred = await getServiceTicket(tgt, spn, target(kdc.send));
    assert.deepEqual(kdc.checked, ["alice 16 18"]);
    assert.deepEqual(cred.key, { etype: 17, value: Buffer.alloc(16, 9) });
    assert.deepEqual([cred.server.realm, cred.server.components], ["CORP.EXAMPLE", ["HTTP", "web01.corp.example"]]);
  });

  it("a referral (a TGT for another realm) is refused as unsupported; a ticket for another service as protocol", async () => {
    const referral = await rejected(getServiceTicket(tgt, spn, target(tgsKdc(() => ({ nameType: 2, nameString: ["krbtgt", "OTHER.EXAMPLE"] })).send)));
    assert.equal(referral.failure, "unsupported");
    assert.equal(
      referral.message,
      "the KDC of CORP.EXAMPLE referred HTTP/web01.corp.example@CORP.EXAMPLE to realm OTHER.EXAMPLE (a cross-realm referral), which this client does not follow yet: use a user and a service principal of the same realm",
    );
    const other = await rejected(getServiceTicket(tgt, spn, target(tgsKdc(() => ({ nameType: 2, nameString: ["HTTP", "evil.corp.example"] })).send)));
    assert.equal(other.failure, "protocol");
  });
});

describe("KDC transport on loopback", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  async function udpServer(onMessage: (msg: Buffer, reply: (b: Buffer) => void) => void, port = 0): Promise<number> {
    const s = dgram.createSocket("udp4");
    s.on("message", (msg, rinfo) => onMessage(msg, (b) => s.send(b, rinfo.port, rinfo.address)));
    await new Promise<void>((r) => s.bind(port, "127.0.0.1", r));
    closers.push(() => new Promise((r) => s.close(() => r())));
    return s.address().port;
  }

  async function tcpServer(onConnection: (c: net.Socket) => void, port = 0): Promise<number> {
    const open = new Set<net.Socket>();
    const s = net.createServer((c) => {
      open.add(c);
      c.on("close", () => open.delete(c));
      onConnection(c);
    });
    await new Promise<void>((r) => s.listen(port, "127.0.0.1", r));
    // A silent server never reads, so it would not see the client hang up: its sockets are destroyed.
    closers.push(() => new Promise((r) => (s.close(() => r()), open.forEach((c) => c.destroy()))));
    return (s.address() as net.AddressInfo).port;
  }

  const tooBig = m.encodeKrbError({ stime: new Date(0), susec: 0, errorCode: m.ErrorCode.KRB_ERR_RESPONSE_TOO_BIG, realm: "R", sname: { nameType: 2, nameString: ["krbtgt", "R"] } });

  it("RESPONSE_TOO_BIG over UDP: the request goes again over TCP to the same KDC, in 4-byte length framing, the reply read across several segments", async () => {
    const udpSeen: Buffer[] = [];
    const port = await udpServer((msg, reply) => {
      udpSeen.push(msg);
      reply(tooBig);
    });
    const tcpSeen: Buffer[] = [];
    const answer = Buffer.alloc(3000, 0x6b);
    await tcpServer((c) => {
      let got = Buffer.alloc(0);
      c.on("data", (d) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
          tcpSeen.push(got);
          const framed = Buffer.concat([Buffer.from([0, 0, 0x0b, 0xb8]), answer]);
          // in pieces, the length itself split
          c.write(framed.subarray(0, 2));
          setTimeout(() => c.write(framed.subarray(2, 1000)), 10);
          setTimeout(() => c.end(framed.subarray(1000)), 20);
        }
      });
    }, port);
    const request = Buffer.from("a request");
    const x = await sendKdcRequest("R", [{ host: "127.0.0.1", port }], request);
    assert.deepEqual(x.reply, answer);
    assert.equal(x.protocol, "tcp");
    assert.deepEqual(x.attempts.map((a) => `${a.protocol}:${a.outcome}`), ["udp:tooBig", "tcp:answered"]);
    assert.deepEqual(udpSeen, [request]);
    assert.deepEqual(tcpSeen, [Buffer.concat([Buffer.from([0, 0, 0, request.length]), request])]);
  });

  it("a request above the UDP preference limit goes over TCP only", async () => {
    let udp = 0;
    const port = await udpServer(() => udp++);
    await tcpServer((c) => c.once("data", () => c.write(Buffer.from([0, 0, 0, 2, 0x6b, 0x6b]))), port);
    const x = await sendKdcRequest("R", [{ host: "127.0.0.1", port }], Buffer.alloc(1466, 1));
    assert.deepEqual(x.attempts.map((a) => `${a.protocol}:${a.outcome}`), ["tcp:answered"]);
    const y = await sendKdcRequest("R", [{ host: "127.0.0.1", port }], Buffer.alloc(1465, 1), { udpPreferenceLimit: 1465, tryTimeoutMs: 100 });
    assert.deepEqual(y.attempts.map((a) => `${a.protocol}:${a.outcome}`), ["udp:timeout", "tcp:answered"]);
    assert.equal(udp, 1);
  });

  it("KDCs in order: a refusing one and a silent one are passed over for the next that answers", async () => {
    const closed = await tcpServer(() => undefined);
    await closers.pop()!(); // now nothing listens there
    const silent = await udpServer(() => undefined);
    await tcpServer(() => undefined, silent);
    const good = await udpServer((_msg, reply) => reply(Buffer.from("ok")));
    const x = await sendKdcRequest("R", [{ host: "127.0.0.1", port: closed }, { host: "127.0.0.1", port: silent }, { host: "127.0.0.1", port: good }], Buffer.from("q"), { tryTimeoutMs: 150 });
    assert.deepEqual(x.reply, Buffer.from("ok"));
    assert.deepEqual(x.attempts.map((a) => `${a.kdc.port === closed ? "closed" : a.kdc.port === silent ? "silent" : "good"} ${a.protocol}:${a.outcome}`), [
      "closed udp:refused",
      "closed tcp:refused",
      "silent udp:timeout",
      "silent tcp:timeout",
      "good udp:answered",
    ]);
  });

  it("none answering: kdcUnreachable, transient, naming every KDC; the deadline bounds the whole send", async () => {
    const silent = await udpServer(() => undefined);
    await tcpServer(() => undefined, silent);
    const started = Date.now();
    const err = await rejected(
      sendKdcRequest("CORP.EXAMPLE", [{ host: "127.0.0.1", port: silent }, { host: "127.0.0.1", port: silent + 0 }, { host: "::1", port: 9 }], Buffer.from("q"), {
        tryTimeoutMs: 150,
        deadline: Date.now() + 400,
      }),
    );
    const took = Date.now() - started;
    assert.ok(took < 900, `${took} ms`);
    assert.deepEqual([err.failure, err.transient], ["kdcUnreachable", true]);
    assert.match(err.message, new RegExp(`^no KDC for realm CORP\\.EXAMPLE answered \\(tried 127\\.0\\.0\\.1:${silent}, \\[::1\\]:9 \\(not tried before the deadline\\)\\): check krb5\\.conf \\[realms\\] kdc or connection\\.kdc, and that the port named there \\(88 unless given\\) is reachable$`));
  });

  it("a KDC name that does not resolve is passed over", async () => {
    const err = await rejected(sendKdcRequest("R", [{ host: "no-such-kdc.invalid", port: 88 }], Buffer.from("q"), { tryTimeoutMs: 200 }));
    assert.equal(err.failure, "kdcUnreachable");
    assert.match(err.message, /\(tried no-such-kdc\.invalid:88\)/);
  });
});
