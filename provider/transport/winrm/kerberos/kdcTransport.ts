// Sending one request to a realm's KDCs (RFC 4120 7.2): the KDCs in the order given, UDP first
// for a request no longer than the UDP preference limit (MIT's udp_preference_limit, 1465 bytes by
// default) and TCP (each message behind a 4-byte big-endian length) for a larger one, or after a
// KDC answered KRB_ERR_RESPONSE_TOO_BIG (52) over UDP. Each try has its own timeout, the whole
// send an overall deadline; when no KDC answers, one transient `kdcUnreachable` error lists what
// was tried. Only node:dgram and node:net: the reply is returned as bytes, for the caller to
// decode and check (the nonce binds it to the request, not the socket it came from).
import * as dgram from "node:dgram";
import * as dns from "node:dns";
import * as net from "node:net";
import { KerberosError } from "./errors";
import type { KdcAddress } from "./krb5conf";
import { ErrorCode, MsgType, decodeKrbError, messageType } from "./messages";

export type { KdcAddress };

/** MIT's default udp_preference_limit: requests of more bytes go over TCP. */
const UDP_PREFERENCE_LIMIT = 1465;
/** How long one try (one KDC, one protocol) waits for its answer, unless told. */
const TRY_TIMEOUT_MS = 3000;
/** How long a whole send may take over all KDCs, unless told. */
const SEND_DEADLINE_MS = 15000;
/** The largest TCP reply read (RFC 4120 7.2.2 allows 2^31 - 1; no ticket comes near this). */
const MAX_TCP_REPLY = 1 << 20;

export type KdcProtocol = "udp" | "tcp";

/** One try and how it ended, for the caller's diagnostics and the tests. */
export interface KdcAttempt {
  kdc: KdcAddress;
  protocol: KdcProtocol;
  outcome: "answered" | "tooBig" | "timeout" | "refused" | "unresolved" | "failed";
  /** The socket error or what was wrong with the reply, for `failed` and `refused`. */
  detail?: string;
}

/** A reply and where it came from. */
export interface KdcExchange {
  reply: Buffer;
  kdc: KdcAddress;
  protocol: KdcProtocol;
  attempts: KdcAttempt[];
}

export interface KdcSendOptions {
  /** Requests longer than this go over TCP only (MIT's udp_preference_limit; 1 means always TCP). */
  udpPreferenceLimit?: number;
  /** The timeout of one try, in milliseconds. */
  tryTimeoutMs?: number;
  /** The time (Date.now() milliseconds) after which no further try starts and a running one ends. */
  deadline?: number;
}

/** The function that sends one KDC request: `sendKdcRequest`, or a test's wrapper around it. */
export type KdcSender = (realm: string, kdcs: readonly KdcAddress[], request: Buffer, options?: KdcSendOptions) => Promise<KdcExchange>;

type TryResult = { ok: true; reply: Buffer } | { ok: false; outcome: KdcAttempt["outcome"]; detail?: string };

const addressText = (k: KdcAddress) => (net.isIPv6(k.host) ? `[${k.host}]:${k.port}` : `${k.host}:${k.port}`);

/** The KDC's address to connect to: an IP address as is, a name through the system resolver. */
async function resolve(host: string): Promise<{ address: string; family: 4 | 6 } | undefined> {
  const family = net.isIP(host);
  if (family) return { address: host, family: family as 4 | 6 };
  try {
    const r = await dns.promises.lookup(host);
    return { address: r.address, family: r.family === 6 ? 6 : 4 };
  } catch {
    return undefined;
  }
}

function refusedOrFailed(err: NodeJS.ErrnoException): TryResult {
  const code = err.code ?? "";
  if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "EHOSTUNREACH" || code === "ENETUNREACH")
    return { ok: false, outcome: "refused", detail: code };
  return { ok: false, outcome: "failed", detail: code || err.message };
}

function udpTry(address: string, family: 4 | 6, port: number, request: Buffer, timeoutMs: number): Promise<TryResult> {
  return new Promise((done) => {
    const socket = dgram.createSocket(family === 6 ? "udp6" : "udp4");
    let settled = false;
    const finish = (r: TryResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        socket.close();
      } catch {
        // already closed
      }
      done(r);
    };
    const timer = setTimeout(() => finish({ ok: false, outcome: "timeout" }), timeoutMs);
    socket.on("error", (err) => finish(refusedOrFailed(err)));
    // A connected socket hears only this KDC, and learns of an ICMP port-unreachable as ECONNREFUSED.
    socket.on("message", (msg) => finish({ ok: true, reply: msg }));
    socket.connect(port, address, () => {
      socket.send(request, (err) => {
        if (err) finish(refusedOrFailed(err));
      });
    });
  });
}

function tcpTry(address: string, port: number, request: Buffer, timeoutMs: number): Promise<TryResult> {
  return new Promise((done) => {
    const socket = net.connect({ host: address, port });
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const finish = (r: TryResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      done(r);
    };
    const timer = setTimeout(() => finish({ ok: false, outcome: "timeout" }), timeoutMs);
    socket.on("error", (err) => finish(refusedOrFailed(err)));
    socket.on("connect", () => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(request.length);
      socket.write(Buffer.concat([length, request]));
    });
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      received += d.length;
      if (received < 4) return;
      const all = Buffer.concat(chunks);
      const n = all.readUInt32BE(0);
      // RFC 4120 7.2.2: the high bit is reserved; a KDC that sets it speaks an extension we do not.
      if (n & 0x80000000 || n > MAX_TCP_REPLY) return finish({ ok: false, outcome: "failed", detail: `a TCP reply length of ${n >>> 0} bytes` });
      if (all.length >= 4 + n) finish({ ok: true, reply: all.subarray(4, 4 + n) });
    });
    socket.on("end", () => finish({ ok: false, outcome: "failed", detail: "the connection closed before a whole reply" }));
  });
}

/** Whether a UDP reply is KRB_ERR_RESPONSE_TOO_BIG: the KDC asks for the request again over TCP. */
function isTooBig(reply: Buffer): boolean {
  if (messageType(reply) !== MsgType.KRB_ERROR) return false;
  try {
    return decodeKrbError(reply).errorCode === ErrorCode.KRB_ERR_RESPONSE_TOO_BIG;
  } catch {
    return false;
  }
}

/**
 * Sends `request` (an AS-REQ or TGS-REQ's DER) to the realm's KDCs in order and returns the first
 * answer: for each KDC, UDP then TCP when the request is at most `udpPreferenceLimit` bytes, TCP
 * only otherwise; a UDP answer of KRB_ERR_RESPONSE_TOO_BIG goes on to TCP at the same KDC. A KDC
 * that refuses, times out or does not resolve is passed over. No answer from any: a transient
 * KerberosError("kdcUnreachable") naming the realm and every address tried.
 */
export async function sendKdcRequest(realm: string, kdcs: readonly KdcAddress[], request: Buffer, options: KdcSendOptions = {}): Promise<KdcExchange> {
  const limit = options.udpPreferenceLimit ?? UDP_PREFERENCE_LIMIT;
  const tryTimeout = options.tryTimeoutMs ?? TRY_TIMEOUT_MS;
  const deadline = options.deadline ?? Date.now() + SEND_DEADLINE_MS;
  const attempts: KdcAttempt[] = [];
  const protocols: KdcProtocol[] = request.length <= limit ? ["udp", "tcp"] : ["tcp"];
  for (const kdc of kdcs) {
    if (Date.now() >= deadline) break;
    const resolved = await resolve(kdc.host);
    if (!resolved) {
      for (const protocol of protocols) attempts.push({ kdc, protocol, outcome: "unresolved" });
      continue;
    }
    for (const protocol of protocols) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const timeout = Math.min(tryTimeout, left);
      const r =
        protocol === "udp"
          ? await udpTry(resolved.address, resolved.family, kdc.port, request, timeout)
          : await tcpTry(resolved.address, kdc.port, request, timeout);
      if (!r.ok) {
        attempts.push({ kdc, protocol, outcome: r.outcome, ...(r.detail ? { detail: r.detail } : {}) });
        // A KDC that refused UDP may still serve TCP (and the other way round): try both.
        continue;
      }
      if (protocol === "udp" && isTooBig(r.reply)) {
        attempts.push({ kdc, protocol, outcome: "tooBig" });
        continue;
      }
      attempts.push({ kdc, protocol, outcome: "answered" });
      return { reply: r.reply, kdc, protocol, attempts };
    }
  }
  const tried = [...new Set(attempts.map((a) => addressText(a.kdc)))];
  const untried = kdcs.map(addressText).filter((k) => !tried.includes(k));
  const list = [...tried, ...untried.map((k) => `${k} (not tried before the deadline)`)].join(", ");
  throw new KerberosError(
    "kdcUnreachable",
    `no KDC for realm ${realm} answered (tried ${list || "none: no KDC is configured"}): check krb5.conf [realms] kdc or connection.kdc, and that the ` +
      `port named there (88 unless given) is reachable`,
    { transient: true },
  );
}
