// The acceptor side of NTLMv2 (MS-NLMP 3.2.5): the CHALLENGE a server sends and its check of the
// client's AUTHENTICATE. Test tooling only (the WinRM emulators use it); the provider is a client
// and ships just provider/transport/winrm/ntlm.ts. The MS-NLMP 4.2.4 vectors (test/unit/ntlm.test.ts)
// pin both directions, and the emulator is checked against an independent client (pywinrm).
import * as crypto from "node:crypto";
import { avPairs, expectType, field, hmacMd5, NtlmSession, ntowfv2, SIGNATURE } from "../../provider/transport/winrm/ntlm";
import { Rc4 } from "../../provider/transport/winrm/rc4";

export function challengeMessage(flags: number, serverChallenge: Buffer, targetInfo: Buffer): Buffer {
  const m = Buffer.alloc(48 + targetInfo.length);
  SIGNATURE.copy(m, 0);
  m.writeUInt32LE(2, 8);
  m.writeUInt32LE(48, 16); // empty target name
  m.writeUInt32LE(flags >>> 0, 20);
  serverChallenge.copy(m, 24);
  m.writeUInt16LE(targetInfo.length, 40);
  m.writeUInt16LE(targetInfo.length, 42);
  m.writeUInt32LE(48, 44);
  targetInfo.copy(m, 48);
  return m;
}

export interface AuthenticateFields {
  user: string;
  domain: string;
  lmResponse: Buffer;
  ntResponse: Buffer;
  encryptedRandomSessionKey: Buffer;
  flags: number;
}

export function parseAuthenticate(m: Buffer): AuthenticateFields {
  expectType(m, 3);
  if (m.length < 64) throw new Error("NTLM authenticate message too short");
  return {
    lmResponse: field(m, 12),
    ntResponse: field(m, 20),
    domain: field(m, 28).toString("utf16le"),
    user: field(m, 36).toString("utf16le"),
    encryptedRandomSessionKey: field(m, 52),
    flags: m.readUInt32LE(60),
  };
}

/**
 * The AV pairs the client put in its NTLMv2 client challenge (MS-NLMP 2.2.2.7: after NTProofStr,
 * 28 bytes of RespType, HiRespType, reserved fields, TimeStamp and ChallengeFromClient), where an
 * acceptor finds MsvAvChannelBindings.
 */
export function clientAvPairs(fields: AuthenticateFields): Map<number, Buffer> {
  return avPairs(fields.ntResponse.subarray(16 + 28));
}

/**
 * The acceptor's check of an AUTHENTICATE message (MS-NLMP 3.2.5.1.2): recompute NTProofStr
 * from the password it knows, and recover the exported session key. Returns null on a wrong
 * password.
 */
export function acceptAuthenticate(fields: AuthenticateFields, password: string, serverChallenge: Buffer): NtlmSession | null {
  const key = ntowfv2(fields.user, fields.domain, password);
  const ntProofStr = fields.ntResponse.subarray(0, 16);
  const expected = hmacMd5(key, serverChallenge, fields.ntResponse.subarray(16));
  if (ntProofStr.length !== 16 || !crypto.timingSafeEqual(ntProofStr, expected)) return null;
  const sessionBaseKey = hmacMd5(key, ntProofStr);
  return new NtlmSession(new Rc4(sessionBaseKey).update(fields.encryptedRandomSessionKey), "server");
}
