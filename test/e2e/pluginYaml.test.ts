// The provider plugin (bin/pulumi-resource-smbsigning) through the real CLI, from Pulumi YAML
// (the YAML host install.sh builds): examples/yaml as shipped, with the account and password as
// provider configuration; preview --diff, up, drift caught by refresh, destroy restoring the
// originals. And `pulumi import` of a host by id: the generated program declares what the host
// reports, and up with it changes nothing.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SIM_PASSWORD, SIM_ROTATION_USER, SIM_USER, SimulatedFleet } from "../simhost/fleet";
import { PulumiProject, REPO_ROOT } from "./pulumiCli";
import { PLUGIN_PROJECT_LINES, TYPE_OF } from "./stacks";

const TYPE = TYPE_OF.plugin;
const EXAMPLE = path.join(REPO_ROOT, "examples", "yaml", "Pulumi.yaml");

/** A YAML project in `dir`: this text, using this checkout's plugin, with the provider's account and password as configuration. */
async function yamlProject(dir: string, text: string): Promise<PulumiProject> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `${text.trimEnd()}\n${PLUGIN_PROJECT_LINES}`);
  const p = new PulumiProject(dir, "dev");
  await p.init();
  await p.setConfig("smbsigning:user", SIM_USER);
  await p.setSecretConfig("smbsigning:password", SIM_PASSWORD);
  return p;
}

/** The YAML host colours its own messages whatever NO_COLOR says. */
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");

describe("the provider plugin from a Pulumi YAML program (examples/yaml)", () => {
  let fleet: SimulatedFleet;
  let workRoot: string;
  let p: PulumiProject;
  const outputs: string[] = [];
  const run = async (args: string[]) => {
    const r = await p.run(args);
    outputs.push(r.output);
    return { ...r, output: plain(r.output) };
  };
  const ok = async (args: string[]) => {
    const r = await run(args);
    assert.equal(r.code, 0, r.output);
    return r;
  };

  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-yaml-"));
    fleet = await SimulatedFleet.start([
      { name: "fs01", preset: "server-2022" },
      { name: "fs02", preset: "win11-24h2-home" },
    ]);
    p = await yamlProject(path.join(workRoot, "example"), fs.readFileSync(EXAMPLE, "utf8"));
    for (const name of ["fs01", "fs02"]) {
      const h = fleet.host(name);
      await p.setConfig(`${name}Host`, h.address);
      await p.setConfig(`${name}HostKey`, h.hostKeyFingerprint);
      await p.setConfig("sshPort", String(h.port));
    }
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });

  it("preview --diff shows both creates with the consequences as the resources' info messages (nothing is known of the hosts yet to decide on), and contacts no host", async () => {
    const runs = fleet.state("fs01").counters.runs + fleet.state("fs02").counters.runs;
    const preview = await ok(["preview", "--diff"]);
    assert.match(preview.output, /\+ smbsigning:index:SmbSigningPolicy: \(create\)/);
    assert.match(preview.output, /requireSigning\s*: true/);
    const fs01 = fleet.host("fs01").address.replace(/\./g, "\\.");
    assert.match(preview.output, new RegExp(`\\n${fs01} \\(not read yet\\): 3 consequences:\\n  - client\\.requireSigning: true: .*0xc000a000 STATUS_INVALID_SIGNATURE`));
    assert.doesNotMatch(preview.output, /warning: /);
    assert.match(preview.output, /user\s*: "smbsim"/, "the configured account shows as the resource's input");
    assert.doesNotMatch(preview.output, /password/, "a lent password shows in the preview");
    assert.equal(fleet.state("fs01").counters.runs + fleet.state("fs02").counters.runs, runs);
  });

  it("up applies the declared settings; a second up changes nothing and writes nothing", async () => {
    const up = await ok(["up", "--yes"]);
    assert.match(up.output, /\+ 3 created/); // the stack and two policies (the default provider is not counted)
    assert.equal(fleet.state("fs01").client.RequireSecuritySignature, true);
    assert.equal(fleet.state("fs01").server.RequireSecuritySignature, true);
    assert.equal(fleet.state("fs02").client.RequireSecuritySignature, true);
    assert.equal(fleet.state("fs02").client.EnableInsecureGuestLogons, true, "fs02 does not manage guest logons");
    const writes = fleet.state("fs01").counters.writes;
    const again = await ok(["up", "--yes"]);
    assert.match(again.output, /3 unchanged/);
    assert.equal(fleet.state("fs01").counters.writes, writes);
    const observed = JSON.parse((await ok(["stack", "output", "fs01Observed", "--json"])).stdout);
    assert.equal(observed.server.requireSigning, true);
  });

  it("out-of-band drift: the drift gate (preview --refresh --expect-no-changes) exits 7 naming the value, twice; up --refresh puts it back", async () => {
    fleet.change("fs01", (s) => (s.server.RequireSecuritySignature = false));
    for (const attempt of [1, 2]) {
      const gate = await run(["preview", "--refresh", "--diff", "--expect-no-changes"]);
      assert.equal(gate.code, 7, `gate ${attempt}: ${gate.output}`);
      assert.match(gate.output, /requireSigning\s*: false => true/);
    }
    const up = await ok(["up", "--refresh", "--yes"]);
    assert.match(up.output, /~ 1 updated/);
    assert.equal(fleet.state("fs01").server.RequireSecuritySignature, true);
    await ok(["preview", "--refresh", "--expect-no-changes"]);
  });

  it("state: the password only in the provider's configuration, encrypted; no serialized code in any resource", async () => {
    const exported = await p.exportState();
    outputs.push(exported);
    const resources = JSON.parse(exported).deployment.resources as Array<{ type: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> }>;
    const policies = resources.filter((r) => r.type === TYPE);
    assert.equal(policies.length, 2);
    for (const r of policies) {
      assert.equal(r.inputs.__provider, undefined);
      assert.equal((r.inputs.connection as Record<string, unknown>).password, undefined, "a lent password was written into a resource");
      assert.equal((r.outputs.connection as Record<string, unknown>).password, undefined);
      assert.equal((r.inputs.connection as Record<string, unknown>).user, SIM_USER, "the configured account is the resource's checked input");
      console.log(`provider plugin: ${Buffer.byteLength(JSON.stringify(r))} bytes of state for ${r.type}`);
    }
    const provider = resources.find((r) => r.type === "pulumi:providers:smbsigning");
    assert.ok((provider?.inputs.password as { ciphertext?: string })?.ciphertext, "the configured password is not a secret in state");
    for (const text of outputs) assert.ok(!text.includes(SIM_PASSWORD), "a CLI output or the state holds the password");
  });

  it("destroy restores what fs01 had before the first up (onDelete: restore) and leaves fs02 (the default, retain) secured", async () => {
    const destroy = await ok(["destroy", "--yes"]);
    assert.match(destroy.output, /destroy put back the values this host had before/);
    assert.equal(fleet.state("fs01").client.RequireSecuritySignature, false);
    assert.equal(fleet.state("fs01").server.RequireSecuritySignature, false);
    assert.equal(fleet.state("fs01").record, undefined);
    assert.equal(fleet.state("fs02").client.RequireSecuritySignature, true);
  });
});

describe("pulumi import through the provider plugin", () => {
  let fleet: SimulatedFleet;
  let workRoot: string;

  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-import-"));
    fleet = await SimulatedFleet.start([
      { name: "imp1", preset: "server-2025" },
      { name: "imp2", preset: "win11-24h2-home" },
    ]);
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });

  const idOf = (name: string) => {
    const h = fleet.host(name);
    return `ssh://${h.address}:${h.port}?hostKey=${h.hostKeyFingerprint}`;
  };

  it("imports a host by id without writing; the generated YAML declares what it reports; up with it changes nothing; destroy writes nothing", async () => {
    const p = await yamlProject(path.join(workRoot, "secure"), "name: smb-import\nruntime: yaml\n");
    const imported = await p.ok(["import", TYPE, "imp1", idOf("imp1"), "--yes", "--protect=false", "--out", "generated.yaml"]);
    assert.match(plain(imported.output), /= 2 imported|1 imported|imported/);
    assert.equal(fleet.state("imp1").counters.writes, 0);
    const generated = fs.readFileSync(path.join(p.dir, "generated.yaml"), "utf8");
    // Server 2025 requires outbound signing and not inbound: both are what the host reports now.
    assert.match(generated, /type: smbsigning:(index:)?SmbSigningPolicy/);
    assert.match(generated, /requireSigning: true/);
    assert.match(generated, /hostKey: SHA256:/);
    assert.doesNotMatch(generated, /password|enableSigning|owner|resourceUrn/);
    fs.appendFileSync(path.join(p.dir, "Pulumi.yaml"), generated);
    const up = await p.ok(["up", "--yes", "--expect-no-changes"]);
    assert.match(plain(up.output), /unchanged/);
    assert.equal(fleet.state("imp1").counters.writes, 0);
    await p.ok(["refresh", "--yes", "--expect-no-changes"]);
    await p.ok(["destroy", "--yes", "--skip-preview"]);
    assert.equal(fleet.state("imp1").counters.writes, 0, "restoring the values the host had is no write");
    assert.equal(fleet.state("imp1").client.RequireSecuritySignature, true);
  });

  it("a host with insecure values: they are left unmanaged and named; no acknowledgement is generated", async () => {
    const p = await yamlProject(path.join(workRoot, "insecure"), "name: smb-import-insecure\nruntime: yaml\n");
    const imported = await p.ok(["import", TYPE, "imp2", idOf("imp2"), "--yes", "--protect=false", "--out", "generated.yaml"]);
    assert.match(plain(imported.output), /imported without managing client\.requireSigning=false, client\.enableInsecureGuestLogons=true, server\.requireSigning=false/);
    const generated = fs.readFileSync(path.join(p.dir, "generated.yaml"), "utf8");
    assert.doesNotMatch(generated, /acknowledgeInsecureSettings|requireSigning|enableInsecureGuestLogons/);
    fs.appendFileSync(path.join(p.dir, "Pulumi.yaml"), generated);
    await p.ok(["up", "--yes", "--expect-no-changes"]);
    await p.ok(["destroy", "--yes", "--skip-preview"]);
    assert.equal(fleet.state("imp2").counters.writes, 0);
  });

  it("a host another stack's resource owns is refused, naming the owner, without writing", async () => {
    const h = fleet.host("imp1");
    const owner = await yamlProject(
      path.join(workRoot, "owner"),
      `name: smb-owner\nruntime: yaml\nresources:\n  imp1:\n    type: ${TYPE}\n    properties:\n      connection: { host: "${h.address}", port: ${h.port}, hostKey: "${h.hostKeyFingerprint}" }\n      server: { auditClientDoesNotSupportSigning: true }\n`,
    );
    await owner.ok(["up", "--yes", "--skip-preview"]);
    const writes = fleet.state("imp1").counters.writes;
    const p = await yamlProject(path.join(workRoot, "taker"), "name: smb-taker\nruntime: yaml\n");
    const refused = await p.run(["import", TYPE, "imp1", idOf("imp1"), "--yes", "--protect=false"]);
    assert.notEqual(refused.code, 0);
    assert.match(plain(refused.output), /cannot import: the host's record names another owner: urn:pulumi:dev::smb-owner::smbsigning:index:SmbSigningPolicy::imp1 \(owner id [0-9a-f-]{36}, claimed /);
    assert.equal(fleet.state("imp1").counters.writes, writes);
    await owner.ok(["destroy", "--yes", "--skip-preview"]);
  });

  it("an id the plugin cannot read fails naming the form it takes, and contacts no host", async () => {
    const p = await yamlProject(path.join(workRoot, "bad"), "name: smb-import-bad\nruntime: yaml\n");
    const runs = fleet.state("imp1").counters.runs;
    const bad = await p.run(["import", TYPE, "imp1", `${fleet.host("imp1").address}?fingerprint=x`, "--yes"]);
    assert.notEqual(bad.code, 0);
    assert.match(plain(bad.output), /allowed after "\?": hostKey, certificateFingerprint/);
    assert.equal(fleet.state("imp1").counters.runs, runs);
  });
});

describe("the provider plugin's configuration through the CLI", () => {
  const FIRST = "Fleet-Rotation-0ne-71aa";
  const SECOND = "Fleet-Rotation-Tw0-92bb";
  let fleet: SimulatedFleet;
  let workRoot: string;
  let p: PulumiProject;

  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-pconfig-"));
    fleet = await SimulatedFleet.start([{ name: "cfg1", preset: "server-2022" }]);
    const h = fleet.host("cfg1");
    p = await yamlProject(
      path.join(workRoot, "rotation"),
      `name: smb-plugin-config\nruntime: yaml\nresources:\n  cfg1:\n    type: ${TYPE}\n    properties:\n      connection: { host: "${h.address}", port: ${h.port}, hostKey: "${h.hostKeyFingerprint}" }\n      server: { requireSigning: true }\n`,
    );
    await p.setConfig("smbsigning:user", SIM_ROTATION_USER);
    await p.setSecretConfig("smbsigning:password", FIRST);
    fleet.setPassword(SIM_ROTATION_USER, FIRST);
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });

  it("a fleet's password rotated in configuration: no policy changes; up records it, then refresh uses it; nothing is written", async () => {
    await p.ok(["up", "--yes", "--skip-preview"]);
    const writes = fleet.state("cfg1").counters.writes;
    fleet.setPassword(SIM_ROTATION_USER, SECOND);
    await p.setSecretConfig("smbsigning:password", SECOND);
    const preview = plain((await p.ok(["preview", "--diff"])).output);
    assert.doesNotMatch(preview, /~ smbsigning:index:SmbSigningPolicy/, "a configuration change showed as a change of the policy");
    // Refresh configures providers as the last deployment recorded them (the old password) until an up records the new one.
    const up = plain((await p.ok(["up", "--yes"])).output);
    assert.doesNotMatch(up, /~ +smbsigning:index:SmbSigningPolicy/);
    assert.equal(fleet.state("cfg1").counters.writes, writes);
    await p.ok(["refresh", "--yes", "--expect-no-changes"]);
    const state = await p.exportState();
    for (const secret of [FIRST, SECOND]) assert.ok(!state.includes(secret));
    await p.ok(["destroy", "--yes", "--skip-preview"]);
    assert.equal(fleet.state("cfg1").server.RequireSecuritySignature, true, "onDelete's default (retain) leaves the host secured");
    // A fresh host for the next tests (this one keeps the record of originals the destroy retained).
    fleet.reset("cfg1", "server-2022");
  });

  it("a value the resource would refuse, or a key the provider lacks, fails preview naming smbsigning:<key>, contacting no host", async () => {
    const runs = fleet.state("cfg1").counters.runs;
    await p.setConfig("smbsigning:commandTimeoutSeconds", "99999");
    const bad = await p.run(["preview"]);
    assert.notEqual(bad.code, 0);
    assert.match(plain(bad.output), /smbsigning:commandTimeoutSeconds must be a whole number of seconds from 1 to 3600/);
    await p.ok(["config", "rm", "smbsigning:commandTimeoutSeconds"]);
    await p.setConfig("smbsigning:hostKey", "SHA256:" + "A".repeat(43));
    const unknown = await p.run(["preview"]);
    assert.notEqual(unknown.code, 0);
    assert.match(plain(unknown.output), /smbsigning:hostKey is not a configuration key of this provider; allowed: transport, user, password/);
    await p.ok(["config", "rm", "smbsigning:hostKey"]);
    assert.equal(fleet.state("cfg1").counters.runs, runs);
  });

  it("a password a YAML program writes in plain text: a failing check does not print it, and state keeps it only as ciphertext", async () => {
    const h = fleet.host("cfg1");
    const plainPassword = "Plain-Yaml-Pa55-5e3d";
    fleet.setPassword(SIM_ROTATION_USER, plainPassword);
    const program = (port: number) =>
      `name: smb-plugin-plain\nruntime: yaml\nresources:\n  cfg1:\n    type: ${TYPE}\n    properties:\n      connection: { host: "${h.address}", port: ${port}, hostKey: "${h.hostKeyFingerprint}", user: ${SIM_ROTATION_USER}, password: "${plainPassword}" }\n      server: { requireSigning: true }\n${PLUGIN_PROJECT_LINES}`;
    const q = new PulumiProject(path.join(workRoot, "plain"), "dev");
    fs.writeFileSync(path.join(q.dir, "Pulumi.yaml"), program(70000));
    await q.init();
    const bad = await q.run(["preview"]);
    assert.notEqual(bad.code, 0);
    assert.match(plain(bad.output), /resource 'cfg1' has a problem: connection\.port must be an integer from 1 to 65535/);
    fs.writeFileSync(path.join(q.dir, "Pulumi.yaml"), program(h.port));
    const outputs = [bad.output, (await q.ok(["preview", "--diff"])).output, (await q.ok(["up", "--yes"])).output];
    const stored = JSON.parse(await q.exportState()).deployment.resources.find((r: { type: string }) => r.type === TYPE);
    assert.ok(stored.inputs.connection.password.ciphertext, "the password input is not a secret");
    assert.ok(stored.outputs.connection.password.ciphertext, "the password output is not a secret");
    outputs.push((await q.ok(["destroy", "--yes"])).output, await q.exportState());
    for (const text of outputs) assert.ok(!text.includes(plainPassword), "a CLI output or the state holds the password");
  });
});
