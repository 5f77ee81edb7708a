// The sharded fleet example (examples/fleet-sharded) end to end through the real CLI: one
// inventory, two sites as two stacks run at once, each holding only its site's hosts; the
// shards script's drift results per site (exit 7 is drift) merged by its report, which fails
// when a site drifted, failed or left no result.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { SimulatedFleet } from "../simhost/fleet";
import { PulumiProject, REPO_ROOT } from "./pulumiCli";
import { shardedExampleStacks } from "./stacks";

const EXAMPLE = path.join(REPO_ROOT, "dist", "examples", "fleet-sharded");
const TYPE = "pulumi-nodejs:dynamic/smb:SmbSigningPolicy";
const yml = () => fs.readFileSync(path.join(REPO_ROOT, "examples", "fleet-sharded", "smb-signing-sharded.yml"), "utf8");

describe("the sharded fleet example through the CLI", () => {
  const HOSTS = [
    { name: "n-fs01", preset: "server-2025", edition: "server", site: "north" },
    { name: "n-ws01", preset: "win11-24h2-pro", edition: "workstation", site: "north" },
    { name: "s-fs01", preset: "server-2025", edition: "server", site: "south" },
    { name: "s-ws01", preset: "win11-24h2-home", edition: "workstation", site: "south" },
  ] as const;
  let fleet: SimulatedFleet;
  let dir: string;
  const stacks: Record<string, PulumiProject> = {};

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

  const policiesOf = async (site: string) =>
    (JSON.parse((await stacks[site].ok(["stack", "export", "--stack", site])).stdout).deployment.resources ?? []).filter((r: { type: string }) => r.type === TYPE)
      .map((r: { urn: string }) => r.urn.split("::").pop())
      .sort();

  before(async () => {
    fleet = await SimulatedFleet.start(HOSTS.map((h) => ({ name: h.name, preset: h.preset })));
    dir = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-sharded-"));
    Object.assign(stacks, await shardedExampleStacks(dir, fleet, [...HOSTS]));
  });
  after(async () => {
    await fleet?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the pipeline runs the shards script as these tests do: sites for the matrix, drift per site into one directory, report of it", () => {
    const calls = [...yml().matchAll(/npx ts-node shards\.ts ([^)"\n]*)/g)].map((m) => m[1].trim());
    assert.deepEqual(calls, ["sites", "drift ${{ matrix.site }} drift", "report drift"]);
    assert.match(yml(), /matrix:\n\s+site: \$\{\{ fromJson\(needs\.sites\.outputs\.sites\) \}\}/);
    assert.match(yml(), /report:\n\s+if: always\(\)/, "the report must run when a shard's job failed");
    assert.match(yml(), /PULUMI_SKIP_CHECKPOINTS: "true"/);
    assert.match(yml(), /NODE_OPTIONS: --max-semi-space-size=1/);
  });

  it("the sites of the inventory are the matrix", async () => {
    const r = await shards(["sites"]);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.output), ["north", "south"]);
  });

  it("both shards converge at once, each holding only its site's hosts", async () => {
    await Promise.all(["north", "south"].map((site) => stacks[site].ok(["up", "--yes", "--skip-preview", "--stack", site, "--parallel", "4"])));
    assert.deepEqual(await policiesOf("north"), ["n-fs01", "n-ws01"]);
    assert.deepEqual(await policiesOf("south"), ["s-fs01", "s-ws01"]);
    for (const h of HOSTS) {
      assert.equal(fleet.state(h.name).client.RequireSecuritySignature, true, h.name);
      assert.equal(fleet.state(h.name).server.RequireSecuritySignature, true, h.name);
    }
  });

  it("the drift report merges the shards: a clean site, a drifted one named with its host, exit 7", async () => {
    const results = path.join(dir, "drift");
    const clean = await shards(["drift", "north", results]);
    assert.equal(clean.code, 0, clean.output);
    const reportClean = await shards(["report", results]);
    assert.equal(reportClean.code, 1, "south has not reported yet: the report must not pass");
    assert.match(reportClean.output, /\| south \| no result/);

    fleet.change("s-ws01", (s) => (s.server.RequireSecuritySignature = false));
    const drifted = await shards(["drift", "south", results]);
    assert.equal(drifted.code, 7, drifted.output);
    // The gate writes nothing into the state: the next scheduled run alerts again.
    const again = await shards(["drift", "south", results]);
    assert.equal(again.code, 7, again.output);
    const south = JSON.parse(fs.readFileSync(path.join(results, "south.json"), "utf8"));
    assert.deepEqual({ status: south.status, drifted: south.drifted }, { status: "drift", drifted: ["s-ws01"] }, drifted.output);

    const report = await shards(["report", results]);
    assert.equal(report.code, 7, report.output);
    assert.match(report.output, /\| north \| clean \| +\|/);
    assert.match(report.output, /\| south \| drift \| s-ws01 \|/);
    assert.equal(fs.readFileSync(path.join(results, "drift-report.md"), "utf8"), report.output);
  });

  it("a shard whose CLI fails makes the report fail, not pass as clean", async () => {
    const results = path.join(dir, "drift-failed");
    assert.equal((await shards(["drift", "north", results])).code, 0);
    // The south stack's secrets cannot be decrypted with a wrong passphrase: its refresh fails.
    const saved = stacks.north.env.PULUMI_CONFIG_PASSPHRASE;
    stacks.north.env.PULUMI_CONFIG_PASSPHRASE = "wrong";
    const failed = await shards(["drift", "south", results]);
    stacks.north.env.PULUMI_CONFIG_PASSPHRASE = saved;
    assert.notEqual(failed.code, 0);
    assert.notEqual(failed.code, 7);
    const report = await shards(["report", results]);
    assert.equal(report.code, 1, report.output);
    assert.match(report.output, /\| south \| failed \(exit \d+\)/);
  });

  it("up --refresh puts the drifted host back, the gate passes, and both shards destroy (onDelete retain: the hosts keep signing)", async () => {
    assert.match(yml(), /run: pulumi up --refresh --yes/, "the pipeline converges with --refresh");
    await stacks.south.ok(["up", "--refresh", "--yes", "--skip-preview", "--stack", "south"]);
    assert.equal(fleet.state("s-ws01").server.RequireSecuritySignature, true);
    assert.equal((await shards(["drift", "south", path.join(dir, "drift-converged")])).code, 0);
    await Promise.all(["north", "south"].map((site) => stacks[site].ok(["destroy", "--yes", "--skip-preview", "--stack", site])));
    assert.deepEqual(await policiesOf("north"), []);
    assert.deepEqual(await policiesOf("south"), []);
    assert.equal(fleet.state("n-fs01").server.RequireSecuritySignature, true);
  });
});
