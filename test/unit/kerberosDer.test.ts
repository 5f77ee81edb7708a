// The strict DER codec under the Kerberos messages (provider/transport/winrm/kerberos/der.ts):
// X.690 encodings of each type against hand-worked bytes, round trips over random values
// (fast-check), and the refusals that make it strict: truncated, trailing bytes, indefinite and
// non-minimal lengths, lengths past the buffer, and each type's own rules.
import assert from "node:assert/strict";
import fc from "fast-check";
import * as der from "../../provider/transport/winrm/kerberos/der";
import { DerError, Tag } from "../../provider/transport/winrm/kerberos/der";

const hex = (b: Buffer) => b.toString("hex");
const bytes = (h: string) => Buffer.from(h.replace(/\s+/g, ""), "hex");
const whole = (b: Buffer, tag: number) => der.decodeWhole(b, tag, "value");

/** Asserts a DerError whose message matches. */
function refuses(f: () => unknown, message: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof DerError && message.test(e.message), `expected a DerError matching ${message}`);
}

describe("Kerberos DER: encodings (X.690)", () => {
  it("INTEGER: minimal two's complement over the whole Int32 and UInt32 ranges", () => {
    const cases: [number, string][] = [
      [0, "020100"],
      [5, "020105"],
      [127, "02017f"],
      [128, "02020080"],
      [256, "02020100"],
      [-1, "0201ff"],
      [-128, "020180"],
      [-129, "0202ff7f"],
      [-2147483648, "020480000000"],
      [2147483647, "02047fffffff"],
      [4294967295, "020500ffffffff"],
    ];
    for (const [v, h] of cases) {
      assert.equal(hex(der.integer(v)), h, `${v}`);
      assert.equal(der.readInteger(whole(bytes(h), Tag.INTEGER), "n"), v);
    }
    assert.throws(() => der.integer(2 ** 32), DerError);
    assert.throws(() => der.integer(-(2 ** 31) - 1), DerError);
    assert.throws(() => der.integer(1.5), DerError);
  });

  it("Int32 and UInt32 refuse what is outside them", () => {
    refuses(() => der.readInt32(whole(der.integer(0x80000000), Tag.INTEGER), "etype"), /etype: 2147483648 is outside Int32/);
    refuses(() => der.readUInt32(whole(der.integer(-1), Tag.INTEGER), "nonce"), /nonce: -1 is outside UInt32/);
  });

  it("lengths: short form to 127, long form from 128, in the fewest bytes", () => {
    assert.equal(hex(der.octetString(Buffer.alloc(127)).subarray(0, 2)), "047f");
    assert.equal(hex(der.octetString(Buffer.alloc(128)).subarray(0, 3)), "048180");
    assert.equal(hex(der.octetString(Buffer.alloc(255)).subarray(0, 3)), "0481ff");
    assert.equal(hex(der.octetString(Buffer.alloc(256)).subarray(0, 4)), "04820100");
    assert.equal(hex(der.octetString(Buffer.alloc(65536)).subarray(0, 5)), "0483010000");
  });

  it("OBJECT IDENTIFIER: the krb5, MS-KRB5 and SPNEGO mechanism OIDs", () => {
    const cases: [string, string][] = [
      ["1.2.840.113554.1.2.2", "06092a864886f712010202"],
      ["1.2.840.48018.1.2.2", "06092a864882f712010202"],
      ["1.3.6.1.5.5.2", "06062b0601050502"],
      ["2.999.3", "0603883703"],
    ];
    for (const [o, h] of cases) {
      assert.equal(hex(der.oid(o)), h, o);
      assert.equal(der.readOid(whole(bytes(h), Tag.OBJECT_IDENTIFIER), "oid"), o);
    }
    for (const bad of ["1", "3.1", "1.40", "1.2.x", ""]) assert.throws(() => der.oid(bad), DerError, bad);
  });

  it("KerberosTime: YYYYMMDDHHMMSSZ, milliseconds dropped; years before 100 are not taken for 19xx", () => {
    assert.equal(der.readKerberosTime(whole(der.tlv(Tag.GENERALIZED_TIME, Buffer.from("00500101000000Z")), Tag.GENERALIZED_TIME), "t").getUTCFullYear(), 50);
    const t = new Date(Date.UTC(2026, 11, 7, 17, 16, 35, 999));
    assert.equal(der.kerberosTime(t).toString("latin1", 2), "20261207171635Z");
    assert.equal(hex(der.kerberosTime(t).subarray(0, 2)), "180f");
    assert.deepEqual(der.readKerberosTime(whole(der.kerberosTime(t), Tag.GENERALIZED_TIME), "t"), new Date(Date.UTC(2026, 11, 7, 17, 16, 35)));
  });

  it("KerberosFlags: 32 bits, bit 0 first; longer bit strings read for their first 32 bits", () => {
    assert.equal(hex(der.flags32(0x40810010)), "03050040810010");
    assert.equal(der.readFlags32(whole(bytes("03050040810010"), Tag.BIT_STRING), "f"), 0x40810010);
    assert.equal(der.readFlags32(whole(bytes("0306004081001080"), Tag.BIT_STRING), "f"), 0x40810010);
  });

  it("BOOLEAN, ENUMERATED, GeneralString (UTF-8), context and APPLICATION tags", () => {
    assert.equal(hex(der.boolean(true)), "0101ff");
    assert.equal(der.readBoolean(whole(bytes("010100"), Tag.BOOLEAN), "b"), false);
    assert.equal(hex(der.enumerated(2)), "0a0102");
    assert.equal(der.readEnumerated(whole(bytes("0a0103"), Tag.ENUMERATED), "e"), 3);
    assert.equal(hex(der.kerberosString("CORP.EXAMPLE")), "1b0c434f52502e4558414d504c45");
    assert.equal(der.readKerberosString(whole(der.kerberosString("bjørn"), Tag.GENERAL_STRING), "s"), "bjørn");
    assert.equal(hex(der.explicit(3, der.integer(5))), "a303020105");
    assert.equal(hex(der.application(14, der.sequence())), "6e023000");
    assert.equal(der.tagName(0xa3), "[3]");
    assert.equal(der.tagName(0x6e), "[APPLICATION 14]");
  });

  it("Fields: reads [n] EXPLICIT members by number, optional ones absent", () => {
    const seq = der.sequence(der.explicit(0, der.integer(7)), der.explicit(2, der.octetString(Buffer.from("x"))));
    const f = new der.Fields(whole(seq, Tag.SEQUENCE), "Thing", [0, 1, 2]);
    assert.equal(der.readInteger(f.required(0, "a"), "a"), 7);
    assert.equal(f.optional(1), undefined);
    assert.equal(der.readOctetString(f.required(2, "c"), "c").toString(), "x");
    refuses(() => f.required(1, "b"), /Thing: required field b \[1\] is missing/);
  });
});

describe("Kerberos DER: round trips (fast-check)", () => {
  it("INTEGER over -2^31..2^32-1", () => {
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), (v) => der.readInteger(whole(der.integer(v), Tag.INTEGER), "n") === v), { numRuns: 2000 });
  });

  it("OCTET STRING of any length up to 70 000 bytes (one, two and three length bytes)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 70000 }).map((n) => new Uint8Array(n).fill(7))), (b) =>
        der.readOctetString(whole(der.octetString(b), Tag.OCTET_STRING), "o").equals(Buffer.from(b)),
      ),
      { numRuns: 300 },
    );
  });

  it("OBJECT IDENTIFIER, KerberosTime, flags and strings", () => {
    const arc = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 2 ** 40 }));
    const oidText = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(arc, { maxLength: 8 })).map(([a, b, rest]) => [a, b, ...rest].join("."));
    fc.assert(fc.property(oidText, (o) => der.readOid(whole(der.oid(o), Tag.OBJECT_IDENTIFIER), "o") === o), { numRuns: 500 });
    const seconds = fc.integer({ min: Date.parse("0000-01-01T00:00:00Z") / 1000, max: Date.UTC(9999, 11, 31, 23, 59, 59) / 1000 });
    fc.assert(fc.property(seconds, (s) => der.readKerberosTime(whole(der.kerberosTime(new Date(s * 1000)), Tag.GENERALIZED_TIME), "t").getTime() === s * 1000), { numRuns: 500 });
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (v) => der.readFlags32(whole(der.flags32(v), Tag.BIT_STRING), "f") === v), { numRuns: 500 });
    fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (s) => der.readKerberosString(whole(der.kerberosString(s), Tag.GENERAL_STRING), "s") === s), { numRuns: 500 });
  });
});

describe("Kerberos DER: strictness", () => {
  const sample = der.sequence(der.explicit(0, der.integer(123456)), der.explicit(1, der.octetString(Buffer.alloc(200, 1))), der.explicit(2, der.kerberosString("R")));

  it("refuses every truncation of a value, naming the cause (fast-check over cut points)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: sample.length - 1 }), (cut) => {
        refuses(() => {
          const e = whole(sample.subarray(0, cut), Tag.SEQUENCE);
          new der.Fields(e, "sample", [0, 1, 2]);
        }, /truncated|runs past the end|no bytes left/);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses trailing bytes after a whole value, at the top and inside an [n]", () => {
    refuses(() => whole(Buffer.concat([sample, bytes("00")]), Tag.SEQUENCE), /value: 1 trailing bytes after the value/);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 20 }), (junk) => {
        refuses(() => whole(Buffer.concat([sample, Buffer.from(junk)]), Tag.SEQUENCE), /trailing bytes/);
      }),
    );
    // [0] holding INTEGER 5 and then a stray byte
    refuses(() => new der.Fields(whole(bytes("3006 a004 020105 00"), Tag.SEQUENCE), "T", [0]), /T \[0\]: 1 trailing bytes/);
  });

  it("refuses the indefinite length", () => {
    refuses(() => whole(bytes("3080 020105 0000"), Tag.SEQUENCE), /indefinite length \(0x80\) is not DER/);
  });

  it("refuses non-minimal lengths: long form under 128, leading zero bytes", () => {
    refuses(() => whole(Buffer.concat([bytes("048105"), Buffer.alloc(5)]), Tag.OCTET_STRING), /non-minimal length \(5 in long form\)/);
    refuses(() => whole(Buffer.concat([bytes("04820080"), Buffer.alloc(128)]), Tag.OCTET_STRING), /non-minimal length \(leading zero byte\)/);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 127 }), (n) => {
        refuses(() => whole(Buffer.concat([Buffer.from([0x04, 0x81, n]), Buffer.alloc(n)]), Tag.OCTET_STRING), /non-minimal length/);
      }),
    );
  });

  it("refuses a length beyond the buffer, and lengths of more than 4 bytes", () => {
    refuses(() => whole(bytes("0405 0102"), Tag.OCTET_STRING), /value: length 5 runs past the end of the buffer \(2 bytes left\)/);
    refuses(() => whole(bytes("0484ffffffff 00"), Tag.OCTET_STRING), /length 4294967295 runs past the end/);
    refuses(() => whole(bytes("048501000000000"), Tag.OCTET_STRING), /a length of 5 bytes is beyond/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.integer({ min: 1, max: 1000 }), (content, extra) => {
        const claimed = content.length + extra;
        const full = der.octetString(Buffer.alloc(claimed));
        const header = full.subarray(0, full.length - claimed);
        refuses(() => whole(Buffer.concat([header, Buffer.from(content)]), Tag.OCTET_STRING), /runs past the end of the buffer/);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses high tag numbers, wrong tags, and the constructed form of a primitive", () => {
    refuses(() => whole(bytes("1f2001 00"), Tag.INTEGER), /high tag number form/);
    refuses(() => whole(bytes("020105"), Tag.OCTET_STRING), /value: expected OCTET STRING, found INTEGER/);
    refuses(() => whole(bytes("2403 040100"), Tag.OCTET_STRING), /expected OCTET STRING, found tag 0x24/);
  });

  it("refuses non-minimal INTEGERs and ENUMERATEDs, and empty ones", () => {
    refuses(() => der.readInteger(whole(bytes("0202007f"), Tag.INTEGER), "kvno"), /kvno: non-minimal INTEGER/);
    refuses(() => der.readInteger(whole(bytes("0202ff80"), Tag.INTEGER), "n"), /non-minimal INTEGER/);
    refuses(() => der.readInteger(whole(bytes("0200"), Tag.INTEGER), "n"), /empty INTEGER/);
    refuses(() => der.readInteger(whole(bytes("020501ffffffff"), Tag.INTEGER), "n"), /beyond 32 bits/);
    refuses(() => der.readEnumerated(whole(bytes("0a020001"), Tag.ENUMERATED), "negState"), /non-minimal ENUMERATED/);
  });

  it("refuses BOOLEANs other than 00/FF, malformed times, flags under 32 bits, bad OIDs and strings", () => {
    refuses(() => der.readBoolean(whole(bytes("010101"), Tag.BOOLEAN), "b"), /one byte, 00 or FF/);
    for (const t of ["20261207171635.5Z", "20261207171635", "202612071716Z", "20261307171635Z", "20260231000000Z", "20261207171660Z", "2026120717163+Z"]) {
      refuses(() => der.readKerberosTime(whole(der.tlv(Tag.GENERALIZED_TIME, Buffer.from(t, "latin1")), Tag.GENERALIZED_TIME), "authtime"), /authtime: KerberosTime/);
    }
    refuses(() => der.readFlags32(whole(bytes("030400408000"), Tag.BIT_STRING), "kdc-options"), /shorter than 32 bits/);
    refuses(() => der.readFlags32(whole(bytes("03050140810011"), Tag.BIT_STRING), "f"), /unused bits set/);
    refuses(() => der.readFlags32(whole(bytes("0300"), Tag.BIT_STRING), "f"), /without its unused-bits byte/);
    refuses(() => der.readOid(whole(bytes("06032a8002"), Tag.OBJECT_IDENTIFIER), "mech"), /leading 0x80/);
    refuses(() => der.readOid(whole(bytes("06022a86"), Tag.OBJECT_IDENTIFIER), "mech"), /ends inside an arc/);
    refuses(() => der.readOid(whole(bytes("0600"), Tag.OBJECT_IDENTIFIER), "mech"), /empty OBJECT IDENTIFIER/);
    refuses(() => der.readKerberosString(whole(bytes("1b02c328"), Tag.GENERAL_STRING), "realm"), /realm: GeneralString is not valid UTF-8/);
  });

  it("Fields refuses unknown, repeated, out-of-order and untagged members", () => {
    const f = (h: string) => new der.Fields(whole(bytes(h), Tag.SEQUENCE), "PrincipalName", [0, 1]);
    refuses(() => f("3005 a203 020101"), /PrincipalName: unknown field \[2\] \(this type has \[0\] \[1\]\)/);
    refuses(() => f("300a a003 020101 a003 020101"), /field \[0\] out of order or repeated after \[0\]/);
    refuses(() => f("300a a103 020101 a003 020101"), /field \[0\] out of order or repeated after \[1\]/);
    refuses(() => f("3003 020101"), /expected a context tag \[n\], found INTEGER/);
  });
});
