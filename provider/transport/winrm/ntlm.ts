// NTLMv2 (MS-NLMP) for WinRM's Negotiate authentication: the three messages, the session keys,
// and session security (sealing and signing, MS-NLMP 3.4.4) used by MS-WSMV message encryption.
// The acceptor side (challenge, accept) is test tooling and lives in test/simhost/ntlmAcceptor.ts.
import * as crypto from "node:crypto";
import md4 from "js-md4";
import { Rc4 } from "./rc4";

export const Flags = {
  UNICODE: 0x00000001,
  REQUEST_TARGET: 0x00000004,
  SIGN: 0x00000010,
  SEAL: 0x00000020,
  NTLM: 0x00000200,
  ALWAYS_SIGN: 0x00008000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  TARGET_INFO: 0x00800000,
  KEY_128: 0x20000000,
  KEY_EXCH: 0x40000000,
  KEY_56: 0x80000000,
} as const;

/** What this client asks for: NTLMv2 with 128-bit sealing, signing and key exchange. */
export const CLIENT_FLAGS =
  (Flags.UNICODE |
    Flags.REQUEST_TARGET |
    Flags.SIGN |
    Flags.SEAL |
    Flags.NTLM |
    Flags.ALWAYS_SIGN |
    Flags.EXTENDED_SESSIONSECURITY |
    Flags.TARGET_INFO |
    Flags.KEY_128 |
    Flags.KEY_EXCH |
    Flags.KEY_56) >>>
  0;

export const SIGNATURE = Buffer.from("NTLMSSP\0", "ascii");
const AV_EOL = 0;
const AV_TIMESTAMP = 7;

/** HMAC-MD5 over the concatenated data (also used by the test acceptor). */
export const hmacMd5 = (key: Uint8Array, ...data: Uint8Array[]) => {
  const h = crypto.createHmac("md5", key);
  for (const d of data) h.update(d);
  return h.digest();
};
const md5 = (...data: Uint8Array[]) => {
  const h = crypto.createHash("md5");
  for (const d of data) h.update(d);
  return h.digest();
};

/** NT hash: MD4 of the UTF-16LE password (RFC 1320 MD4, from js-md4's pure-JS path). */
export function ntHash(password: string): Buffer {
  return Buffer.from(md4.arrayBuffer(Buffer.from(password, "utf16le")));
}

/** NTOWFv2 (MS-NLMP 3.3.2): HMAC-MD5 keyed with the NT hash over UPPER(user) + domain. */
export function ntowfv2(user: string, domain: string, password: string): Buffer {
  return hmacMd5(ntHash(password), Buffer.from(user.toUpperCase() + domain, "utf16le"));
}

/**
 * The AUTHENTICATE message's UserName and DomainName for an account as the user wrote it:
 * "DOMAIN\user" is split; a UPN ("user@corp.example") goes whole as UserName with an empty
 * DomainName, as pyspnego (`_context.py` split_username: "the user stays the same and the domain
 * is an empty string") and requests-ntlm 1.1.0 (`HttpNtlmAuth`, splits on "\" only) send it.
 * Splitting a UPN at "@" would send its suffix as a domain name, which names no domain whenever
 * the UPN suffix is not the account's domain; and NTOWFv2 hashes the names exactly as sent.
 */
export function splitAccount(account: string): { user: string; domain: string } {
  const slash = account.indexOf("\\");
  if (slash >= 0) return { domain: account.slice(0, slash), user: account.slice(slash + 1) };
  return { user: account, domain: "" };
}

export function negotiateMessage(): Buffer {
  const m = Buffer.alloc(32);
  SIGNATURE.copy(m, 0);
  m.writeUInt32LE(1, 8);
  m.writeUInt32LE(CLIENT_FLAGS, 12);
  return m;
}

export interface Challenge {
  flags: number;
  serverChallenge: Buffer;
  targetInfo: Buffer;
}

/** A security buffer (length, max length, offset) of an NTLM message, bounds-checked. */
export function field(m: Buffer, at: number): Buffer {
  const len = m.readUInt16LE(at);
  const offset = m.readUInt32LE(at + 4);
  if (offset + len > m.length) throw new Error("NTLM message field points outside the message");
  return m.subarray(offset, offset + len);
}

/** Throws unless `m` is an NTLMSSP message of this type. */
export function expectType(m: Buffer, type: number): void {
  if (m.length < 12 || !m.subarray(0, 8).equals(SIGNATURE) || m.readUInt32LE(8) !== type) {
    throw new Error(`not an NTLM type ${type} message`);
  }
}

export function parseChallenge(m: Buffer): Challenge {
  expectType(m, 2);
  if (m.length < 48) throw new Error("NTLM challenge message too short");
  return { flags: m.readUInt32LE(20), serverChallenge: Buffer.from(m.subarray(24, 32)), targetInfo: Buffer.from(field(m, 40)) };
}

/** AV pairs (MS-NLMP 2.2.2.1) as id -> value. */
export function avPairs(targetInfo: Buffer): Map<number, Buffer> {
  const pairs = new Map<number, Buffer>();
  for (let at = 0; at + 4 <= targetInfo.length;) {
    const id = targetInfo.readUInt16LE(at);
    const len = targetInfo.readUInt16LE(at + 2);
    if (id === AV_EOL) break;
    pairs.set(id, targetInfo.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return pairs;
}

function fileTimeNow(): Buffer {
  const t = Buffer.alloc(8);
  t.writeBigUInt64LE((BigInt(Date.now()) + 11644473600000n) * 10000n);
  return t;
}

/**
 * A CHALLENGE that does not grant what message encryption needs (MS-NLMP 2.2.2.5): without
 * KEY_EXCH the session key is the key derived from the password and challenge alone (MS-NLMP
 * 3.1.5.1.2; pyspnego `_ntlm.py` step), without SIGN or SEAL there are no integrity and
 * confidentiality keys. A real Windows host grants all of them; a challenge without them is a
 * downgrade (or a host whose NTLM security settings were lowered), so nothing is sent in reply.
 */
export class NtlmChallengeRefused extends Error {
  constructor(readonly missing: string[]) {
    super(
      `the host's NTLM challenge does not grant ${missing.join(", ")}, which sealed WinRM messages need (MS-NLMP 3.4): refused before sending any ` +
        `response to it`,
    );
    this.name = "NtlmChallengeRefused";
  }
}

/** The negotiated flags this client insists on, by name (MS-NLMP 2.2.2.5). */
const REQUIRED: Array<[string, number]> = [
  ["NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY", Flags.EXTENDED_SESSIONSECURITY],
  ["NTLMSSP_NEGOTIATE_KEY_EXCH", Flags.KEY_EXCH],
  ["NTLMSSP_NEGOTIATE_SIGN", Flags.SIGN],
  ["NTLMSSP_NEGOTIATE_SEAL", Flags.SEAL],
  ["NTLMSSP_NEGOTIATE_128", Flags.KEY_128],
];

/** MsvAvChannelBindings (MS-NLMP 2.2.2.1): MD5 of the gss_channel_bindings_struct. */
export const AV_CHANNEL_BINDINGS = 0x000a;

/** The target info with one AV pair added before MsvAvEOL (MS-NLMP 3.1.5.1.2 adds pairs this way). */
function withAvPair(targetInfo: Buffer, id: number, value: Buffer): Buffer {
  const pairs: Buffer[] = [];
  for (const [pairId, pairValue] of avPairs(targetInfo)) {
    if (pairId !== id) pairs.push(avPairBytes(pairId, pairValue));
  }
  return Buffer.concat([...pairs, avPairBytes(id, value), avPairBytes(AV_EOL, Buffer.alloc(0))]);
}

export function avPairBytes(id: number, value: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16LE(id, 0);
  h.writeUInt16LE(value.length, 2);
  return Buffer.concat([h, value]);
}

export interface AuthenticateInput {
  account: string;
  password: string;
  challenge: Challenge;
  /**
   * Over HTTPS: the MsvAvChannelBindings value for the server's certificate
   * (channelBinding.ts); absent over HTTP, where there is no channel to bind.
   */
  channelBindings?: Buffer;
  /** Fixed only by tests (MS-NLMP 4.2.4 vectors); random otherwise. */
  clientChallenge?: Buffer;
  exportedSessionKey?: Buffer;
  timestamp?: Buffer;
}

export interface Authenticated {
  message: Buffer;
  session: NtlmSession;
  /** For tests against the published vectors. */
  ntProofStr: Buffer;
  sessionBaseKey: Buffer;
  encryptedRandomSessionKey: Buffer;
}

/** NTLMv2 response (MS-NLMP 3.3.2) and the AUTHENTICATE message with key exchange. */
export function authenticateMessage(input: AuthenticateInput): Authenticated {
  const { user, domain } = splitAccount(input.account);
  const { challenge } = input;
  const flags = challenge.flags & CLIENT_FLAGS;
  const missing = REQUIRED.filter(([, flag]) => !(flags & flag)).map(([name]) => name);
  if (missing.length > 0) throw new NtlmChallengeRefused(missing);
  const clientChallenge = input.clientChallenge ?? crypto.randomBytes(8);
  const serverTimestamp = avPairs(challenge.targetInfo).get(AV_TIMESTAMP);
  const timestamp = input.timestamp ?? serverTimestamp ?? fileTimeNow();
  const key = ntowfv2(user, domain, input.password);
  // The binding travels inside the NTLMv2 client challenge, which NTProofStr covers: it cannot be
  // stripped or replaced without the password (MS-NLMP 3.1.5.1.2, pyspnego `_compute_response`).
  const targetInfo = input.channelBindings ? withAvPair(challenge.targetInfo, AV_CHANNEL_BINDINGS, input.channelBindings) : challenge.targetInfo;
  const temp = Buffer.concat([Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), timestamp, clientChallenge, Buffer.alloc(4), targetInfo, Buffer.alloc(4)]);
  const ntProofStr = hmacMd5(key, challenge.serverChallenge, temp);
  const ntResponse = Buffer.concat([ntProofStr, temp]);
  // With a server timestamp the LMv2 response must be zeros (MS-NLMP 3.1.5.1.2).
  const lmResponse = serverTimestamp ? Buffer.alloc(24) : Buffer.concat([hmacMd5(key, challenge.serverChallenge, clientChallenge), clientChallenge]);
  const sessionBaseKey = hmacMd5(key, ntProofStr);
  const exportedSessionKey = input.exportedSessionKey ?? crypto.randomBytes(16);
  const encryptedRandomSessionKey = new Rc4(sessionBaseKey).update(exportedSessionKey);

  const payload = [lmResponse, ntResponse, Buffer.from(domain, "utf16le"), Buffer.from(user, "utf16le"), Buffer.alloc(0), encryptedRandomSessionKey];
  const header = Buffer.alloc(64);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(3, 8);
  let offset = 64;
  payload.forEach((p, n) => {
    header.writeUInt16LE(p.length, 12 + n * 8);
    header.writeUInt16LE(p.length, 14 + n * 8);
    header.writeUInt32LE(offset, 16 + n * 8);
    offset += p.length;
  });
  header.writeUInt32LE(flags >>> 0, 60);
  return {
    message: Buffer.concat([header, ...payload]),
    session: new NtlmSession(exportedSessionKey, "client"),
    ntProofStr,
    sessionBaseKey,
    encryptedRandomSessionKey,
  };
}

const MAGIC = (direction: string, purpose: string) => Buffer.from(`session key to ${direction} ${purpose} key magic constant\0`, "ascii");

/** NTLM session security with extended session security and key exchange (MS-NLMP 3.4.4.2). */
export class NtlmSession {
  private readonly sendSign: Buffer;
  private readonly receiveSign: Buffer;
  private readonly sendSeal: Rc4;
  private readonly receiveSeal: Rc4;
  private sendSeq = 0;
  private receiveSeq = 0;

  constructor(exportedSessionKey: Buffer, role: "client" | "server") {
    const [mine, theirs] = role === "client" ? ["client-to-server", "server-to-client"] : ["server-to-client", "client-to-server"];
    this.sendSign = md5(exportedSessionKey, MAGIC(mine, "signing"));
    this.receiveSign = md5(exportedSessionKey, MAGIC(theirs, "signing"));
    this.sendSeal = new Rc4(md5(exportedSessionKey, MAGIC(mine, "sealing")));
    this.receiveSeal = new Rc4(md5(exportedSessionKey, MAGIC(theirs, "sealing")));
  }

  /** Encrypts a message; returns the 16-byte signature and the sealed bytes. */
  seal(message: Buffer): { signature: Buffer; sealed: Buffer } {
    const seq = Buffer.alloc(4);
    seq.writeUInt32LE(this.sendSeq++);
    const sealed = this.sendSeal.update(message);
    const checksum = this.sendSeal.update(hmacMd5(this.sendSign, seq, message).subarray(0, 8));
    return { signature: Buffer.concat([Buffer.from([1, 0, 0, 0]), checksum, seq]), sealed };
  }

  /** Decrypts a message and verifies its signature and sequence number; throws if tampered. */
  unseal(sealed: Buffer, signature: Buffer): Buffer {
    const seq = Buffer.alloc(4);
    seq.writeUInt32LE(this.receiveSeq++);
    const message = this.receiveSeal.update(sealed);
    const checksum = this.receiveSeal.update(hmacMd5(this.receiveSign, seq, message).subarray(0, 8));
    const expected = Buffer.concat([Buffer.from([1, 0, 0, 0]), checksum, seq]);
    if (signature.length !== 16 || !crypto.timingSafeEqual(signature, expected)) {
      throw new Error("NTLM message signature does not verify: the message was altered or is out of sequence");
    }
    return message;
  }
}
