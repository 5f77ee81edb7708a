// Impact against simulated hosts, over SSH and WinRM: the consequences a preview warns about are
// what the host then does (the SMB sessions fail with the errors named), readiness names the
// peers the host's own SMB audit log saw not signing (on 24H2 / Server 2025, and on an older
// server patched with KB5066913 whose policy turns audit on), a release without the log says it
// cannot tell, and destroy says when it puts insecure values back.
import assert from "node:assert/strict";
import * as ops from "../../provider/operations";
import type { PolicyOutputs } from "../../provider/domain/policy";
import { Diagnostic, setDiagnosticSink } from "../../provider/engineLog";
import { SimulatedFleet } from "../simhost/fleet";
import { auditEvent, AuditEventModel, GUEST_ACCESS_BLOCKED, SMB_AUDIT_EVENTS, PresetName, SIGNING_REQUIRED_REFUSED, STATUS_INVALID_SIGNATURE } from "../simhost/model";

describe("consequences and readiness", () => {
  const HOSTS: Record<string, PresetName> = { home: "win11-24h2-home", srv25: "server-2025", srv22: "server-2022" };
  const TRANSPORTS = ["ssh", "winrm"] as const;
  type Transport = (typeof TRANSPORTS)[number];
  const urnOf = (name: string) => `urn:pulumi:test::impact::pulumi-nodejs:dynamic/smb:SmbSigningPolicy::${name}`;

  let fleet: SimulatedFleet;
  const delivered: Diagnostic[] = [];
  before(async () => {
    fleet = await SimulatedFleet.start(Object.entries(HOSTS).map(([name, preset]) => ({ name, preset })), { winrm: true });
    setDiagnosticSink((d) => void delivered.push(d));
  });
  after(async () => {
    setDiagnosticSink(undefined);
    await fleet?.stop();
  });

  /**
   * The messages delivered since the last call, each checked to be about the resource's URN: at
   * most one warning and one info message per operation (the budget), each split into its
   * consequences, every one prefixed with the host as a single one would be.
   */
  function said(name: string): { warnings: string[]; infos: string[] } {
    const taken = delivered.splice(0);
    for (const d of taken) assert.equal(d.urn, urnOf(name), d.message);
    const lines = (severity: string) => {
      const of = taken.filter((d) => d.severity === severity);
      assert.ok(of.length <= 1, `more than one ${severity} for one operation:\n${of.map((d) => d.message).join("\n")}`);
      if (of.length === 0) return [];
      const [head, ...items] = of[0].message.split("\n  - ");
      return items.length === 0 ? [head] : items.map((t) => `${head.slice(0, head.indexOf(": "))}: ${t}`);
    };
    return { warnings: lines("warning"), infos: lines("info") };
  }
  const warnings = (name: string) => said(name).warnings;

  async function inputs(name: string, transport: Transport, rest: Record<string, unknown>, olds: Record<string, unknown> = { existing: true }) {
    // These scenarios follow a host through destroy: they declare the restore.
    const r = await ops.check(olds, { connection: fleet.connection(name, transport === "winrm" ? "winrm" : "password"), resourceUrn: urnOf(name), onDelete: "restore", ...rest });
    assert.deepEqual(r.failures, undefined, JSON.stringify(r.failures));
    return r.inputs as Record<string, unknown>;
  }

  const address = (name: string) => fleet.host(name).address;
  const unsignedClient = (addr: string, at?: Date) => ({ direction: "inbound" as const, address: addr, signs: false, account: "CONTOSO\\scan", at });
  const has = (list: string[], pattern: RegExp) => assert.ok(list.some((t) => pattern.test(t)), `none of these matches ${pattern}:\n${list.join("\n")}`);

  for (const transport of TRANSPORTS) {
    describe(`impact over ${transport}`, () => {
      it("requiring client signing: preview names STATUS_INVALID_SIGNATURE and the unmanaged guest access; after the update the host fails exactly so", async () => {
        fleet.reset("home", "win11-24h2-home");
        delivered.splice(0);
        const created = await ops.create(await inputs("home", transport, { server: { auditClientDoesNotSupportSigning: true } }));
        const outs = created.outs as PolicyOutputs;
        assert.deepEqual(warnings("home"), [], "turning audit on warns of nothing");
        assert.deepEqual(outs.consequences, [
          "server.auditClientDoesNotSupportSigning: true: SMB clients that do not sign are logged in Microsoft-Windows-SMBServer/Audit; nothing is refused",
        ]);
        const nas = { direction: "outbound" as const, address: "10.0.9.5", signs: false };
        const guestNas = { direction: "outbound" as const, address: "10.0.9.6", signs: false, guestOnly: true };
        assert.equal(fleet.smbSession("home", nas).connected, true);
        assert.equal(fleet.smbSession("home", guestNas).connected, true);

        const news = await inputs("home", transport, { client: { requireSigning: true }, server: { auditClientDoesNotSupportSigning: true } });
        const d = await ops.diff(created.id, outs, news);
        assert.equal(d.changes, true);
        const { warnings: preview, infos } = said("home");
        const host = address("home");
        // Which servers would fail, the client audit log could say; it is off on this host: a decision.
        has(preview, /: this host does not log servers that do not sign \(client\.auditServerDoesNotSupportSigning is false\)/);
        assert.ok(infos.includes(`${host}: client.requireSigning: true: SMB servers that do not sign (many NAS and printers) will fail with 0xc000a000 STATUS_INVALID_SIGNATURE`), infos.join("\n"));
        assert.ok(
          preview.includes(
            `${host}: client.requireSigning: true: guest access, currently enabled on this host (EnableInsecureGuestLogons=true, not managed by this resource), will be blocked (0x80070035, System error 3227320323): shares that admit only guests become unreachable`,
          ),
          preview.join("\n"),
        );
        assert.equal(fleet.state("home").counters.writes, 1, "preview wrote nothing (the create's audit setting was the one write)");

        const updated = await ops.update(created.id, outs, news);
        has((updated.outs as PolicyOutputs).consequences ?? [], /SMB servers that do not sign \(many NAS and printers\) fail with 0xc000a000/);
        has((updated.outs as PolicyOutputs).consequences ?? [], /^on destroy \(onDelete: "restore"\) this host returns to client\.requireSigning=false: unsigned SMB traffic can be tampered with or relayed$/);
        const refused = fleet.smbSession("home", nas);
        assert.equal(refused.connected, false);
        assert.equal(refused.error, STATUS_INVALID_SIGNATURE);
        assert.match(refused.error!, /0xc000a000/);
        const guest = fleet.smbSession("home", guestNas);
        assert.equal(guest.error, GUEST_ACCESS_BLOCKED);
        assert.match(guest.error!, /0x80070035/);
        assert.match(guest.error!, /3227320323/);

        // destroy puts client.requireSigning=false back: said, naming the host and the value.
        await ops.delete(created.id, updated.outs as PolicyOutputs);
        const restore = warnings("home");
        assert.equal(restore.length, 1, restore.join("\n"));
        assert.match(restore[0], new RegExp(`^${host.replace(/\./g, "\\.")}: destroy put back .*: client\\.requireSigning=false: unsigned SMB traffic can be tampered with or relayed`));
        assert.equal(fleet.state("home").client.RequireSecuritySignature, false);
        assert.equal(fleet.smbSession("home", guestNas).connected, true, "and guests are let in again");
      });

      it("readiness: the clients the audit log saw connecting without signing are named before server.requireSigning lands, and are then refused", async () => {
        fleet.reset("srv25", "server-2025");
        delivered.splice(0);
        // Patched with KB5066913, so an SMB 1 client that does not sign is logged too (3027).
        fleet.change("srv25", (s) => (s.kb5066913 = true));
        const created = await ops.create(await inputs("srv25", transport, { server: { auditClientDoesNotSupportSigning: true } }));
        // A week of traffic: three clients that cannot sign (one twice), one that signs, and one
        // that connected before the window.
        for (const a of ["10.0.4.17", "10.0.4.30", "10.0.4.18", "10.0.4.17"]) assert.equal(fleet.smbSession("srv25", unsignedClient(a)).audited, true);
        fleet.smbSession("srv25", { direction: "inbound", address: "10.0.4.5", signs: true });
        fleet.smbSession("srv25", unsignedClient("10.0.4.99", new Date(Date.now() - 10 * 86_400_000)));
        assert.equal(fleet.smbSession("srv25", { ...unsignedClient("10.0.4.40"), smb1: true }).audited, true);

        const refreshed = await ops.read(created.id, created.outs);
        const outs = refreshed.props as PolicyOutputs;
        assert.equal(outs.readiness?.server.log, "available");
        assert.equal(outs.readiness?.server.auditing, true);
        assert.deepEqual(outs.readiness?.server.peers.map((p) => [p.peer, p.events, p.eventIds]), [
          ["10.0.4.17", 2, [3021]],
          ["10.0.4.18", 1, [3021]],
          ["10.0.4.30", 1, [3021]],
          ["10.0.4.40", 1, [3027]],
        ]);
        assert.equal(outs.readiness?.client.peers.length, 0);

        const news = await inputs("srv25", transport, { server: { auditClientDoesNotSupportSigning: true, requireSigning: true } });
        await ops.diff(created.id, outs, news);
        const { warnings: preview, infos } = said("srv25");
        const host = address("srv25");
        assert.ok(infos.includes(`${host}: server.requireSigning: true: SMB clients that do not sign will be refused by this host`), infos.join("\n"));
        has(preview, new RegExp(`^${host.replace(/\./g, "\\.")}: 4 clients in the last 7 days connected without signing: 10\\.0\\.4\\.17, 10\\.0\\.4\\.18, 10\\.0\\.4\\.30, 10\\.0\\.4\\.40 \\(Microsoft-Windows-SMBServer/Audit, event 3021, 3027, read `));
        assert.ok(!preview.some((t) => t.includes("10.0.4.99") || t.includes("10.0.4.5,")), "outside the window, or signing: not named");

        await ops.update(created.id, outs, news);
        const after = fleet.smbSession("srv25", unsignedClient("10.0.4.17"));
        assert.equal(after.connected, false);
        assert.equal(after.error, SIGNING_REQUIRED_REFUSED);
        assert.equal(fleet.smbSession("srv25", { direction: "inbound", address: "10.0.4.5", signs: true }).connected, true);
      });

      it("a release without SMB signing audit (Server 2022) has the log but no such event: says it cannot tell who would be refused", async () => {
        fleet.reset("srv22", "server-2022");
        delivered.splice(0);
        const created = await ops.create(await inputs("srv22", transport, { client: { enableSigning: true } }));
        const outs = created.outs as PolicyOutputs;
        assert.deepEqual([outs.readiness?.server.log, outs.readiness?.server.auditing, outs.readiness?.server.signingEventIds], ["available", null, []]);
        assert.equal(fleet.smbSession("srv22", unsignedClient("10.0.4.17")).audited, false, "the release has no such event to log");
        await ops.diff(created.id, outs, await inputs("srv22", transport, { client: { enableSigning: true }, server: { requireSigning: true } }));
        has(warnings("srv22"), /cannot tell which clients do not sign: its release logs no such event in Microsoft-Windows-SMBServer\/Audit \(Windows 11 24H2 and Windows Server 2025 do, and older releases with KB5066913/);
      });

      it("KB5066913: an older server whose Group Policy turns the audit on names its unsigned clients, though it has no such cmdlet setting", async () => {
        fleet.reset("srv22", "server-2022");
        fleet.change("srv22", (s) => {
          s.kb5066913 = true;
          s.groupPolicy.gpo = "SMB signing audit";
          s.groupPolicy.administrativeTemplates.server = { AuditClientDoesNotSupportSigning: true };
        });
        assert.equal(fleet.smbSession("srv22", unsignedClient("10.0.7.7")).audited, true);
        delivered.splice(0);
        const created = await ops.create(await inputs("srv22", transport, { client: { enableSigning: true } }));
        const outs = created.outs as PolicyOutputs;
        assert.equal(outs.observed.server.auditClientDoesNotSupportSigning, null, "the cmdlet does not report it");
        assert.equal(outs.readiness?.server.auditing, true, "the policy does");
        await ops.diff(created.id, outs, await inputs("srv22", transport, { client: { enableSigning: true }, server: { requireSigning: true } }));
        has(warnings("srv22"), /: 1 client in the last 7 days connected without signing: 10\.0\.7\.7 \(/);
      });

      it("KB5066913 with the audit turned on through the registry (no policy, no cmdlet setting): its events show the audit is on, and name the clients", async () => {
        fleet.reset("srv22", "server-2022");
        fleet.change("srv22", (s) => {
          s.kb5066913 = true;
          s.registryOnly = { server: { AuditClientDoesNotSupportSigning: 1 } };
        });
        assert.equal(fleet.smbSession("srv22", { ...unsignedClient("10.0.7.8"), name: "\\\\PRINTER7" }).audited, true);
        delivered.splice(0);
        const created = await ops.create(await inputs("srv22", transport, { client: { enableSigning: true } }));
        const outs = created.outs as PolicyOutputs;
        assert.deepEqual([outs.policyManaged?.server?.auditClientDoesNotSupportSigning, outs.observed.server.auditClientDoesNotSupportSigning], [undefined, null]);
        assert.deepEqual([outs.readiness?.server.auditing, outs.readiness?.server.signingEventIds, outs.readiness?.server.peers.map((p) => p.peer)], [true, [3021, 3027], ["PRINTER7"]]);
        await ops.diff(created.id, outs, await inputs("srv22", transport, { client: { enableSigning: true }, server: { requireSigning: true } }));
        has(warnings("srv22"), /: 1 client in the last 7 days connected without signing: PRINTER7 \(Microsoft-Windows-SMBServer\/Audit, event 3021, read /);
      });

      it("audit off: says to turn it on first; a create not yet read says what would happen unless the host already has it", async () => {
        fleet.reset("srv25", "server-2025");
        delivered.splice(0);
        const fresh = await inputs("srv25", transport, { server: { requireSigning: true } }, {});
        const unread = said("srv25");
        assert.deepEqual(unread.warnings, [], "nothing is known of the host to decide on");
        has(unread.infos, /\(not read yet\): server\.requireSigning: true: unless this host already requires inbound signing, SMB clients that do not sign will be refused/);
        assert.equal(fleet.state("srv25").counters.runs, 0, "check contacted no host");
        const created = await ops.create(await inputs("srv25", transport, { client: { requireSigning: true } }));
        assert.deepEqual(warnings("srv25"), [], "Server 2025 requires client signing already: nothing changes");
        await ops.diff(created.id, created.outs as PolicyOutputs, fresh);
        has(warnings("srv25"), /this host does not log clients that do not sign \(server\.auditClientDoesNotSupportSigning is false\): turn that audit on for a while first/);
      });

      it("audit turned on in the same change as the requirement has logged nothing yet: preview says so, not that it is off or that nobody would be refused; up and refresh say nothing", async () => {
        fleet.reset("srv25", "server-2025");
        delivered.splice(0);
        const created = await ops.create(await inputs("srv25", transport, { client: { requireSigning: true } }));
        assert.deepEqual(said("srv25"), { warnings: [], infos: [] }, "a create says nothing: its preview did");
        const news = await inputs("srv25", transport, { client: { requireSigning: true }, server: { auditClientDoesNotSupportSigning: true, requireSigning: true } });
        await ops.diff(created.id, created.outs as PolicyOutputs, news);
        const preview = said("srv25");
        has(preview.warnings, /server\.auditClientDoesNotSupportSigning is turned on in this same change, so Microsoft-Windows-SMBServer\/Audit has logged nothing yet: nobody can tell which clients would be refused/);
        assert.ok(!preview.warnings.some((t) => /turn that audit on|is false/.test(t)), preview.warnings.join("\n"));
        const updated = await ops.update(created.id, created.outs as PolicyOutputs, news);
        const outs = updated.outs as PolicyOutputs;
        assert.deepEqual(said("srv25"), { warnings: [], infos: [] }, "an update says nothing: its preview did");
        assert.ok(!(outs.consequences ?? []).some((c) => c.startsWith("no client connected") || /turn that audit on/.test(c)), (outs.consequences ?? []).join("\n"));
        assert.ok((outs.consequences ?? []).some((c) => /auditClientDoesNotSupportSigning: true: SMB clients that do not sign are logged/.test(c)));
        assert.equal(outs.readiness?.server.auditing, false);
        const refreshed = await ops.read(created.id, outs);
        assert.equal((refreshed.props as PolicyOutputs).readiness?.server.auditing, true, "audit is on from now on");
        assert.deepEqual((refreshed.props as PolicyOutputs).consequences, outs.consequences, "a refresh that changes nothing leaves consequences as they were");
        assert.deepEqual(said("srv25"), { warnings: [], infos: [] }, "a refresh says nothing");
      });

      it("reads a bounded number of events within the window, and says when it stopped", async () => {
        fleet.reset("srv25", "server-2025");
        const now = Date.now();
        fleet.change("srv25", (s) => {
          s.server.AuditClientDoesNotSupportSigning = true;
          const events: AuditEventModel[] = [];
          const signing = SMB_AUDIT_EVENTS.find((e) => e.id === 3021 && e.version === 0)!;
          for (let i = 0; i < 2500; i++) events.push(auditEvent(signing, new Date(now - i * 60_000), { ClientName: `\\\\10.1.${Math.floor(i / 250)}.${i % 250}` }));
          events.push(auditEvent(signing, new Date(now - 5 * 86_400_000), { ClientName: "\\\\10.2.0.1" }));
          s.auditLogs.server!.events = events;
        });
        const created = await ops.create(await inputs("srv25", transport, { server: { auditClientDoesNotSupportSigning: true }, readinessDays: 3 }));
        const r = (created.outs as PolicyOutputs).readiness!;
        assert.deepEqual([r.days, r.server.events, r.server.truncated, r.server.peerCount, r.server.peers.length], [3, 2000, true, 2000, 50]);
        assert.ok(!r.server.peers.some((p) => p.peer === "10.2.0.1"), "five days ago is outside three days");
        delivered.splice(0);
        await ops.diff(created.id, created.outs as PolicyOutputs, await inputs("srv25", transport, { server: { auditClientDoesNotSupportSigning: true, requireSigning: true }, readinessDays: 3 }));
        has(warnings("srv25"), /: at least 2000 clients in the last 3 days connected without signing: .*, and 1990 more \(/);
      });
    });
  }
});
