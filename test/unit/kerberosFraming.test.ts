// MS-WSMV 2.2.9.1.1 framing with a Kerberos context: the multipart/encrypted body our client
// sends carries the RFC 4121 wrap token's 60-byte header after a Length-Field of 60, then data as
// long as the SOAP message (OriginalContent's Length), and the peer's context reads it back; a
// body whose announced length differs, or whose token was altered, is refused.
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { decryptMessage, encryptMessage, gssSealer } from "../../provider/transport/winrm/encryption";
import { GssSession } from "../../provider/transport/winrm/kerberos/gssWrap";

function pair() {
  const key = { etype: 18, value: crypto.randomBytes(32) };
  const initiator = new GssSession({ role: "initiator", key, acceptorSubkey: true, sendSeq: 7n, receiveSeq: 900n });
  const acceptor = new GssSession({ role: "acceptor", key, acceptorSubkey: true, sendSeq: 900n, receiveSeq: 7n });
  return { client: gssSealer(initiator), server: gssSealer(acceptor) };
}

describe("WinRM message encryption with a Kerberos context (MS-WSMV 2.2.9.1.1.2.2)", () => {
  it("frames the wrap token as Length-Field 60, the 60-byte header, then data as long as the SOAP; the peer reads it back", () => {
    const { client, server } = pair();
    const soap = Buffer.from('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">é</s:Envelope>', "utf8");
    const body = encryptMessage(client, soap);
    const text = body.toString("latin1");
    assert.match(text, /^--Encrypted Boundary\r\n\tContent-Type: application\/HTTP-SPNEGO-session-encrypted\r\n/);
    assert.match(text, new RegExp(`\\tOriginalContent: type=application/soap\\+xml;charset=UTF-8;Length=${soap.length}\\r\\n`));
    const octets = body.indexOf("\tContent-Type: application/octet-stream\r\n") + "\tContent-Type: application/octet-stream\r\n".length;
    assert.equal(body.readUInt32LE(octets), 60);
    assert.equal(body.readUInt16BE(octets + 4), 0x0504, "the header starts with a wrap token's TOK_ID");
    const end = body.lastIndexOf("--Encrypted Boundary--\r\n");
    assert.equal(end - (octets + 4 + 60), soap.length, "data as long as the SOAP message");
    assert.ok(decryptMessage(server, body).equals(soap));
    // And the reply direction.
    const reply = encryptMessage(server, Buffer.from("<reply/>"));
    assert.equal(decryptMessage(client, reply).toString(), "<reply/>");
  });

  it("refuses a body whose announced Length differs from the sealed message, and an altered token", () => {
    const { client, server } = pair();
    const soap = Buffer.from("<s:Envelope/>");
    const lying = Buffer.from(encryptMessage(client, soap).toString("latin1").replace(`Length=${soap.length}`, `Length=${soap.length + 1}`), "latin1");
    assert.throws(() => decryptMessage(server, lying), /length does not match/);
    const { client: c2, server: s2 } = pair();
    const altered = encryptMessage(c2, soap);
    altered[altered.lastIndexOf("--Encrypted Boundary--\r\n") - 1] ^= 1;
    assert.throws(() => decryptMessage(s2, altered), /integrity check failed/);
  });
});
