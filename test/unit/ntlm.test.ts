// NTLM primitives against the published test vectors: MD4 (RFC 1320), RC4 (RFC 6229), and the
// NTLMv2 example of MS-NLMP 4.2.4 (keys, responses, sealing in both directions).
import assert from "node:assert/strict";
import { authenticateMessage, AV_CHANNEL_BINDINGS, CLIENT_FLAGS, Flags, negotiateMessage, NtlmChallengeRefused, NtlmSession, ntHash, ntowfv2, parseChallenge, splitAccount } from "../../provider/transport/winrm/ntlm";
import { acceptAuthenticate, challengeMessage, clientAvPairs, parseAuthenticate } from "../simhost/ntlmAcceptor";
import { Rc4 } from "../../provider/transport/winrm/rc4";

const hex = (b: Buffer) => b.toString("hex");
const SERVER_CHALLENGE = Buffer.from("0123456789abcdef", "hex");
// MS-NLMP 4.2.4: NetBIOS domain "Domain", computer "Server".
const TARGET_INFO = Buffer.from("02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000", "hex");
const EXPORTED = Buffer.alloc(16, 0x55);

function specExample() {
  const challenge = parseChallenge(challengeMessage(CLIENT_FLAGS, SERVER_CHALLENGE, TARGET_INFO));
  return authenticateMessage({
    account: "Domain\\User",
    password: "Password",
    challenge,
    clientChallenge: Buffer.alloc(8, 0xaa),
    exportedSessionKey: EXPORTED,
    timestamp: Buffer.alloc(8),
  });
}

describe("MD4 (RFC 1320 A.5) and the NT hash", () => {
  it("matches the RFC vectors and MS-NLMP's NT hash of 'Password'", () => {
    assert.equal(hex(ntHash("")), "31d6cfe0d16ae931b73c59d7e0c089c0");
    assert.equal(hex(ntHash("Password")), "a4f49c406510bdcab6824ee7c30fd852");
  });
});

describe("RC4 (RFC 6229)", () => {
  it("produces the keystream of the 40-bit and 128-bit keys", () => {
    assert.equal(hex(new Rc4(Buffer.from("0102030405", "hex")).update(Buffer.alloc(16))), "b2396305f03dc027ccc3524a0a1118a8");
    assert.equal(hex(new Rc4(Buffer.from("0102030405060708090a0b0c0d0e0f10", "hex")).update(Buffer.alloc(16))), "9ac7cc9a609d1ef7b2932899cde41b97");
  });

  it("continues one keystream across calls", () => {
    const r = new Rc4(Buffer.from("0102030405", "hex"));
    assert.equal(hex(Buffer.concat([r.update(Buffer.alloc(8)), r.update(Buffer.alloc(8))])), "b2396305f03dc027ccc3524a0a1118a8");
  });
});

describe("NTLMv2 (MS-NLMP 4.2.4)", () => {
  it("derives NTOWFv2, NTProofStr, the session base key and the encrypted session key", () => {
    assert.equal(hex(ntowfv2("User", "Domain", "Password")), "0c868a403bfd7a93a3001ef22ef02e3f");
    const a = specExample();
    assert.equal(hex(a.ntProofStr), "68cd0ab851e51c96aabc927bebef6a1c");
    assert.equal(hex(a.sessionBaseKey), "8de40ccadbc14a82f15cb0ad0de95ca3");
    assert.equal(hex(a.encryptedRandomSessionKey), "c5dad2544fc9799094ce1ce90bc9d03e");
    const f = parseAuthenticate(a.message);
    assert.equal(hex(f.lmResponse), "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa");
    assert.deepEqual([f.user, f.domain], ["User", "Domain"]);
  });

  it("seals 'Plaintext' as the specification does, in both directions", () => {
    const client = specExample().session;
    const c = client.seal(Buffer.from("Plaintext", "utf16le"));
    assert.equal(hex(c.sealed), "54e50165bf1936dc996020c1811b0f06fb5f");
    assert.equal(hex(c.signature), "010000007fb38ec5c55d497600000000");
    const server = new NtlmSession(EXPORTED, "server");
    const s = server.seal(Buffer.from("Plaintext", "utf16le"));
    assert.equal(hex(s.sealed), "160871b730ba74e946c453d7465b54278dd0");
    assert.equal(hex(s.signature), "01000000b298b847ce7c580700000000");
  });

  it("the acceptor recovers the session from the password, and refuses a wrong one", () => {
    const a = specExample();
    const fields = parseAuthenticate(a.message);
    assert.equal(acceptAuthenticate(fields, "wrong", SERVER_CHALLENGE), null);
    const server = acceptAuthenticate(fields, "Password", SERVER_CHALLENGE)!;
    const sealed = a.session.seal(Buffer.from("hello over WinRM"));
    assert.equal(server.unseal(sealed.sealed, sealed.signature).toString(), "hello over WinRM");
    const reply = server.seal(Buffer.from("reply"));
    assert.equal(a.session.unseal(reply.sealed, reply.signature).toString(), "reply");
  });

  it("rejects a tampered sealed message", () => {
    const a = specExample();
    const server = acceptAuthenticate(parseAuthenticate(a.message), "Password", SERVER_CHALLENGE)!;
    const m = a.session.seal(Buffer.from("Set-SmbServerConfiguration"));
    m.sealed[3] ^= 0x01;
    assert.throws(() => server.unseal(m.sealed, m.signature), /does not verify/);
  });

  it("uses zero LMv2 when the server sends a timestamp, and refuses servers without sealing", () => {
    const withTime = Buffer.concat([Buffer.from("07000800", "hex"), Buffer.alloc(8, 1), TARGET_INFO]);
    const a = authenticateMessage({ account: "u", password: "p", challenge: parseChallenge(challengeMessage(CLIENT_FLAGS, SERVER_CHALLENGE, withTime)) });
    assert.ok(parseAuthenticate(a.message).lmResponse.equals(Buffer.alloc(24)));
    const weak = parseChallenge(challengeMessage(0x00000201, SERVER_CHALLENGE, TARGET_INFO));
    assert.throws(() => authenticateMessage({ account: "u", password: "p", challenge: weak }), /NTLMSSP_NEGOTIATE_SEAL/);
  });

  // Each flag withheld alone: the refusal is a typed error naming it, before any response is built.
  for (const [name, flag] of [
    ["NTLMSSP_NEGOTIATE_KEY_EXCH", Flags.KEY_EXCH],
    ["NTLMSSP_NEGOTIATE_SIGN", Flags.SIGN],
    ["NTLMSSP_NEGOTIATE_SEAL", Flags.SEAL],
  ] as const) {
    it(`refuses a challenge that does not grant ${name}, naming it`, () => {
      const withheld = parseChallenge(challengeMessage(CLIENT_FLAGS & ~flag, SERVER_CHALLENGE, TARGET_INFO));
      assert.throws(
        () => authenticateMessage({ account: "u", password: "p", challenge: withheld }),
        (err: unknown) => err instanceof NtlmChallengeRefused && err.missing.length === 1 && err.missing[0] === name,
      );
    });
  }

  it("sends a UPN whole as UserName with an empty DomainName, and splits DOMAIN\\user", () => {
    assert.deepEqual(splitAccount("CORP\\admin"), { user: "admin", domain: "CORP" });
    assert.deepEqual(splitAccount("john.doe@corp.example"), { user: "john.doe@corp.example", domain: "" });
    assert.deepEqual(splitAccount("admin"), { user: "admin", domain: "" });
    const a = authenticateMessage({ account: "john.doe@corp.example", password: "Password", challenge: parseChallenge(challengeMessage(CLIENT_FLAGS, SERVER_CHALLENGE, TARGET_INFO)) });
    const f = parseAuthenticate(a.message);
    assert.deepEqual([f.user, f.domain], ["john.doe@corp.example", ""]);
    // NTOWFv2 over exactly those fields: the acceptor that hashes them as sent recovers the session.
    assert.ok(acceptAuthenticate(f, "Password", SERVER_CHALLENGE));
    assert.equal(negotiateMessage().readUInt32LE(12), CLIENT_FLAGS);
  });

  it("puts the channel binding hash in the NTLMv2 client challenge as MsvAvChannelBindings, and nothing without one", () => {
    const challenge = parseChallenge(challengeMessage(CLIENT_FLAGS, SERVER_CHALLENGE, TARGET_INFO));
    const binding = Buffer.alloc(16, 0x5a);
    const bound = parseAuthenticate(authenticateMessage({ account: "u", password: "p", challenge, channelBindings: binding }).message);
    assert.ok(clientAvPairs(bound).get(AV_CHANNEL_BINDINGS)?.equals(binding));
    // The server's pairs are kept, in order, before the new one.
    assert.deepEqual([...clientAvPairs(bound).keys()], [2, 1, AV_CHANNEL_BINDINGS]);
    // NTProofStr covers the pair: the acceptor still verifies the response.
    assert.ok(acceptAuthenticate(bound, "p", SERVER_CHALLENGE));
    const unbound = parseAuthenticate(authenticateMessage({ account: "u", password: "p", challenge }).message);
    assert.equal(clientAvPairs(unbound).get(AV_CHANNEL_BINDINGS), undefined);
  });
});
