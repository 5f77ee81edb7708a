// README.md, tested as written: the blocks it marks (readmeBlocks.ts) are run literally, in order,
// by bash, in a scratch project outside this repository, against a simulated Windows 11 24H2 Home
// host (which does not require signing): the quickstart (install from the `npm pack` tarball, a
// stack on a local backend, config, preview and up with the shipped policy pack at its defaults),
// then the pipeline recipe (the drift gate fails with 7 while the host is drifted, every time,
// the converge command converges, the gate passes), then destroy. The README is read anew on
// every run. Its host-specific values come from the environment variables its "env" block
// exports, which this test sets; nothing else is substituted. Each block runs under
// `bash -eu -o pipefail`, so a failing command anywhere in it fails the block.
//
// PATH holds exactly: the Pulumi CLI's directory (tools/pulumi-cli/install.sh), the directory of
// the Node.js running this test, and a directory of links to the other commands the blocks use
// (TOOLS). HOME is the scratch directory; PULUMI_HOME is set beside it because the CLI finds its
// home through the account database, not HOME. npm uses this machine's cache and user config
// (registry, CA); the CLI's update check and plugin downloads are off, so nothing but npm leaves
// loopback.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SIM_USER, SimulatedFleet } from "../simhost/fleet";
import { pulumiCliDir, REPO_ROOT } from "./pulumiCli";
import { exportedNames, type ReadmeBlock, readmeBlocks, readmeBlocksOf } from "./readmeBlocks";

/**
 * Commands the README's blocks use besides pulumi and node, and sh, which npm runs packages'
 * install scripts with (a block using another command fails: add it here, if a reader has it too).
 */
const TOOLS = ["npm", "mkdir", "sh"];

/** The CLI's exit code when changes were found where none were expected (ExitNoChanges). */
const DRIFT = 7;

/** Variables the environment passes through to npm: this machine's CA and proxy set-up, if any. */
const PASS_THROUGH = ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy"];

interface Ran {
  code: number;
  output: string;
}

let fleet: SimulatedFleet;
let scratch: string;
let project: string;
let env: NodeJS.ProcessEnv;
let blocks: ReadmeBlock[];
/** The steps that passed so far: each later step needs the ones before it. */
const passed = new Set<string>();

function runBlocks(label: string): ReadmeBlock[] {
  const found = blocks.filter((b) => b.kind === "run" && b.label === label);
  assert.ok(found.length > 0, `README.md marks no "readme-test: ${label}" block`);
  return found;
}

/** Runs one shell block as written, in the project directory. */
function bash(block: ReadmeBlock & { kind: "run" }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/bash", ["-eu", "-o", "pipefail", "-c", block.script], { cwd: project, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, output }));
  });
}

/** Runs every block of a label in order; each must exit with `expected`. Returns their output. */
async function run(label: string, expected = 0): Promise<string> {
  let all = "";
  for (const block of runBlocks(label)) {
    if (block.kind !== "run") continue;
    const r = await bash(block);
    all += r.output;
    if (r.code !== expected) {
      throw new Error(`README.md line ${block.line} ("readme-test: ${label}") exited ${r.code}, expected ${expected}:\n${block.script}\n--- output ---\n${r.output}`);
    }
  }
  return all;
}

function writeFileBlock(block: ReadmeBlock & { kind: "file" }): void {
  assert.ok(!path.isAbsolute(block.name) && !block.name.split("/").includes(".."), `README.md line ${block.line}: ${block.name} must stay in the project`);
  fs.mkdirSync(path.dirname(path.join(project, block.name)), { recursive: true });
  fs.writeFileSync(path.join(project, block.name), block.text);
}

/** A directory of links to the tools a reader's shell has, and nothing else. */
function toolsDir(dir: string): string {
  fs.mkdirSync(dir);
  for (const tool of TOOLS) {
    const found = execFileSync("/bin/sh", ["-c", `command -v "$0"`, tool], { encoding: "utf8" }).trim();
    fs.symlinkSync(fs.realpathSync(found), path.join(dir, tool));
  }
  return dir;
}

describe("README.md as written: quickstart and pipeline recipe against a simulated host", () => {
  before(async function () {
    this.timeout(120_000);
    blocks = readmeBlocksOf(REPO_ROOT);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "smb-readme-"));
    assert.ok(path.relative(REPO_ROOT, scratch).startsWith(".."), "the scratch project lies outside the repository");
    project = path.join(scratch, "project");
    const home = path.join(scratch, "home");
    fs.mkdirSync(project);
    fs.mkdirSync(home);
    // The tarball the README's install command names, as `npm pack` in a clone writes it.
    const [pack] = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", project], { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })) as Array<{ filename: string }>;
    assert.ok(fs.existsSync(path.join(project, pack.filename)));

    fleet = await SimulatedFleet.start([{ name: "fs01", preset: "win11-24h2-home" }]);
    const h = fleet.host("fs01");
    const reader: Record<string, string> = {
      SMB_HOST: h.address,
      SMB_PORT: String(h.port),
      SMB_USER: SIM_USER,
      SMB_HOST_KEY: h.hostKeyFingerprint,
      SMB_KEY_FILE: path.join(fleet.workDir, "client_key"),
      PULUMI_CONFIG_PASSPHRASE: "readme-test-passphrase",
    };
    const envBlocks = blocks.filter((b) => b.kind === "run" && b.label === "env");
    assert.equal(envBlocks.length, 1, 'README.md marks one "readme-test: env" block: the variables a reader sets first');
    assert.deepEqual(exportedNames((envBlocks[0] as { script: string }).script).sort(), Object.keys(reader).sort(), "the README's env block exports exactly the variables this test sets");

    const machine = Object.fromEntries(PASS_THROUGH.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!]));
    env = {
      ...machine,
      ...reader,
      HOME: home,
      PULUMI_HOME: path.join(home, ".pulumi"),
      PATH: [pulumiCliDir(), path.dirname(process.execPath), toolsDir(path.join(scratch, "tools"))].join(path.delimiter),
      LANG: "C.UTF-8",
      NO_COLOR: "1",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      npm_config_cache: path.join(os.homedir(), ".npm"),
      npm_config_userconfig: path.join(os.homedir(), ".npmrc"),
      npm_config_prefer_offline: "true",
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
    };
  });
  after(async () => {
    await fleet?.stop();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it("parses every marked block and knows every label", () => {
    const labels = new Set(blocks.map((b) => (b.kind === "file" ? "file" : b.label)));
    assert.deepEqual([...labels].filter((l) => !["env", "file", "quickstart", "gate", "converge", "destroy", "kinit"].includes(l)), [], "a label this test does not run");
    assert.ok(blocks.some((b) => b.kind === "file" && b.name === "index.ts"), "README.md marks its program as index.ts");
    // "kinit" (the Kerberos pipeline lines) runs in test/e2e/kerberosLifecycle.test.ts, against a realm.
    assert.equal(blocks.filter((b) => b.kind === "run" && b.label === "kinit").length, 1);
    const firstCode = /^```(\w*)\n([\s\S]*?)^```/m.exec(fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8"));
    const program = blocks.find((b) => b.kind === "file" && b.name === "index.ts") as { text: string };
    assert.equal(firstCode?.[2], program.text, "the quickstart's program is the README's first example");
  });

  it("the quickstart: npm install of the tarball, a stack on a local backend, config, preview and up with the shipped policy pack", async function () {
    this.timeout(300_000);
    let output = "";
    for (const block of blocks) {
      if (block.kind === "file") writeFileBlock(block);
      else if (block.label === "quickstart") {
        const r = await bash(block);
        output += r.output;
        if (r.code !== 0) throw new Error(`README.md line ${block.line} (quickstart) exited ${r.code}:\n${block.script}\n--- output ---\n${r.output}`);
      }
    }
    assert.match(output, /smb-signing/, "the policy pack ran");
    const s = fleet.state("fs01");
    assert.equal(s.client.RequireSecuritySignature, true);
    assert.equal(s.server.RequireSecuritySignature, true);
    passed.add("quickstart");
  });

  it("the drift gate exits 7 while the host is drifted, again on the next run, and passes once `up --refresh` converged it", async function () {
    this.timeout(300_000);
    if (!passed.has("quickstart")) this.skip();
    fleet.change("fs01", (s) => (s.client.RequireSecuritySignature = false));
    const first = await run("gate", DRIFT);
    assert.match(first, /requireSigning/, "the gate shows the drifted setting");
    await run("gate", DRIFT);
    assert.equal(fleet.state("fs01").client.RequireSecuritySignature, false, "the gate changes nothing on the host");
    await run("converge");
    assert.equal(fleet.state("fs01").client.RequireSecuritySignature, true);
    await run("gate");
    passed.add("gate");
  });

  it("destroy leaves the host secured (onDelete defaults to retain) with its originals recorded on it", async function () {
    this.timeout(120_000);
    if (!passed.has("quickstart")) this.skip();
    await run("destroy");
    const s = fleet.state("fs01");
    assert.equal(s.client.RequireSecuritySignature, true);
    assert.equal(s.server.RequireSecuritySignature, true);
    assert.ok(s.record !== undefined, "the host keeps its record of the originals");
  });
});

describe("README.md's marked blocks (readmeBlocks)", () => {
  it("reads a file block and a run block, and refuses a marker without a block", () => {
    const md = "x\n<!-- readme-test: file a.ts -->\n```ts\nconst a = 1;\n```\n<!-- readme-test: gate -->\n```sh\npulumi preview\n```\n";
    assert.deepEqual(
      readmeBlocks(md).map((b) => (b.kind === "file" ? [b.name, b.text] : [b.label, b.script])),
      [
        ["a.ts", "const a = 1;\n"],
        ["gate", "pulumi preview\n"],
      ],
    );
    assert.throws(() => readmeBlocks("<!-- readme-test: gate -->\n\n```sh\nx\n```\n"), /must be followed at once/);
    assert.throws(() => readmeBlocks("<!-- readme-test: gate -->\n```ts\nx\n```\n"), /before a ```sh block/);
  });
});
