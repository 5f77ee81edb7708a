// RC4 (ARCFOUR) as NTLM session security needs it: one continuous keystream per direction.
// Written here because Node's OpenSSL 3 refuses RC4 (ERR_OSSL_EVP_UNSUPPORTED) and npm has no
// well-kept RC4 stream cipher; checked against RFC 6229 test vectors in test/unit/ntlm.test.ts.

export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Uint8Array) {
    if (key.length === 0 || key.length > 256) throw new Error("RC4 key must be 1 to 256 bytes");
    for (let k = 0; k < 256; k++) this.s[k] = k;
    for (let k = 0, j = 0; k < 256; k++) {
      j = (j + this.s[k] + key[k % key.length]) & 0xff;
      [this.s[k], this.s[j]] = [this.s[j], this.s[k]];
    }
  }

  /** XORs `data` with the next bytes of the keystream (encrypts and decrypts alike). */
  update(data: Uint8Array): Buffer {
    const out = Buffer.alloc(data.length);
    for (let n = 0; n < data.length; n++) {
      this.i = (this.i + 1) & 0xff;
      this.j = (this.j + this.s[this.i]) & 0xff;
      [this.s[this.i], this.s[this.j]] = [this.s[this.j], this.s[this.i]];
      out[n] = data[n] ^ this.s[(this.s[this.i] + this.s[this.j]) & 0xff];
    }
    return out;
  }
}
