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

export const ENCRYPTED_CONTENT_TYPE =
  'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"';
const BOUNDARY = Buffer.from("--Encrypted Boundary\r\n", "ascii");
const END = Buffer.from("--Encrypted Boundary--\r\n", "ascii");
const OCTET_HEADER = Buffer.from("\tContent-Type: application/octet-stream\r\n", "ascii");

export function encryptMessage(session: MessageSealer, soap: Buffer): Buffer {
  const { signature, sealed } = session.seal(soap);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(signature.length);
  return Buffer.concat([
    BOUNDARY,
    Buffer.from(
      "\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n" +
        `\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=${soap.length}\r\n`,
      "ascii",
    ),
    BOUNDARY,
    OCTET_HEADER,
    length,
    signature,
    sealed,
    END,
  ]);
}

/** Unseals a multipart/encrypted body; throws when it is malformed, altered or of another length. */
export function decryptMessage(session: MessageSealer, body: Buffer): Buffer {
  const first = body.indexOf(BOUNDARY);
  const second = body.indexOf(BOUNDARY, first + BOUNDARY.length);
  const end = body.lastIndexOf(END);
  if (first !== 0 || second < 0 || end < second) throw new Error("malformed multipart/encrypted message");
  const header = body.subarray(first + BOUNDARY.length, second).toString("ascii");
  const length = /Length=(\d+)/.exec(header);
  const part = body.subarray(second + BOUNDARY.length, end);
  if (!length || !part.subarray(0, OCTET_HEADER.length).equals(OCTET_HEADER)) throw new Error("malformed multipart/encrypted message");
  const payload = part.subarray(OCTET_HEADER.length);
  const signatureLength = payload.readUInt32LE(0);
  const soap = session.unseal(payload.subarray(4 + signatureLength), payload.subarray(4, 4 + signatureLength));
  if (soap.length !== Number(length[1])) throw new Error("encrypted message length does not match its header: altered");
  return soap;
}
