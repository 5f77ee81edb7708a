// The tests' handle on a real GSSAPI peer: spawns test/simhost/gssSidecar.py (MIT krb5 through
// Debian's python3-gssapi, /usr/bin/python3) once, in a realm's environment, and speaks JSON lines
// to it, matching each reply to its request. Contexts live in that process by id: acceptor
// contexts for the WinRM emulator (a keytab, optional channel bindings), initiator contexts as an
// independent client, and message protection through MIT's IOV calls in the WinRM layout.
// GSSAPI failures come back as GssError with MIT's major and minor codes and text.
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import { REPO_ROOT } from "../../tools/repoRoot";

const PYTHON = "/usr/bin/python3";
const SCRIPT = path.join(REPO_ROOT, "test", "simhost", "gssSidecar.py");

/** GSS_C_* context flags (RFC 2744), as the sidecar reports them. */
export const GSS_FLAGS = {
  DELEG: 0x01,
  MUTUAL: 0x02,
  REPLAY: 0x04,
  SEQUENCE: 0x08,
  CONF: 0x10,
  INTEG: 0x20,
  ANON: 0x40,
  PROT_READY: 0x80,
  TRANS: 0x100,
  CHANNEL_BOUND: 0x800,
} as const;

/** GSS major status codes (routine errors sit in bits 16-23, RFC 2744 3.9.1). */
export const GSS_MAJOR = {
  BAD_MIC: 6 << 16,
  CREDENTIALS_EXPIRED: 11 << 16,
  DEFECTIVE_TOKEN: 9 << 16,
  FAILURE: 13 << 16,
  NO_CRED: 7 << 16,
  BAD_BINDINGS: 4 << 16,
  /** Supplementary (bits 0-15): a token earlier in sequence never arrived. */
  GAP_TOKEN: 0x10,
} as const;

/** A GSSAPI failure in the sidecar: MIT's codes and text (`message` holds both). */
export class GssError extends Error {
  constructor(
    readonly op: string,
    readonly major: number,
    readonly minor: number,
    readonly gssMessage: string,
    readonly majorMessage: string | null,
    readonly minorMessage: string | null,
    readonly kind: string,
    /** The error token MIT produced, if any (a KRB-ERROR after a failed mutual accept). */
    readonly token: Buffer | null = null,
  ) {
    super(`${op}: ${gssMessage}`);
  }

  /** The minor status as MIT's signed com_err code (krb5_err.h), e.g. -1765328350 for KRB5KRB_AP_ERR_REPEAT. */
  get krb5Code(): number {
    return this.minor | 0;
  }
}

export interface ContextStep {
  /** The token to send to the peer, if any. */
  token: Buffer | null;
  complete: boolean;
  /** GSS_C_* flags of the context so far. */
  flags: number;
  mech: string | null;
  lifetime: number | null;
}

export interface AcceptStep extends ContextStep {
  /** The initiator's principal, once the context is established. */
  initiator: string | null;
}

export interface InitiatorCredentials {
  /** A ccache name (`FILE:/…`); the realm's KRB5CCNAME unless told. */
  ccache?: string;
  /** A client keytab (cred store `client_keytab`), with `principal`. */
  clientKeytab?: string;
  /** The initiator's principal (with `password`, `clientKeytab`, or to pick it from a ccache). */
  principal?: string;
  /** Acquire with a password (MIT's gss_acquire_cred_with_password: an AS exchange in memory). */
  password?: string;
}

export interface IovToken {
  /** HEADER: the 16-byte RFC 4121 token header, then the rotated EC and checksum bytes. */
  header: Buffer;
  /** DATA: the ciphertext, as long as the plaintext. */
  data: Buffer;
  /** PADDING: empty for AES (EC 0). */
  padding: Buffer;
  encrypted: boolean;
}

export interface LucidContext {
  initiator: boolean;
  protocol: number;
  sendSeq: number;
  recvSeq: number;
  endtime: number;
  ctxKeyType: number | null;
  ctxKey: Buffer | null;
  acceptorSubkeyType: number | null;
  acceptorSubkey: Buffer | null;
}

interface Pending {
  op: string;
  resolve: (result: Record<string, unknown>) => void;
  reject: (err: Error) => void;
}

type Json = Record<string, unknown>;

const buf = (b64: unknown): Buffer | null => (typeof b64 === "string" ? Buffer.from(b64, "base64") : null);
const b64 = (data: Buffer | null | undefined): string | undefined => (data ? data.toString("base64") : undefined);

export interface SidecarOptions {
  /** The realm's variables (Realm.env): KRB5_CONFIG, KRB5CCNAME, KRB5RCACHEDIR, ... */
  env: Record<string, string>;
  /** The acceptor keytab for `accept` unless a call names another. */
  keytab?: string;
  /** Runs the sidecar under libfaketime (`faketime -f <spec>`, e.g. "+10m") for acceptor-side skew. */
  fakeTime?: string;
}

export class GssSidecar {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private stderr = "";
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
  ) {
    this.exit = new Promise((resolve) =>
      child.once("exit", () => {
        this.exited = true;
        for (const p of this.pending.values()) p.reject(new Error(`gssSidecar exited during ${p.op}: ${this.stderr.trim()}`));
        this.pending.clear();
        resolve();
      }),
    );
  }

  /** Spawns the sidecar and waits for its ready line. */
  static async start(options: SidecarOptions): Promise<GssSidecar> {
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("KRB5")));
    Object.assign(env, options.env, { PYTHONUNBUFFERED: "1" });
    if (options.keytab) env.GSS_SIDECAR_KEYTAB = options.keytab;
    const [program, args] = options.fakeTime ? ["/usr/bin/faketime", ["-f", options.fakeTime, PYTHON, SCRIPT]] : [PYTHON, [SCRIPT]];
    const child = spawn(program, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let sidecar: GssSidecar | null = null;
    const ready = new Promise<number>((resolve, reject) => {
      const lines = readline.createInterface({ input: child.stdout! });
      let first = true;
      lines.on("line", (line) => {
        if (first) {
          first = false;
          try {
            resolve((JSON.parse(line) as { result: { pid: number } }).result.pid);
          } catch {
            reject(new Error(`gssSidecar: unexpected first line ${line}`));
          }
          return;
        }
        sidecar?.onLine(line);
      });
      child.once("exit", (code) => reject(new Error(`gssSidecar exited (${code}) before it was ready: ${stderrText}`)));
      child.once("error", reject);
    });
    let stderrText = "";
    child.stderr!.on("data", (d: Buffer) => {
      stderrText += d.toString("utf8");
      if (sidecar) sidecar.stderr = stderrText;
    });
    child.stdin!.on("error", () => undefined);
    const pid = await ready;
    sidecar = new GssSidecar(child, pid);
    sidecar.stderr = stderrText;
    return sidecar;
  }

  private onLine(line: string): void {
    let reply: { seq?: number; result?: Json; error?: Json };
    try {
      reply = JSON.parse(line);
    } catch {
      return; // not a reply: nothing waits for it
    }
    const p = reply.seq === undefined ? undefined : this.pending.get(reply.seq);
    if (!p) return;
    this.pending.delete(reply.seq!);
    if (reply.error) {
      const e = reply.error;
      p.reject(
        new GssError(
          p.op,
          Number(e.major),
          Number(e.minor),
          String(e.message),
          (e.majorMessage as string | null) ?? null,
          (e.minorMessage as string | null) ?? null,
          String(e.kind),
          buf(e.tokenB64),
        ),
      );
    } else p.resolve(reply.result ?? {});
  }

  /** Sends one request and resolves with its result; GssError for a GSSAPI failure. */
  request(op: string, args: Json = {}): Promise<Json> {
    if (this.exited) return Promise.reject(new Error(`gssSidecar has exited: ${this.stderr.trim()}`));
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { op, resolve, reject });
      this.child.stdin!.write(`${JSON.stringify({ seq, op, ...args })}\n`);
    });
  }

  private static step(r: Json): ContextStep {
    return {
      token: buf(r.tokenB64),
      complete: Boolean(r.complete),
      flags: Number(r.flags),
      mech: (r.mech as string | null) ?? null,
      lifetime: (r.lifetime as number | null) ?? null,
    };
  }

  /** Feeds an initiator token to acceptor context `ctx` (created on first use). */
  async accept(ctx: string, token: Buffer, options: { channelBindingAppData?: Buffer; keytab?: string; principal?: string } = {}): Promise<AcceptStep> {
    const r = await this.request("accept", {
      ctx,
      tokenB64: token.toString("base64"),
      channelBindingAppDataB64: b64(options.channelBindingAppData),
      keytab: options.keytab,
      principal: options.principal,
    });
    return { ...GssSidecar.step(r), initiator: (r.initiator as string | null) ?? null };
  }

  /**
   * Starts initiator context `ctx` for `targetSpn` (`HTTP/host` as a principal, or `HTTP@host`)
   * and returns its first token. `flags`: GSS_FLAGS; mutual, conf, integ and sequence unless told.
   */
  async initiate(
    ctx: string,
    targetSpn: string,
    options: { credentials?: InitiatorCredentials; flags?: number; channelBindingAppData?: Buffer; mech?: "krb5" | "spnego" } = {},
  ): Promise<ContextStep> {
    const r = await this.request("initiate", {
      ctx,
      targetSpn,
      ...(options.credentials ?? {}),
      flags: options.flags,
      channelBindingAppDataB64: b64(options.channelBindingAppData),
      mech: options.mech,
    });
    return GssSidecar.step(r);
  }

  /** Feeds the acceptor's reply token (the AP-REP) to initiator context `ctx`. */
  async step(ctx: string, token: Buffer): Promise<ContextStep> {
    return GssSidecar.step(await this.request("step", { ctx, tokenB64: token.toString("base64") }));
  }

  /** gss_wrap_iov with [HEADER (allocated), DATA, PADDING (allocated)], as pyspnego's wrap_winrm. */
  async wrapIov(ctx: string, data: Buffer, confidential = true): Promise<IovToken> {
    const r = await this.request("wrapIov", { ctx, dataB64: data.toString("base64"), confidential });
    return { header: buf(r.headerB64)!, data: buf(r.dataB64)!, padding: buf(r.paddingB64) ?? Buffer.alloc(0), encrypted: Boolean(r.encrypted) };
  }

  /** gss_unwrap_iov with [HEADER, DATA, DATA (empty)], as pyspnego's unwrap_winrm on MIT; the plaintext. */
  async unwrapIov(ctx: string, header: Buffer, data: Buffer): Promise<{ data: Buffer; encrypted: boolean; qop: number }> {
    const r = await this.request("unwrapIov", { ctx, headerB64: header.toString("base64"), dataB64: data.toString("base64") });
    return { data: buf(r.dataB64)!, encrypted: Boolean(r.encrypted), qop: Number(r.qop) };
  }

  /** Plain gss_wrap (one token, RRC 0): for comparing layouts only; WinRM uses wrapIov. */
  async wrap(ctx: string, data: Buffer, confidential = true): Promise<Buffer> {
    return buf((await this.request("wrap", { ctx, dataB64: data.toString("base64"), confidential })).tokenB64)!;
  }

  /** Plain gss_unwrap of one token. */
  async unwrap(ctx: string, token: Buffer): Promise<Buffer> {
    return buf((await this.request("unwrap", { ctx, tokenB64: token.toString("base64") })).dataB64)!;
  }

  /**
   * GSS_C_INQ_SSPI_SESSION_KEY (1.2.840.113554.1.2.2.5.5): the key the context protects messages
   * with (the acceptor subkey when the AP-REP carried one, else the initiator's subkey), and its
   * enctype, which MIT appends to 1.2.840.113554.1.2.2.4 in a second buffer.
   */
  async sessionKey(ctx: string): Promise<{ key: Buffer; enctype: number | null; oid: string | null }> {
    const r = await this.request("sessionKey", { ctx });
    return { key: buf(r.keyB64)!, enctype: (r.enctype as number | null) ?? null, oid: (r.oid as string | null) ?? null };
  }

  /**
   * MIT's lucid export of the context: its key, the acceptor subkey if one is in use, and both
   * sequence numbers. MIT deletes the context on export: `ctx` is gone afterwards.
   */
  async lucid(ctx: string): Promise<LucidContext> {
    const r = await this.request("lucid", { ctx });
    return {
      initiator: Boolean(r.initiator),
      protocol: Number(r.protocol),
      sendSeq: Number(r.sendSeq),
      recvSeq: Number(r.recvSeq),
      endtime: Number(r.endtime),
      ctxKeyType: (r.ctxKeyType as number | null) ?? null,
      ctxKey: buf(r.ctxKeyB64),
      acceptorSubkeyType: (r.acceptorSubkeyType as number | null) ?? null,
      acceptorSubkey: buf(r.acceptorSubkeyB64),
    };
  }

  /** Forgets context `ctx`. */
  async close(ctx: string): Promise<void> {
    await this.request("close", { ctx });
  }

  /** Ends the process (stdin closed, then SIGKILL after 2 s) and waits for it. */
  async dispose(): Promise<void> {
    if (this.exited) return;
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 2000);
    await this.exit;
    clearTimeout(timer);
  }
}

/** Resolves to the GssError `promise` fails with; fails the test when it is accepted or fails otherwise. */
export async function gssRefusal(promise: Promise<unknown>): Promise<GssError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof GssError) return err;
    throw new Error(`a GssError, not ${String(err)}`, { cause: err });
  }
  throw new Error("accepted");
}
