// The WinRM emulator with Kerberos, against independent clients: a domain-joined simulated host
// whose HTTP/<host> key sits in a keytab held by a real GSSAPI acceptor (MIT through the
// python3-gssapi sidecar), a throw-away MIT realm for the domain (SIM.EXAMPLE), and as clients
// MIT's own initiator (a second sidecar: AP-REQ, AP-REP checked, every SOAP message sealed with
// gss_wrap_iov over plain HTTP, as pyspnego's wrap_winrm does) and Debian's pywinrm with
// requests-kerberos (over HTTPS: it cannot seal with this pykerberos). The emulator's answers
// follow docs/windows-model.md "WinRM with Kerberos"; its own client (ours) is tested elsewhere.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import type { TLSSocket } from "node:tls";
import { tlsServerEndPoint } from "../../provider/transport/winrm/channelBinding";
import { encryptedContentType, EncryptionProtocol, frameEncrypted, KERBEROS_ENCRYPTED, parseEncrypted, SPNEGO_ENCRYPTED } from "../../provider/transport/winrm/encryption";
import { ACTION, bodies, envelope, faultOf, newMessageId, parseEnvelope, text } from "../../provider/transport/winrm/soap";
import { REPO_ROOT } from "../e2e/pulumiCli";
import { GssSidecar } from "../simhost/gssSidecar";
import { SIM_KERBEROS_PASSWORD, SIM_KERBEROS_USER, SIM_WINRM_HTTPS_PORT, SIM_WINRM_PORT, SimulatedFleet } from "../simhost/fleet";
import { Realm, startRealm } from "../simhost/kdc";
import { newHostState, saveState } from "../simhost/model";
import { WinrmEmulator } from "../simhost/winrmServer";
import { SIM_DOMAIN, WinrmService } from "../simhost/winrmService";
import { handMadeConnection } from "./handMadeWinrm";

const ADDRESS = "127.88.5.1";
const HTTP_PORT = 5985;
const HTTPS_PORT = 5986;
const HOST = "web01.sim.example";
const SPN = `HTTP/${HOST}`;
const PYTHON = "/usr/bin/python3";

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

describe("WinRM emulator with Kerberos: MIT's initiator and pywinrm against a real GSSAPI acceptor", function () {
  this.timeout(60_000);
  let realm: Realm;
  let acceptor: GssSidecar;
  let client: GssSidecar;
  let work: string;
  let certPem: string;
  let aliceCache: string;
  const emulators: WinrmEmulator[] = [];
  let contexts = 0;

  async function emulator(options: { https?: boolean; kerberos?: boolean; port?: number; settings?: ConstructorParameters<typeof WinrmService>[1] } = {}) {
    const service = new WinrmService(
      [
        { user: "alice", domain: SIM_DOMAIN, password: "Alice-Pa55", kind: "domainAdministrator" },
        { user: "rmu", domain: SIM_DOMAIN, kind: "remoteManagementUser" },
      ],
      options.settings,
    );
    const stateFile = path.join(work, `state-${emulators.length}.json`);
    saveState(stateFile, newHostState("server-2025"));
    const e = await WinrmEmulator.start({
      address: ADDRESS,
      port: options.port ?? (options.https ? HTTPS_PORT : HTTP_PORT),
      stateFile,
      service,
      tls: options.https ? { key: fs.readFileSync(path.join(work, "key.pem"), "utf8"), cert: certPem } : undefined,
      kerberos: options.kerberos === false ? undefined : acceptor,
    });
    emulators.push(e);
    return e;
  }

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "krb-winrm-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${HOST}`, "-addext", `subjectAltName=DNS:${HOST},IP:${ADDRESS}`, "-keyout", path.join(work, "key.pem"), "-out", path.join(work, "cert.pem")], { stdio: "ignore" });
    certPem = fs.readFileSync(path.join(work, "cert.pem"), "utf8");
    realm = await startRealm({ realm: "SIM.EXAMPLE" });
    await realm.addPrincipal("alice", "Alice-Pa55");
    await realm.addPrincipal("carol", "Carol-Pa55"); // in the realm, but no account of the host's
    await realm.addPrincipal(SPN);
    const keytab = await realm.keytab(SPN, path.join(realm.dir, "http.keytab"));
    aliceCache = await realm.kinit("alice", { password: "Alice-Pa55", ccache: path.join(realm.dir, "alice.cc") });
    acceptor = await GssSidecar.start({ env: realm.env, keytab });
    client = await GssSidecar.start({ env: { ...realm.env, KRB5CCNAME: aliceCache } });
  });
  after(async () => {
    for (const e of emulators.splice(0)) await e.stop();
    await client?.dispose();
    await acceptor?.dispose();
    await realm?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const e of emulators.splice(0)) await e.stop();
  });

  /** One kept-alive connection, HTTP or HTTPS (trusting the test certificate). */
  function connection(tls: boolean, port = tls ? HTTPS_PORT : HTTP_PORT) {
    const agent = tls ? new https.Agent({ keepAlive: true, maxSockets: 1, ca: certPem }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
    let certificate: Buffer | undefined;
    const post = (headers: Record<string, string>, body: Buffer) =>
      new Promise<Reply>((resolve, reject) => {
        const req = (tls ? https : http).request({ host: ADDRESS, port, path: "/wsman", method: "POST", agent, servername: tls ? HOST : undefined, headers: { ...headers, "Content-Length": String(body.length) } }, (res) => {
          if (tls) certificate ??= (res.socket as TLSSocket).getPeerCertificate().raw;
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on("error", reject);
        req.end(body);
      });
    return { post, certificate: () => certificate, close: () => agent.destroy(), tls };
  }

  /** MIT's initiator logs on over `conn` (first a plain request, to learn the certificate over HTTPS); returns the context id and the 200. */
  async function logOn(conn: ReturnType<typeof connection>, options: { scheme?: "Negotiate" | "Kerberos"; mech?: "krb5" | "spnego"; bind?: boolean | Buffer } = {}) {
    const scheme = options.scheme ?? "Negotiate";
    const first = await conn.post({ "Content-Type": "application/soap+xml;charset=UTF-8" }, Buffer.alloc(0));
    assert.equal(first.status, 401);
    const ctx = `i${++contexts}`;
    const appData = options.bind === true ? tlsServerEndPoint(conn.certificate()!) : Buffer.isBuffer(options.bind) ? options.bind : undefined;
    let step = await client.initiate(ctx, SPN, { mech: options.mech ?? "krb5", channelBindingAppData: appData });
    let reply: Reply;
    for (;;) {
      reply = await conn.post({ Authorization: `${scheme} ${step.token!.toString("base64")}`, "Content-Type": "application/soap+xml;charset=UTF-8" }, Buffer.alloc(0));
      if (reply.status !== 401) break;
      const more = new RegExp(`^${scheme} (\\S+)$`).exec(String(reply.headers["www-authenticate"] ?? ""));
      if (!more) break;
      step = await client.step(ctx, Buffer.from(more[1], "base64"));
    }
    return { ctx, reply, first, apReq: step.token! };
  }

  /** Completes the initiator with the 200's token (mutual authentication), as requests-kerberos does. */
  async function completeMutual(ctx: string, reply: Reply, scheme = "Negotiate") {
    const token = new RegExp(`^${scheme} (\\S+)$`).exec(String(reply.headers["www-authenticate"] ?? ""));
    assert.ok(token, `the 200 carries the host's ${scheme} token (AP-REP): ${JSON.stringify(reply.headers)}`);
    const done = await client.step(ctx, Buffer.from(token[1], "base64"));
    assert.equal(done.complete, true);
  }

  /** A SOAP message sealed by MIT's initiator (gss_wrap_iov) and its reply unsealed (gss_unwrap_iov). */
  async function sealedSoap(conn: ReturnType<typeof connection>, ctx: string, xml: string, protocol: EncryptionProtocol = SPNEGO_ENCRYPTED) {
    const data = Buffer.from(xml, "utf8");
    const w = await client.wrapIov(ctx, data);
    const reply = await conn.post({ "Content-Type": encryptedContentType(protocol) }, frameEncrypted({ signature: w.header, sealed: Buffer.concat([w.data, w.padding]), length: data.length }, protocol));
    if (!String(reply.headers["content-type"] ?? "").startsWith("multipart/encrypted")) return { reply, xml: reply.body.toString("utf8") };
    const parts = parseEncrypted(reply.body);
    assert.equal(parts.signature.length, 60, "the host's wrap token header is 60 bytes");
    const plain = (await client.unwrapIov(ctx, parts.signature, parts.sealed)).data;
    assert.equal(plain.length, parts.length);
    return { reply, xml: plain.toString("utf8"), contentType: String(reply.headers["content-type"]) };
  }

  const createShell = (tls: boolean, port = tls ? HTTPS_PORT : HTTP_PORT) =>
    envelope({ to: `${tls ? "https" : "http"}://${ADDRESS}:${port}/wsman`, action: ACTION.create, messageId: newMessageId(), operationTimeoutSeconds: 20, options: { WINRS_NOPROFILE: "TRUE", WINRS_CODEPAGE: "65001" } }, bodies.create());

  it("HTTP: MIT's initiator logs on with Negotiate (AP-REQ, AP-REP verified) and every message is sealed both ways in WinRM's layout", async () => {
    const e = await emulator();
    const conn = connection(false);
    try {
      const { ctx, reply, first } = await logOn(conn);
      assert.equal(first.headers["www-authenticate"], "Negotiate, Kerberos", "the 401 offers Negotiate and Kerberos (Node joins the two headers)");
      assert.equal(reply.status, 200);
      await completeMutual(ctx, reply);
      const created = await sealedSoap(conn, ctx, createShell(false));
      assert.equal(created.reply.status, 200, created.xml);
      assert.match(created.contentType!, /protocol="application\/HTTP-SPNEGO-session-encrypted"/);
      const shellId = text(parseEnvelope(created.xml).body?.Shell?.ShellId);
      assert.match(shellId, /^[0-9A-F-]{36}$/);
      // A command runs on the model, through the same sealed channel.
      const started = await sealedSoap(conn, ctx, envelope({ to: `http://${ADDRESS}:${HTTP_PORT}/wsman`, action: ACTION.command, messageId: newMessageId(), operationTimeoutSeconds: 20, shellId }, bodies.command('powershell.exe -NoProfile -NonInteractive -Command "Get-SmbServerConfiguration | ConvertTo-Json"')));
      const commandId = text(parseEnvelope(started.xml).body?.CommandResponse?.CommandId);
      assert.ok(commandId, started.xml);
      let output = "";
      for (let i = 0; i < 20; i++) {
        const received = await sealedSoap(conn, ctx, envelope({ to: `http://${ADDRESS}:${HTTP_PORT}/wsman`, action: ACTION.receive, messageId: newMessageId(), operationTimeoutSeconds: 20, shellId }, bodies.receive(commandId)));
        const response = parseEnvelope(received.xml).body?.ReceiveResponse ?? {};
        for (const s of response.Stream ?? []) if (s["@Name"] === "stdout") output += Buffer.from(text(s), "base64").toString("utf8");
        if (response.CommandState?.["@State"]?.endsWith("/Done")) break;
      }
      assert.equal((JSON.parse(output) as { RequireSecuritySignature: boolean }).RequireSecuritySignature, false, "server-2025 does not require inbound signing");
      assert.deepEqual(e.refusals, []);
      assert.ok(e.recordsAfter(0).some((r) => r.authorization === "Negotiate/gss"));
    } finally {
      conn.close();
    }
  });

  it("SPNEGO tokens (NegTokenInit, NegTokenResp) and the Kerberos scheme with its own sealed protocol; a body sealed as the other protocol is refused", async () => {
    await emulator();
    const spnego = connection(false);
    try {
      const { ctx, reply } = await logOn(spnego, { mech: "spnego" });
      assert.equal(reply.status, 200);
      await completeMutual(ctx, reply);
      assert.equal((await sealedSoap(spnego, ctx, createShell(false))).reply.status, 200);
    } finally {
      spnego.close();
    }
    const kerberos = connection(false);
    try {
      const { ctx, reply } = await logOn(kerberos, { scheme: "Kerberos" });
      assert.equal(reply.status, 200);
      await completeMutual(ctx, reply, "Kerberos");
      const wrongProtocol = await sealedSoap(kerberos, ctx, createShell(false), SPNEGO_ENCRYPTED);
      assert.equal(wrongProtocol.reply.status, 400);
      // The refused message consumed a sequence number on MIT's side; a new connection starts again.
    } finally {
      kerberos.close();
    }
    const again = connection(false);
    try {
      const { ctx, reply } = await logOn(again, { scheme: "Kerberos" });
      await completeMutual(ctx, reply, "Kerberos");
      const created = await sealedSoap(again, ctx, createShell(false), KERBEROS_ENCRYPTED);
      assert.equal(created.reply.status, 200, created.xml);
      assert.match(created.contentType!, /protocol="application\/HTTP-Kerberos-session-encrypted"/);
    } finally {
      again.close();
    }
  });

  it("refuses plain SOAP after a Kerberos logon over HTTP (AllowUnencrypted false), and an altered sealed body ends the session", async () => {
    await emulator();
    const conn = connection(false);
    try {
      const { ctx, reply } = await logOn(conn);
      await completeMutual(ctx, reply);
      const plain = await conn.post({ "Content-Type": "application/soap+xml;charset=UTF-8" }, Buffer.from(createShell(false)));
      assert.equal(plain.status, 400);
      const data = Buffer.from(createShell(false));
      const w = await client.wrapIov(ctx, data);
      const sealed = Buffer.from(w.data);
      sealed[5] ^= 0x01;
      const altered = await conn.post({ "Content-Type": encryptedContentType(SPNEGO_ENCRYPTED) }, frameEncrypted({ signature: w.header, sealed, length: data.length }));
      assert.equal(altered.status, 400);
      assert.match(altered.body.toString(), /could not be decrypted/);
    } finally {
      conn.close();
    }
  });

  it("a replayed AP-REQ is refused with 401 and MIT's KRB-ERROR token; a principal the host has no account for, and a workgroup host, are refused", async () => {
    const e = await emulator();
    const one = connection(false);
    const { apReq, reply } = await logOn(one);
    assert.equal(reply.status, 200);
    one.close();
    const two = connection(false);
    try {
      const replayed = await two.post({ Authorization: `Negotiate ${apReq.toString("base64")}` }, Buffer.alloc(0));
      assert.equal(replayed.status, 401);
      const offered = [replayed.headers["www-authenticate"]].flat().join(", ");
      assert.match(offered, /^Negotiate [A-Za-z0-9+/=]{20,}/, "the 401 carries the KRB-ERROR token");
      assert.match(e.refusals.at(-1)!.reason, /Request is a replay/);
    } finally {
      two.close();
    }
    // carol has a ticket from the realm but no account on this host.
    const carolCache = await realm.kinit("carol", { password: "Carol-Pa55", ccache: path.join(realm.dir, "carol.cc") });
    const ctx = `carol${++contexts}`;
    const token = (await client.initiate(ctx, SPN, { credentials: { ccache: carolCache } })).token!;
    const three = connection(false);
    try {
      const refused = await three.post({ Authorization: `Negotiate ${token.toString("base64")}` }, Buffer.alloc(0));
      assert.equal(refused.status, 401);
      assert.match(e.refusals.at(-1)!.reason, /no account of this host's domain is carol@SIM\.EXAMPLE/);
    } finally {
      three.close();
    }
    const workgroup = await emulator({ kerberos: false, port: 5987 });
    const four = connection(false, 5987);
    try {
      const first = await four.post({}, Buffer.alloc(0));
      assert.equal(first.headers["www-authenticate"], "Negotiate", "a workgroup host offers no Kerberos");
      const t = (await client.initiate(`w${++contexts}`, SPN)).token!;
      assert.equal((await four.post({ Authorization: `Negotiate ${t.toString("base64")}` }, Buffer.alloc(0))).status, 401);
      assert.match(workgroup.refusals.at(-1)!.reason, /no Kerberos key/);
    } finally {
      four.close();
    }
  });

  it("Restrict NTLM (incoming, deny all): an NTLM logon gets the 401 with no challenge, Kerberos still logs on", async () => {
    const e = await emulator({ settings: { restrictNtlmIncoming: true } });
    const ntlm = await handMadeConnection({ address: ADDRESS, port: HTTP_PORT, account: "SIM\\alice", password: "Alice-Pa55" }).then(
      () => assert.fail("an NTLM challenge was sent"),
      (err: Error) => err,
    );
    assert.match(ntlm.message, /expected an NTLM challenge, got HTTP 401/);
    assert.match(e.refusals.at(-1)!.reason, /NTLM refused/);
    const conn = connection(false);
    try {
      const { ctx, reply } = await logOn(conn);
      assert.equal(reply.status, 200);
      await completeMutual(ctx, reply);
      assert.equal((await sealedSoap(conn, ctx, createShell(false))).reply.status, 200);
    } finally {
      conn.close();
    }
  });

  it("HTTPS with CbtHardeningLevel Strict: an authenticator bound to the listener's certificate logs on; one without a binding, or bound to another certificate, is refused", async () => {
    const e = await emulator({ https: true, settings: { cbtHardeningLevel: "Strict" } });
    const bound = connection(true);
    try {
      const { ctx, reply } = await logOn(bound, { bind: true });
      assert.equal(reply.status, 200);
      await completeMutual(ctx, reply);
      const created = await bound.post({ "Content-Type": "application/soap+xml;charset=UTF-8" }, Buffer.from(createShell(true)));
      assert.equal(created.status, 200);
      assert.equal(faultOf(parseEnvelope(created.body.toString()).body), undefined);
    } finally {
      bound.close();
    }
    const unbound = connection(true);
    try {
      assert.equal((await logOn(unbound)).reply.status, 401);
      assert.match(e.refusals.at(-1)!.reason, /CbtHardeningLevel Strict/);
    } finally {
      unbound.close();
    }
    const other = connection(true);
    try {
      const elsewhere = Buffer.concat([Buffer.from("tls-server-end-point:"), crypto.randomBytes(32)]);
      assert.equal((await logOn(other, { bind: elsewhere })).reply.status, 401);
      assert.match(e.refusals.at(-1)!.reason, /channel binding|bindings/i);
    } finally {
      other.close();
    }
  });

  /** test/interop/pywinrm_check.py with Kerberos, alice's ticket cache. */
  function pywinrm(endpoint: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        PYTHON,
        [path.join(REPO_ROOT, "test", "interop", "pywinrm_check.py"), endpoint, "-", "-", "--ca", path.join(work, "cert.pem"), "--kerberos", HOST],
        { env: { ...process.env, ...realm.env, KRB5CCNAME: aliceCache }, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  it("pywinrm with requests-kerberos over HTTPS (Relaxed): logs on, checks the AP-REP (mutual authentication required), runs a command; over HTTP its plain SOAP is refused", async () => {
    await emulator({ https: true });
    // requests verifies the certificate's name: the test certificate names HOST and the address.
    const result = await pywinrm(`https://${ADDRESS}:${HTTPS_PORT}/wsman`);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as { stdout: string; code: number };
    assert.equal(out.code, 0);
    assert.equal((JSON.parse(out.stdout) as { RequireSecuritySignature: boolean }).RequireSecuritySignature, false);
    await emulator();
    const plain = await pywinrm(`http://${ADDRESS}:${HTTP_PORT}/wsman`);
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /WinRMTransportError|400/);
  });

  it("pywinrm over HTTPS with CbtHardeningLevel Strict is refused: this pykerberos sends no channel binding", async () => {
    const e = await emulator({ https: true, settings: { cbtHardeningLevel: "Strict" } });
    const result = await pywinrm(`https://${ADDRESS}:${HTTPS_PORT}/wsman`);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /InvalidCredentialsError|rejected/);
    assert.match(e.refusals.at(-1)!.reason, /CbtHardeningLevel Strict/);
  });
});

describe("A simulated fleet joined to the domain (FleetOptions.kerberos)", function () {
  this.timeout(120_000);
  let fleet: SimulatedFleet;
  before(async () => {
    fleet = await SimulatedFleet.start(
      [
        { name: "krb-a", preset: "server-2025" },
        { name: "krb-b", preset: "server-2022", winrm: { restrictNtlmIncoming: true } },
      ],
      { winrm: true, kerberos: true },
    );
  });
  after(async () => {
    await fleet?.stop();
  });

  it("each host accepts a ticket for its own SPN from the one keytab; a host restricting NTLM still takes Kerberos; the realm and acceptor stop with the fleet", async () => {
    const realm = fleet.realm!;
    const cache = await realm.kinit(SIM_KERBEROS_USER, { password: SIM_KERBEROS_PASSWORD, ccache: path.join(realm.dir, "admin.cc") });
    for (const name of ["krb-a", "krb-b"]) {
      const spnHost = SimulatedFleet.servicePrincipal(name).slice("HTTP/".length);
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          PYTHON,
          [path.join(REPO_ROOT, "test", "interop", "pywinrm_check.py"), `https://${fleet.host(name).address}:${SIM_WINRM_HTTPS_PORT}/wsman`, "-", "-", "--ca", path.join(fleet.workDir, "winrm_cert.pem"), "--kerberos", spnHost],
          { env: { ...process.env, ...realm.env, KRB5CCNAME: cache }, timeout: 60_000 },
          (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
        ),
      );
      assert.equal(result.code, 0, `${name}: ${result.stderr}`);
      assert.equal((JSON.parse(result.stdout) as { code: number }).code, 0);
    }
    // krb-b restricts NTLM: the same account's NTLM logon gets no challenge, where Kerberos just worked.
    const refusedNtlm = await handMadeConnection({ address: fleet.host("krb-b").address, port: SIM_WINRM_PORT, account: `${SIM_DOMAIN}\\${SIM_KERBEROS_USER}`, password: SIM_KERBEROS_PASSWORD }).then(
      () => "challenged",
      (err: Error) => err.message,
    );
    assert.match(refusedNtlm, /expected an NTLM challenge, got HTTP 401/);
    const pid = fleet.kerberosAcceptor!.pid;
    const kdcDir = realm.dir;
    await fleet.stop();
    assert.throws(() => process.kill(pid, 0), /ESRCH/, "the acceptor process is gone");
    assert.equal(fs.existsSync(kdcDir), false, "the realm's directory is removed");
    fleet = undefined as unknown as SimulatedFleet;
  });
});
