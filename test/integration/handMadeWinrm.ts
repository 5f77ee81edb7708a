// A WinRM client written out by hand, for tests of what the emulator accepts and refuses: one
// kept-alive connection whose NTLM steps the test chooses (account, channel binding or none),
// then SOAP messages as the test writes them, sealed over HTTP (MS-WSMV 2.2.9.1.1), plain inside
// TLS. Not the provider's client: that one never sends what these tests need to send.
import assert from "node:assert/strict";
import * as http from "node:http";
import * as https from "node:https";
import type { TLSSocket } from "node:tls";
import { certificateBindingHash } from "../../provider/transport/winrm/channelBinding";
import { decryptMessage, ENCRYPTED_CONTENT_TYPE, encryptMessage } from "../../provider/transport/winrm/encryption";
import { authenticateMessage, negotiateMessage, NtlmSession, parseChallenge } from "../../provider/transport/winrm/ntlm";
import { envelope, Fault, faultOf, newMessageId, parseEnvelope, Xml } from "../../provider/transport/winrm/soap";

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface SoapReply {
  status: number;
  header: Xml;
  body: Xml;
  fault?: Fault;
}

export interface HandMadeOptions {
  address: string;
  port: number;
  /** Over HTTPS, trusting this CA (PEM); plain HTTP with message encryption otherwise. */
  ca?: string;
  account: string;
  password: string;
  /**
   * Over HTTPS: the binding for the certificate this connection saw ("certificate", the
   * default, as the provider sends), none at all, or these 16 bytes (a wrong one).
   */
  channelBindings?: "certificate" | "none" | Buffer;
}

export interface HandMadeConnection {
  /** The HTTP status of the request that carried the AUTHENTICATE message. */
  authenticateStatus: number;
  /** The NTLM session, for tests that seal (or spoil) a message themselves. */
  session: NtlmSession;
  post(headers: Record<string, string>, body: Buffer): Promise<HttpReply>;
  /** Sends a SOAP message as written (sealed over HTTP) and reads the reply. */
  soap(xml: string): Promise<SoapReply>;
  /** An envelope as the provider writes it (soap.ts), this action and body. */
  message(action: string, body: string, header?: { shellId?: string; operationTimeoutSeconds?: number; options?: Record<string, string> }): string;
  close(): void;
}

export async function handMadeConnection(o: HandMadeOptions): Promise<HandMadeConnection> {
  const tls = o.ca !== undefined;
  const agent = tls ? new https.Agent({ keepAlive: true, maxSockets: 1, ca: o.ca }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  let peerCertificate: Buffer | undefined;
  const post = (headers: Record<string, string>, body: Buffer) =>
    new Promise<HttpReply>((resolve, reject) => {
      const request = (tls ? https : http).request(
        { host: o.address, port: o.port, path: "/wsman", method: "POST", agent, headers: { ...headers, "Content-Length": String(body.length) } },
        (res) => {
          if (tls) peerCertificate ??= (res.socket as TLSSocket).getPeerCertificate().raw;
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  const soapType = { "Content-Type": "application/soap+xml;charset=UTF-8" };
  const challenge = await post({ Authorization: `Negotiate ${negotiateMessage().toString("base64")}`, ...soapType }, Buffer.alloc(0));
  const token = /Negotiate (\S+)/.exec(String(challenge.headers["www-authenticate"]));
  assert.ok(token, `expected an NTLM challenge, got HTTP ${challenge.status}`);
  const binding = o.channelBindings ?? "certificate";
  const auth = authenticateMessage({
    account: o.account,
    password: o.password,
    challenge: parseChallenge(Buffer.from(token[1], "base64")),
    channelBindings: !tls || binding === "none" ? undefined : binding === "certificate" ? certificateBindingHash(peerCertificate!) : binding,
  });
  const authenticated = await post({ Authorization: `Negotiate ${auth.message.toString("base64")}`, ...soapType }, Buffer.alloc(0));
  const session: NtlmSession = auth.session;
  return {
    authenticateStatus: authenticated.status,
    session,
    post,
    async soap(xml) {
      const sent = Buffer.from(xml, "utf8");
      const reply = tls ? await post(soapType, sent) : await post({ "Content-Type": ENCRYPTED_CONTENT_TYPE }, encryptMessage(session, sent));
      const sealed = String(reply.headers["content-type"] ?? "").includes("HTTP-SPNEGO-session-encrypted");
      const text = sealed ? decryptMessage(session, reply.body).toString("utf8") : reply.body.toString("utf8");
      if (!text.startsWith("<")) return { status: reply.status, header: {}, body: {} };
      const parsed = parseEnvelope(text);
      return { status: reply.status, ...parsed, fault: faultOf(parsed.body) };
    },
    message(action, body, header = {}) {
      return envelope({ to: `${tls ? "https" : "http"}://${o.address}:${o.port}/wsman`, action, messageId: newMessageId(), operationTimeoutSeconds: 20, ...header }, body);
    },
    close: () => agent.destroy(),
  };
}
