// The Kerberos test harness itself, against MIT: a throw-away realm on loopback (test/simhost/kdc.ts)
// issues tickets to kinit and kvno, refuses a wrong password and a skewed clock as MIT does, and
// goes down and up; the GSSAPI sidecar (test/simhost/gssSidecar.ts/.py) accepts an MIT initiator's
// context with a keytab, wraps and unwraps in the WinRM layout (60-byte header, EC 0, RRC 28) both
// ways, refuses altered tokens, replays and stale keys with MIT's own codes. The later Kerberos
// tests rely on every behaviour asserted here.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { KerberosToolError, Realm, startRealm } from "../simhost/kdc";
import { GSS_FLAGS, GSS_MAJOR, GssSidecar, gssRefusal } from "../simhost/gssSidecar";

/** MIT's com_err codes (krb5_err.h) as a GSS minor status carries them. */
const KRB5 = {
  KDC_ERR_PREAUTH_FAILED: -1765328360,
  KRB_AP_ERR_TKT_EXPIRED: -1765328352,
  KRB_AP_ERR_REPEAT: -1765328350,
  KRB_AP_ERR_SKEW: -1765328347,
};

/** The RFC 4121 token header of a wrap token (4.2.6.2). */
function tokenHeader(header: Buffer) {
  return {
    tokId: header.subarray(0, 2).toString("hex"),
    flags: header[2],
    filler: header[3],
    ec: header.readUInt16BE(4),
    rrc: header.readUInt16BE(6),
    seq: header.readBigUInt64BE(8),
  };
}

const rejects = gssRefusal;

describe("Kerberos harness: MIT KDC on loopback and a GSSAPI sidecar", () => {
  let realm: Realm;
  let gss: GssSidecar;
  const HOST = "web01.corp.test";
  const SPN = `HTTP/${HOST}`;
  let httpKeytab: string;
  let aliceCache: string;
  let ctxCount = 0;
  const id = (role: string) => `${role}${++ctxCount}`;

  before(async () => {
    const t0 = Date.now();
    realm = await startRealm({ realm: "CORP.TEST" });
    const t1 = Date.now();
    await realm.addPrincipal("alice", "Alice-Pa55");
    await realm.addPrincipal(SPN);
    httpKeytab = await realm.keytab(SPN, path.join(realm.dir, "http.keytab"));
    aliceCache = await realm.kinit("alice", { password: "Alice-Pa55", ccache: path.join(realm.dir, "alice.cc") });
    const t2 = Date.now();
    gss = await GssSidecar.start({ env: { ...realm.env, KRB5CCNAME: aliceCache }, keytab: httpKeytab });
    const t3 = Date.now();
    console.log(`      realm start (kdb5_util create + krb5kdc): ${t1 - t0} ms; principals, keytab, kinit: ${t2 - t1} ms; GSSAPI sidecar start: ${t3 - t2} ms`);
  });
  after(async () => {
    await gss?.dispose();
    await realm?.stop();
  });

  /** An MIT initiator (alice's ccache) and a sidecar acceptor (http.keytab) with an established context. */
  async function contextPair(flags?: number) {
    const i = id("i");
    const a = id("a");
    const first = await gss.initiate(i, SPN, { flags });
    const accepted = await gss.accept(a, first.token!);
    if (accepted.token) await gss.step(i, accepted.token);
    return { i, a, apReq: first.token!, accepted };
  }

  it("serves AS and TGS over UDP and TCP on its loopback port; kinit with a password, then kvno for HTTP/<host>", async () => {
    assert.match(realm.kdcAddress, /^127\./);
    const udpTrace = path.join(realm.dir, "udp.trace");
    const kvno = await realm.tool("/usr/bin/kvno", ["-c", aliceCache, SPN], { env: { KRB5_TRACE: udpTrace } });
    assert.equal(kvno.code, 0, kvno.stderr);
    assert.equal(kvno.stdout.trim(), `${SPN}@CORP.TEST: kvno = 2`);
    assert.match(fs.readFileSync(udpTrace, "utf8"), new RegExp(`Sending initial UDP request to dgram ${realm.kdcAddress.replace(/\./g, "\\.")}:${realm.port}`));
    const klist = await realm.tool("/usr/bin/klist", ["-e", "-c", aliceCache]);
    assert.match(klist.stdout, /Default principal: alice@CORP\.TEST/);
    assert.match(klist.stdout, /krbtgt\/CORP\.TEST@CORP\.TEST\n\s+Etype \(skey, tkt\): aes256-cts-hmac-sha1-96, aes256-cts-hmac-sha1-96/);
    assert.match(klist.stdout, /HTTP\/web01\.corp\.test@CORP\.TEST\n\s+Etype \(skey, tkt\): aes256-cts-hmac-sha1-96, aes256-cts-hmac-sha1-96/);
    // The same over TCP: udp_preference_limit = 1 makes MIT's client use TCP for every request.
    const tcpConf = path.join(realm.dir, "krb5-tcp.conf");
    fs.writeFileSync(tcpConf, fs.readFileSync(realm.env.KRB5_CONFIG, "utf8").replace("[libdefaults]\n", "[libdefaults]\n  udp_preference_limit = 1\n"));
    const trace = path.join(realm.dir, "tcp.trace");
    const tcp = await realm.tool("/usr/bin/kinit", ["-c", `FILE:${path.join(realm.dir, "tcp.cc")}`, "alice"], {
      input: "Alice-Pa55\n",
      env: { KRB5_CONFIG: tcpConf, KRB5_TRACE: trace },
    });
    assert.equal(tcp.code, 0, tcp.stderr);
    const traced = fs.readFileSync(trace, "utf8");
    assert.match(traced, new RegExp(`Sending TCP request to stream ${realm.kdcAddress.replace(/\./g, "\\.")}:${realm.port}`));
    assert.doesNotMatch(traced, /dgram/);
  });

  it("kinit -k -t into a FILE ccache, the key from a keytab extracted with -norandkey", async () => {
    await realm.addPrincipal("batch");
    // kadmin.local exits 0 after a failed query; the harness reads its message instead.
    await assert.rejects(realm.addPrincipal("batch"), /Principal or policy already exists while creating "batch@CORP\.TEST"/);
    await assert.rejects(realm.keytab("nobody", path.join(realm.dir, "nobody.keytab")), KerberosToolError);
    const keytab = await realm.keytab("batch", path.join(realm.dir, "batch.keytab"), { norandkey: true });
    const cc = await realm.kinit("batch", { keytab, ccache: path.join(realm.dir, "batch.cc") });
    assert.equal(cc, `FILE:${path.join(realm.dir, "batch.cc")}`);
    const klist = await realm.tool("/usr/bin/klist", ["-c", cc]);
    assert.equal(klist.code, 0, klist.stderr);
    assert.match(klist.stdout, /Ticket cache: FILE:.*batch\.cc\nDefault principal: batch@CORP\.TEST/);
    // A ccache the sidecar can initiate from, as a pipeline's `kinit -kt` leaves it.
    const i = id("i");
    const a = id("a");
    const first = await gss.initiate(i, SPN, { credentials: { ccache: cc } });
    const accepted = await gss.accept(a, first.token!);
    assert.equal(accepted.initiator, "batch@CORP.TEST");
  });

  it("a wrong password: kinit says 'Password incorrect', the KDC logs PREAUTH_FAILED, GSSAPI gives 'Preauthentication failed'", async () => {
    await assert.rejects(realm.kinit("alice", { password: "wrong-one", ccache: path.join(realm.dir, "wrong.cc") }), (err: unknown) => {
      assert.ok(err instanceof KerberosToolError);
      assert.equal(err.result.code, 1);
      assert.match(err.result.stderr, /kinit: Password incorrect while getting initial credentials/);
      return true;
    });
    assert.match(realm.kdcLog(), /PREAUTH_FAILED: alice@CORP\.TEST for krbtgt\/CORP\.TEST@CORP\.TEST, Preauthentication failed/);
    const err = await rejects(gss.initiate(id("i"), SPN, { credentials: { principal: "alice@CORP.TEST", password: "wrong-one" } }));
    assert.equal(err.major, GSS_MAJOR.NO_CRED);
    assert.equal(err.krb5Code, KRB5.KDC_ERR_PREAUTH_FAILED);
    assert.equal(err.minorMessage, "Preauthentication failed");
    // The right password through the same call: a ticket in memory, no ccache written.
    const ok = await gss.initiate(id("i"), SPN, { credentials: { principal: "alice@CORP.TEST", password: "Alice-Pa55" } });
    assert.equal(ok.token![0], 0x60);
  });

  it("an MIT initiator completes a mutual context with the sidecar acceptor (AP-REQ, AP-REP)", async () => {
    const i = id("i");
    const a = id("a");
    const first = await gss.initiate(i, SPN);
    assert.equal(first.complete, false);
    // RFC 2743 3.1 framing: 0x60, the krb5 mech OID, TOK_ID 01 00 (AP-REQ).
    assert.equal(first.token![0], 0x60);
    assert.ok(first.token!.includes(Buffer.from("06092a864886f712010202" + "0100", "hex")));
    const accepted = await gss.accept(a, first.token!);
    assert.equal(accepted.complete, true);
    assert.equal(accepted.initiator, "alice@CORP.TEST");
    assert.equal(accepted.mech, "1.2.840.113554.1.2.2");
    assert.ok(accepted.token, "an AP-REP");
    assert.ok(accepted.token.includes(Buffer.from("06092a864886f712010202" + "0200", "hex")), "TOK_ID 02 00 (AP-REP)");
    const want = GSS_FLAGS.MUTUAL | GSS_FLAGS.CONF | GSS_FLAGS.INTEG | GSS_FLAGS.SEQUENCE;
    assert.equal(accepted.flags & want, want);
    const done = await gss.step(i, accepted.token);
    assert.equal(done.complete, true);
    assert.equal(done.token, null);
    assert.equal(done.flags & want, want);
  });

  it("SPNEGO (Negotiate, as WinRM's HTTP header carries it): the same Kerberos exchange inside NegTokenInit and NegTokenResp", async () => {
    const i = id("i");
    const a = id("a");
    const first = await gss.initiate(i, SPN, { mech: "spnego" });
    // RFC 4178: 0x60, a DER length, the SPNEGO OID 1.3.6.1.5.5.2.
    assert.equal(first.token![0], 0x60);
    assert.ok(first.token!.subarray(0, 12).includes(Buffer.from("06062b0601050502", "hex")));
    let reply = await gss.accept(a, first.token!);
    let step = await gss.step(i, reply.token!);
    while (!step.complete || !reply.complete) {
      if (step.token) reply = await gss.accept(a, step.token);
      if (!step.complete && reply.token) step = await gss.step(i, reply.token);
      else break;
    }
    assert.equal(reply.complete, true);
    assert.equal(step.complete, true);
    assert.equal(reply.initiator, "alice@CORP.TEST");
    assert.equal(reply.mech, "1.2.840.113554.1.2.2");
    const t = await gss.wrapIov(i, Buffer.from("<s:Envelope/>"));
    assert.equal(tokenHeader(t.header).flags, 0x06);
    assert.deepEqual((await gss.unwrapIov(a, t.header, t.data)).data, Buffer.from("<s:Envelope/>"));
  });

  it("wrapIov: a 60-byte header (TOK_ID 05 04, EC 0, RRC 28), data as long as the plaintext, no padding; each side unwraps the other's", async () => {
    const { i, a } = await contextPair();
    const soap = Buffer.from(`<s:Envelope>${"x".repeat(1000)}</s:Envelope>`);
    const request = await gss.wrapIov(i, soap);
    assert.equal(request.header.length, 60);
    assert.equal(request.data.length, soap.length);
    assert.equal(request.padding.length, 0);
    assert.equal(request.encrypted, true);
    const h = tokenHeader(request.header);
    // Sealed (0x02) | AcceptorSubkey (0x04): MIT's acceptor put a subkey in the AP-REP.
    assert.deepEqual({ ...h, seq: undefined }, { tokId: "0504", flags: 0x06, filler: 0xff, ec: 0, rrc: 28, seq: undefined });
    assert.deepEqual(await gss.unwrapIov(a, request.header, request.data), { data: soap, encrypted: true, qop: 0 });
    const second = await gss.wrapIov(i, soap);
    assert.equal(tokenHeader(second.header).seq, h.seq + 1n);
    await gss.unwrapIov(a, second.header, second.data);

    const reply = await gss.wrapIov(a, Buffer.from("<reply/>"));
    const r = tokenHeader(reply.header);
    // SentByAcceptor (0x01) | Sealed | AcceptorSubkey; the acceptor counts from its own AP-REP seq-number.
    assert.deepEqual({ ...r, seq: undefined }, { tokId: "0504", flags: 0x07, filler: 0xff, ec: 0, rrc: 28, seq: undefined });
    assert.equal(reply.header.length, 60);
    assert.deepEqual((await gss.unwrapIov(i, reply.header, reply.data)).data, Buffer.from("<reply/>"));
    // Both sides protect with the same key: the acceptor subkey, aes256 (enctype 18).
    const [ik, ak] = [await gss.sessionKey(i), await gss.sessionKey(a)];
    assert.deepEqual(ik, ak);
    assert.equal(ik.key.length, 32);
    assert.equal(ik.enctype, 18);
    assert.equal(ik.oid, "1.2.840.113554.1.2.2.4.18");
    const lucid = await gss.lucid(a);
    assert.ok(lucid.acceptorSubkey && lucid.ctxKey);
    assert.deepEqual(lucid.acceptorSubkey, ik.key);
    assert.notDeepEqual(lucid.ctxKey, ik.key);
    assert.equal(lucid.initiator, false);
    assert.equal(BigInt(lucid.sendSeq), r.seq + 1n);
    // MIT's lucid recv_seq is the initiator's initial sequence number, not the next one expected.
    assert.equal(BigInt(lucid.recvSeq), h.seq);
  });

  it("plain gss_wrap is another layout (RRC 0, one token); MIT's plain unwrap takes an IOV token whole, unwrapIov refuses a plain one", async () => {
    const { i, a } = await contextPair();
    const body = Buffer.from("<s:Envelope>plain</s:Envelope>");
    const plain = await gss.wrap(i, body);
    const p = tokenHeader(plain);
    assert.deepEqual([p.tokId, p.flags, p.ec, p.rrc, plain.length], ["0504", 0x06, 0, 0, 16 + 16 + body.length + 16 + 12]);
    assert.deepEqual(await gss.unwrap(a, plain), body);
    // The WinRM layout read by plain gss_unwrap: header and data together, rotated back by RRC.
    const iov = await gss.wrapIov(i, body);
    assert.deepEqual(await gss.unwrap(a, Buffer.concat([iov.header, iov.data])), body);
    // A plain token cut at 60 bytes: MIT's IOV unwrap without a trailer wants RRC 28.
    const plain2 = await gss.wrap(i, body);
    const err = await rejects(gss.unwrapIov(a, plain2.subarray(0, 60), plain2.subarray(60)));
    assert.equal(err.major, GSS_MAJOR.DEFECTIVE_TOKEN);
  });

  it("without mutual authentication there is no acceptor subkey: flags 0x02 and 0x03, the initiator's subkey protects both ways", async () => {
    const { i, a, accepted } = await contextPair(GSS_FLAGS.CONF | GSS_FLAGS.INTEG | GSS_FLAGS.SEQUENCE);
    assert.equal(accepted.token, null);
    const request = await gss.wrapIov(i, Buffer.from("<x/>"));
    const reply = await gss.wrapIov(a, Buffer.from("<y/>"));
    assert.equal(tokenHeader(request.header).flags, 0x02);
    assert.equal(tokenHeader(reply.header).flags, 0x03);
    assert.deepEqual([request.header.length, tokenHeader(request.header).ec, tokenHeader(request.header).rrc], [60, 0, 28]);
    // Both directions count from the authenticator's seq-number.
    assert.equal(tokenHeader(reply.header).seq, tokenHeader(request.header).seq);
    const key = await gss.sessionKey(i);
    const lucid = await gss.lucid(i);
    assert.equal(lucid.acceptorSubkey, null);
    assert.deepEqual(lucid.ctxKey, key.key);
  });

  it("an altered wrap token is refused: a flipped bit in the ciphertext (header or data), the token header, or the direction bit", async () => {
    const { i, a } = await contextPair();
    const flipped = async (offset: number, bit = 0x01) => {
      const t = await gss.wrapIov(i, Buffer.from("<s:Envelope>secret body</s:Envelope>"));
      const whole = Buffer.concat([t.header, t.data]);
      whole[offset] ^= bit;
      return rejects(gss.unwrapIov(a, whole.subarray(0, 60), whole.subarray(60)));
    };
    for (const offset of [16, 40, 59, 60, 70]) {
      const err = await flipped(offset);
      assert.equal(err.major, GSS_MAJOR.BAD_MIC, `offset ${offset}: ${err.message}`);
      assert.equal(err.minorMessage, "Decrypt integrity check failed");
    }
    const ec = await flipped(4);
    assert.equal(ec.major, GSS_MAJOR.DEFECTIVE_TOKEN);
    const direction = await flipped(2, 0x01);
    assert.equal(direction.major, GSS_MAJOR.BAD_MIC);
    assert.equal(direction.minorMessage, "Packet was replayed in wrong direction");
    // The acceptor's own token sent back to it: the same direction check.
    const own = await gss.wrapIov(a, Buffer.from("<reply/>"));
    assert.equal((await rejects(gss.unwrapIov(a, own.header, own.data))).minorMessage, "Packet was replayed in wrong direction");
    // The refused tokens used up sequence numbers: MIT reports the gap on the next intact token
    // (GSS_S_GAP_TOKEN, a supplementary status python-gssapi raises), then goes on.
    const gap = await gss.wrapIov(i, Buffer.from("<gap/>"));
    assert.equal((await rejects(gss.unwrapIov(a, gap.header, gap.data))).major, GSS_MAJOR.GAP_TOKEN);
    const t = await gss.wrapIov(i, Buffer.from("<ok/>"));
    assert.deepEqual((await gss.unwrapIov(a, t.header, t.data)).data, Buffer.from("<ok/>"));
  });

  it("a replayed AP-REQ is refused by MIT's replay cache ('Request is a replay', KRB_AP_ERR_REPEAT), with a KRB-ERROR token when mutual was requested", async () => {
    const plain = await contextPair(GSS_FLAGS.CONF | GSS_FLAGS.INTEG);
    const err = await rejects(gss.accept(id("a"), plain.apReq));
    assert.equal(err.major, GSS_MAJOR.FAILURE);
    assert.equal(err.krb5Code, KRB5.KRB_AP_ERR_REPEAT);
    assert.equal(err.minorMessage, "Request is a replay");
    assert.ok(fs.readdirSync(realm.env.KRB5RCACHEDIR).some((f) => f.endsWith(".rcache2")), "the rcache2 file is in the realm's directory");
    // With MUTUAL the same, and MIT also hands back a KRB-ERROR token for the initiator
    // (RFC 2743 framing, TOK_ID 03 00), as an acceptor answering a replay would send it.
    const mutual = await contextPair();
    const refused = await rejects(gss.accept(id("a"), mutual.apReq));
    assert.equal(refused.krb5Code, KRB5.KRB_AP_ERR_REPEAT);
    assert.ok(refused.token, "an error token");
    assert.equal(refused.token[0], 0x60);
    assert.ok(refused.token.includes(Buffer.from("06092a864886f712010202" + "0300", "hex")));
  });

  it("channel bindings: a match sets GSS_C_CHANNEL_BOUND_FLAG, a mismatch is refused", async () => {
    const cb = Buffer.concat([Buffer.from("tls-server-end-point:"), Buffer.alloc(32, 0x11)]);
    const i = id("i");
    const first = await gss.initiate(i, SPN, { channelBindingAppData: cb });
    const bound = await gss.accept(id("a"), first.token!, { channelBindingAppData: cb });
    assert.equal(bound.flags & GSS_FLAGS.CHANNEL_BOUND, GSS_FLAGS.CHANNEL_BOUND);
    const other = Buffer.concat([Buffer.from("tls-server-end-point:"), Buffer.alloc(32, 0x22)]);
    const second = await gss.initiate(id("i"), SPN, { channelBindingAppData: other });
    const err = await rejects(gss.accept(id("a"), second.token!, { channelBindingAppData: cb }));
    assert.equal(err.major, GSS_MAJOR.BAD_BINDINGS);
    // No bindings from the initiator: accepted, without the flag.
    const none = await gss.initiate(id("i"), SPN);
    const unbound = await gss.accept(id("a"), none.token!, { channelBindingAppData: cb });
    assert.equal(unbound.flags & GSS_FLAGS.CHANNEL_BOUND, 0);
  });

  it("a stale keytab (ktadd again without -norandkey) makes accept fail; the new keytab accepts", async () => {
    const spn = `HTTP/stale.${realm.domain}`;
    await realm.addPrincipal(spn);
    const old = await realm.keytab(spn, path.join(realm.dir, "stale-old.keytab"));
    const fresh = await realm.keytab(spn, path.join(realm.dir, "stale-new.keytab"));
    const kvno = await realm.tool("/usr/bin/kvno", ["-c", aliceCache, spn]);
    assert.equal(kvno.stdout.trim(), `${spn}@CORP.TEST: kvno = 3`);
    const first = await gss.initiate(id("i"), spn);
    const err = await rejects(gss.accept(id("a"), first.token!, { keytab: old }));
    assert.equal(err.major, GSS_MAJOR.FAILURE);
    assert.match(err.minorMessage ?? "", /Request ticket server HTTP\/stale\.corp\.test@CORP\.TEST kvno 3 not found in keytab; keytab is likely out of date/);
    const again = await gss.initiate(id("i"), spn);
    assert.equal((await gss.accept(id("a"), again.token!, { keytab: fresh })).complete, true);
  });

  it("clock skew: a KDC 600 s ahead (krb5kdc -T 600) refuses a TGS request ('Clock skew too great'); MIT's kinit adapts to the KDC's time", async () => {
    const cc = await realm.kinit("alice", { password: "Alice-Pa55", ccache: path.join(realm.dir, "skew.cc") });
    await realm.stopKdc();
    await realm.startKdc({ timeOffsetSeconds: 600 });
    try {
      const kvno = await realm.tool("/usr/bin/kvno", ["-c", cc, SPN]);
      assert.equal(kvno.code, 1);
      assert.match(kvno.stderr, /kvno: Clock skew too great while getting credentials for HTTP\/web01\.corp\.test@CORP\.TEST/);
      assert.match(realm.kdcLog(), /TGS_REQ .* alice@CORP\.TEST for HTTP\/web01\.corp\.test@CORP\.TEST, Clock skew too great/);
      // The AS exchange passes: MIT's client takes the KDC's time from the PREAUTH_REQUIRED error
      // for its encrypted timestamp, so kinit cannot show KDC-side AS skew.
      await realm.kinit("alice", { password: "Alice-Pa55", ccache: path.join(realm.dir, "skew2.cc") });
    } finally {
      await realm.stopKdc();
      await realm.startKdc();
    }
  });

  it("clock skew at the acceptor: a sidecar under faketime 10 minutes ahead refuses the AP-REQ (KRB_AP_ERR_SKEW)", async () => {
    const late = await GssSidecar.start({ env: { ...realm.env, KRB5CCNAME: aliceCache }, keytab: httpKeytab, fakeTime: "+10m" });
    try {
      const first = await gss.initiate(id("i"), SPN);
      const err = await rejects(late.accept(id("a"), first.token!));
      assert.equal(err.krb5Code, KRB5.KRB_AP_ERR_SKEW);
      assert.equal(err.minorMessage, "Clock skew too great");
    } finally {
      await late.dispose();
    }
  });

  it("a ticket cache past its end: 1 s is the shortest lifetime kinit gets, and then initiating fails with 'Ticket expired'", async () => {
    const cc = await realm.kinit("alice", { password: "Alice-Pa55", ccache: path.join(realm.dir, "short.cc"), lifetime: "1s" });
    const klist = await realm.tool("/usr/bin/klist", ["-c", cc]);
    const [, start, end] = /(\d\d:\d\d:\d\d)\s+\S+\s+(\d\d:\d\d:\d\d)\s+krbtgt/.exec(klist.stdout)!;
    const seconds = (t: string) => t.split(":").reduce((s, x) => s * 60 + Number(x), 0);
    assert.equal((seconds(end) - seconds(start) + 86400) % 86400, 1);
    await new Promise((r) => setTimeout(r, 2100));
    const err = await rejects(gss.initiate(id("i"), SPN, { credentials: { ccache: cc } }));
    assert.equal(err.krb5Code, KRB5.KRB_AP_ERR_TKT_EXPIRED);
    assert.equal(err.minorMessage, "Ticket expired");
  });

  it("KDC down, then up: 'Cannot contact any KDC' while it is down, a ticket after it is back on the same port", async () => {
    await realm.stopKdc();
    await assert.rejects(realm.kinit("alice", { password: "Alice-Pa55", ccache: path.join(realm.dir, "down.cc") }), (err: unknown) => {
      assert.ok(err instanceof KerberosToolError);
      assert.match(err.result.stderr, /Cannot contact any KDC for realm 'CORP\.TEST' while getting initial credentials/);
      return true;
    });
    await realm.startKdc();
    await realm.kinit("alice", { password: "Alice-Pa55", ccache: path.join(realm.dir, "down.cc") });
  });

  it("the sidecar survives bad requests: an unknown context, a malformed token, an unknown principal", async () => {
    assert.equal((await rejects(gss.wrapIov("nosuch", Buffer.from("x")))).kind, "request");
    // Not RFC 2743 framing: MIT tries it as a raw (DCE-style) AP-REQ, whose decoding fails.
    assert.equal((await rejects(gss.accept(id("a"), Buffer.from("not a token")))).major, GSS_MAJOR.FAILURE);
    const unknown = await rejects(gss.initiate(id("i"), `HTTP/nosuch.${realm.domain}`));
    assert.equal(unknown.minorMessage, `Server HTTP/nosuch.corp.test@CORP.TEST not found in Kerberos database`);
    const { i } = await contextPair();
    await gss.close(i);
    assert.match((await rejects(gss.wrapIov(i, Buffer.from("x")))).message, /no context/);
    assert.equal((await gss.request("ping")).pid, gss.pid);
  });

  it("stop() leaves no process and no directory; a stopped realm's port is closed", async () => {
    const extra = await startRealm({ realm: "OTHER.TEST", address: "127.0.0.2" });
    const pid = Number(fs.readFileSync(path.join(extra.dir, "kdc.pid"), "utf8"));
    assert.ok(fs.existsSync(`/proc/${pid}`));
    await extra.stop();
    assert.equal(fs.existsSync(`/proc/${pid}`), false);
    assert.equal(fs.existsSync(extra.dir), false);
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: extra.kdcAddress, port: extra.port }, () => (s.destroy(), resolve(false)));
      s.on("error", () => resolve(true));
    });
    assert.equal(refused, true);
  });
});
