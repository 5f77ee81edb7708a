// The WinRM transport: one keep-alive HTTP connection per operation (the NTLM context is bound
// to it), NTLMv2 under the Negotiate scheme, every SOAP message sealed (MS-WSMV 2.2.9.1.1), and
// the shell exchange Create, Command, Send (stdin), Receive until Done, Signal, Delete.
// Knows nothing about SMB: it moves a command line and stdin, and returns bytes and exit code.
import * as http from "node:http";
import type { Socket } from "node:net";
import type { Connection } from "../../domain/schema";
import { HostError } from "../../host/errors";
import type { RemoteResult } from "../../host/protocol";
import { decryptMessage, ENCRYPTED_CONTENT_TYPE, encryptMessage } from "./encryption";
import { authenticateMessage, negotiateMessage, NtlmSession, parseChallenge } from "./ntlm";
import { ACTION, bodies, COMMAND_DONE, envelope, faultOf, newMessageId, parseEnvelope, text, Xml } from "./soap";

/** WSManFault 2150858793: no output within OperationTimeout; a normal reason to poll again. */
const TIMED_OUT = "2150858793";
/** stdin per Send: well under the 150 KB MaxEnvelopeSize once base64-encoded. */
const SEND_CHUNK = 64 * 1024;
const OPERATION_TIMEOUT_SECONDS = 20;

interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  socket: Socket;
}

export async function runOverWinrm(conn: Connection, commandLine: string, stdin: Buffer): Promise<RemoteResult> {
  const where = `${conn.host}:${conn.port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const deadlineSeconds = conn.connectTimeoutSeconds + conn.commandTimeoutSeconds;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HostError("timeout", where, `no reply within ${deadlineSeconds} s`)), deadlineSeconds * 1000);
  });
  try {
    return await Promise.race([deadline, exchange()]);
  } finally {
    clearTimeout(timer);
    agent.destroy();
  }

  async function exchange(): Promise<RemoteResult> {
    let socket: Socket | undefined;
    const post = (headers: Record<string, string>, body: Buffer) =>
      new Promise<HttpReply>((resolve, reject) => {
        const req = http.request(
          {
            host: conn.host,
            port: conn.port,
            path: "/wsman",
            method: "POST",
            agent,
            headers: { ...headers, "Content-Length": String(body.length), Connection: "Keep-Alive" },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), socket: res.socket }));
            res.on("error", reject);
          },
        );
        req.setTimeout((OPERATION_TIMEOUT_SECONDS + 10) * 1000, () => req.destroy(new Error("HTTP read timed out")));
        req.on("error", reject);
        req.end(body);
      }).then((reply) => {
        // NTLM authenticates the TCP connection: a new socket would silently lose the context.
        if (socket && reply.socket !== socket) throw new HostError("connectionDropped", where, "the HTTP connection was not kept alive");
        socket = reply.socket;
        return reply;
      });

    // 1. NTLM handshake on an empty POST (as pywinrm does before encrypting).
    let challengeReply: HttpReply;
    try {
      challengeReply = await post({ Authorization: `Negotiate ${negotiateMessage().toString("base64")}` }, Buffer.alloc(0));
    } catch (err) {
      throw new HostError("connectionFailed", where, (err as Error).message);
    }
    const offered = /Negotiate ([A-Za-z0-9+/=]+)/.exec(String(challengeReply.headers["www-authenticate"] ?? ""));
    if (challengeReply.status !== 401 || !offered) {
      throw new HostError("connectionFailed", where, `expected an NTLM challenge, got HTTP ${challengeReply.status}`);
    }
    const { message, session } = authenticateMessage({
      account: conn.user,
      password: conn.password ?? "",
      challenge: parseChallenge(Buffer.from(offered[1], "base64")),
    });
    const authenticated = await post({ Authorization: `Negotiate ${message.toString("base64")}` }, Buffer.alloc(0));
    if (authenticated.status === 401) throw new HostError("authenticationFailed", where, `the host refused user "${conn.user}"`);
    if (authenticated.status !== 200) throw new HostError("connectionFailed", where, `NTLM authentication ended with HTTP ${authenticated.status}`);

    // 2. The shell exchange, every message sealed.
    const call = async (action: string, body: string, options?: { shellId?: string; options?: Record<string, string> }) => {
      const messageId = newMessageId();
      const soap = envelope({ to: `http://${conn.host}:${conn.port}/wsman`, action, messageId, operationTimeoutSeconds: OPERATION_TIMEOUT_SECONDS, ...options }, body);
      const reply = await post({ "Content-Type": ENCRYPTED_CONTENT_TYPE }, encryptMessage(session, Buffer.from(soap, "utf8")));
      return checkReply(reply, session, action, messageId);
    };

    const created = await call(ACTION.create, bodies.create(), { options: { WINRS_NOPROFILE: "TRUE", WINRS_CODEPAGE: "65001" } });
    const shellId = text(created.body?.Shell?.ShellId) || selectorShellId(created.body);
    if (!shellId) throw new HostError("badReply", where, "Create returned no ShellId");
    let exitCode: number | null = null;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    try {
      const started = await call(ACTION.command, bodies.command(commandLine), {
        shellId,
        options: { WINRS_CONSOLEMODE_STDIN: "TRUE", WINRS_SKIP_CMD_SHELL: "FALSE" },
      });
      const commandId = text(started.body?.CommandResponse?.CommandId);
      if (!commandId) throw new HostError("badReply", where, "Command returned no CommandId");
      for (let at = 0; at < stdin.length || at === 0; at += SEND_CHUNK) {
        const chunk = stdin.subarray(at, at + SEND_CHUNK);
        await call(ACTION.send, bodies.send(commandId, chunk, at + SEND_CHUNK >= stdin.length), { shellId });
      }
      for (;;) {
        let received: { body: Xml };
        try {
          received = await call(ACTION.receive, bodies.receive(commandId), { shellId });
        } catch (err) {
          if (err instanceof WsmanFault && err.fault.wsmanCode === TIMED_OUT) continue;
          throw err;
        }
        const response = received.body?.ReceiveResponse ?? {};
        for (const s of response.Stream ?? []) {
          const data = Buffer.from(text(s), "base64");
          (s["@Name"] === "stderr" ? stderr : stdout).push(data);
        }
        const state = response.CommandState;
        if (state?.["@State"] === COMMAND_DONE) {
          exitCode = Number(text(state.ExitCode));
          break;
        }
      }
      await call(ACTION.signal, bodies.signal(commandId), { shellId });
    } catch (err) {
      if (isDropped(err)) return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode: null };
      throw err;
    } finally {
      await call(ACTION.delete, bodies.delete(), { shellId }).catch(() => undefined);
    }
    return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode };
  }

  function checkReply(reply: HttpReply, session: NtlmSession, action: string, messageId: string): { header: Xml; body: Xml } {
    if (reply.status === 401) throw new HostError("authenticationFailed", where, "the host ended the NTLM session");
    const encrypted = String(reply.headers["content-type"] ?? "").includes("HTTP-SPNEGO-session-encrypted");
    if (!encrypted) throw new HostError("badReply", where, `HTTP ${reply.status} without message encryption: refused`);
    let xml: string;
    try {
      xml = decryptMessage(session, reply.body).toString("utf8");
    } catch (err) {
      throw new HostError("badReply", where, (err as Error).message);
    }
    const parsed = parseEnvelope(xml);
    if (text(parsed.header.RelatesTo) !== messageId) throw new HostError("badReply", where, "reply does not relate to the request's MessageID");
    const fault = faultOf(parsed.body);
    if (fault) throw new WsmanFault(where, fault);
    if (reply.status !== 200) throw new HostError("badReply", where, `HTTP ${reply.status}`);
    if (text(parsed.header.Action) !== `${action}Response`) throw new HostError("badReply", where, `unexpected reply action ${text(parsed.header.Action)}`);
    return parsed;
  }
}

function selectorShellId(body: Xml): string {
  const selectors = body?.ResourceCreated?.ReferenceParameters?.SelectorSet?.Selector ?? [];
  return text(selectors.find((s: Xml) => s["@Name"] === "ShellId"));
}

function isDropped(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === "ECONNRESET" || code === "EPIPE" || /socket hang up/.test((err as Error).message ?? "");
}

/** A SOAP fault, mapped to an actionable error kind. */
export class WsmanFault extends HostError {
  constructor(
    where: string,
    readonly fault: { code: string; subcode: string; reason: string; wsmanCode?: string },
  ) {
    const kind = /AccessDenied/i.test(fault.subcode) || /access is denied/i.test(fault.reason) ? "accessDenied" : "failed";
    super(kind, where, `WinRM fault ${fault.subcode || fault.code}: ${fault.reason.trim()}`);
  }
}
