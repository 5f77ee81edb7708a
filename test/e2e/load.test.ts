// Load through the real Pulumi CLI: 200 SmbSigningPolicy resources, one per simulated host, at
// `--parallel 64` against sshd daemons that take few unauthenticated connections at a time
// (MaxStartups 3:50:10, 16 hosts per daemon). sshd refuses many connections; the provider's
// retries must carry every resource through up, refresh and destroy, none applied twice.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SIM_PASSWORD, SimulatedFleet } from "../simhost/fleet";
import { newHostState, PresetName } from "../simhost/model";
import { PulumiProject, REPO_ROOT } from "./pulumiCli";
import { declarePolicies, programStack } from "./stacks";

const HOSTS = 200;
const PARALLEL = "64";
/** Beyond 3 unauthenticated connections sshd drops half of the new ones, beyond 10 all of them. */
const MAX_STARTUPS = "3:50:10";
/** Presets on which the declared values below change at least one setting, so that each host is written once. */
const PRESETS: PresetName[] = ["win11-24h2-home", "server-2025", "win11-23h2-pro"];
/** sshd (LogLevel VERBOSE) for every connection it drops under MaxStartups, naming the host's address. */
const DROPPED = /drop connection #\d+ from \[[\d.]+\]:\d+ on \[([\d.]+)\]:\d+ past MaxStartups/g;

const hosts = Array.from({ length: HOSTS }, (_, i) => ({ name: `h${String(i).padStart(3, "0")}`, preset: PRESETS[i % PRESETS.length] }));
let fleet: SimulatedFleet;
let workRoot: string;
let p: PulumiProject;

/** Connections sshd refused so far, by the address of the host they were meant for. */
function refusedByHost(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of fleet.sshdLog().matchAll(DROPPED)) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  return counts;
}

function eachHost(check: (name: string, preset: PresetName) => void): void {
  for (const h of hosts) check(h.name, h.preset);
}

describe(`${HOSTS} hosts at --parallel ${PARALLEL} against sshd with MaxStartups ${MAX_STARTUPS}`, () => {
  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-e2e-"));
    fleet = await SimulatedFleet.start(hosts, { sharedDaemon: true, maxStartups: MAX_STARTUPS });
    p = await programStack(workRoot, "load", { password: SIM_PASSWORD });
    declarePolicies(p, fleet, hosts.map((h) => ({ name: h.name, host: h.name, client: { requireSigning: true }, server: { requireSigning: true } })));
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });
  /** Per command: connections refused in all, and the most refused for one host (its failed attempts). */
  const refused: Record<string, { total: number; worstHost: number }> = {};

  /** Runs one CLI command at the test's parallelism; prints its wall time and sshd's refusals. */
  async function timed(command: string, extra: string[] = []): Promise<string> {
    const before = refusedByHost();
    const t0 = Date.now();
    const r = await p.run([command, "--yes", "--skip-preview", "--parallel", PARALLEL, ...extra]);
    const seconds = (Date.now() - t0) / 1000;
    const during = [...refusedByHost()].map(([address, n]) => n - (before.get(address) ?? 0));
    refused[command] = { total: during.reduce((a, b) => a + b, 0), worstHost: Math.max(0, ...during) };
    console.log(
      `${command}: ${seconds.toFixed(1)} s wall; sshd (MaxStartups ${MAX_STARTUPS}) refused ${refused[command].total} connections, ` +
        `at most ${refused[command].worstHost} for one host (that many retries); exit ${r.code}`,
    );
    assert.equal(r.code, 0, r.output.slice(-6000));
    return r.output;
  }

  it("up applies every host exactly once, though sshd refuses many connections", async () => {
    const output = await timed("up");
    assert.match(output, new RegExp(`\\+ ${HOSTS + 1} created`));
    eachHost((name) => {
      const s = fleet.state(name);
      assert.equal(s.counters.runs, 1, `${name}: ${s.counters.runs} runs`);
      assert.equal(s.counters.writes, 1, `${name}: ${s.counters.writes} writes`);
      assert.equal(s.counters.recordWrites, 1, `${name}: ${s.counters.recordWrites} record writes`);
      assert.equal(s.client.RequireSecuritySignature, true);
      assert.equal(s.server.RequireSecuritySignature, true);
    });
    assert.ok(refused.up.total > 0, "sshd refused no connection: the test does not exercise the retries");
  });

  it("refresh --expect-no-changes finds nothing to change, reading each host once", async () => {
    await timed("refresh", ["--expect-no-changes"]);
    assert.ok(refused.refresh.total > 0, "sshd refused no connection: the test does not exercise the retries");
    eachHost((name) => {
      const s = fleet.state(name);
      assert.equal(s.counters.runs, 2, `${name}: ${s.counters.runs} runs`);
      assert.equal(s.counters.writes, 1, `${name}: ${s.counters.writes} writes`);
    });
  });

  it("destroy restores every host to its preset and removes every record", async () => {
    const output = await timed("destroy");
    assert.match(output, new RegExp(`- ${HOSTS + 1} deleted`));
    eachHost((name, preset) => {
      const s = fleet.state(name);
      const installed = newHostState(preset);
      assert.deepEqual(s.client, installed.client, `${name}: client`);
      assert.deepEqual(s.server, installed.server, `${name}: server`);
      assert.equal(s.record, undefined, `${name}: the record is left`);
      assert.equal(s.counters.runs, 3, `${name}: ${s.counters.runs} runs`);
      assert.equal(s.counters.recordWrites, 1, `${name}: ${s.counters.recordWrites} record writes`);
    });
    // Destroy is refused less, or not at all: the engine persists the state after every delete,
    // which holds it to a few operations at a time whatever --parallel says.
    const total = Object.values(refused).reduce((sum, r) => sum + r.total, 0);
    console.log(
      `faults injected / survived: ${total} / ${total} connections refused by sshd ` +
        `(up ${refused.up.total}, refresh ${refused.refresh.total}, destroy ${refused.destroy.total}); ${HOSTS * 3} operations, all succeeded`,
    );
  });
});
