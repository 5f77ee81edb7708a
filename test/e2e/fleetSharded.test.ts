// The sharded fleet example (examples/fleet-sharded) end to end through the real CLI, driven by
// its own pipeline (smb-signing-sharded.yml, run by workflow.ts as GitHub would run it): one
// inventory, the sites job's output as the matrix, a converge job per site run at once, each
// stack holding only its site's hosts and together every host exactly once; on a schedule a drift
// job per site (exit 7 is drift) whose results the report job merges, and which fails the run
// when a site drifted, failed or left no result.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { SimulatedFleet } from "../simhost/fleet";
import { PulumiProject, REPO_ROOT } from "./pulumiCli";
import { shardedExampleStacks } from "./stacks";
import { JobRun, WorkflowRunner } from "./workflow";

const EXAMPLE = path.join(REPO_ROOT, "dist", "examples", "fleet-sharded");
const TYPE = "pulumi-nodejs:dynamic/smb:SmbSigningPolicy";
const WORKFLOW = path.join(REPO_ROOT, "examples", "fleet-sharded", "smb-signing-sharded.yml");

/** A job's runs by matrix site, each as code and output. */
const bySite = (runs: JobRun[]) => Object.fromEntries(runs.map((r) => [r.matrix.site, { code: r.code, output: r.steps.map((s) => `$ ${s.step}\n${s.output}`).join("\n") }]));
const outputOf = (runs: JobRun[]) => runs.map((r) => r.steps.map((s) => `$ ${s.step}\n${s.output}`).join("\n")).join("\n");

describe("the sharded fleet example through its pipeline and the CLI", () => {
  const HOSTS = [
    { name: "n-fs01", preset: "server-2025", edition: "server", site: "north" },
    { name: "n-ws01", preset: "win11-24h2-pro", edition: "workstation", site: "north" },
    { name: "s-fs01", preset: "server-2025", edition: "server", site: "south" },
    { name: "s-ws01", preset: "win11-24h2-home", edition: "workstation", site: "south" },
  ] as const;
  let fleet: SimulatedFleet;
  let dir: string;
  let pipeline: WorkflowRunner;
  const stacks: Record<string, PulumiProject> = {};

  const policiesOf = async (site: string) =>
    (JSON.parse((await stacks[site].ok(["stack", "export", "--stack", site])).stdout).deployment.resources ?? []).filter((r: { type: string }) => r.type === TYPE)
      .map((r: { urn: string }) => r.urn.split("::").pop())
      .sort();

  before(async () => {
    fleet = await SimulatedFleet.start(HOSTS.map((h) => ({ name: h.name, preset: h.preset })));
    dir = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-sharded-"));
    Object.assign(stacks, await shardedExampleStacks(dir, fleet, [...HOSTS]));
    // Every stack shares the project's backend and passphrase: one CLI environment for all jobs.
    pipeline = new WorkflowRunner(WORKFLOW, dir, { "shards.ts": path.join(EXAMPLE, "shards.js") }, () => stacks.north.env);
  });
  after(async () => {
    await fleet?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("on main: the sites job's output is the matrix, and each site's converge job, all at once, converges exactly its site's hosts: together every host once", async () => {
    const run = await pipeline.run("push");
    assert.deepEqual(JSON.parse(run.sites[0].outputs.sites), ["north", "south"], outputOf(run.sites));
    assert.deepEqual({ drift: run.drift, report: run.report }, { drift: [], report: [] }, "a push ran the scheduled jobs");
    assert.deepEqual(Object.fromEntries(Object.entries(bySite(run.converge)).map(([site, r]) => [site, r.code])), { north: 0, south: 0 }, outputOf(run.converge));
    const held = { north: await policiesOf("north"), south: await policiesOf("south") };
    assert.deepEqual(held, { north: ["n-fs01", "n-ws01"], south: ["s-fs01", "s-ws01"] });
    assert.deepEqual([...held.north, ...held.south].sort(), HOSTS.map((h) => h.name).sort(), "the shards do not hold every host exactly once");
    for (const h of HOSTS) {
      assert.equal(fleet.state(h.name).client.RequireSecuritySignature, true, h.name);
      assert.equal(fleet.state(h.name).server.RequireSecuritySignature, true, h.name);
    }
  });

  it("on a schedule: a clean fleet passes every drift job and the report; a drifted host fails its site's job and the report (exit 7) names it, on every run until converged", async () => {
    const clean = await pipeline.run("schedule");
    assert.deepEqual(clean.converge, [], "a schedule ran the converge job");
    assert.deepEqual(Object.fromEntries(Object.entries(bySite(clean.drift)).map(([site, r]) => [site, r.code])), { north: 0, south: 0 }, outputOf(clean.drift));
    assert.equal(clean.report[0]?.code, 0, outputOf(clean.report));

    fleet.change("s-ws01", (s) => (s.server.RequireSecuritySignature = false));
    for (const attempt of ["first", "second"]) {
      // The gate writes nothing into the state: the next scheduled run alerts again.
      const drifted = await pipeline.run("schedule");
      const sites = bySite(drifted.drift);
      assert.equal(sites.north.code, 0, sites.north.output);
      assert.equal(sites.south.code, 7, `${attempt} run: ${sites.south.output}`);
      const [report] = drifted.report;
      assert.ok(report, "the report job did not run after a drift job failed");
      assert.equal(report.code, 7, outputOf(drifted.report));
      assert.match(report.summary, /\| north \| clean \| +\|/);
      assert.match(report.summary, /\| south \| drift \| s-ws01 \|/);
    }
  });

  it("on a schedule: a site whose CLI fails (its secret is wrong) fails the report, not passing as clean; a site without a result fails it too", async () => {
    const failed = await pipeline.run("schedule", (job, m) => (job === "drift" && m.site === "north" ? { PULUMI_CONFIG_PASSPHRASE: "wrong" } : {}));
    const north = bySite(failed.drift).north;
    assert.notEqual(north.code, 0, north.output);
    assert.notEqual(north.code, 7, north.output);
    const [report] = failed.report;
    assert.ok(report, "the report job did not run after a drift job failed");
    assert.equal(report.code, 1, outputOf(failed.report));
    assert.match(report.summary, /\| north \| failed \(exit \d+\)/);

    // A shard's job that never reported (cancelled, its runner lost): the report names it.
    const results = path.join(dir, "drift-partial");
    assert.equal((await shards(["drift", "south", results])).code, 7);
    const partial = await shards(["report", results]);
    assert.equal(partial.code, 1, partial.output);
    assert.match(partial.output, /\| north \| no result/);
  });

  it("on main again: the converge job (up --refresh) puts the drifted host back, the next schedule passes, and both shards destroy (onDelete retain: the hosts keep signing)", async () => {
    const converged = await pipeline.run("push");
    assert.deepEqual(Object.fromEntries(Object.entries(bySite(converged.converge)).map(([site, r]) => [site, r.code])), { north: 0, south: 0 }, outputOf(converged.converge));
    assert.equal(fleet.state("s-ws01").server.RequireSecuritySignature, true);
    const clean = await pipeline.run("schedule");
    assert.equal(clean.report[0]?.code, 0, outputOf(clean.drift) + outputOf(clean.report));
    await Promise.all(["north", "south"].map((site) => stacks[site].ok(["destroy", "--yes", "--skip-preview", "--stack", site])));
    assert.deepEqual(await policiesOf("north"), []);
    assert.deepEqual(await policiesOf("south"), []);
    assert.equal(fleet.state("n-fs01").server.RequireSecuritySignature, true);
  });

  /** The shards script (compiled) in the project's directory, with a stack's CLI environment. */
  const shards = (args: string[]) =>
    new Promise<{ code: number; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(EXAMPLE, "shards.js"), ...args], { cwd: dir, env: stacks.north.env });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, output }));
    });
});
