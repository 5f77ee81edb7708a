// `kill -9` of the Pulumi CLI (with its language host and provider) in the middle of up, of an
// update and of destroy, over SSH, and the recovery CLI v3.276.0 offers (cancel the stale lock,
// clear pending creates, run again): the hosts end exactly as they were installed, their
// originals taken from the record on the host even when the killed run never reported them.
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

/** After kill -9 the DIY backend's lock file stays; `pulumi cancel` is the way to remove it. */
async function expectLockedThenCancel(p: PulumiProject, hosts: string[]): Promise<void> {
  const runs = hosts.map((h) => fleet.state(h).counters.runs);
  const locked = await p.run(["up", "--yes"]);
  assert.notEqual(locked.code, 0);
  assert.match(locked.output, /the stack is currently locked by 1 lock\(s\)\. Either wait for the other process\(es\) to end or delete the lock file with `pulumi cancel`\./);
  assert.deepEqual(hosts.map((h) => fleet.state(h).counters.runs), runs, "a locked stack contacted a host");
  const cancel = await p.ok(["cancel", "--yes"]);
  assert.match(cancel.output, /The currently running update for 'test' has been canceled!/);
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
  await p.ok(["destroy", "--yes"]);
  for (const h of ["ka", "kb"]) assertAsInstalled(h);
}

const PENDING_CREATE_WARNING =
  /warning: Attempting to deploy or update resources with \d+ pending operations from previous deployment\.\n\s+\* urn:\S+::ka, interrupted while creating/;

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
    const killed = await stackResources(p);
    assert.deepEqual(killed.pending, ["creating ka", "creating kb"]);
    assert.equal(killed.policies.size, 0, "a create that never replied is not in the state");

    await expectLockedThenCancel(p, ["ka", "kb"]);
    await p.ok(["refresh", "--clear-pending-creates", "--yes"]);
    assert.deepEqual((await stackResources(p)).pending, []);

    const recovered = await refusedThenTakenOver(p, both);
    assert.match(recovered.output, /\+ 2 created/);
    assert.doesNotMatch(recovered.output, /pending operations/);
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
    await until("ka created and kb applied", up, () => /SmbSigningPolicy\s+ka\s+created/.test(up.output()) && applied("kb"));
    await killMidway(up);
    clearFaults("kb");
    const killed = await stackResources(p);
    assert.deepEqual(killed.pending, [], "no checkpoint: no pending operation either");
    assert.equal(killed.policies.size, 0, "no checkpoint: the create that finished is not in the state");

    await expectLockedThenCancel(p, ["ka", "kb"]);
    const recovered = await refusedThenTakenOver(p, both);
    assert.match(recovered.output, /\+ 2 created/, "both policies, as if for the first time (the refused up created the stack)");
    await assertAdoptedThenRestored(p);
  });

  it("killed during the first up: after cancel, up with takeOwnership adopts the record without clearing the pending create, which stays in the state, warned about on every up, until refresh --clear-pending-creates", async () => {
    const p = await project("create-plain-up");
    freshHost("ka", { slowReplyMs: SLOW_REPLY_MS });
    const ka = [{ host: "ka", client: { requireSigning: true } }];
    declare(p, ka);
    const up = p.start(["up", "--yes", "--skip-preview"]);
    await until("the host applied", up, () => fleet.state("ka").client.RequireSecuritySignature && hostRecord("ka") !== undefined);
    await killMidway(up);
    clearFaults("ka");
    await expectLockedThenCancel(p, ["ka"]);

    const first = await refusedThenTakenOver(p, ka);
    assert.match(first.output, /\+ 1 created/);
    assert.match(first.output, PENDING_CREATE_WARNING);
    assert.match(first.output, /Note that `pulumi refresh` will need to be run interactively to clear pending CREATE operations\./);
    const second = await p.ok(["up", "--yes"]);
    assert.match(second.output, /2 unchanged/);
    assert.match(second.output, PENDING_CREATE_WARNING);
    assert.deepEqual((await stackResources(p)).pending, ["creating ka"]);

    await p.ok(["refresh", "--clear-pending-creates", "--yes"]);
    const state = await stackResources(p);
    assert.deepEqual(state.pending, []);
    assert.deepEqual(state.policies.get("ka")?.outputs.originalSettings, { client: { requireSigning: false }, server: {} });
    assert.doesNotMatch((await p.ok(["up", "--yes"])).output, /pending operations/);
    assert.equal(fleet.state("ka").counters.writes, 1);
    assert.equal(fleet.state("ka").counters.recordWrites, 2, "the takeover names its owner id in the record, once");

    await p.ok(["destroy", "--yes"]);
    assertAsInstalled("ka");
  });

  it("killed during the first up: refresh --import-pending-creates (URN and id as two flags) imports nothing in CLI v3.276.0, and the next up with takeOwnership creates by adopting the record", async () => {
    const p = await project("create-import");
    freshHost("ka", { slowReplyMs: SLOW_REPLY_MS });
    const ka = [{ host: "ka", server: { requireSigning: true } }];
    declare(p, ka);
    const up = p.start(["up", "--yes", "--skip-preview"]);
    await until("the host applied", up, () => fleet.state("ka").server.RequireSecuritySignature && hostRecord("ka") !== undefined);
    await killMidway(up);
    clearFaults("ka");
    await expectLockedThenCancel(p, ["ka"]);

    const runs = fleet.state("ka").counters.runs;
    const id = fleet.host("ka").address;
    await p.ok(["refresh", "--yes", "--import-pending-creates", urn(p, "ka"), "--import-pending-creates", id]);
    // The CLI turns the pending create into a pending import, which the engine then drops
    // without reading the resource: nothing was imported, nothing is pending.
    const state = await stackResources(p);
    assert.deepEqual(state.pending, []);
    assert.equal(state.policies.size, 0);
    assert.equal(fleet.state("ka").counters.runs, runs, "the import read the host");

    const recovered = await refusedThenTakenOver(p, ka);
    assert.match(recovered.output, /\+ 1 created/);
    assert.deepEqual((await stackResources(p)).policies.get("ka")?.outputs.originalSettings, { client: {}, server: { requireSigning: false } });
    assert.equal(fleet.state("ka").counters.writes, 1);
    assert.equal(fleet.state("ka").counters.recordWrites, 2);

    await p.ok(["destroy", "--yes"]);
    assertAsInstalled("ka");
  });

  it("killed during an update that adds a newly managed setting: after cancel, up finishes it without applying again and keeps the setting's genuine original; destroy restores it", async () => {
    const p = await project("update");
    freshHost("ka");
    declare(p, [{ host: "ka", client: { requireSigning: true } }]);
    await p.ok(["up", "--yes"]);
    fleet.change("ka", (s) => (s.faults = { slowReplyMs: SLOW_REPLY_MS }));
    declare(p, [{ host: "ka", client: { requireSigning: true }, server: { requireSigning: true } }]);
    const up = p.start(["up", "--yes", "--skip-preview"]);
    await until("the host applied the new setting", up, () => fleet.state("ka").server.RequireSecuritySignature && hostRecord("ka")?.originals.server.RequireSecuritySignature !== undefined);
    await killMidway(up);
    clearFaults("ka");
    assert.equal(fleet.state("ka").counters.writes, 2);
    assert.equal(fleet.state("ka").counters.recordWrites, 2);
    assertRecordHoldsGenuineOriginals("ka", { client: ["RequireSecuritySignature"], server: ["RequireSecuritySignature"] });
    const killed = await stackResources(p);
    assert.deepEqual(killed.pending, ["updating ka"]);
    assert.deepEqual(killed.policies.get("ka")?.outputs.originalSettings, { client: { requireSigning: false }, server: {} }, "the state knows the new setting's original");

    await expectLockedThenCancel(p, ["ka"]);
    const recovered = await p.ok(["up", "--yes"]);
    assert.match(recovered.output, /~ 1 updated/);
    assert.match(recovered.output, /\* urn:\S+::ka, interrupted while updating/);
    const state = await stackResources(p);
    assert.deepEqual(state.pending, []);
    assert.deepEqual(state.policies.get("ka")?.outputs.originalSettings, { client: { requireSigning: false }, server: { requireSigning: false } });
    assert.equal(fleet.state("ka").counters.writes, 2, "the recovery applied again");
    assert.equal(fleet.state("ka").counters.recordWrites, 2, "the recovery rewrote the record");
    await p.ok(["refresh", "--expect-no-changes", "--yes"]);

    await p.ok(["destroy", "--yes"]);
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
    await p.ok(["up", "--yes"]);
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
    const killed = await stackResources(p);
    assert.deepEqual(killed.pending, ["deleting ka", "deleting kb"]);
    assert.equal(killed.policies.size, 2);
    const writes = { ka: fleet.state("ka").counters.writes, kb: fleet.state("kb").counters.writes };

    await expectLockedThenCancel(p, ["ka", "kb"]);
    const recovered = await p.ok(["destroy", "--yes"]);
    assert.match(recovered.output, /- 3 deleted/);
    assert.match(recovered.output, /\* urn:\S+::ka, interrupted while deleting/);
    assertAsInstalled("ka");
    assertAsInstalled("kb");
    assert.equal(fleet.state("ka").counters.writes, writes.ka, "ka was restored twice");
    assert.equal(fleet.state("kb").counters.writes, writes.kb + 1);
    assert.equal((await stackResources(p)).pending.length, 0);
  });
});
