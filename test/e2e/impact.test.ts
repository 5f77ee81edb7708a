// Impact through the real Pulumi CLI against simulated hosts: `pulumi preview` shows the
// consequences of a change on the resource, one warning for what asks for a decision and info
// for the rest (sent by the provider process through the engine), the fleet example's audit-then-enforce rollout names the clients that did not sign
// before enforcing, and destroy says when it puts insecure values back.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SIM_PASSWORD, SimulatedFleet } from "../simhost/fleet";
import { GUEST_ACCESS_BLOCKED, SIGNING_REQUIRED_REFUSED, STATUS_INVALID_SIGNATURE } from "../simhost/model";
import { PulumiProject, REPO_ROOT } from "./pulumiCli";
import { declarePolicies, fleetExampleStack, programStack, scriptStack } from "./stacks";

const TYPE = "pulumi-nodejs:dynamic/smb:SmbSigningPolicy";
let fleet: SimulatedFleet;
let workRoot: string;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The Diagnostics block the CLI prints for one resource: its warnings, one per line. */
function diagnosticsOf(output: string, type: string, name: string): string {
  const start = output.indexOf(`\n  ${type} (${name}):\n`);
  if (start < 0) return "";
  const rest = output.slice(start + 1).split("\n").slice(1);
  const end = rest.findIndex((l) => /^\S/.test(l) || /^ {2}\S/.test(l));
  return rest.slice(0, end < 0 ? undefined : end).join("\n");
}

async function stateOutputs(p: PulumiProject, name: string): Promise<Record<string, unknown>> {
  const resources = JSON.parse(await p.exportState()).deployment.resources as Array<{ type: string; urn: string; outputs: Record<string, unknown> }>;
  const found = resources.find((r) => r.type === TYPE && r.urn.endsWith(`::${name}`));
  assert.ok(found, `no ${name} in the state`);
  return found.outputs;
}

describe("impact through the pulumi CLI", () => {
  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-e2e-"));
    fleet = await SimulatedFleet.start([
      { name: "home", preset: "win11-24h2-home" },
      { name: "srv25", preset: "server-2025" },
    ]);
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });
  it("a fact the design rests on: pulumi.log.warn inside a dynamic provider's diff is no warning of the resource (no engine connection there), the engine's Log with the resource's URN is", async () => {
    const dir = path.join(workRoot, "log-fact");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: log-fact\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n");
    const send = path.join(REPO_ROOT, "dist", "provider", "engineLog.js");
    fs.writeFileSync(
      path.join(dir, "index.js"),
      [
        'const pulumi = require("@pulumi/pulumi");',
        "const provider = {",
        "  async diff(id, olds, news) {",
        '    await require("@pulumi/pulumi").log.warn("through pulumi.log.warn");',
        `    await require(${JSON.stringify(send)}).warn("through the engine", news.resourceUrn);`,
        "    return { changes: olds.v !== news.v };",
        "  },",
        '  async create(inputs) { return { id: "x", outs: inputs }; },',
        "  async update(id, olds, news) { return { outs: news }; },",
        "};",
        'const urn = pulumi.createUrn("probe", "pulumi-nodejs:dynamic:Resource");',
        'new pulumi.dynamic.Resource(provider, "probe", { v: process.env.PROBE_V || "1", resourceUrn: new Promise((r) => urn.apply(r)) });',
        "",
      ].join("\n"),
    );
    const p = new PulumiProject(dir, "fact");
    await p.init();
    p.env.PROBE_V = "1";
    await p.ok(["up", "--yes", "--skip-preview"]);
    p.env.PROBE_V = "2";
    const preview = await p.ok(["preview"]);
    const resource = diagnosticsOf(preview.output, "pulumi-nodejs:dynamic:Resource", "probe");
    assert.match(resource, /warning: through the engine/);
    assert.doesNotMatch(resource, /through pulumi\.log\.warn/);
    // It lands on stderr instead, which the CLI shows as an info message of the stack.
    assert.match(diagnosticsOf(preview.output, "pulumi:pulumi:Stack", "log-fact-fact"), /warning: \[runtime\] through pulumi\.log\.warn/);
  });

  it("pulumi preview warns, on the resource, that requiring client signing breaks unsigned servers and the guest access the host has on unmanaged; up and destroy do as said", async () => {
    fleet.reset("home", "win11-24h2-home");
    const p = await programStack(workRoot, "impact-guest", { password: SIM_PASSWORD });
    declarePolicies(p, fleet, [{ name: "home", host: "home", server: { auditClientDoesNotSupportSigning: true } }]);
    await p.ok(["up", "--yes", "--skip-preview"]);
    assert.deepEqual((await stateOutputs(p, "home")).consequences, [
      "server.auditClientDoesNotSupportSigning: true: SMB clients that do not sign are logged in Microsoft-Windows-SMBServer/Audit; nothing is refused",
    ]);
    const writes = fleet.state("home").counters.writes;

    declarePolicies(p, fleet, [{ name: "home", host: "home", client: { requireSigning: true }, server: { auditClientDoesNotSupportSigning: true } }]);
    const preview = await p.ok(["preview"]);
    const host = escape(fleet.host("home").address);
    // One warning, holding what asks for a decision (who would be unreachable is unknown: the
    // client audit is off; guest access goes); what follows for certain is information.
    const invalidSignature = `\\n {4}${host}: client\\.requireSigning: true: SMB servers that do not sign \\(many NAS and printers\\) will fail with 0xc000a000 STATUS_INVALID_SIGNATURE`;
    const guest = `\\n {6}- client\\.requireSigning: true: guest access, currently enabled on this host \\(EnableInsecureGuestLogons=true, not managed by this resource\\), will be blocked \\(0x80070035, System error 3227320323\\)`;
    // In the resource's own Diagnostics block, not as a stack message.
    const block = diagnosticsOf(preview.output, TYPE, "home");
    assert.equal(block.match(/warning: /g)?.length, 1, block);
    assert.match(block, new RegExp(`warning: ${host}: 2 consequences to decide on before this change:\\n {6}- this host does not log servers that do not sign`));
    assert.match("\n" + block, new RegExp(invalidSignature));
    assert.match(block, new RegExp(guest));
    assert.doesNotMatch(preview.output, /\[runtime\]|could not deliver/);
    assert.equal(fleet.state("home").counters.writes, writes, "preview changed nothing on the host");

    await p.ok(["up", "--yes", "--skip-preview"]);
    assert.equal(fleet.smbSession("home", { direction: "outbound", address: "10.0.9.5", signs: false }).error, STATUS_INVALID_SIGNATURE);
    assert.equal(fleet.smbSession("home", { direction: "outbound", address: "10.0.9.6", signs: false, guestOnly: true }).error, GUEST_ACCESS_BLOCKED);

    const destroy = await p.ok(["destroy", "--yes"]);
    assert.match(
      diagnosticsOf(destroy.output, TYPE, "home"),
      new RegExp(`warning: ${host}: destroy put back the values this host had before this resource changed them \\(onDelete: "restore"\\): client\\.requireSigning=false: unsigned SMB traffic`),
    );
    assert.equal(fleet.state("home").client.RequireSecuritySignature, false);
    assert.ok(!(preview.output + destroy.output).includes(SIM_PASSWORD));
  });

  it("the warnings land on a resource nested two components deep (its resourceUrn is the URN the engine gives it)", async () => {
    fleet.reset("home", "win11-24h2-home");
    const p = await scriptStack(workRoot, "nested", [
      'const pulumi = require("@pulumi/pulumi");',
      'const { SmbSigningPolicy } = require("pulumi-smb-signing");',
      "class Rack extends pulumi.ComponentResource {",
      '  constructor(name, opts) { super("corp:infra:Rack", name, {}, opts); }',
      "}",
      "const config = new pulumi.Config();",
      'const inner = new Rack("rack-1a", { parent: new Rack("rack-1") });',
      'const connection = { ...config.requireObject("connection"), password: config.requireSecret("password") };',
      'new SmbSigningPolicy("home", { connection, ...config.requireObject("settings") }, { parent: inner });',
    ]);
    const { password, ...connection } = fleet.connection("home");
    await p.setConfig("connection", JSON.stringify(connection));
    await p.setSecretConfig("password", String(password));
    await p.setConfig("settings", JSON.stringify({ server: { auditClientDoesNotSupportSigning: true } }));
    await p.ok(["up", "--yes", "--skip-preview"]);
    await p.setConfig("settings", JSON.stringify({ client: { requireSigning: true }, server: { auditClientDoesNotSupportSigning: true } }));
    const preview = await p.ok(["preview"]);
    const block = diagnosticsOf(preview.output, TYPE, "home");
    assert.match(block, /: client\.requireSigning: true: SMB servers that do not sign/);
    assert.match(block, /warning: .*: 2 consequences to decide on before this change:/);
    // On the resource's own row: with another URN the engine would show a second, phantom
    // resource of the same name carrying the warnings, and this row none.
    assert.match(preview.output, new RegExp(`^ ~ +${escape(TYPE)} home update \\[diff: [^\\]]*\\]; warning: `, "m"));
    await p.ok(["destroy", "--yes", "--skip-preview"]);
  });

  it("the fleet example audits first, then enforces: pulumi preview --refresh names the clients its audit log saw not signing, and up then refuses them", async () => {
    fleet.reset("srv25", "server-2025");
    const p = await fleetExampleStack(path.join(workRoot, "fleet"), "rollout", fleet, [{ name: "srv25", edition: "server" }], { compiled: true });

    await p.setConfig("stage", "audit");
    await p.ok(["up", "--yes", "--skip-preview"]);
    assert.equal(fleet.state("srv25").server.AuditClientDoesNotSupportSigning, true);
    assert.equal(fleet.state("srv25").server.RequireSecuritySignature, false, "the audit stage refuses nobody");
    // A week on the network: three clients that cannot sign, one that can.
    for (const address of ["10.0.4.17", "10.0.4.30", "10.0.4.18", "10.0.4.17"]) {
      assert.equal(fleet.smbSession("srv25", { direction: "inbound", address, signs: false }).connected, true);
    }
    fleet.smbSession("srv25", { direction: "inbound", address: "10.0.4.5", signs: true });

    await p.setConfig("stage", "enforce");
    const preview = await p.ok(["preview", "--refresh"]);
    const block = diagnosticsOf(preview.output, TYPE, "srv25");
    const host = escape(fleet.host("srv25").address);
    assert.equal(block.match(/warning: /g)?.length, 1, block);
    assert.match("\n" + block, new RegExp(`\\n {4}${host}: server\\.requireSigning: true: SMB clients that do not sign will be refused by this host`));
    assert.match(block, new RegExp(`warning: ${host}: 3 clients in the last 7 days connected without signing: 10\\.0\\.4\\.17, 10\\.0\\.4\\.18, 10\\.0\\.4\\.30 \\(Microsoft-Windows-SMBServer/Audit, event 3021, read `));
    assert.equal(fleet.state("srv25").server.RequireSecuritySignature, false, "preview enforced nothing");

    await p.ok(["up", "--yes", "--skip-preview"]);
    assert.equal(fleet.smbSession("srv25", { direction: "inbound", address: "10.0.4.17", signs: false }).error, SIGNING_REQUIRED_REFUSED);
    // The consequences output says what the settings do; who the log saw is the readiness output's.
    const outputs = await stateOutputs(p, "srv25");
    const consequences = outputs.consequences as string[];
    assert.ok(consequences.includes("server.requireSigning: true: SMB clients that do not sign are refused by this host"), consequences.join("\n"));
    assert.ok(!consequences.some((c) => /10\.0\.4\.|connected without signing/.test(c)), consequences.join("\n"));
    const readiness = outputs.readiness as { server: { peers: Array<{ peer: string }> } };
    assert.deepEqual(readiness.server.peers.map((x) => x.peer), ["10.0.4.17", "10.0.4.18", "10.0.4.30"]);
    await p.ok(["destroy", "--yes", "--skip-preview"]);
    assert.equal(fleet.state("srv25").server.RequireSecuritySignature, true, "onDelete's default (retain) leaves the host secured");
  });
});
