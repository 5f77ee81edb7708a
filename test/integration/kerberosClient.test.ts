// The provider's WinRM client with `authentication: "kerberos"`, against simulated hosts joined
// to the domain (SimulatedFleet kerberos: a throw-away MIT realm for the KDC, MIT's GSSAPI
// acceptor holding each host's HTTP/<name> key behind the WinRM emulator): tickets from the KDC
// with a password, the host's AP-REP verified, every message sealed with our RFC 4121 wrap
// tokens and unwrapped by MIT (over HTTP) or bound to the listener's certificate (HTTPS,
// CbtHardeningLevel Strict); a host refusing NTLM reached with Kerberos and named when NTLM is
// tried; one KDC exchange per service per process; the failures a user meets, each with its
// cause and fix and no password in it.
import assert from "node:assert/strict";
import { HostError } from "../../provider/errors";
import * as ops from "../../provider/operations";
import { parsePolicyInputs } from "../../provider/domain/schema";
import { bootstrapCommandLine, bootstrapStdin, parseReply, SIGNING_SCRIPT } from "../../provider/host/protocol";
import { runOverWinrm } from "../../provider/transport/winrm/client";
import { processTicketStore } from "../../provider/transport/winrm/kerberos/tickets";
import { Diagnostic, setDiagnosticSink } from "../../provider/engineLog";
import { SIM_KERBEROS_PASSWORD, SIM_KERBEROS_USER, SimulatedFleet } from "../simhost/fleet";

describe("WinRM with Kerberos: the provider's client against hosts joined to the simulated domain", function () {
  this.timeout(120_000);
  let fleet: SimulatedFleet;

  before(async () => {
    fleet = await SimulatedFleet.start(
      [
        { name: "k1", preset: "server-2025" },
        { name: "k2", preset: "server-2022", winrm: { restrictNtlmIncoming: true } },
        { name: "kstrict", preset: "server-2025", winrm: { cbtHardeningLevel: "Strict" } },
      ],
      { winrm: true, kerberos: true },
    );
  });
  after(async () => {
    await fleet?.stop();
  });
  beforeEach(() => processTicketStore().clear());

  /** One read through the shipped script over WinRM, as the provider runs it; the HostError when it fails. */
  async function read(connection: Record<string, unknown>): Promise<{ reply?: { status: string }; error?: HostError }> {
    const parsed = parsePolicyInputs({ connection });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    try {
      const result = await runOverWinrm(parsed.inputs.connection as never, bootstrapCommandLine(), bootstrapStdin(SIGNING_SCRIPT, { operation: "read" }), Date.now() + 60_000);
      return { reply: parseReply("k", result) };
    } catch (err) {
      assert.ok(err instanceof HostError, String(err));
      return { error: err };
    }
  }

  /** The KDC's log lines for tickets to `spn` since `from` (its length before). */
  const ticketsIssued = (spn: string, from: number) => fleet.realm!.kdcLog().slice(from).split("\n").filter((l) => l.includes("TGS_REQ") && l.includes(spn) && l.includes("ISSUE")).length;

  it("over HTTP: creates a resource with a password; the AP-REP is checked and every message sealed with our wrap tokens, unwrapped by MIT's acceptor", async () => {
    const emulator = fleet.winrm.get("k1")!;
    const before = emulator.requests;
    const r = await ops.check({}, { connection: fleet.connection("k1", "kerberos"), server: { requireSigning: true }, onDelete: "retain" });
    assert.equal(r.failures, undefined, JSON.stringify(r.failures));
    const created = await ops.create(r.inputs as Record<string, unknown>);
    assert.equal(created.outs?.server?.requireSigning, true);
    assert.equal(fleet.state("k1").server.RequireSecuritySignature, true);
    const records = emulator.recordsAfter(before);
    assert.ok(records.some((x) => x.authorization === "Negotiate/gss"), "a Kerberos token was sent");
    assert.ok(!records.some((x) => /^Negotiate\/\d/.test(x.authorization)), "no NTLM message was sent");
    const sealed = records.filter((x) => x.action !== undefined);
    assert.ok(sealed.length >= 5 && sealed.every((x) => x.contentType.includes("multipart/encrypted") && x.contentType.includes("HTTP-SPNEGO-session-encrypted")), JSON.stringify(sealed.map((x) => x.contentType)));
    assert.deepEqual(emulator.refusals, []);
  });

  it("over HTTPS with CbtHardeningLevel Strict: the authenticator is bound to the listener's certificate", async () => {
    const { reply, error } = await read(fleet.connection("kstrict", "kerberosHttps"));
    assert.equal(error, undefined, error?.message);
    assert.equal(reply!.status, "ok");
    assert.deepEqual(fleet.winrmHttps.get("kstrict")!.refusals, []);
  });

  it("a host that refuses NTLM: NTLM fails naming the cause and Kerberos as the fix; Kerberos reaches it", async () => {
    const ntlm = await read({ ...fleet.connection("k2", "winrm") });
    assert.equal(ntlm.error?.kind, "authenticationFailed");
    assert.match(ntlm.error!.message, /refuses NTLM \("Network security: Restrict NTLM: Incoming NTLM traffic" set to deny, or NTLM disabled\)/);
    assert.match(ntlm.error!.message, /use connection\.authentication: "kerberos"/);
    const kerberos = await read(fleet.connection("k2", "kerberos"));
    assert.equal(kerberos.error, undefined, kerberos.error?.message);
  });

  it("one KDC exchange per service per process: runs on the same host reuse the ticket; another host gets its own", async () => {
    const from = fleet.realm!.kdcLog().length;
    for (let i = 0; i < 3; i++) assert.equal((await read(fleet.connection("k1", "kerberos"))).error, undefined);
    assert.equal(ticketsIssued(SimulatedFleet.servicePrincipal("k1"), from), 1);
    assert.equal((await read(fleet.connection("k2", "kerberos"))).error, undefined);
    assert.equal(ticketsIssued(SimulatedFleet.servicePrincipal("k2"), from), 1);
    assert.equal(ticketsIssued(SimulatedFleet.servicePrincipal("k1"), from), 1);
  });

  it("a wrong password: authenticationFailed naming PREAUTH_FAILED and the fix, never retried, the password nowhere", async () => {
    const wrong = "Not-The-Kerberos-Pa55";
    const { error } = await read({ ...fleet.connection("k1", "kerberos"), password: wrong });
    assert.equal(error?.kind, "authenticationFailed");
    assert.equal(error!.transient, false);
    assert.match(error!.message, /Kerberos: .*PREAUTH_FAILED|Kerberos: .*wrong password/i);
    for (const secret of [wrong, SIM_KERBEROS_PASSWORD]) {
      assert.ok(!error!.message.includes(secret) && !String(error!.stack).includes(secret) && !JSON.stringify(error).includes(secret));
    }
  });

  it("an SPN no account holds: authenticationFailed saying to register it or name the right one; asked for Kerberos, nothing falls back to NTLM", async () => {
    const emulator = fleet.winrm.get("k1")!;
    const before = emulator.requests;
    const { error } = await read({ ...fleet.connection("k1", "kerberos"), servicePrincipal: "HTTP/nosuch.sim.example" });
    assert.deepEqual(emulator.recordsAfter(before).map((x) => x.authorization), [], "nothing was sent to the host");
    assert.equal(error?.kind, "authenticationFailed");
    assert.match(error!.message, /HTTP\/nosuch\.sim\.example/);
    assert.match(error!.message, /setspn|register/i);
  });

  it("a KDC that does not answer: connectionFailed, transient (retried like other connection failures); once it is back, the run works", async () => {
    await fleet.realm!.stopKdc();
    try {
      const { error } = await read(fleet.connection("k1", "kerberos"));
      assert.equal(error?.kind, "connectionFailed");
      assert.equal(error!.transient, true);
      assert.match(error!.message, /no KDC .* answered/i);
    } finally {
      await fleet.realm!.startKdc();
    }
    assert.equal((await read(fleet.connection("k1", "kerberos"))).error, undefined);
  });

  it("checks before any traffic: an IP address without a service principal, a DOMAIN\\user name, Kerberos fields without Kerberos", async () => {
    const base = fleet.connection("k1", "kerberos");
    const { servicePrincipal: _spn, ...withoutSpn } = base;
    const failures = (connection: Record<string, unknown>) => {
      const r = parsePolicyInputs({ connection });
      return r.ok ? [] : r.failures.map((f) => `${f.property}: ${f.reason}`);
    };
    assert.deepEqual(failures(withoutSpn).filter((f) => f.startsWith("connection.servicePrincipal")).length, 1);
    assert.match(failures(withoutSpn).join("\n"), /servicePrincipal: is required when connection\.host is an IP address/);
    assert.match(failures({ ...base, user: "SIM\\smbsim-krb" }).join("\n"), /connection\.user: for Kerberos must be "user" or "user@REALM"/);
    assert.match(failures({ ...fleet.connection("k1", "winrm"), realm: "SIM.EXAMPLE" }).join("\n"), /connection\.realm: is only for authentication "kerberos" or "negotiate"/);
    assert.match(failures({ ...base, keytabFile: "/etc/krb5.keytab" }).join("\n"), /connection\.keytabFile: cannot be combined with connection\.password/);
    // A ticket cache alone is a credential: no password needed.
    assert.deepEqual(failures({ ...base, password: undefined, ccache: "FILE:/tmp/krb5cc_ci" }), []);
  });

  describe('authentication "negotiate": Kerberos when a ticket can be had, NTLM otherwise, and the mechanism in the outputs', () => {
    const said: Diagnostic[] = [];
    beforeEach(() => {
      said.length = 0;
      // Only what is said about authentication (check's consequences are said too).
      setDiagnosticSink((d) => void (/authentication|Kerberos/.test(d.message) && said.push(d)));
    });
    afterEach(() => setDiagnosticSink(undefined));

    const negotiate = (name: string, extra: Record<string, unknown> = {}) => ({ ...fleet.connection(name, "kerberos"), authentication: "negotiate", ...extra });
    /** A refresh-like read through the provider's operations: its outputs. */
    async function created(connection: Record<string, unknown>) {
      fleet.change("k1", (st) => void delete st.record);
      const r = await ops.check({}, { connection, onDelete: "retain", server: { requireSigning: true } });
      assert.equal(r.failures, undefined, JSON.stringify(r.failures));
      return (await ops.create(r.inputs as Record<string, unknown>)).outs!;
    }
    const mechanisms = (name: string, from: number) => [...new Set(fleet.winrm.get(name)!.recordsAfter(from).map((x) => x.authorization).filter((a) => a !== ""))];

    it("with a ticket to be had: Kerberos (no NTLM message), authenticatedWith \"kerberos\", no message", async () => {
      const from = fleet.winrm.get("k1")!.requests;
      const outs = await created(negotiate("k1"));
      assert.equal(outs.authenticatedWith, "kerberos");
      assert.deepEqual(mechanisms("k1", from), ["Negotiate/gss"]);
      assert.deepEqual(said, []);
    });

    it("the NTLM form DOMAIN\\user with the realm: Kerberos as user@REALM", async () => {
      const outs = await created(negotiate("k1", { user: `SIM\\${SIM_KERBEROS_USER}`, realm: "SIM.EXAMPLE" }));
      assert.equal(outs.authenticatedWith, "kerberos");
    });

    it("no ticket to be had (an SPN nobody holds): NTLM, authenticatedWith \"ntlm\", and one info message saying why", async () => {
      const from = fleet.winrm.get("k1")!.requests;
      const outs = await created(negotiate("k1", { servicePrincipal: "HTTP/nosuch.sim.example" }));
      assert.equal(outs.authenticatedWith, "ntlm");
      assert.ok(mechanisms("k1", from).every((a) => /^Negotiate\/\d$/.test(a)), JSON.stringify(mechanisms("k1", from)));
      assert.equal(said.length, 1, JSON.stringify(said));
      assert.equal(said[0].severity, "info");
      assert.match(said[0].message, /authentication "negotiate" used NTLM, as Kerberos was not available: .*HTTP\/nosuch\.sim\.example/);
      assert.ok(!said[0].message.includes(SIM_KERBEROS_PASSWORD));
    });

    it("an IP address without a service principal: NTLM, saying Kerberos needs the host's name", async () => {
      const { servicePrincipal: _spn, ...withoutSpn } = negotiate("k1") as Record<string, unknown>;
      const outs = await created(withoutSpn);
      assert.equal(outs.authenticatedWith, "ntlm");
      assert.match(said.map((d) => d.message).join("\n"), /Kerberos needs the host's name as its SPN has it/);
    });

    it("a host that refuses NTLM and no ticket: authenticationFailed naming both reasons, the password nowhere", async () => {
      const { error } = await read(negotiate("k2", { servicePrincipal: "HTTP/nosuch.sim.example" }));
      assert.equal(error?.kind, "authenticationFailed");
      assert.match(error!.message, /refuses NTLM/);
      assert.match(error!.message, /authentication "negotiate" used NTLM: Kerberos was not available: .*nosuch/);
      assert.ok(!error!.message.includes(SIM_KERBEROS_PASSWORD));
    });

    it("once Kerberos is chosen there is no fallback: a host refusing the ticket fails the run, no NTLM message is sent", async () => {
      // A principal the KDC knows but the hosts' keytab does not hold: the host cannot take the ticket.
      await fleet.realm!.addPrincipal("HTTP/elsewhere.sim.example");
      const from = fleet.winrm.get("k1")!.requests;
      const { error } = await read(negotiate("k1", { servicePrincipal: "HTTP/elsewhere.sim.example" }));
      assert.equal(error?.kind, "authenticationFailed", error?.message);
      assert.deepEqual(mechanisms("k1", from), ["Negotiate/gss"]);
    });

    it("the other mechanisms say theirs: NTLM \"ntlm\", kerberos \"kerberos\"; negotiate's keys are checked", async () => {
      assert.equal((await created(fleet.connection("k1", "winrm"))).authenticatedWith, "ntlm");
      assert.equal((await created(fleet.connection("k1", "kerberos"))).authenticatedWith, "kerberos");
      const failures = (connection: Record<string, unknown>) => {
        const r = parsePolicyInputs({ connection });
        return r.ok ? [] : r.failures.map((f) => `${f.property}: ${f.reason}`);
      };
      assert.deepEqual(failures(negotiate("k1", { user: `SIM\\${SIM_KERBEROS_USER}` })), []);
      assert.match(failures(negotiate("k1", { password: undefined })).join("\n"), /connection\.password: is required for authentication "negotiate"/);
      assert.match(failures(negotiate("k1", { keytabFile: "/etc/krb5.keytab" })).join("\n"), /connection\.keytabFile: is only for authentication: "kerberos" \("negotiate" uses the password\)/);
      assert.match(failures(negotiate("k1", { authentication: "kerbros" })).join("\n"), /connection\.authentication: must be "ntlm", "kerberos", "negotiate" or "basic"/);
    });
  });
});
