// The WinRM transport and its emulator: proven against an independent client (Debian's
// python3-winrm), message encryption enforced, tampering rejected, large stdin intact; the wire
// details Windows expects (UPN logons, channel binding over HTTPS, content type, console mode).
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import type { PolicyOutputs } from "../../provider/domain/policy";
import { parsePolicyInputs } from "../../provider/domain/schema";
import { bootstrapCommandLine, bootstrapStdin, parseReply, SIGNING_SCRIPT } from "../../provider/host/protocol";
import { runOverWinrm } from "../../provider/transport/winrm/client";
import { ENCRYPTED_CONTENT_TYPE, encryptMessage } from "../../provider/transport/winrm/encryption";
import { ACTION, bodies } from "../../provider/transport/winrm/soap";
import { newHostState } from "../simhost/model";
import { MAX_ENVELOPE_BYTES, MAX_SHELLS } from "../simhost/winrmServer";
import { SIM_DOMAIN } from "../simhost/winrmService";
import { SIM_PASSWORD, SIM_USER, SIM_WINRM_HTTPS_PORT, SIM_WINRM_PORT, SimulatedFleet } from "../simhost/fleet";
import * as ops from "../../provider/operations";
import { HostError } from "../../provider/errors";
import { REPO_ROOT } from "../e2e/pulumiCli";
import { handMadeConnection, HandMadeOptions } from "./handMadeWinrm";

describe("WinRM transport", () => {
  let fleet: SimulatedFleet;
  before(async () => {
    fleet = await SimulatedFleet.start(
      [
        { name: "w1", preset: "server-2025" },
        { name: "quota", preset: "server-2025" },
        { name: "strict", preset: "server-2025", winrm: { cbtHardeningLevel: "Strict" } },
        { name: "basic", preset: "server-2025", winrm: { allowBasic: true } },
        { name: "slow", preset: "server-2025", winrm: { maxTimeoutMs: 1500 } },
        { name: "accounts", preset: "server-2025" },
      ],
      { winrm: true },
    );
  });
  after(async () => {
    await fleet?.stop();
  });

  const PYTHON = "/usr/bin/python3";

  /** Runs test/interop/pywinrm_check.py: one command through Debian's pywinrm. */
  function pywinrm(endpoint: string, user: string, password: string, flags: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        PYTHON,
        [path.join(REPO_ROOT, "test", "interop", "pywinrm_check.py"), endpoint, user, password, ...flags],
        { env: { ...process.env, OPENSSL_CONF: path.join(REPO_ROOT, "test", "interop", "openssl-legacy.cnf") }, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  const httpEndpoint = (name: string) => `http://${fleet.host(name).address}:${SIM_WINRM_PORT}/wsman`;
  const httpsEndpoint = (name: string) => `https://${fleet.host(name).address}:${SIM_WINRM_HTTPS_PORT}/wsman`;
  const caFile = () => path.join(fleet.workDir, "winrm_cert.pem");

  /** A hand-made connection to a host's HTTP listener (or HTTPS with `https`), as SIM_USER unless told otherwise. */
  function connect(name: string, extra: Partial<HandMadeOptions> & { https?: boolean } = {}) {
    const { https, ...rest } = extra;
    return handMadeConnection({
      address: fleet.host(name).address,
      port: https ? SIM_WINRM_HTTPS_PORT : SIM_WINRM_PORT,
      ca: https ? fleet.certificatePem : undefined,
      account: SIM_USER,
      password: SIM_PASSWORD,
      ...rest,
    });
  }

  /** An authenticated hand-made connection and the provider's Create message. */
  async function authenticatedConnection(name = "w1") {
    const c = await connect(name);
    assert.equal(c.authenticateStatus, 200);
    return { ...c, createSoap: Buffer.from(c.message(ACTION.create, bodies.create())) };
  }

  /** check then create, as the engine calls them; resolves to the error when create fails. */
  async function createWith(connection: Record<string, unknown>): Promise<{ outs?: PolicyOutputs; error?: HostError }> {
    // Each call is a new resource on a host an earlier one may hold (transport tests, not ownership).
    const r = await ops.check({}, { connection, server: { requireSigning: true }, onDelete: "retain", takeOwnership: true });
    assert.equal(r.failures, undefined, JSON.stringify(r.failures));
    return ops.create(r.inputs as Record<string, unknown>).then(
      (created) => ({ outs: created.outs }),
      (error: HostError) => ({ error }),
    );
  }

  describe("WinRM", () => {
    it("Debian's pywinrm (NTLM with message encryption) runs a command on the emulator", async () => {
      const host = fleet.host("w1");
      const before = fleet.winrm.get("w1")!.requests;
      const r = await pywinrm(`http://${host.address}:${SIM_WINRM_PORT}/wsman`, SIM_USER, SIM_PASSWORD);
      assert.equal(r.code, 0, r.stderr);
      const reply = JSON.parse(r.stdout.trim());
      assert.equal(reply.code, 0);
      assert.equal(JSON.parse(reply.stdout).RequireSecuritySignature, newHostState("server-2025").server.RequireSecuritySignature);
      assert.ok(fleet.winrm.get("w1")!.requests - before >= 7);
    });

    it("pywinrm over HTTPS (NTLM with its channel binding checked, CbtHardeningLevel Relaxed; certificate validated) runs a command", async () => {
      const before = fleet.winrmHttps.get("w1")!.requests;
      const r = await pywinrm(httpsEndpoint("w1"), SIM_USER, SIM_PASSWORD, ["--ca", caFile()]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(JSON.parse(r.stdout.trim()).stdout).RequireSecuritySignature, false);
      assert.ok(fleet.winrmHttps.get("w1")!.requests - before >= 7);
    });

    it("pywinrm with a wrong password is refused", async () => {
      const host = fleet.host("w1");
      const r = await pywinrm(`http://${host.address}:${SIM_WINRM_PORT}/wsman`, SIM_USER, "not-the-password");
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /InvalidCredentialsError|401/);
    });

    it("refuses unencrypted SOAP on an authenticated connection", async () => {
      const c = await authenticatedConnection();
      try {
        const r = await c.post({ "Content-Type": "application/soap+xml;charset=UTF-8" }, c.createSoap);
        assert.equal(r.status, 400);
      } finally {
        c.close();
      }
    });

    it("rejects a tampered encrypted message, and accepts the same message intact", async () => {
      const c = await authenticatedConnection();
      try {
        const good = await c.post({ "Content-Type": ENCRYPTED_CONTENT_TYPE }, encryptMessage(c.session, c.createSoap));
        assert.equal(good.status, 200);
        const tampered = encryptMessage(c.session, c.createSoap);
        tampered[tampered.length - 40] ^= 0x01;
        const bad = await c.post({ "Content-Type": ENCRYPTED_CONTENT_TYPE }, tampered);
        assert.equal(bad.status, 400);
      } finally {
        c.close();
      }
    });

    it("the emulator refuses a request over MaxEnvelopeSize with HTTP 413, as a WinRM service does", async () => {
      const c = await authenticatedConnection();
      try {
        // Trailing whitespace keeps the XML valid: only the size is wrong.
        const oversized = Buffer.concat([c.createSoap, Buffer.alloc(MAX_ENVELOPE_BYTES - c.createSoap.length + 1, 0x20)]);
        const r = await c.post({ "Content-Type": ENCRYPTED_CONTENT_TYPE }, encryptMessage(c.session, oversized));
        assert.equal(r.status, 413);
      } finally {
        c.close();
      }
    });

    it("collects output spread over several Receive replies", async () => {
      fleet.change("w1", (s) => {
        s.faults.receiveChunkBytes = 64;
        s.faults.clixmlNoise = true;
      });
      const before = fleet.winrm.get("w1")!.requests;
      const r = await ops.check({}, { connection: fleet.connection("w1", "winrm"), server: { requireSigning: true }, onDelete: "retain" });
      const created = await ops.create(r.inputs as Record<string, unknown>);
      assert.equal(created.outs!.hostFacts.build, newHostState("server-2025").os.build);
      assert.ok(fleet.winrm.get("w1")!.requests - before > 8 + 5, "expected several Receive requests");
      fleet.reset("w1", "server-2025");
    });

    it("retries a shell quota that does not free up until the deadline, then says so clearly", async () => {
      const c = await authenticatedConnection("quota");
      try {
        for (let i = 0; i < MAX_SHELLS; i++) {
          const r = await c.soap(c.message(ACTION.create, bodies.create()));
          assert.equal(r.status, 200);
        }
      } finally {
        c.close();
      }
      const r = await ops.check({}, { connection: fleet.connection("quota", "winrm"), server: { requireSigning: true }, customTimeouts: { create: 3 } });
      const e = await ops.create(r.inputs as Record<string, unknown>).then(
        () => assert.fail("expected the quota fault"),
        (err: HostError) => err,
      );
      assert.equal(e.kind, "hostBusy");
      assert.match(e.message, new RegExp(`WinRM fault w:QuotaLimit: .*maximum number of ${MAX_SHELLS} concurrent shells.*gave up after \\d+ attempts`));
    });

    for (const size of [20 * 1024, 200 * 1024]) {
      it(`a ${size / 1024} KB stdin payload arrives intact (Send in chunks)`, async () => {
        const parsed = parsePolicyInputs({ connection: fleet.connection("w1", "winrm") });
        assert.ok(parsed.ok);
        const stdin = bootstrapStdin(SIGNING_SCRIPT, { operation: "read", padding: crypto.randomBytes(size / 2).toString("hex") });
        const result = await runOverWinrm(parsed.inputs.connection as never, bootstrapCommandLine(), stdin, Date.now() + 60_000);
        assert.equal(parseReply<{ status: "ok" }>("w1", result).status, "ok");
        assert.deepEqual(fleet.state("w1").lastStdin, { bytes: stdin.length, sha256: crypto.createHash("sha256").update(stdin).digest("hex") });
      });
    }
  });

  describe("WinRM over HTTPS", () => {
    const https = (extra: Record<string, unknown>, host = "w1") => ({ ...fleet.connection(host, "winrmHttps"), certificateFingerprint: undefined, ...extra });
    const create = async (connection: Record<string, unknown>) => {
      const r = await ops.check({}, { connection, server: { requireSigning: true }, onDelete: "retain", takeOwnership: true });
      assert.equal(r.failures, undefined, JSON.stringify(r.failures));
      return ops.create(r.inputs as Record<string, unknown>);
    };

    for (const [name, extra, host] of [
      ["a pinned certificate fingerprint", { certificateFingerprint: "" }, "w1"],
      ["the emulator's certificate as CA", { caCertificate: "" }, "w1"],
      ["Basic authentication and a pinned certificate, where the host allows Basic", { authentication: "basic", certificateFingerprint: "" }, "basic"],
    ] as const) {
      it(`works with ${name}`, async () => {
        const values = { ...extra } as Record<string, unknown>;
        if ("certificateFingerprint" in values) values.certificateFingerprint = fleet.certificateFingerprint;
        if ("caCertificate" in values) values.caCertificate = fleet.certificatePem;
        const created = await create(https(values, host));
        assert.equal(created.outs!.observed.server.requireSigning, true);
        fleet.reset(host, "server-2025");
      });
    }

    it("is refused with Basic where the host does not allow it (Windows' default): 401 without Basic offered, and the error says so", async () => {
      const before = fleet.winrmHttps.get("w1")!.requests;
      const e = await create(https({ authentication: "basic", certificateFingerprint: fleet.certificateFingerprint })).then(
        () => assert.fail("expected a refusal"),
        (err: HostError) => err,
      );
      assert.equal(e.kind, "authenticationFailed");
      assert.match(e.message, /does not offer Basic authentication/);
      // Refused at the first request, and not retried.
      assert.equal(fleet.winrmHttps.get("w1")!.requests - before, 1);
      const c = await connect("w1", { https: true });
      try {
        const r = await c.post({ Authorization: `Basic ${Buffer.from(`${SIM_USER}:${SIM_PASSWORD}`).toString("base64")}` }, Buffer.alloc(0));
        assert.equal(r.status, 401);
        assert.doesNotMatch(String(r.headers["www-authenticate"]), /Basic/);
      } finally {
        c.close();
      }
    });

    it("refuses a wrong certificate fingerprint before any request (and so any credential) is sent", async () => {
      const wrong = "AA".repeat(32);
      const before = fleet.winrmHttps.get("w1")!.requests;
      const e = await create(https({ certificateFingerprint: wrong })).then(
        () => assert.fail("expected a refusal"),
        (err: HostError) => err,
      );
      assert.equal(e.kind, "certificateRejected");
      assert.ok(e.message.includes(fleet.certificateFingerprint));
      assert.equal(fleet.winrmHttps.get("w1")!.requests, before);
    });

    it("refuses a certificate no trusted CA signed, and accepts it only with the loud opt-out", async () => {
      const before = fleet.winrmHttps.get("w1")!.requests;
      await assert.rejects(create(https({})), (err: HostError) => err.kind === "certificateRejected");
      assert.equal(fleet.winrmHttps.get("w1")!.requests, before);
      await create(https({ dangerouslySkipCertificateCheck: true }));
    });

    it("check refuses Basic over plain HTTP", async () => {
      const r = await ops.check({}, { connection: { ...fleet.connection("w1", "winrm"), authentication: "basic" } });
      assert.equal(r.failures?.[0].property, "connection.authentication");
    });
  });

  const SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8";

  describe("WinRM wire details as Windows' own clients send them", () => {
    it("the NTLM handshake POSTs carry Content-Type application/soap+xml;charset=UTF-8, as pywinrm's do", async () => {
      const emulator = fleet.winrm.get("w1")!;
      const handshake = (after: number) =>
        emulator
          .recordsAfter(after)
          .filter((r) => r.authorization.startsWith("Negotiate/"))
          .map((r) => [r.authorization, r.contentType, r.bodyBytes]);
      let before = emulator.requests;
      const theirs = await pywinrm(httpEndpoint("w1"), SIM_USER, SIM_PASSWORD);
      assert.equal(theirs.code, 0, theirs.stderr);
      const pywinrmHandshake = handshake(before);
      before = emulator.requests;
      const { outs } = await createWith({ ...fleet.connection("w1", "winrm") });
      assert.ok(outs);
      fleet.reset("w1", "server-2025");
      assert.deepEqual(handshake(before), pywinrmHandshake);
      assert.deepEqual(pywinrmHandshake, [
        ["Negotiate/1", SOAP_CONTENT_TYPE, 0],
        ["Negotiate/3", SOAP_CONTENT_TYPE, 0],
      ]);
    });

    it("a command whose stdin is streamed starts with WINRS_CONSOLEMODE_STDIN FALSE (a pipe), as Ansible sends it", async () => {
      const emulator = fleet.winrm.get("w1")!;
      const before = emulator.requests;
      const parsed = parsePolicyInputs({ connection: fleet.connection("w1", "winrm") });
      assert.ok(parsed.ok);
      const result = await runOverWinrm(parsed.inputs.connection as never, bootstrapCommandLine(), bootstrapStdin(SIGNING_SCRIPT, { operation: "read" }), Date.now() + 60_000);
      assert.equal(parseReply<{ status: "ok" }>("w1", result).status, "ok");
      const records = emulator.recordsAfter(before);
      const command = records.find((r) => r.action === ACTION.command);
      assert.deepEqual(command?.options, { WINRS_CONSOLEMODE_STDIN: "FALSE", WINRS_SKIP_CMD_SHELL: "FALSE" });
      assert.ok(records.some((r) => r.action === ACTION.send), "stdin went in Send messages");
    });
  });

  describe("WinRM account names (NTLM UserName and DomainName)", () => {
    const UPN = "john.doe@corp.example";
    const UPN_PASSWORD = "Upn-Pa55word-4d2f";
    before(() => {
      // A domain administrator whose UPN is neither sAMAccountName@DNS-domain (jdoe@sim.example)
      // nor in the domain's DNS name at all, as a UPN suffix may be.
      fleet.winrmServices.get("accounts")!.addAccount({ user: "jdoe", domain: SIM_DOMAIN, upn: UPN, password: UPN_PASSWORD, kind: "domainAdministrator" });
    });

    it("a domain account logs on with a UPN that differs from sAMAccountName@DNS-domain, sent whole with an empty domain", async () => {
      const { outs, error } = await createWith({ ...fleet.connection("accounts", "winrm"), user: UPN, password: UPN_PASSWORD });
      assert.equal(error, undefined, error?.message);
      assert.equal(outs?.observed.server.requireSigning, true);
      fleet.reset("accounts", "server-2025");
    });

    it("the same account logs on as DOMAIN\\user; the UPN split at @ names no domain and is refused", async () => {
      const split = await connect("accounts", { account: `corp.example\\john.doe`, password: UPN_PASSWORD });
      split.close();
      assert.equal(split.authenticateStatus, 401);
      const domainForm = await connect("accounts", { account: `${SIM_DOMAIN}\\jdoe`, password: UPN_PASSWORD });
      domainForm.close();
      assert.equal(domainForm.authenticateStatus, 200);
    });

    it("pywinrm logs on with the UPN too (requests-ntlm sends it whole as well)", async () => {
      const r = await pywinrm(httpEndpoint("accounts"), UPN, UPN_PASSWORD);
      assert.equal(r.code, 0, r.stderr);
    });
  });

  describe("WinRM channel binding over HTTPS (Extended Protection, CbtHardeningLevel)", () => {
    const WRONG = Buffer.alloc(16, 0xab);
    const status = async (name: string, channelBindings: "certificate" | "none" | Buffer) => {
      const c = await connect(name, { https: true, channelBindings });
      c.close();
      return c.authenticateStatus;
    };

    it("the provider's client logs on where the host requires channel binding (Strict): it sends tls-server-end-point", async () => {
      const { error } = await createWith(fleet.connection("strict", "winrmHttps"));
      assert.equal(error, undefined, error?.message);
      fleet.reset("strict", "server-2025");
    });

    it("Strict refuses NTLM over HTTPS without a channel binding, with 401, and admits the same logon with one", async () => {
      assert.equal(await status("strict", "none"), 401);
      assert.equal(await status("strict", "certificate"), 200);
    });

    it("pywinrm 0.3.0 sends a channel binding: admitted under Strict, and refused there with send_cbt=False", async () => {
      const bound = await pywinrm(httpsEndpoint("strict"), SIM_USER, SIM_PASSWORD, ["--ca", caFile()]);
      assert.equal(bound.code, 0, bound.stderr);
      const unbound = await pywinrm(httpsEndpoint("strict"), SIM_USER, SIM_PASSWORD, ["--ca", caFile(), "--no-cbt"]);
      assert.notEqual(unbound.code, 0);
      assert.match(unbound.stderr, /InvalidCredentialsError/);
    });

    it("behind a TLS-inspecting proxy (its own certificate, trusted through a corporate CA) the host refuses the bound logon, and the error names channel binding as the likely cause; pinned, the proxy is refused up front", async () => {
      const work = fs.mkdtempSync(path.join(os.tmpdir(), "smb-inspecting-proxy-"));
      const key = path.join(work, "key.pem");
      const cert = path.join(work, "cert.pem");
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=inspecting-proxy", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
      const target = fleet.host("strict");
      // Terminates TLS with its own certificate and opens its own TLS session to the host, as an inspecting proxy does.
      const proxy = tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (client) => {
        const upstream = tls.connect({ host: target.address, port: SIM_WINRM_HTTPS_PORT, rejectUnauthorized: false });
        client.pipe(upstream).pipe(client);
        const end = () => (client.destroy(), upstream.destroy());
        client.on("error", end);
        upstream.on("error", end);
      });
      await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
      try {
        const port = (proxy.address() as { port: number }).port;
        const viaProxy = { transport: "winrm", https: true, host: "127.0.0.1", port, user: SIM_USER, password: SIM_PASSWORD };
        const { error } = await createWith({ ...viaProxy, caCertificate: fs.readFileSync(cert, "utf8") });
        assert.equal(error?.kind, "authenticationFailed", error?.message);
        assert.match(error!.message, /may not be the host's own: NTLM is bound to it \(channel binding\), and a host behind a TLS-inspecting proxy refuses such a logon/);
        assert.match(error!.message, new RegExp(`SHA-256 ${new crypto.X509Certificate(fs.readFileSync(cert)).fingerprint256}`));
        const pinned = await createWith({ ...viaProxy, certificateFingerprint: fleet.certificateFingerprint });
        assert.equal(pinned.error?.kind, "certificateRejected", pinned.error?.message);
      } finally {
        proxy.close();
        fs.rmSync(work, { recursive: true, force: true });
      }
    });

    it("Relaxed (Windows' default) refuses a wrong channel binding (all zeros too), and admits a client that sends none", async () => {
      assert.equal(fleet.winrmServices.get("w1")!.settings.cbtHardeningLevel, "Relaxed");
      assert.equal(await status("w1", WRONG), 401);
      assert.equal(await status("w1", Buffer.alloc(16)), 401);
      assert.equal(await status("w1", "none"), 200);
      assert.equal(await status("w1", "certificate"), 200);
    });

    it("None ignores the channel binding, even a wrong one", async () => {
      const settings = fleet.winrmServices.get("strict")!.settings;
      settings.cbtHardeningLevel = "None";
      try {
        assert.equal(await status("strict", WRONG), 200);
        assert.equal(await status("strict", "none"), 200);
      } finally {
        settings.cbtHardeningLevel = "Strict";
      }
    });
  });

  describe("the WinRM emulator reads each message as the WinRM service does", () => {
    const SOAP12 = 'xmlns:s="http://www.w3.org/2003/05/soap-envelope"';
    /** The provider's Create message, changed by `edit`, sent on a fresh authenticated connection. */
    const send = async (edit: (xml: string) => string) => {
      const c = await authenticatedConnection("w1");
      try {
        return await c.soap(edit(c.message(ACTION.create, bodies.create())));
      } finally {
        c.close();
      }
    };
    const expectFault = async (edit: (xml: string) => string, fault: { code: string; subcode?: string; wsmanCode: string }) => {
      const r = await send(edit);
      assert.equal(r.status, 500);
      assert.deepEqual({ code: r.fault?.code, subcode: r.fault?.subcode || undefined, wsmanCode: r.fault?.wsmanCode }, { subcode: undefined, ...fault });
    };

    it("accepts the provider's own message (every refusal below is its one change)", async () => {
      assert.equal((await send((xml) => xml)).status, 200);
    });

    it("answers a SOAP 1.1 envelope with s:VersionMismatch", async () => {
      await expectFault((xml) => xml.replace(SOAP12, 'xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'), { code: "s:VersionMismatch", wsmanCode: "2150858765" });
    });

    it("answers an unknown header marked s:mustUnderstand with s:MustUnderstand, and ignores it unmarked or marked without the SOAP namespace", async () => {
      const withHeader = (attribute: string) => (xml: string) => xml.replace("<s:Header>", `<s:Header><x:Trace xmlns:x="urn:example:trace" ${attribute}>1</x:Trace>`);
      await expectFault(withHeader('s:mustUnderstand="true"'), { code: "s:MustUnderstand", wsmanCode: "2150858768" });
      await expectFault(withHeader('s:mustUnderstand="1"'), { code: "s:MustUnderstand", wsmanCode: "2150858768" });
      assert.equal((await send(withHeader('s:mustUnderstand="false"'))).status, 200);
      // pywinrm 0.3.0 writes mustUnderstand without a prefix: no SOAP attribute, so no obligation.
      assert.equal((await send(withHeader('mustUnderstand="true"'))).status, 200);
    });

    it("knows headers by namespace: WS-Addressing 1.0 (2005/08) headers are not the 2004/08 ones WinRM reads", async () => {
      await expectFault((xml) => xml.replace('xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"', 'xmlns:a="http://www.w3.org/2005/08/addressing"'), {
        code: "s:MustUnderstand",
        wsmanCode: "2150858768",
      });
    });

    it("answers a missing MessageID with a:MessageInformationHeaderRequired", async () => {
      await expectFault((xml) => xml.replace(/<a:MessageID>[^<]*<\/a:MessageID>/, ""), { code: "s:Sender", subcode: "a:MessageInformationHeaderRequired", wsmanCode: "2150858769" });
    });

    it("answers a ReplyTo other than the anonymous address with w:UnsupportedFeature", async () => {
      await expectFault((xml) => xml.replace("http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous", "http://127.0.0.1:9/replies"), {
        code: "s:Sender",
        subcode: "w:UnsupportedFeature",
        wsmanCode: "2150858870",
      });
    });

    it("answers a ResourceURI other than the cmd shell with a:DestinationUnreachable", async () => {
      await expectFault((xml) => xml.replace("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd", "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"), {
        code: "s:Sender",
        subcode: "a:DestinationUnreachable",
        wsmanCode: "2150858752",
      });
    });

    it("answers an action it does not know with a:ActionNotSupported", async () => {
      await expectFault((xml) => xml.replace(ACTION.create, "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"), {
        code: "s:Sender",
        subcode: "a:ActionNotSupported",
        wsmanCode: "2150858771",
      });
    });

    it("waits for the request's OperationTimeout before answering a Receive with w:TimedOut, at most MaxTimeoutms", async () => {
      fleet.change("slow", (s) => (s.faults.slowStartMs = 4000));
      const c = await authenticatedConnection("slow");
      try {
        const created = await c.soap(c.message(ACTION.create, bodies.create()));
        const shellId = String(created.body.Shell.ShellId);
        const started = await c.soap(c.message(ACTION.command, bodies.command("powershell.exe -NoProfile -NonInteractive -Command exit"), { shellId }));
        const commandId = String(started.body.CommandResponse.CommandId);
        const receive = async (operationTimeoutSeconds: number) => {
          const at = Date.now();
          const r = await c.soap(c.message(ACTION.receive, bodies.receive(commandId), { shellId, operationTimeoutSeconds }));
          assert.equal(r.fault?.wsmanCode, "2150858793");
          return Date.now() - at;
        };
        // PowerShell takes 4 s to start: nothing to send before either timeout.
        const asked = await receive(1);
        assert.ok(asked >= 950 && asked < 1400, `PT1S answered after ${asked} ms`);
        const capped = await receive(30);
        assert.ok(capped >= 1450 && capped < 2400, `PT30S with MaxTimeoutms 1500 answered after ${capped} ms`);
      } finally {
        c.close();
        fleet.reset("slow", "server-2025");
      }
    });
  });

  describe("WinRM accounts and their tokens (UAC remote restrictions, Remote Management Users)", () => {
    const PASSWORD = "Acct-Pa55word-81c0";
    const service = () => fleet.winrmServices.get("accounts")!;
    before(() => {
      service().addAccount({ user: "localadm", password: PASSWORD, kind: "localAdministrator" });
      service().addAccount({ user: "rmuser", password: PASSWORD, kind: "remoteManagementUser" });
      service().addAccount({ user: "domadm", domain: SIM_DOMAIN, password: PASSWORD, kind: "domainAdministrator" });
    });
    const as = (user: string, password = PASSWORD) => ({ ...fleet.connection("accounts", "winrm"), user, password });

    it("refuses a local administrator other than the built-in one with 401 unless LocalAccountTokenFilterPolicy=1, and the error says so", async () => {
      const emulator = fleet.winrm.get("accounts")!;
      const before = emulator.requests;
      const { error } = await createWith(as("localadm"));
      assert.equal(error?.kind, "authenticationFailed");
      assert.match(error!.message, /refused user "localadm": .*LocalAccountTokenFilterPolicy=1 \(HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\).*domain account/);
      // The two NTLM legs only: the AUTHENTICATE itself was answered 401, and nothing was retried.
      assert.equal(emulator.requests - before, 2);
      const r = await pywinrm(httpEndpoint("accounts"), "localadm", PASSWORD);
      assert.match(r.stderr, /InvalidCredentialsError/, "pywinrm sees the same refusal (pywinrm issue 188)");
      service().settings.localAccountTokenFilterPolicy = 1;
      try {
        const admitted = await createWith(as("localadm"));
        assert.equal(admitted.error, undefined, admitted.error?.message);
      } finally {
        service().settings.localAccountTokenFilterPolicy = 0;
        fleet.reset("accounts", "server-2025");
      }
    });

    it("admits the built-in Administrator (renamed) and domain administrators without LocalAccountTokenFilterPolicy", async () => {
      assert.equal(service().settings.localAccountTokenFilterPolicy, 0);
      for (const connection of [fleet.connection("accounts", "winrm"), as(`${SIM_DOMAIN}\\domadm`)]) {
        const { error } = await createWith(connection);
        assert.equal(error, undefined, error?.message);
        fleet.reset("accounts", "server-2025");
      }
    });

    it("names LocalAccountTokenFilterPolicy only for a name without a domain: a refused DOMAIN\\user gets no such advice", async () => {
      const { error } = await createWith(as(`${SIM_DOMAIN}\\domadm`, "not-the-password"));
      assert.equal(error?.kind, "authenticationFailed");
      assert.doesNotMatch(error!.message, /LocalAccountTokenFilterPolicy/);
    });

    it("a Remote Management Users member authenticates, but may not open a cmd shell as Windows ships (Access is denied)", async () => {
      const { error } = await createWith(as("rmuser"));
      assert.equal(error?.kind, "accessDenied");
      assert.match(error!.message, /Access is denied/);
      assert.equal(fleet.state("accounts").counters.runs, 0, "no PowerShell ran");
    });

    it("with the shell opened to Remote Management Users, the member reads, then is denied at the first write: no record, host unchanged", async () => {
      service().settings.shellOpenToRemoteManagementUsers = true;
      try {
        const parsed = parsePolicyInputs({ connection: as("rmuser") });
        assert.ok(parsed.ok);
        const read = await runOverWinrm(parsed.inputs.connection as never, bootstrapCommandLine(), bootstrapStdin(SIGNING_SCRIPT, { operation: "read" }), Date.now() + 60_000);
        assert.equal(parseReply<{ status: "ok" }>("accounts", read).status, "ok");
        const { error } = await createWith(as("rmuser"));
        assert.equal(error?.kind, "accessDenied");
        const state = fleet.state("accounts");
        assert.equal(state.record, undefined);
        assert.equal(state.server.RequireSecuritySignature, false);
        assert.equal(state.counters.runs, 2);
        // The token was the run's, not the host's: nothing of it stays in the host's state.
        assert.equal(state.faults.nonAdmin, undefined);
        const { error: adminError } = await createWith(fleet.connection("accounts", "winrm"));
        assert.equal(adminError, undefined, adminError?.message);
      } finally {
        service().settings.shellOpenToRemoteManagementUsers = false;
        fleet.reset("accounts", "server-2025");
      }
    });
  });
});
