// MS-WSMV 2.2.9.1.1 message encryption over HTTP: a SOAP message sealed with the session's
// security context (NTLM, or Kerberos through RFC 4121 wrap tokens) and framed as
// multipart/encrypted. Used by the client, and by the test emulator's server side.
import type { GssSession } from "./kerberos/gssWrap";

/**
 * A security context that seals one message into the "encryption header" MS-WSMV 2.2.9.1.1.2.2
 * announces with its Length-Field (the signature) and data as long as the message: NTLM's
 * NtlmSession (a 16-byte signature), or a Kerberos GssSession through gssSealer (a 60-byte header).
 */
export interface MessageSealer {
  seal(message: Buffer): { signature: Buffer; sealed: Buffer };
  unseal(sealed: Buffer, signature: Buffer): Buffer;
}

/** A Kerberos context as a MessageSealer: the wrap token's header is the signature, its data the sealed part. */
export function gssSealer(session: GssSession): MessageSealer {
  return {
    seal: (message) => {
      const { header, data } = session.wrap(message);
      return { signature: header, sealed: data };
    },
    unseal: (sealed, signature) => session.unwrap(signature, sealed),
  };
}

/** The protocol a sealed body names: SPNEGO for the Negotiate scheme (NTLM or Kerberos), Kerberos for the Kerberos scheme (MS-WSMV 2.2.9.1.2.2.1). */
export type EncryptionProtocol = "application/HTTP-SPNEGO-session-encrypted" | "application/HTTP-Kerberos-session-encrypted";
export const SPNEGO_ENCRYPTED: EncryptionProtocol = "application/HTTP-SPNEGO-session-encrypted";
export const KERBEROS_ENCRYPTED: EncryptionProtocol = "application/HTTP-Kerberos-session-encrypted";

/** The Content-Type of a sealed body under `protocol`. */
export function encryptedContentType(protocol: EncryptionProtocol): string {
  return `multipart/encrypted;protocol="${protocol}";boundary="Encrypted Boundary"`;
}

export const ENCRYPTED_CONTENT_TYPE = encryptedContentType(SPNEGO_ENCRYPTED);
const BOUNDARY = Buffer.from("--Encrypted Boundary\r\n", "ascii");
const END = Buffer.from("--Encrypted Boundary--\r\n", "ascii");
const OCTET_HEADER = Buffer.from("\tContent-Type: application/octet-stream\r\n", "ascii");

/**
 * A sealed message as MS-WSMV 2.2.9.1.1.2.2 carries it: the security header ("signature"), the
 * sealed bytes, and the plaintext length OriginalContent announces.
 */
export interface SealedParts {
  signature: Buffer;
  sealed: Buffer;
  length: number;
}

/** The multipart/encrypted body for a message already sealed: Length-Field, header, sealed data. */
export function frameEncrypted(parts: SealedParts, protocol: EncryptionProtocol = SPNEGO_ENCRYPTED): Buffer {
  const lengthField = Buffer.alloc(4);
  lengthField.writeUInt32LE(parts.signature.length);
  return Buffer.concat([
    BOUNDARY,
    Buffer.from(`\tContent-Type: ${protocol}\r\n` + `\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=${parts.length}\r\n`, "ascii"),
    BOUNDARY,
    OCTET_HEADER,
    lengthField,
    parts.signature,
    parts.sealed,
    END,
  ]);
}

/** The parts of a multipart/encrypted body, not yet unsealed; throws when it is malformed. */
export function parseEncrypted(body: Buffer): SealedParts {
  const first = body.indexOf(BOUNDARY);
  const second = body.indexOf(BOUNDARY, first + BOUNDARY.length);
  const end = body.lastIndexOf(END);
  if (first !== 0 || second < 0 || end < second) throw new Error("malformed multipart/encrypted message");
  const header = body.subarray(first + BOUNDARY.length, second).toString("ascii");
  const length = /Length=(\d+)/.exec(header);
  const part = body.subarray(second + BOUNDARY.length, end);
  if (!length || !part.subarray(0, OCTET_HEADER.length).equals(OCTET_HEADER)) throw new Error("malformed multipart/encrypted message");
  const payload = part.subarray(OCTET_HEADER.length);
  if (payload.length < 4) throw new Error("malformed multipart/encrypted message");
  const signatureLength = payload.readUInt32LE(0);
  if (4 + signatureLength > payload.length) throw new Error("malformed multipart/encrypted message: its Length-Field is longer than the data");
  return { signature: payload.subarray(4, 4 + signatureLength), sealed: payload.subarray(4 + signatureLength), length: Number(length[1]) };
}

/** Throws unless an unsealed message is as long as OriginalContent said: a difference means it was altered. */
export function checkSealedLength(message: Buffer, parts: SealedParts): Buffer {
  if (message.length !== parts.length) throw new Error("encrypted message length does not match its header: altered");
  return message;
}

/** Seals a SOAP message with `session` and frames it as multipart/encrypted. */
export function encryptMessage(session: MessageSealer, soap: Buffer, protocol: EncryptionProtocol = SPNEGO_ENCRYPTED): Buffer {
  return frameEncrypted({ ...session.seal(soap), length: soap.length }, protocol);
}

/** Unseals a multipart/encrypted body; throws when it is malformed, altered or of another length. */
export function decryptMessage(session: MessageSealer, body: Buffer): Buffer {
  const parts = parseEncrypted(body);
  return checkSealedLength(session.unseal(parts.sealed, parts.signature), parts);
}
