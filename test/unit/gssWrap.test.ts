// RFC 4121 wrap tokens as WinRM frames them (provider/transport/winrm/kerberos/gssWrap.ts): the
// 60-byte header layout Windows' SSPI and MIT's gss_wrap_iov produce (research: 23-kerberos.md
// 2.2), EC 16 tokens as MS-KILE 3.4.5.4.1 describes them, and every refusal: tampering,
// replay, reordering, reflection, flags, and a header that disagrees with its encrypted copy.
import assert from "node:assert/strict";
import fc from "fast-check";
import { decrypt, encrypt, type EncryptionKey } from "../../provider/transport/winrm/kerberos/crypto";
import { GssSession, GssWrapError, KG_USAGE_ACCEPTOR_SEAL, KG_USAGE_INITIATOR_SEAL, WRAP_HEADER_LENGTH } from "../../provider/transport/winrm/kerberos/gssWrap";

const KEY256: EncryptionKey = { etype: 18, value: Buffer.from("f1c795e9248a09338d82c3f8d5b567040b0110736845041347235b1404231398", "hex") };
const KEY128: EncryptionKey = { etype: 17, value: Buffer.from("dceeb70b3de76562e689226c76429148", "hex") };

/** Both ends of one context: the initiator starts at 1000, the acceptor at 77 (as an authenticator and AP-REP would say). */
function pair(key = KEY256, acceptorSubkey = true) {
  const initiator = new GssSession({ role: "initiator", key, acceptorSubkey, sendSeq: 1000n, receiveSeq: 77n });
  const acceptor = new GssSession({ role: "acceptor", key, acceptorSubkey, sendSeq: 77n, receiveSeq: 1000n });
  return { initiator, acceptor };
}

const refused = (pattern: RegExp) => (e: unknown) => e instanceof GssWrapError && pattern.test(e.message);

/**
 * A token sealed as MS-KILE 3.4.5.4.1 describes it with EC 16: 16 filler bytes after the data,
 * the whole rotated right by RRC + EC = 44, so the header is 16 + 16 + 28 + 16 = 76 bytes and the
 * data part keeps the data's length. Built here from the crypto layer alone, not by GssSession.
 */
function ec16Token(key: EncryptionKey, fromAcceptor: boolean, acceptorSubkey: boolean, seq: bigint, data: Buffer, filler = Buffer.alloc(16, 0xff)) {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0x0504, 0);
  h[2] = (fromAcceptor ? 1 : 0) | 2 | (acceptorSubkey ? 4 : 0);
  h[3] = 0xff;
  h.writeUInt16BE(16, 4);
  h.writeBigUInt64BE(seq, 8);
  const c = encrypt(key, fromAcceptor ? KG_USAGE_ACCEPTOR_SEAL : KG_USAGE_INITIATOR_SEAL, Buffer.concat([data, filler, h]));
  const rotated = Buffer.concat([c.subarray(c.length - 44), c.subarray(0, c.length - 44)]);
  const outer = Buffer.from(h);
  outer.writeUInt16BE(28, 6);
  return { header: Buffer.concat([outer, rotated.subarray(0, 60)]), data: rotated.subarray(60) };
}

describe("RFC 4121 wrap tokens in WinRM's layout", () => {
  it("seals a message into a 60-byte header (05 04, flags, ff, EC 0, RRC 28, sequence) and data as long as the message", () => {
    const { initiator, acceptor } = pair();
    const soap = Buffer.from("<s:Envelope>...</s:Envelope>");
    const t = initiator.wrap(soap);
    assert.equal(WRAP_HEADER_LENGTH, 60);
    assert.equal(t.header.length, 60);
    assert.equal(t.data.length, soap.length);
    assert.equal(t.header.subarray(0, 16).toString("hex"), "050406ff0000001c00000000000003e8");
    const reply = acceptor.wrap(Buffer.from("reply"));
    assert.equal(reply.header.subarray(0, 16).toString("hex"), "050407ff0000001c000000000000004d");
    const noSubkey = pair(KEY256, false);
    assert.equal(noSubkey.initiator.wrap(soap).header[2], 0x02);
    assert.equal(noSubkey.acceptor.wrap(soap).header[2], 0x03);
  });

  it("lays the token out as RFC 4121 4.2.4 says: header | (C|H) rotated right by 28, C|H sealing data | header with RRC 0 under usage 24", () => {
    const { initiator } = pair(KEY128);
    const soap = Buffer.from("a message of some length, not a block multiple");
    const t = initiator.wrap(soap);
    const rotated = Buffer.concat([t.header.subarray(16), t.data]);
    const sealed = Buffer.concat([rotated.subarray(28), rotated.subarray(0, 28)]);
    const plain = decrypt(KEY128, 24, sealed);
    const copy = Buffer.from(t.header.subarray(0, 16));
    copy.writeUInt16BE(0, 6);
    assert.deepEqual(plain, Buffer.concat([soap, copy]));
    // The data part is the ciphertext at the data's own place: after the encrypted confounder.
    assert.deepEqual(t.data, sealed.subarray(16, 16 + soap.length));
  });

  it("round-trips messages of any length (0, 1, 15, 16, 17, 31, 32, 33 and more) in both directions, in order, under either enctype", () => {
    const lengths = fc.oneof(fc.constantFrom(0, 1, 15, 16, 17, 31, 32, 33), fc.integer({ min: 0, max: 400 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(lengths, fc.boolean()), { minLength: 1, maxLength: 6 }), fc.boolean(), fc.boolean(), (messages, aes128, subkey) => {
        const { initiator, acceptor } = pair(aes128 ? KEY128 : KEY256, subkey);
        for (const [length, toAcceptor] of messages) {
          const message = Buffer.alloc(length, 0x41 + (length % 26));
          const [from, to] = toAcceptor ? [initiator, acceptor] : [acceptor, initiator];
          const t = from.wrap(message);
          assert.equal(t.header.length, 60);
          assert.equal(t.data.length, length);
          assert.deepEqual(to.unwrap(t.header, t.data), message);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("refuses a token with any single bit flipped, in the header or in the data", () => {
    // Every bit of tokens for messages fast-check picks: sampling bits could miss the five reserved flags.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), fc.boolean(), (bytes, aes128) => {
        const key = aes128 ? KEY128 : KEY256;
        const message = Buffer.from(bytes);
        const t = pair(key).initiator.wrap(message);
        const whole = Buffer.concat([t.header, t.data]);
        const { acceptor } = pair(key);
        for (let bit = 0; bit < whole.length * 8; bit++) {
          const bad = Buffer.from(whole);
          bad[bit >> 3] ^= 1 << (bit & 7);
          assert.throws(() => acceptor.unwrap(bad.subarray(0, 60), bad.subarray(60)), (e: unknown) => e instanceof GssWrapError, `bit ${bit}`);
        }
        assert.deepEqual(acceptor.unwrap(t.header, t.data), message, "the untouched token still unwraps after the refusals");
      }),
      { numRuns: 8 },
    );
  });

  it("refuses a replayed token", () => {
    const { initiator, acceptor } = pair();
    const first = initiator.wrap(Buffer.from("one"));
    assert.deepEqual(acceptor.unwrap(first.header, first.data), Buffer.from("one"));
    assert.throws(() => acceptor.unwrap(first.header, first.data), refused(/sequence number 1000 was already received \(the next expected is 1001\): a replayed token/));
  });

  it("refuses tokens out of order (a later one before the next expected), and a refused token changes nothing", () => {
    const { initiator, acceptor } = pair();
    const first = initiator.wrap(Buffer.from("one"));
    const second = initiator.wrap(Buffer.from("two"));
    assert.throws(() => acceptor.unwrap(second.header, second.data), refused(/sequence number 1001 is ahead of the next expected 1000: a message is missing or out of order/));
    assert.deepEqual(acceptor.unwrap(first.header, first.data), Buffer.from("one"));
    assert.deepEqual(acceptor.unwrap(second.header, second.data), Buffer.from("two"));
    initiator.wrap(Buffer.from("three, lost"));
    const fourth = initiator.wrap(Buffer.from("four"));
    assert.throws(() => acceptor.unwrap(fourth.header, fourth.data), refused(/sequence number 1003 is ahead of the next expected 1002/));
  });

  it("refuses a token in its own direction (reflected back), as the wrong direction", () => {
    const { initiator, acceptor } = pair();
    const mine = initiator.wrap(Buffer.from("request"));
    assert.throws(() => initiator.unwrap(mine.header, mine.data), refused(/SentByAcceptor flag says it comes from the initiator, which is this side: wrong direction/));
    const theirs = acceptor.wrap(Buffer.from("reply"));
    assert.throws(() => acceptor.unwrap(theirs.header, theirs.data), refused(/comes from the acceptor, which is this side: wrong direction/));
  });

  it("refuses a token whose outer header differs from its encrypted copy: a reserved flag set, the sequence number rewritten to the expected one", () => {
    const { initiator, acceptor } = pair();
    const t = initiator.wrap(Buffer.from("request"));
    const flagged = Buffer.from(t.header);
    flagged[2] |= 0x80;
    assert.throws(() => acceptor.unwrap(flagged, t.data), refused(/header differs from the encrypted copy inside it/));
    // A later token whose outer sequence number claims to be the next one expected (1000 was lost).
    const later = initiator.wrap(Buffer.from("second request"));
    const renumbered = Buffer.from(later.header);
    renumbered.writeBigUInt64BE(1000n, 8);
    assert.throws(() => acceptor.unwrap(renumbered, later.data), refused(/header differs from the encrypted copy inside it/));
    assert.deepEqual(acceptor.unwrap(t.header, t.data), Buffer.from("request"));
  });

  it("accepts EC 16 tokens (76-byte header, rotated by RRC + EC as MS-KILE 3.4.5.4.1 says), whatever the filler bytes", () => {
    for (const length of [0, 1, 15, 16, 17, 33, 500]) {
      const { initiator, acceptor } = pair();
      const message = Buffer.alloc(length, 0x5a);
      const fromAcceptor = ec16Token(KEY256, true, true, 77n, message);
      assert.equal(fromAcceptor.header.length, 76);
      assert.equal(fromAcceptor.data.length, length);
      assert.deepEqual(initiator.unwrap(fromAcceptor.header, fromAcceptor.data), message);
      const fromInitiator = ec16Token(KEY256, false, true, 1000n, message, Buffer.alloc(16, 0));
      assert.deepEqual(acceptor.unwrap(fromInitiator.header, fromInitiator.data), message);
    }
  });

  it("refuses an EC 16 token framed as if EC were 0 (a header of the wrong length)", () => {
    const { initiator } = pair();
    const t = ec16Token(KEY256, true, true, 77n, Buffer.from("reply"));
    const whole = Buffer.concat([t.header, t.data]);
    assert.throws(() => initiator.unwrap(whole.subarray(0, 60), whole.subarray(60)), refused(/header is 60 bytes, but EC 16 and RRC 28 make it 76/));
  });

  it("refuses another token type, an unsealed token, a wrong AcceptorSubkey flag, a filler other than ff, an EC or RRC it does not use, and a short header", () => {
    const cases: Array<[string, (h: Buffer) => void, RegExp]> = [
      ["a MIC token's TOK_ID", (h) => h.writeUInt16BE(0x0404, 0), /TOK_ID is 0x0404, not a wrap token/],
      ["Sealed clear", (h) => (h[2] &= ~0x02), /not sealed \(the Sealed flag is clear\)/],
      ["AcceptorSubkey clear", (h) => (h[2] &= ~0x04), /AcceptorSubkey flag is clear, but this context uses acceptor subkey/],
      ["filler 0xfe", (h) => (h[3] = 0xfe), /filler byte is 0xfe, not 0xff/],
      ["EC 8", (h) => h.writeUInt16BE(8, 4), /EC is 8; this client accepts 0 or 16/],
      ["RRC 12", (h) => h.writeUInt16BE(12, 6), /RRC is 12; a sealed token without a trailer has RRC 28/],
    ];
    for (const [what, change, message] of cases) {
      const { initiator, acceptor } = pair();
      const t = initiator.wrap(Buffer.from("request"));
      const bad = Buffer.from(t.header);
      change(bad);
      assert.throws(() => acceptor.unwrap(bad, t.data), refused(message), what);
    }
    const { initiator, acceptor } = pair(KEY256, false);
    const t = initiator.wrap(Buffer.from("request"));
    const withSubkey = Buffer.from(t.header);
    withSubkey[2] |= 0x04;
    assert.throws(() => acceptor.unwrap(withSubkey, t.data), refused(/AcceptorSubkey flag is set, but this context has no acceptor subkey/));
    assert.throws(() => acceptor.unwrap(t.header.subarray(0, 10), t.data), refused(/header is 10 bytes, shorter than a token header/));
    assert.throws(() => acceptor.unwrap(t.header.subarray(0, 59), t.data), refused(/header is 59 bytes, but EC 0 and RRC 28 make it 60/));
  });

  it("refuses a token sealed under another key as an integrity failure, and never names key material", () => {
    const { initiator } = pair(KEY256);
    const { acceptor } = pair({ etype: 18, value: Buffer.alloc(32, 9) });
    const t = initiator.wrap(Buffer.from("request"));
    assert.throws(
      () => acceptor.unwrap(t.header, t.data),
      (e: unknown) => e instanceof GssWrapError && /integrity check failed/.test(e.message) && !e.message.includes(KEY256.value.toString("hex")) && !e.message.includes("0909"),
    );
  });

  it("counts sequence numbers from the caller's start values as 64-bit unsigned numbers, wrapping at 2^64", () => {
    const top = (1n << 64n) - 1n;
    const initiator = new GssSession({ role: "initiator", key: KEY128, acceptorSubkey: false, sendSeq: top, receiveSeq: 0n });
    const acceptor = new GssSession({ role: "acceptor", key: KEY128, acceptorSubkey: false, sendSeq: 0n, receiveSeq: top });
    const a = initiator.wrap(Buffer.from("last"));
    const b = initiator.wrap(Buffer.from("first again"));
    assert.equal(a.header.readBigUInt64BE(8), top);
    assert.equal(b.header.readBigUInt64BE(8), 0n);
    assert.deepEqual(acceptor.unwrap(a.header, a.data), Buffer.from("last"));
    assert.deepEqual(acceptor.unwrap(b.header, b.data), Buffer.from("first again"));
    assert.equal(initiator.nextSendSeq, 1n);
    assert.equal(acceptor.nextReceiveSeq, 1n);
    assert.throws(() => new GssSession({ role: "initiator", key: KEY128, acceptorSubkey: false, sendSeq: -1n, receiveSeq: 0n }), /sendSeq must be a 64-bit unsigned/);
    assert.throws(() => new GssSession({ role: "initiator", key: KEY128, acceptorSubkey: false, sendSeq: 0n, receiveSeq: 1n << 64n }), /receiveSeq must be a 64-bit unsigned/);
  });
});
