// A bounds-checked reader over the binary credential files MIT writes (keytab, FILE ccache):
// fixed-width integers in either byte order and length-counted byte strings. Every read past the
// end throws a TruncatedFile naming the file and the field, never a RangeError from Buffer.

import * as fs from "node:fs";

/** The largest credential file read: far above any real keytab or ticket cache (a few KB), far below harm. */
const MAX_CREDENTIAL_FILE_BYTES = 16 * 1024 * 1024;

/**
 * A credential file's bytes, refused unless it is a regular file of at most
 * MAX_CREDENTIAL_FILE_BYTES: KRB5CCNAME=/dev/zero or a FIFO must fail at once, not hang or fill
 * memory. Errors from the file system are thrown as they come (ENOENT and the like) for the
 * caller to name; `NotACredentialFile` for the rest.
 */
export function readCredentialFile(path: string, what: string): Buffer {
  const fd = fs.openSync(path, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new NotACredentialFile(`${what} ${path} is not a regular file`);
    if (stat.size > MAX_CREDENTIAL_FILE_BYTES)
      throw new NotACredentialFile(`${what} ${path} is ${stat.size} bytes, more than a ${what} can be (${MAX_CREDENTIAL_FILE_BYTES})`);
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** A path that names something other than a credential file (a device, a FIFO, a directory, a huge file). */
export class NotACredentialFile extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotACredentialFile";
  }
}

export class TruncatedFile extends Error {
  constructor(
    readonly source: string,
    readonly field: string,
    readonly offset: number,
  ) {
    super(`${source}: truncated at byte ${offset}, while reading ${field}`);
    this.name = "TruncatedFile";
  }
}

export class Cursor {
  constructor(
    readonly buf: Buffer,
    readonly source: string,
    public at = 0,
    public littleEndian = false,
    readonly end = buf.length,
  ) {}

  get remaining(): number {
    return this.end - this.at;
  }

  private take(n: number, field: string): number {
    if (n < 0 || this.at + n > this.end) throw new TruncatedFile(this.source, field, this.at);
    const at = this.at;
    this.at += n;
    return at;
  }

  u8(field: string): number {
    return this.buf[this.take(1, field)];
  }

  u16(field: string): number {
    const at = this.take(2, field);
    return this.littleEndian ? this.buf.readUInt16LE(at) : this.buf.readUInt16BE(at);
  }

  u32(field: string): number {
    const at = this.take(4, field);
    return this.littleEndian ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at);
  }

  i32(field: string): number {
    const at = this.take(4, field);
    return this.littleEndian ? this.buf.readInt32LE(at) : this.buf.readInt32BE(at);
  }

  bytes(n: number, field: string): Buffer {
    const at = this.take(n, field);
    return Buffer.from(this.buf.subarray(at, at + n));
  }

  /** A byte string preceded by its 16-bit length (keytab counted_octet_string). */
  counted16(field: string): Buffer {
    return this.bytes(this.u16(`${field} length`), field);
  }

  /** A byte string preceded by its 32-bit length (ccache data). */
  counted32(field: string): Buffer {
    return this.bytes(this.u32(`${field} length`), field);
  }

  /** A cursor over the next `n` bytes, which this one skips. */
  sub(n: number, field: string): Cursor {
    const at = this.take(n, field);
    return new Cursor(this.buf, this.source, at, this.littleEndian, at + n);
  }
}
