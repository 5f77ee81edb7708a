// A WinRM server emulator for one simulated host: HTTP on a loopback address, Negotiate (raw
// NTLMv2) with 401 challenges, refusal of unencrypted traffic, MS-WSMV message encryption (or
// HTTPS with a generated certificate, where Basic is offered too and TLS protects the SOAP), and
// the cmd shell resource (Create, Command, Send, Receive, Signal, Delete) with w:TimedOut faults,
// output spread over several Receive replies, a shell quota, the MaxEnvelopeSize limit, and access
// denied for a non-administrator. Commands go to the same host model as the sshd simulation.
import * as crypto from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { Socket } from "node:net";
import { decryptMessage, ENCRYPTED_CONTENT_TYPE, encryptMessage } from "../../provider/transport/winrm/encryption";
import {
  acceptAuthenticate,
  challengeMessage,
  CLIENT_FLAGS,
  NtlmSession,
  parseAuthenticate,
} from "../../provider/transport/winrm/ntlm";
import { ACTION, NS, parseEnvelope, text, xmlEscape, Xml, COMMAND_DONE } from "../../provider/transport/winrm/soap";
import { parsePowerShell } from "./commandLine";
import { loadState, saveState } from "./model";
import { HostRun, runCommand, startPowerShell } from "./windowsHost";

const RUNNING = `${NS.rsp}/CommandState/Running`;
const FAULT_ACTION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault";
/** The emulator answers a Receive with w:TimedOut after at most this long (real hosts: OperationTimeout). */
const RECEIVE_WAIT_MS = 500;
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

interface ConnectionState {
  serverChallenge?: Buffer;
  session?: NtlmSession;
  /** NTLM over HTTPS authenticates the connection; TLS, not NTLM, protects the messages. */
  authenticated?: boolean;
}

interface CommandState {
  commandLine: string;
  stdin: Buffer[];
  result?: Promise<HostRun | null>;
  stdoutSent: number;
  stderrSent: number;
}

export interface WinrmHostOptions {
  address: string;
  port: number;
  stateFile: string;
  user: string;
  password: string;
  /** Serve HTTPS with this key and certificate (Basic and NTLM, no message encryption). */
  tls?: { key: string; cert: string };
}

function fileTime(): Buffer {
  const t = Buffer.alloc(8);
  t.writeBigUInt64LE((BigInt(Date.now()) + 11644473600000n) * 10000n);
  return t;
}

function avPair(id: number, value: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16LE(id, 0);
  h.writeUInt16LE(value.length, 2);
  return Buffer.concat([h, value]);
}

/** A CHALLENGE message as a Windows host sends one: the client's flags, the host's names, and a timestamp. */
export function simulatedChallenge(serverChallenge: Buffer): Buffer {
  const targetInfo = Buffer.concat([
    avPair(2, Buffer.from("SIM", "utf16le")),
    avPair(1, Buffer.from("SIMHOST", "utf16le")),
    avPair(3, Buffer.from("simhost.sim.example", "utf16le")),
    avPair(7, fileTime()),
    Buffer.alloc(4),
  ]);
  return challengeMessage(CLIENT_FLAGS, serverChallenge, targetInfo);
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

function readsStdin(commandLine: string): boolean {
  try {
    return parsePowerShell(commandLine).encoded;
  } catch {
    return false;
  }
}

export class WinrmEmulator {
  private readonly connections = new WeakMap<Socket, ConnectionState>();
  private readonly shells = new Map<string, Map<string, CommandState>>();
  /** HTTP requests served, for tests and the benchmark. */
  requests = 0;
  /** Local accounts by lower-case name (Windows account names are case-insensitive): their passwords. */
  private readonly accounts = new Map<string, string>();

  private constructor(
    private readonly options: WinrmHostOptions,
    private readonly server: http.Server | https.Server,
  ) {
    this.accounts.set(options.user.toLowerCase(), options.password);
  }

  /** An administrator sets a password (a new account, or a rotation). */
  setAccount(user: string, password: string): void {
    this.accounts.set(user.toLowerCase(), password);
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

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    this.requests++;
    if (this.countDown("serviceUnavailableRequests")) {
      res.writeHead(503, { "Content-Type": "text/html", Connection: "close" });
      return void res.end("<h1>Service Unavailable</h1>");
    }
    const socket = req.socket;
    const conn = this.connections.get(socket) ?? {};
    this.connections.set(socket, conn);
    const tlsMode = this.options.tls !== undefined;
    let basicOk = false;
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? "");
    if (basic) {
      // Basic is only offered over HTTPS, as on Windows with AllowUnencrypted false.
      const [user, ...rest] = Buffer.from(basic[1], "base64").toString("utf8").split(":");
      basicOk = tlsMode && this.accounts.get(user.toLowerCase()) === rest.join(":");
      if (!basicOk) {
        res.writeHead(401, { "WWW-Authenticate": tlsMode ? "Negotiate, Basic" : "Negotiate", "Content-Length": "0" });
        return void res.end();
      }
    }
    const auth = /^Negotiate ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? "");
    if (auth) {
      const token = Buffer.from(auth[1], "base64");
      const type = token.length >= 12 ? token.readUInt32LE(8) : 0;
      if (type === 1) {
        conn.serverChallenge = crypto.randomBytes(8);
        conn.session = undefined;
        const challenge = simulatedChallenge(conn.serverChallenge);
        res.writeHead(401, { "WWW-Authenticate": `Negotiate ${challenge.toString("base64")}`, "Content-Length": "0" });
        return void res.end();
      }
      if (type === 3 && conn.serverChallenge) {
        const fields = parseAuthenticate(token);
        const password = this.accounts.get(fields.user.toLowerCase());
        const session = password === undefined ? null : acceptAuthenticate(fields, password, conn.serverChallenge);
        conn.serverChallenge = undefined;
        if (!session) {
          res.writeHead(401, { "WWW-Authenticate": "Negotiate", "Content-Length": "0" });
          return void res.end();
        }
        conn.session = session;
        conn.authenticated = true;
        if (body.length === 0) {
          res.writeHead(200, { "Content-Length": "0" });
          return void res.end();
        }
      }
    }
    if (!conn.authenticated && !basicOk) {
      res.writeHead(401, { "WWW-Authenticate": tlsMode ? "Negotiate, Basic" : "Negotiate", "Content-Length": "0" });
      return void res.end();
    }
    const encrypted = String(req.headers["content-type"] ?? "").includes("HTTP-SPNEGO-session-encrypted");
    // AllowUnencrypted is false on Windows by default: plaintext SOAP is refused over HTTP.
    if (!tlsMode && !encrypted) {
      res.writeHead(400, { "Content-Type": "text/plain" });
      return void res.end("unencrypted traffic is not allowed");
    }
    let soap: string;
    try {
      soap = encrypted ? decryptMessage(conn.session!, body).toString("utf8") : body.toString("utf8");
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
    const { header, body: soapBody } = parseEnvelope(soap);
    const messageId = text(header.MessageID);
    const action = text(header.Action);
    const reply = (status: number, replyAction: string, xmlBody: string) => {
      const xml = replyEnvelope(replyAction, messageId, xmlBody);
      if (!encrypted) {
        res.writeHead(status, { "Content-Type": "application/soap+xml;charset=UTF-8", "Content-Length": String(Buffer.byteLength(xml)) });
        return void res.end(xml);
      }
      const sealed = encryptMessage(conn.session!, Buffer.from(xml, "utf8"));
      res.writeHead(status, { "Content-Type": ENCRYPTED_CONTENT_TYPE, "Content-Length": String(sealed.length) });
      res.end(sealed);
    };
    const fault = (subcode: string, reason: string, wsmanCode: string) =>
      reply(
        500,
        FAULT_ACTION,
        `<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>${subcode}</s:Value></s:Subcode></s:Code>` +
          `<s:Reason><s:Text xml:lang="en-US">${xmlEscape(reason)}</s:Text></s:Reason>` +
          `<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="${wsmanCode}" Machine="simhost"><f:Message>${xmlEscape(reason)}</f:Message></f:WSManFault></s:Detail></s:Fault>`,
      );
    const shellId = text((header.SelectorSet?.Selector ?? []).find((s: Xml) => s["@Name"] === "ShellId"));
    const commands = this.shells.get(shellId);

    switch (action) {
      case ACTION.create: {
        if (loadState(this.options.stateFile).faults.nonAdmin) return fault("w:AccessDenied", "Access is denied.", "5");
        if (this.shells.size >= MAX_SHELLS || this.countDown("shellQuotaCreates")) {
          return fault("w:QuotaLimit", `The WS-Management service cannot process the request. This user is allowed a maximum number of ${MAX_SHELLS} concurrent shells, which has been exceeded.`, "2150859173");
        }
        const id = crypto.randomUUID().toUpperCase();
        this.shells.set(id, new Map());
        return reply(
          200,
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
        return reply(200, `${ACTION.delete}Response`, "");
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
        // The process starts at once; the bootstrap then blocks reading stdin to its end, which
        // the model stands for by starting it at the last Send. Other commands never read stdin.
        if (!readsStdin(commandLine)) command.result = this.run(command, socket);
        return reply(200, `${ACTION.command}Response`, `<rsp:CommandResponse><rsp:CommandId>${id}</rsp:CommandId></rsp:CommandResponse>`);
      }
      case ACTION.send: {
        for (const stream of soapBody.Send?.Stream ?? []) {
          const command = commands.get(stream["@CommandId"]);
          if (!command) return fault("w:InvalidParameter", "The command was not found.", "2150858843");
          command.stdin.push(Buffer.from(text(stream), "base64"));
          if (stream["@End"] === "true" && !command.result) command.result = this.run(command, socket);
        }
        return reply(200, `${ACTION.send}Response`, "<rsp:SendResponse/>");
      }
      case ACTION.receive: {
        const commandId = soapBody.Receive?.DesiredStream?.["@CommandId"];
        const command = commands.get(commandId);
        if (!command) return fault("w:InvalidParameter", "The command was not found.", "2150858843");
        const waited = new Promise<undefined>((r) => setTimeout(() => r(undefined), RECEIVE_WAIT_MS));
        const result = command.result ? await Promise.race([command.result, waited]) : await waited;
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
        return reply(200, `${ACTION.receive}Response`, `<rsp:ReceiveResponse>${streams}${state}</rsp:ReceiveResponse>`);
      }
      case ACTION.signal:
        commands.delete(soapBody.Signal?.["@CommandId"]);
        return reply(200, `${ACTION.signal}Response`, "<rsp:SignalResponse/>");
      default:
        return fault("w:ActionNotSupported", `The action ${action} is not supported.`, "2150858770");
    }
  }

  /** Whether a counted fault applies to this request; counts it down in the host's state. */
  private countDown(fault: "serviceUnavailableRequests" | "shellQuotaCreates"): boolean {
    const state = loadState(this.options.stateFile);
    if ((state.faults[fault] ?? 0) <= 0) return false;
    state.faults[fault]!--;
    saveState(this.options.stateFile, state);
    return true;
  }

  private async run(command: CommandState, socket: Socket): Promise<HostRun | null> {
    if (!(await startPowerShell(this.options.stateFile, () => !socket.destroyed))) return null;
    return runCommand(this.options.stateFile, command.commandLine, Buffer.concat(command.stdin));
  }
}
