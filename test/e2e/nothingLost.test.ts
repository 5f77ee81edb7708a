// End to end through the real Pulumi CLI, for both front ends (the dynamic resource and the
// provider plugin, stacks.ts FRONTS): credentials and host keys rotate with the program;
// failed creates and updates leave resources that refresh and destroy handle at once; and no
// password, private key or passphrase appears in CLI output (even at -v=9), state, backend files
// or PULUMI_HOME, whatever fails.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SIM_KEY_PASSPHRASE, SIM_PASSWORD, SIM_ROTATION_USER, SimulatedFleet } from "../simhost/fleet";
import { PresetName } from "../simhost/model";
import { CliResult, PulumiProject, REPO_ROOT } from "./pulumiCli";
import { declarePolicies, DeclaredPolicy, FRONTS, programStack, titleFor, transportsOf, TYPE_OF } from "./stacks";

// The scenarios run per front end over stacks.ts transportsOf(front); the plugin skips the Group
// Policy one too, which is operations.ts and the host alone.
for (const front of FRONTS) describe(titleFor("nothing lost through the CLI", front), () => {
  const TYPE = TYPE_OF[front];
  const PRESET: PresetName = "win11-24h2-home"; // requires neither side: every declared value is a change
  const HOSTS = [
    ...transportsOf(front).flatMap((t) => [`rot-${t}`, `fail-${t}`]),
    "key",
    ...(front === "dynamic" ? ["gpo"] : []),
    "sec-pw",
    "sec-key",
  ];
  const FIRST_PASSWORD = "Rotation-0ne-Pa55-e41f";
  const SECOND_PASSWORD = "Rotation-Tw0-Pa55-8b2c";

  let fleet: SimulatedFleet;
  let workRoot: string;
  /** Every CLI output of this file, checked for secrets at the end. */
  const outputs: string[] = [];

  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-e2e-"));
    fleet = await SimulatedFleet.start(HOSTS.map((name) => ({ name, preset: PRESET })), { winrm: transportsOf(front).includes("winrm") });
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });

  function record<T extends { output: string }>(r: T): T {
    outputs.push(r.output);
    return r;
  }

  const ok = async (p: PulumiProject, args: string[]) => record(await p.ok(args));
  const fails = async (p: PulumiProject, args: string[]): Promise<CliResult> => {
    const r = record(await p.run(args));
    assert.notEqual(r.code, 0, r.output);
    return r;
  };

  /** The lines the Diagnostics section shows under the stack (`pulumi:pulumi:Stack (<name>):`). */
  function stackDiagnostics(output: string): string[] {
    const lines = output.split("\n");
    const at = lines.findIndex((l) => /^ {2}pulumi:pulumi:Stack \(.*\):$/.test(l));
    if (at < 0) return [];
    const end = lines.findIndex((l, i) => i > at && /^\s{0,2}\S/.test(l));
    return lines.slice(at + 1, end < 0 ? undefined : end);
  }

  function assertPristine(name: string): void {
    const s = fleet.state(name);
    assert.equal(s.client.RequireSecuritySignature, false, `${name}: client signing not restored`);
    assert.equal(s.server.RequireSecuritySignature, false, `${name}: server signing not restored`);
    assert.equal(s.record, undefined, `${name}: the record is left on the host`);
  }

  for (const transport of transportsOf(front)) {
    describe(`credentials follow the program over ${transport}`, () => {
      it("password rotation: up applies the new password as an update that writes nothing; refresh and destroy then use it", async () => {
        const host = `rot-${transport}`;
        fleet.setPassword(SIM_ROTATION_USER, FIRST_PASSWORD);
        const p = await programStack(workRoot, `rotation-${transport}`, { password: FIRST_PASSWORD }, front);
        const declared: DeclaredPolicy[] = [{ name: host, host, connection: { user: SIM_ROTATION_USER }, client: { requireSigning: true } }];
        declarePolicies(p, fleet, declared, transport);
        await ok(p, ["up", "--yes", "--skip-preview"]);
        const writes = fleet.state(host).counters.writes;

        fleet.setPassword(SIM_ROTATION_USER, SECOND_PASSWORD);
        const stale = await fails(p, ["refresh", "--yes"]);
        const refusal = `refused user "${SIM_ROTATION_USER}"`;
        assert.ok(stale.output.includes(refusal), stale.output);
        // Named once on every line. The dynamic-provider runtime also writes a failed read to the
        // stack's line, as `${e}: ${e.stack}` (which read "HostError: X: HostError: X" before
        // operations.ts namedOnce).
        for (const line of stale.output.split("\n")) assert.ok(line.split(refusal).length <= 2, `named twice: ${line}`);
        if (front === "dynamic") assert.equal(stackDiagnostics(stale.output).filter((l) => l.includes(refusal)).length, 1, stale.output);

        await p.setSecretConfig("password", SECOND_PASSWORD);
        const preview = await ok(p, ["preview", "--diff"]);
        assert.match(preview.output, /~ .*SmbSigningPolicy: \(update\)/);
        // The dynamic-provider runtime sends no detailed diff: the engine shows the connection, the
        // password masked.
        assert.match(preview.output, /password\s*: \[secret\]/);
        const up = await ok(p, ["up", "--yes"]);
        assert.match(up.output, /~ 1 updated/);
        assert.equal(fleet.state(host).counters.writes, writes, "a credential change writes nothing on the host");

        await ok(p, ["refresh", "--expect-no-changes", "--yes"]);
        await ok(p, ["destroy", "--yes", "--skip-preview"]);
        assertPristine(host);
      });
    });
  }

  describe("trust follows the program", () => {
    it("host key rotation: the old pin is refused, the new pin is an update that writes nothing; refresh and destroy then trust it", async () => {
      const p = await programStack(workRoot, "hostkey", { password: SIM_PASSWORD }, front);
      declarePolicies(p, fleet, [{ name: "key", host: "key", server: { requireSigning: true } }]);
      await ok(p, ["up", "--yes", "--skip-preview"]);
      const writes = fleet.state("key").counters.writes;
      const old = fleet.host("key").hostKeyFingerprint;
      const rotated = await fleet.rotateHostKey("key");
      assert.notEqual(rotated, old);

      const refused = await fails(p, ["refresh", "--yes"]);
      assert.ok(refused.output.includes(rotated) && refused.output.includes(old), refused.output);

      declarePolicies(p, fleet, [{ name: "key", host: "key", server: { requireSigning: true }, connection: { hostKey: rotated } }]);
      const up = await ok(p, ["up", "--yes"]);
      assert.match(up.output, /~ 1 updated/);
      assert.equal(fleet.state("key").counters.writes, writes);
      await ok(p, ["refresh", "--expect-no-changes", "--yes"]);
      await ok(p, ["destroy", "--yes", "--skip-preview"]);
      assertPristine("key");
    });
  });

  for (const transport of transportsOf(front)) {
    describe(`failed operations over ${transport} leave resources refresh and destroy handle`, () => {
      const host = `fail-${transport}`;

      it("a partial create (a cmdlet fails after the other side was applied): refresh and destroy work at once and restore the originals", async () => {
        fleet.reset(host, PRESET);
        fleet.change(host, (s) => (s.faults.failingCmdlet = "Set-SmbServerConfiguration"));
        const p = await programStack(workRoot, `partial-create-${transport}`, { password: SIM_PASSWORD }, front);
        declarePolicies(p, fleet, [{ name: host, host, client: { requireSigning: true }, server: { requireSigning: true } }], transport);
        const up = await fails(p, ["up", "--yes"]);
        assert.match(up.output, /The service has not been started/);
        assert.equal(fleet.state(host).client.RequireSecuritySignature, true);
        const stored = JSON.parse(await p.exportState()).deployment.resources.find((r: { type: string }) => r.type === TYPE);
        assert.ok(stored, "the failed create was not recorded");
        // The dynamic resource's state must carry its provider's code, or refresh and destroy cannot load it.
        if (front === "dynamic") assert.ok(stored.outputs.__provider, "the failed create was recorded without the provider");
        assert.deepEqual(stored.outputs.originalSettings, { client: { requireSigning: false }, server: { requireSigning: false } });

        await ok(p, ["refresh", "--yes"]);
        await ok(p, ["destroy", "--yes", "--skip-preview"]);
        assertPristine(host);
      });

      it("a partial update: refresh and destroy work at once and restore every original", async () => {
        fleet.reset(host, PRESET);
        const p = await programStack(workRoot, `partial-update-${transport}`, { password: SIM_PASSWORD }, front);
        declarePolicies(p, fleet, [{ name: host, host, client: { auditInsecureGuestLogon: true } }], transport);
        await ok(p, ["up", "--yes", "--skip-preview"]);
        fleet.change(host, (s) => (s.faults.failingCmdlet = "Set-SmbServerConfiguration"));
        declarePolicies(p, fleet, [{ name: host, host, client: { auditInsecureGuestLogon: true, requireSigning: true }, server: { requireSigning: true } }], transport);
        await fails(p, ["up", "--yes", "--skip-preview"]);
        await ok(p, ["refresh", "--yes"]);
        fleet.change(host, (s) => (s.faults = {}));
        await ok(p, ["destroy", "--yes", "--skip-preview"]);
        assertPristine(host);
        assert.equal(fleet.state(host).client.AuditInsecureGuestLogon, false);
      });
    });
  }

  if (front === "dynamic") describe("Group Policy as Windows applies it", () => {
    it("a GPO linked after up: refresh reports the drift naming the GPO, and the next up refuses before writing instead of flapping", async () => {
      fleet.reset("gpo", PRESET);
      const p = await programStack(workRoot, "gpo", { password: SIM_PASSWORD }, front);
      declarePolicies(p, fleet, [{ name: "gpo", host: "gpo", server: { requireSigning: true } }]);
      await ok(p, ["up", "--yes", "--skip-preview"]);
      const writes = fleet.state("gpo").counters.writes;
      // A domain administrator links a GPO; its next application (gpupdate, the background refresh
      // or the 16-hour security re-apply) puts its value back over ours.
      fleet.change("gpo", (s) => {
        s.groupPolicy.gpo = "Contoso Legacy NAS";
        s.groupPolicy.securityOptions.server = { RequireSecuritySignature: false };
      });
      fleet.refreshPolicy("gpo");
      const refresh = await ok(p, ["refresh", "--yes", "--diff"]);
      assert.match(refresh.output, /requireSigning\s*: true => false/);
      const stored = JSON.parse(await p.exportState()).deployment.resources.find((r: { type: string }) => r.type === TYPE);
      assert.deepEqual(stored.outputs.policyDrift, ['server.requireSigning: Group Policy "Contoso Legacy NAS" set it back to false']);
      const up = await fails(p, ["up", "--yes"]);
      assert.match(up.output, /server\.requireSigning is declared true, but Group Policy "Contoso Legacy NAS" enforces false; nothing was changed/);
      assert.equal(fleet.state("gpo").counters.writes, writes, "no write that the policy would undo again");
      await ok(p, ["destroy", "--yes", "--skip-preview"]);
      assertPristine("gpo");
    });
  });

  describe("secrets stay secret, whatever happens", () => {
    it("no password, private key or passphrase in CLI output at -v=9, stack export, backend files or PULUMI_HOME", async () => {
      const p = await programStack(workRoot, "secrets", { password: SIM_PASSWORD, key: fleet.encryptedClientKey, passphrase: SIM_KEY_PASSPHRASE }, front);
      const resources = (server: object): DeclaredPolicy[] => [
        { name: "sec-pw", host: "sec-pw", client: { requireSigning: true }, server },
        { name: "sec-key", host: "sec-key", client: { requireSigning: true }, secretConfig: { privateKey: "key", passphrase: "passphrase" } },
      ];
      const verbose = ["-v=9", "--logtostderr"];
      declarePolicies(p, fleet, resources({}));
      await ok(p, ["up", "--yes", ...verbose]);
      const exported = await p.exportState();
      outputs.push(exported);
      const stored = JSON.parse(exported).deployment.resources.filter((r: { type: string }) => r.type === TYPE);
      assert.equal(stored.length, 2);
      for (const r of stored) {
        for (const field of r.inputs.connection.password ? ["password"] : ["privateKey", "passphrase"]) {
          assert.ok(r.inputs.connection[field]?.ciphertext, `input connection.${field} of ${r.urn} is not a secret`);
          assert.ok(r.outputs.connection[field]?.ciphertext, `output connection.${field} of ${r.urn} is not a secret`);
        }
      }
      await ok(p, ["preview", "--diff", ...verbose]);
      await ok(p, ["refresh", "--yes", ...verbose]);
      // A failing update and a wrong key passphrase: their errors must not carry secrets either.
      fleet.change("sec-pw", (s) => (s.faults.failingCmdlet = "Set-SmbServerConfiguration"));
      declarePolicies(p, fleet, resources({ requireSigning: true }));
      await fails(p, ["up", "--yes", ...verbose]);
      fleet.change("sec-pw", (s) => (s.faults = {}));
      await p.setSecretConfig("passphrase", "Wrong-Passphrase-f00d");
      const wrong = await fails(p, ["preview", ...verbose]);
      assert.match(wrong.output, /the passphrase is wrong/);
      assert.ok(!wrong.output.includes("Wrong-Passphrase-f00d"));
      await p.setSecretConfig("passphrase", SIM_KEY_PASSPHRASE);
      await ok(p, ["destroy", "--yes", ...verbose]);

      const keyLines = fleet.encryptedClientKey.split("\n").filter((l) => l.length >= 20 && !l.startsWith("-----"));
      const markers = [SIM_PASSWORD, SIM_KEY_PASSPHRASE, ...keyLines];
      const files = [...walk(path.join(p.dir, ".pulumi-state")), ...walk(path.join(p.dir, ".pulumi-home"))];
      assert.ok(files.length > 0);
      const places = [...outputs.map((text, i) => ({ where: `CLI output ${i}`, text })), ...files.map((f) => ({ where: f, text: fs.readFileSync(f, "latin1") }))];
      for (const { where, text } of places) {
        for (const marker of markers) assert.ok(!text.includes(marker), `${where} holds a secret (${marker.slice(0, 6)}...)`);
      }
      console.log(`secrets: ${markers.length} markers checked in ${outputs.length} CLI outputs and ${files.length} files`);
    });
  });

  function walk(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return walk(full);
      return e.isFile() && fs.statSync(full).size < 50 * 1024 * 1024 ? [full] : [];
    });
  }
});
