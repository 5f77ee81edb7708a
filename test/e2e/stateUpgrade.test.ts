// State written by earlier versions, end to end through the real Pulumi CLI (issue 24): recorded
// stack files of the older shapes (test/fixtures/state/, see its README) are imported into a stack
// of each front end (the dynamic resource through a JavaScript program, the provider plugin
// through a Pulumi YAML project), over simulated hosts left as those versions left them (their
// settings applied, their record of the first format or none). Each resource takes one of two
// paths: "kept" ones are refreshed, then left alone by an up (their declaration is unchanged), then
// destroyed; "up" ones are updated straight from the old state (an up that declares one setting
// more, with no refresh first), then destroyed. What must hold: refresh reads without writing and
// leaves nothing that the next up would call a change (no false drift); an update gives the
// resource an owner id and the host a record of the current format that keeps the originals the
// old version recorded; destroy puts every host back to its originals and removes the record.
//
// Which code runs: the dynamic-provider runtime runs the provider serialized in a resource's
// state (`__provider`) for read and delete, and the program's for diff and update. So the
// refresh and destroy of the "kept" dynamic resources run the provider their older version
// serialized (kept in the fixture, providers/<commit>.js), which calls today's operations.js by
// the names it exported then; the "up" ones are destroyed by today's provider, which the update
// wrote into their state.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SIM_PASSWORD, SIM_USER, SimulatedFleet } from "../simhost/fleet";
import { PulumiProject, REPO_ROOT } from "./pulumiCli";
import { declarePolicies, PLUGIN_PROJECT_LINES, programStack, TYPE_OF } from "./stacks";

const FIXTURES = path.join(REPO_ROOT, "test", "fixtures", "state");
const PRESET = "server-2022";

/** Per fixture resource (and simulated host of that name): the shape it was written in and whether the up changes its declaration. */
interface OldResource {
  name: string;
  /** The commit just before the field named came to be recorded (the fixture's README). */
  shape: "owners" | "urn" | "ownerid";
  updated: boolean;
}

const DYNAMIC: OldResource[] = [
  { name: "owners-kept", shape: "owners", updated: false },
  { name: "owners-up", shape: "owners", updated: true },
  { name: "urn-kept", shape: "urn", updated: false },
  { name: "ownerid-up", shape: "ownerid", updated: true },
];
const PLUGIN: OldResource[] = [
  { name: "p-ownerid-kept", shape: "ownerid", updated: false },
  { name: "p-ownerid-up", shape: "ownerid", updated: true },
];

/** The project and stack the fixtures' URNs name (programStack names a project smb-e2e-<name>). */
const DYNAMIC_PROJECT = "upgrade";
const YAML_PROJECT = "upgrade-yaml";

type Props = Record<string, unknown>;
interface StateResource {
  urn: string;
  type: string;
  inputs: Props;
  outputs: Props;
}

let fleet: SimulatedFleet;
let workRoot: string;

/** The record a version before owner ids wrote (format 1: its owner's "<project>/<stack>/<name>"); none before owners. */
function oldRecord(r: OldResource, owner: string): string | undefined {
  if (r.shape === "owners") return undefined;
  return JSON.stringify({ version: 1, owner, originals: { client: { RequireSecuritySignature: false }, server: {} } });
}

/** A simulated host as the older version's up left it: the declared client.requireSigning applied, its record written. */
function leaveAsOldVersionDid(r: OldResource, owner: string): void {
  fleet.change(r.name, (s) => {
    assert.equal(s.client.RequireSecuritySignature, false, "the preset's original");
    s.client.RequireSecuritySignature = true;
    const record = oldRecord(r, owner);
    if (record === undefined) delete s.record;
    else s.record = record;
  });
}

/** The fixture's text with every "{{key}}" string replaced (whole strings only, so a port becomes a number). */
function filledFixture(file: string, values: Record<string, unknown>): string {
  const fill = (v: unknown): unknown => {
    if (typeof v === "string") {
      const m = /^\{\{(.+)\}\}$/.exec(v);
      if (!m) return v;
      assert.ok(m[1] in values, `the fixture's placeholder ${v} has no value`);
      return values[m[1]];
    }
    if (Array.isArray(v)) return v.map(fill);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  return JSON.stringify(fill(JSON.parse(fs.readFileSync(path.join(FIXTURES, file), "utf8"))));
}

/** Placeholder values: each host's address, port and key, the password (as `plaintext` holds it: JSON), and the serialized providers. */
function placeholderValues(resources: OldResource[], prefix = ""): Record<string, unknown> {
  const values: Record<string, unknown> = { password: JSON.stringify(SIM_PASSWORD) };
  for (const r of resources) {
    const h = fleet.host(r.name);
    const key = r.name.slice(prefix.length);
    Object.assign(values, { [`host:${key}`]: h.address, [`port:${key}`]: h.port, [`hostKey:${key}`]: h.hostKeyFingerprint });
  }
  for (const file of fs.readdirSync(path.join(FIXTURES, "providers"))) {
    values[`provider:${path.basename(file, ".js")}`] = fs.readFileSync(path.join(FIXTURES, "providers", file), "utf8");
  }
  return values;
}

async function ok(p: PulumiProject, args: string[]): Promise<string> {
  const r = await p.run(args);
  assert.equal(r.code, 0, `pulumi ${args.join(" ")} exited ${r.code}:\n${r.output}`);
  return r.output;
}

/**
 * The stack's SmbSigningPolicy resources by name, read from the file backend's checkpoint
 * (PulumiProject: <dir>/.pulumi-state) rather than by a `stack export` run of the CLI each time.
 */
function policies(p: PulumiProject, type: string): Map<string, StateResource> {
  const project = /^name: (.+)$/m.exec(fs.readFileSync(path.join(p.dir, "Pulumi.yaml"), "utf8"))![1];
  const file = path.join(p.dir, ".pulumi-state", ".pulumi", "stacks", project, `${p.stack}.json`);
  const resources = JSON.parse(fs.readFileSync(file, "utf8")).checkpoint.latest.resources as StateResource[];
  return new Map(resources.filter((r) => r.type === type).map((r) => [r.urn.slice(r.urn.lastIndexOf("::") + 2), r]));
}

/** What a host holds that a run may change: its settings, its record and its write counters. */
function hostNow(name: string): { client: boolean; server: boolean; record?: string; writes: number; recordWrites: number } {
  const s = fleet.state(name);
  return { client: s.client.RequireSecuritySignature, server: s.server.RequireSecuritySignature, record: s.record, writes: s.counters.writes, recordWrites: s.counters.recordWrites ?? 0 };
}

/**
 * One front end's whole upgrade: import, refresh, an up that changes the "-up" resources, destroy.
 * `declare(updated)` writes the program, before (false) and after (true) the change.
 */
async function upgrade(
  p: PulumiProject,
  type: string,
  resources: OldResource[],
  fixture: string,
  values: Record<string, unknown>,
  declare: (changed: boolean) => void,
  fixtureName: (r: OldResource) => string,
): Promise<void> {
  declare(false);
  const file = path.join(p.dir, "old-state.json");
  // The stack's own passphrase salt (Pulumi.<stack>.yaml), so the CLI encrypts the secrets with it.
  const salt = /^encryptionsalt: (.+)$/m.exec(fs.readFileSync(path.join(p.dir, `Pulumi.${p.stack}.yaml`), "utf8"))?.[1];
  assert.ok(salt, "the stack has no encryptionsalt");
  fs.writeFileSync(file, filledFixture(fixture, { ...values, salt }));
  await ok(p, ["stack", "import", "--file", file]);
  const imported = policies(p, type);
  assert.deepEqual([...imported.keys()].sort(), resources.map(fixtureName).sort());
  const before = new Map(resources.map((r) => [r.name, hostNow(r.name)]));
  const kept = resources.filter((r) => !r.updated);

  // refresh of the "kept" resources: reads the host (the older providers' read, for the dynamic
  // resource), writes nothing, records what is read.
  await ok(p, ["refresh", "--yes", ...kept.flatMap((r) => ["--target", imported.get(fixtureName(r))!.urn])]);
  const refreshed = policies(p, type);
  for (const r of kept) {
    const old = imported.get(fixtureName(r))!.outputs;
    const s = refreshed.get(fixtureName(r))!.outputs;
    assert.deepEqual(hostNow(r.name), before.get(r.name), `${r.name}: refresh changed the host`);
    assert.equal((s.observed as { client: Props }).client.requireSigning, true, `${r.name}: observed`);
    assert.deepEqual(s.originalSettings, { client: { requireSigning: false }, server: {} }, `${r.name}: the originals the old version recorded`);
    assert.equal((s.readiness as { days?: number } | undefined)?.days, 7, `${r.name}: readiness read, over the default window`);
    assert.equal(s.ownerId, undefined, `${r.name}: a refresh gives no owner id (the next apply does)`);
    assert.equal(s.owner, old.owner, `${r.name}: refresh recorded an owner the old state did not have`);
    // Which code the engine runs for this resource's delete: still the old version's.
    if (type === TYPE_OF.dynamic) assert.equal(s.__provider, old.__provider, `${r.name}: refresh kept the serialized provider`);
  }

  // up: the "up" resources declare server.requireSigning too; the refreshed ones must see no change.
  declare(true);
  await ok(p, ["up", "--yes", "--skip-preview"]);
  const applied = policies(p, type);
  for (const r of resources) {
    const s = applied.get(fixtureName(r))!.outputs;
    const host = hostNow(r.name);
    if (!r.updated) {
      assert.deepEqual(host, before.get(r.name), `${r.name}: an up that does not change its declaration wrote to the host (false drift after the old state's refresh)`);
      assert.equal(s.ownerId, undefined, `${r.name}: updated although its declaration did not change`);
      continue;
    }
    assert.equal(host.server, true, `${r.name}: the changed setting applied`);
    assert.match(String(s.ownerId), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, `${r.name}: the update gave an owner id`);
    assert.ok(host.record, `${r.name}: no record on the host`);
    const record = JSON.parse(host.record);
    assert.equal(record.version, 2, host.record);
    assert.equal(record.ownerId, s.ownerId, `${r.name}: the record names the state's owner id`);
    assert.equal(record.ownerLabel, applied.get(fixtureName(r))!.urn, `${r.name}: the record's label is the URN`);
    assert.deepEqual(record.originals, { client: { RequireSecuritySignature: false }, server: { RequireSecuritySignature: false } }, `${r.name}: the record keeps the old originals and adds the new one`);
    assert.deepEqual(s.originalSettings, { client: { requireSigning: false }, server: { requireSigning: false } }, `${r.name}: the originals in state`);
  }

  // destroy: every host back to its originals, its record gone.
  await ok(p, ["destroy", "--yes", "--skip-preview"]);
  for (const r of resources) {
    const host = hostNow(r.name);
    assert.equal(host.client, false, `${r.name}: client.requireSigning restored`);
    assert.equal(host.server, false, `${r.name}: server.requireSigning restored`);
    assert.equal(host.record, undefined, `${r.name}: the record was removed`);
  }
}

describe("state written by earlier versions: refresh, update and destroy, through the pulumi CLI", () => {
  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-upgrade-"));
    fleet = await SimulatedFleet.start([...DYNAMIC, ...PLUGIN].map((r) => ({ name: r.name, preset: PRESET })));
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });

  it("each older shape of both front ends (dynamic: before owners, before readiness and the URN, before owner ids; plugin: before owner ids): refresh finds no drift, update claims the host in the current format keeping its originals, destroy restores them", async () => {
    const dynamic = async () => {
      const p = await programStack(workRoot, DYNAMIC_PROJECT, { password: SIM_PASSWORD });
      for (const r of DYNAMIC) leaveAsOldVersionDid(r, `smb-e2e-${DYNAMIC_PROJECT}/test/${r.name}`);
      const declare = (changed: boolean) =>
        declarePolicies(
          p,
          fleet,
          DYNAMIC.map((r) => ({ name: r.name, host: r.name, client: { requireSigning: true }, server: changed && r.updated ? { requireSigning: true } : undefined })),
        );
      await upgrade(p, TYPE_OF.dynamic, DYNAMIC, "dynamic.json", placeholderValues(DYNAMIC), declare, (r) => r.name);
    };
    const plugin = async () => {
      const dir = path.join(workRoot, YAML_PROJECT);
      fs.mkdirSync(dir, { recursive: true });
      const declare = (changed: boolean) => {
        const lines = [`name: ${YAML_PROJECT}`, "runtime: yaml", "resources:"];
        for (const r of PLUGIN) {
          const h = fleet.host(r.name);
          lines.push(
            `  ${r.name.slice(2)}:`,
            "    type: smbsigning:index:SmbSigningPolicy",
            "    properties:",
            `      connection: { host: "${h.address}", port: ${h.port}, hostKey: "${h.hostKeyFingerprint}" }`,
            "      client: { requireSigning: true }",
            ...(changed && r.updated ? ["      server: { requireSigning: true }"] : []),
            "      onDelete: restore",
          );
        }
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `${lines.join("\n")}\n${PLUGIN_PROJECT_LINES}`);
      };
      declare(false);
      const p = new PulumiProject(dir, "dev");
      await p.init();
      await p.setConfig("smbsigning:user", SIM_USER);
      await p.setSecretConfig("smbsigning:password", SIM_PASSWORD);
      for (const r of PLUGIN) leaveAsOldVersionDid(r, `${YAML_PROJECT}/dev/${r.name.slice(2)}`);
      await upgrade(p, TYPE_OF.plugin, PLUGIN, "plugin.json", placeholderValues(PLUGIN, "p-"), declare, (r) => r.name.slice(2));
    };
    // The two stacks are independent: run side by side, the CLI runs of one overlap the other's.
    // Both run to their end before the fleet stops, whichever fails.
    const results = await Promise.allSettled([dynamic(), plugin()]);
    for (const r of results) if (r.status === "rejected") throw r.reason;
  });
});
