// Hosts that half-work, through the provider's operations over SSH to simulated hosts: the Server
// service disabled (one side unreadable), a 32-bit PowerShell (WOW64), and Windows Server 2008 R2,
// whose registry writes may wait for a service restart.
import assert from "node:assert/strict";
import * as ops from "../../provider/operations";
import type { PolicyOutputs } from "../../provider/domain/policy";
import { Diagnostic, setDiagnosticSink } from "../../provider/engineLog";
import { SimulatedFleet } from "../simhost/fleet";
import { failure } from "./hostFailure";

describe("hosts that half-work (provider operations over SSH)", () => {
  const urnOf = (name: string) => `urn:pulumi:test::halfwork::pulumi-nodejs:dynamic/smb:SmbSigningPolicy::${name}`;
  let fleet: SimulatedFleet;
  const delivered: Diagnostic[] = [];
  before(async () => {
    fleet = await SimulatedFleet.start(
      [
        { name: "noserver", preset: "server-2022" },
        { name: "wow64", preset: "win10-22h2-pro" },
        { name: "old", preset: "server-2008r2" },
      ],
      {},
    );
    setDiagnosticSink((d) => void delivered.push(d));
  });
  after(async () => {
    setDiagnosticSink(undefined);
    await fleet?.stop();
  });

  async function inputs(name: string, rest: Record<string, unknown>) {
    const r = await ops.check({ existing: true }, { connection: fleet.connection(name, "password"), resourceUrn: urnOf(name), onDelete: "restore", ...rest });
    assert.deepEqual(r.failures, undefined, JSON.stringify(r.failures));
    return r.inputs as Record<string, unknown>;
  }

  it("LanmanServer disabled: a client-only resource is created, refreshed and destroyed, its outputs naming the unreadable server side; declaring a server setting fails before any write, naming the side, the cause and the fix", async () => {
    fleet.reset("noserver", "server-2022");
    fleet.change("noserver", (s) => (s.faults.stoppedServices = ["LanmanServer"]));
    const e = await failure(ops.create(await inputs("noserver", { client: { requireSigning: true }, server: { requireSigning: true } })));
    assert.equal(e.kind, "sideUnavailable");
    assert.match(e.message, /the server side of this host cannot be read.*Get-SmbServerConfiguration failed: The service has not been started\..*Start-Service -Name LanmanServer.*declare no server settings/);
    assert.equal(fleet.state("noserver").record, undefined);
    assert.equal(fleet.state("noserver").counters.writes, 0);

    const created = await ops.create(await inputs("noserver", { client: { requireSigning: true } }));
    const outs = created.outs as PolicyOutputs;
    assert.deepEqual(outs.unavailableSides, { server: "The service has not been started. (Windows System Error 1062,Get-SmbServerConfiguration)" });
    assert.equal(outs.observed.client.requireSigning, true);
    assert.equal(fleet.state("noserver").client.RequireSecuritySignature, true);

    const refreshed = await ops.read(created.id, outs);
    assert.deepEqual((refreshed.props as PolicyOutputs).unavailableSides, outs.unavailableSides);
    assert.deepEqual(refreshed.inputs?.client, { requireSigning: true });

    await ops.delete(created.id, outs);
    assert.equal(fleet.state("noserver").client.RequireSecuritySignature, false);
    assert.equal(fleet.state("noserver").record, undefined);
  });

  it("LanmanServer disabled after the server side was declared: destroy with onDelete restore fails naming the side and its cause, and keeps the originals on the host", async () => {
    fleet.reset("noserver", "server-2022");
    const created = await ops.create(await inputs("noserver", { server: { requireSigning: true } }));
    fleet.change("noserver", (s) => (s.faults.stoppedServices = ["LanmanServer"]));
    const e = await failure(ops.delete(created.id, created.outs as PolicyOutputs));
    assert.equal(e.kind, "sideUnavailable");
    assert.match(e.message, /could not restore the originals: the server side cannot be read \(The service has not been started\..*start the Server \(LanmanServer\) service/);
    assert.ok(fleet.state("noserver").record !== undefined);
  });

  it("a 32-bit PowerShell (WOW64): hostFacts says so, and the record it writes is the one a later 64-bit run restores from", async () => {
    fleet.reset("wow64", "win10-22h2-pro");
    fleet.change("wow64", (s) => (s.process32 = true));
    const created = await ops.create(await inputs("wow64", { server: { requireSigning: true } }));
    const outs = created.outs as PolicyOutputs;
    assert.deepEqual([outs.hostFacts.processBits, outs.hostFacts.osBits], [32, 64]);
    fleet.change("wow64", (s) => (s.process32 = false));
    // State that lost its originals (as after a create whose reply never arrived): the host's record has them.
    await ops.delete(created.id, { ...outs, originalSettings: { client: {}, server: {} } });
    assert.equal(fleet.state("wow64").server.RequireSecuritySignature, false);
    assert.equal(fleet.state("wow64").record, undefined);
  });

  it("Windows Server 2008 R2: an apply that writes the registry warns once that the Server service may need a restart, and restartNeeded says so until the resource goes", async () => {
    fleet.reset("old", "server-2008r2");
    delivered.splice(0);
    const created = await ops.create(await inputs("old", { server: { requireSigning: true } }));
    const outs = created.outs as PolicyOutputs;
    assert.deepEqual(outs.restartNeeded, ["LanmanServer"]);
    const warnings = delivered.splice(0).filter((d) => d.severity === "warning");
    assert.equal(warnings.length, 1, warnings.map((w) => w.message).join("\n"));
    assert.match(warnings[0].message, /restart of LanmanServer .*may be needed before they take effect/);
    assert.equal(warnings[0].urn, urnOf("old"));
    // The host's sessions keep the old behaviour until the service restarts (the harsher case).
    const scanner = { direction: "inbound" as const, address: "10.0.4.17", signs: false };
    assert.equal(fleet.smbSession("old", scanner).connected, true);
    const updated = await ops.update(created.id, outs, await inputs("old", { server: { requireSigning: true } }));
    assert.deepEqual((updated.outs as PolicyOutputs).restartNeeded, ["LanmanServer"]);
    assert.equal(delivered.splice(0).filter((d) => d.severity === "warning").length, 0, "nothing written, no new warning");
    fleet.reboot("old");
    assert.equal(fleet.smbSession("old", scanner).connected, false);
  });
});
