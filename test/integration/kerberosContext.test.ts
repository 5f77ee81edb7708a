// Our Kerberos initiator context (provider/transport/winrm/kerberos/gssContext.ts) against MIT's
// acceptor, which shares no code with it: a service ticket from MIT's kinit and kvno in a FILE
// ccache (read with ccache.ts), our AP-REQ accepted by the python3-gssapi sidecar (raw krb5 and
// SPNEGO), MIT's AP-REP verified by us, and then the WinRM message sequence both ways through the
// GssSession the context yields. Also channel bindings, the authenticator's freshness, MIT's
// replay cache and clock-skew refusal, and every way a host's answer fails mutual authentication.
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as path from "node:path";
import { channelBindingsHash } from "../../provider/transport/winrm/channelBinding";
import { findCredential, readCcache, type Credential } from "../../provider/transport/winrm/kerberos/ccache";
import { decrypt } from "../../provider/transport/winrm/kerberos/crypto";
import { KerberosError } from "../../provider/transport/winrm/kerberos/errors";
import { CONTEXT_FLAGS, GssInitiatorContext, serviceTicketOf } from "../../provider/transport/winrm/kerberos/gssContext";
import {
  authDataApOptions,
  decodeApReq,
  decodeAuthenticator,
  decodeGssChecksum,
  decodeKrb5Token,
  decodeNegTokenInit,
  decodeNegTokenResp,
  encodeKrb5Token,
  encodeNegTokenResp,
  GssFlags,
  KERB_AP_OPTIONS_CBT,
  KeyUsage,
  NegState,
  Oid,
  TokId,
} from "../../provider/transport/winrm/kerberos/messages";
import { parsePrincipal } from "../../provider/transport/winrm/kerberos/principal";
import { GSS_FLAGS, GSS_MAJOR, GssSidecar, gssRefusal } from "../simhost/gssSidecar";
import { Realm, startRealm } from "../simhost/kdc";
import { kerberosRefusal } from "../unit/kerberosAsserts";

const HOST = "web03.corp.test";
const SPN = `HTTP/${HOST}`;

/** MIT's com_err codes (krb5_err.h) as a GSS minor status carries them. */
const KRB5 = { KRB_AP_ERR_REPEAT: -1765328350, KRB_AP_ERR_SKEW: -1765328347 };

/** Messages as WinRM sends them: empty, CTS edge sizes, a SOAP-sized one, a large Send. */
const MESSAGES = [0, 1, 16, 17, 1000, 70_000].map((n, i) => Buffer.alloc(n, 0x61 + i));

const rejects = gssRefusal;

describe("Kerberos initiator context: our AP-REQ and AP-REP check against MIT's acceptor", function () {
  this.timeout(60_000);
  let realm: Realm;
  let gss: GssSidecar;
  let keytab: string;
  let alice: Credential;
  let bob: Credential;
  let contexts = 0;
  const id = () => `a${++contexts}`;

  /** A service ticket for SPN from MIT's kinit + kvno in a FILE ccache, read back with ccache.ts. */
  async function serviceTicket(user: string, password: string): Promise<Credential> {
    const file = path.join(realm.dir, `${user}.cc`);
    await realm.kinit(user, { password, ccache: file });
    const kvno = await realm.tool("/usr/bin/kvno", ["-c", `FILE:${file}`, SPN]);
    assert.equal(kvno.code, 0, kvno.stderr);
    const cred = findCredential(readCcache(file), parsePrincipal(SPN, realm.realm), new Date());
    assert.ok(cred, `a ticket for ${SPN} in ${file}`);
    return cred;
  }

  before(async () => {
    realm = await startRealm({ realm: "CORP.TEST" });
    await realm.addPrincipal("alice", "Alice-Pa55");
    await realm.addPrincipal("bob", "Bob-Pa55");
    await realm.addPrincipal(SPN);
    keytab = await realm.keytab(SPN, path.join(realm.dir, "http.keytab"));
    gss = await GssSidecar.start({ env: realm.env, keytab });
    alice = await serviceTicket("alice", "Alice-Pa55");
    bob = await serviceTicket("bob", "Bob-Pa55");
  });
  after(async () => {
    await gss?.dispose();
    await realm?.stop();
  });

  /** The authenticator inside one of our tokens, decrypted with the ticket's session key. */
  function authenticatorOf(token: Buffer, cred: Credential) {
    const apReq = decodeApReq(decodeKrb5Token(token).message);
    return decodeAuthenticator(decrypt(cred.key, KeyUsage.AP_REQ_AUTHENTICATOR, apReq.authenticator.cipher));
  }

  /** Asserts a refusal's failure and code, and that its message holds no key or ticket bytes. */
  function refusal(fn: () => unknown, failure: KerberosError["failure"], message: RegExp, code?: number, cred: Credential = alice): KerberosError {
    return kerberosRefusal(fn, failure, message, code, [cred.key.value, cred.ticket.subarray(-32)]);
  }

  /** Seals several messages each way: ours unwrapped by MIT, MIT's by ours, in order. */
  async function conversation(session: ReturnType<GssInitiatorContext["acceptReply"]>, acceptor: string) {
    for (const message of MESSAGES) {
      const request = session.wrap(message);
      assert.equal(request.header.length, 60);
      assert.equal(request.data.length, message.length);
      const read = await gss.unwrapIov(acceptor, request.header, request.data);
      assert.ok(read.data.equals(message), `MIT read our ${message.length}-byte message`);
      assert.equal(read.encrypted, true);
      const reply = await gss.wrapIov(acceptor, Buffer.concat([Buffer.from("re:"), message]));
      assert.ok(session.unwrap(reply.header, reply.data).equals(Buffer.concat([Buffer.from("re:"), message])));
    }
  }

  it("the ticket comes from MIT's kinit and kvno through a FILE ccache", () => {
    assert.deepEqual(alice.client.components, ["alice"]);
    assert.deepEqual(alice.server.components, ["HTTP", HOST]);
    assert.ok(alice.key.etype === 18, `an aes256 session key, not ${alice.key.etype}`);
  });

  it("raw krb5 token: MIT accepts it as alice with mutual, replay, sequence, conf and integ; its AP-REP gives a session that talks both ways", async () => {
    const ctx = new GssInitiatorContext(serviceTicketOf(alice));
    const token = ctx.initialToken({ cbtAware: false });
    assert.equal(token[0], 0x60);
    assert.equal(decodeKrb5Token(token).tokId, TokId.AP_REQ);
    const a = id();
    const accepted = await gss.accept(a, token);
    assert.equal(accepted.complete, true);
    assert.equal(accepted.initiator, "alice@CORP.TEST");
    assert.equal(accepted.mech, Oid.KRB5);
    for (const flag of [GSS_FLAGS.MUTUAL, GSS_FLAGS.REPLAY, GSS_FLAGS.SEQUENCE, GSS_FLAGS.CONF, GSS_FLAGS.INTEG]) assert.equal(accepted.flags & flag, flag, `flag 0x${flag.toString(16)}`);
    assert.equal(accepted.flags & GSS_FLAGS.DELEG, 0, "no delegation");
    assert.equal(accepted.flags & GSS_FLAGS.CHANNEL_BOUND, 0);
    assert.ok(accepted.token, "MIT answers with an AP-REP");
    assert.equal(decodeKrb5Token(accepted.token).tokId, TokId.AP_REP);
    const session = ctx.acceptReply(accepted.token);
    // The key we protect messages with is the one MIT's acceptor uses (its subkey).
    const mitKey = await gss.sessionKey(a);
    const sent = authenticatorOf(token, alice);
    assert.equal(session.nextSendSeq, BigInt(sent.seqNumber!));
    assert.ok(sent.seqNumber! >= 1 && sent.seqNumber! < 2 ** 30);
    assert.ok(!mitKey.key.equals(sent.subkey!.keyvalue), "MIT chose an acceptor subkey of its own");
    await conversation(session, a);
    // A context completes once.
    assert.throws(() => ctx.acceptReply(accepted.token), /already complete/);
  });

  it("SPNEGO NegTokenInit (MS-KRB5, KRB5): MIT accepts it and answers in SPNEGO; the NegTokenResp gives a session that talks both ways", async () => {
    const ctx = new GssInitiatorContext(serviceTicketOf(alice));
    const token = ctx.initialToken({ cbtAware: false, spnego: true });
    const init = decodeNegTokenInit(token);
    assert.deepEqual(init.mechTypes, [Oid.MS_KRB5, Oid.KRB5]);
    assert.equal(decodeKrb5Token(init.mechToken!).tokId, TokId.AP_REQ);
    const a = id();
    const accepted = await gss.accept(a, token);
    assert.equal(accepted.complete, true);
    assert.equal(accepted.initiator, "alice@CORP.TEST");
    assert.ok(accepted.token);
    const resp = decodeNegTokenResp(accepted.token);
    assert.equal(resp.negState, NegState.ACCEPT_COMPLETED);
    assert.equal(resp.supportedMech, Oid.MS_KRB5, "MIT picks our first mechanism");
    assert.equal(resp.mechListMIC, undefined, "no MIC round when our first mechanism is taken");
    const session = ctx.acceptReply(accepted.token);
    await conversation(session, a);
  });

  it("either reply form for either request form: the raw AP-REP inside a NegTokenResp, and a SPNEGO reject carrying a KRB-ERROR", async () => {
    const ctx = new GssInitiatorContext(serviceTicketOf(alice));
    const token = ctx.initialToken({ cbtAware: false });
    const a = id();
    const accepted = await gss.accept(a, token);
    const wrapped = encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED, supportedMech: Oid.KRB5, responseToken: accepted.token! });
    await conversation(ctx.acceptReply(wrapped), a);
    // The same AP-REQ again: MIT's replay cache refuses it with a KRB-ERROR, here inside a reject.
    const err = await rejects(gss.accept(id(), token));
    const rejected = encodeNegTokenResp({ negState: NegState.REJECT, responseToken: err.token! });
    const second = new GssInitiatorContext(serviceTicketOf(alice));
    second.initialToken({ cbtAware: false });
    refusal(() => second.acceptReply(rejected), "replay", /KRB_AP_ERR_REPEAT \(34\) from HTTP\/web03\.corp\.test@CORP\.TEST/, 34);
    const bare = new GssInitiatorContext(serviceTicketOf(alice));
    bare.initialToken({ cbtAware: false });
    refusal(() => bare.acceptReply(encodeNegTokenResp({ negState: NegState.REJECT })), "protocol", /rejected Kerberos .* without saying why/);
  });

  it("channel bindings: MIT binds the context (GSS_C_CHANNEL_BOUND_FLAG) for the same tls-server-end-point data and refuses other data; the authenticator says KERB_AP_OPTIONS_CBT", async () => {
    const appData = Buffer.concat([Buffer.from("tls-server-end-point:"), crypto.createHash("sha256").update("the host's certificate").digest()]);
    const ctx = new GssInitiatorContext(serviceTicketOf(alice));
    const token = ctx.initialToken({ bindingsHash: channelBindingsHash(appData), cbtAware: true });
    const auth = authenticatorOf(token, alice);
    assert.equal(authDataApOptions(auth.authorizationData!), KERB_AP_OPTIONS_CBT);
    const cksum = decodeGssChecksum(auth.cksum!);
    assert.ok(cksum.bindingsHash.equals(channelBindingsHash(appData)));
    assert.equal(cksum.flags, CONTEXT_FLAGS);
    assert.equal(cksum.flags, GssFlags.MUTUAL | GssFlags.REPLAY | GssFlags.SEQUENCE | GssFlags.CONF | GssFlags.INTEG);
    const a = id();
    const bound = await gss.accept(a, token, { channelBindingAppData: appData });
    assert.equal(bound.flags & GSS_FLAGS.CHANNEL_BOUND, GSS_FLAGS.CHANNEL_BOUND);
    await conversation(ctx.acceptReply(bound.token), a);

    // Another certificate's binding (a man in the middle's TLS session): refused.
    const other = Buffer.concat([Buffer.from("tls-server-end-point:"), crypto.createHash("sha256").update("another certificate").digest()]);
    const mitm = new GssInitiatorContext(serviceTicketOf(alice)).initialToken({ bindingsHash: channelBindingsHash(other), cbtAware: true });
    const err = await rejects(gss.accept(id(), mitm, { channelBindingAppData: appData }));
    assert.equal(err.major, GSS_MAJOR.BAD_BINDINGS);

    // Without bindings and not CBT-aware: Bnd is zeros, no authorization data, and an acceptor
    // with bindings lets it pass unbound (what Strict must refuse by requiring the bound flag).
    const plain = new GssInitiatorContext(serviceTicketOf(alice)).initialToken({ cbtAware: false });
    const plainAuth = authenticatorOf(plain, alice);
    assert.equal(plainAuth.authorizationData, undefined);
    assert.ok(decodeGssChecksum(plainAuth.cksum!).bindingsHash.equals(Buffer.alloc(16)));
    assert.equal((await gss.accept(id(), plain, { channelBindingAppData: appData })).flags & GSS_FLAGS.CHANNEL_BOUND, 0);

    // CBT-aware without bindings over plain HTTP (the acceptor has none either): accepted.
    const aware = new GssInitiatorContext(serviceTicketOf(alice));
    const a2 = id();
    const ok = await gss.accept(a2, aware.initialToken({ cbtAware: true }));
    assert.equal(ok.complete, true);
    await conversation(aware.acceptReply(ok.token), a2);
  });

  it("mutual authentication: a 200 without a token, an AP-REP from another context, a forged AP-REP, a tampered AP-REP and a KRB-ERROR are each refused", async () => {
    const ctx = () => {
      const c = new GssInitiatorContext(serviceTicketOf(alice));
      return { c, token: c.initialToken({ cbtAware: false }) };
    };
    // No token on the 200.
    const none = ctx();
    for (const empty of [null, Buffer.alloc(0)]) {
      refusal(() => none.c.acceptReply(empty), "mutualAuthFailed", /^the host answered without proving it holds the key of HTTP\/web03\.corp\.test@CORP\.TEST \(no AP-REP\): refused before anything was sent$/);
    }
    // An accept-completed NegTokenResp without a responseToken is no proof either.
    refusal(() => none.c.acceptReply(encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED, supportedMech: Oid.KRB5 })), "mutualAuthFailed", /no AP-REP/);

    // A genuine AP-REP, but for another authenticator under the same session key (a replayed reply).
    const first = ctx();
    const second = ctx();
    const replyToSecond = await gss.accept(id(), second.token);
    refusal(() => first.c.acceptReply(replyToSecond.token), "mutualAuthFailed", /answers another authenticator \(ctime\/cusec differ from ours/);
    // An AP-REP under another session key (bob's ticket to the same host).
    const bobs = new GssInitiatorContext(serviceTicketOf(bob));
    const bobReply = await gss.accept(id(), bobs.initialToken({ cbtAware: false }));
    const third = ctx();
    refusal(() => third.c.acceptReply(bobReply.token), "mutualAuthFailed", /does not decrypt under the ticket's session key/);
    // Every bit of the sealed part matters: a tampered AP-REP.
    const fourth = ctx();
    const reply = await gss.accept(id(), fourth.token);
    const tampered = Buffer.from(reply.token!);
    tampered[tampered.length - 20] ^= 0x01;
    refusal(() => fourth.c.acceptReply(tampered), "mutualAuthFailed", /does not decrypt under the ticket's session key/);
    // The untampered reply still completes the context: the refusal changed nothing.
    assert.ok(fourth.c.acceptReply(reply.token));
    // A KRB-ERROR (MIT's answer to a replayed AP-REQ).
    const fifth = ctx();
    await gss.accept(id(), fifth.token);
    const err = await rejects(gss.accept(id(), fifth.token));
    assert.ok(err.token);
    assert.equal(decodeKrb5Token(err.token).tokId, TokId.KRB_ERROR);
    refusal(() => fifth.c.acceptReply(err.token), "replay", /^KRB_AP_ERR_REPEAT \(34\) from HTTP\/web03\.corp\.test@CORP\.TEST: the host has seen this authenticator before/, 34);
    // Our own AP-REQ reflected back is no AP-REP.
    const sixth = ctx();
    refusal(() => sixth.c.acceptReply(sixth.token), "mutualAuthFailed", /another AP-REQ, not an AP-REP/);
    // Garbage.
    refusal(() => sixth.c.acceptReply(Buffer.from("not a token at all")), "mutualAuthFailed", /is not a Kerberos AP-REP/);
    refusal(() => sixth.c.acceptReply(encodeKrb5Token(TokId.AP_REP, Buffer.from([0x6f, 0x00]))), "mutualAuthFailed", /AP-REP is malformed|not a Kerberos AP-REP/);
  });

  it("replay: MIT refuses the same AP-REQ bytes in a second acceptor context ('Request is a replay'); two tokens never share an authenticator", async () => {
    const ctx = new GssInitiatorContext(serviceTicketOf(alice));
    const token = ctx.initialToken({ cbtAware: false });
    assert.equal((await gss.accept(id(), token)).complete, true);
    const err = await rejects(gss.accept(id(), token));
    assert.equal(err.krb5Code, KRB5.KRB_AP_ERR_REPEAT);
    assert.equal(err.minorMessage, "Request is a replay");

    const tokens = Array.from({ length: 20 }, () => ctx.initialToken({ cbtAware: false }));
    const auths = tokens.map((t) => authenticatorOf(t, alice));
    const times = auths.map((x) => `${x.ctime.getTime()}.${x.cusec}`);
    assert.equal(new Set(times).size, tokens.length, "ctime/cusec differ");
    assert.equal(new Set(auths.map((x) => x.subkey!.keyvalue.toString("hex"))).size, tokens.length, "subkeys differ");
    assert.equal(new Set(auths.map((x) => x.seqNumber)).size, tokens.length, "sequence numbers differ");
    for (let i = 1; i < auths.length; i++) {
      const before = auths[i - 1].ctime.getTime() * 1000 + auths[i - 1].cusec;
      assert.ok(auths[i].ctime.getTime() * 1000 + auths[i].cusec > before, "each authenticator is later than the one before");
    }
    // Every one of them is fresh to MIT; the context answers the latest.
    const last = id();
    const accepted = await gss.accept(last, tokens[tokens.length - 1]);
    await conversation(ctx.acceptReply(accepted.token), last);
  });

  it("clock skew: an acceptor 10 minutes ahead (faketime) refuses our AP-REQ, and its KRB-ERROR is reported as clockSkew with both times", async () => {
    const late = await GssSidecar.start({ env: realm.env, keytab, fakeTime: "+10m" });
    try {
      const ctx = new GssInitiatorContext(serviceTicketOf(alice));
      const err = await rejects(late.accept(id(), ctx.initialToken({ cbtAware: false })));
      assert.equal(err.krb5Code, KRB5.KRB_AP_ERR_SKEW);
      assert.equal(err.minorMessage, "Clock skew too great");
      assert.ok(err.token, "MIT sends a KRB-ERROR when mutual authentication was asked");
      const e = refusal(() => ctx.acceptReply(err.token), "clockSkew", /^KRB_AP_ERR_SKEW \(37\) from HTTP\/web03\.corp\.test@CORP\.TEST: the clocks differ by more than the allowed skew: the host's time is (\S+), this machine's (\S+) \((\d+) s apart\); synchronise/, 37);
      const [, hostTime, ourTime, apart] = /host's time is (\S+), this machine's (\S+) \((\d+) s apart\)/.exec(e.message)!;
      assert.ok(Math.abs(Date.parse(hostTime) - Date.now() - 600_000) < 30_000, `the host's time ${hostTime} is 10 minutes ahead`);
      assert.ok(Math.abs(Date.parse(ourTime) - Date.now()) < 30_000);
      assert.ok(Math.abs(Number(apart) - 600) < 30, `${apart} s apart`);
    } finally {
      await late.dispose();
    }
  });
});
