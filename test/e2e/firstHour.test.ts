// The traps a new user fell into in the first hour and in the pipeline (issue "The first hour and
// the pipeline"), each through the real Pulumi CLI against simulated hosts: a drift gate that
// keeps alerting while the drift persists and a converge command that converges; a warnings
// budget (at most one warning per resource per operation, none at up or refresh, a
// `consequences` output that a run changing nothing leaves alone); and a connection built from
// another resource's outputs, unknown in preview.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SIM_PASSWORD, SIM_USER, SimulatedFleet } from "../simhost/fleet";
import { CliResult, REPO_ROOT } from "./pulumiCli";
import { declarePolicies, fleetExampleStack, type Front, FRONTS, programStack, scriptStack, titleFor, TYPE_OF } from "./stacks";

let fleet: SimulatedFleet;
let workRoot: string;

/** The drift gate and the converge command the README and examples/pipeline give. */
const GATE = ["preview", "--refresh", "--expect-no-changes", "--diff"];
const CONVERGE = ["up", "--refresh", "--yes"];

/**
 * The warnings the CLI printed per resource name, in its Diagnostics blocks: each block opens with
 * "  <type> (<name>):" and each of its diagnostics with "    warning: " (a multi-line one goes on
 * in lines indented further, which are not counted again).
 */
export function warningsByResource(output: string): Map<string, number> {
  const counts = new Map<string, number>();
  let current: string | undefined;
  for (const line of output.split("\n")) {
    const head = /^ {2}(\S+) \((.+)\):$/.exec(line);
    if (head) {
      current = Object.values(TYPE_OF).includes(head[1]) ? head[2] : undefined;
      continue;
    }
    if (/^\S/.test(line)) current = undefined;
    if (current && /^ {4}warning: /.test(line)) counts.set(current, (counts.get(current) ?? 0) + 1);
  }
  return counts;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe("the first hour and the pipeline, through the pulumi CLI", () => {
  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-e2e-"));
    fleet = await SimulatedFleet.start([
      { name: "gate-dynamic", preset: "win11-24h2-home" },
      { name: "gate-plugin", preset: "win11-24h2-home" },
      { name: "ws-pro-01", preset: "win11-24h2-pro" },
      { name: "ws-home-02", preset: "win11-24h2-home" },
      { name: "srv-2025-03", preset: "server-2025" },
      { name: "vm", preset: "server-2025" },
    ]);
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });

  for (const front of FRONTS) {
    it(titleFor("the drift gate keeps alerting while a host stays drifted, writing nothing into the state; up --refresh converges, then the gate passes", front), async () => {
      const host = `gate-${front}`;
      const p = await programStack(workRoot, `gate-${front}`, { password: SIM_PASSWORD }, front as Front);
      declarePolicies(p, fleet, [{ name: "fs01", host, client: { requireSigning: true }, server: { requireSigning: true }, onDelete: "default" }]);
      await p.ok(["up", "--yes"]);
      assert.equal((await p.run(GATE)).code, 0, "no drift yet");

      fleet.change(host, (s) => (s.client.RequireSecuritySignature = false));
      const stateBefore = await p.exportState();
      for (const run of ["first", "second"]) {
        const gate = await p.run(GATE);
        assert.equal(gate.code, 7, `the ${run} gate run: exit 7 (drift), not ${gate.code}:\n${gate.output}`);
        assert.match(gate.output, /requireSigning/);
        // The engine asks diff at the refresh step and again at the update step: said once.
        const warnings = gate.output.split("\n").filter((l) => /^\s*warning: /.test(l));
        assert.ok(warnings.length <= 1, `the ${run} gate run warned ${warnings.length} times:\n${gate.output}`);
      }
      assert.equal(JSON.stringify(JSON.parse(await p.exportState()).deployment.resources.map((r: { outputs: unknown }) => r.outputs)), JSON.stringify(JSON.parse(stateBefore).deployment.resources.map((r: { outputs: unknown }) => r.outputs)), "the gate wrote nothing into the state");
      assert.equal(fleet.state(host).client.RequireSecuritySignature, false, "the gate changed nothing on the host");

      await p.ok(CONVERGE);
      assert.equal(fleet.state(host).client.RequireSecuritySignature, true, "up --refresh converged the host");
      assert.equal((await p.run(GATE)).code, 0, "the gate passes once converged");
      await p.ok(["destroy", "--yes"]);
      assert.equal(fleet.state(host).client.RequireSecuritySignature, true, "onDelete's default (retain) leaves the host secured");
    });
  }

  it("the warnings budget: the demo's fleet gets at most one warning per host in preview and destroy, none in up or refresh; consequences stay as they are on a run that changes nothing", async () => {
    const hosts = [
      { name: "ws-pro-01", edition: "workstation" },
      { name: "ws-home-02", edition: "workstation" },
      { name: "srv-2025-03", edition: "server" },
    ];
    const p = await fleetExampleStack(path.join(workRoot, "budget"), "budget", fleet, hosts);
    const counted: Record<string, Map<string, number>> = {};
    const run = async (name: string, args: string[]): Promise<CliResult> => {
      const r = await p.ok(args);
      counted[name] = warningsByResource(r.output);
      return r;
    };
    await run("preview", ["preview", "--diff"]);
    await run("up", ["up", "--yes", "--skip-preview"]);
    const outputs = await p.ok(["stack", "output", "--json"]);
    await run("refresh", ["refresh", "--yes", "--skip-preview"]);
    await run("up again", ["up", "--refresh", "--yes", "--skip-preview"]);
    assert.deepEqual(JSON.parse((await p.ok(["stack", "output", "--json"])).stdout), JSON.parse(outputs.stdout), "a run that changes nothing changes no stack output");
    await p.setConfig("onDelete", "restore");
    await run("up restore", ["up", "--yes", "--skip-preview"]);
    await run("destroy", ["destroy", "--yes", "--skip-preview"]);
    const report = Object.fromEntries(Object.entries(counted).map(([op, m]) => [op, Object.fromEntries(m)]));
    for (const [op, m] of Object.entries(counted)) {
      for (const [name, n] of m) assert.ok(n <= 1, `${op}: ${n} warnings on ${name}: ${JSON.stringify(report)}`);
    }
    for (const op of ["up", "refresh", "up again", "up restore"]) assert.equal(total(counted[op]), 0, `${op} warns of nothing: ${JSON.stringify(report)}`);
    // The Pro edition required both sides already; Home required neither and Server 2025 not inbound
    // signing: their destroy (onDelete restore) puts insecure values back, said once each.
    assert.deepEqual(Object.fromEntries(counted.destroy), { "ws-home-02": 1, "srv-2025-03": 1 }, JSON.stringify(report));
  });

  it("a connection built from another resource's outputs is unknown in preview: preview passes, and up configures the host the first resource provides", async () => {
    // A stand-in for a VM resource: a dynamic resource whose output (its address) is known only
    // once it is created, as a cloud VM's private IP is.
    const p = await scriptStack(workRoot, "composed", [
      'const pulumi = require("@pulumi/pulumi");',
      'const { SmbSigningPolicy } = require("pulumi-smb-signing");',
      "const config = new pulumi.Config();",
      "const vmProvider = {",
      '  async create(inputs) { return { id: "vm-1", outs: { privateIp: inputs.address } }; },',
      "};",
      'class Vm extends pulumi.dynamic.Resource { constructor(name, args) { super(vmProvider, name, { ...args, privateIp: undefined }, undefined, "test", "Vm"); } }',
      'const vm = new Vm("vm", { address: config.require("address") });',
      'new SmbSigningPolicy("vm-smb", {',
      '  connection: vm.privateIp.apply((ip) => ({ host: ip, port: config.requireNumber("port"), user: config.require("user"), password: config.requireSecret("password"), hostKey: config.require("hostKey") })),',
      "  client: vm.privateIp.apply(() => ({ requireSigning: true })),",
      "  server: { requireSigning: true },",
      "});",
    ]);
    const h = fleet.host("vm");
    await p.setConfig("address", h.address);
    await p.setConfig("port", String(h.port));
    await p.setConfig("user", SIM_USER);
    await p.setConfig("hostKey", h.hostKeyFingerprint);
    await p.setSecretConfig("password", SIM_PASSWORD);
    const preview = await p.run(["preview", "--diff"]);
    assert.equal(preview.code, 0, preview.output);
    assert.doesNotMatch(preview.output, /expected object|has a problem|Invalid input/);
    assert.equal(fleet.state("vm").counters.runs, 0, "preview contacted no host");
    const up = await p.ok(["up", "--yes", "--skip-preview"]);
    assert.ok(!up.output.includes(SIM_PASSWORD));
    assert.equal(fleet.state("vm").server.RequireSecuritySignature, true);
    const state = await p.exportState();
    assert.ok(!state.includes(SIM_PASSWORD), "the password is ciphertext in the state");
    const smb = JSON.parse(state).deployment.resources.find((r: { type: string }) => r.type === TYPE_OF.dynamic);
    assert.equal(smb.inputs.connection.host, h.address, "the host is plain, only the credentials are secret");
    await p.ok(["destroy", "--yes", "--skip-preview"]);
  });
});
