// What the WinRM client refuses from a host that lies: each test runs a command against a server
// that completes a real NTLM handshake and the whole shell exchange but spoils its replies in one
// way, and expects the typed error naming that fault. The honest server shows the same exchange
// succeeds, so each refusal comes from its lie alone.
import assert from "node:assert/strict";
import { Connection, knownInputs, parsePolicyInputs } from "../../provider/domain/schema";
import { HostError } from "../../provider/errors";
import { runOverWinrm } from "../../provider/transport/winrm/client";
import { SIM_PASSWORD, SIM_USER } from "../simhost/fleet";
import { HONEST_STDOUT, HostileWinrmServer, Lie } from "../simhost/hostileWinrmServer";
import { loopbackAddress } from "../simhost/loopback";

/** A loopback address of this test process's own (fleet.ts uses third octets 0 to 2). */
const ADDRESS = loopbackAddress(254, 1);
const COMMAND_LINE = "powershell.exe -NoProfile -NonInteractive -Command exit";
const STDIN = Buffer.from("{}\n", "ascii");

function connectionTo(server: HostileWinrmServer): Connection {
  const parsed = parsePolicyInputs({
    connection: { transport: "winrm", host: ADDRESS, port: server.port, user: SIM_USER, password: SIM_PASSWORD, connectTimeoutSeconds: 5, commandTimeoutSeconds: 10 },
  });
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.failures));
  const known = parsed.ok ? knownInputs(parsed.inputs) : undefined;
  assert.ok(known, "the inputs are fully known");
  return known.connection;
}

/** Runs a command against a server telling `lie`, and returns the error the client refused it with. */
async function refusal(lie: Lie): Promise<HostError> {
  const server = await HostileWinrmServer.start({ address: ADDRESS, password: SIM_PASSWORD, lie });
  try {
    const err = await runOverWinrm(connectionTo(server), COMMAND_LINE, STDIN, Date.now() + 60_000).then(
      (result) => assert.fail(`the client accepted replies spoiled by "${lie}": exit code ${result.exitCode}, stdout ${JSON.stringify(result.stdout.toString("utf8"))}`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof HostError, `expected a HostError, got ${err}`);
    assert.ok(server.replies > 0, "the server never got to tell its lie");
    assert.ok(!err.message.includes(SIM_PASSWORD));
    return err;
  } finally {
    await server.stop();
  }
}

describe("WinRM client against a host that lies", () => {
  it("an honest host: the run completes, every request sealed, on one connection", async () => {
    const server = await HostileWinrmServer.start({ address: ADDRESS, password: SIM_PASSWORD, lie: "none" });
    try {
      const result = await runOverWinrm(connectionTo(server), COMMAND_LINE, STDIN, Date.now() + 60_000);
      assert.deepEqual({ ...result, stdout: result.stdout.toString("utf8"), stderr: result.stderr.toString("utf8") }, { stdout: HONEST_STDOUT, stderr: "", exitCode: 0, authentication: { mechanism: "ntlm" } });
      // 2 for NTLM, then Create, Command, Send, Receive, Signal, Delete: all sealed.
      assert.deepEqual([server.requests, server.sealedRequests], [8, 6]);
    } finally {
      await server.stop();
    }
  });

  it("refuses an unsealed reply to a sealed request", async () => {
    const e = await refusal("unsealed");
    assert.equal(e.kind, "badReply");
    assert.match(e.message, /HTTP 200 without message encryption: refused/);
  });

  it("refuses a sealed reply whose OriginalContent Length disagrees with the sealed content", async () => {
    const e = await refusal("wrongLength");
    assert.equal(e.kind, "badReply");
    assert.match(e.message, /encrypted message length does not match its header: altered/);
  });

  it("refuses a sealed reply whose RelatesTo is not the request's MessageID", async () => {
    const e = await refusal("wrongRelatesTo");
    assert.equal(e.kind, "badReply");
    assert.match(e.message, /reply does not relate to the request's MessageID/);
  });

  it("refuses a sealed reply that carries another operation's action", async () => {
    const e = await refusal("wrongAction");
    assert.equal(e.kind, "badReply");
    assert.match(e.message, /unexpected reply action http:\/\/schemas\.xmlsoap\.org\/ws\/2004\/09\/transfer\/GetResponse/);
  });

  it("refuses a sealed reply altered in transit: its NTLM signature does not verify", async () => {
    const e = await refusal("alteredInTransit");
    assert.equal(e.kind, "badReply");
    assert.match(e.message, /NTLM message signature does not verify/);
  });

  it("refuses a command reported done without an exit code: no exit code is never success", async () => {
    const e = await refusal("noExitCode");
    assert.equal(e.kind, "badReply");
    assert.match(e.message, /done without an ExitCode/);
  });

  it("refuses a sealed reply with HTTP 500 and no SOAP fault", async () => {
    const e = await refusal("statusWithoutFault");
    assert.equal(e.kind, "badReply");
    assert.match(e.message, /: HTTP 500 \(/);
  });

  it("refuses an NTLM challenge that withholds KEY_EXCH, naming it, without answering it", async () => {
    const server = await HostileWinrmServer.start({ address: ADDRESS, password: SIM_PASSWORD, lie: "noKeyExchange" });
    try {
      const e = await runOverWinrm(connectionTo(server), COMMAND_LINE, STDIN, Date.now() + 60_000).then(
        () => assert.fail("the client answered a challenge without key exchange"),
        (err: unknown) => err,
      );
      assert.ok(e instanceof HostError, `expected a HostError, got ${e}`);
      assert.equal(e.kind, "badReply");
      assert.match(e.message, /does not grant NTLMSSP_NEGOTIATE_KEY_EXCH/);
      // The NEGOTIATE only: no AUTHENTICATE (nothing derived from the password) reached the host.
      assert.equal(server.requests, 1);
    } finally {
      await server.stop();
    }
  });

  it("a socket failure after the command was sent is a dropped connection (never re-run), not a connection failure", async () => {
    const e = await refusal("garbageAfterCommand");
    assert.equal(e.kind, "connectionDropped", e.message);
    assert.equal(e.transient, false);
    assert.match(e.message, /the connection failed after the command was sent/);
  });

  it("refuses to go on over another TCP connection than the one NTLM authenticated", async () => {
    const e = await refusal("newConnection");
    assert.equal(e.kind, "connectionDropped");
    assert.match(e.message, /the HTTP connection was not kept alive/);
  });
});
