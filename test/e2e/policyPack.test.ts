// The SMB signing policy pack (policy/) end to end through the real Pulumi CLI, started by its
// launcher (`--policy-pack policy/launcher`) against stacks of simulated hosts: every rule's
// violation blocks preview naming the rule and the resource, waivers pass with their reason in the
// output, the organisation's config changes enforcement levels and parameters, a violation stops
// `pulumi up` before any host is touched, and `pulumi policy analyze` judges a stack's state.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SIM_PASSWORD, SimulatedFleet } from "../simhost/fleet";
import { CliResult, PulumiProject, REPO_ROOT } from "./pulumiCli";
import { declarePolicies, DeclaredPolicy, fleetExampleStack, type Front, FRONTS, programStack, titleFor, TYPE_OF } from "./stacks";

const LAUNCHER = path.join(REPO_ROOT, "policy", "launcher");
const TYPE = TYPE_OF.dynamic;
const RULES = ["smb-signing-required", "smb-insecure-guest-logons-off", "smb-host-identity-pinned", "smb-no-dangerous-options", "smb-restore-secure"];

let fleet: SimulatedFleet;
let workRoot: string;
/** Every CLI output of this file, checked for the password at the end. */
const outputs: string[] = [];

/** One entry of the CLI's "Policies:" block. */
interface Reported {
  level: string;
  rule: string;
  resource: string;
  /** The rule's description: the first line under the entry. */
  description: string;
  /** The message: the lines after it. */
  text: string;
}

/**
 * The violations the CLI printed under "Policies:". Each entry is
 *   "        - [mandatory]  <rule>  (<type>: <resource name>)" then, indented further, the
 * rule's description and the message.
 */
function reported(output: string): Reported[] {
  const found: Reported[] = [];
  let current: Reported | undefined;
  for (const line of output.split("\n")) {
    const head = /^ {8}[-·] \[(\w+)\]\s+(\S+)\s+\((\S+): (.+)\)\s*$/.exec(line);
    if (head) {
      assert.ok(Object.values(TYPE_OF).includes(head[3]), line);
      current = { level: head[1], rule: head[2], resource: head[4], description: "", text: "" };
      found.push(current);
    } else if (current && /^ {10}\S/.test(line)) {
      if (current.description === "") current.description = line.trim();
      else current.text += line.trim() + "\n";
    } else {
      current = undefined;
    }
  }
  return found;
}

function only(found: Reported[], rule: string, resource: string): Reported {
  const matching = found.filter((r) => r.rule === rule && r.resource === resource);
  assert.equal(matching.length, 1, `expected one ${rule} on ${resource}, got:\n${JSON.stringify(found, null, 2)}`);
  return matching[0];
}

const project = (name: string, front: Front = "dynamic") => programStack(workRoot, name, { password: SIM_PASSWORD }, front);
const declare = (p: PulumiProject, resources: DeclaredPolicy[]) => declarePolicies(p, fleet, resources);

/** Runs the CLI with the policy pack (and this config, written beside the program). */
async function withPack(p: PulumiProject, args: string[], config?: object): Promise<CliResult> {
  const flags = ["--policy-pack", LAUNCHER];
  if (config) {
    const file = path.join(p.dir, "policy-config.json");
    fs.writeFileSync(file, JSON.stringify(config, null, 2));
    flags.push("--policy-pack-config", file);
  }
  const r = await p.run([...args, ...flags]);
  outputs.push(r.output);
  return r;
}

/** Compliant with every rule on inputs: signing required both ways (the fleet's connection pins the host key). */
const COMPLIANT = { client: { requireSigning: true }, server: { requireSigning: true } };

describe("SMB signing policy pack", () => {
  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-e2e-"));
    // server-2025: client signing required, server signing not, guest logons off (its defaults).
    fleet = await SimulatedFleet.start([
      ...["fs01", "fs02", "fs03", "fs04"].map((name) => ({ name, preset: "server-2025" as const })),
      // Requires signing both ways already: a restore would weaken nothing.
      { name: "ws01", preset: "win11-24h2-pro" as const },
    ]);
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });

  // The pack judges both front ends' resources alike (domain/policy.ts RESOURCE_TYPES).
  for (const front of FRONTS) describe(titleFor("every rule blocks preview, naming the rule and the resource", front), () => {
    let p: PulumiProject;
    let runs: number;
    let preview: CliResult;
    let found: Reported[];

    // One preview judges a program with one violation of each rule; each test below reads its part
    // (and can run alone, as tools/guards runs them).
    before(async () => {
      p = await project(`rules-${front}`, front);
      runs = fleet.state("fs01").counters.runs;
      declare(p, [
        { name: "compliant", host: "fs01", ...COMPLIANT },
        { name: "server-unsigned", host: "fs01", client: { requireSigning: true } },
        {
          name: "guest-on",
          host: "fs02",
          client: { enableInsecureGuestLogons: true },
          server: { requireSigning: true },
          extra: { acknowledgeInsecureSettings: true },
        },
        // WinRM over HTTPS trusting the system's CAs: nothing pins the host's certificate.
        {
          name: "unpinned-certificate",
          host: "fs03",
          ...COMPLIANT,
          connection: { transport: "winrm", https: true, port: 5986, hostKey: undefined },
        },
        { name: "any-host-key", host: "fs04", ...COMPLIANT, connection: { hostKey: undefined, dangerouslyAcceptAnyHostKey: true } },
      ]);
      preview = await withPack(p, ["preview"]);
      found = reported(preview.output);
    });

    it("preview fails and the Policies block lists the violations as mandatory, none on the compliant resource", () => {
      assert.notEqual(preview.code, 0, preview.output);
      assert.match(preview.output, /❌ smb-signing@v0\.1\.0 \(local: .*policy\/launcher\)/);
      assert.ok(found.length > 0, preview.output);
      for (const r of found) assert.equal(r.level, "mandatory", JSON.stringify(r));
      assert.deepEqual(found.filter((r) => r.resource === "compliant"), [], "the compliant resource was reported");
    });

    it("smb-signing-required: a side whose requireSigning is not declared true", () => {
      const r = only(found, "smb-signing-required", "server-unsigned");
      assert.match(r.description, /^SMB signing is required on both sides/);
      assert.match(r.text, /server\.requireSigning is not declared .*inbound SMB traffic .* Declare server: \{ requireSigning: true \}/);
      assert.doesNotMatch(r.text, /client\.requireSigning/);
    });

    it("smb-insecure-guest-logons-off: client.enableInsecureGuestLogons declared true", () => {
      assert.match(only(found, "smb-insecure-guest-logons-off", "guest-on").text, /client\.enableInsecureGuestLogons is true/);
    });

    it("smb-host-identity-pinned: WinRM over HTTPS without a certificate pin, SSH without a host key", () => {
      assert.match(only(found, "smb-host-identity-pinned", "unpinned-certificate").text, /connection\.certificateFingerprint is not set/);
      assert.match(only(found, "smb-host-identity-pinned", "any-host-key").text, /connection\.hostKey is not set/);
    });

    it("smb-no-dangerous-options: dangerouslyAcceptAnyHostKey", () => {
      assert.match(only(found, "smb-no-dangerous-options", "any-host-key").text, /connection\.dangerouslyAcceptAnyHostKey is set/);
    });

    it("the preview contacted no host", () => {
      assert.equal(fleet.state("fs01").counters.runs, runs);
    });

    it("a program that follows every rule: preview succeeds with no violation", async () => {
      declare(p, [{ name: "compliant", host: "fs01", ...COMPLIANT }]);
      const clean = await withPack(p, ["preview"]);
      assert.equal(clean.code, 0, clean.output);
      assert.deepEqual(reported(clean.output), []);
      assert.match(clean.output, /✅ smb-signing@v0\.1\.0/);
    });
  });

  describe("a mandatory violation stops pulumi up before any host is touched", () => {
    it("up (with its preview) fails, and neither the violating host nor the compliant one saw a connection", async () => {
      fleet.reset("fs01", "server-2025");
      const p = await project("up-blocked");
      declare(p, [
        { name: "fs01", host: "fs01", ...COMPLIANT },
        { name: "fs02", host: "fs02", client: { requireSigning: true } },
      ]);
      const before = { fs01: fleet.state("fs01").counters, fs02: fleet.state("fs02").counters };
      const up = await withPack(p, ["up", "--yes"]);
      assert.notEqual(up.code, 0, up.output);
      only(reported(up.output), "smb-signing-required", "fs02");
      assert.deepEqual({ fs01: fleet.state("fs01").counters, fs02: fleet.state("fs02").counters }, before);
    });

    it("up --skip-preview judges each resource as the engine reaches it: the compliant host is changed before the violation stops the run (why the pipeline never skips the preview)", async () => {
      fleet.reset("fs01", "server-2025");
      const p = await project("up-skip-preview");
      // fs02 takes a value from fs01 (as a program that chains resources does), so the engine
      // reaches fs01 first: deterministic, where two independent resources race.
      declare(p, [
        { name: "fs01", host: "fs01", ...COMPLIANT },
        { name: "fs02", host: "fs02", client: { requireSigning: true }, after: "fs01" },
      ]);
      const up = await withPack(p, ["up", "--yes", "--skip-preview"]);
      assert.notEqual(up.code, 0, up.output);
      assert.equal(fleet.state("fs01").server.RequireSecuritySignature, true, `the engine went on with the compliant host:\n${up.output}`);
      const pipeline = fs.readFileSync(path.join(REPO_ROOT, "examples", "pipeline", "smb-signing.yml"), "utf8");
      assert.doesNotMatch(pipeline.replace(/^#.*$/gm, ""), /--skip-preview/, "the pipeline must preview with the pack before it changes anything");
      await p.ok(["destroy", "--yes", "--skip-preview"]);
    });
  });

  describe("the defaults agree: the resource's onDelete and the shipped pack", () => {
    it("the README's first example (onDelete left out) on hosts that did not require signing passes preview and up with the pack at its defaults, and destroy leaves them secured", async () => {
      fleet.reset("fs01", "server-2025");
      fleet.reset("fs02", "server-2025");
      const p = await project("defaults");
      declare(p, [
        { name: "fs01", host: "fs01", ...COMPLIANT, onDelete: "default" },
        { name: "fs02", host: "fs02", ...COMPLIANT, onDelete: "default" },
      ]);
      const preview = await withPack(p, ["preview"]);
      assert.equal(preview.code, 0, preview.output);
      const up = await withPack(p, ["up", "--yes"]);
      assert.equal(up.code, 0, up.output);
      assert.deepEqual(reported(up.output), []);
      const again = await withPack(p, ["preview"]);
      assert.equal(again.code, 0, again.output);
      assert.deepEqual(reported(again.output), []);
      const analyze = await withPack(p, ["policy", "analyze"]);
      assert.equal(analyze.code, 0, analyze.output);
      outputs.push((await p.ok(["destroy", "--yes"])).output);
      for (const host of ["fs01", "fs02"]) assert.equal(fleet.state(host).server.RequireSecuritySignature, true, `${host} stays secured after destroy`);
    });
  });

  describe("smb-restore-secure judges the originals the state records of a declared restore", () => {
    // fs01 (server-2025) does not require inbound signing: declaring it records server.requireSigning=false as the original.
    const declared = { name: "fs01", host: "fs01", ...COMPLIANT, onDelete: "restore" };
    const mandatory = { "smb-restore-secure": { enforcementLevel: "mandatory" } };

    it("an existing resource whose destroy would restore insecure values is reported (advisory by default), naming them; mandatory by config, it blocks preview", async () => {
      fleet.reset("fs01", "server-2025");
      const p = await project("restore");
      declare(p, [declared]);
      const up = await withPack(p, ["up", "--yes"]);
      assert.equal(up.code, 0, up.output);
      const preview = await withPack(p, ["preview"]);
      assert.equal(preview.code, 0, preview.output);
      const found = reported(preview.output);
      const r = only(found, "smb-restore-secure", "fs01");
      assert.equal(r.level, "advisory");
      assert.match(r.text, /destroy would restore server\.requireSigning=false on this host/);
      assert.doesNotMatch(r.text, /client\.requireSigning/, "client signing was required already: restoring it is no weakening");
      assert.deepEqual(found.filter((f) => f.rule !== "smb-restore-secure"), []);

      const blocked = await withPack(p, ["preview"], mandatory);
      assert.notEqual(blocked.code, 0, blocked.output);
      assert.equal(only(reported(blocked.output), "smb-restore-secure", "fs01").level, "mandatory");

      // The stack's state, judged without running the program.
      const analyze = await withPack(p, ["policy", "analyze"], mandatory);
      assert.notEqual(analyze.code, 0, analyze.output);
      assert.match(analyze.output, /smb-restore-secure/);
      assert.match(analyze.output, /destroy would restore server\.requireSigning=false/);
      await p.ok(["destroy", "--yes", "--skip-preview"]);
    });

    for (const [what, extra] of [
      ['onDelete: "retain"', { onDelete: "retain" }],
      ["onDelete left at its default", { onDelete: "default" }],
    ] as const) {
      it(`${what} passes, with the same recorded originals, even where the rule is mandatory`, async () => {
        fleet.reset("fs01", "server-2025");
        const p = await project(`restore-${extra.onDelete}`);
        declare(p, [{ ...declared, ...extra }]);
        outputs.push((await p.ok(["up", "--yes"])).output);
        const exported = JSON.parse(await p.exportState()).deployment.resources.find((r: { type: string }) => r.type === TYPE);
        assert.deepEqual(exported.outputs.originalSettings.server, { requireSigning: false }, "the originals the rule judges");
        const preview = await withPack(p, ["preview"], mandatory);
        assert.equal(preview.code, 0, preview.output);
        assert.deepEqual(reported(preview.output), []);
        outputs.push((await p.ok(["destroy", "--yes"])).output);
      });
    }

    it("a waiver for the stack rule passes, and its reason shows", async () => {
      fleet.reset("fs01", "server-2025");
      const p = await project("restore-waived");
      declare(p, [declared]);
      outputs.push((await p.ok(["up", "--yes"])).output);
      const preview = await withPack(p, ["preview"], {
        "smb-restore-secure": { enforcementLevel: "mandatory", waivers: [{ resource: "fs01", reason: "OPS-12: rebuilt from the golden image before any destroy" }] },
      });
      assert.equal(preview.code, 0, preview.output);
      const found = reported(preview.output);
      assert.deepEqual(found.filter((f) => f.level !== "advisory"), []);
      assert.match(only(found, "smb-waivers", "fs01").text, /smb-restore-secure waived for "fs01": OPS-12: rebuilt from the golden image before any destroy \(waived: destroy would restore server\.requireSigning=false/);
      outputs.push((await p.ok(["destroy", "--yes"])).output);
    });

    it('whenOriginalsUnknown: "violation" asks for the choice before the first up', async () => {
      const p = await project("restore-unknown");
      declare(p, [declared]);
      const lenient = await withPack(p, ["preview"], mandatory);
      assert.equal(lenient.code, 0, lenient.output);
      const strict = await withPack(p, ["preview"], { "smb-restore-secure": { enforcementLevel: "mandatory", whenOriginalsUnknown: "violation" } });
      assert.notEqual(strict.code, 0, strict.output);
      assert.match(only(reported(strict.output), "smb-restore-secure", "fs01").text, /not known yet and may be insecure/);
    });
  });

  describe("waivers and the organisation's config", () => {
    let p: PulumiProject;
    let urn: string;

    /** Two resources: legacy-nas leaves server signing unmanaged; lab accepts any host key. */
    const twoViolators = () =>
      declare(p, [
        { name: "legacy-nas", host: "fs02", client: { requireSigning: true } },
        { name: "lab", host: "fs03", ...COMPLIANT, connection: { hostKey: undefined, dangerouslyAcceptAnyHostKey: true } },
      ]);

    before(async () => {
      p = await project("config");
      urn = `urn:pulumi:test::smb-e2e-config::${TYPE}::lab`;
    });

    it("waived for a resource (by name, and by URN): preview passes and shows each waiver's reason as advisory", async () => {
      twoViolators();
      const waived = await withPack(p, ["preview"], {
        "smb-signing-required": { waivers: [{ resource: "legacy-nas", reason: "CHG-4711: NAS firmware without signing, until 2025-06" }] },
        "smb-host-identity-pinned": { waivers: [{ resource: urn, reason: "LAB-7: throw-away lab host, rebuilt nightly" }] },
        "smb-no-dangerous-options": { waivers: [{ resource: "lab", reason: "LAB-7: throw-away lab host, rebuilt nightly" }] },
      });
      assert.equal(waived.code, 0, waived.output);
      const found = reported(waived.output);
      assert.deepEqual(found.filter((r) => r.level !== "advisory"), []);
      assert.match(only(found, "smb-waivers", "legacy-nas").text, /smb-signing-required waived for "legacy-nas": CHG-4711: NAS firmware without signing, until 2025-06 \(waived: server\.requireSigning is not declared/);
      const lab = found.filter((r) => r.rule === "smb-waivers" && r.resource === "lab").map((r) => r.text).join("");
      assert.match(lab, /smb-host-identity-pinned waived for "urn:pulumi:test::smb-e2e-config::.*::lab": LAB-7: throw-away lab host/);
      assert.match(lab, /smb-no-dangerous-options waived for "lab": LAB-7/);
      // Waivers still apply with smb-waivers disabled; nothing shows them then.
      const hidden = await withPack(p, ["preview"], {
        "smb-signing-required": { waivers: [{ resource: "legacy-nas", reason: "CHG-4711" }] },
        "smb-host-identity-pinned": { waivers: [{ resource: "lab", reason: "LAB-7" }] },
        "smb-no-dangerous-options": { waivers: [{ resource: "lab", reason: "LAB-7" }] },
        "smb-waivers": "disabled",
      });
      assert.equal(hidden.code, 0, hidden.output);
      assert.deepEqual(reported(hidden.output), []);
    });

    it("a waiver covers only its rule and its resource", async () => {
      twoViolators();
      const partly = await withPack(p, ["preview"], {
        "smb-signing-required": { waivers: [{ resource: "lab", reason: "not the resource that violates it" }] },
        "smb-no-dangerous-options": { waivers: [{ resource: "lab", reason: "LAB-7" }] },
      });
      assert.notEqual(partly.code, 0, partly.output);
      const found = reported(partly.output);
      assert.equal(only(found, "smb-signing-required", "legacy-nas").level, "mandatory");
      assert.equal(only(found, "smb-host-identity-pinned", "lab").level, "mandatory");
      assert.equal(found.filter((r) => r.rule === "smb-no-dangerous-options").length, 0);
    });

    it("the config sets enforcement levels per rule: advisory reports without blocking, disabled not at all", async () => {
      twoViolators();
      const relaxed = await withPack(p, ["preview"], {
        "smb-signing-required": { enforcementLevel: "advisory" },
        "smb-host-identity-pinned": "advisory",
        "smb-no-dangerous-options": { enforcementLevel: "disabled" },
      });
      assert.equal(relaxed.code, 0, relaxed.output);
      const found = reported(relaxed.output);
      assert.equal(only(found, "smb-signing-required", "legacy-nas").level, "advisory");
      assert.equal(only(found, "smb-host-identity-pinned", "lab").level, "advisory");
      assert.equal(found.filter((r) => r.rule === "smb-no-dangerous-options").length, 0);
      // "all" sets every rule's level at once.
      const all = await withPack(p, ["preview"], { all: "advisory" });
      assert.equal(all.code, 0, all.output);
      const levels = reported(all.output);
      assert.ok(levels.length >= 3, all.output);
      for (const r of levels) assert.equal(r.level, "advisory", JSON.stringify(r));
    });

    it("the config sets a rule's parameters: sides, requireDeclared, requireHttpsForWinrm", async () => {
      declare(p, [{ name: "client-only", host: "fs02", client: { requireSigning: true } }]);
      const clientOnly = await withPack(p, ["preview"], { "smb-signing-required": { sides: ["client"] } });
      assert.equal(clientOnly.code, 0, clientOnly.output);
      const strict = await withPack(p, ["preview"], {
        "smb-signing-required": { sides: ["client"] },
        "smb-insecure-guest-logons-off": { requireDeclared: true },
      });
      assert.notEqual(strict.code, 0, strict.output);
      assert.match(only(reported(strict.output), "smb-insecure-guest-logons-off", "client-only").text, /is not declared/);
      declare(p, [{ name: "winrm-http", host: "fs02", ...COMPLIANT, connection: { transport: "winrm", port: 5985, hostKey: undefined } }]);
      const http = await withPack(p, ["preview"], { "smb-host-identity-pinned": { requireHttpsForWinrm: true } });
      assert.notEqual(http.code, 0, http.output);
      assert.match(only(reported(http.output), "smb-host-identity-pinned", "winrm-http").text, /connection\.https is not true/);
    });

    it("a malformed waiver is refused by the CLI, naming the rule and what is missing", async () => {
      twoViolators();
      const bad = await withPack(p, ["preview"], { "smb-signing-required": { waivers: [{ resource: "legacy-nas" }] } });
      assert.notEqual(bad.code, 0, bad.output);
      assert.match(bad.output, /smb-signing-required/);
      assert.match(bad.output, /reason/);
    });

    it("a parameter the rule does not have is refused, naming it and the ones the rule takes", async () => {
      twoViolators();
      const typo = await withPack(p, ["preview"], { "smb-signing-required": { sidez: ["client"] } });
      assert.notEqual(typo.code, 0, typo.output);
      assert.match(typo.output, /smb-signing-required has no parameter "sidez"; it takes sides, waivers \(and enforcementLevel\)/);
    });

    it("no CLI output of these tests holds the password", () => {
      assert.ok(outputs.length > 10);
      for (const text of outputs) assert.ok(!text.includes(SIM_PASSWORD), "a CLI output holds the password");
    });
  });

  describe("examples/pipeline: its CI steps, run as written against the fleet example", () => {
    const yml = fs.readFileSync(path.join(REPO_ROOT, "examples", "pipeline", "smb-signing.yml"), "utf8");
    let p: PulumiProject;

    /** The `pulumi ...` command of a step, with the workspace and the project directory of this test. */
    function step(name: string): string[] {
      const m = new RegExp(`- name: ${name}\\n(?:\\s+if: .*\\n)?\\s+run: (pulumi .*)\\n`).exec(yml);
      assert.ok(m, `examples/pipeline/smb-signing.yml has no step "${name}" running pulumi`);
      const args = m[1].replaceAll("${{ github.workspace }}", REPO_ROOT).split(/\s+/).slice(1);
      const cwd = args.indexOf("--cwd");
      assert.equal(args[cwd + 1], "examples/fleet", `step "${name}" runs another project`);
      args[cwd + 1] = p.dir;
      return args;
    }
    const run = async (name: string) => {
      const r = await p.run(step(name));
      outputs.push(r.output);
      return r;
    };

    before(async () => {
      fleet.reset("fs03", "server-2025");
      fleet.reset("ws01", "win11-24h2-pro");
      p = await fleetExampleStack(path.join(workRoot, "pipeline"), "fleet", fleet, [
        { name: "fs03", edition: "server" },
        { name: "ws01", edition: "workstation" },
      ], { compiled: true });
    });

    it("review, converge, review again, drift gate and the policy gate on the state all pass", async () => {
      for (const name of ["Review", "Converge", "Review", "Drift gate", "Policy gate on the state"]) {
        const r = await run(name);
        assert.equal(r.code, 0, `${name}:\n${r.output}`);
        assert.deepEqual(reported(r.output), [], `${name} reported violations`);
      }
      assert.equal(fleet.state("fs03").server.RequireSecuritySignature, true);
    });

    it("drift: the gate fails (7) on every scheduled run until converge runs, then passes", async () => {
      fleet.change("fs03", (s) => (s.server.RequireSecuritySignature = false));
      for (const attempt of [1, 2]) {
        const gate = await run("Drift gate");
        assert.equal(gate.code, 7, `gate run ${attempt}:\n${gate.output}`);
      }
      const converge = await run("Converge");
      assert.equal(converge.code, 0, converge.output);
      assert.equal(fleet.state("fs03").server.RequireSecuritySignature, true, "converge put the drifted value back");
      assert.equal((await run("Drift gate")).code, 0);
    });

    it("with onDelete restore, a host whose originals were insecure is reported by the advisory restore rule, by name, without failing converge or the policy gate", async () => {
      await p.setConfig("onDelete", "restore");
      const converge = await run("Converge");
      assert.equal(converge.code, 0, converge.output);
      const r = only(reported(converge.output), "smb-restore-secure", "fs03");
      assert.equal(r.level, "advisory");
      assert.match(r.text, /destroy would restore server\.requireSigning=false/);
      assert.equal(reported(converge.output).filter((x) => x.resource === "ws01").length, 0, "ws01 required signing before: its restore weakens nothing");
      const gate = await run("Policy gate on the state");
      assert.equal(gate.code, 0, gate.output);
      assert.match(gate.output, /smb-restore-secure/);
      // Back as the pipeline's stack is configured; its hosts stay signing after destroy.
      await p.ok(["config", "rm", "onDelete"]);
      assert.equal((await run("Converge")).code, 0);
      outputs.push((await p.ok(["destroy", "--yes"])).output);
      assert.equal(fleet.state("fs03").server.RequireSecuritySignature, true);
    });
  });

  describe("as npm ships it", () => {
    it("the launcher from the packed package, installed in a project outside the checkout, blocks a violation", async () => {
      // What `npm install pulumi-smb-signing` gives a user: the tarball's files, its dependencies
      // beside it (links to this checkout's, as installing them would need the registry).
      const consumer = fs.mkdtempSync(path.join(os.tmpdir(), "smb-pack-consumer-"));
      try {
        const modules = path.join(consumer, "node_modules");
        fs.mkdirSync(modules);
        for (const entry of fs.readdirSync(path.join(REPO_ROOT, "node_modules"))) {
          if (entry !== "pulumi-smb-signing" && !entry.startsWith(".")) fs.symlinkSync(path.join(REPO_ROOT, "node_modules", entry), path.join(modules, entry));
        }
        const packed = execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", consumer], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
        const installed = path.join(modules, "pulumi-smb-signing");
        fs.mkdirSync(installed);
        execFileSync("tar", ["-xzf", path.join(consumer, packed), "-C", installed, "--strip-components=1"]);
        const launcher = path.join(installed, "policy", "launcher");
        assert.ok(fs.statSync(launcher).isFile() && (fs.statSync(launcher).mode & 0o111) !== 0, "the packed launcher is not an executable file");

        fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "smb-pack-consumer", version: "1.0.0" }));
        fs.writeFileSync(path.join(consumer, "Pulumi.yaml"), "name: smb-pack-consumer\nruntime: nodejs\nmain: index.js\n");
        const h = fleet.host("fs02");
        // Server signing left unmanaged: smb-signing-required must block.
        fs.writeFileSync(
          path.join(consumer, "index.js"),
          `const pulumi = require("@pulumi/pulumi");\n` +
            `const { SmbSigningPolicy } = require("pulumi-smb-signing");\n` +
            `new SmbSigningPolicy("nas-01", { connection: { host: ${JSON.stringify(h.address)}, port: ${h.port}, user: "admin", ` +
            `password: new pulumi.Config().requireSecret("password"), hostKey: ${JSON.stringify(h.hostKeyFingerprint)} }, client: { requireSigning: true } });\n`,
        );
        const p = new PulumiProject(consumer, "dev");
        await p.init();
        await p.setSecretConfig("password", SIM_PASSWORD);
        const preview = await p.run(["preview", "--policy-pack", launcher]);
        outputs.push(preview.output);
        assert.notEqual(preview.code, 0, preview.output);
        assert.match(preview.output, /❌ smb-signing@v0\.1\.0 \(local: .*policy\/launcher\)/);
        assert.match(only(reported(preview.output), "smb-signing-required", "nas-01").text, /server\.requireSigning is not declared/);
      } finally {
        fs.rmSync(consumer, { recursive: true, force: true });
      }
    });
  });

  describe("the pack's rules are the ones listed", () => {
    it("the pack's rules are exactly the ones this file tests (a new rule needs its test here)", async () => {
      const { RULES: served } = await import("../../policy/rules");
      assert.deepEqual(served.map((r) => r.name), RULES);
    });
  });
});
