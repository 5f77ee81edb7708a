// End to end through the real Pulumi CLI against simulated hosts: up, preview --diff, refresh,
// import, destroy, secrets in state, and check failures.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SIM_PASSWORD, SimulatedFleet } from "../simhost/fleet";
import { PulumiProject, REPO_ROOT } from "./pulumiCli";
import { declarePolicies, DeclaredPolicy, Front, FRONTS, programStack, titleFor, Transport, transportsOf, TYPE_OF } from "./stacks";

describe("through the CLI", () => {
  let fleet: SimulatedFleet;
  let workRoot: string;

  const project = (name: string, front: Front = "dynamic") => programStack(workRoot, name, { password: SIM_PASSWORD }, front);

  const PRESETS = { fs01: "win11-24h2-home", fs02: "server-2025", fs03: "server-2025" } as const;

  const declare = (p: PulumiProject, resources: DeclaredPolicy[], transport: Transport = "ssh") => declarePolicies(p, fleet, resources, transport);

  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-e2e-"));
    fleet = await SimulatedFleet.start(
      Object.entries(PRESETS).map(([name, preset]) => ({ name, preset })),
      { winrm: true },
    );
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });

  for (const front of FRONTS) for (const transport of transportsOf(front)) describe(titleFor(`pulumi CLI end to end over ${transport}`, front), () => {
    const TYPE = TYPE_OF[front];
    before(() => {
      for (const [name, preset] of Object.entries(PRESETS)) fleet.reset(name, preset);
    });
    let p: PulumiProject;
    const outputs: string[] = [];
    const record = <T extends { output: string }>(r: T): T => {
      outputs.push(r.output);
      return r;
    };

    it("up creates; the host has the declared values; a second up changes nothing and writes nothing", async () => {
      p = await project(`main-${transport}-${front}`, front);
      declare(p, [
        { name: "fs01", host: "fs01", client: { requireSigning: true }, server: { requireSigning: true } },
        { name: "fs02", host: "fs02", server: { requireSigning: true }, onDelete: "retain" },
      ], transport);
      const up = record(await p.ok(["up", "--yes"]));
      assert.match(up.output, /\+ 3 created/);
      assert.equal(fleet.state("fs01").client.RequireSecuritySignature, true);
      assert.equal(fleet.state("fs01").server.RequireSecuritySignature, true);
      assert.equal(fleet.state("fs02").server.RequireSecuritySignature, true);
      const writes = fleet.state("fs01").counters.writes;
      const again = record(await p.ok(["up", "--yes"]));
      assert.match(again.output, /3 unchanged/);
      assert.equal(fleet.state("fs01").counters.writes, writes);
    });

    it("changing one setting: preview --diff names exactly it, up applies it as an update", async () => {
      declare(p, [
        { name: "fs01", host: "fs01", client: { requireSigning: true }, server: { requireSigning: true, auditClientDoesNotSupportSigning: true } },
        { name: "fs02", host: "fs02", server: { requireSigning: true }, onDelete: "retain" },
      ], transport);
      const preview = record(await p.ok(["preview", "--diff"]));
      assert.match(preview.output, /~ .*SmbSigningPolicy: \(update\)/);
      assert.match(preview.output, /\+ auditClientDoesNotSupportSigning\s*: true/);
      assert.doesNotMatch(preview.output, /replace/);
      const changedLines = preview.output.split("\n").filter((l) => /^\s*[-+~] (?!pulumi|smbsigning:)[a-zA-Z]+\s*:/.test(l) && !l.trim().endsWith("{"));
      assert.equal(changedLines.length, 1, changedLines.join("\n"));
      const up = record(await p.ok(["up", "--yes"]));
      assert.match(up.output, /~ 1 updated/);
      assert.equal(fleet.state("fs01").server.AuditClientDoesNotSupportSigning, true);
    });

    it("out-of-band drift: refresh shows it, the drift gate fails, up --refresh puts it back", async () => {
      fleet.change("fs01", (s) => (s.client.RequireSecuritySignature = false));
      const preview = record(await p.ok(["refresh", "--preview-only", "--diff"]));
      assert.ok(preview.output.includes(`~ ${TYPE}: (update)`), preview.output);
      assert.match(preview.output, /requireSigning\s*: true => false/);
      // The drift gate as README (Pipelines) describes it: the drifted values, and exit code 7
      // (the CLI's ExitNoChanges: "--expect-no-changes" found changes), not a generic failure.
      const gate = record(await p.run(["preview", "--refresh", "--diff", "--expect-no-changes"]));
      assert.equal(gate.code, 7, gate.output);
      assert.match(gate.output, /requireSigning\s*: false => true/);
      const up = record(await p.ok(["up", "--refresh", "--yes"]));
      assert.match(up.output, /~ 1 updated/);
      assert.equal(fleet.state("fs01").client.RequireSecuritySignature, true);
      record(await p.ok(["preview", "--refresh", "--expect-no-changes"]));
    });

    it("state holds no plaintext secret, and the serialized provider is small", async () => {
      const exported = await p.exportState();
      outputs.push(exported);
      const deployment = JSON.parse(exported).deployment;
      const policies = deployment.resources.filter((r: { type: string }) => r.type === TYPE);
      assert.equal(policies.length, 2);
      for (const r of policies) {
        if (front === "dynamic") {
          // The serialized provider (dynamicProvider.ts), kept in inputs and again in outputs: one
          // configure method that loads operations.js from the installed package, a few hundred
          // bytes (README.md, Security; docs/performance.md), not the provider's code.
          const provider: string = r.inputs.__provider;
          assert.equal(typeof provider, "string", "no serialized provider in the inputs");
          assert.equal(r.outputs.__provider, provider, "the outputs hold another serialized provider than the inputs");
          assert.ok(Buffer.byteLength(provider) < 1000, `serialized provider is ${Buffer.byteLength(provider)} bytes`);
          assert.ok(provider.includes("/dist/provider/operations"), `the serialized provider does not load operations.js:\n${provider}`);
        } else {
          // The provider plugin's resources carry no code at all.
          assert.equal(r.inputs.__provider ?? r.outputs.__provider, undefined);
        }
        // A whole resource (inputs, outputs, the engine's fields) stays within what a fleet of
        // hosts can keep: about 5.3 KB per host for the dynamic resource, 3.1 KB for the plugin's
        // (docs/performance.md, State); twice that is a regression, not noise.
        const bytes = Buffer.byteLength(JSON.stringify(r));
        assert.ok(bytes < (front === "dynamic" ? 11_000 : 6_500), `a resource's state is ${bytes} bytes`);
        assert.ok(r.outputs.connection.password.ciphertext, "password output is not a secret");
        assert.ok(r.inputs.connection.password.ciphertext, "password input is not a secret");
      }
      for (const text of outputs) assert.ok(!text.includes(SIM_PASSWORD), "a CLI output or the state holds the password");
    });

    it("a bad input fails preview with the property named, and contacts no host", async () => {
      const runs = fleet.state("fs01").counters.runs;
      declare(p, [{ name: "fs01", host: "fs01", client: { requireSigning: "yes" as unknown as boolean }, extra: {} }], transport);
      const bad = record(await p.run(["preview"]));
      assert.notEqual(bad.code, 0);
      assert.match(bad.output, /client\.requireSigning/);
      assert.match(bad.output, /true or false/);
      declare(p, [{ name: "fs01", host: "fs01", server: { requireSigning: false } }], transport);
      const unsafe = record(await p.run(["preview"]));
      assert.notEqual(unsafe.code, 0);
      assert.match(unsafe.output, /acknowledgeInsecureSettings/);
      assert.equal(fleet.state("fs01").counters.runs, runs);
      declare(p, [{ name: "fs01", host: "fs01", client: { enableSigning: true }, server: { requireSigning: false }, extra: { acknowledgeInsecureSettings: true } }], transport);
      const acknowledged = record(await p.ok(["preview"]));
      assert.match(acknowledged.output, /client\.enableSigning \(EnableSecuritySignature\) has no effect on SMB 2 and 3/);
      const address = fleet.host("fs01").address.replace(/\./g, "\\.");
      // Noted (info), not warned: the declaration is the decision; preview warns of the change itself.
      assert.doesNotMatch(acknowledged.output, new RegExp(`warning: ${address}: server\\.requireSigning weakens SMB security`));
    });

    it("destroy restores what the hosts had before the first up, and leaves retained hosts", async () => {
      declare(p, [
        { name: "fs01", host: "fs01", client: { requireSigning: true }, server: { requireSigning: true, auditClientDoesNotSupportSigning: true } },
        { name: "fs02", host: "fs02", server: { requireSigning: true }, onDelete: "retain" },
      ], transport);
      record(await p.ok(["destroy", "--yes"]));
      const fs01 = fleet.state("fs01");
      assert.equal(fs01.client.RequireSecuritySignature, false);
      assert.equal(fs01.server.RequireSecuritySignature, false);
      assert.equal(fs01.server.AuditClientDoesNotSupportSigning, false);
      assert.equal(fleet.state("fs02").server.RequireSecuritySignature, true);
      for (const text of outputs) assert.ok(!text.includes(SIM_PASSWORD));
    });

    // The dynamic resource's adoption through the `import` option. The plugin's import is the
    // engine's own (`pulumi import`, or the option with what it generates): pluginYaml.test.ts.
    if (front === "dynamic") it("import adopts a host's current settings without changing them", async () => {
      const q = await project(`import-${transport}`);
      const host = fleet.host("fs03");
      declare(q, [{ name: "fs03", host: "fs03", client: { requireSigning: true }, import: host.address }], transport);
      const up = await q.ok(["up", "--yes"]);
      assert.match(up.output, /\+ 2 created/);
      assert.deepEqual(fleet.state("fs03").counters.writes, 0);
      const exported = JSON.parse(await q.exportState()).deployment.resources.find((r: { type: string }) => r.type === TYPE);
      assert.deepEqual(exported.outputs.originalSettings, { client: { requireSigning: true }, server: {} });
      await q.ok(["destroy", "--yes", "--skip-preview"]);
      assert.equal(fleet.state("fs03").client.RequireSecuritySignature, true);
      assert.equal(fleet.state("fs03").counters.writes, 0);
    });

    if (front === "dynamic") it("import refuses a host that differs from the program, without writing", async () => {
      const q = await project(`import-mismatch-${transport}`);
      declare(q, [{ name: "fs03", host: "fs03", server: { requireSigning: true }, import: fleet.host("fs03").address }], transport);
      const up = await q.run(["up", "--yes"]);
      assert.notEqual(up.code, 0);
      assert.match(up.output, /cannot import: the host differs from the program in server\.requireSigning \(declared true, host has false\)/);
      assert.equal(fleet.state("fs03").counters.writes, 0);
    });

  });

  describe("examples", () => {
    it("the quickstart example (root Pulumi.yaml) runs against a simulated host as shipped", async () => {
      const dir = path.join(workRoot, "quickstart");
      fs.mkdirSync(dir, { recursive: true });
      const main = path.relative(dir, path.join(REPO_ROOT, "examples", "quickstart", "index.ts"));
      fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: smb-signing-quickstart\nruntime: nodejs\nmain: ${main}\n`);
      const q = new PulumiProject(dir, "quick");
      await q.init();
      const h = fleet.host("fs03");
      await q.setConfig("host", h.address);
      await q.setConfig("port", String(h.port));
      await q.setConfig("user", "smbsim");
      await q.setConfig("hostKey", h.hostKeyFingerprint);
      await q.setSecretConfig("password", SIM_PASSWORD);
      await q.ok(["up", "--yes", "--skip-preview"]);
      assert.equal(fleet.state("fs03").server.RequireSecuritySignature, true);
      await q.ok(["destroy", "--yes", "--skip-preview"]);
      assert.equal(fleet.state("fs03").server.RequireSecuritySignature, true, "onDelete's default (retain) leaves the host secured");
    });
  });
});
