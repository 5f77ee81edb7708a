// The WinRM transport and its emulator: proven against an independent client (Debian's
// python3-winrm), message encryption enforced, tampering rejected, large stdin intact.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import * as http from "node:http";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { parsePolicyInputs } from "../../provider/domain/schema";
import { bootstrapCommandLine, bootstrapStdin, parseReply, SIGNING_SCRIPT } from "../../provider/host/protocol";
import { runOverWinrm } from "../../provider/transport/winrm/client";
import { ENCRYPTED_CONTENT_TYPE, encryptMessage } from "../../provider/transport/winrm/encryption";
import { authenticateMessage, negotiateMessage, parseChallenge } from "../../provider/transport/winrm/ntlm";
import { ACTION, bodies, envelope, newMessageId } from "../../provider/transport/winrm/soap";
import { newHostState } from "../simhost/model";
import { MAX_ENVELOPE_BYTES, MAX_SHELLS } from "../simhost/winrmServer";
import { SIM_PASSWORD, SIM_USER, SIM_WINRM_HTTPS_PORT, SIM_WINRM_PORT, SimulatedFleet } from "../simhost/fleet";
import * as ops from "../../provider/operations";
import { HostError } from "../../provider/host/errors";
import { REPO_ROOT } from "../e2e/pulumiCli";

let fleet: SimulatedFleet;
before(async () => {
  fleet = await SimulatedFleet.start(
    [
      { name: "w1", preset: "server-2025" },
      { name: "quota", preset: "server-2025" },
    ],
    { winrm: true },
  );
});
after(async () => {
  await fleet?.stop();
});

const PYTHON = "/usr/bin/python3";

function pywinrm(endpoint: string, password: string, caFile?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      [path.join(REPO_ROOT, "test", "interop", "pywinrm_check.py"), endpoint, SIM_USER, password, ...(caFile ? [caFile] : [])],
      { env: { ...process.env, OPENSSL_CONF: path.join(REPO_ROOT, "test", "interop", "openssl-legacy.cnf") }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** One keep-alive connection, authenticated with NTLM by hand, for raw protocol tests. */
async function authenticatedConnection(name = "w1") {
  const host = fleet.host(name);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const post = (headers: Record<string, string>, body: Buffer) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const req = http.request({ host: host.address, port: SIM_WINRM_PORT, path: "/wsman", method: "POST", agent, headers: { ...headers, "Content-Length": String(body.length) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on("error", reject);
      req.end(body);
    });
  const challenge = await post({ Authorization: `Negotiate ${negotiateMessage().toString("base64")}` }, Buffer.alloc(0));
  const token = /Negotiate (\S+)/.exec(String(challenge.headers["www-authenticate"]))![1];
  const auth = authenticateMessage({ account: SIM_USER, password: SIM_PASSWORD, challenge: parseChallenge(Buffer.from(token, "base64")) });
  const ok = await post({ Authorization: `Negotiate ${auth.message.toString("base64")}` }, Buffer.alloc(0));
  assert.equal(ok.status, 200);
  const createSoap = Buffer.from(
    envelope({ to: "http://x/wsman", action: ACTION.create, messageId: newMessageId(), operationTimeoutSeconds: 20 }, bodies.create()),
  );
  return { post, session: auth.session, createSoap, close: () => agent.destroy() };
}

describe("WinRM", () => {
  it("Debian's pywinrm (NTLM with message encryption) runs a command on the emulator", async () => {
    const host = fleet.host("w1");
    const before = fleet.winrm.get("w1")!.requests;
    const r = await pywinrm(`http://${host.address}:${SIM_WINRM_PORT}/wsman`, SIM_PASSWORD);
    assert.equal(r.code, 0, r.stderr);
    const reply = JSON.parse(r.stdout.trim());
    assert.equal(reply.code, 0);
    assert.equal(JSON.parse(reply.stdout).RequireSecuritySignature, newHostState("server-2025").server.RequireSecuritySignature);
    assert.ok(fleet.winrm.get("w1")!.requests - before >= 7);
  });

  it("pywinrm over HTTPS (NTLM, certificate validated against the emulator's) runs a command", async () => {
    const host = fleet.host("w1");
    const before = fleet.winrmHttps.get("w1")!.requests;
    const r = await pywinrm(`https://${host.address}:${SIM_WINRM_HTTPS_PORT}/wsman`, SIM_PASSWORD, path.join(fleet.workDir, "winrm_cert.pem"));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(JSON.parse(r.stdout.trim()).stdout).RequireSecuritySignature, false);
    assert.ok(fleet.winrmHttps.get("w1")!.requests - before >= 7);
  });

  it("pywinrm with a wrong password is refused", async () => {
    const host = fleet.host("w1");
    const r = await pywinrm(`http://${host.address}:${SIM_WINRM_PORT}/wsman`, "not-the-password");
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
        const r = await c.post({ "Content-Type": ENCRYPTED_CONTENT_TYPE }, encryptMessage(c.session, c.createSoap));
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
  const https = (extra: Record<string, unknown>) => ({ ...fleet.connection("w1", "winrmHttps"), certificateFingerprint: undefined, ...extra });
  const create = async (connection: Record<string, unknown>) => {
    const r = await ops.check({}, { connection, server: { requireSigning: true }, onDelete: "retain" });
    assert.equal(r.failures, undefined, JSON.stringify(r.failures));
    return ops.create(r.inputs as Record<string, unknown>);
  };

  for (const [name, extra] of [
    ["a pinned certificate fingerprint", { certificateFingerprint: "" }],
    ["the emulator's certificate as CA", { caCertificate: "" }],
    ["Basic authentication and a pinned certificate", { authentication: "basic", certificateFingerprint: "" }],
  ] as const) {
    it(`works with ${name}`, async () => {
      const values = { ...extra } as Record<string, unknown>;
      if ("certificateFingerprint" in values) values.certificateFingerprint = fleet.certificateFingerprint;
      if ("caCertificate" in values) values.caCertificate = fleet.certificatePem;
      const created = await create(https(values));
      assert.equal(created.outs!.observed.server.requireSigning, true);
      fleet.reset("w1", "server-2025");
    });
  }

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
