// RFC 4121 (CFX) wrap tokens in the layout WinRM message encryption uses (MS-WSMV 2.2.9.1.1.2.2):
// the token split into a 60-byte "header" (token header, the rotated-in integrity tag and
// encrypted header copy, the encrypted confounder) and a "data" part exactly as long as the
// sealed message, as Windows' SSPI and MIT's gss_wrap_iov (no trailer buffer) produce it.
//
// Token header: 05 04 | flags (0x01 SentByAcceptor, 0x02 Sealed, 0x04 AcceptorSubkey) | FF |
// EC (2, big-endian) | RRC (2) | SND_SEQ (8). Sealed plaintext: data | EC filler bytes | the header
// with RRC 0; encrypted with key usage 24 (initiator) or 22 (acceptor); the result rotated right
// by RRC (by RRC + EC, MS-KILE 3.4.5.4.1, which is the same for EC 0). We send EC 0 and RRC 28;
// we accept EC 0 or 16 with RRC 28, so a header of 60 or 76 bytes.
import { checkKey, decrypt, encrypt, KerberosCryptoError, type EncryptionKey } from "./crypto";

export type GssRole = "initiator" | "acceptor";

const TOK_ID_WRAP = 0x0504;
const FLAG_SENT_BY_ACCEPTOR = 0x01;
const FLAG_SEALED = 0x02;
const FLAG_ACCEPTOR_SUBKEY = 0x04;
/** Key usages of sealed wrap tokens (RFC 4121 2). */
export const KG_USAGE_ACCEPTOR_SEAL = 22;
export const KG_USAGE_INITIATOR_SEAL = 24;
/** RRC of a sealed token without a trailer buffer: the encrypted header copy (16) and the HMAC (12). */
const WRAP_RRC = 28;
/** Token header, confounder and RRC bytes: what MS-WSMV's Length-Field announces for EC 0. */
export const WRAP_HEADER_LENGTH = 16 + 16 + WRAP_RRC;

const TOKEN_HEADER = 16;
const SEQ_MODULUS = 1n << 64n;
const ACCEPTED_EC = [0, 16];

/** A wrap token this context refuses; the message names the check, never key material. */
export class GssWrapError extends Error {
  constructor(message: string) {
    super(`Kerberos wrap token refused: ${message}`);
    this.name = "GssWrapError";
  }
}

export interface GssSessionOptions {
  /** This side's role in the security context. */
  role: GssRole;
  /** The acceptor's subkey when the AP-REP carried one, else the initiator's subkey or the ticket's session key. */
  key: EncryptionKey;
  /** Whether `key` is the acceptor's subkey: the AcceptorSubkey flag every token of this context carries. */
  acceptorSubkey: boolean;
  /** First sequence number this side sends: the authenticator's seq-number (initiator) or the AP-REP's (acceptor). */
  sendSeq: bigint;
  /** First sequence number expected from the peer. */
  receiveSeq: bigint;
}

const rotateRight = (b: Buffer, n: number) =>
  n % b.length === 0 ? b : Buffer.concat([b.subarray(b.length - (n % b.length)), b.subarray(0, b.length - (n % b.length))]);
const rotateLeft = (b: Buffer, n: number) => rotateRight(b, b.length - (n % b.length));

/**
 * One GSS-API Kerberos context's per-message protection for WinRM: seals outgoing messages and
 * unseals incoming ones strictly in order (WinRM carries them one by one on one connection), so
 * a replayed, reordered, reflected or altered token is refused.
 */
export class GssSession {
  private readonly role: GssRole;
  private readonly key: EncryptionKey;
  private readonly acceptorSubkey: boolean;
  private sendSeq: bigint;
  private receiveSeq: bigint;

  constructor(options: GssSessionOptions) {
    for (const [name, v] of [
      ["sendSeq", options.sendSeq],
      ["receiveSeq", options.receiveSeq],
    ] as const) {
      if (v < 0n || v >= SEQ_MODULUS) throw new RangeError(`${name} must be a 64-bit unsigned sequence number`);
    }
    // A key this client cannot use is said so here, not later as "integrity check failed".
    checkKey(options.key);
    this.role = options.role;
    this.key = options.key;
    this.acceptorSubkey = options.acceptorSubkey;
    this.sendSeq = options.sendSeq;
    this.receiveSeq = options.receiveSeq;
  }

  /** The sequence number the next wrap will carry. */
  get nextSendSeq(): bigint {
    return this.sendSeq;
  }

  /** The sequence number the next unwrap insists on. */
  get nextReceiveSeq(): bigint {
    return this.receiveSeq;
  }

  private flags(sentByAcceptor: boolean): number {
    return (sentByAcceptor ? FLAG_SENT_BY_ACCEPTOR : 0) | FLAG_SEALED | (this.acceptorSubkey ? FLAG_ACCEPTOR_SUBKEY : 0);
  }

  /** Seals `data`: the header (60 bytes, MS-WSMV's signature) and the sealed data, as long as `data`. */
  wrap(data: Buffer): { header: Buffer; data: Buffer } {
    const tokenHeader = Buffer.alloc(TOKEN_HEADER);
    tokenHeader.writeUInt16BE(TOK_ID_WRAP, 0);
    tokenHeader[2] = this.flags(this.role === "acceptor");
    tokenHeader[3] = 0xff;
    tokenHeader.writeUInt16BE(0, 4); // EC
    tokenHeader.writeUInt16BE(0, 6); // RRC, 0 in the encrypted copy
    tokenHeader.writeBigUInt64BE(this.sendSeq, 8);
    const usage = this.role === "initiator" ? KG_USAGE_INITIATOR_SEAL : KG_USAGE_ACCEPTOR_SEAL;
    const sealed = rotateRight(encrypt(this.key, usage, Buffer.concat([data, tokenHeader])), WRAP_RRC);
    const outHeader = Buffer.from(tokenHeader);
    outHeader.writeUInt16BE(WRAP_RRC, 6);
    this.sendSeq = (this.sendSeq + 1n) % SEQ_MODULUS;
    const cut = WRAP_HEADER_LENGTH - TOKEN_HEADER;
    return { header: Buffer.concat([outHeader, sealed.subarray(0, cut)]), data: sealed.subarray(cut) };
  }

  /**
   * Unseals a token from the peer, given as WinRM frames it (header and data), and returns the
   * message. Refuses, each with its own message: another token type, an unsealed token, one
   * sent in this side's own direction, a wrong AcceptorSubkey flag, an EC or RRC this layout
   * does not use, a failed integrity check, an outer header that differs from the encrypted
   * copy, and a sequence number other than the next expected one (replayed or reordered).
   */
  unwrap(header: Buffer, data: Buffer): Buffer {
    if (header.length < TOKEN_HEADER) throw new GssWrapError(`its header is ${header.length} bytes, shorter than a token header (16)`);
    const tokId = header.readUInt16BE(0);
    if (tokId !== TOK_ID_WRAP) throw new GssWrapError(`TOK_ID is 0x${tokId.toString(16).padStart(4, "0")}, not a wrap token (0x0504)`);
    const flags = header[2];
    if ((flags & FLAG_SEALED) === 0) throw new GssWrapError("it is not sealed (the Sealed flag is clear), and WinRM messages must be encrypted");
    const peerIsAcceptor = this.role === "initiator";
    if (((flags & FLAG_SENT_BY_ACCEPTOR) !== 0) !== peerIsAcceptor) {
      throw new GssWrapError(
        `its SentByAcceptor flag says it comes from the ${peerIsAcceptor ? "initiator" : "acceptor"}, which is this side: wrong direction (a reflected token)`,
      );
    }
    if (((flags & FLAG_ACCEPTOR_SUBKEY) !== 0) !== this.acceptorSubkey) {
      throw new GssWrapError(
        `its AcceptorSubkey flag is ${this.acceptorSubkey ? "clear" : "set"}, but this context ${this.acceptorSubkey ? "uses" : "has no"} acceptor subkey`,
      );
    }
    if (header[3] !== 0xff) throw new GssWrapError(`its filler byte is 0x${header[3].toString(16).padStart(2, "0")}, not 0xff`);
    const ec = header.readUInt16BE(4);
    const rrc = header.readUInt16BE(6);
    if (!ACCEPTED_EC.includes(ec)) throw new GssWrapError(`its EC is ${ec}; this client accepts 0 or 16`);
    if (rrc !== WRAP_RRC) throw new GssWrapError(`its RRC is ${rrc}; a sealed token without a trailer has RRC ${WRAP_RRC}`);
    const expectedLength = TOKEN_HEADER + 16 + rrc + ec;
    if (header.length !== expectedLength) throw new GssWrapError(`its header is ${header.length} bytes, but EC ${ec} and RRC ${rrc} make it ${expectedLength}`);

    const sealed = rotateLeft(Buffer.concat([header.subarray(TOKEN_HEADER), data]), rrc + ec);
    let plain: Buffer;
    try {
      plain = decrypt(this.key, peerIsAcceptor ? KG_USAGE_ACCEPTOR_SEAL : KG_USAGE_INITIATOR_SEAL, sealed);
    } catch (e) {
      if (e instanceof KerberosCryptoError) throw new GssWrapError("its integrity check failed: the message was altered, or sealed under another key");
      throw e;
    }
    // The outer header must be the encrypted copy, whose RRC is 0 (RFC 4121 4.2.4).
    const copy = plain.subarray(plain.length - TOKEN_HEADER);
    const outer = Buffer.from(header.subarray(0, TOKEN_HEADER));
    outer.writeUInt16BE(0, 6);
    if (!copy.equals(outer)) throw new GssWrapError("its header differs from the encrypted copy inside it: the header was altered in transit");
    const seq = header.readBigUInt64BE(8);
    if (seq !== this.receiveSeq) {
      throw new GssWrapError(
        seq < this.receiveSeq
          ? `its sequence number ${seq} was already received (the next expected is ${this.receiveSeq}): a replayed token`
          : `its sequence number ${seq} is ahead of the next expected ${this.receiveSeq}: a message is missing or out of order`,
      );
    }
    this.receiveSeq = (this.receiveSeq + 1n) % SEQ_MODULUS;
    return plain.subarray(0, plain.length - TOKEN_HEADER - ec);
  }
}
