// Kerberos AES crypto (provider/transport/winrm/kerberos/crypto.ts) against published known answers:
// n-fold (RFC 3961 A.1, and MIT krb5 src/lib/crypto/crypto_tests/t_nfold.c), string-to-key and
// AES-CTS (RFC 3962 B), DK (MIT t_derive.c), decryption of MIT-made ciphertexts (t_decrypt.c) and
// keyed checksums (t_cksums.c); then round trips and tampering as properties (fast-check).
// The MIT values are from krb5/krb5 at commit 01f30a7f06110f54c5d69fdd7697347c102f5274 (t_nfold.c
// at 2b86fff827841f960a6f3fc61cbaba0895ad3ceb); the RFC 3962 values from its Appendix B text.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  aesCtsDecrypt,
  aesCtsEncrypt,
  checksum,
  checksumType,
  decrypt,
  deriveKey,
  encrypt,
  enctypeName,
  KerberosCryptoError,
  nfold,
  stringToKey,
  verifyChecksum,
  type EncryptionKey,
} from "../../provider/transport/winrm/kerberos/crypto";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const key = (etype: number, value: string): EncryptionKey => ({ etype, value: hex(value) });
const iterations = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

describe("Kerberos n-fold (RFC 3961 5.1)", () => {
  // RFC 3961 Appendix A.1, all eleven.
  const RFC3961_A1: Array<[string, number, string]> = [
    ["012345", 64, "be072631276b1955"],
    ["password", 56, "78a07b6caf85fa"],
    ["Rough Consensus, and Running Code", 64, "bb6ed30870b7f0e0"],
    ["password", 168, "59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e"],
    ["MASSACHVSETTS INSTITVTE OF TECHNOLOGY", 192, "db3b0d8f0b061e603282b308a50841229ad798fab9540c1b"],
    ["Q", 168, "518a54a215a8452a518a54a215a8452a518a54a215"],
    ["ba", 168, "fb25d531ae8974499f52fd92ea9857c4ba24cf297e"],
    ["kerberos", 64, "6b65726265726f73"],
    ["kerberos", 128, "6b65726265726f737b9b5b2b93132b93"],
    ["kerberos", 168, "8372c236344e5f1550cd0747e15d62ca7a5a3bcea4"],
    ["kerberos", 256, "6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4"],
  ];
  // MIT krb5 t_nfold.c, nfold_192.
  const MIT_192: Array<[string, string]> = [
    ["basch", "1aab6b42964b98b21f8cde2d2448ba3455d7862c9731643f"],
    ["eichin", "65696368696e4b732b4b1b43da1a5b995a58d2c6d0d2dcca"],
    ["sommerfeld", "2f7a98557c6ee4abadf4e71192dd442bd4ff5325a5def75c"],
  ];

  it("matches RFC 3961 Appendix A.1", () => {
    for (const [input, bits, expected] of RFC3961_A1) assert.equal(nfold(Buffer.from(input, "ascii"), bits / 8).toString("hex"), expected, `${bits}-fold("${input}")`);
  });

  it("matches MIT krb5's 192-fold vectors (t_nfold.c)", () => {
    for (const [input, expected] of MIT_192) assert.equal(nfold(Buffer.from(input, "ascii"), 24).toString("hex"), expected, `192-fold("${input}")`);
  });
});

describe("Kerberos string-to-key (RFC 3962 4, Appendix B)", () => {
  const X64 = "X".repeat(64);
  const X65 = "X".repeat(65);
  // password, salt, iteration count, 128-bit AES key, 256-bit AES key: RFC 3962 Appendix B.
  const B: Array<[string, string | Buffer, number, string, string]> = [
    ["password", "ATHENA.MIT.EDUraeburn", 1, "42263c6e89f4fc28b8df68ee09799f15", "fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161"],
    ["password", "ATHENA.MIT.EDUraeburn", 2, "c651bf29e2300ac27fa469d693bdda13", "a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff"],
    ["password", "ATHENA.MIT.EDUraeburn", 1200, "4c01cd46d632d01e6dbe230a01ed642a", "55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a"],
    ["password", hex("1234567878563412"), 5, "e9b23d52273747dd5c35cb55be619d8e", "97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31"],
    [X64, "pass phrase equals block size", 1200, "59d1bb789a828b1aa54ef9c2883f69ed", "89adee3608db8bc71f1bfbfe459486b05618b70cbae22092534e56c553ba4b34"],
    [X65, "pass phrase exceeds block size", 1200, "cb8005dc5f90179a7f02104c0018751d", "d78c5c9cb872a8c9dad4697f0bb5b2d21496c82beb2caeda2112fceea057401b"],
    ["\u{1d11e}", "EXAMPLE.COMpianist", 50, "f149c1f2e154a73452d43e7fe62a56e5", "4b6d9839f84406df1f09cc166db4b83c571848b784a3d6bdc346589a3e393f9e"],
  ];

  it("derives the Appendix B keys for both key sizes, with the iteration count from s2kparams", () => {
    for (const [password, salt, count, aes128, aes256] of B) {
      assert.equal(stringToKey(17, password, salt, iterations(count)).value.toString("hex"), aes128, `aes128, ${count} iterations, salt ${salt}`);
      assert.equal(stringToKey(18, password, salt, iterations(count)).value.toString("hex"), aes256, `aes256, ${count} iterations, salt ${salt}`);
    }
  });

  it("encodes the pass phrase as UTF-8 (the g-clef case is the bytes f0 9d 84 9e)", () => {
    assert.deepEqual(stringToKey(18, hex("f09d849e"), "EXAMPLE.COMpianist", iterations(50)), stringToKey(18, "\u{1d11e}", "EXAMPLE.COMpianist", iterations(50)));
  });

  it("uses 4096 iterations without s2kparams (RFC 3962 4), and returns a key of the enctype asked", () => {
    const k = stringToKey(18, "password", "ATHENA.MIT.EDUraeburn");
    assert.deepEqual(k, stringToKey(18, "password", "ATHENA.MIT.EDUraeburn", iterations(4096)));
    assert.notDeepEqual(k, stringToKey(18, "password", "ATHENA.MIT.EDUraeburn", iterations(4095)));
    assert.equal(k.etype, 18);
    assert.equal(stringToKey(17, "password", "ATHENA.MIT.EDUraeburn").value.length, 16);
  });

  it("refuses s2kparams that are not 4 bytes, zero (2^32 iterations) or a count above 2^20", () => {
    assert.throws(() => stringToKey(18, "p", "s", hex("0010")), /4-byte iteration count, not 2 bytes/);
    assert.throws(() => stringToKey(18, "p", "s", iterations(0)), /2\^32 PBKDF2 iterations .* refused/);
    assert.throws(() => stringToKey(18, "p", "s", iterations(0x100001)), /1048577 PBKDF2 iterations .* refused/);
  });
});

describe("AES-CBC with ciphertext stealing (RFC 3962 5, Appendix B)", () => {
  const K = hex("636869636b656e207465726979616b69");
  // RFC 3962 Appendix B: zero IV, the six inputs and outputs.
  const CTS: Array<[string, string]> = [
    ["4920776f756c64206c696b652074686520", "c6353568f2bf8cb4d8a580362da7ff7f97"],
    ["4920776f756c64206c696b65207468652047656e6572616c20476175277320", "fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5"],
    ["4920776f756c64206c696b65207468652047656e6572616c2047617527732043", "39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584"],
    [
      "4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c",
      "97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5",
    ],
    [
      "4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c20",
      "97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8",
    ],
    [
      "4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c20616e6420776f6e746f6e20736f75702e",
      "97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8",
    ],
  ];

  it("encrypts and decrypts the six Appendix B vectors (17 to 64 bytes)", () => {
    for (const [input, output] of CTS) {
      assert.equal(aesCtsEncrypt(K, hex(input)).toString("hex"), output, `${input.length / 2} bytes`);
      assert.equal(aesCtsDecrypt(K, hex(output)).toString("hex"), input, `${input.length / 2} bytes back`);
    }
  });

  it("is plain AES for exactly one block (the 32, 48 and 64-byte vectors above swap their last two blocks)", () => {
    const one = hex("4920776f756c64206c696b6520746865");
    assert.equal(aesCtsEncrypt(K, one).toString("hex"), "97687268d6ecccc0c07b25e25ecfe584"); // the first block of the vectors above
    assert.deepEqual(aesCtsDecrypt(K, aesCtsEncrypt(K, one)), one);
  });

  it("round-trips any length from one block up, with either key size", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 200 }), fc.boolean(), (data, big) => {
        const k = Buffer.alloc(big ? 32 : 16, 7);
        const plain = Buffer.from(data);
        const c = aesCtsEncrypt(k, plain);
        assert.equal(c.length, plain.length);
        assert.deepEqual(aesCtsDecrypt(k, c), plain);
      }),
      { numRuns: 200 },
    );
  });

  it("refuses less than one block", () => {
    assert.throws(() => aesCtsEncrypt(K, Buffer.alloc(15)), /at least one block/);
    assert.throws(() => aesCtsDecrypt(K, Buffer.alloc(0)), /at least one block/);
  });
});

describe("Kerberos key derivation DK (RFC 3961 5.1)", () => {
  // MIT krb5 t_derive.c: Kc, Ke, Ki (constants 0000000299, ...aa, ...55) for an AES-128 and an
  // AES-256 key; the base keys are RFC 3962 B's first string-to-key results.
  const AES128 = key(17, "42263c6e89f4fc28b8df68ee09799f15");
  const AES256 = key(18, "fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161");
  const T_DERIVE: Array<[EncryptionKey, string, string]> = [
    [AES128, "0000000299", "34280a382bc92769b2da2f9ef066854b"],
    [AES128, "00000002aa", "5b14fc4e250e14ddf9dccf1af6674f53"],
    [AES128, "0000000255", "4ed31063621684f09ae8d89991af3e8f"],
    [AES256, "0000000299", "bfab388bdcb238e9f9c98d6a878304f04d30c82556375ac507a7a852790f4674"],
    [AES256, "00000002aa", "c7cfd9cd75fe793a586a542d87e0d1396f1134a104bb1a9190b8c90ada3ddf37"],
    [AES256, "0000000255", "97151b4c76945063e2eb0529dc067d97d7bba90776d8126d91f34f3101aea8ba"],
  ];

  it("derives MIT's Kc, Ke and Ki for usage 2 (t_derive.c)", () => {
    for (const [base, constant, expected] of T_DERIVE) assert.equal(deriveKey(base, hex(constant)).value.toString("hex"), expected, `${base.etype} ${constant}`);
  });
});

describe("Kerberos encryption (RFC 3961 simplified profile, RFC 3962 AES)", () => {
  // MIT krb5 t_decrypt.c: plaintext, key usage, key, ciphertext made by MIT's krb5_c_encrypt.
  const T_DECRYPT: Array<[number, string, number, string, string]> = [
    [17, "", 0, "5a5c0f0ba54f3828b2195e66ca24a289", "49ff8e11c173d9583a3254fbe7b1f1df36c538e8416784a1672e6676"],
    [17, "1", 1, "98450e3f3baa13f5c99beb936981b06f", "f86742f537b35dc2174a4dbaa920faf9042090b065e1ebb1cad9a65394"],
    [17, "9 bytesss", 2, "9062430c8cda3388922e6d6a509f5b7a", "68fb9679601f45c78857b2bf820fd6e53eca8d42fd4b1d7024a09205abb7cd2ec26c355d2f"],
    [17, "13 bytes byte", 3, "033ee6502c54fd23e27791e987983827", "ec366d0327a933bf49330e650e49bc6b974637fe80bf532fe51795b4809718e6194724db948d1fd637"],
    [
      17,
      "30 bytes bytes bytes bytes byt",
      4,
      "dceeb70b3de76562e689226c76429148",
      "c96081032d5d8eeb7e32b4089f789d0faa481dea74c0f97cbf3146ddfcf8e800156ecb532fc203e30ff600b63b350939fece510f02d7ff1e7bac",
    ],
    [18, "", 0, "17f275f2954f2ed1f90c377ba7f4d6a369aa0136e0bf0c927ad6133c693759a9", "e5094c55ee7b38262e2b044280b069379a95bf95bd8376fb3281b435"],
    [18, "1", 1, "b9477e1ff0329c0050e20ce6c72d2dff27e8fe541ab0954429a9cb5b4f7b1e2a", "406150b97aeb76d43b36b62cc1ecdfbe6f40e95755e0beb5c27825f3a4"],
    [
      18,
      "9 bytesss",
      2,
      "b1ae4cd8462aff1677053cc9279aac30b796fb81ce21474dd3ddbcfea4ec76d7",
      "09957aa25fcaf88f7b39e4406e633012d5fea21853f6478da7065caef41fd454a40824eec5",
    ],
    [
      18,
      "13 bytes byte",
      3,
      "e5a72be9b7926c1225bafef9c1872e7ba4cdb2b17893d84abd90acdd8764d966",
      "d8f1aafeec84587cc3e700a774e56651a6d693e174ec4473b5e6d96f80297a653fb818ad893e719f96",
    ],
    [
      18,
      "30 bytes bytes bytes bytes byt",
      4,
      "f1c795e9248a09338d82c3f8d5b567040b0110736845041347235b1404231398",
      "d1137a4d634cfece924dbc3bf6790648bd5cff7de0e7b99460211d0daef3d79a295c688858f3b34b9cbd6eebae81daf6b734d4d498b6714f1c1d",
    ],
  ];

  it("decrypts MIT's ciphertexts for both enctypes and usages 0 to 4 (t_decrypt.c)", () => {
    for (const [etype, plaintext, usage, k, ciphertext] of T_DECRYPT) {
      assert.equal(decrypt(key(etype, k), usage, hex(ciphertext)).toString("latin1"), plaintext, `${etype} "${plaintext}"`);
    }
  });

  it("re-encrypts MIT's ciphertexts byte for byte given MIT's confounder", () => {
    for (const [etype, plaintext, usage, k, ciphertext] of T_DECRYPT) {
      const base = key(etype, k);
      const ke = deriveKey(base, Buffer.from([0, 0, 0, usage, 0xaa]));
      const confounder = aesCtsDecrypt(ke.value, hex(ciphertext).subarray(0, -12)).subarray(0, 16);
      assert.equal(encrypt(base, usage, Buffer.from(plaintext, "latin1"), confounder).toString("hex"), ciphertext, `${etype} "${plaintext}"`);
      // rapid7/metasploit-framework spec/lib/rex/proto/kerberos/crypto/aes256_cts_sha1_spec.rb
      // ("based off impacket") encrypts the last aes256 case with this confounder.
      if (etype === 18 && usage === 4) assert.equal(confounder.toString("hex"), "e45ca518b42e266ad98e165e706ffb60");
    }
  });

  it("round-trips any plaintext, of any length (0, 1, 15, 16, 17, 31, 32, 33 and more), under either enctype", () => {
    const lengths = fc.oneof(fc.constantFrom(0, 1, 15, 16, 17, 31, 32, 33), fc.integer({ min: 0, max: 300 }));
    fc.assert(
      fc.property(lengths, fc.constantFrom(17, 18), fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (length, etype, usage, bytes) => {
        const k: EncryptionKey = { etype, value: Buffer.from(bytes).subarray(0, etype === 17 ? 16 : 32) };
        const plain = Buffer.alloc(length, length & 0xff);
        const c = encrypt(k, usage, plain);
        assert.equal(c.length, length + 16 + 12);
        assert.deepEqual(decrypt(k, usage, c), plain);
      }),
      { numRuns: 150 },
    );
  });

  it("uses a fresh random confounder unless given one", () => {
    const k = key(18, "b1ae4cd8462aff1677053cc9279aac30b796fb81ce21474dd3ddbcfea4ec76d7");
    assert.notDeepEqual(encrypt(k, 3, Buffer.from("same")), encrypt(k, 3, Buffer.from("same")));
    const conf = Buffer.alloc(16, 1);
    assert.deepEqual(encrypt(k, 3, Buffer.from("same"), conf), encrypt(k, 3, Buffer.from("same"), conf));
    assert.throws(() => encrypt(k, 3, Buffer.from("x"), Buffer.alloc(8)), /confounder must be 16 bytes/);
  });

  it("decrypt refuses a ciphertext with any single bit flipped, before returning any plaintext", () => {
    // Every bit, of ciphertexts of plaintexts fast-check picks (0 to 40 bytes, either enctype).
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), fc.boolean(), (bytes, aes128) => {
        const k = aes128 ? key(17, "9062430c8cda3388922e6d6a509f5b7a") : key(18, "b1ae4cd8462aff1677053cc9279aac30b796fb81ce21474dd3ddbcfea4ec76d7");
        const c = encrypt(k, 24, Buffer.from(bytes));
        for (let bit = 0; bit < c.length * 8; bit++) {
          const bad = Buffer.from(c);
          bad[bit >> 3] ^= 1 << (bit & 7);
          assert.throws(() => decrypt(k, 24, bad), (e: Error) => e instanceof KerberosCryptoError && /integrity check failed/.test(e.message), `bit ${bit}`);
        }
      }),
      { numRuns: 8 },
    );
  });

  it("decrypt refuses another key usage, another key, and a ciphertext too short to hold a confounder and tag", () => {
    const k = key(18, "b9477e1ff0329c0050e20ce6c72d2dff27e8fe541ab0954429a9cb5b4f7b1e2a");
    const c = encrypt(k, 24, Buffer.from("x"));
    assert.throws(() => decrypt(k, 22, c), /integrity check failed \(key usage 22\)/);
    assert.throws(() => decrypt(key(18, "00".repeat(32)), 24, c), /integrity check failed/);
    assert.throws(() => decrypt(k, 24, c.subarray(0, 27)), /shorter than a confounder and its integrity tag/);
  });

  it("refuses every enctype but 17 and 18, naming it (RC4, DES and aes-sha2 are not supported), and keys of the wrong length", () => {
    for (const [etype, name] of [[23, "rc4-hmac"], [3, "des-cbc-md5"], [16, "des3-cbc-sha1"], [19, "aes128-cts-hmac-sha256-128"], [20, "aes256-cts-hmac-sha384-192"], [99, "enctype 99"]] as const) {
      assert.equal(enctypeName(etype), name);
      const refused = new RegExp(`enctype ${etype} \\(${name}\\) is not supported`);
      assert.throws(() => encrypt({ etype, value: Buffer.alloc(16) }, 1, Buffer.alloc(1)), refused);
      assert.throws(() => decrypt({ etype, value: Buffer.alloc(16) }, 1, Buffer.alloc(40)), refused);
      assert.throws(() => stringToKey(etype, "p", "s"), refused);
      assert.throws(() => checksumType(etype), refused);
    }
    assert.throws(() => encrypt({ etype: 18, value: Buffer.alloc(16) }, 1, Buffer.alloc(1)), /aes256-cts-hmac-sha1-96 key must be 32 bytes, not 16/);
    assert.throws(() => encrypt({ etype: 17, value: Buffer.alloc(32) }, 1, Buffer.alloc(1)), /aes128-cts-hmac-sha1-96 key must be 16 bytes, not 32/);
  });
});

describe("Kerberos checksums hmac-sha1-96-aes128/256 (RFC 3962)", () => {
  it("matches MIT's t_cksums.c values, under the checksum types 15 and 16", () => {
    const k128 = key(17, "9062430c8cda3388922e6d6a509f5b7a");
    const k256 = key(18, "b1ae4cd8462aff1677053cc9279aac30b796fb81ce21474dd3ddbcfea4ec76d7");
    assert.equal(checksum(k128, 3, Buffer.from("eight nine ten eleven twelve thirteen")).toString("hex"), "01a4b088d45628f6946614e3");
    assert.equal(checksum(k256, 4, Buffer.from("fourteen")).toString("hex"), "e08739e3279e2903ec8e3836");
    assert.deepEqual([checksumType(17), checksumType(18)], [15, 16]);
  });

  it("verifies in constant time and refuses another value, usage or length", () => {
    const k = key(18, "b1ae4cd8462aff1677053cc9279aac30b796fb81ce21474dd3ddbcfea4ec76d7");
    const good = hex("e08739e3279e2903ec8e3836");
    assert.equal(verifyChecksum(k, 4, Buffer.from("fourteen"), good), true);
    assert.equal(verifyChecksum(k, 5, Buffer.from("fourteen"), good), false);
    assert.equal(verifyChecksum(k, 4, Buffer.from("fifteen"), good), false);
    assert.equal(verifyChecksum(k, 4, Buffer.from("fourteen"), good.subarray(0, 11)), false);
  });
});
