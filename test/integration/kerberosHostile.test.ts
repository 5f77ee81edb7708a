// What the WinRM client refuses from a host that lies under Kerberos: each test runs the real
// client (runOverWinrm, `authentication: "kerberos"`, a ticket from a throw-away MIT realm)
// against a server whose genuine parts come from MIT's acceptor holding the service key and
// whose one faulty part is forged (test/simhost/hostileKerberosServer.ts). Each expects the
// typed error naming the fault, that nothing was sent after the refusal (and never the script),
// and no credential in the error. The honest server shows the same exchange succeeds.
import assert from "node:assert/strict";
import * as path from "node:path";
import { Connection, knownInputs, parsePolicyInputs } from "../../provider/domain/schema";
import { HostError } from "../../provider/errors";
import { deadlineIn } from "../../provider/host/retry";
import { runSigningScript } from "../../provider/host/signingScript";
import { runOverWinrm } from "../../provider/transport/winrm/client";
import { processTicketStore } from "../../provider/transport/winrm/kerberos/tickets";
import { GssSidecar } from "../simhost/gssSidecar";
import { HostileKerberosServer, KerberosLie } from "../simhost/hostileKerberosServer";
import { HONEST_STDOUT } from "../simhost/hostileWinrmServer";
import { Realm, startRealm } from "../simhost/kdc";
import { loopbackAddress } from "../simhost/loopback";

/** A loopback address of this test process's own (hostileWinrm.test.ts uses .254, fleet.ts third octets 0 to 2). */
const ADDRESS = loopbackAddress(253, 1);
const REALM = "SIM.EXAMPLE";
const SPN = "HTTP/liar.sim.example";
const USER = "krbadmin";
const PASSWORD = "Krb-Hostile-Pa55";
const COMMAND_LINE = "powershell.exe -NoProfile -NonInteractive -Command exit";
/** The stdin a run sends: where the provider's script travels (Send). */
const STDIN = Buffer.from('{"script":"the signing script"}\n', "ascii");

describe("WinRM client with Kerberos against a host that lies", function () {
  this.timeout(60_000);
  let realm: Realm;
  let acceptor: GssSidecar;
  const servers: HostileKerberosServer[] = [];

  before(async () => {
    realm = await startRealm({ realm: REALM });
    await realm.addPrincipal(USER, PASSWORD);
    await realm.addPrincipal(SPN);
    const keytab = await realm.keytab(SPN, path.join(realm.dir, "http.keytab"));
    acceptor = await GssSidecar.start({ env: realm.env, keytab });
  });
  after(async () => {
    await acceptor?.dispose();
    await realm?.stop();
  });
  beforeEach(() => processTicketStore().clear());
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
  });

  async function serve(lie: KerberosLie): Promise<HostileKerberosServer> {
    const s = await HostileKerberosServer.start({ address: ADDRESS, acceptor, lie });
    servers.push(s);
    return s;
  }

  function connectionTo(server: HostileKerberosServer): Connection {
    const parsed = parsePolicyInputs({
      connection: {
        transport: "winrm",
        authentication: "kerberos",
        host: ADDRESS,
        port: server.port,
        user: `${USER}@${REALM}`,
        password: PASSWORD,
        servicePrincipal: SPN,
        kdc: [`${realm.kdcAddress}:${realm.port}`],
        connectTimeoutSeconds: 5,
        commandTimeoutSeconds: 10,
      },
    });
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.failures));
    const known = parsed.ok ? knownInputs(parsed.inputs) : undefined;
    assert.ok(known, "the inputs are fully known");
    return known.connection;
  }

  const run = (server: HostileKerberosServer) => runOverWinrm(connectionTo(server), COMMAND_LINE, STDIN, Date.now() + 30_000);

  /** Runs against `server` and returns the HostError the client refused it with, checked for credentials. */
  async function refusal(server: HostileKerberosServer): Promise<HostError> {
    const err = await run(server).then(
      (result) => assert.fail(`the client accepted a host telling a lie: exit code ${result.exitCode}, stdout ${JSON.stringify(result.stdout.toString("utf8"))}`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof HostError, `expected a HostError, got ${err}`);
    for (const text of [err.message, String(err.stack), JSON.stringify(err)]) assert.ok(!text.includes(PASSWORD), "the password is in the error");
    return err;
  }

  it("an honest host: the run completes, the AP-REP verified and every message sealed, on one AP-REQ", async () => {
    const server = await serve("none");
    const result = await run(server);
    assert.deepEqual({ ...result, stdout: result.stdout.toString("utf8"), stderr: result.stderr.toString("utf8") }, { stdout: HONEST_STDOUT, stderr: "", exitCode: 0, authentication: { mechanism: "kerberos" } });
    assert.deepEqual(server.records.map((r) => r.authorization), ["ap-req", "none", "none", "none", "none", "none", "none"]);
    assert.deepEqual(server.actions, ["Create", "Command", "Send", "Receive", "Signal", "Delete"]);
  });

  it("a 200 without an AP-REP: mutual authentication not proven, refused before any SOAP body is sent", async () => {
    const server = await serve("noApRep");
    const e = await refusal(server);
    assert.equal(e.kind, "authenticationFailed");
    assert.equal(e.transient, false);
    assert.match(e.message, /Kerberos: the host answered without proving it holds the key of HTTP\/liar\.sim\.example@SIM\.EXAMPLE \(no AP-REP\): refused before anything was sent/);
    // The AP-REQ (an empty POST) and nothing else.
    assert.deepEqual(server.records, [{ authorization: "ap-req", bodyLength: 0 }]);
  });

  it("an AP-REP made with another key (a host without the service key): refused before the script is sent", async () => {
    const server = await serve("wrongKeyApRep");
    const e = await refusal(server);
    assert.equal(e.kind, "authenticationFailed");
    assert.equal(e.transient, false);
    assert.match(
      e.message,
      /Kerberos: the host did not prove it holds the key of HTTP\/liar\.sim\.example@SIM\.EXAMPLE: its AP-REP does not decrypt under the ticket's session key \(a forged or altered reply, or one from another context\); refused before anything was sent/,
    );
    assert.deepEqual(server.records, [{ authorization: "ap-req", bodyLength: 0 }]);
  });

  it("an AP-REP replayed from an earlier genuine logon (same ticket): refused as answering another authenticator", async () => {
    const server = await serve("replayedApRep");
    // A genuine run first: the AP-REP it got is the one the host replays.
    assert.equal((await run(server)).exitCode, 0);
    assert.equal(server.apReps.length, 1);
    const before = server.records.length;
    const e = await refusal(server);
    assert.equal(e.kind, "authenticationFailed");
    assert.equal(e.transient, false);
    assert.match(
      e.message,
      /Kerberos: the host did not prove it holds the key of HTTP\/liar\.sim\.example@SIM\.EXAMPLE: its AP-REP answers another authenticator \(ctime\/cusec differ from ours: a replayed reply\); refused before anything was sent/,
    );
    assert.deepEqual(server.records.slice(before), [{ authorization: "ap-req", bodyLength: 0 }]);
    // The replay fooled nothing: the acceptor completed one context only, the genuine one.
    assert.equal(server.contexts, 1);
  });

  it("a genuine logon, then a reply whose wrap token has one byte flipped: badReply, not retried, nothing sent after it", async () => {
    const server = await serve("alteredWrap");
    const e = await refusal(server);
    assert.equal(e.kind, "badReply");
    assert.match(e.message, /: Kerberos wrap token refused: its integrity check failed: the message was altered, or sealed under another key \(/);
    // The Create reply was the altered one: the command was never sent. badReply is not among the
    // transient kinds (errors.ts), so withRetries does not retry it within the operation although
    // nothing ran; the advice says to run again.
    assert.equal(e.transient, false);
    assert.deepEqual(server.actions, ["Create"]);
    assert.equal(server.records.length, 2);
  });

  it("the same altered reply under the provider's own run (withRetries): refused once, not retried, the signing script never sent", async () => {
    const server = await serve("alteredWrap");
    const err = await runSigningScript(connectionTo(server), { operation: "read", ownerId: "", ownerLabel: "hostile" }, deadlineIn(30, 20)).then(
      () => assert.fail("the provider accepted an altered reply"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof HostError, String(err));
    assert.equal(err.kind, "badReply");
    assert.match(err.message, /its integrity check failed/);
    assert.ok(!err.message.includes(PASSWORD));
    // One logon, one Create: no second attempt, and no Command or Send (which carries the script).
    assert.deepEqual(server.records.map((r) => r.authorization), ["ap-req", "none"]);
    assert.deepEqual(server.actions, ["Create"]);
  });

  it("a reply sealed with a wrap token replayed from an earlier reply (sequence number reused): badReply naming the replay, the script never sent", async () => {
    const server = await serve("replayedWrap");
    const e = await refusal(server);
    assert.equal(e.kind, "badReply");
    assert.equal(e.transient, false);
    assert.match(e.message, /: Kerberos wrap token refused: its sequence number \d+ was already received \(the next expected is \d+\): a replayed token \(/);
    // The replay is the answer to Command (the first reply after Create, the only earlier one of
    // this context). stdin (the script) never went out: no Send. The client still deletes its
    // shell (runOverWinrm's finally), sealed with the next sequence number; nothing else follows.
    assert.deepEqual(server.actions, ["Create", "Command", "Delete"]);
  });
});
