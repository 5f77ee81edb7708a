// Channel binding for NTLM over HTTPS (Extended Protection for Authentication): the
// tls-server-end-point binding of RFC 5929 section 4, packed as a gss_channel_bindings_struct and
// hashed into the MsvAvChannelBindings AV pair (MS-NLMP 2.2.2.1). A man in the middle who ends
// the TLS session with a certificate of its own cannot relay the AUTHENTICATE message: the hash
// names the certificate the client saw. Used by the client, and by the test emulator to check it.
import * as crypto from "node:crypto";

/** RFC 5929 4.1: the hash of the certificate's own signature algorithm, but never MD5 or SHA-1. */
export type EndPointHash = "sha256" | "sha384" | "sha512" | "sha224";

// Signature algorithm OIDs (RFC 4055, RFC 5758, RFC 8410) -> their hash. Anything else (MD5,
// SHA-1, Ed25519, unknown) falls back to SHA-256, as RFC 5929 4.1 says for MD5 and SHA-1 and as
// requests-ntlm (`_get_certificate_hash`) and pyspnego do.
const SIGNATURE_HASH: Record<string, EndPointHash> = {
  "1.2.840.113549.1.1.11": "sha256", // sha256WithRSAEncryption
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
  "1.2.840.113549.1.1.14": "sha224",
  "1.2.840.10045.4.3.1": "sha224", // ecdsa-with-SHA224
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
};
const RSASSA_PSS = "1.2.840.113549.1.1.10";
// Hash algorithm OIDs (RFC 5754) as they appear in RSASSA-PSS parameters (RFC 4055 3.1).
const HASH: Record<string, EndPointHash> = {
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
  "2.16.840.1.101.3.4.2.4": "sha224",
};

interface Der {
  tag: number;
  /** The contents, without tag and length. */
  value: Buffer;
  /** Offset just past this element. */
  end: number;
}

/** One DER element at `at` (X.690 8.1: definite lengths only, as DER requires). */
function derAt(b: Buffer, at: number): Der {
  if (at + 2 > b.length) throw new Error("truncated DER");
  const tag = b[at];
  let length = b[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > b.length) throw new Error("unsupported DER length");
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + b[start + i];
    start += bytes;
  }
  if (start + length > b.length) throw new Error("truncated DER");
  return { tag, value: b.subarray(start, start + length), end: start + length };
}

function children(value: Buffer): Der[] {
  const out: Der[] = [];
  for (let at = 0; at < value.length;) {
    const d = derAt(value, at);
    out.push(d);
    at = d.end;
  }
  return out;
}

/** An OBJECT IDENTIFIER's dotted form (X.690 8.19). */
function oid(d: Der): string {
  if (d.tag !== 0x06 || d.value.length === 0) throw new Error("not an OBJECT IDENTIFIER");
  const top = d.value[0] < 40 ? 0 : d.value[0] < 80 ? 1 : 2;
  const arcs = [top, d.value[0] - 40 * top];
  let arc = 0;
  for (const byte of d.value.subarray(1)) {
    arc = arc * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(arc);
      arc = 0;
    }
  }
  return arcs.join(".");
}

/**
 * The hash RFC 5929 4.1 prescribes for a DER certificate: that of its signatureAlgorithm
 * (Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }, RFC 5280
 * 4.1), SHA-256 when that is MD5, SHA-1 or not a hash we know.
 */
export function endPointHash(certificateDer: Buffer): EndPointHash {
  const certificate = derAt(certificateDer, 0);
  const [, signatureAlgorithm] = children(certificate.value);
  if (!signatureAlgorithm || signatureAlgorithm.tag !== 0x30) throw new Error("not an X.509 certificate");
  const [algorithm, parameters] = children(signatureAlgorithm.value);
  const name = oid(algorithm);
  if (name === RSASSA_PSS) {
    // RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] HashAlgorithm DEFAULT sha1, ... }
    const hashAlgorithm = parameters && parameters.tag === 0x30 ? children(parameters.value).find((c) => c.tag === 0xa0) : undefined;
    if (!hashAlgorithm) return "sha256";
    const [identifier] = children(hashAlgorithm.value);
    return HASH[oid(children(identifier.value)[0])] ?? "sha256";
  }
  return SIGNATURE_HASH[name] ?? "sha256";
}

/** The tls-server-end-point channel binding (RFC 5929 4): its prefix, then the certificate's hash. */
export function tlsServerEndPoint(certificateDer: Buffer): Buffer {
  const hash = crypto.createHash(endPointHash(certificateDer)).update(certificateDer).digest();
  return Buffer.concat([Buffer.from("tls-server-end-point:", "ascii"), hash]);
}

/**
 * The MsvAvChannelBindings value: MD5 of the gss_channel_bindings_struct (RFC 2744 3.11) with
 * empty initiator and acceptor addresses of type 0 and the binding as application data, packed
 * little-endian as pyspnego (`channel_bindings.py` pack) and Heimdal (`gss_mg_gen_cb`) do: for
 * each address its type and length then its bytes, for the application data its length and bytes.
 */
export function channelBindingsHash(applicationData: Buffer): Buffer {
  const header = Buffer.alloc(20);
  // initiator_addrtype 0, initiator_address length 0, acceptor_addrtype 0, acceptor_address length 0
  header.writeUInt32LE(applicationData.length, 16);
  return crypto.createHash("md5").update(header).update(applicationData).digest();
}

/** The AV pair value for a TLS server certificate. */
export function certificateBindingHash(certificateDer: Buffer): Buffer {
  return channelBindingsHash(tlsServerEndPoint(certificateDer));
}
