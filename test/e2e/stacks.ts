// Stacks of the e2e program (program.ts) for the end-to-end tests: a project directory with its
// own backend and secret config, and the JSON spec of the SmbSigningPolicy resources it declares
// on simulated hosts. Credentials reach the program only through secret config.
import * as fs from "node:fs";
import * as path from "node:path";
import { SIM_PASSWORD, SIM_USER, type SimulatedFleet } from "../simhost/fleet";
import { PulumiProject, REPO_ROOT } from "./pulumiCli";
import { PLUGIN_RESOURCE_TYPE, RESOURCE_TYPE } from "../../provider/domain/policy";

export type Transport = "ssh" | "winrm";

/**
 * The two front ends of one provider: the dynamic resource (TypeScript programs) and the provider
 * plugin (any language, `pulumi import`). The e2e scenarios that say how SmbSigningPolicy behaves
 * (faults, safety rules, drift, secrets) run once per front end.
 */
export const FRONTS = ["dynamic", "plugin"] as const;
export type Front = (typeof FRONTS)[number];

/**
 * The transports a front end's scenarios run over. The dynamic resource runs them over both; the
 * provider plugin over SSH only: the transports lie below both front ends (operations.ts and down
 * are the same code), so what differs for the plugin (its Check, Diff, state translation and the
 * partial state it returns after a failure) is covered once. The plugin's WinRM runs:
 * pluginYaml.test.ts and kerberosLifecycle.test.ts.
 */
export function transportsOf(front: Front): readonly Transport[] {
  return front === "plugin" ? ["ssh"] : ["ssh", "winrm"];
}

/** The type token a front end's resources have in state. */
export const TYPE_OF: Record<Front, string> = { dynamic: RESOURCE_TYPE, plugin: PLUGIN_RESOURCE_TYPE };

/** Where this checkout's plugin launcher lies (bin/pulumi-resource-smbsigning). */
export const PLUGIN_DIR = path.join(REPO_ROOT, "bin");

/** Pulumi.yaml's lines that make a project use this checkout's plugin (a local plugin path, no install). */
export const PLUGIN_PROJECT_LINES = `plugins:\n  providers:\n    - name: smbsigning\n      path: ${PLUGIN_DIR}\n`;

/**
 * Pulumi.yaml's runtime for a project whose program is JavaScript already (compiled, or written
 * as .js): without `typescript: false` the Node.js language host registers ts-node, which loads
 * the TypeScript compiler on every program run (about half a second of CPU) for nothing. The
 * projects that test the README or an example as shipped keep the plain `runtime: nodejs`.
 */
export const JS_RUNTIME = "runtime:\n  name: nodejs\n  options:\n    typescript: false\n";

/** A suite's title for a front end: the dynamic resource's keeps the title it always had. */
export function titleFor(title: string, front: Front): string {
  return front === "dynamic" ? title : `${title} (provider plugin)`;
}

/** A stack of program.ts in `workRoot/name`, with these secret config values set, declaring its resources through `front`. */
export async function programStack(workRoot: string, name: string, secrets: Record<string, string>, front: Front = "dynamic"): Promise<PulumiProject> {
  const dir = path.join(workRoot, name);
  fs.mkdirSync(dir, { recursive: true });
  const main = path.relative(dir, path.join(__dirname, "program.js"));
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: smb-e2e-${name}\n${JS_RUNTIME}main: ${main}\n${front === "plugin" ? PLUGIN_PROJECT_LINES : ""}`);
  const p = new PulumiProject(dir, "test");
  p.env.SMB_E2E_SPEC = path.join(dir, "program.json");
  p.env.SMB_E2E_FRONT = front;
  await p.init();
  for (const [key, value] of Object.entries(secrets)) await p.setSecretConfig(key, value);
  return p;
}

/**
 * A stack of a small JavaScript program written for one test (`lines` become index.js) in
 * `workRoot/name`, with its own backend; the stack is named as the project. `plugin`: the
 * project also loads this checkout's provider plugin (PLUGIN_PROJECT_LINES), for programs that
 * declare resources through its SDK (`smbsigning.SmbSigningPolicy`).
 */
export async function scriptStack(workRoot: string, name: string, lines: string[], options: { plugin?: boolean } = {}): Promise<PulumiProject> {
  const dir = path.join(workRoot, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${name}\n${JS_RUNTIME}main: index.js\n${options.plugin ? PLUGIN_PROJECT_LINES : ""}`);
  fs.writeFileSync(path.join(dir, "index.js"), [...lines, ""].join("\n"));
  const p = new PulumiProject(dir, name);
  await p.init();
  return p;
}

export interface DeclaredPolicy {
  name: string;
  host: string;
  client?: object;
  server?: object;
  /**
   * Default "restore": most scenarios follow a host back to its originals. "default" leaves the
   * input out, so the resource's own default applies (retain).
   */
  onDelete?: string;
  import?: string;
  /** Other top-level inputs (acknowledgeInsecureSettings, takeOwnership, ...). */
  extra?: object;
  /** An earlier resource (by name) whose outputs this one waits for (program.ts `after`). */
  after?: string;
  /** Connection properties over the fleet's defaults (user, hostKey, ...). */
  connection?: Record<string, unknown>;
  /** Connection property -> secret config key; default: the password from "password". */
  secretConfig?: Record<string, string>;
}

/** Writes the program's spec: the fleet's connection for each host, credentials left to config. */
export function declarePolicies(p: PulumiProject, fleet: SimulatedFleet, resources: DeclaredPolicy[], transport: Transport = "ssh"): void {
  const spec = {
    resources: resources.map((r) => {
      const secretConfig = r.secretConfig ?? { password: "password" };
      const connection: Record<string, unknown> = { ...fleet.connection(r.host, transport === "winrm" ? "winrm" : "password"), ...r.connection };
      for (const field of ["password", ...Object.keys(secretConfig)]) delete connection[field];
      return {
        name: r.name,
        import: r.import,
        secretConfig,
        after: r.after,
        args: { connection, client: r.client, server: r.server, onDelete: r.onDelete === "default" ? undefined : (r.onDelete ?? "restore"), ...r.extra },
      };
    }),
  };
  fs.writeFileSync(path.join(p.dir, "program.json"), JSON.stringify(spec, null, 2));
}

/** A host of the fleet example's `hosts` config: a simulated host and the edition whose settings it gets. */
export interface FleetExampleHost {
  name: string;
  edition: string;
}

/**
 * A stack of examples/fleet in `dir` (created), its `hosts` config naming these simulated hosts
 * as a user would (address, port, pinned host key, edition), the user in plain config and the
 * password as a secret. `compiled` runs dist/examples/fleet/index.js (the same code without
 * ts-node's start-up), as a pipeline that builds first would.
 */
export async function fleetExampleStack(dir: string, stack: string, fleet: SimulatedFleet, hosts: FleetExampleHost[], options: { compiled?: boolean } = {}): Promise<PulumiProject> {
  fs.mkdirSync(dir, { recursive: true });
  const program = options.compiled ? path.join(REPO_ROOT, "dist", "examples", "fleet", "index.js") : path.join(REPO_ROOT, "examples", "fleet", "index.ts");
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: smb-signing-fleet\n${options.compiled ? JS_RUNTIME : "runtime: nodejs\n"}main: ${path.relative(dir, program)}\n`);
  const project = new PulumiProject(dir, stack);
  await project.init();
  const config = hosts.map((h) => {
    const s = fleet.host(h.name);
    return { name: h.name, host: s.address, port: s.port, hostKey: s.hostKeyFingerprint, edition: h.edition };
  });
  fs.appendFileSync(path.join(dir, `Pulumi.${stack}.yaml`), `config:\n  smb-signing-fleet:user: ${SIM_USER}\n  smb-signing-fleet:hosts: ${JSON.stringify(config)}\n`);
  await project.setSecretConfig("password", SIM_PASSWORD);
  return project;
}

/** A host of the sharded fleet example's inventory: a simulated host, its edition and its site (the shard). */
export interface ShardedExampleHost extends FleetExampleHost {
  site: string;
}

/**
 * Stacks of examples/fleet-sharded (compiled) in `dir` (created), one per site, all in one
 * project and backend as a pipeline's jobs would share them: the inventory names the simulated
 * hosts as a user would (address, port, pinned host key, edition, site); each stack has the
 * password as a secret and, as `inventory`, the inventory's path (the program runs in dist/).
 */
export async function shardedExampleStacks(dir: string, fleet: SimulatedFleet, hosts: ShardedExampleHost[], config: Record<string, string> = {}): Promise<Record<string, PulumiProject>> {
  fs.mkdirSync(dir, { recursive: true });
  const program = path.join(REPO_ROOT, "dist", "examples", "fleet-sharded", "index.js");
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: smb-signing-sites\n${JS_RUNTIME}main: ${path.relative(dir, program)}\n`);
  const inventory = {
    user: SIM_USER,
    hosts: hosts.map((h) => {
      const s = fleet.host(h.name);
      return { name: h.name, host: s.address, port: s.port, hostKey: s.hostKeyFingerprint, edition: h.edition, site: h.site };
    }),
  };
  fs.writeFileSync(path.join(dir, "inventory.json"), JSON.stringify(inventory, null, 2));
  const stacks: Record<string, PulumiProject> = {};
  for (const site of [...new Set(hosts.map((h) => h.site))].sort()) {
    stacks[site] = new PulumiProject(dir, site);
    await stacks[site].init();
    await stacks[site].setSecretConfig("password", SIM_PASSWORD);
    await stacks[site].setConfig("inventory", path.join(dir, "inventory.json"));
    for (const [key, value] of Object.entries(config)) await stacks[site].setConfig(key, value);
  }
  return stacks;
}
