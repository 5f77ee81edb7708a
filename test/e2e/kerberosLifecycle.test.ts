// The lifecycle of SmbSigningPolicy over WinRM with Kerberos (connection.authentication
// "kerberos"), through the real Pulumi CLI, once per front end, each against its own simulated
// host joined to the domain (SimulatedFleet kerberos: a throw-away MIT realm, the hosts' SPNs in
// MIT's acceptor; both hosts refuse NTLM, so nothing but Kerberos can log on):
// - the TypeScript program (the dynamic resource) with the domain user's password from secret config;
// - Pulumi YAML through the provider plugin with no credential at all: the ticket cache that
//   `kinit -kt` wrote, named by KRB5CCNAME in the CLI's environment, as a CI job has it; its first
//   up is the README's Kerberos pipeline lines ("readme-test: kinit"), run as written.
// up creates; preview --diff shows a changed declaration and applies nothing; tampering is caught
// by the drift gate on every run until up --refresh converges; a Kerberos failure (a wrong
// password; the KDC down) fails an up naming its cause, and once it is mended refresh and destroy
// work, destroy (onDelete "restore") putting the host's originals back. No password in any CLI
// output or in the state.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SIM_KERBEROS_PASSWORD, SIM_KERBEROS_USER, SIM_REALM, SIM_WINRM_PORT, SimulatedFleet } from "../simhost/fleet";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CliResult, PulumiProject, REPO_ROOT } from "./pulumiCli";
import { readmeBlocksOf } from "./readmeBlocks";
import { declarePolicies, Front, PLUGIN_PROJECT_LINES, programStack, TYPE_OF } from "./stacks";

/** A password that is not the user's: test data, looked for in every output like the real one. */
const WRONG_PASSWORD = "Wr0ng-Krb-Pa55word-e81f";
/** Each front end's own host. Both refuse NTLM ("Restrict NTLM: Incoming NTLM traffic" deny all). */
const HOST_OF: Record<Front, string> = { dynamic: "krb-ts", plugin: "krb-yaml" };
const PRESET = "server-2025"; // requires outbound signing, not inbound; has the audit setting

interface Settings {
  client?: Record<string, boolean>;
  server?: Record<string, boolean>;
}
const DECLARED: Settings = { client: { requireSigning: true }, server: { requireSigning: true } };
const CHANGED: Settings = { client: { requireSigning: true }, server: { requireSigning: true, auditClientDoesNotSupportSigning: true } };

/** The YAML host colours its own messages whatever NO_COLOR says. */
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");

interface ExportedResource {
  type: string;
  urn: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

/** The SmbSigningPolicy resources of a `pulumi stack export`. */
function policiesIn(exported: string, type: string): ExportedResource[] {
  return (JSON.parse(exported).deployment.resources as ExportedResource[]).filter((r) => r.type === type);
}

/**
 * The mechanism the resource reports it logged on with: its output `authenticatedWith`
 * ("kerberos" | "ntlm" | "basic", WinRM only), as the state records it for either front end.
 * That output is being added on main in parallel: these assertions fail until it is merged, and
 * only they (their own test). Not a stack output: a YAML program naming a property the plugin's
 * schema lacks would fail as a whole.
 */
function assertMechanism(exported: string, type: string): void {
  const [policy] = policiesIn(exported, type);
  assert.ok(policy, `no ${type} in the state`);
  assert.equal(policy.outputs.authenticatedWith, "kerberos", `the resource's output authenticatedWith is ${JSON.stringify(policy.outputs.authenticatedWith)}`);
}

describe("Kerberos through the CLI: the lifecycle over WinRM with connection.authentication \"kerberos\"", () => {
  let fleet: SimulatedFleet;
  let workRoot: string;
  /** The ticket cache `kinit -kt` wrote for the user, as a pipeline's job does before `pulumi`. */
  let ccache: string;

  /** The keytab of the user (-norandkey: the password keeps working), for the README's kinit lines. */
  let keytab: string;

  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-e2e-krb-"));
    fleet = await SimulatedFleet.start(
      Object.values(HOST_OF).map((name) => ({ name, preset: PRESET, winrm: { restrictNtlmIncoming: true } }) as const),
      { winrm: true, kerberos: true },
    );
    const realm = fleet.realm!;
    // -norandkey: the keytab holds the keys the password gives, so the password keeps working.
    keytab = await realm.keytab(SIM_KERBEROS_USER, path.join(realm.dir, "pipeline.keytab"), { norandkey: true });
    ccache = await realm.kinit(SIM_KERBEROS_USER, { keytab, ccache: path.join(realm.dir, "krb5cc_pipeline") });
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });

  /**
   * The README's Kerberos pipeline lines ("readme-test: kinit"), run as written with bash in the
   * project: kinit -kt with the job's keytab into a FILE cache, then pulumi up with KRB5CCNAME.
   */
  async function readmeKinitUp(project: PulumiProject): Promise<CliResult> {
    const block = readmeBlocksOf(REPO_ROOT).find((b) => b.kind === "run" && b.label === "kinit");
    assert.ok(block && block.kind === "run", 'README.md marks its Kerberos pipeline lines "readme-test: kinit"');
    const cache = /-c FILE:(\S+)/.exec(block.script)?.[1];
    assert.ok(cache, "the README's kinit writes a FILE cache");
    const env: NodeJS.ProcessEnv = { ...project.env, KEYTAB: keytab, PRINCIPAL: `${SIM_KERBEROS_USER}@${SIM_REALM}` };
    delete env.KRB5CCNAME; // only what the README's lines set
    try {
      type Ran = { code?: number; stdout?: string; stderr?: string };
      const r: Ran = await promisify(execFile)("bash", ["-euo", "pipefail", "-c", block.script], { cwd: project.dir, env, maxBuffer: 64 * 1024 * 1024 }).catch((err: Ran) => err);
      const result = { code: typeof r.code === "number" ? r.code : 0, signal: null, stdout: r.stdout ?? "", stderr: r.stderr ?? "", output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
      assert.equal(result.code, 0, `README.md line ${block.line}: the kinit lines failed:\n${result.output}`);
      return result;
    } finally {
      fs.rmSync(cache, { force: true });
    }
  }
  /** One front end's stack, how it declares its settings, and how its Kerberos breaks and mends. */
  interface Lifecycle {
    project: PulumiProject;
    declare(settings: Settings): void;
    /** Breaks Kerberos for the next run; returns what its error must name. */
    breakKerberos(): Promise<RegExp>;
    mendKerberos(): Promise<void>;
  }

  /** The TypeScript program (test/e2e/program.ts): the connection the fleet gives, the password from secret config. */
  async function dynamicLifecycle(): Promise<Lifecycle> {
    const host = HOST_OF.dynamic;
    const project = await programStack(workRoot, "krb-ts", { password: SIM_KERBEROS_PASSWORD }, "dynamic");
    const connection = fleet.connection(host, "kerberos"); // its password is left to secret config
    return {
      project,
      declare: (s) => declarePolicies(project, fleet, [{ name: host, host, ...s, onDelete: "restore", connection }], "winrm"),
      breakKerberos: async () => {
        await project.setSecretConfig("password", WRONG_PASSWORD);
        return new RegExp(`Kerberos: KDC_ERR_PREAUTH_FAILED \\(24\\) for ${SIM_KERBEROS_USER}@${SIM_REALM.replace(/\./g, "\\.")}: wrong password`);
      },
      mendKerberos: () => project.setSecretConfig("password", SIM_KERBEROS_PASSWORD),
    };
  }

  /**
   * Pulumi YAML through the plugin: the account, authentication and KDC as provider configuration
   * (smbsigning:*), the resource naming its host and SPN, and no credential anywhere: the plugin
   * takes the ticket cache KRB5CCNAME names.
   */
  async function pluginLifecycle(): Promise<Lifecycle> {
    const host = HOST_OF.plugin;
    const h = fleet.host(host);
    const realm = fleet.realm!;
    const dir = path.join(workRoot, "krb-yaml");
    fs.mkdirSync(dir, { recursive: true });
    const yaml = (s: Settings) =>
      [
        "name: smb-krb-yaml",
        "runtime: yaml",
        "resources:",
        "  krb:",
        `    type: ${TYPE_OF.plugin}`,
        "    properties:",
        `      connection: { host: "${h.address}", port: ${SIM_WINRM_PORT}, servicePrincipal: "${SimulatedFleet.servicePrincipal(host)}" }`,
        ...(["client", "server"] as const).filter((side) => s[side]).map((side) => `      ${side}: ${JSON.stringify(s[side])}`),
        "      onDelete: restore",
        "outputs:",
        "  observed: ${krb.observed}",
        PLUGIN_PROJECT_LINES,
      ].join("\n");
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), yaml(DECLARED));
    const project = new PulumiProject(dir, "dev");
    project.env.KRB5CCNAME = ccache;
    await project.init();
    await project.setConfig("smbsigning:transport", "winrm");
    await project.setConfig("smbsigning:authentication", "kerberos");
    await project.setConfig("smbsigning:user", `${SIM_KERBEROS_USER}@${SIM_REALM}`);
    await project.setConfig("smbsigning:kdc", `${realm.kdcAddress}:${realm.port}`);
    return {
      project,
      declare: (s) => fs.writeFileSync(path.join(dir, "Pulumi.yaml"), yaml(s)),
      breakKerberos: async () => {
        // A new provider process has only the TGT from the cache: its service ticket needs the KDC.
        await realm.stopKdc();
        return new RegExp(`Kerberos: no KDC for realm ${SIM_REALM.replace(/\./g, "\\.")} answered \\(tried ${realm.kdcAddress.replace(/\./g, "\\.")}:${realm.port}\\)`);
      },
      mendKerberos: () => realm.startKdc(),
    };
  }

  for (const front of ["dynamic", "plugin"] as const) {
    describe(front === "dynamic" ? "a TypeScript program (the dynamic resource), with a password" : "Pulumi YAML through the provider plugin, with the ticket cache kinit -kt wrote (KRB5CCNAME)", () => {
      const host = HOST_OF[front];
      const TYPE = TYPE_OF[front];
      let life: Lifecycle;
      let p: PulumiProject;
      /** What the host had before the first up. */
      let original: ReturnType<SimulatedFleet["state"]>;
      /** Every CLI output and state export, searched for passwords at the end. */
      const outputs: string[] = [];
      const run = async (args: string[]): Promise<CliResult> => {
        const r = await p.run(args);
        outputs.push(r.output);
        return { ...r, output: plain(r.output) };
      };
      const ok = async (args: string[]): Promise<CliResult> => {
        const r = await run(args);
        assert.equal(r.code, 0, `pulumi ${args.join(" ")} exited ${r.code}:\n${r.output}`);
        return r;
      };
      const exportState = async () => {
        const exported = await p.exportState();
        outputs.push(exported);
        return exported;
      };

      before(async () => {
        original = fleet.reset(host, PRESET);
        life = front === "dynamic" ? await dynamicLifecycle() : await pluginLifecycle();
        p = life.project;
        // Never /etc/krb5.conf (it may name KDCs off this machine): the realm's own configuration.
        p.env.KRB5_CONFIG = fleet.realm!.env.KRB5_CONFIG;
        if (front === "dynamic") delete p.env.KRB5CCNAME;
        life.declare(DECLARED);
      });

      it(
        front === "plugin"
          ? "up (the README's kinit -kt and KRB5CCNAME lines, as written) creates the resource over Kerberos: the host requires signing both ways, and no NTLM message reached it"
          : "up creates the resource over Kerberos: the host requires signing both ways, and no NTLM message reached it",
        async () => {
          const emulator = fleet.winrm.get(host)!;
          const before = emulator.requests;
          const up = front === "plugin" ? await readmeKinitUp(p).then((r) => (outputs.push(r.output), { ...r, output: plain(r.output) })) : await ok(["up", "--yes"]);
          assert.match(up.output, /\+ 2 created/);
          const s = fleet.state(host);
          assert.equal(s.client.RequireSecuritySignature, true);
          assert.equal(s.server.RequireSecuritySignature, true);
          const records = emulator.recordsAfter(before);
          assert.ok(records.some((r) => r.authorization === "Negotiate/gss"), "no Kerberos token reached the host");
          assert.ok(!records.some((r) => /^Negotiate\/\d/.test(r.authorization)), "an NTLM message reached the host");
          assert.deepEqual(emulator.refusals, []);
          const observed = JSON.parse((await ok(["stack", "output", "observed", "--json"])).stdout);
          assert.equal(observed.server.requireSigning, true);
        },
      );

      it("the resource reports it authenticated with Kerberos (assertMechanism: output authenticatedWith)", async () => {
        assertMechanism(await exportState(), TYPE);
      });

      it("a changed declaration: preview --diff shows exactly the change, and nothing is applied", async () => {
        const writes = fleet.state(host).counters.writes;
        life.declare(CHANGED);
        try {
          const preview = await ok(["preview", "--diff"]);
          assert.match(preview.output, /~ .*SmbSigningPolicy: \(update\)/);
          assert.match(preview.output, /\+ auditClientDoesNotSupportSigning\s*: true/);
          assert.doesNotMatch(preview.output, /replace/);
          assert.equal(fleet.state(host).server.AuditClientDoesNotSupportSigning, false);
          assert.equal(fleet.state(host).counters.writes, writes);
        } finally {
          life.declare(DECLARED);
        }
      });

      it("tampering: the drift gate (preview --refresh --expect-no-changes) exits 7 naming the value, on every run until up --refresh converges", async () => {
        fleet.change(host, (s) => (s.server.RequireSecuritySignature = false));
        for (const attempt of [1, 2]) {
          const gate = await run(["preview", "--refresh", "--diff", "--expect-no-changes"]);
          assert.equal(gate.code, 7, `gate ${attempt}: ${gate.output}`);
          assert.match(gate.output, /requireSigning\s*: false => true/);
          assert.equal(fleet.state(host).server.RequireSecuritySignature, false, "the gate wrote to the host");
        }
        const up = await ok(["up", "--refresh", "--yes"]);
        assert.match(up.output, /~ 1 updated/);
        assert.equal(fleet.state(host).server.RequireSecuritySignature, true);
        await ok(["preview", "--refresh", "--expect-no-changes"]);
      });

      it("a Kerberos failure fails up of a changed declaration naming its cause, writing nothing; mended, refresh works", async () => {
        life.declare(CHANGED);
        const cause = await life.breakKerberos();
        const writes = fleet.state(host).counters.writes;
        const failed = await run(["up", "--yes"]).finally(() => life.mendKerberos());
        assert.notEqual(failed.code, 0, failed.output);
        assert.match(failed.output, cause);
        assert.equal(fleet.state(host).server.AuditClientDoesNotSupportSigning, false);
        assert.equal(fleet.state(host).counters.writes, writes);
        const refresh = await ok(["refresh", "--yes"]);
        assert.doesNotMatch(refresh.output, /error/i);
        const [policy] = policiesIn(await exportState(), TYPE);
        assert.equal((policy.outputs.server as Record<string, unknown>).requireSigning, true);
      });

      it("state holds no plaintext password: the password is ciphertext (TypeScript) or absent (the ticket cache)", async () => {
        const exported = await exportState();
        const [policy] = policiesIn(exported, TYPE);
        const connection = (where: "inputs" | "outputs") => policy[where].connection as Record<string, unknown>;
        if (front === "dynamic") {
          assert.ok((connection("inputs").password as { ciphertext?: string }).ciphertext, "the password input is not a secret");
          assert.ok((connection("outputs").password as { ciphertext?: string }).ciphertext, "the password output is not a secret");
        } else {
          for (const where of ["inputs", "outputs"] as const) {
            assert.equal(connection(where).password, undefined);
            assert.equal(connection(where).ccache, undefined, "the ticket cache's name was written into the resource");
          }
          assert.equal(connection("inputs").authentication, "kerberos", "the configured authentication is the resource's checked input");
        }
        for (const secret of [SIM_KERBEROS_PASSWORD, WRONG_PASSWORD]) assert.ok(!exported.includes(secret), "the state holds a password");
      });

      it("destroy (onDelete restore) puts the host's originals back; no CLI output or state held a password", async () => {
        const destroy = await ok(["destroy", "--yes"]);
        assert.match(destroy.output, /- 2 deleted|2 deleted/);
        const s = fleet.state(host);
        assert.deepEqual(
          [s.client.RequireSecuritySignature, s.server.RequireSecuritySignature, s.server.AuditClientDoesNotSupportSigning],
          [original.client.RequireSecuritySignature, original.server.RequireSecuritySignature, original.server.AuditClientDoesNotSupportSigning],
        );
        assert.equal(s.server.RequireSecuritySignature, false, "server-2025 does not require inbound signing");
        assert.equal(s.record, undefined);
        for (const text of outputs) {
          for (const secret of [SIM_KERBEROS_PASSWORD, WRONG_PASSWORD]) assert.ok(!text.includes(secret), "a CLI output or the state holds a password");
        }
      });
    });
  }
});
