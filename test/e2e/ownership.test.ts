// Ownership that cannot collide (issue 20), end to end through the real Pulumi CLI against
// simulated hosts. The record on a host names the resource that owns its SMB signing settings;
// two different Pulumi resources must never pass for one another: not two resources of the same
// name under two parents, not a dynamic and a plugin resource of the same name, not the same
// project, stack and name in two backends, not a rename without aliases. The refused one is
// refused before it writes anything, and says whose host it is (the owner's URN). Any name Pulumi
// accepts (non-ASCII, long) can own a host, and its record stays bounded.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SIM_PASSWORD, SimulatedFleet } from "../simhost/fleet";
import type { HostState } from "../simhost/model";
import { CliResult, PulumiProject, REPO_ROOT } from "./pulumiCli";
import { declarePolicies, type DeclaredPolicy, FRONTS, programStack, scriptStack, titleFor, TYPE_OF } from "./stacks";

/** Requires neither side: every declared value is a change, and a refused one shows as none. */
const PRESET = "win11-24h2-home";
/** The drift check the README gives, for a stack that must be converged. */
const NO_CHANGES = ["refresh", "--expect-no-changes", "--yes"];
const REFUSED = /owned by another resource/;

/** A name Pulumi accepts that is not ASCII, and one longer than the old owner rule allowed (400 characters). */
const NON_ASCII_NAME = "fs-Zürich";
const LONG_NAME = "fs-" + "x".repeat(397);

/** The first lines of a script stack's program: the connection of config `connection`, its password a secret. */
const PROGRAM_HEAD = [
  'const pulumi = require("@pulumi/pulumi");',
  'const { SmbSigningPolicy, smbsigning } = require("pulumi-smb-signing");',
  "const config = new pulumi.Config();",
  'const connection = { ...config.requireObject("connection"), password: config.requireSecret("password") };',
];

let fleet: SimulatedFleet;
let workRoot: string;

/** Sets a script stack's `connection` (plain) and `password` (secret) config for a simulated host. */
async function connectTo(p: PulumiProject, host: string): Promise<void> {
  const { password, ...connection } = fleet.connection(host);
  await p.setConfig("connection", JSON.stringify(connection));
  await p.setSecretConfig("password", String(password));
}

/** The URN the engine gives a resource of a script stack (project and stack share its name). */
function urnIn(p: PulumiProject, type: string, name: string): string {
  return `urn:pulumi:${p.stack}::${p.stack}::${type}::${name}`;
}

/** A CLI run that must fail; the assertion shows its output. */
async function fails(p: PulumiProject, args: string[]): Promise<CliResult> {
  const r = await p.run(args);
  assert.notEqual(r.code, 0, `pulumi ${args.join(" ")} was expected to fail, but exited 0:\n${r.output}`);
  return r;
}

/** A CLI run that must succeed (exit 0); the assertion shows its output. */
async function succeeds(p: PulumiProject, args: string[]): Promise<CliResult> {
  const r = await p.run(args);
  assert.equal(r.code, 0, `pulumi ${args.join(" ")} exited ${r.code}:\n${r.output}`);
  return r;
}

interface HostSnapshot {
  client: HostState["client"];
  server: HostState["server"];
  record?: string;
  writes: number;
  recordWrites: number;
}

/** What a refused operation must leave as it was: the settings, the record and the write counters. */
function hostSnapshot(s: HostState): HostSnapshot {
  return { client: s.client, server: s.server, record: s.record, writes: s.counters.writes, recordWrites: s.counters.recordWrites ?? 0 };
}

/** The host's record (HKLM:\SOFTWARE\pulumi-smb-signing) as JSON text and parsed. */
function recordOf(host: string): { text: string; parsed: { ownerLabel?: unknown; ownerId?: unknown } } {
  const text = fleet.state(host).record;
  assert.ok(text !== undefined, `${host} has no record`);
  return { text, parsed: JSON.parse(text) };
}

describe("ownership that cannot collide, through the pulumi CLI", () => {
  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-e2e-"));
    const hosts = ["sites", "fronts", "backends", "rename", ...FRONTS.flatMap((f) => [`names-a-${f}`, `names-b-${f}`])];
    fleet = await SimulatedFleet.start(hosts.map((name) => ({ name, preset: PRESET })));
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });

  it("the same name under two parents: the second resource is refused before it writes, naming the first's URN; without it the stack converges", async () => {
    const p = await scriptStack(workRoot, "sites", [
      ...PROGRAM_HEAD,
      'class SiteA extends pulumi.ComponentResource { constructor(name, opts) { super("test:index:SiteA", name, {}, opts); } }',
      'class SiteB extends pulumi.ComponentResource { constructor(name, opts) { super("test:index:SiteB", name, {}, opts); } }',
      'const fsA = new SmbSigningPolicy("fs", { connection, client: { requireSigning: true }, onDelete: "restore" }, { parent: new SiteA("site-a") });',
      'if (config.getBoolean("siteB") !== false) {',
      '  new SmbSigningPolicy("fs", { connection, server: { requireSigning: true }, onDelete: "restore" }, { parent: new SiteB("site-b"), dependsOn: [fsA] });',
      "}",
    ]);
    await connectTo(p, "sites");
    const ownerUrn = `urn:pulumi:sites::sites::test:index:SiteA$${TYPE_OF.dynamic}::fs`;

    const up = await fails(p, ["up", "--yes"]);
    assert.match(up.output, REFUSED, up.output);
    assert.ok(up.output.includes(ownerUrn), `the refusal names the owner's URN ${ownerUrn}:\n${up.output}`);
    const s = fleet.state("sites");
    assert.equal(s.client.RequireSecuritySignature, true, "site A's resource configured the host");
    assert.equal(s.server.RequireSecuritySignature, false, "site B's resource was refused before it wrote");

    await p.setConfig("siteB", "false");
    await succeeds(p, ["up", "--yes", "--skip-preview"]);
    await succeeds(p, NO_CHANGES);
    assert.equal(fleet.state("sites").client.RequireSecuritySignature, true, "site A's settings stay");
    assert.equal(fleet.state("sites").server.RequireSecuritySignature, false);
    await succeeds(p, ["destroy", "--yes", "--skip-preview"]);
  });

  it("a dynamic and a plugin resource of the same name on one host: the second is refused before it writes, naming the first's URN; without it the stack converges", async () => {
    const p = await scriptStack(
      workRoot,
      "fronts",
      [
        ...PROGRAM_HEAD,
        'const first = new SmbSigningPolicy("fs", { connection, client: { requireSigning: true }, onDelete: "restore" });',
        'if (config.getBoolean("second") !== false) {',
        '  new smbsigning.SmbSigningPolicy("fs", { connection, server: { requireSigning: true }, onDelete: "restore" }, { dependsOn: [first] });',
        "}",
      ],
      { plugin: true },
    );
    await connectTo(p, "fronts");
    const ownerUrn = urnIn(p, TYPE_OF.dynamic, "fs");

    const up = await fails(p, ["up", "--yes"]);
    assert.match(up.output, REFUSED, up.output);
    assert.ok(up.output.includes(ownerUrn), `the refusal names the owner's URN ${ownerUrn}:\n${up.output}`);
    assert.equal(fleet.state("fronts").client.RequireSecuritySignature, true, "the dynamic resource configured the host");
    assert.equal(fleet.state("fronts").server.RequireSecuritySignature, false, "the plugin resource was refused before it wrote");

    await p.setConfig("second", "false");
    await succeeds(p, ["up", "--yes", "--skip-preview"]);
    await succeeds(p, NO_CHANGES);
    assert.equal(fleet.state("fronts").client.RequireSecuritySignature, true);
    await succeeds(p, ["destroy", "--yes", "--skip-preview"]);
  });

  it("the same project, stack, program and resource name in two backends: the second is refused before it writes (it carries the same name), its destroy leaves the first's settings; takeOwnership takes the host over", async () => {
    // Two directories, each its own file backend (PulumiProject: PULUMI_BACKEND_URL=file://<dir>/.pulumi-state):
    // project smb-e2e-twin, stack test, resource "fs" in both.
    const first = await programStack(path.join(workRoot, "backend-1"), "twin", { password: SIM_PASSWORD });
    const second = await programStack(path.join(workRoot, "backend-2"), "twin", { password: SIM_PASSWORD });
    assert.notEqual(first.env.PULUMI_BACKEND_URL, second.env.PULUMI_BACKEND_URL);
    const declared: DeclaredPolicy = { name: "fs", host: "backends", client: { requireSigning: true } };
    declarePolicies(first, fleet, [declared]);
    // The second also declares the server side, so a write it should not make would show.
    declarePolicies(second, fleet, [{ ...declared, server: { requireSigning: true } }]);

    await succeeds(first, ["up", "--yes", "--skip-preview"]);
    const owned = hostSnapshot(fleet.state("backends"));
    const up = await fails(second, ["up", "--yes"]);
    assert.match(up.output, REFUSED, up.output);
    assert.match(up.output, /same name/i, up.output);
    assert.deepEqual(hostSnapshot(fleet.state("backends")), owned, "the refused stack changed the host");

    await succeeds(second, ["destroy", "--yes", "--skip-preview"]);
    assert.deepEqual(hostSnapshot(fleet.state("backends")), owned, "the refused stack's destroy changed the host");
    await succeeds(first, NO_CHANGES);

    declarePolicies(second, fleet, [{ ...declared, server: { requireSigning: true }, extra: { takeOwnership: true } }]);
    await succeeds(second, ["up", "--yes", "--skip-preview"]);
    assert.equal(fleet.state("backends").server.RequireSecuritySignature, true, "the stack that took the host over configured it");
    await succeeds(second, ["destroy", "--yes", "--skip-preview"]);
  });

  for (const front of FRONTS) {
    it(titleFor("names Pulumi accepts own a host: a non-ASCII name and a 400-character one; the record keeps the name and stays bounded", front), async () => {
      const p = await programStack(workRoot, `names-${front}`, { password: SIM_PASSWORD }, front);
      const [accented, long] = [`names-a-${front}`, `names-b-${front}`];
      declarePolicies(p, fleet, [
        { name: NON_ASCII_NAME, host: accented, client: { requireSigning: true } },
        { name: LONG_NAME, host: long, client: { requireSigning: true } },
      ]);
      await succeeds(p, ["preview"]);
      await succeeds(p, ["up", "--yes", "--skip-preview"]);
      await succeeds(p, NO_CHANGES);
      for (const host of [accented, long]) assert.equal(fleet.state(host).client.RequireSecuritySignature, true, `${host} configured`);

      const a = recordOf(accented);
      assert.equal(typeof a.parsed.ownerLabel, "string", a.text);
      assert.ok((a.parsed.ownerLabel as string).includes(NON_ASCII_NAME), `the record's ownerLabel keeps ${NON_ASCII_NAME}: ${a.text}`);
      const b = recordOf(long);
      assert.ok(b.text.length <= 4096, `the record of the long name is ${b.text.length} characters`);

      await succeeds(p, ["destroy", "--yes", "--skip-preview"]);
    });
  }

  it("a rename without aliases is refused before it writes, naming the old URN and pointing to aliases; with the alias the update writes nothing", async () => {
    const p = await scriptStack(workRoot, "rename", [
      ...PROGRAM_HEAD,
      'const name = config.get("name") ?? "fs";',
      'const aliases = config.getBoolean("aliased") ? [{ name: "fs" }] : undefined;',
      'new SmbSigningPolicy(name, { connection, client: { requireSigning: true }, onDelete: "restore" }, { aliases });',
    ]);
    await connectTo(p, "rename");
    await succeeds(p, ["up", "--yes", "--skip-preview"]);
    const owned = hostSnapshot(fleet.state("rename"));

    await p.setConfig("name", "fs2");
    const up = await fails(p, ["up", "--yes"]);
    assert.match(up.output, REFUSED, up.output);
    const oldUrn = urnIn(p, TYPE_OF.dynamic, "fs");
    assert.match(up.output, new RegExp(`${oldUrn.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}(?!2)`), `the refusal names the old URN ${oldUrn}:\n${up.output}`);
    assert.match(up.output, /aliases/, up.output);
    assert.deepEqual(hostSnapshot(fleet.state("rename")), owned, "the refused create changed the host");

    await p.setConfig("aliased", "true");
    await succeeds(p, ["up", "--yes", "--skip-preview"]);
    const s = fleet.state("rename");
    assert.equal(s.counters.writes, owned.writes, "the renamed resource wrote no setting");
    assert.equal(s.client.RequireSecuritySignature, true);
    await succeeds(p, NO_CHANGES);
    await succeeds(p, ["destroy", "--yes", "--skip-preview"]);
  });
});
