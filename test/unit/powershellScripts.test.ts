// The shipped scripts run end to end as a simulated host runs them: bootstrap.ps1 as
// powershell.exe -EncodedCommand runs it, smb-signing.ps1 and the request from stdin, through the
// PowerShell interpreter (test/simhost/powershell/) on the simulated Windows
// (test/simhost/windowsSurface.ts over the model's HostState). Each test states what the script
// does on such a host; the properties of the record (test/unit/properties.test.ts) state the rest.
// PowerShell 2.0 and Constrained Language Mode sessions get bootstrap.ps1's own answers.
import assert from "node:assert/strict";
import { auditEvent, newHostState, restartService, SMB_AUDIT_EVENTS, smbConnect } from "../simhost/model";
import { loadInterpreter, runShipped } from "./shippedScripts";

const OWNER = "0b9c7a52-5f7e-4b8a-9a51-2f8d3c1e6a10";
const OTHER = "7d1e2f30-4a5b-4c6d-8e9f-a0b1c2d3e4f5";
const RECORD_KEY = "HKLM:\\SOFTWARE\\pulumi-smb-signing";

describe("the shipped scripts through the PowerShell interpreter", () => {
  before(async () => {
    await loadInterpreter();
  });

  it("answers a read request with the host's settings (bootstrap.ps1 + smb-signing.ps1)", () => {
    const state = newHostState("server-2025");
    const r = runShipped(state, { operation: "read", ownerId: "", ownerLabel: "urn:x", legacyOwners: [] });
    assert.equal(r.stderr, "");
    assert.equal(r.exitCode, 0, r.stdout);
    const reply = r.reply!;
    assert.equal(reply.status, "ok");
    assert.equal(reply.source, "cmdlet");
    assert.equal(reply.ours, true);
    assert.deepEqual(reply.before, { client: state.client, server: state.server });
    assert.equal((reply.host as { build: string }).build, "26100.4061");
    assert.equal(reply.record, null);
    assert.deepEqual(reply.changed, []);
    assert.deepEqual(r.writes, []);
  });

  it("applies, writing the record first, then restores and removes it", () => {
    const state = newHostState("win10-22h2-pro");
    const apply = runShipped(state, { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", client: { RequireSecuritySignature: true }, server: { RequireSecuritySignature: true } });
    assert.equal(apply.exitCode, 0, apply.stdout + apply.stderr);
    assert.deepEqual(apply.reply!.changed, ["client.RequireSecuritySignature", "server.RequireSecuritySignature"]);
    assert.deepEqual(apply.writes.map((w) => w.part), ["record", "client", "server"]);
    assert.equal(state.client.RequireSecuritySignature, true);
    const record = JSON.parse(state.record!);
    assert.deepEqual(record.originals, { client: { RequireSecuritySignature: false }, server: { RequireSecuritySignature: false } });
    assert.equal(record.ownerId, OWNER);
    assert.match(record.claimedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    const restore = runShipped(state, { operation: "restore", ownerId: OWNER, ownerLabel: "urn:a" });
    assert.equal(restore.exitCode, 0, restore.stdout);
    assert.equal(restore.reply!.restored, true);
    assert.equal(state.record, undefined);
    assert.equal(state.client.RequireSecuritySignature, false);
    assert.equal(state.server.RequireSecuritySignature, false);
  });

  it("answers PowerShell 2.0 and Constrained Language Mode with bootstrap.ps1's typed errors, before reading stdin", () => {
    const old = newHostState("server-2008r2-stock");
    const r1 = runShipped(old, { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", client: { RequireSecuritySignature: true } });
    assert.equal(r1.exitCode, 2);
    assert.deepEqual(r1.reply, { status: "error", kind: "unsupportedOs", message: "Windows PowerShell 2.0 is too old: install Windows Management Framework 5.1" });
    assert.ok(r1.stdout.endsWith("}\r\n"));
    assert.deepEqual(r1.writes, []);
    const locked = { ...newHostState("server-2022"), languageMode: "ConstrainedLanguage" as const };
    const r2 = runShipped(locked, { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", client: { RequireSecuritySignature: true } });
    assert.equal(r2.exitCode, 2);
    assert.deepEqual(r2.reply, { status: "error", kind: "constrainedLanguage", message: "PowerShell runs in ConstrainedLanguage mode (AppLocker or WDAC)" });
    assert.deepEqual(r2.writes, []);
  });

  it("an empty request is no JSON: a typed badRequest (ConvertFrom-Json refuses the empty string), nothing written", () => {
    const r = runShipped(newHostState("server-2022"), "");
    assert.equal(r.exitCode, 2);
    assert.equal(r.stderr, "");
    assert.equal(r.reply!.kind, "badRequest");
    assert.match(String(r.reply!.message), /Cannot bind argument to parameter 'InputObject' because it is an empty string/);
    assert.deepEqual(r.writes, []);
  });

  it("refuses another owner's host naming its label and the record's key; a record it cannot read, saying how to start afresh", () => {
    const owned = newHostState("server-2022");
    owned.record = JSON.stringify({ version: 2, ownerId: OTHER, ownerLabel: "urn:other", claimedAt: "2025-01-01T00:00:00.0000000Z", originals: { client: {}, server: {} } });
    const r = runShipped(owned, { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", client: { RequireSecuritySignature: true } });
    assert.equal(r.exitCode, 2);
    assert.equal(r.reply!.kind, "ownedElsewhere");
    assert.match(String(r.reply!.message), /urn:other/);
    assert.ok(String(r.reply!.message).includes(`(record ${RECORD_KEY})`));
    assert.deepEqual(r.writes, []);
    const bad = newHostState("server-2022");
    bad.record = "{not json";
    const b = runShipped(bad, { operation: "read", ownerId: OWNER, ownerLabel: "urn:a" });
    assert.equal(b.reply!.kind, "badRecord");
    assert.ok(String(b.reply!.message).endsWith(`(Remove-Item -Path ${RECORD_KEY}) to let the provider start afresh`), String(b.reply!.message));
  });

  it("a non-administrator's restore cannot remove the record: accessDenied, and the record stays", () => {
    // smb-signing.ps1's Remove-Item of the record's key, which a non-administrator cannot open for writing.
    const state = newHostState("server-2022");
    state.record = JSON.stringify({ version: 2, ownerId: OWNER, ownerLabel: "urn:a", claimedAt: "2025-01-01T00:00:00.0000000Z", originals: { client: {}, server: { RequireSecuritySignature: false } } });
    state.faults.nonAdmin = true;
    const r = runShipped(state, { operation: "restore", ownerId: OWNER, ownerLabel: "urn:a" });
    assert.equal(r.exitCode, 2);
    assert.deepEqual([r.reply!.kind, r.reply!.message], ["accessDenied", "Requested registry access is not allowed."]);
    assert.ok(state.record !== undefined, "the record stays");
  });

  it("an audit event naming its client \\\\010.0.4.17 names the peer 010.0.4.17: leading backslashes removed, the text kept as logged", () => {
    const state = newHostState("server-2025");
    state.auditLogs.server!.events.push(auditEvent(SMB_AUDIT_EVENTS.find((e) => e.id === 3021)!, new Date(Date.now() - 3_600_000), { ClientName: "\\\\010.0.4.17" }));
    const r = runShipped(state, { operation: "read", ownerId: "", ownerLabel: "urn:a", auditDays: 7, auditMaxEvents: 10 });
    const peers = (r.reply!.audit as { server: { peers: Array<{ peer: string }> } }).server.peers.map((p) => p.peer);
    assert.deepEqual(peers, ["010.0.4.17"]);
  });

  describe("what PowerShell's rules make of a request", () => {
    it("names are read ignoring case: {\"Operation\": \"read\"} is a read", () => {
      const r = runShipped(newHostState("server-2022"), { Operation: "read", OwnerLabel: "urn:x" });
      assert.equal(r.reply!.status, "ok");
    });
    it("a setting named in another case is accepted and applied (-contains and the hashtables ignore case)", () => {
      const state = newHostState("server-2022");
      const r = runShipped(state, { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", client: { requiresecuritysignature: true } });
      assert.equal(r.reply!.status, "ok");
      assert.deepEqual(r.reply!.changed, ["client.requiresecuritysignature"]);
      assert.equal(state.client.RequireSecuritySignature, true);
    });
    it("auditDays 7.0 is a [decimal] from ConvertFrom-Json, not an integer: refused", () => {
      const text = '{"operation":"read","ownerId":"","ownerLabel":"u","auditDays":7.0}';
      assert.equal(runShipped(newHostState("server-2025"), text).reply!.message, "auditDays must be an integer from 1 to 90");
    });
    it("a request that is a JSON array of one object is read as that object (member-access enumeration)", () => {
      const r = runShipped(newHostState("server-2022"), [{ operation: "read", ownerId: "", ownerLabel: "urn:x" }]);
      assert.equal(r.reply!.status, "ok");
    });
  });

  describe("hosts that half-work", () => {
    it("LanmanServer disabled: a read reports the server side unavailable with its error and reads the client side", () => {
      const state = newHostState("server-2022");
      state.faults.stoppedServices = ["LanmanServer"];
      const r = runShipped(state, { operation: "read", ownerId: "", ownerLabel: "urn:x", legacyOwners: [] });
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      assert.deepEqual(r.reply!.before, { client: state.client, server: {} });
      assert.deepEqual(r.reply!.unavailable, { server: { message: "The service has not been started.", errorId: "Windows System Error 1062,Get-SmbServerConfiguration" } });
    });

    it("LanmanServer disabled: a client-only apply changes the client; one declaring server settings is refused as sideUnavailable naming the side, the cause and the fix, before anything is written", () => {
      const state = newHostState("server-2022");
      state.faults.stoppedServices = ["LanmanServer"];
      const refused = runShipped(state, { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", client: { RequireSecuritySignature: true }, server: { RequireSecuritySignature: true } });
      assert.equal(refused.exitCode, 2);
      assert.equal(refused.reply!.kind, "sideUnavailable");
      const message = String(refused.reply!.message);
      for (const part of ["the server side of this host cannot be read", "Get-SmbServerConfiguration failed: The service has not been started.", "LanmanServer", "Start-Service -Name LanmanServer", "declare no server settings"]) {
        assert.ok(message.includes(part), `${part} in: ${message}`);
      }
      assert.deepEqual(refused.writes, []);
      const applied = runShipped(state, { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", client: { RequireSecuritySignature: true } });
      assert.equal(applied.exitCode, 0, applied.stdout + applied.stderr);
      assert.deepEqual(applied.reply!.changed, ["client.RequireSecuritySignature"]);
      assert.equal(state.client.RequireSecuritySignature, true);
      assert.deepEqual(Object.keys(applied.reply!.unavailable as object), ["server"]);
      // destroy (restore) still works, and a restore owing the unreadable side its originals keeps the record.
      const restored = runShipped(state, { operation: "restore", ownerId: OWNER, ownerLabel: "urn:a" });
      assert.equal(restored.reply!.restored, true);
      assert.equal(state.client.RequireSecuritySignature, false);
      state.record = JSON.stringify({ version: 2, ownerId: OWNER, ownerLabel: "urn:a", claimedAt: "2025-01-01T00:00:00.0000000Z", originals: { client: {}, server: { RequireSecuritySignature: false } } });
      const owed = runShipped(state, { operation: "restore", ownerId: OWNER, ownerLabel: "urn:a" });
      assert.equal(owed.exitCode, 0, owed.stdout);
      assert.equal(owed.reply!.restored, false);
      assert.ok(state.record !== undefined, "the record keeps the server's originals");
    });

    it("a 32-bit PowerShell (WOW64) records the originals in the 64-bit view: a later 64-bit run finds the record, refuses another owner, and restores the genuine originals", () => {
      const state = newHostState("win10-22h2-pro");
      state.process32 = true;
      const first = runShipped(state, { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", server: { RequireSecuritySignature: true } });
      assert.equal(first.exitCode, 0, first.stdout + first.stderr);
      state.process32 = false;
      const other = runShipped(state, { operation: "apply", ownerId: OTHER, ownerLabel: "urn:b", server: { RequireSecuritySignature: true } });
      assert.equal(other.reply!.kind, "ownedElsewhere");
      // A restore whose state lost the originals (its create's reply never arrived) gets them from the record.
      const restore = runShipped(state, { operation: "restore", ownerId: OWNER, ownerLabel: "urn:a", originals: { client: {}, server: {} } });
      assert.equal(restore.exitCode, 0, restore.stdout + restore.stderr);
      assert.equal(restore.reply!.restored, true);
      assert.equal(state.server.RequireSecuritySignature, false);
      assert.equal(state.record, undefined);
      assert.equal(state.record32, undefined, "nothing was left under WOW6432Node");
      // The run says what it was: a 32-bit PowerShell on 64-bit Windows, its release read in the 64-bit view.
      const host = first.reply!.host as { processBits: number; osBits: number; build: string };
      assert.deepEqual([host.processBits, host.osBits, host.build], [32, 64, "19045.5011"]);
    });

    it("a 32-bit PowerShell as a non-administrator: the .NET registry's UnauthorizedAccessException (CreateSubKey) and SecurityException (OpenSubKey for writing) are accessDenied, and nothing is written", () => {
      const state = newHostState("win10-22h2-pro");
      state.process32 = true;
      state.faults.nonAdmin = true;
      const apply = runShipped(state, { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", server: { RequireSecuritySignature: true } });
      assert.deepEqual([apply.reply!.kind, apply.reply!.message], ["accessDenied", `Exception calling "CreateSubKey" with "1" argument(s): "Access to the registry key 'HKEY_LOCAL_MACHINE\\SOFTWARE\\pulumi-smb-signing' is denied."`]);
      assert.deepEqual(apply.writes, []);
      state.record = JSON.stringify({ version: 2, ownerId: OWNER, ownerLabel: "urn:a", claimedAt: "2025-01-01T00:00:00.0000000Z", originals: { client: {}, server: {} } });
      const restore = runShipped(state, { operation: "restore", ownerId: OWNER, ownerLabel: "urn:a" });
      assert.deepEqual([restore.reply!.kind, restore.reply!.message], ["accessDenied", 'Exception calling "OpenSubKey" with "2" argument(s): "Requested registry access is not allowed."']);
      assert.ok(state.record !== undefined, "the record stays");
    });

    it("Windows Server 2008 R2 (registry): an apply reports restartNeeded LanmanServer, and the host's sessions keep the old signing until the Server service restarts", () => {
      const state = newHostState("server-2008r2");
      const r = runShipped(state, { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", server: { RequireSecuritySignature: true } });
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      assert.equal(r.reply!.source, "registry");
      assert.deepEqual(r.reply!.restartNeeded, ["LanmanServer"]);
      const scanner = { direction: "inbound" as const, address: "10.0.4.17", signs: false };
      assert.equal(smbConnect(state, scanner).connected, true, "the running service still lets an unsigned client in");
      restartService(state, "server");
      assert.equal(smbConnect(state, scanner).connected, false);
      const again = runShipped(state, { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", server: { RequireSecuritySignature: true } });
      assert.deepEqual(again.reply!.restartNeeded, [], "nothing written, nothing to restart");
    });
  });

  it("runs smb-signing.ps1 in well under 10 ms once parsed", () => {
    const state = newHostState("win11-24h2-enterprise");
    runShipped(state, { operation: "read", ownerId: "", ownerLabel: "urn:r" });
    // The CPU time this process spent (not the wall clock: test files run in parallel, and waiting
    // for a core is not the interpreter's cost), median of 51 runs, so a garbage collection does not decide it.
    const times: number[] = [];
    for (let i = 0; i < 51; i++) {
      const t = process.cpuUsage();
      runShipped(state, { operation: "read", ownerId: "", ownerLabel: "urn:r", auditDays: 7 });
      const spent = process.cpuUsage(t);
      times.push((spent.user + spent.system) / 1000);
    }
    const ms = times.sort((a, b) => a - b)[25];
    assert.ok(ms < 10, `${ms.toFixed(2)} ms of CPU per run (median of 51)`);
  });
});
