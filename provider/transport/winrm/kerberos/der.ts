// A strict DER reader and writer (X.690) for the part of ASN.1 that Kerberos (RFC 4120) and SPNEGO
// (RFC 4178) use: SEQUENCE and SEQUENCE OF, [n] EXPLICIT context tags, APPLICATION tags, INTEGER,
// OCTET STRING, GeneralString, GeneralizedTime, BIT STRING, OBJECT IDENTIFIER, ENUMERATED and
// BOOLEAN. Written here rather than taken from an npm ASN.1 library (asn1js, @peculiar/asn1-schema,
// node-forge): the subset is a few hundred lines, the project already reads DER by hand
// (channelBinding.ts), and a user who never uses Kerberos then installs nothing for it.
//
// Strict means: one-byte tags only (Kerberos needs no tag number above 30), definite lengths in
// their shortest form, no length past the end of its buffer, no bytes after a value that should
// fill its buffer, the primitive/constructed bit as the type requires, and each type's own rules
// (minimal INTEGERs, BOOLEAN 00/FF, KerberosTime with whole seconds in UTC). A refusal is a
// DerError naming what was wrong and what was being read.

/** A value that does not follow DER or the Kerberos subset of it. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

/** Universal tags (X.680 8.4), with the constructed bit where the type is constructed. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OBJECT_IDENTIFIER: 0x06,
  ENUMERATED: 0x0a,
  GENERALIZED_TIME: 0x18,
  GENERAL_STRING: 0x1b,
  SEQUENCE: 0x30,
} as const;

const CONSTRUCTED = 0x20;
const CONTEXT = 0x80;
const APPLICATION = 0x40;

/** The tag byte of [n] EXPLICIT (context-specific, constructed). */
function contextTag(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new DerError(`context tag [${n}] is outside 0..30`);
  return CONTEXT | CONSTRUCTED | n;
}

/** The tag byte of [APPLICATION n] (constructed, as every Kerberos APPLICATION type is). */
export function applicationTag(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new DerError(`APPLICATION tag ${n} is outside 0..30`);
  return APPLICATION | CONSTRUCTED | n;
}

/** A tag byte in words, for error messages: "SEQUENCE", "[3]", "[APPLICATION 14]", "tag 0x1f". */
export function tagName(tag: number): string {
  const universal = Object.entries(Tag).find(([, t]) => t === tag);
  if (universal) return universal[0].replace(/_/g, " ");
  if ((tag & 0xe0) === (CONTEXT | CONSTRUCTED)) return `[${tag & 0x1f}]`;
  if ((tag & 0xe0) === (APPLICATION | CONSTRUCTED)) return `[APPLICATION ${tag & 0x1f}]`;
  return `tag 0x${tag.toString(16).padStart(2, "0")}`;
}

/** One DER element: its tag byte and its contents (without tag and length). */
export interface Element {
  tag: number;
  contents: Buffer;
}

// ---- reading ---------------------------------------------------------------------------------

/** The element starting at `at`, and the offset just past it. */
export function readElement(buf: Buffer, at: number, what: string): { element: Element; end: number } {
  if (at >= buf.length) throw new DerError(`${what}: no bytes left where an element should start`);
  const tag = buf[at];
  if ((tag & 0x1f) === 0x1f) throw new DerError(`${what}: high tag number form (first byte 0x${tag.toString(16)}) is not used by Kerberos`);
  if (at + 1 >= buf.length) throw new DerError(`${what}: truncated after the tag, before the length`);
  let length = buf[at + 1];
  let start = at + 2;
  if (length === 0x80) throw new DerError(`${what}: indefinite length (0x80) is not DER`);
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count > 4) throw new DerError(`${what}: a length of ${count} bytes is beyond what this reader accepts (4)`);
    if (start + count > buf.length) throw new DerError(`${what}: truncated inside the length`);
    if (buf[start] === 0) throw new DerError(`${what}: non-minimal length (leading zero byte)`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[start + i];
    if (length < 0x80) throw new DerError(`${what}: non-minimal length (${length} in long form)`);
    start += count;
  }
  if (start + length > buf.length) {
    throw new DerError(`${what}: length ${length} runs past the end of the buffer (${buf.length - start} bytes left)`);
  }
  return { element: { tag, contents: buf.subarray(start, start + length) }, end: start + length };
}

/** The single element that fills `buf` exactly, with the expected tag. */
export function decodeWhole(buf: Buffer, tag: number, what: string): Element {
  const { element, end } = readElement(buf, 0, what);
  expectTag(element, tag, what);
  if (end !== buf.length) throw new DerError(`${what}: ${buf.length - end} trailing bytes after the value`);
  return element;
}

/** Throws unless the element has this tag. */
export function expectTag(e: Element, tag: number, what: string): void {
  if (e.tag !== tag) throw new DerError(`${what}: expected ${tagName(tag)}, found ${tagName(e.tag)}`);
}

/** The elements one after another in a constructed element's contents. */
export function children(contents: Buffer, what: string): Element[] {
  const out: Element[] = [];
  for (let at = 0; at < contents.length;) {
    const r = readElement(contents, at, what);
    out.push(r.element);
    at = r.end;
  }
  return out;
}

/** The members of a SEQUENCE OF (or SET-free list): each must carry `tag`. */
export function sequenceOf(e: Element, what: string, memberTag: number): Element[] {
  expectTag(e, Tag.SEQUENCE, what);
  const members = children(e.contents, what);
  members.forEach((m, i) => expectTag(m, memberTag, `${what}[${i}]`));
  return members;
}

/**
 * The components of a SEQUENCE whose members are all [n] EXPLICIT: each tag at most once, in
 * increasing order, only the numbers the type defines; each [n] holds exactly one element.
 */
export class Fields {
  private readonly inner = new Map<number, Element>();

  constructor(
    e: Element,
    readonly what: string,
    known: readonly number[],
    tag: number = Tag.SEQUENCE,
  ) {
    expectTag(e, tag, what);
    let last = -1;
    for (const c of children(e.contents, what)) {
      if ((c.tag & 0xe0) !== (CONTEXT | CONSTRUCTED)) throw new DerError(`${what}: expected a context tag [n], found ${tagName(c.tag)}`);
      const n = c.tag & 0x1f;
      if (!known.includes(n)) throw new DerError(`${what}: unknown field [${n}] (this type has ${known.map((k) => `[${k}]`).join(" ")})`);
      if (n <= last) throw new DerError(`${what}: field [${n}] out of order or repeated after [${last}]`);
      last = n;
      this.inner.set(n, decodeWholeAny(c.contents, `${what} [${n}]`));
    }
  }

  /** The element inside [n]; a refusal when it is absent. */
  required(n: number, label: string): Element {
    const e = this.inner.get(n);
    if (!e) throw new DerError(`${this.what}: required field ${label} [${n}] is missing`);
    return e;
  }

  optional(n: number): Element | undefined {
    return this.inner.get(n);
  }
}

function decodeWholeAny(buf: Buffer, what: string): Element {
  const { element, end } = readElement(buf, 0, what);
  if (end !== buf.length) throw new DerError(`${what}: ${buf.length - end} trailing bytes after the value`);
  return element;
}

/** An INTEGER or ENUMERATED as a number: minimal two's complement, from -2^31 to 2^32-1. */
function integerContents(e: Element, tag: number, what: string): number {
  expectTag(e, tag, what);
  const c = e.contents;
  if (c.length === 0) throw new DerError(`${what}: empty ${tagName(tag)}`);
  if (c.length > 1 && ((c[0] === 0x00 && !(c[1] & 0x80)) || (c[0] === 0xff && c[1] & 0x80))) {
    throw new DerError(`${what}: non-minimal ${tagName(tag)} (redundant leading byte)`);
  }
  if (c.length > 5 || (c.length === 5 && c[0] !== 0x00)) throw new DerError(`${what}: ${tagName(tag)} beyond 32 bits`);
  let v = c[0] & 0x80 ? -1 : 0;
  for (const b of c) v = v * 256 + b;
  return v;
}

/** INTEGER (any value from -2^31 to 2^32-1). */
export function readInteger(e: Element, what: string): number {
  return integerContents(e, Tag.INTEGER, what);
}

/** Int32 (RFC 4120 5.2.4): etypes, name types, error codes, padata types. */
export function readInt32(e: Element, what: string): number {
  const v = readInteger(e, what);
  if (v > 0x7fffffff) throw new DerError(`${what}: ${v} is outside Int32`);
  return v;
}

/** UInt32 (RFC 4120 5.2.4): nonces; also Microseconds (0..999999). kvnos and seq-numbers: readUInt32Bits. */
export function readUInt32(e: Element, what: string): number {
  const v = readInteger(e, what);
  if (v < 0) throw new DerError(`${what}: ${v} is outside UInt32`);
  return v;
}

/**
 * A kvno or seq-number as Windows and MIT send them: UInt32, where a negative INTEGER stands for
 * the same 32 bits. MIT's decoder (asn1_k_encode.c) takes both, because Windows encodes kvnos
 * as signed 32-bit values and read-only domain controllers issue kvnos with the top bit set.
 */
export function readUInt32Bits(e: Element, what: string): number {
  return readInteger(e, what) >>> 0;
}

export function readEnumerated(e: Element, what: string): number {
  return integerContents(e, Tag.ENUMERATED, what);
}

export function readBoolean(e: Element, what: string): boolean {
  expectTag(e, Tag.BOOLEAN, what);
  if (e.contents.length !== 1 || (e.contents[0] !== 0x00 && e.contents[0] !== 0xff)) throw new DerError(`${what}: a DER BOOLEAN is one byte, 00 or FF`);
  return e.contents[0] === 0xff;
}

export function readOctetString(e: Element, what: string): Buffer {
  expectTag(e, Tag.OCTET_STRING, what);
  return e.contents;
}

// ignoreBOM: a leading EF BB BF is part of the string as sent, never silently dropped.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** KerberosString (GeneralString, RFC 4120 5.2.1): read as UTF-8, which covers the IA5 it should hold. */
export function readKerberosString(e: Element, what: string): string {
  expectTag(e, Tag.GENERAL_STRING, what);
  try {
    return utf8.decode(e.contents);
  } catch {
    throw new DerError(`${what}: GeneralString is not valid UTF-8`);
  }
}

/** KerberosTime (RFC 4120 5.2.3): GeneralizedTime "YYYYMMDDHHMMSSZ", whole seconds, UTC. */
export function readKerberosTime(e: Element, what: string): Date {
  expectTag(e, Tag.GENERALIZED_TIME, what);
  const s = e.contents.toString("latin1");
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new DerError(`${what}: KerberosTime "${s.replace(/[^\x20-\x7e]/g, "?")}" is not YYYYMMDDHHMMSSZ`);
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d); // not Date.UTC, which reads years 0..99 as 1900..1999
  t.setUTCHours(h, mi, se, 0);
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d || t.getUTCHours() !== h || t.getUTCMinutes() !== mi || se > 59) {
    throw new DerError(`${what}: KerberosTime "${s}" is not a date and time`);
  }
  return t;
}

/**
 * KerberosFlags (RFC 4120 5.2.8): a BIT STRING of at least 32 bits, as a 32-bit number whose bit
 * 0 (the first bit on the wire) is 0x80000000. Bits past 32, allowed by the RFC, are ignored.
 */
export function readFlags32(e: Element, what: string): number {
  expectTag(e, Tag.BIT_STRING, what);
  const c = e.contents;
  if (c.length === 0) throw new DerError(`${what}: BIT STRING without its unused-bits byte`);
  const unused = c[0];
  if (unused > 7 || (c.length === 1 && unused !== 0)) throw new DerError(`${what}: BIT STRING with ${unused} unused bits`);
  if (unused && c[c.length - 1] & ((1 << unused) - 1)) throw new DerError(`${what}: BIT STRING with unused bits set`);
  if ((c.length - 1) * 8 - unused < 32) throw new DerError(`${what}: KerberosFlags shorter than 32 bits`);
  return c.readUInt32BE(1);
}

/** OBJECT IDENTIFIER (X.690 8.19) in dotted form. */
export function readOid(e: Element, what: string): string {
  expectTag(e, Tag.OBJECT_IDENTIFIER, what);
  const c = e.contents;
  if (c.length === 0) throw new DerError(`${what}: empty OBJECT IDENTIFIER`);
  if (c[c.length - 1] & 0x80) throw new DerError(`${what}: OBJECT IDENTIFIER ends inside an arc`);
  const arcs: number[] = [];
  let arc = 0;
  let fresh = true;
  for (const b of c) {
    if (fresh && b === 0x80) throw new DerError(`${what}: OBJECT IDENTIFIER arc with a leading 0x80 (not minimal)`);
    arc = arc * 128 + (b & 0x7f);
    if (arc > Number.MAX_SAFE_INTEGER / 128) throw new DerError(`${what}: OBJECT IDENTIFIER arc too large`);
    fresh = !(b & 0x80);
    if (fresh) {
      arcs.push(arc);
      arc = 0;
    }
  }
  const top = arcs[0] < 40 ? 0 : arcs[0] < 80 ? 1 : 2;
  return [top, arcs[0] - 40 * top, ...arcs.slice(1)].join(".");
}

// ---- writing ---------------------------------------------------------------------------------

/** A TLV with a definite, minimal length. */
export function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = contents.length === 1 ? contents[0] : Buffer.concat(contents);
  const n = body.length;
  let header: Buffer;
  if (n < 0x80) header = Buffer.from([tag, n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, body]);
}

/** [n] EXPLICIT around one encoded element. */
export function explicit(n: number, inner: Buffer): Buffer {
  return tlv(contextTag(n), inner);
}

/** [n] EXPLICIT around the element, or nothing when the value is absent. */
export function optionalField<T>(n: number, value: T | undefined, encode: (v: T) => Buffer): Buffer {
  return value === undefined ? Buffer.alloc(0) : explicit(n, encode(value));
}

export function application(n: number, inner: Buffer): Buffer {
  return tlv(applicationTag(n), inner);
}

export function sequence(...members: Buffer[]): Buffer {
  return tlv(Tag.SEQUENCE, ...members);
}

function integerBytes(tag: number, v: number, what: string): Buffer {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) throw new DerError(`${what} ${v} is not an integer from -2^31 to 2^32-1`);
  const bytes: number[] = [];
  let x = v;
  do {
    bytes.unshift(((x % 256) + 256) % 256);
    x = Math.floor(x / 256);
  } while (!((x === 0 && !(bytes[0] & 0x80)) || (x === -1 && bytes[0] & 0x80)));
  return tlv(tag, Buffer.from(bytes));
}

export function integer(v: number): Buffer {
  return integerBytes(Tag.INTEGER, v, "INTEGER");
}

export function enumerated(v: number): Buffer {
  return integerBytes(Tag.ENUMERATED, v, "ENUMERATED");
}

export function boolean(v: boolean): Buffer {
  return tlv(Tag.BOOLEAN, Buffer.from([v ? 0xff : 0x00]));
}

export function octetString(b: Uint8Array): Buffer {
  return tlv(Tag.OCTET_STRING, Buffer.from(b));
}

export function kerberosString(s: string): Buffer {
  return tlv(Tag.GENERAL_STRING, Buffer.from(s, "utf8"));
}

/** KerberosTime of a date, its milliseconds dropped (they go in the Microseconds field). */
export function kerberosTime(t: Date): Buffer {
  const ms = t.getTime();
  if (!Number.isFinite(ms)) throw new DerError("KerberosTime of an invalid date");
  const s = new Date(Math.floor(ms / 1000) * 1000).toISOString();
  if (!/^\d{4}-/.test(s)) throw new DerError(`KerberosTime of a year outside 0000..9999 (${s})`);
  return tlv(Tag.GENERALIZED_TIME, Buffer.from(s.replace(/[-:T]/g, "").replace(/\.\d{3}Z$/, "Z"), "latin1"));
}

/** KerberosFlags as the 32 bits every implementation sends (RFC 4120 5.2.8). */
export function flags32(v: number): Buffer {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new DerError(`flags ${v} do not fit 32 bits`);
  const c = Buffer.alloc(5);
  c.writeUInt32BE(v, 1);
  return tlv(Tag.BIT_STRING, c);
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map((a) => (/^\d+$/.test(a) ? Number(a) : NaN));
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a)) || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39)) {
    throw new DerError(`"${dotted}" is not an OBJECT IDENTIFIER`);
  }
  const out: number[] = [];
  for (const arc of [arcs[0] * 40 + arcs[1], ...arcs.slice(2)]) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(v % 128);
      v = Math.floor(v / 128);
    } while (v > 0);
    out.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(Tag.OBJECT_IDENTIFIER, Buffer.from(out));
}
