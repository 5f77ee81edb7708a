// Our RFC 4121 wrap tokens (provider/transport/winrm/kerberos/gssWrap.ts) judged by MIT, which
// shares no code with them: an MIT initiator and an MIT acceptor (the python3-gssapi sidecar)
// establish a context through the throw-away realm, the sidecar tells the key the context protects
// messages with, and our GssSession takes over one side's message stream. MIT's gss_unwrap_iov
// (the call pyspnego's unwrap_winrm makes) must accept what we wrap, and we must unwrap what MIT's
// gss_wrap_iov (pyspnego's wrap_winrm) produces, in WinRM's layout: a 60-byte header, then data as
// long as the plaintext. The crypto's known answers are in test/unit/kerberosCrypto.test.ts.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { EncryptionKey } from "../../provider/transport/winrm/kerberos/crypto";
import { GssSession, WRAP_HEADER_LENGTH } from "../../provider/transport/winrm/kerberos/gssWrap";
import { GSS_FLAGS, GSS_MAJOR, GssError, GssSidecar } from "../simhost/gssSidecar";
import { Realm, startRealm } from "../simhost/kdc";

const HOST = "web02.corp.test";
const SPN = `HTTP/${HOST}`;

/** SND_SEQ of a wrap token (RFC 4121 4.2.6.2: bytes 8-15 of the token header). */
const seqOf = (header: Buffer) => header.readBigUInt64BE(8);

/** Messages of the sizes that matter to CTS (one block, exact multiples, a partial last block) and one as large as a WinRM Send. */
const MESSAGES = [0, 1, 15, 16, 17, 31, 32, 33, 1000, 90_000].map((n, i) => Buffer.alloc(n, 0x41 + i));

describe("Kerberos wrap tokens: ours against MIT's gss_wrap_iov and gss_unwrap_iov", function () {
  this.timeout(60_000);
  let realm: Realm;
  let gss: GssSidecar;
  let gss128: GssSidecar;
  let contexts = 0;

  before(async () => {
    realm = await startRealm({ realm: "CORP.TEST" });
    await realm.addPrincipal("alice", "Alice-Pa55");
    await realm.addPrincipal(SPN);
    const keytab = await realm.keytab(SPN, path.join(realm.dir, "http.keytab"));
    const cache = await realm.kinit("alice", { password: "Alice-Pa55", ccache: path.join(realm.dir, "alice.cc") });
    gss = await GssSidecar.start({ env: { ...realm.env, KRB5CCNAME: cache }, keytab });
    // A client that asks for aes128 session keys only: the other enctype we support.
    const conf128 = path.join(realm.dir, "krb5-aes128.conf");
    fs.writeFileSync(conf128, fs.readFileSync(realm.env.KRB5_CONFIG, "utf8").replace("[libdefaults]\n", "[libdefaults]\n  default_tkt_enctypes = aes128-cts-hmac-sha1-96\n  default_tgs_enctypes = aes128-cts-hmac-sha1-96\n"));
    gss128 = await GssSidecar.start({ env: { ...realm.env, KRB5_CONFIG: conf128, KRB5CCNAME: `FILE:${path.join(realm.dir, "alice128.cc")}` }, keytab });
  });
  after(async () => {
    await gss?.dispose();
    await gss128?.dispose();
    await realm?.stop();
  });

  /** An established MIT initiator/acceptor pair, the key it protects messages with, and whether the acceptor sent a subkey. */
  async function mitPair(sidecar: GssSidecar, flags?: number, credentials?: { principal: string; password: string }) {
    const i = `i${++contexts}`;
    const a = `a${contexts}`;
    const first = await sidecar.initiate(i, SPN, { flags, credentials });
    const accepted = await sidecar.accept(a, first.token!);
    if (accepted.token) await sidecar.step(i, accepted.token);
    const { key, enctype } = await sidecar.sessionKey(i);
    assert.ok(enctype === 17 || enctype === 18, `an AES session key, not enctype ${enctype}`);
    const fromAcceptor = await sidecar.sessionKey(a);
    assert.ok(fromAcceptor.key.equals(key), "both MIT sides protect messages with the same key");
    return { i, a, key: { etype: enctype, value: key } as EncryptionKey };
  }

  /**
   * Our session in `role`, taking over from MIT's: MIT's `from` side wraps one message first, so
   * we learn its sequence number; both MIT sides have seen it. Returns our session and the next
   * sequence numbers of each direction.
   */
  async function takeOver(sidecar: GssSidecar, pair: { i: string; a: string; key: EncryptionKey }, acceptorSubkey: boolean) {
    const fromInitiator = await sidecar.wrapIov(pair.i, Buffer.from("hello from MIT's initiator"));
    const fromAcceptor = await sidecar.wrapIov(pair.a, Buffer.from("hello from MIT's acceptor"));
    assert.equal(fromInitiator.header.length, WRAP_HEADER_LENGTH);
    // Each MIT side reads the other's first message, so its receive window moves on.
    assert.equal((await sidecar.unwrapIov(pair.a, fromInitiator.header, fromInitiator.data)).data.toString(), "hello from MIT's initiator");
    assert.equal((await sidecar.unwrapIov(pair.i, fromAcceptor.header, fromAcceptor.data)).data.toString(), "hello from MIT's acceptor");
    return {
      initiatorSeq: seqOf(fromInitiator.header) + 1n,
      acceptorSeq: seqOf(fromAcceptor.header) + 1n,
      acceptorSubkey,
    };
  }

  for (const [label, flags, subkey] of [
    ["mutual authentication (acceptor subkey)", undefined, true],
    ["no mutual authentication (initiator subkey both ways)", GSS_FLAGS.CONF | GSS_FLAGS.INTEG | GSS_FLAGS.SEQUENCE, false],
  ] as const) {
    it(`MIT's acceptor unwraps what our initiator wraps, and we unwrap what it wraps: ${label}`, async () => {
      const pair = await mitPair(gss, flags);
      const seq = await takeOver(gss, pair, subkey);
      const ours = new GssSession({ role: "initiator", key: pair.key, acceptorSubkey: subkey, sendSeq: seq.initiatorSeq, receiveSeq: seq.acceptorSeq });
      for (const message of MESSAGES) {
        const wrapped = ours.wrap(message);
        assert.equal(wrapped.header.length, 60);
        assert.equal(wrapped.data.length, message.length);
        const unwrapped = await gss.unwrapIov(pair.a, wrapped.header, wrapped.data);
        assert.ok(unwrapped.data.equals(message), `MIT read back ${message.length} bytes`);
        assert.equal(unwrapped.encrypted, true);
        const reply = await gss.wrapIov(pair.a, Buffer.concat([Buffer.from("re: "), message]));
        assert.equal(reply.padding.length, 0);
        assert.ok(ours.unwrap(reply.header, reply.data).equals(Buffer.concat([Buffer.from("re: "), message])));
      }
    });

    it(`MIT's initiator unwraps what our acceptor wraps, and we unwrap what it wraps: ${label}`, async () => {
      const pair = await mitPair(gss, flags);
      const seq = await takeOver(gss, pair, subkey);
      const ours = new GssSession({ role: "acceptor", key: pair.key, acceptorSubkey: subkey, sendSeq: seq.acceptorSeq, receiveSeq: seq.initiatorSeq });
      for (const message of MESSAGES) {
        const request = await gss.wrapIov(pair.i, message);
        assert.ok(ours.unwrap(request.header, request.data).equals(message));
        const wrapped = ours.wrap(message);
        assert.ok((await gss.unwrapIov(pair.i, wrapped.header, wrapped.data)).data.equals(message));
      }
    });
  }

  it("aes128-cts-hmac-sha1-96 session keys: the same both ways", async () => {
    const pair = await mitPair(gss128, undefined, { principal: "alice@CORP.TEST", password: "Alice-Pa55" });
    assert.equal(pair.key.etype, 17);
    assert.equal(pair.key.value.length, 16);
    const seq = await takeOver(gss128, pair, true);
    const ours = new GssSession({ role: "initiator", key: pair.key, acceptorSubkey: true, sendSeq: seq.initiatorSeq, receiveSeq: seq.acceptorSeq });
    for (const message of MESSAGES) {
      const wrapped = ours.wrap(message);
      assert.ok((await gss128.unwrapIov(pair.a, wrapped.header, wrapped.data)).data.equals(message));
      const reply = await gss128.wrapIov(pair.a, message);
      assert.ok(ours.unwrap(reply.header, reply.data).equals(message));
    }
  });

  it("MIT refuses our token with a flipped bit (BAD_MIC) or a sequence number it has seen; ours refuses MIT's altered token", async () => {
    const pair = await mitPair(gss);
    const seq = await takeOver(gss, pair, true);
    const ours = new GssSession({ role: "initiator", key: pair.key, acceptorSubkey: true, sendSeq: seq.initiatorSeq, receiveSeq: seq.acceptorSeq });
    const good = ours.wrap(Buffer.from("Set-SmbServerConfiguration"));
    const altered = Buffer.from(good.data);
    altered[3] ^= 0x01;
    await assert.rejects(gss.unwrapIov(pair.a, good.header, altered), (err: unknown) => err instanceof GssError && err.major === GSS_MAJOR.BAD_MIC);
    assert.equal((await gss.unwrapIov(pair.a, good.header, good.data)).data.toString(), "Set-SmbServerConfiguration");
    // The same token again: MIT's sequence window calls it a duplicate.
    await assert.rejects(gss.unwrapIov(pair.a, good.header, good.data), GssError);
    const reply = await gss.wrapIov(pair.a, Buffer.from("ok"));
    const alteredHeader = Buffer.from(reply.header);
    alteredHeader[40] ^= 0x80;
    assert.throws(() => ours.unwrap(alteredHeader, reply.data), /integrity/);
    assert.equal(ours.unwrap(reply.header, reply.data).toString(), "ok");
  });
});
