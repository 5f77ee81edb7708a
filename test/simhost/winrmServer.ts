// A WinRM server emulator for one simulated host: HTTP on a loopback address, Negotiate (raw
// NTLMv2) with 401 challenges, refusal of unencrypted traffic, MS-WSMV message encryption (or
// HTTPS with a generated certificate, where TLS protects the SOAP and NTLM is checked against the
// certificate's channel binding), and the cmd shell resource (Create, Command, Send, Receive,
// Signal, Delete) with w:TimedOut faults after the request's OperationTimeout, output spread over
// several Receive replies, a shell quota and the MaxEnvelopeSize limit. Requests are read as the
// WinRM service reads them (wsmanRequest.ts); who may log on and with which token is the host's
// WinRM service configuration (winrmService.ts). Commands go to the same host model as the sshd
// simulation. Each behaviour cites its source; where Windows' exact answer is unsettled, the
// emulator takes the harsher case and says so.
//
// Kerberos (a host joined to the domain, with HTTP/<host> in a keytab): the emulator does not
// implement it. A real GSSAPI acceptor does (MIT krb5 through the python3-gssapi sidecar,
// test/simhost/gssSidecar.ts): the emulator hands it the tokens, channel bindings and sealed
// bodies and maps its answers to HTTP as docs/windows-model.md ("WinRM with Kerberos") says.
import * as crypto from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { Socket } from "node:net";
import { certificateBindingHash, tlsServerEndPoint } from "../../provider/transport/winrm/channelBinding";
import {
  checkSealedLength,
  decryptMessage,
  EncryptionProtocol,
  encryptedContentType,
  encryptMessage,
  frameEncrypted,
  KERBEROS_ENCRYPTED,
  parseEncrypted,
  SPNEGO_ENCRYPTED,
} from "../../provider/transport/winrm/encryption";
import { AV_CHANNEL_BINDINGS, avPairBytes, CLIENT_FLAGS, NtlmSession } from "../../provider/transport/winrm/ntlm";
import { acceptAuthenticate, challengeMessage, clientAvPairs, parseAuthenticate } from "./ntlmAcceptor";
import { ACTION, NS, text, xmlEscape, COMMAND_DONE } from "../../provider/transport/winrm/soap";
import { parsePowerShell } from "./commandLine";
import { loadState, saveState } from "./model";
import { HostRun, runCommand, startPowerShell } from "./windowsHost";
import { FAULT_ACTION, readRequest, WsmanFaultReply, WsmanRequest } from "./wsmanRequest";
import { WinrmAccount, WinrmService } from "./winrmService";

const RUNNING = `${NS.rsp}/CommandState/Running`;
/**
 * stdout bytes per Receive reply when no fault asks for less: output that is all there when the
 * process ends comes back in one reply (the receiveChunkBytes fault spreads it over several).
 */
const OUTPUT_PER_RECEIVE = 8192;
/**
 * MaxShellsPerUser as Windows ships it (30; `winrm get winrm/config/winrs`). Shells outlive a
 * dropped HTTP connection until their IdleTimeOut (2 hours by default), so a host that saw many
 * dropped runs reaches this quota, as a real one does.
 */
export const MAX_SHELLS = 30;
/**
 * MaxEnvelopeSizekb: 150 KB as Microsoft Learn documents the default (newer builds ship 500). The
 * emulator enforces the smaller, which every client message must fit; a larger request gets
 * HTTP 413, as from a real WinRM service.
 */
export const MAX_ENVELOPE_BYTES = 150 * 1024;
/** The SOAP content type, which WinRM's own clients (and pywinrm) put on every request. */
const SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8";

/**
 * A GSSAPI acceptor holding the host's HTTP/<host> key: the python3-gssapi sidecar (GssSidecar)
 * in the tests. Contexts are named by the emulator, one per AP-REQ on a connection.
 */
export interface KerberosAcceptor {
  accept(ctx: string, token: Buffer, options: { channelBindingAppData?: Buffer }): Promise<{ token: Buffer | null; complete: boolean; flags: number; initiator: string | null }>;
  wrapIov(ctx: string, data: Buffer): Promise<{ header: Buffer; data: Buffer; padding: Buffer }>;
  unwrapIov(ctx: string, header: Buffer, data: Buffer): Promise<{ data: Buffer }>;
  close(ctx: string): Promise<void>;
}

/** GSS_C_CHANNEL_BOUND_FLAG: MIT's acceptor sets it when the initiator's bindings matched (RFC 5554 / MIT 1.19+). */
const GSS_C_CHANNEL_BOUND_FLAG = 0x800;

/** Why the emulator refused a Kerberos or NTLM logon, for tests (the client sees only the 401). */
export interface LogonRefusal {
  scheme: string;
  reason: string;
}

const NTLM_SIGNATURE = Buffer.from("NTLMSSP\0", "latin1");

interface ConnectionState {
  serverChallenge?: Buffer;
  session?: NtlmSession;
  /** The Kerberos context that authenticated this connection, and the sealed-body protocol its scheme goes with. */
  gss?: { ctx: string; protocol: EncryptionProtocol };
  /** A SPNEGO context still negotiating (its acceptor asked for another token). */
  gssPending?: string;
  /** The account NTLM authenticated on this TCP connection (NTLM authenticates the connection). */
  account?: WinrmAccount;
}

interface CommandState {
  commandLine: string;
  stdin: Buffer[];
  result?: Promise<HostRun | null>;
  stdoutSent: number;
  stderrSent: number;
}

/** What a test can see of a request as it reached the service: its headers, before any check. */
export interface RequestRecord {
  /** Its number: the value of `requests` once it arrived. */
  seq: number;
  contentType: string;
  /** "Negotiate/1", "Negotiate/3" (the NTLM message type), "Negotiate/gss" or "Kerberos/gss" (a Kerberos or SPNEGO token), "Basic", or "". */
  authorization: string;
  bodyBytes: number;
  /** The action and options of a SOAP request the service read, for the shell exchange's details. */
  action?: string;
  options?: Record<string, string>;
}

/** Requests kept for tests: the newest, a bounded number (the benchmark sends thousands). */
const RECORDS_KEPT = 200;

export interface WinrmHostOptions {
  address: string;
  port: number;
  stateFile: string;
  /** The host's WinRM configuration and accounts, shared with its other listener. */
  service: WinrmService;
  /** Serve HTTPS with this key and certificate (no message encryption; TLS protects the messages). */
  tls?: { key: string; cert: string };
  /** The host is joined to the domain and holds HTTP/<host>'s key: Kerberos through this acceptor. */
  kerberos?: KerberosAcceptor;
}

function fileTime(): Buffer {
  const t = Buffer.alloc(8);
  t.writeBigUInt64LE((BigInt(Date.now()) + 11644473600000n) * 10000n);
  return t;
}

/**
 * A CHALLENGE message as a Windows host sends one: the flags (by default every flag the client
 * asked for, as Windows grants them), the host's names, and a timestamp.
 */
export function simulatedChallenge(serverChallenge: Buffer, flags: number = CLIENT_FLAGS): Buffer {
  const targetInfo = Buffer.concat([
    avPairBytes(2, Buffer.from("SIM", "utf16le")),
    avPairBytes(1, Buffer.from("SIMHOST", "utf16le")),
    avPairBytes(3, Buffer.from("simhost.sim.example", "utf16le")),
    avPairBytes(7, fileTime()),
    Buffer.alloc(4),
  ]);
  return challengeMessage(flags, serverChallenge, targetInfo);
}

/** A SOAP reply as WinRM writes one: the reply's action, a new MessageID, and RelatesTo the request's. */
export function replyEnvelope(action: string, relatesTo: string, body: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${NS.s}" xmlns:a="${NS.a}" xmlns:w="${NS.w}" xmlns:rsp="${NS.rsp}" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer">` +
    `<s:Header><a:Action>${action}</a:Action><a:MessageID>uuid:${crypto.randomUUID().toUpperCase()}</a:MessageID>` +
    `<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>${xmlEscape(relatesTo)}</a:RelatesTo></s:Header>` +
    `<s:Body>${body}</s:Body></s:Envelope>`
  );
}

/** A SOAP 1.2 fault with a WSManFault detail, as WinRM writes one (Windows replies captured in microsoft/omi's tests). */
function faultBody(f: Omit<WsmanFaultReply, "replyAction" | "relatesTo">): string {
  const subcode = f.subcode ? `<s:Subcode><s:Value>${f.subcode}</s:Value></s:Subcode>` : "";
  const detail = f.detail ? `<w:FaultDetail>${f.detail}</w:FaultDetail>` : "";
  return (
    `<s:Fault><s:Code><s:Value>${f.code}</s:Value>${subcode}</s:Code>` +
    `<s:Reason><s:Text xml:lang="en-US">${xmlEscape(f.reason)}</s:Text></s:Reason>` +
    `<s:Detail>${detail}<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="${f.wsmanCode}" Machine="simhost"><f:Message>${xmlEscape(f.reason)}</f:Message></f:WSManFault></s:Detail></s:Fault>`
  );
}

function readsStdin(commandLine: string): boolean {
  try {
    // The bootstrap (-EncodedCommand) and smb-signing.ps1 run as a file (-File) read stdin to its end.
    const invocation = parsePowerShell(commandLine);
    return invocation.encoded || invocation.file !== undefined;
  } catch {
    return false;
  }
}

export class WinrmEmulator {
  private readonly connections = new WeakMap<Socket, ConnectionState>();
  private readonly shells = new Map<string, Map<string, CommandState>>();
  /** HTTP requests served, for tests and the benchmark. */
  requests = 0;
  /** The newest requests as they arrived (at most RECORDS_KEPT), for tests of the wire format. */
  private readonly records: RequestRecord[] = [];
  /** The MsvAvChannelBindings value a client that saw this listener's certificate sends. */
  private readonly channelBindings?: Buffer;
  /** The tls-server-end-point application data (RFC 5929) a Kerberos initiator binds to. */
  private readonly endPoint?: Buffer;
  /** Logons refused, newest last, with the reason (what Windows would log, not what it answers). */
  readonly refusals: LogonRefusal[] = [];

  private constructor(
    private readonly options: WinrmHostOptions,
    private readonly server: http.Server | https.Server,
  ) {
    if (options.tls) {
      const der = new crypto.X509Certificate(options.tls.cert).raw;
      this.channelBindings = certificateBindingHash(der);
      this.endPoint = tlsServerEndPoint(der);
    }
  }

  /** The requests that arrived after request number `seq` (the value of `requests` before them). */
  recordsAfter(seq: number): RequestRecord[] {
    return this.records.filter((r) => r.seq > seq);
  }

  get service(): WinrmService {
    return this.options.service;
  }

  static async start(options: WinrmHostOptions): Promise<WinrmEmulator> {
    const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }) : http.createServer();
    const emulator = new WinrmEmulator(options, server);
    server.on("request", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        emulator.handle(req, res, Buffer.concat(chunks)).catch((err) => {
          res.writeHead(500, { "Content-Type": "text/plain" });
          res.end(String(err));
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.address, () => resolve());
    });
    return emulator;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * The schemes a 401 offers: Negotiate always; Kerberos where the host has a Kerberos acceptor
   * (MS-WSMV 3.1.4.1.29.2 lists Kerberos beside Negotiate in the service's auth; whether a real
   * 401 names it is unsettled); Basic only over HTTPS and only where the service allows it.
   */
  private offered(): string[] {
    const tlsMode = this.options.tls !== undefined;
    return [
      "Negotiate",
      ...(this.options.kerberos ? ["Kerberos"] : []),
      ...(tlsMode && this.service.settings.allowBasic ? ['Basic realm="WSMAN"'] : []),
    ];
  }

  private refuse(res: http.ServerResponse, scheme: string, reason: string, errorToken?: Buffer | null): void {
    this.refusals.push({ scheme, reason });
    if (!errorToken) return this.unauthorized(res);
    // MIT answers a failed mutual accept with a KRB-ERROR token; the 401 carries it, as SSPI's
    // AcceptSecurityContext output would be (whether HTTP.sys sends it is unsettled).
    res.writeHead(401, { "WWW-Authenticate": [`${scheme} ${errorToken.toString("base64")}`, ...this.offered().filter((o) => o !== scheme)], "Content-Length": "0" });
    res.end();
  }

  private unauthorized(res: http.ServerResponse): void {
    res.writeHead(401, { "WWW-Authenticate": this.offered(), "Content-Length": "0" });
    res.end();
  }

  private record(req: http.IncomingMessage, body: Buffer): RequestRecord {
    const authorization = req.headers.authorization ?? "";
    const token = /^(Negotiate|Kerberos) ([A-Za-z0-9+/=]+)$/.exec(authorization);
    const raw = token ? Buffer.from(token[2], "base64") : Buffer.alloc(0);
    const ntlm = raw.subarray(0, 8).equals(NTLM_SIGNATURE);
    const type = ntlm && raw.length >= 12 ? raw.readUInt32LE(8) : 0;
    const r: RequestRecord = {
      seq: this.requests,
      contentType: String(req.headers["content-type"] ?? ""),
      authorization: token ? `${token[1]}/${ntlm ? type : "gss"}` : authorization.startsWith("Basic ") ? "Basic" : "",
      bodyBytes: body.length,
    };
    this.records.push(r);
    if (this.records.length > RECORDS_KEPT) this.records.shift();
    return r;
  }

  /**
   * Extended Protection over HTTPS (MS-WSMV 2.2.4.34 CbtHardeningLevel; HTTP.sys hardening
   * levels; notes 8b): None ignores the binding; Relaxed (Windows' default) checks it when the
   * client sent one; Strict also refuses a client that sent none (WinRb/rubyntlm issue 27).
   * An all-zero binding hash counts as a binding, and a wrong one: whether Windows reads zeros as
   * "no binding" is unsettled (pyspnego: "a 0'd bindings hash means to ignore it but that does
   * not seem to be the case"), so the emulator takes the harsher reading.
   */
  private bindingAccepted(sent: Buffer | undefined): boolean {
    const level = this.service.settings.cbtHardeningLevel;
    if (!this.channelBindings || level === "None") return true;
    if (sent === undefined) return level !== "Strict";
    return sent.length === 16 && crypto.timingSafeEqual(sent, this.channelBindings);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    this.requests++;
    const record = this.record(req, body);
    if (this.countDown("serviceUnavailableRequests")) {
      res.writeHead(503, { "Content-Type": "text/html", Connection: "close" });
      return void res.end("<h1>Service Unavailable</h1>");
    }
    const socket = req.socket;
    const conn = this.connections.get(socket) ?? {};
    this.connections.set(socket, conn);
    const tlsMode = this.options.tls !== undefined;
    const settings = this.service.settings;
    let account: WinrmAccount | undefined = conn.account;
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? "");
    if (basic) {
      // MS-WSMV 2.2.4.34 / 3.1.4.1.29.2: Basic is used if and only if the service allows it, off
      // by default; with AllowUnencrypted false it is never taken over plain HTTP either. It maps
      // to local accounts only (pywinrm issue 154), and UAC's token filtering applies as to any
      // network logon of a local account (KB 951016; not observed for Basic itself: harsher).
      const [user, ...rest] = Buffer.from(basic[1], "base64").toString("utf8").split(":");
      const claimed = this.service.resolveBasic(user);
      const ok = tlsMode && settings.allowBasic && claimed?.password !== undefined && claimed.password === rest.join(":") && this.service.admits(claimed);
      if (!ok) return this.unauthorized(res);
      account = claimed;
    }
    const auth = /^(Negotiate|Kerberos) ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? "");
    /** The Kerberos context's answer (the AP-REP), sent on this request's reply: mutual authentication. */
    let gssReply: string | undefined;
    if (auth && !Buffer.from(auth[2], "base64").subarray(0, 8).equals(NTLM_SIGNATURE)) {
      const outcome = await this.acceptKerberos(auth[1], Buffer.from(auth[2], "base64"), conn);
      if ("refused" in outcome) return this.refuse(res, auth[1], outcome.refused, outcome.errorToken);
      if ("continue" in outcome) {
        res.writeHead(401, { "WWW-Authenticate": `${auth[1]} ${outcome.continue.toString("base64")}`, "Content-Length": "0" });
        return void res.end();
      }
      account = conn.account;
      gssReply = outcome.token ? `${auth[1]} ${outcome.token.toString("base64")}` : undefined;
      if (body.length === 0) {
        res.writeHead(200, { ...(gssReply ? { "WWW-Authenticate": gssReply } : {}), "Content-Length": "0" });
        return void res.end();
      }
    } else if (auth && auth[1] === "Negotiate" && this.service.settings.restrictNtlmIncoming) {
      // Restrict NTLM: Incoming NTLM traffic = Deny all: NTLM never completes. How HTTP shows it
      // is unsettled (HTTP carries no mechanism list, RFC 4559); the emulator answers any NTLM
      // message with the 401 a logon failure gets: Negotiate offered, no NTLM challenge.
      return this.refuse(res, "Negotiate", "NTLM refused: Restrict NTLM: Incoming NTLM traffic = Deny all");
    } else if (auth && auth[1] === "Negotiate") {
      const token = Buffer.from(auth[2], "base64");
      const type = token.length >= 12 ? token.readUInt32LE(8) : 0;
      if (type === 1) {
        conn.serverChallenge = crypto.randomBytes(8);
        conn.session = undefined;
        conn.account = undefined;
        const challenge = simulatedChallenge(conn.serverChallenge);
        res.writeHead(401, { "WWW-Authenticate": `Negotiate ${challenge.toString("base64")}`, "Content-Length": "0" });
        return void res.end();
      }
      if (type === 3 && conn.serverChallenge) {
        const fields = parseAuthenticate(token);
        // NTOWFv2 over exactly the UserName and DomainName sent (MS-NLMP 3.3.2): a UPN with an
        // empty domain, or user and domain, each hashed as it came (notes 8a).
        const claimed = this.service.resolve(fields.user, fields.domain);
        const session = claimed?.password === undefined ? null : acceptAuthenticate(fields, claimed.password, conn.serverChallenge);
        conn.serverChallenge = undefined;
        if (!session || !claimed || !this.bindingAccepted(clientAvPairs(fields).get(AV_CHANNEL_BINDINGS)) || !this.service.admits(claimed)) {
          return this.unauthorized(res);
        }
        conn.session = session;
        conn.account = account = claimed;
        if (body.length === 0) {
          res.writeHead(200, { "Content-Length": "0" });
          return void res.end();
        }
      }
    }
    if (!account) return this.unauthorized(res);
    const contentType = String(req.headers["content-type"] ?? "");
    const encrypted = contentType.includes("HTTP-SPNEGO-session-encrypted") || contentType.includes("HTTP-Kerberos-session-encrypted");
    // A sealed body names the protocol of the scheme that authenticated (MS-WSMV 2.2.9.1.2.2.1:
    // SPNEGO for Negotiate, Kerberos for the Kerberos scheme). What Windows does with the other
    // is unsettled; the emulator refuses it.
    const protocol: EncryptionProtocol = conn.gss?.protocol ?? SPNEGO_ENCRYPTED;
    if (encrypted && !contentType.includes(protocol)) {
      res.writeHead(400, { "Content-Type": "text/plain" });
      return void res.end(`the message is sealed as another protocol than ${protocol}`);
    }
    // AllowUnencrypted is false on Windows by default: plaintext SOAP is refused over HTTP.
    if (!tlsMode && !encrypted) {
      res.writeHead(400, { "Content-Type": "text/plain" });
      return void res.end("unencrypted traffic is not allowed");
    }
    let soap: string;
    try {
      soap = !encrypted ? body.toString("utf8") : conn.gss ? (await this.unsealKerberos(conn.gss.ctx, body)).toString("utf8") : decryptMessage(conn.session!, body).toString("utf8");
    } catch {
      // A message that does not verify ends the session, as the NTLM sequence is now broken.
      this.connections.delete(socket);
      res.writeHead(400, { "Content-Type": "text/plain", Connection: "close" });
      return void res.end("the message could not be decrypted");
    }
    if (Buffer.byteLength(soap, "utf8") > MAX_ENVELOPE_BYTES) {
      res.writeHead(413, { "Content-Length": "0" });
      return void res.end();
    }
    const mutual = gssReply ? { "WWW-Authenticate": gssReply } : {};
    const send = (status: number, replyAction: string, relatesTo: string, xmlBody: string) => {
      const xml = replyEnvelope(replyAction, relatesTo, xmlBody);
      if (!encrypted) {
        res.writeHead(status, { ...mutual, "Content-Type": SOAP_CONTENT_TYPE, "Content-Length": String(Buffer.byteLength(xml)) });
        return void res.end(xml);
      }
      const gss = conn.gss;
      if (gss) {
        // The reply is sealed by the acceptor, in order, before anything else it seals on this connection.
        void this.options
          .kerberos!.wrapIov(gss.ctx, Buffer.from(xml, "utf8"))
          .then((w) => {
            const sealed = frameEncrypted({ signature: w.header, sealed: Buffer.concat([w.data, w.padding]), length: Buffer.byteLength(xml, "utf8") }, gss.protocol);
            res.writeHead(status, { ...mutual, "Content-Type": encryptedContentType(gss.protocol), "Content-Length": String(sealed.length) });
            res.end(sealed);
          })
          .catch((err: Error) => {
            res.writeHead(500, { "Content-Type": "text/plain" });
            res.end(`the reply could not be sealed: ${err.message}`);
          });
        return;
      }
      const sealed = encryptMessage(conn.session!, Buffer.from(xml, "utf8"));
      res.writeHead(status, { "Content-Type": encryptedContentType(SPNEGO_ENCRYPTED), "Content-Length": String(sealed.length) });
      res.end(sealed);
    };
    const read = readRequest(soap);
    // WinRM answers faults with HTTP 500 and a SOAP fault (pywinrm protocol.py send_message; notes 8f).
    if ("fault" in read) return send(500, read.fault.replyAction, read.fault.relatesTo, faultBody(read.fault));
    const request = read.request;
    record.action = request.action;
    record.options = request.options;
    return this.dispatch(request, account, socket, send);
  }

  /**
   * One Kerberos (or SPNEGO) token on a connection, through the host's acceptor: a new AP-REQ
   * starts a new context, which replaces whatever authenticated the connection before. Refused
   * (401) without an acceptor (a workgroup host: no SPN, no key), when the acceptor refuses
   * (MIT's reason and KRB-ERROR token kept), over HTTPS with CbtHardeningLevel Strict when the
   * context is not channel-bound, and for a principal the host does not admit.
   */
  private async acceptKerberos(
    scheme: string,
    token: Buffer,
    conn: ConnectionState,
  ): Promise<{ refused: string; errorToken?: Buffer | null } | { continue: Buffer } | { token: Buffer | null }> {
    const acceptor = this.options.kerberos;
    if (!acceptor) return { refused: "this host has no Kerberos key (not joined to the domain, or no HTTP/<host> SPN)" };
    // A token starting a context (an InitialContextToken, 0x60) starts a new one; a SPNEGO
    // continuation (0xa1) goes to the context in progress.
    const pending = token[0] !== 0x60 && conn.gss === undefined ? conn.gssPending : undefined;
    // Context ids are unique across emulators: hosts may share one acceptor process.
    const ctx = pending ?? `c${crypto.randomUUID()}`;
    conn.session = undefined;
    conn.account = undefined;
    conn.gss = undefined;
    const level = this.service.settings.cbtHardeningLevel;
    const bind = this.endPoint !== undefined && level !== "None";
    let step: Awaited<ReturnType<KerberosAcceptor["accept"]>>;
    try {
      step = await acceptor.accept(ctx, token, { channelBindingAppData: bind ? this.endPoint : undefined });
    } catch (err) {
      return { refused: (err as Error).message, errorToken: (err as { token?: Buffer | null }).token ?? null };
    }
    if (!step.complete) {
      conn.gssPending = ctx;
      if (!step.token) return { refused: "the Kerberos exchange stalled: no token to send and not complete" };
      return { continue: step.token };
    }
    conn.gssPending = undefined;
    if (bind && level === "Strict" && (step.flags & GSS_C_CHANNEL_BOUND_FLAG) === 0) {
      return { refused: "CbtHardeningLevel Strict: the Kerberos authenticator carried no channel binding for this listener's certificate" };
    }
    const account = step.initiator ? this.service.resolveKerberos(step.initiator) : undefined;
    if (!account) return { refused: `no account of this host's domain is ${step.initiator ?? "(no name)"}` };
    if (!this.service.admits(account)) return { refused: `${step.initiator} is not admitted` };
    conn.account = account;
    conn.gss = { ctx, protocol: scheme === "Kerberos" ? KERBEROS_ENCRYPTED : SPNEGO_ENCRYPTED };
    return { token: step.token };
  }

  /** A sealed body unwrapped by the acceptor's context (gss_unwrap_iov, as pyspnego's unwrap_winrm on MIT), its length checked. */
  private async unsealKerberos(ctx: string, body: Buffer): Promise<Buffer> {
    const parts = parseEncrypted(body);
    const { data } = await this.options.kerberos!.unwrapIov(ctx, parts.signature, parts.sealed);
    return checkSealedLength(data, parts);
  }

  private async dispatch(
    request: WsmanRequest,
    account: WinrmAccount,
    socket: Socket,
    send: (status: number, replyAction: string, relatesTo: string, xmlBody: string) => void,
  ): Promise<void> {
    const { messageId, action, shellId, body: soapBody } = request;
    const reply = (replyAction: string, xmlBody: string) => send(200, replyAction, messageId, xmlBody);
    const fault = (subcode: string, reason: string, wsmanCode: string) =>
      send(500, FAULT_ACTION.wsman, messageId, faultBody({ code: "s:Receiver", subcode, reason, wsmanCode }));
    const commands = this.shells.get(shellId);

    switch (action) {
      case ACTION.create: {
        if (loadState(this.options.stateFile).faults.nonAdmin) return fault("w:AccessDenied", "Access is denied.", "5");
        // The cmd shell plugin admits Administrators only as Windows ships it: a Remote Management
        // Users member authenticates, then the Create is "Access is denied." with WSManFault code 5
        // over HTTP 500 (pywinrm issues 336 and 338; jborean93 in 362: the default security
        // descriptor "only allows Administrators and Interactive users").
        if (account.kind === "remoteManagementUser" && !this.service.settings.shellOpenToRemoteManagementUsers) {
          return fault("w:AccessDenied", "Access is denied.", "5");
        }
        if (this.shells.size >= MAX_SHELLS || this.countDown("shellQuotaCreates")) {
          return fault("w:QuotaLimit", `The WS-Management service cannot process the request. This user is allowed a maximum number of ${MAX_SHELLS} concurrent shells, which has been exceeded.`, "2150859173");
        }
        const id = crypto.randomUUID().toUpperCase();
        this.shells.set(id, new Map());
        return reply(
          `${ACTION.create}Response`,
          `<x:ResourceCreated><a:Address>http://${this.options.address}:${this.options.port}/wsman</a:Address><a:ReferenceParameters>` +
            `<w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI>` +
            `<w:SelectorSet><w:Selector Name="ShellId">${id}</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>` +
            `<rsp:Shell><rsp:ShellId>${id}</rsp:ShellId><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`,
        );
      }
      case ACTION.delete:
        if (!commands) return fault("w:InvalidSelectors", "The shell was not found.", "2150858843");
        this.shells.delete(shellId);
        return reply(`${ACTION.delete}Response`, "");
    }
    if (!commands) return fault("w:InvalidSelectors", "The shell was not found.", "2150858843");
    switch (action) {
      case ACTION.command: {
        const line = soapBody.CommandLine ?? {};
        const args = line.Arguments === undefined ? [] : Array.isArray(line.Arguments) ? line.Arguments : [line.Arguments];
        const commandLine = [text(line.Command), ...args.map(text)].join(" ");
        const id = crypto.randomUUID().toUpperCase();
        const command: CommandState = { commandLine, stdin: [], stdoutSent: 0, stderrSent: 0 };
        commands.set(id, command);
        // The process starts at once; the bootstrap (or the script run as a file) then blocks
        // reading stdin to its end, which the model stands for by starting it at the last Send.
        // Other commands (cmd's type included) never read stdin.
        if (!readsStdin(commandLine)) command.result = this.run(command, socket, account);
        return reply(`${ACTION.command}Response`, `<rsp:CommandResponse><rsp:CommandId>${id}</rsp:CommandId></rsp:CommandResponse>`);
      }
      case ACTION.send: {
        for (const stream of soapBody.Send?.Stream ?? []) {
          const command = commands.get(stream["@CommandId"]);
          if (!command) return fault("w:InvalidParameter", "The command was not found.", "2150858843");
          command.stdin.push(Buffer.from(text(stream), "base64"));
          if (stream["@End"] === "true" && !command.result) command.result = this.run(command, socket, account);
        }
        return reply(`${ACTION.send}Response`, "<rsp:SendResponse/>");
      }
      case ACTION.receive: {
        const commandId = soapBody.Receive?.DesiredStream?.["@CommandId"];
        const command = commands.get(commandId);
        if (!command) return fault("w:InvalidParameter", "The command was not found.", "2150858843");
        // MS-WSMV 3.1.4.14: without output before the request's OperationTimeout the service
        // answers w:TimedOut (2150858793) and the client polls again; 3.1.4.1.6: the service caps
        // the timeout at MaxTimeoutms, and uses that when the request names none (notes 8f).
        const cap = this.service.settings.maxTimeoutMs;
        const waitMs = Math.min(request.operationTimeoutMs ?? cap, cap);
        let stopWaiting = () => {};
        const waited = new Promise<undefined>((r) => {
          const timer = setTimeout(() => r(undefined), waitMs);
          // A client that goes away ends the wait (and the timer, which would keep the process alive).
          const gone = () => r(undefined);
          socket.once("close", gone);
          stopWaiting = () => {
            clearTimeout(timer);
            socket.off("close", gone);
          };
        });
        const result = command.result ? await Promise.race([command.result, waited]) : await waited;
        stopWaiting();
        if (socket.destroyed) return;
        if (result === undefined) {
          return fault("w:TimedOut", "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.", "2150858793");
        }
        if (result === null || result.dropConnection) {
          // The host went away mid-run: the TCP connection ends without a reply.
          return void socket.destroy();
        }
        const perReceive = loadState(this.options.stateFile).faults.receiveChunkBytes ?? OUTPUT_PER_RECEIVE;
        const out = Buffer.from(result.stdout, "utf8");
        const err = Buffer.from(result.stderr, "utf8");
        const outChunk = out.subarray(command.stdoutSent, command.stdoutSent + perReceive);
        const errChunk = err.subarray(command.stderrSent, command.stderrSent + perReceive);
        command.stdoutSent += outChunk.length;
        command.stderrSent += errChunk.length;
        const done = command.stdoutSent >= out.length && command.stderrSent >= err.length;
        const streams =
          `<rsp:Stream Name="stdout" CommandId="${commandId}">${outChunk.toString("base64")}</rsp:Stream>` +
          (errChunk.length ? `<rsp:Stream Name="stderr" CommandId="${commandId}">${errChunk.toString("base64")}</rsp:Stream>` : "");
        const state = done
          ? `<rsp:CommandState CommandId="${commandId}" State="${COMMAND_DONE}"><rsp:ExitCode>${result.exitCode}</rsp:ExitCode></rsp:CommandState>`
          : `<rsp:CommandState CommandId="${commandId}" State="${RUNNING}"/>`;
        return reply(`${ACTION.receive}Response`, `<rsp:ReceiveResponse>${streams}${state}</rsp:ReceiveResponse>`);
      }
      case ACTION.signal:
        commands.delete(soapBody.Signal?.["@CommandId"]);
        return reply(`${ACTION.signal}Response`, "<rsp:SignalResponse/>");
    }
    // readRequest admits the shell's actions only; anything else reaching here is the emulator's bug.
    throw new Error(`the emulator has no handler for the action ${action}`);
  }

  /** Whether a counted fault applies to this request; counts it down in the host's state. */
  private countDown(fault: "serviceUnavailableRequests" | "shellQuotaCreates"): boolean {
    const state = loadState(this.options.stateFile);
    if ((state.faults[fault] ?? 0) <= 0) return false;
    state.faults[fault]!--;
    saveState(this.options.stateFile, state);
    return true;
  }

  /**
   * Runs a command with the token of the account that opened the shell: an administrator's
   * (built-in, domain, or a local one admitted by LocalAccountTokenFilterPolicy), or a Remote
   * Management Users member's, who is no administrator, so Set-* and the HKLM record are denied
   * (the model's nonAdmin, for this run only).
   */
  private async run(command: CommandState, socket: Socket, account: WinrmAccount): Promise<HostRun | null> {
    if (!(await startPowerShell(this.options.stateFile, () => !socket.destroyed))) return null;
    return runCommand(this.options.stateFile, command.commandLine, Buffer.concat(command.stdin), { administrator: account.kind !== "remoteManagementUser" });
  }
}
