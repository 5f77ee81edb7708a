// The WinRM transport: one keep-alive HTTP connection per operation (the NTLM or Kerberos context
// is bound to it), NTLMv2 or Kerberos under the Negotiate scheme (or Basic inside TLS), every
// SOAP message sealed over HTTP (MS-WSMV 2.2.9.1.1), and the shell exchange Create, Command,
// Send (stdin), Receive until Done, Signal, Delete. It says which mechanism authenticated.
// Knows nothing about SMB: it moves a command line and stdin, and returns bytes and exit code.
import * as http from "node:http";
import * as net from "node:net";
import type { Socket } from "node:net";
import * as tls from "node:tls";
import type { Connection } from "../../domain/schema";
import { HostError } from "../../errors";
import type { Authentication, RemoteResult } from "../result";
import { decryptMessage, ENCRYPTED_CONTENT_TYPE, encryptMessage, gssSealer, type MessageSealer } from "./encryption";
import { certificateBindingHash } from "./channelBinding";
import { KerberosError } from "./kerberos/errors";
import { GssInitiatorContext, serviceTicketOf } from "./kerberos/gssContext";
import { processTicketStore } from "./kerberos/tickets";
import { authenticateMessage, negotiateMessage, NtlmChallengeRefused, NtlmSession, parseChallenge } from "./ntlm";
import { ACTION, bodies, COMMAND_DONE, envelope, faultOf, newMessageId, parseEnvelope, text, Xml } from "./soap";

/** WSManFault 2150858793: no output within OperationTimeout; a normal reason to poll again. */
const TIMED_OUT = "2150858793";
/** stdin per Send: well under the 150 KB MaxEnvelopeSize once base64-encoded. */
const SEND_CHUNK = 64 * 1024;
const OPERATION_TIMEOUT_SECONDS = 20;
/**
 * Every POST carries the SOAP content type, the NTLM handshake's empty ones too: pywinrm sets it
 * as a session default header (`winrm/transport.py` default_headers), so that is what WinRM is
 * known to accept on every leg.
 */
const SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8";
/** What a Kerberos failure's message is followed by: its cause and fix are in the message itself. */
const KERBEROS_ADVICE = 'Kerberos: README, "Kerberos" (troubleshooting)';

interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  socket: Socket;
}

/** "AB:CD:..." upper case, as Node reports fingerprint256. */
function normalizeFingerprint(fingerprint: string): string {
  return fingerprint
    .replace(/:/g, "")
    .toUpperCase()
    .replace(/(..)(?!$)/g, "$1:");
}

/**
 * An HTTP agent whose connections are TLS, checked before the HTTP client may write a byte: the
 * pinned SHA-256 fingerprint, or the CA (given or the system's) and the host name. A refused
 * certificate therefore never sees a credential.
 */
function verifiedTlsAgent(conn: Connection, where: string): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const pinned = conn.certificateFingerprint ? normalizeFingerprint(conn.certificateFingerprint) : undefined;
  const skip = conn.dangerouslySkipCertificateCheck === true;
  (agent as unknown as { createConnection: unknown }).createConnection = (_options: unknown, done: (err: Error | null, socket?: Socket) => void) => {
    const socket = tls.connect({
      host: conn.host,
      port: conn.port,
      servername: net.isIP(conn.host) ? undefined : conn.host,
      ca: conn.caCertificate,
      rejectUnauthorized: !pinned && !skip,
    });
    socket.once("secureConnect", () => {
      const seen = socket.getPeerCertificate().fingerprint256;
      if (pinned && seen !== pinned) {
        socket.destroy();
        return done(
          new HostError("certificateRejected", where, `certificate SHA-256 ${seen} does not match the pinned connection.certificateFingerprint ${pinned}`),
        );
      }
      done(null, socket);
    });
    socket.once("error", (err) => done(new HostError("certificateRejected", where, err.message)));
    return undefined;
  };
  return agent;
}

/** How SOAP travels: sealed with the NTLM session over HTTP (MS-WSMV 2.2.9.1.1), or plain inside TLS. */
interface MessageLayer {
  wrap(soap: Buffer): { headers: Record<string, string>; body: Buffer };
  unwrap(reply: HttpReply): string;
}

export async function runOverWinrm(conn: Connection, commandLine: string, stdin: Buffer, deadlineAtMs: number): Promise<RemoteResult> {
  const where = `${conn.host}:${conn.port}`;
  const agent = conn.https ? verifiedTlsAgent(conn, where) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  let timer: NodeJS.Timeout | undefined;
  let commandSent = false;
  /** How this run authenticated (an output of the resource); set once the logon succeeded. */
  let authentication: Authentication | undefined;
  const deadline = new Promise<never>((_, reject) => {
    const seconds = Math.max(0, Math.round((deadlineAtMs - Date.now()) / 1000));
    timer = setTimeout(() => reject(new HostError("timeout", where, `no reply within ${seconds} s`)), Math.max(0, deadlineAtMs - Date.now()));
  });
  try {
    // A socket error that escaped the exchange (refused, reset, read timeout) before the command
    // was sent means nothing ran: transient, so the caller may retry. After it, the script may
    // have run: a dropped connection, never retried.
    const attempt = exchange().catch((err: unknown) => {
      if (err instanceof HostError) throw err;
      const message = (err as Error).message;
      throw commandSent
        ? new HostError("connectionDropped", where, `the connection failed after the command was sent (${message})`)
        : new HostError("connectionFailed", where, message);
    });
    return await Promise.race([deadline, attempt]);
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
            // The socket as the response began: a kept-alive socket is detached from it at its end.
            const replySocket = res.socket;
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), socket: replySocket }));
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

    // 1. Authentication. NTLM runs its handshake on an empty POST (as pywinrm does); Basic (HTTPS
    // only) sends the credentials with every request; Kerberos sends its AP-REQ on an empty POST.
    let layer: MessageLayer;
    if (conn.authentication === "basic") {
      const basic = `Basic ${Buffer.from(`${conn.user}:${conn.password ?? ""}`, "utf8").toString("base64")}`;
      layer = plainLayer({ Authorization: basic });
      authentication = { mechanism: "basic" };
    } else if (conn.authentication === "kerberos") {
      // Asked for by name: never anything else, whatever fails.
      const ticket = await kerberosTicket(conn.user);
      if ("unavailable" in ticket) throw kerberosFailure(ticket.unavailable);
      layer = await kerberosLogon(post, ticket.context);
      authentication = { mechanism: "kerberos" };
    } else if (conn.authentication === "negotiate") {
      // Kerberos when a ticket for the host's service can be had, else NTLM (as Windows'
      // Negotiate package chooses); once the host has a Kerberos ticket, no fallback: a host that
      // refuses it, or cannot prove it holds the service key, fails the run.
      const ticket = await kerberosTicket(negotiateKerberosUser(conn.user));
      if ("context" in ticket) {
        layer = await kerberosLogon(post, ticket.context);
        authentication = { mechanism: "kerberos" };
      } else {
        const reason = kerberosReason(ticket.unavailable);
        try {
          layer = await ntlmLogon(post);
        } catch (err) {
          if (err instanceof HostError && err.kind === "authenticationFailed") {
            throw new HostError(err.kind, err.host, `${err.detail} (authentication "negotiate" used NTLM: Kerberos was not available: ${reason})`, err.advice);
          }
          throw err;
        }
        authentication = { mechanism: "ntlm", kerberosUnavailable: reason };
      }
    } else {
      layer = await ntlmLogon(post);
      authentication = { mechanism: "ntlm" };
    }

    // 2. The shell exchange.
    const call = async (action: string, body: string, options?: { shellId?: string; options?: Record<string, string> }) => {
      const messageId = newMessageId();
      const scheme = conn.https ? "https" : "http";
      const soap = envelope(
        { to: `${scheme}://${conn.host}:${conn.port}/wsman`, action, messageId, operationTimeoutSeconds: OPERATION_TIMEOUT_SECONDS, ...options },
        body,
      );
      const wrapped = layer.wrap(Buffer.from(soap, "utf8"));
      return checkReply(await post(wrapped.headers, wrapped.body), layer, action, messageId);
    };

    const created = await call(ACTION.create, bodies.create(), { options: { WINRS_NOPROFILE: "TRUE", WINRS_CODEPAGE: "65001" } });
    const shellId = text(created.body?.Shell?.ShellId) || selectorShellId(created.body);
    if (!shellId) throw new HostError("badReply", where, "Create returned no ShellId");
    let exitCode: number;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    try {
      commandSent = true;
      const started = await call(ACTION.command, bodies.command(commandLine), {
        shellId,
        // stdin is a pipe this client writes (Send) and closes (End="true"): FALSE is "pipe" (MS-WSMV
        // 3.1.4.11), as Ansible sends whenever it streams stdin (`console_mode_stdin=(stdin_iterator
        // is None)` in its winrm connection plugin).
        options: { WINRS_CONSOLEMODE_STDIN: "FALSE", WINRS_SKIP_CMD_SHELL: "FALSE" },
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
          // Number("") is 0: a Done without an ExitCode must not pass for success.
          const code = text(state.ExitCode).trim();
          if (!/^-?\d+$/.test(code)) throw new HostError("badReply", where, "the command was reported done without an ExitCode");
          exitCode = Number(code);
          break;
        }
      }
      await call(ACTION.signal, bodies.signal(commandId), { shellId });
    } catch (err) {
      if (isDropped(err)) return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode: null, authentication };
      throw err;
    } finally {
      await call(ACTION.delete, bodies.delete(), { shellId }).catch(() => undefined);
    }
    return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode, authentication };
  }

  /**
   * NTLMv2 under the Negotiate scheme on empty POSTs: NEGOTIATE, the host's CHALLENGE, then
   * AUTHENTICATE (bound to the TLS certificate over HTTPS). Messages are then sealed with the
   * NTLM session over HTTP, or plain inside TLS.
   */
  async function ntlmLogon(post: (headers: Record<string, string>, body: Buffer) => Promise<HttpReply>): Promise<MessageLayer> {
    const handshake = (token: Buffer) => post({ Authorization: `Negotiate ${token.toString("base64")}`, "Content-Type": SOAP_CONTENT_TYPE }, Buffer.alloc(0));
    let challengeReply: HttpReply;
    try {
      challengeReply = await handshake(negotiateMessage());
    } catch (err) {
      throw err instanceof HostError ? err : new HostError("connectionFailed", where, (err as Error).message);
    }
    if (challengeReply.status === 503) throw new HostError("hostBusy", where, "WinRM answered HTTP 503 Service Unavailable");
    const offered = /Negotiate ([A-Za-z0-9+/=]+)/.exec(String(challengeReply.headers["www-authenticate"] ?? ""));
    if (challengeReply.status === 401 && !offered) {
      // A 401 with no challenge to the NTLM NEGOTIATE: the host will not do NTLM at all.
      throw new HostError(
        "authenticationFailed",
        where,
        'the host answered the NTLM negotiation with HTTP 401 and no challenge: it refuses NTLM ("Network security: Restrict NTLM: Incoming NTLM ' +
          'traffic" set to deny, or NTLM disabled)',
        'use connection.authentication: "kerberos" with a domain account (README, "Kerberos")',
      );
    }
    if (challengeReply.status !== 401 || !offered) {
      throw new HostError("connectionFailed", where, `expected an NTLM challenge, got HTTP ${challengeReply.status}`);
    }
    // Over HTTPS, bind the NTLM exchange to the certificate of this TLS session (RFC 5929
    // tls-server-end-point), which CbtHardeningLevel Strict requires (MS-WSMV 2.2.4.34).
    const channelBindings = conn.https ? certificateBindingHash((challengeReply.socket as tls.TLSSocket).getPeerCertificate().raw) : undefined;
    let authenticate: { message: Buffer; session: NtlmSession };
    try {
      authenticate = authenticateMessage({
        account: conn.user,
        password: conn.password ?? "",
        challenge: parseChallenge(Buffer.from(offered[1], "base64")),
        channelBindings,
      });
    } catch (err) {
      if (err instanceof NtlmChallengeRefused) throw new HostError("badReply", where, err.message);
      throw new HostError("badReply", where, `the host's NTLM challenge could not be read (${(err as Error).message})`);
    }
    const { message, session } = authenticate;
    const authenticated = await handshake(message);
    if (authenticated.status === 401) throw refused(authenticated);
    if (authenticated.status !== 200) throw new HostError("connectionFailed", where, `NTLM authentication ended with HTTP ${authenticated.status}`);
    return conn.https ? plainLayer({}) : encryptedLayer(session);
  }

  /**
   * A Kerberos context for the host's service principal, from the process's ticket store (one KDC
   * exchange per service per run), or why none can be had (no realm or KDC known, the KDC's
   * refusal, an IP address without a service principal, ...).
   */
  async function kerberosTicket(user: string | undefined): Promise<{ context: GssInitiatorContext } | { unavailable: unknown }> {
    try {
      const credential = await processTicketStore().getServiceTicket({
        host: conn.host,
        servicePrincipal: conn.servicePrincipal,
        user,
        password: conn.password,
        keytab: conn.keytabFile,
        ccache: conn.ccache,
        realm: conn.realm,
        kdc: conn.kdc,
      });
      return { context: new GssInitiatorContext(serviceTicketOf(credential)) };
    } catch (err) {
      return { unavailable: err };
    }
  }

  /**
   * Kerberos under the Negotiate scheme: a service ticket for the host's SPN from the process's
   * ticket store (one KDC exchange per service per run), the AP-REQ sent on an empty POST (raw
   * krb5 token, as requests-kerberos sends it to Windows), and the host's AP-REP verified before
   * anything else is sent: a host that cannot prove it holds the service key is refused (mutual
   * authentication). Over HTTPS an anonymous request first opens the TLS session whose
   * certificate the authenticator is bound to (channel binding, KERB_AP_OPTIONS_CBT). Messages
   * are then sealed with the context (RFC 4121 wrap tokens) over HTTP, or plain inside TLS.
   */
  async function kerberosLogon(
    post: (headers: Record<string, string>, body: Buffer) => Promise<HttpReply>,
    context: GssInitiatorContext,
  ): Promise<MessageLayer> {
    let bindingsHash: Buffer | undefined;
    try {
      if (conn.https) {
        const probe = await post({ "Content-Type": SOAP_CONTENT_TYPE }, Buffer.alloc(0));
        if (probe.status === 503) throw new HostError("hostBusy", where, "WinRM answered HTTP 503 Service Unavailable");
        bindingsHash = certificateBindingHash((probe.socket as tls.TLSSocket).getPeerCertificate().raw);
      }
    } catch (err) {
      throw err instanceof HostError ? err : new HostError("connectionFailed", where, (err as Error).message);
    }
    let logon: HttpReply;
    try {
      logon = await post(
        {
          Authorization: `Negotiate ${context.initialToken({ bindingsHash, cbtAware: conn.https === true }).toString("base64")}`,
          "Content-Type": SOAP_CONTENT_TYPE,
        },
        Buffer.alloc(0),
      );
    } catch (err) {
      throw err instanceof HostError ? err : new HostError("connectionFailed", where, (err as Error).message);
    }
    if (logon.status === 503) throw new HostError("hostBusy", where, "WinRM answered HTTP 503 Service Unavailable");
    const answer = /(?:^|,\s*)Negotiate ([A-Za-z0-9+/=]+)/.exec(String(logon.headers["www-authenticate"] ?? ""));
    const token = answer ? Buffer.from(answer[1], "base64") : null;
    if (logon.status === 401) {
      // The host's reason, when it sent one (a KRB-ERROR: skew, replay, a key it does not hold).
      if (token) {
        try {
          context.acceptReply(token);
        } catch (err) {
          throw kerberosFailure(err);
        }
      }
      throw new HostError(
        "authenticationFailed",
        where,
        `the host refused the Kerberos ticket for ${context.servicePrincipal} (HTTP 401 without a reason)`,
        "the account may not be an administrator of the host, the host's key may have changed since the ticket was issued (run kinit again), or the SPN " +
          "may belong to another computer",
      );
    }
    if (logon.status !== 200) throw new HostError("connectionFailed", where, `Kerberos authentication ended with HTTP ${logon.status}`);
    let session;
    try {
      session = context.acceptReply(token);
    } catch (err) {
      throw kerberosFailure(err);
    }
    return conn.https ? plainLayer({}) : encryptedLayer(gssSealer(session));
  }

  /** Why Kerberos could not be used, in one line without the advice (the negotiate fallback's reason). */
  function kerberosReason(err: unknown): string {
    return err instanceof HostError ? err.detail : (err as Error).message;
  }

  /**
   * A Kerberos failure in the provider's terms: a KDC that did not answer is transient (retried);
   * the rest are authentication failures, each naming its cause and fix.
   */
  function kerberosFailure(err: unknown): HostError {
    if (err instanceof HostError) return err;
    if (err instanceof KerberosError)
      return new HostError(err.transient ? "connectionFailed" : "authenticationFailed", where, `Kerberos: ${err.message}`, KERBEROS_ADVICE);
    return new HostError("authenticationFailed", where, `Kerberos: ${(err as Error).message}`, KERBEROS_ADVICE);
  }

  function encryptedLayer(session: MessageSealer): MessageLayer {
    return {
      wrap: (soap) => ({ headers: { "Content-Type": ENCRYPTED_CONTENT_TYPE }, body: encryptMessage(session, soap) }),
      unwrap: (reply) => {
        if (!String(reply.headers["content-type"] ?? "").includes("HTTP-SPNEGO-session-encrypted")) {
          throw new HostError("badReply", where, `HTTP ${reply.status} without message encryption: refused`);
        }
        try {
          return decryptMessage(session, reply.body).toString("utf8");
        } catch (err) {
          throw new HostError("badReply", where, (err as Error).message);
        }
      },
    };
  }

  function plainLayer(headers: Record<string, string>): MessageLayer {
    return {
      wrap: (soap) => ({ headers: { ...headers, "Content-Type": SOAP_CONTENT_TYPE }, body: soap }),
      unwrap: (reply) => reply.body.toString("utf8"),
    };
  }

  /**
   * HTTP 401: the credentials, or the account's rights, were refused. The detail adds what
   * Windows is known to refuse for such a user, since WinRM itself says nothing more.
   */
  function refused(reply: HttpReply): HostError {
    const detail = `the host refused user "${conn.user}"`;
    if (conn.authentication === "basic" && !/\bBasic\b/i.test(String(reply.headers["www-authenticate"] ?? ""))) {
      // MS-WSMV 2.2.4.34 ServiceAuthType: Basic is off unless the host's WinRM service enables it.
      return new HostError(
        "authenticationFailed",
        where,
        `${detail}: the host does not offer Basic authentication (off by default in WinRM, winrm/config/service/auth Basic); use NTLM`,
      );
    }
    if (conn.https && conn.authentication !== "basic" && !conn.certificateFingerprint) {
      // NTLM over HTTPS is bound to the certificate this connection was shown (tls-server-end-point,
      // RFC 5929). Unpinned, that may be a TLS-inspecting proxy's certificate (trusted through a
      // corporate CA), not the host's: the host then sees a binding to another certificate and
      // refuses the logon (CbtHardeningLevel), whatever the password.
      const seen = (reply.socket as tls.TLSSocket).getPeerCertificate?.()?.fingerprint256 ?? "unknown";
      return new HostError(
        "authenticationFailed",
        where,
        `${detail}: if the password is right, the certificate this connection was shown (SHA-256 ${seen}) may not be the host's own: ` +
          "NTLM is bound to it (channel binding), and a host behind a TLS-inspecting proxy refuses such a logon; compare it with the host's listener " +
          "certificate, " +
          "exempt the host from TLS inspection, and pin the host's certificate (connection.certificateFingerprint) to have any other refused before a " +
          "credential is sent" +
          (/[\\@]/.test(conn.user)
            ? ""
            : "; or, for a local administrator other than the built-in Administrator, the host needs LocalAccountTokenFilterPolicy=1"),
      );
    }
    if (!/[\\@]/.test(conn.user)) {
      // A name without domain is most likely a local account. UAC remote restrictions (KB 951016)
      // give a local administrator other than the built-in one a filtered token over the network,
      // which WinRM refuses with 401 (pywinrm issue 188, ansible issue 42978); domain
      // administrators get a full token.
      return new HostError(
        "authenticationFailed",
        where,
        `${detail}: if it is a local administrator other than the built-in Administrator, WinRM refuses it unless ` +
          "LocalAccountTokenFilterPolicy=1 (HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System); set that value, or use a domain " +
          "account (DOMAIN\\user or user@domain)",
      );
    }
    return new HostError("authenticationFailed", where, detail);
  }

  function checkReply(reply: HttpReply, layer: MessageLayer, action: string, messageId: string): { header: Xml; body: Xml } {
    if (reply.status === 401) throw refused(reply);
    // IIS/HTTP.sys answers 503 in plain text when the service is overloaded; nothing ran.
    if (reply.status === 503) throw new HostError("hostBusy", where, "WinRM answered HTTP 503 Service Unavailable");
    const xml = layer.unwrap(reply);
    const parsed = parseEnvelope(xml);
    if (text(parsed.header.RelatesTo) !== messageId) throw new HostError("badReply", where, "reply does not relate to the request's MessageID");
    const fault = faultOf(parsed.body);
    if (fault) throw new WsmanFault(where, fault);
    if (reply.status !== 200) throw new HostError("badReply", where, `HTTP ${reply.status}`);
    if (text(parsed.header.Action) !== `${action}Response`) throw new HostError("badReply", where, `unexpected reply action ${text(parsed.header.Action)}`);
    return parsed;
  }
}

/**
 * The Kerberos name of a negotiate connection's user: "user" or "user@REALM" as given; the NTLM
 * form "DOMAIN\\user" as "user" in the connection's realm (or krb5.conf's default_realm), since a
 * NetBIOS domain name is not a realm.
 */
function negotiateKerberosUser(user: string): string {
  const at = user.lastIndexOf("\\");
  return at >= 0 ? user.slice(at + 1) : user;
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
    // A shell quota (MaxShellsPerUser, ERROR_WSMAN_QUOTA_MAX_OPERATIONS) frees up as other shells end.
    const kind =
      /AccessDenied/i.test(fault.subcode) || /access is denied/i.test(fault.reason)
        ? "accessDenied"
        : /QuotaLimit/i.test(fault.subcode)
          ? "hostBusy"
          : "failed";
    super(kind, where, `WinRM fault ${fault.subcode || fault.code}: ${fault.reason.trim()}`);
  }
}
