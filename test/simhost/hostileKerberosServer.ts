// A WinRM host that lies under Kerberos, for tests of what the WinRM client refuses once it logs
// on with `authentication: "kerberos"`. Where a genuine security context is needed, a real MIT
// acceptor holding the service key does the work (the python3-gssapi sidecar: it checks the
// AP-REQ, makes the AP-REP, seals and unseals every message); only the faulty part is forged.
// Told to tell no lie, it completes the logon and answers the whole shell exchange of a run
// that succeeds (HONEST_STDOUT, exit 0), so each refusal is caused by its lie alone.
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { ENCRYPTED_CONTENT_TYPE, frameEncrypted, parseEncrypted, checkSealedLength } from "../../provider/transport/winrm/encryption";
import { encrypt, ENCTYPE_AES256_CTS_HMAC_SHA1_96 } from "../../provider/transport/winrm/kerberos/crypto";
import { encodeApRep, encodeEncApRepPart, encodeKrb5Token, KeyUsage, TokId } from "../../provider/transport/winrm/kerberos/messages";
import { parseEnvelope, text } from "../../provider/transport/winrm/soap";
import type { GssSidecar } from "./gssSidecar";
import { closeServer, honestAnswer, listenWithBodies } from "./hostileWinrmServer";
import { replyEnvelope } from "./winrmServer";

export type KerberosLie =
  /** Honest: the acceptor's AP-REP on the 200, every reply sealed by the acceptor, in order. */
  | "none"
  /** The acceptor accepts the AP-REQ, but the 200 carries no Negotiate token (no AP-REP): mutual authentication unproven. */
  | "noApRep"
  /**
   * A host that does not hold the service key: the AP-REQ is never given to the acceptor, and the
   * 200 carries an AP-REP encrypted under a key of its own (aes256, usage 12).
   */
  | "wrongKeyApRep"
  /**
   * The first logon is genuine and its AP-REP kept; every later AP-REQ is answered with that
   * AP-REP again (captured traffic replayed by a host without the key).
   */
  | "replayedApRep"
  /** A genuine logon; the reply to Create is sealed by the acceptor, then one byte of its wrap token's encrypted data flipped. */
  | "alteredWrap"
  /** A genuine logon; the reply to Command is the sealed reply to Create sent again (a wrap token whose sequence number was already used). */
  | "replayedWrap";

/** One HTTP request as the server saw it. */
export interface KerberosRecord {
  /** "ap-req" for a Negotiate token, "none" without Authorization. */
  authorization: "ap-req" | "none" | "other";
  /** The SOAP action of a sealed request the acceptor unsealed. */
  action?: string;
  /** The body's length: an AP-REQ leg is empty. */
  bodyLength: number;
}

export interface HostileKerberosOptions {
  address: string;
  /** The acceptor holding HTTP/<host>'s key (a GssSidecar started with the keytab). */
  acceptor: GssSidecar;
  lie: KerberosLie;
}

export class HostileKerberosServer {
  /** Every HTTP request, in order. */
  readonly records: KerberosRecord[] = [];
  /** The AP-REPs sent, in order (the first genuine one is what "replayedApRep" replays). */
  readonly apReps: Buffer[] = [];
  /** SOAP replies sent (each sealed, or spoiled by the lie). */
  replies = 0;
  /** Contexts the acceptor completed. */
  contexts = 0;
  /** The acceptor context of the latest genuine logon. */
  private ctx?: string;
  /** The sealed body of the latest reply to Create (what "replayedWrap" sends again). */
  private createReply?: Buffer;

  private constructor(
    private readonly options: HostileKerberosOptions,
    private readonly server: http.Server,
  ) {}

  static async start(options: HostileKerberosOptions): Promise<HostileKerberosServer> {
    let hostile: HostileKerberosServer | undefined;
    const server = await listenWithBodies(options.address, (req, res, body) => hostile!.handle(req, res, body));
    hostile = new HostileKerberosServer(options, server);
    return hostile;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The SOAP actions that reached the server, in order (short names: the part after the last '/'). */
  get actions(): string[] {
    return this.records.filter((r) => r.action !== undefined).map((r) => r.action!.slice(r.action!.lastIndexOf("/") + 1));
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const negotiate = /^Negotiate ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? "");
    const record: KerberosRecord = { authorization: negotiate ? "ap-req" : req.headers.authorization ? "other" : "none", bodyLength: body.length };
    this.records.push(record);
    if (negotiate) return this.logon(res, Buffer.from(negotiate[1], "base64"));
    if (req.headers.authorization) {
      res.writeHead(401, { "WWW-Authenticate": "Negotiate", "Content-Length": "0" });
      return void res.end();
    }
    // As Windows with AllowUnencrypted false: SOAP over HTTP must arrive sealed, under the context.
    const ctx = this.ctx;
    let soap: Buffer;
    try {
      if (!ctx || !String(req.headers["content-type"] ?? "").includes("HTTP-SPNEGO-session-encrypted")) throw new Error("unsealed");
      const parts = parseEncrypted(body);
      soap = checkSealedLength((await this.options.acceptor.unwrapIov(ctx, parts.signature, parts.sealed)).data, parts);
    } catch {
      res.writeHead(400, { "Content-Type": "text/plain", Connection: "close" });
      return void res.end("unencrypted or unverifiable traffic is not allowed");
    }
    const { header, body: request } = parseEnvelope(soap.toString("utf8"));
    const action = text(header.Action);
    record.action = action;
    const { replyAction, replyBody } = honestAnswer(action, request);
    const xml = Buffer.from(replyEnvelope(replyAction, text(header.MessageID), replyBody), "utf8");
    this.replies++;
    const shortAction = action.slice(action.lastIndexOf("/") + 1);
    let sealed: Buffer;
    if (this.options.lie === "replayedWrap" && shortAction === "Command" && this.createReply) {
      sealed = this.createReply;
    } else {
      const w = await this.options.acceptor.wrapIov(ctx, xml);
      const data = Buffer.concat([w.data, w.padding]);
      // The flip lands in the encrypted data, past the header: only the integrity check can see it.
      if (this.options.lie === "alteredWrap" && shortAction === "Create") data[Math.floor(data.length / 2)] ^= 0x01;
      sealed = frameEncrypted({ signature: w.header, sealed: data, length: xml.length });
    }
    if (shortAction === "Create") this.createReply = sealed;
    res.writeHead(200, { "Content-Type": ENCRYPTED_CONTENT_TYPE, "Content-Length": String(sealed.length) });
    res.end(sealed);
  }

  /** The AP-REQ leg: the acceptor's answer, withheld or replaced as the lie says. */
  private async logon(res: http.ServerResponse, apReq: Buffer): Promise<void> {
    const lie = this.options.lie;
    const ok = (token: Buffer | null) => {
      res.writeHead(200, { ...(token ? { "WWW-Authenticate": `Negotiate ${token.toString("base64")}` } : {}), "Content-Length": "0" });
      res.end();
    };
    if (lie === "wrongKeyApRep") return ok(forgedApRep());
    if (lie === "replayedApRep" && this.apReps.length > 0) return ok(this.apReps[0]);
    const ctx = `h${crypto.randomUUID()}`;
    let step;
    try {
      step = await this.options.acceptor.accept(ctx, apReq);
    } catch (err) {
      res.writeHead(401, { "WWW-Authenticate": "Negotiate", "Content-Length": "0" });
      return void res.end(String((err as Error).message));
    }
    if (!step.complete || !step.token) throw new Error("the acceptor did not complete the context with an AP-REP");
    this.contexts++;
    this.ctx = ctx;
    this.apReps.push(step.token);
    ok(lie === "noApRep" ? null : step.token);
  }
}

/**
 * An AP-REP as a host without the service key can make it: well formed (a krb5 token, TOK_ID
 * 02 00, an EncAPRepPart with a time, a subkey and a sequence number) but encrypted under a key of
 * its own, since the ticket's session key is inside the ticket it cannot decrypt.
 */
export function forgedApRep(): Buffer {
  const key = { etype: ENCTYPE_AES256_CTS_HMAC_SHA1_96, value: crypto.randomBytes(32) };
  const part = encodeEncApRepPart({
    ctime: new Date(Math.floor(Date.now() / 1000) * 1000),
    cusec: 0,
    subkey: { keytype: ENCTYPE_AES256_CTS_HMAC_SHA1_96, keyvalue: crypto.randomBytes(32) },
    seqNumber: crypto.randomInt(1, 2 ** 30),
  });
  const apRep = encodeApRep({ encPart: { etype: ENCTYPE_AES256_CTS_HMAC_SHA1_96, cipher: encrypt(key, KeyUsage.AP_REP_ENC_PART, part) } });
  return encodeKrb5Token(TokId.AP_REP, apRep);
}
