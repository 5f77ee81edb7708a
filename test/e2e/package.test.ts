// The package as a consumer gets it: `npm pack`, installed from the tarball into a scratch project
// outside this repository (under another name, as `npm install alias@npm:...` would), a
// TypeScript program the README's way (a private key stored with `pulumi config set --secret key
// < file`), on Node.js 22, the oldest LTS the package supports (the rest of the suite runs on 24),
// and the real CLI's preview, up, refresh and destroy against a simulated host. And the provider
// plugin it ships, serving a Pulumi YAML program from the consumer's node_modules.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SIM_USER, SimulatedFleet } from "../simhost/fleet";
import { PulumiProject, pulumiCliDir, REPO_ROOT } from "./pulumiCli";

/** The oldest Node.js LTS line package.json's engines admits, as npm's `node` package ships it. */
const NODE_22 = "22.23.3";

/** The name the consumer installs the package under: not its own, so a self-require by name fails. */
const ALIAS = "windows-smb-signing";

const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { SmbSigningPolicy } from "${ALIAS}";

const config = new pulumi.Config();
const policy = new SmbSigningPolicy("fs01", {
  connection: {
    host: config.require("host"),
    port: config.requireNumber("port"),
    user: config.require("user"),
    privateKey: config.requireSecret("privateKey"),
    hostKey: config.require("hostKey"),
  },
  client: { requireSigning: true },
  server: { requireSigning: true },
});
export const observed = policy.observed;
export const nodeVersion = process.version;
`;

interface PackedFile {
  path: string;
}

let fleet: SimulatedFleet;
let scratch: string;
let tarball: string;
let packed: PackedFile[];
let manifest: { scripts?: Record<string, string>; version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };

function npm(args: string[], cwd: string): string {
  return execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false" } });
}

describe("the npm package as a consumer installs it", () => {
  before(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "smb-consumer-"));
    assert.ok(path.relative(REPO_ROOT, scratch).startsWith(".."), "the scratch project lies outside the repository");
    const [pack] = JSON.parse(npm(["pack", "--json", "--pack-destination", scratch], REPO_ROOT)) as Array<{ filename: string; files: PackedFile[] }>;
    tarball = path.join(scratch, pack.filename);
    packed = pack.files;
    manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
    fleet = await SimulatedFleet.start([{ name: "fs01", preset: "server-2022" }]);
  });
  after(async () => {
    await fleet?.stop();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it("ships the licence, the README, the compiled provider with its types and the scripts; no source maps, no TypeScript sources, no tests", () => {
    const files = packed.map((f) => f.path);
    for (const must of ["LICENSE", "README.md", "package.json", "dist/provider/index.js", "dist/provider/index.d.ts", "dist/provider/operations.js", "provider/scripts/smb-signing.ps1", "provider/scripts/bootstrap.ps1", "bin/pulumi-resource-smbsigning", "dist/provider/plugin/main.js", "provider/plugin/schema.json"]) {
      assert.ok(files.includes(must), `the tarball lacks ${must}`);
    }
    const stray = files.filter((f) => f.endsWith(".map") || (f.endsWith(".ts") && !f.endsWith(".d.ts")) || f.startsWith("dist/test/") || f.startsWith("test/"));
    assert.deepEqual(stray, []);
    for (const js of files.filter((f) => f.endsWith(".js"))) {
      assert.doesNotMatch(fs.readFileSync(path.join(REPO_ROOT, js), "utf8"), /sourceMappingURL/, `${js} points at a source map the tarball does not hold`);
    }
  });

  it("runs no script when installed (npm lists prepare, preinstall, install and postinstall as install scripts)", () => {
    const installScripts = Object.keys(manifest.scripts ?? {}).filter((s) => ["prepare", "preinstall", "install", "postinstall"].includes(s));
    assert.deepEqual(installScripts, []);
  });

  it("installed under another name into a project outside the repository, previews, applies, refreshes and destroys through the real CLI", async () => {
    const dir = path.join(scratch, "project");
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, "package.json"),
      JSON.stringify(
        {
          name: "smb-consumer",
          private: true,
          dependencies: { "@pulumi/pulumi": manifest.dependencies["@pulumi/pulumi"], [ALIAS]: `file:${tarball}` },
          devDependencies: { typescript: manifest.devDependencies.typescript, "@types/node": manifest.devDependencies["@types/node"], node: NODE_22 },
        },
        null,
        2,
      ),
    );
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, target: "ES2022", module: "commonjs", moduleResolution: "node", esModuleInterop: true, skipLibCheck: true } }));
    fs.writeFileSync(path.join(dir, "index.ts"), PROGRAM);
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: smb-consumer\nruntime: nodejs\n");
    // From the npm cache the repository's own `npm ci` filled (CI runs it first); the registry otherwise.
    npm(["install", "--prefer-offline", "--no-package-lock"], dir);
    assert.ok(fs.existsSync(path.join(dir, "node_modules", ALIAS, "dist", "provider", "operations.js")));
    assert.ok(!fs.existsSync(path.join(dir, "node_modules", "pulumi-smb-signing")), "the package's own name must not resolve in the consumer");

    const p = new PulumiProject(dir, "dev", { consumer: true });
    await p.init();
    const h = fleet.host("fs01");
    await p.setConfig("host", h.address);
    await p.setConfig("port", String(h.port));
    await p.setConfig("user", SIM_USER);
    await p.setConfig("hostKey", h.hostKeyFingerprint);
    // The README's way to store a multi-line secret: the key file on stdin.
    const key = fs.readFileSync(path.join(fleet.workDir, "client_key"), "utf8");
    await p.ok(["config", "set", "--secret", "privateKey"], key);
    assert.doesNotMatch(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8"), /PRIVATE KEY/);

    const preview = await p.ok(["preview", "--diff"]);
    assert.match(preview.output, /\+ pulumi-nodejs:dynamic\/smb:SmbSigningPolicy: \(create\)/);
    assert.equal(fleet.state("fs01").counters.writes, 0);

    await p.ok(["up", "--yes"]);
    assert.equal(fleet.state("fs01").server.RequireSecuritySignature, true);
    assert.equal(JSON.parse((await p.ok(["stack", "output", "nodeVersion", "--json"])).stdout), `v${NODE_22}`);
    await p.ok(["refresh", "--yes", "--expect-no-changes"]);
    await p.ok(["destroy", "--yes"]);
    assert.equal(fleet.state("fs01").server.RequireSecuritySignature, true, "onDelete's default (retain) leaves the host secured");
    // A fresh host for the next test (this one keeps the record of originals the destroy retained).
    fleet.reset("fs01", "server-2022");
  });

  it("its provider plugin (bin/pulumi-resource-smbsigning) serves a Pulumi YAML program from the consumer's node_modules, on the consumer's Node.js", async () => {
    const installed = path.join(scratch, "project", "node_modules", ALIAS);
    const launcher = path.join(installed, "bin", "pulumi-resource-smbsigning");
    assert.ok(fs.statSync(launcher).mode & 0o111, "the launcher is not executable");
    assert.ok(fs.existsSync(path.join(scratch, "project", "node_modules", ".bin", "pulumi-resource-smbsigning")), "npm did not link the launcher into node_modules/.bin");
    // A directory of its own: the YAML host reads every .yaml file below the program's directory.
    const dir = path.join(scratch, "yaml");
    fs.mkdirSync(dir);
    const h = fleet.host("fs01");
    fs.writeFileSync(
      path.join(dir, "Pulumi.yaml"),
      [
        "name: smb-consumer-yaml",
        "runtime: yaml",
        "plugins:",
        "  providers:",
        "    - name: smbsigning",
        `      path: ${path.dirname(launcher)}`,
        "resources:",
        "  fs01:",
        "    type: smbsigning:index:SmbSigningPolicy",
        "    properties:",
        `      connection: { host: "${h.address}", port: ${h.port}, hostKey: "${h.hostKeyFingerprint}" }`,
        "      server: { requireSigning: true }",
        "      onDelete: restore",
        "",
      ].join("\n"),
    );
    const p = new PulumiProject(dir, "dev", { consumer: true });
    // The consumer's Node.js 22 runs the plugin: its node_modules/.bin first, nothing of this checkout.
    p.env.PATH = [pulumiCliDir(), path.join(scratch, "project", "node_modules", ".bin"), "/usr/bin", "/bin"].join(path.delimiter);
    await p.init();
    await p.setConfig("smbsigning:user", SIM_USER);
    await p.ok(["config", "set", "--secret", "smbsigning:privateKey"], fs.readFileSync(path.join(fleet.workDir, "client_key"), "utf8"));
    const up = await p.ok(["up", "--yes"]);
    assert.doesNotMatch(up.output, /from \$PATH/);
    assert.equal(fleet.state("fs01").server.RequireSecuritySignature, true);
    await p.ok(["destroy", "--yes"]);
    assert.equal(fleet.state("fs01").server.RequireSecuritySignature, false);
  });
});
