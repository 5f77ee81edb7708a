// Kerberos encryption for the WinRM client: the two AES enctypes of RFC 3962 on the simplified
// profile of RFC 3961, written on node:crypto. n-fold, DR/DK key derivation, PBKDF2 string-to-key,
// AES-CBC with ciphertext stealing, encrypt-then-MAC with HMAC-SHA1-96, and keyed checksums.
//
// Only aes256-cts-hmac-sha1-96 (18) and aes128-cts-hmac-sha1-96 (17) are supported, on purpose:
// RC4-HMAC (23) has another token layout (RFC 4757) and rests on MD4 and RC4; the DES and 3DES
// enctypes are broken and retired; aes-sha2 (19, 20; RFC 8009) is not issued by Active Directory.
// Any other enctype is refused with an error that names it. Checked against the known answers of
// RFC 3961 A.1, RFC 3962 B and MIT krb5's crypto tests in test/unit/kerberosCrypto.test.ts.
import * as crypto from "node:crypto";

/** A Kerberos key: its enctype number and its bytes (16 for enctype 17, 32 for 18). */
export interface EncryptionKey {
  etype: number;
  value: Buffer;
}

const ENCTYPE_AES128_CTS_HMAC_SHA1_96 = 17;
export const ENCTYPE_AES256_CTS_HMAC_SHA1_96 = 18;
/** Checksum types hmac-sha1-96-aes128 and hmac-sha1-96-aes256 (RFC 3962 7). */
const CKSUMTYPE_HMAC_SHA1_96_AES128 = 15;
const CKSUMTYPE_HMAC_SHA1_96_AES256 = 16;

/** The RFC 3962 default PBKDF2 iteration count, used when the KDC sends no s2kparams. */
const DEFAULT_ITERATIONS = 4096;
/**
 * The most PBKDF2 iterations string-to-key will run (about a second here). A forged KDC reply
 * naming a huge count would otherwise block the process for many seconds (RFC 3962 8); AD and
 * MIT use 4096.
 */
const MAX_ITERATIONS = 1 << 20;

const BLOCK = 16;
/** Length of the confounder and of the HMAC-SHA1-96 integrity tag (RFC 3962 6). */
const CONFOUNDER_LENGTH = BLOCK;
const MAC_LENGTH = 12;

interface Profile {
  name: string;
  keyLength: number;
  cipher: "aes-128" | "aes-256";
  cksumtype: number;
}

const PROFILES = new Map<number, Profile>([
  [ENCTYPE_AES128_CTS_HMAC_SHA1_96, { name: "aes128-cts-hmac-sha1-96", keyLength: 16, cipher: "aes-128", cksumtype: CKSUMTYPE_HMAC_SHA1_96_AES128 }],
  [ENCTYPE_AES256_CTS_HMAC_SHA1_96, { name: "aes256-cts-hmac-sha1-96", keyLength: 32, cipher: "aes-256", cksumtype: CKSUMTYPE_HMAC_SHA1_96_AES256 }],
]);

/** Names of the enctypes others use, so a refusal can say which one the peer offered. */
const OTHER_ENCTYPES: Record<number, string> = {
  1: "des-cbc-crc",
  2: "des-cbc-md4",
  3: "des-cbc-md5",
  16: "des3-cbc-sha1",
  19: "aes128-cts-hmac-sha256-128",
  20: "aes256-cts-hmac-sha384-192",
  23: "rc4-hmac",
  24: "rc4-hmac-exp",
  25: "camellia128-cts-cmac",
  26: "camellia256-cts-cmac",
};

/** A key, enctype or ciphertext this Kerberos implementation refuses; never carries key bytes. */
export class KerberosCryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KerberosCryptoError";
  }
}

/** The enctype's name as krb5.conf writes it ("aes256-cts-hmac-sha1-96", "rc4-hmac", or the number). */
export function enctypeName(etype: number): string {
  return PROFILES.get(etype)?.name ?? OTHER_ENCTYPES[etype] ?? `enctype ${etype}`;
}

/** True for the enctypes this client speaks (17 and 18). */
export function isSupportedEnctype(etype: number): boolean {
  return PROFILES.has(etype);
}

function profileOf(etype: number): Profile {
  const p = PROFILES.get(etype);
  if (!p) {
    throw new KerberosCryptoError(
      `Kerberos enctype ${etype} (${enctypeName(etype)}) is not supported: only aes256-cts-hmac-sha1-96 (18) and aes128-cts-hmac-sha1-96 (17) are; allow ` +
        `AES for the account and the service (msDS-SupportedEncryptionTypes) and remove RC4/DES from the realm's enctypes`,
    );
  }
  return p;
}

/** Throws KerberosCryptoError unless `key` is of an enctype this client speaks and of its length. */
export function checkKey(key: EncryptionKey): void {
  checkedProfile(key);
}

function checkedProfile(key: EncryptionKey): Profile {
  const p = profileOf(key.etype);
  if (key.value.length !== p.keyLength) throw new KerberosCryptoError(`a ${p.name} key must be ${p.keyLength} bytes, not ${key.value.length}`);
  return p;
}

/**
 * n-fold (RFC 3961 5.1): stretches or shrinks `input` to `outBytes` bytes. The input is repeated,
 * each copy rotated 13 bits further right, up to the least common multiple of the two lengths,
 * and the `outBytes`-long pieces are added with end-around carry (ones' complement addition).
 */
export function nfold(input: Uint8Array, outBytes: number): Buffer {
  if (input.length === 0 || outBytes <= 0) throw new KerberosCryptoError("n-fold needs a non-empty input and output");
  const inBits = BigInt(input.length * 8);
  const outBits = BigInt(outBytes * 8);
  const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
  const lcm = (inBits * outBits) / gcd(inBits, outBits);
  const x = BigInt("0x" + Buffer.from(input).toString("hex"));
  const inMask = (1n << inBits) - 1n;
  const outMask = (1n << outBits) - 1n;
  // The input repeated, each copy rotated 13 bits further right, up to lcm bits.
  let whole = 0n;
  for (let i = 0n; i < lcm / inBits; i++) {
    const r = (13n * i) % inBits;
    whole = (whole << inBits) | (r === 0n ? x : ((x >> r) | (x << (inBits - r))) & inMask);
  }
  let sum = 0n;
  for (let shift = lcm - outBits; shift >= 0n; shift -= outBits) sum += (whole >> shift) & outMask;
  while (sum > outMask) sum = (sum & outMask) + (sum >> outBits);
  return Buffer.from(sum.toString(16).padStart(outBytes * 2, "0"), "hex");
}

const zeroIv = () => Buffer.alloc(BLOCK);

function aesBlock(cipher: Profile["cipher"], key: Buffer, block: Buffer, decrypt = false): Buffer {
  const c = decrypt ? crypto.createDecipheriv(`${cipher}-ecb`, key, null) : crypto.createCipheriv(`${cipher}-ecb`, key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

function aesCbc(cipher: Profile["cipher"], key: Buffer, data: Buffer, decrypt: boolean): Buffer {
  const c = decrypt ? crypto.createDecipheriv(`${cipher}-cbc`, key, zeroIv()) : crypto.createCipheriv(`${cipher}-cbc`, key, zeroIv());
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

function cipherFor(key: Buffer): Profile["cipher"] {
  if (key.length === 16) return "aes-128";
  if (key.length === 32) return "aes-256";
  throw new KerberosCryptoError(`an AES key must be 16 or 32 bytes, not ${key.length}`);
}

/**
 * AES in CBC mode with ciphertext stealing and a zero IV, as RFC 3962 5 defines it: one block is
 * plain AES; otherwise the last two ciphertext blocks are swapped and the (new) last one is cut
 * to the length of the last plaintext block. The ciphertext is as long as the plaintext (>= 16).
 */
export function aesCtsEncrypt(key: Buffer, plaintext: Buffer): Buffer {
  const cipher = cipherFor(key);
  if (plaintext.length < BLOCK) throw new KerberosCryptoError(`AES-CTS needs at least one block (16 bytes), not ${plaintext.length}`);
  if (plaintext.length === BLOCK) return aesBlock(cipher, key, plaintext);
  const blocks = Math.ceil(plaintext.length / BLOCK);
  const tail = plaintext.length - (blocks - 1) * BLOCK; // 1..16 bytes in the last block
  const padded = Buffer.alloc(blocks * BLOCK);
  plaintext.copy(padded);
  const cbc = aesCbc(cipher, key, padded, false);
  const head = cbc.subarray(0, (blocks - 2) * BLOCK);
  const penultimate = cbc.subarray((blocks - 2) * BLOCK, (blocks - 1) * BLOCK);
  const last = cbc.subarray((blocks - 1) * BLOCK);
  return Buffer.concat([head, last, penultimate.subarray(0, tail)]);
}

/** The inverse of aesCtsEncrypt. */
export function aesCtsDecrypt(key: Buffer, ciphertext: Buffer): Buffer {
  const cipher = cipherFor(key);
  if (ciphertext.length < BLOCK) throw new KerberosCryptoError(`AES-CTS ciphertext must be at least one block (16 bytes), not ${ciphertext.length}`);
  if (ciphertext.length === BLOCK) return aesBlock(cipher, key, ciphertext, true);
  const blocks = Math.ceil(ciphertext.length / BLOCK);
  const tail = ciphertext.length - (blocks - 1) * BLOCK;
  const head = ciphertext.subarray(0, (blocks - 2) * BLOCK);
  const stolenFrom = ciphertext.subarray((blocks - 2) * BLOCK, (blocks - 1) * BLOCK); // CBC's last block
  const cut = ciphertext.subarray((blocks - 1) * BLOCK); // the first `tail` bytes of CBC's next-to-last block
  const d = aesBlock(cipher, key, stolenFrom, true); // = last plaintext (zero-padded) XOR next-to-last block
  const penultimate = Buffer.concat([cut, d.subarray(tail)]);
  const last = Buffer.alloc(tail);
  for (let i = 0; i < tail; i++) last[i] = d[i] ^ cut[i];
  const front = aesCbc(cipher, key, Buffer.concat([head, penultimate]), true);
  return Buffer.concat([front, last]);
}

/** DR (RFC 3961 5.1): the key's encryptions of the n-folded constant, chained, cut to the key's length. */
function deriveRandom(key: EncryptionKey, constant: Uint8Array): Buffer {
  const p = checkedProfile(key);
  const out: Buffer[] = [];
  let block = nfold(constant, BLOCK);
  for (let have = 0; have < p.keyLength; have += BLOCK) {
    block = aesBlock(p.cipher, key.value, block);
    out.push(block);
  }
  return Buffer.concat(out).subarray(0, p.keyLength);
}

/** DK (RFC 3961 5.1): random-to-key of DR, the identity for AES (RFC 3962 6). */
export function deriveKey(key: EncryptionKey, constant: Uint8Array): EncryptionKey {
  return { etype: key.etype, value: deriveRandom(key, constant) };
}

const usageConstant = (usage: number, kind: number) => {
  const c = Buffer.alloc(5);
  c.writeUInt32BE(usage >>> 0, 0);
  c[4] = kind;
  return c;
};

const KIND_CHECKSUM = 0x99;
const KIND_ENCRYPT = 0xaa;
const KIND_INTEGRITY = 0x55;

/**
 * Derived keys by base key and usage: WinRM seals every message with the same two usages, and
 * a derivation costs three AES calls and an n-fold. Keyed on the key's Buffer object, so nothing
 * is kept once the session drops its key; keys are treated as immutable.
 */
const derivedCache = new WeakMap<Buffer, Map<number, Buffer>>();
const MAX_CACHED_PER_KEY = 32;

function usageKey(key: EncryptionKey, usage: number, kind: number): Buffer {
  checkedProfile(key);
  if (!Number.isInteger(usage) || usage < 0 || usage > 0xffffffff) throw new KerberosCryptoError(`key usage must be a 32-bit unsigned integer, not ${usage}`);
  let perKey = derivedCache.get(key.value);
  if (!perKey) derivedCache.set(key.value, (perKey = new Map()));
  const id = usage * 256 + kind;
  let derived = perKey.get(id);
  if (!derived) {
    derived = deriveRandom(key, usageConstant(usage, kind));
    if (perKey.size >= MAX_CACHED_PER_KEY) perKey.clear();
    perKey.set(id, derived);
  }
  return derived;
}

const hmacSha1_96 = (key: Buffer, ...data: Uint8Array[]) => {
  const h = crypto.createHmac("sha1", key);
  for (const d of data) h.update(d);
  return h.digest().subarray(0, MAC_LENGTH);
};

/**
 * String-to-key (RFC 3962 4): PBKDF2-HMAC-SHA1 of the UTF-8 password and the salt (normally the
 * realm followed by the principal's name components, or what the KDC's ETYPE-INFO2 says), then
 * DK with the constant "kerberos". `s2kparams` is the 4-byte big-endian iteration count the KDC
 * may send; without it, 4096.
 */
export function stringToKey(etype: number, password: string | Buffer, salt: string | Buffer, s2kparams?: Buffer): EncryptionKey {
  const p = profileOf(etype);
  let iterations = DEFAULT_ITERATIONS;
  if (s2kparams !== undefined && s2kparams.length > 0) {
    if (s2kparams.length !== 4) throw new KerberosCryptoError(`${p.name} s2kparams must be a 4-byte iteration count, not ${s2kparams.length} bytes`);
    iterations = s2kparams.readUInt32BE(0);
    // RFC 3962 4: zero stands for 2^32 iterations.
    if (iterations === 0 || iterations > MAX_ITERATIONS) {
      throw new KerberosCryptoError(
        `the KDC asks for ${iterations === 0 ? "2^32" : iterations} PBKDF2 iterations for ${p.name}, more than the ${MAX_ITERATIONS} this client runs: refused`,
      );
    }
  }
  const pass = typeof password === "string" ? Buffer.from(password, "utf8") : password;
  const saltBytes = typeof salt === "string" ? Buffer.from(salt, "utf8") : salt;
  const tkey = crypto.pbkdf2Sync(pass, saltBytes, iterations, p.keyLength, "sha1");
  return deriveKey({ etype, value: tkey }, Buffer.from("kerberos", "ascii"));
}

/**
 * Encrypts with the simplified profile (RFC 3961 5.3): AES-CTS under Ke = DK(usage|0xAA) of
 * confounder|plaintext, followed by HMAC-SHA1-96 under Ki = DK(usage|0x55) of the same. The
 * confounder is 16 random bytes unless given (tests, known answers).
 */
export function encrypt(key: EncryptionKey, usage: number, plaintext: Buffer, confounder?: Buffer): Buffer {
  const ke = usageKey(key, usage, KIND_ENCRYPT);
  const ki = usageKey(key, usage, KIND_INTEGRITY);
  const conf = confounder ?? crypto.randomBytes(CONFOUNDER_LENGTH);
  if (conf.length !== CONFOUNDER_LENGTH) throw new KerberosCryptoError(`the confounder must be ${CONFOUNDER_LENGTH} bytes, not ${conf.length}`);
  const whole = Buffer.concat([conf, plaintext]);
  return Buffer.concat([aesCtsEncrypt(ke, whole), hmacSha1_96(ki, whole)]);
}

/**
 * Decrypts what `encrypt` produced and returns the plaintext without its confounder. The
 * HMAC is verified (in constant time) before any plaintext is returned; a mismatch throws.
 */
export function decrypt(key: EncryptionKey, usage: number, ciphertext: Buffer): Buffer {
  const p = checkedProfile(key);
  if (ciphertext.length < CONFOUNDER_LENGTH + MAC_LENGTH) {
    throw new KerberosCryptoError(`${p.name} ciphertext of ${ciphertext.length} bytes is shorter than a confounder and its integrity tag (28): refused`);
  }
  const ke = usageKey(key, usage, KIND_ENCRYPT);
  const ki = usageKey(key, usage, KIND_INTEGRITY);
  const body = ciphertext.subarray(0, ciphertext.length - MAC_LENGTH);
  const mac = ciphertext.subarray(ciphertext.length - MAC_LENGTH);
  const whole = aesCtsDecrypt(ke, body);
  if (!crypto.timingSafeEqual(hmacSha1_96(ki, whole), mac)) {
    throw new KerberosCryptoError(`${p.name} integrity check failed (key usage ${usage}): the data was altered, or sealed under another key`);
  }
  return whole.subarray(CONFOUNDER_LENGTH);
}

/** The checksum type that goes with a key's enctype (15 for 17, 16 for 18). */
export function checksumType(etype: number): number {
  return profileOf(etype).cksumtype;
}

/** hmac-sha1-96-aes128/256 (RFC 3962): HMAC-SHA1-96 under Kc = DK(usage|0x99). */
export function checksum(key: EncryptionKey, usage: number, data: Buffer): Buffer {
  return hmacSha1_96(usageKey(key, usage, KIND_CHECKSUM), data);
}

/** Verifies a checksum made by `checksum`, in constant time. */
export function verifyChecksum(key: EncryptionKey, usage: number, data: Buffer, value: Buffer): boolean {
  const expected = checksum(key, usage, data);
  return value.length === expected.length && crypto.timingSafeEqual(expected, value);
}
