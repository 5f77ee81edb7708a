// A WinRM host that lies, for tests of what the WinRM client refuses: it completes a real NTLMv2
// handshake and answers the whole shell exchange (Create, Command, Send, Receive, Signal, Delete)
// of a run that succeeds, but spoils every SOAP reply in one chosen way. Told to tell no lie, it
// proves that the exchange itself works, so each refusal is caused by its lie alone.
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { decryptMessage, ENCRYPTED_CONTENT_TYPE, encryptMessage } from "../../provider/transport/winrm/encryption";
import { CLIENT_FLAGS, Flags, NtlmSession } from "../../provider/transport/winrm/ntlm";
import { acceptAuthenticate, parseAuthenticate } from "./ntlmAcceptor";
import { ACTION, COMMAND_DONE, newMessageId, parseEnvelope, text, Xml } from "../../provider/transport/winrm/soap";
import { replyEnvelope, simulatedChallenge } from "./winrmServer";

export type Lie =
  /** Honest: every reply sealed, related to its request, with the expected action. */
  | "none"
  /** Replies in plain SOAP although the request was sealed. */
  | "unsealed"
  /** Sealed, but the OriginalContent header announces one byte more than the sealed SOAP holds. */
  | "wrongLength"
  /** Sealed, with a RelatesTo naming another MessageID than the request's. */
  | "wrongRelatesTo"
  /** Sealed, with the action of another operation's response. */
  | "wrongAction"
  /**
   * Sealed, then one byte of the sealed text flipped, as a man in the middle could: RC4 is a
   * stream cipher, so the flip reaches the plaintext unnoticed unless the NTLM signature is checked.
   */
  | "alteredInTransit"
  /** Sealed and well formed, but sent with HTTP 500 and no SOAP fault. */
  | "statusWithoutFault"
  /** The command is reported Done without an ExitCode: nothing says it succeeded. */
  | "noExitCode"
  /** Ends the TCP connection NTLM authenticated, then answers on the next one as if nothing happened. */
  | "newConnection"
  /**
   * Its NTLM CHALLENGE withholds NTLMSSP_NEGOTIATE_KEY_EXCH, as a man in the middle downgrading
   * the session would: the session key would then be derived from the password alone.
   */
  | "noKeyExchange"
  /**
   * Once the command was started, answers its stdin (the script on its way) with bytes that are
   * not HTTP: a socket failure after the command was sent, when the script may already be running.
   */
  | "garbageAfterCommand";

/** stdout of the honest run. */
export const HONEST_STDOUT = '{"status":"ok"}';
/** An action no reply of the shell exchange carries. */
const FOREIGN_ACTION = "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse";
/** The last line of a multipart/encrypted body (MS-WSMV 2.2.9.1.1); the sealed text ends right before it. */
const TRAILER = Buffer.from("--Encrypted Boundary--\r\n", "ascii");

export interface HostileOptions {
  address: string;
  password: string;
  lie: Lie;
}

export class HostileWinrmServer {
  /** HTTP requests received, NTLM included. */
  requests = 0;
  /** SOAP requests that arrived sealed and verified. */
  sealedRequests = 0;
  /** SOAP replies sent, each spoiled by the lie. */
  replies = 0;
  /** The NTLM session of the one client, kept per server (not per TCP connection) so "newConnection" can go on. */
  private session?: NtlmSession;
  private serverChallenge?: Buffer;

  private constructor(
    private readonly options: HostileOptions,
    private readonly server: http.Server,
  ) {}

  static async start(options: HostileOptions): Promise<HostileWinrmServer> {
    let hostile: HostileWinrmServer | undefined;
    const server = await listenWithBodies(options.address, (req, res, body) => hostile!.handle(req, res, body));
    hostile = new HostileWinrmServer(options, server);
    return hostile;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    this.requests++;
    const negotiate = /^Negotiate ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? "");
    if (negotiate) {
      const token = Buffer.from(negotiate[1], "base64");
      const type = token.length >= 12 ? token.readUInt32LE(8) : 0;
      if (type === 1) {
        this.serverChallenge = crypto.randomBytes(8);
        const flags = this.options.lie === "noKeyExchange" ? CLIENT_FLAGS & ~Flags.KEY_EXCH : CLIENT_FLAGS;
        const challenge = simulatedChallenge(this.serverChallenge, flags).toString("base64");
        res.writeHead(401, { "WWW-Authenticate": `Negotiate ${challenge}`, "Content-Length": "0" });
        return void res.end();
      }
      if (type === 3 && this.serverChallenge) {
        const session = acceptAuthenticate(parseAuthenticate(token), this.options.password, this.serverChallenge);
        this.serverChallenge = undefined;
        if (!session) {
          res.writeHead(401, { "WWW-Authenticate": "Negotiate", "Content-Length": "0" });
          return void res.end();
        }
        this.session = session;
        const close = this.options.lie === "newConnection" ? { Connection: "close" } : {};
        res.writeHead(200, { "Content-Length": "0", ...close });
        return void res.end();
      }
    }
    // As Windows with AllowUnencrypted false: SOAP over HTTP must arrive sealed.
    const sealed = String(req.headers["content-type"] ?? "").includes("HTTP-SPNEGO-session-encrypted");
    let soap: Buffer;
    try {
      if (!this.session || !sealed) throw new Error("unsealed");
      soap = decryptMessage(this.session, body);
    } catch {
      res.writeHead(400, { "Content-Type": "text/plain", Connection: "close" });
      return void res.end("unencrypted or unverifiable traffic is not allowed");
    }
    this.sealedRequests++;
    const { header, body: request } = parseEnvelope(soap.toString("utf8"));
    const action = text(header.Action);
    if (this.options.lie === "garbageAfterCommand" && action === ACTION.send) {
      // Not HTTP: the client's parser fails on it (the socket is left open, so no reset comes first).
      return void res.socket?.write("NOT-HTTP/9.9 ???\r\n\r\n");
    }
    const { replyAction, replyBody } = honestAnswer(action, request);
    const told = this.options.lie === "noExitCode" ? replyBody.replace(/<rsp:ExitCode>\d+<\/rsp:ExitCode>/, "") : replyBody;
    this.reply(res, text(header.MessageID), replyAction, told);
  }

  private reply(res: http.ServerResponse, messageId: string, replyAction: string, replyBody: string): void {
    const lie = this.options.lie;
    this.replies++;
    const relatesTo = lie === "wrongRelatesTo" ? newMessageId() : messageId;
    const xml = Buffer.from(replyEnvelope(lie === "wrongAction" ? FOREIGN_ACTION : replyAction, relatesTo, replyBody), "utf8");
    const status = lie === "statusWithoutFault" ? 500 : 200;
    if (lie === "unsealed") {
      res.writeHead(status, { "Content-Type": "application/soap+xml;charset=UTF-8", "Content-Length": String(xml.length) });
      return void res.end(xml);
    }
    let sealed = encryptMessage(this.session!, xml);
    if (lie === "wrongLength") {
      const announced = Buffer.from(`Length=${xml.length}\r\n`, "ascii");
      const at = sealed.indexOf(announced);
      sealed = Buffer.concat([sealed.subarray(0, at), Buffer.from(`Length=${xml.length + 1}\r\n`, "ascii"), sealed.subarray(at + announced.length)]);
    }
    if (lie === "alteredInTransit") {
      // Flip a bit of the reply's own MessageID, which the client does not read: without the
      // signature check the altered reply would be taken as sent.
      const inXml = xml.indexOf("<a:MessageID>uuid:") + "<a:MessageID>uuid:".length;
      const sealedStart = sealed.lastIndexOf(TRAILER) - xml.length;
      sealed[sealedStart + inXml] ^= 0x01;
    }
    res.writeHead(status, { "Content-Type": ENCRYPTED_CONTENT_TYPE, "Content-Length": String(sealed.length) });
    res.end(sealed);
  }
}

/**
 * An HTTP server on `address` (any free port) that hands each request to `handle` with its whole
 * body; a handler that throws, or whose promise rejects, answers 500 with the error (or drops the
 * connection when it had begun answering). The hostile servers' common start.
 */
export async function listenWithBodies(
  address: string,
  handle: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void | Promise<void>,
): Promise<http.Server> {
  const server = http.createServer();
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      Promise.resolve()
        .then(() => handle(req, res, Buffer.concat(chunks)))
        .catch((err: unknown) => {
          if (res.headersSent) return void res.destroy();
          res.writeHead(500, { "Content-Type": "text/plain" });
          res.end(String(err));
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => resolve());
  });
  return server;
}

/** Ends every connection of a server started by listenWithBodies, then the server. */
export async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The reply a Windows host gives to each step of a run that prints HONEST_STDOUT and exits 0. */
export function honestAnswer(action: string, request: Xml): { replyAction: string; replyBody: string } {
  const shellId = "8B2F7C1E-0D4A-4E6B-9C3F-5A1D2E3F4A5B";
  const commandId = "1C2D3E4F-5A6B-4C7D-8E9F-0A1B2C3D4E5F";
  switch (action) {
    case ACTION.create:
      return { replyAction: `${action}Response`, replyBody: `<rsp:Shell><rsp:ShellId>${shellId}</rsp:ShellId></rsp:Shell>` };
    case ACTION.command:
      return { replyAction: `${action}Response`, replyBody: `<rsp:CommandResponse><rsp:CommandId>${commandId}</rsp:CommandId></rsp:CommandResponse>` };
    case ACTION.send:
      return { replyAction: `${action}Response`, replyBody: "<rsp:SendResponse/>" };
    case ACTION.receive: {
      const id = request.Receive?.DesiredStream?.["@CommandId"] ?? commandId;
      const stdout = Buffer.from(HONEST_STDOUT, "utf8").toString("base64");
      return {
        replyAction: `${action}Response`,
        replyBody:
          `<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="${id}">${stdout}</rsp:Stream>` +
          `<rsp:CommandState CommandId="${id}" State="${COMMAND_DONE}"><rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`,
      };
    }
    case ACTION.signal:
      return { replyAction: `${action}Response`, replyBody: "<rsp:SignalResponse/>" };
    case ACTION.delete:
      return { replyAction: `${action}Response`, replyBody: "" };
    default:
      throw new Error(`the hostile host does not know the action ${action}`);
  }
}
