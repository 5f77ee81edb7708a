// The tls-server-end-point channel binding (RFC 5929) against independent implementations:
// Debian's requests-ntlm 1.1.0 (`_get_certificate_hash`) picks the hash for certificates of each
// signature algorithm it knows, ntlm-auth 1.4.0 (`GssChannelBindingsStruct`) packs and hashes the
// binding; OpenSSL hashes the certificates requests-ntlm cannot read (RSASSA-PSS, Ed25519).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { channelBindingsHash, endPointHash, tlsServerEndPoint } from "../../provider/transport/winrm/channelBinding";

const PYTHON = "/usr/bin/python3";
let dir: string;

/** A self-signed certificate made by OpenSSL with these `openssl req` options; its DER. */
function certificate(name: string, options: string[]): Buffer {
  const pem = path.join(dir, `${name}.pem`);
  execFileSync("openssl", ["req", "-x509", "-nodes", "-days", "1", "-subj", `/CN=${name}`, ...options, "-keyout", path.join(dir, `${name}.key`), "-out", pem], { stdio: "ignore" });
  return new crypto.X509Certificate(fs.readFileSync(pem)).raw;
}

function python(script: string, ...args: string[]): string {
  return execFileSync(PYTHON, ["-c", script, ...args], { encoding: "utf8" }).trim();
}

describe("tls-server-end-point channel binding (RFC 5929)", () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cbt-"));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // RFC 5929 4.1: the certificate's signature hash, except MD5 and SHA-1, which become SHA-256.
  for (const [name, options, hash] of [
    ["md5-rsa", ["-newkey", "rsa:2048", "-md5"], "sha256"],
    ["sha1-rsa", ["-newkey", "rsa:2048", "-sha1"], "sha256"],
    ["sha256-rsa", ["-newkey", "rsa:2048", "-sha256"], "sha256"],
    ["sha384-rsa", ["-newkey", "rsa:2048", "-sha384"], "sha384"],
    ["sha512-rsa", ["-newkey", "rsa:2048", "-sha512"], "sha512"],
    ["sha384-ecdsa", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-sha384"], "sha384"],
  ] as const) {
    it(`hashes a ${name} certificate with ${hash}, as requests-ntlm does`, () => {
      const der = certificate(name, [...options]);
      assert.equal(endPointHash(der), hash);
      const theirs = python(
        "import sys, ssl; from requests_ntlm.requests_ntlm import _get_certificate_hash; " +
          "print(_get_certificate_hash(ssl.PEM_cert_to_DER_cert(open(sys.argv[1]).read())))",
        path.join(dir, `${name}.pem`),
      );
      assert.equal(tlsServerEndPoint(der).subarray("tls-server-end-point:".length).toString("hex").toUpperCase(), theirs);
    });
  }

  // requests-ntlm 1.1.0 reads neither: it sends no binding for RSASSA-PSS and fails on Ed25519.
  it("hashes an RSASSA-PSS certificate with the hash named in its parameters", () => {
    const der = certificate("pss-sha384", ["-newkey", "rsa:2048", "-sha384", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]);
    assert.equal(endPointHash(der), "sha384");
    assert.ok(tlsServerEndPoint(der).subarray(21).equals(crypto.createHash("sha384").update(der).digest()));
  });

  it("hashes an Ed25519 certificate, whose signature names no hash, with SHA-256", () => {
    const der = certificate("ed25519", ["-newkey", "ed25519"]);
    assert.equal(endPointHash(der), "sha256");
    assert.ok(tlsServerEndPoint(der).subarray(21).equals(crypto.createHash("sha256").update(der).digest()));
  });

  it("packs the gss_channel_bindings_struct and hashes it as ntlm-auth does", () => {
    const der = certificate("bindings", ["-newkey", "rsa:2048", "-sha256"]);
    const binding = tlsServerEndPoint(der);
    const theirs = python(
      "import sys, hashlib; from ntlm_auth.gss_channel_bindings import GssChannelBindingsStruct; " +
        "s = GssChannelBindingsStruct(); s[s.APPLICATION_DATA] = bytes.fromhex(sys.argv[1]); " +
        "print(hashlib.md5(s.get_data()).hexdigest())",
      binding.toString("hex"),
    );
    assert.equal(channelBindingsHash(binding).toString("hex"), theirs);
  });
});
