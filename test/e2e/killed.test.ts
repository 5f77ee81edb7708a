// `kill -9` of the Pulumi CLI (with its language host and provider) in the middle of up, of an
// update and of destroy, over SSH, and the recovery README.md (An interrupted run) gives: the
// hosts end exactly as they were installed, their originals taken from the record on the host
// even when the killed run never reported them.
// What is ours and what is the engine's: the assertions are on our behaviour only (what is on
// the hosts, what the state records of them, that nothing is applied twice or lost, that refresh,
// up and destroy work afterwards), never on the CLI's own messages. The engine's behaviour the
// recovery relies on (CLI v3.276.0: the file backend's lock outlives the kill and `pulumi cancel`
// removes it; a create cut off is a pending operation, not a resource; PULUMI_SKIP_CHECKPOINTS
// saves nothing until the end) is checked in the state where a scenario depends on it, each
// marked "Engine:", so that a CLI upgrade that changes it says which step of README.md's
// recipe to revisit rather than failing somewhere further on.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SIM_PASSWORD, SimulatedFleet } from "../simhost/fleet";
import { HostState, newHostState, PresetName } from "../simhost/model";
import { anyAlive, CliResult, PulumiProject, REPO_ROOT, RunningCli } from "./pulumiCli";
import { declarePolicies, programStack } from "./stacks";

const TYPE = "pulumi-nodejs:dynamic/smb:SmbSigningPolicy";
/** ka requires signing on neither side; kb (a member server) requires it as an SMB client only. */
const PRESETS: Record<string, PresetName> = { ka: "win11-24h2-home", kb: "server-2025" };
/** Long enough to notice the host applied and kill the CLI before the reply arrives. */
const SLOW_REPLY_MS = 5000;

let fleet: SimulatedFleet;
let workRoot: string;

const project = (name: string) => programStack(workRoot, name, { password: SIM_PASSWORD });

const declare = (p: PulumiProject, resources: Array<{ host: string; client?: object; server?: object }>, extra?: object) =>
  declarePolicies(p, fleet, resources.map((r) => ({ name: r.host, ...r, extra })));

/**
 * The recovery of a create that was killed after the host recorded it: Pulumi never saved the
 * resource, so its owner id is in no state and a plain up is refused, naming the resource's own
 * URN and the interrupted run (the provider cannot tell it from a stack of the same name in
 * another backend: domain/owner.ts); up with takeOwnership takes the records over.
 */
async function refusedThenTakenOver(p: PulumiProject, resources: Array<{ host: string; client?: object; server?: object }>): Promise<CliResult> {
  const writes = resources.map((r) => fleet.state(r.host).counters.writes);
  const refused = await p.run(["up", "--yes"]);
  assert.notEqual(refused.code, 0, refused.output);
  for (const r of resources) assert.ok(refused.output.includes(`owned by another resource: ${urn(p, r.host)}`), refused.output);
  assert.match(refused.output, /this resource's own name but another owner id[^]*interrupted[^]*set takeOwnership: true for one `up`/);
  assert.deepEqual(resources.map((r) => fleet.state(r.host).counters.writes), writes, "a refused create wrote to a host");
  declare(p, resources, { takeOwnership: true });
  return p.ok(["up", "--yes"]);
}

const urn = (p: PulumiProject, host: string) => `urn:pulumi:${p.stack}::smb-e2e-${path.basename(p.dir)}::${TYPE}::${host}`;

/** A freshly installed host, with these faults switched on. */
function freshHost(name: string, faults: HostState["faults"] = {}): void {
  fleet.reset(name, PRESETS[name]);
  fleet.change(name, (s) => (s.faults = faults));
}

function clearFaults(name: string): void {
  fleet.change(name, (s) => (s.faults = {}));
}

/** The host's record, parsed (undefined: none). */
function hostRecord(name: string): { owner: string; originals: { client: Record<string, boolean>; server: Record<string, boolean> } } | undefined {
  const text = fleet.state(name).record;
  return text === undefined ? undefined : JSON.parse(text);
}

/** The settings exactly as the preset installed them, and no record left behind. */
function assertAsInstalled(name: string): void {
  const installed = newHostState(PRESETS[name]);
  const now = fleet.state(name);
  assert.deepEqual(now.client, installed.client, `${name}: client settings differ from the preset`);
  assert.deepEqual(now.server, installed.server, `${name}: server settings differ from the preset`);
  assert.equal(now.record, undefined, `${name}: the record is still on the host`);
}

/** The record holds, for each named setting, the value the preset had: the genuine original. */
function assertRecordHoldsGenuineOriginals(name: string, settings: { client?: string[]; server?: string[] }): void {
  const installed = newHostState(PRESETS[name]);
  const record = hostRecord(name);
  assert.ok(record, `${name}: no record on the host`);
  for (const side of ["client", "server"] as const) {
    const expected = Object.fromEntries((settings[side] ?? []).map((s) => [s, installed[side][s]]));
    assert.deepEqual(record.originals[side], expected, `${name}: recorded ${side} originals`);
  }
}

async function stackResources(p: PulumiProject) {
  const deployment = JSON.parse(await p.exportState()).deployment;
  const pending: Array<{ type: string; resource: { urn: string } }> = deployment.pending_operations ?? [];
  return {
    pending: pending.map((o) => `${o.type} ${o.resource.urn.split("::").pop()}`).sort(),
    policies: new Map<string, { outputs: { originalSettings: unknown } }>(
      (deployment.resources ?? []).filter((r: { type: string }) => r.type === TYPE).map((r: { urn: string }) => [r.urn.split("::").pop(), r]),
    ),
  };
}

/** Polls the hosts until `done`; fails if the CLI ends first (it must still be working when killed). */
async function until(what: string, cli: RunningCli, done: () => boolean, timeoutMs = 60_000): Promise<void> {
  let ended: CliResult | undefined;
  void cli.finished.then((r) => (ended = r));
  for (const end = Date.now() + timeoutMs; !done(); ) {
    if (ended) assert.fail(`the CLI ended before ${what}:\n${ended.output}`);
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}:\n${cli.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Kills the CLI and everything it started, and checks that nothing of it survived. */
async function killMidway(cli: RunningCli): Promise<CliResult> {
  const pids = cli.killProcessTree();
  const result = await cli.finished;
  assert.equal(result.signal, "SIGKILL", result.output);
  for (const end = Date.now() + 5000; anyAlive(pids); ) {
    assert.ok(Date.now() < end, `processes ${pids.join(", ")} outlived SIGKILL`);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(pids.length >= 4, `killed only ${pids.length} processes: the CLI, language host, program and provider expected`);
  return result;
}

/**
 * Engine: after kill -9 the file backend's lock stays and the next run fails (README.md, An
 * interrupted run, step 2); `pulumi cancel` removes it. Ours: the refused run contacted no host.
 */
async function expectLockedThenCancel(p: PulumiProject, hosts: string[]): Promise<void> {
  const runs = hosts.map((h) => fleet.state(h).counters.runs);
  const locked = await p.run(["up", "--yes"]);
  assert.notEqual(locked.code, 0, `Engine: the killed run left no lock:\n${locked.output}`);
  assert.deepEqual(hosts.map((h) => fleet.state(h).counters.runs), runs, "a locked stack contacted a host");
  await p.ok(["cancel", "--yes"]);
}

/**
 * After a kill during the first up of ka and kb and a recovery: the state holds the hosts' genuine
 * originals, the recovery applied nothing again, a refresh finds nothing to change, and destroy
 * puts both hosts back as installed.
 */
async function assertAdoptedThenRestored(p: PulumiProject): Promise<void> {
  const state = await stackResources(p);
  assert.deepEqual(state.policies.get("ka")?.outputs.originalSettings, { client: { requireSigning: false }, server: { requireSigning: false } });
  assert.deepEqual(state.policies.get("kb")?.outputs.originalSettings, { client: { requireSigning: true }, server: { requireSigning: false } });
  for (const h of ["ka", "kb"]) {
    assert.equal(fleet.state(h).counters.writes, 1, `${h}: the recovery applied again`);
    assert.equal(fleet.state(h).counters.recordWrites, 2, `${h}: the takeover names its owner id in the record, once`);
  }
  await p.ok(["refresh", "--expect-no-changes", "--yes"]);
  await p.ok(["destroy", "--yes", "--skip-preview"]);
  for (const h of ["ka", "kb"]) assertAsInstalled(h);
}

describe("pulumi killed with kill -9 over ssh", () => {
  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-e2e-"));
    fleet = await SimulatedFleet.start(Object.entries(PRESETS).map(([name, preset]) => ({ name, preset })));
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });
  it("killed during the first up after the hosts applied: cancel, refresh --clear-pending-creates, then up is refused naming the interrupted run, and up with takeOwnership adopts the genuine originals from the hosts' records; destroy restores the presets", async () => {
    const p = await project("create");
    for (const h of ["ka", "kb"]) freshHost(h, { slowReplyMs: SLOW_REPLY_MS });
    const both = [
      { host: "ka", client: { requireSigning: true }, server: { requireSigning: true } },
      { host: "kb", client: { requireSigning: true }, server: { requireSigning: true } },
    ];
    declare(p, both);
    const up = p.start(["up", "--yes", "--skip-preview"]);
    const applied = (h: string) => fleet.state(h).server.RequireSecuritySignature && fleet.state(h).client.RequireSecuritySignature && hostRecord(h) !== undefined;
    await until("both hosts applied", up, () => applied("ka") && applied("kb"));
    await killMidway(up);
    for (const h of ["ka", "kb"]) {
      assert.equal(fleet.state(h).counters.writes, 1);
      assert.equal(fleet.state(h).counters.recordWrites, 1);
      assertRecordHoldsGenuineOriginals(h, { client: ["RequireSecuritySignature"], server: ["RequireSecuritySignature"] });
      clearFaults(h);
    }
    // Engine: a create that never replied is a pending operation, not a resource, so the owner id
    // the hosts recorded is in no state (why the next up is refused: README.md, step 3).
    const killed = await stackResources(p);
    assert.deepEqual({ pending: killed.pending, policies: killed.policies.size }, { pending: ["creating ka", "creating kb"], policies: 0 }, "Engine: the killed creates");

    await expectLockedThenCancel(p, ["ka", "kb"]);
    await p.ok(["refresh", "--clear-pending-creates", "--yes"]);

    await refusedThenTakenOver(p, both);
    await assertAdoptedThenRestored(p);
  });

  it("killed during an up with PULUMI_SKIP_CHECKPOINTS (README, Large fleets): the state is as before the run, even for a create that finished; after cancel, up is refused naming the interrupted run, and up with takeOwnership adopts both hosts' records; destroy restores the presets", async () => {
    const p = await project("create-skip-checkpoints");
    p.env = { ...p.env, PULUMI_SKIP_CHECKPOINTS: "true" };
    freshHost("ka");
    freshHost("kb", { slowReplyMs: SLOW_REPLY_MS });
    const both = [
      { host: "ka", client: { requireSigning: true }, server: { requireSigning: true } },
      { host: "kb", client: { requireSigning: true }, server: { requireSigning: true } },
    ];
    declare(p, both);
    const up = p.start(["up", "--yes", "--skip-preview"]);
    const applied = (h: string) => fleet.state(h).server.RequireSecuritySignature && fleet.state(h).client.RequireSecuritySignature && hostRecord(h) !== undefined;
    // (The CLI's line for ka's create is only when to kill: ka's reply has reached the engine.)
    await until("ka created and kb applied", up, () => /SmbSigningPolicy\s+ka\s+created/.test(up.output()) && applied("kb"));
    await killMidway(up);
    clearFaults("kb");
    // Engine: without checkpoints nothing of the run was saved, not even the create that finished
    // (README.md, Large fleets): both hosts' records name an owner id that is in no state.
    const killed = await stackResources(p);
    assert.deepEqual({ pending: killed.pending, policies: killed.policies.size }, { pending: [], policies: 0 }, "Engine: PULUMI_SKIP_CHECKPOINTS saved something");

    await expectLockedThenCancel(p, ["ka", "kb"]);
    await refusedThenTakenOver(p, both);
    await assertAdoptedThenRestored(p);
  });

  it("killed during the first up: after cancel, up with takeOwnership adopts the record while the pending create is still in the state, applies nothing twice, and a later refresh --clear-pending-creates keeps the genuine originals", async () => {
    const p = await project("create-plain-up");
    freshHost("ka", { slowReplyMs: SLOW_REPLY_MS });
    const ka = [{ host: "ka", client: { requireSigning: true } }];
    declare(p, ka);
    const up = p.start(["up", "--yes", "--skip-preview"]);
    await until("the host applied", up, () => fleet.state("ka").client.RequireSecuritySignature && hostRecord("ka") !== undefined);
    await killMidway(up);
    clearFaults("ka");
    await expectLockedThenCancel(p, ["ka"]);

    // Engine: up does not clear a pending create (only refresh --clear-pending-creates does), so
    // the takeover below runs with it still in the state.
    await refusedThenTakenOver(p, ka);
    assert.deepEqual((await stackResources(p)).pending, ["creating ka"], "Engine: up cleared the pending create");
    assert.deepEqual((await stackResources(p)).policies.get("ka")?.outputs.originalSettings, { client: { requireSigning: false }, server: {} });
    await p.ok(["up", "--yes", "--skip-preview"]);
    assert.equal(fleet.state("ka").counters.writes, 1, "an up after the takeover applied again");

    await p.ok(["refresh", "--clear-pending-creates", "--yes"]);
    assert.deepEqual((await stackResources(p)).policies.get("ka")?.outputs.originalSettings, { client: { requireSigning: false }, server: {} });
    await p.ok(["up", "--yes", "--skip-preview"]);
    assert.equal(fleet.state("ka").counters.writes, 1);
    assert.equal(fleet.state("ka").counters.recordWrites, 2, "the takeover names its owner id in the record, once");

    await p.ok(["destroy", "--yes", "--skip-preview"]);
    assertAsInstalled("ka");
  });

  it("killed during the first up: refresh --import-pending-creates (URN and id as two flags) neither writes to the host nor loses its record, and the next up with takeOwnership creates by adopting it", async () => {
    const p = await project("create-import");
    freshHost("ka", { slowReplyMs: SLOW_REPLY_MS });
    const ka = [{ host: "ka", server: { requireSigning: true } }];
    declare(p, ka);
    const up = p.start(["up", "--yes", "--skip-preview"]);
    await until("the host applied", up, () => fleet.state("ka").server.RequireSecuritySignature && hostRecord("ka") !== undefined);
    await killMidway(up);
    clearFaults("ka");
    await expectLockedThenCancel(p, ["ka"]);

    const id = fleet.host("ka").address;
    await p.ok(["refresh", "--yes", "--import-pending-creates", urn(p, "ka"), "--import-pending-creates", id]);
    assert.equal(fleet.state("ka").counters.writes, 1, "the refresh wrote to the host");
    assertRecordHoldsGenuineOriginals("ka", { server: ["RequireSecuritySignature"] });
    // Engine (CLI v3.276.0, as README.md, An interrupted run, says): the pending create becomes a
    // pending import, which the engine drops without reading the resource: nothing imported,
    // nothing pending, so the record's owner id is still in no state and up is refused. Should a
    // CLI import it, README.md's recipe and this test need revisiting.
    const state = await stackResources(p);
    assert.deepEqual({ pending: state.pending, policies: state.policies.size }, { pending: [], policies: 0 }, "Engine: --import-pending-creates imported");

    await refusedThenTakenOver(p, ka);
    assert.deepEqual((await stackResources(p)).policies.get("ka")?.outputs.originalSettings, { client: {}, server: { requireSigning: false } });
    assert.equal(fleet.state("ka").counters.writes, 1);
    assert.equal(fleet.state("ka").counters.recordWrites, 2);

    await p.ok(["destroy", "--yes", "--skip-preview"]);
    assertAsInstalled("ka");
  });

  it("killed during an update that adds a newly managed setting: after cancel, up finishes it without applying again and keeps the setting's genuine original; destroy restores it", async () => {
    const p = await project("update");
    freshHost("ka");
    declare(p, [{ host: "ka", client: { requireSigning: true } }]);
    await p.ok(["up", "--yes", "--skip-preview"]);
    fleet.change("ka", (s) => (s.faults = { slowReplyMs: SLOW_REPLY_MS }));
    declare(p, [{ host: "ka", client: { requireSigning: true }, server: { requireSigning: true } }]);
    const up = p.start(["up", "--yes", "--skip-preview"]);
    await until("the host applied the new setting", up, () => fleet.state("ka").server.RequireSecuritySignature && hostRecord("ka")?.originals.server.RequireSecuritySignature !== undefined);
    await killMidway(up);
    clearFaults("ka");
    assert.equal(fleet.state("ka").counters.writes, 2);
    assert.equal(fleet.state("ka").counters.recordWrites, 2);
    assertRecordHoldsGenuineOriginals("ka", { client: ["RequireSecuritySignature"], server: ["RequireSecuritySignature"] });
    // The state still holds the resource as before the update (Engine: the update cut off is a
    // pending operation on it); the new setting's original is only on the host.
    const killed = await stackResources(p);
    assert.deepEqual(killed.policies.get("ka")?.outputs.originalSettings, { client: { requireSigning: false }, server: {} });

    await expectLockedThenCancel(p, ["ka"]);
    await p.ok(["up", "--yes", "--skip-preview"]);
    const state = await stackResources(p);
    assert.deepEqual(state.pending, [], "the recovered update left a pending operation");
    assert.deepEqual(state.policies.get("ka")?.outputs.originalSettings, { client: { requireSigning: false }, server: { requireSigning: false } });
    assert.equal(fleet.state("ka").counters.writes, 2, "the recovery applied again");
    assert.equal(fleet.state("ka").counters.recordWrites, 2, "the recovery rewrote the record");
    await p.ok(["refresh", "--expect-no-changes", "--yes"]);

    await p.ok(["destroy", "--yes", "--skip-preview"]);
    assertAsInstalled("ka");
  });

  it("killed during destroy with one host restored and the other's restore not yet started: after cancel, the next destroy finishes both", async () => {
    const p = await project("destroy");
    freshHost("ka");
    freshHost("kb");
    declare(p, [
      { host: "ka", client: { requireSigning: true }, server: { requireSigning: true } },
      { host: "kb", server: { requireSigning: true } },
    ]);
    await p.ok(["up", "--yes", "--skip-preview"]);
    // ka restores and removes its record, then holds its reply; kb's PowerShell is still
    // starting when the client goes (and the host's job object ends the session).
    fleet.change("ka", (s) => (s.faults = { slowReplyMs: SLOW_REPLY_MS }));
    fleet.change("kb", (s) => (s.faults = { slowStartMs: 3 * SLOW_REPLY_MS }));
    const runsOfKb = fleet.state("kb").counters.runs;
    const destroy = p.start(["destroy", "--yes", "--skip-preview"]);
    await until("ka restored and kb's run started", destroy, () => hostRecord("ka") === undefined && fleet.state("kb").counters.runs > runsOfKb);
    await killMidway(destroy);
    clearFaults("ka");
    clearFaults("kb");
    assertAsInstalled("ka");
    assert.equal(fleet.state("kb").server.RequireSecuritySignature, true, "kb was restored before the kill");
    assertRecordHoldsGenuineOriginals("kb", { server: ["RequireSecuritySignature"] });
    // Nothing lost: both resources are still in the state (Engine: as pending deletes), so the next
    // destroy can finish them.
    const killed = await stackResources(p);
    assert.equal(killed.policies.size, 2);
    const writes = { ka: fleet.state("ka").counters.writes, kb: fleet.state("kb").counters.writes };

    await expectLockedThenCancel(p, ["ka", "kb"]);
    await p.ok(["destroy", "--yes", "--skip-preview"]);
    assertAsInstalled("ka");
    assertAsInstalled("kb");
    assert.equal(fleet.state("ka").counters.writes, writes.ka, "ka was restored twice");
    assert.equal(fleet.state("kb").counters.writes, writes.kb + 1);
    const destroyed = await stackResources(p);
    assert.deepEqual({ pending: destroyed.pending, policies: destroyed.policies.size }, { pending: [], policies: 0 });
  });
});
