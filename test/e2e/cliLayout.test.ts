// The Pulumi CLI as users get it: tools/pulumi-cli/install.sh lays its directory out as the
// official distribution does (the plugin shims beside `pulumi`), so a program outside this
// checkout needs only that directory and node on PATH, and no CLI run prints a warning that is
// not ours (such as "using pulumi-resource-pulumi-nodejs from $PATH").
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SIM_PASSWORD, SIM_USER, SimulatedFleet } from "../simhost/fleet";
import { CliResult, PulumiProject, pulumiCliDir, REPO_ROOT } from "./pulumiCli";

const SHIMS = ["pulumi-resource-pulumi-nodejs", "pulumi-analyzer-policy"];
const BINARIES = ["pulumi", "pulumi-language-nodejs"];

/**
 * Warnings that are not ours: every warning (and info message) the provider prints names its host
 * (`address`), so a warning line without it came from the CLI or a plugin (such as "using
 * pulumi-resource-pulumi-nodejs from $PATH"). A Diagnostics block with no message of ours in it
 * counts too (the CLI used to show one, empty, over such plugin warnings).
 */
function foreignWarnings(r: CliResult, address: string): string[] {
  const lines = r.output.split("\n");
  const warnings = lines.filter((l) => /\bwarning\b/i.test(l));
  const foreign = warnings.filter((l) => !l.includes(address));
  const diagnostics = lines.findIndex((l) => /^Diagnostics:/.test(l.trim()));
  if (diagnostics >= 0 && !lines.slice(diagnostics).some((l) => l.includes(address))) foreign.push("a Diagnostics block without a message of ours");
  return foreign;
}

/** The variables that choose install.sh's directory, as this process has them. */
function cacheEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["PULUMI_SMB_CLI_DIR", "XDG_CACHE_HOME"]) if (process.env[key]) out[key] = process.env[key]!;
  return out;
}

describe("the Pulumi CLI directory (tools/pulumi-cli/install.sh)", () => {
  const dir = pulumiCliDir();

  it("holds pulumi, the language host and the distribution's shims, as plain executable copies that name no checkout", () => {
    for (const name of [...BINARIES, ...SHIMS]) {
      const file = path.join(dir, name);
      const stat = fs.lstatSync(file, { throwIfNoEntry: false });
      assert.ok(stat, `${name} is missing from ${dir}`);
      assert.ok(stat.isFile(), `${name} in ${dir} is not a plain file (a link would break with the checkout it points into)`);
      assert.ok((stat.mode & 0o111) !== 0, `${name} in ${dir} is not executable`);
    }
    // The dynamic provider shim is the npm package's, byte for byte.
    assert.deepEqual(
      fs.readFileSync(path.join(dir, "pulumi-resource-pulumi-nodejs")),
      fs.readFileSync(path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi", "pulumi-resource-pulumi-nodejs")),
    );
    for (const name of SHIMS) {
      const text = fs.readFileSync(path.join(dir, name), "utf8");
      // Position independent: @pulumi/pulumi is resolved from the working directory the CLI
      // gives the plugin, never from a path of the checkout that installed the shim.
      assert.match(text, /require\.resolve\('@pulumi\/pulumi\/cmd\/[a-z-]+'\)/, `${name} does not resolve @pulumi/pulumi from its working directory`);
      assert.ok(!text.includes(REPO_ROOT) && !text.includes("node_modules"), `${name} names a checkout's files:\n${text}`);
    }
  });

  it("a second install.sh changes nothing: same directory, no file rewritten", () => {
    const mtimes = () => [...BINARIES, ...SHIMS].map((n) => fs.statSync(path.join(dir, n)).mtimeMs);
    const before = mtimes();
    const again = execFileSync("bash", [path.join(REPO_ROOT, "tools", "pulumi-cli", "install.sh")], { encoding: "utf8" }).trim();
    assert.equal(again, dir);
    assert.deepEqual(mtimes(), before);
  });

  it("once everything is built, install.sh needs no Go: with only bash's basic tools on PATH it prints the same directory", () => {
    // A PATH with coreutils and sed but no go: as on a runner that got the built directory from a cache.
    const bare = fs.mkdtempSync(path.join(os.tmpdir(), "smb-nogo-"));
    try {
      for (const tool of ["bash", "cat", "sha256sum", "cut", "mkdir", "mktemp", "cp", "chmod", "mv", "cmp", "sed", "head", "dirname", "date"]) {
        const found = execFileSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
        fs.symlinkSync(found, path.join(bare, tool));
      }
      // stdin from /dev/null: bash reads ~/.bashrc (which may put Go on PATH) when its stdin is a socket, as node's pipes are.
      const env = { ...cacheEnv(), PATH: bare, HOME: os.homedir() };
      const stdio: ["ignore", "pipe", "pipe"] = ["ignore", "pipe", "pipe"];
      assert.throws(() => execFileSync(path.join(bare, "bash"), ["-c", "command -v go"], { env, stdio }), "go must not be on the test's PATH");
      const again = execFileSync(path.join(bare, "bash"), [path.join(REPO_ROOT, "tools", "pulumi-cli", "install.sh")], { encoding: "utf8", env, stdio }).trim();
      assert.equal(again, dir);
    } finally {
      fs.rmSync(bare, { recursive: true, force: true });
    }
  });
});

describe("a program outside this checkout, with only the CLI's directory and node on PATH", () => {
  let fleet: SimulatedFleet;
  let consumer: string;

  before(async () => {
    fleet = await SimulatedFleet.start([{ name: "fs01", preset: "server-2025" }]);
    // Outside the checkout, as a user's project would be; its node_modules holds the two packages
    // it depends on (links stand in for `npm install`, which would need the registry).
    consumer = fs.mkdtempSync(path.join(os.tmpdir(), "smb-consumer-"));
    fs.mkdirSync(path.join(consumer, "node_modules"));
    fs.symlinkSync(REPO_ROOT, path.join(consumer, "node_modules", "pulumi-smb-signing"), "dir");
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules", "@pulumi"), path.join(consumer, "node_modules", "@pulumi"), "dir");
    fs.writeFileSync(
      path.join(consumer, "package.json"),
      JSON.stringify({ name: "smb-consumer", version: "1.0.0", dependencies: { "@pulumi/pulumi": "3.276.0", "pulumi-smb-signing": "0.1.0" } }, null, 2),
    );
    fs.writeFileSync(path.join(consumer, "Pulumi.yaml"), "name: smb-consumer\nruntime: nodejs\nmain: index.js\n");
    fs.writeFileSync(
      path.join(consumer, "index.js"),
      [
        `const pulumi = require("@pulumi/pulumi");`,
        `const { SmbSigningPolicy } = require("pulumi-smb-signing");`,
        `const config = new pulumi.Config();`,
        `new SmbSigningPolicy("fs01", {`,
        `  connection: { host: config.require("host"), port: config.requireNumber("port"), user: config.require("user"),`,
        `                password: config.requireSecret("password"), hostKey: config.require("hostKey") },`,
        `  client: { requireSigning: true },`,
        `  server: { requireSigning: true },`,
        `});`,
        ``,
      ].join("\n"),
    );
  });
  after(async () => {
    await fleet?.stop();
    if (consumer) fs.rmSync(consumer, { recursive: true, force: true });
  });

  it("preview, up and destroy work, and no run prints a warning that is not ours", async () => {
    assert.ok(!consumer.startsWith(REPO_ROOT + path.sep), `${consumer} lies inside the checkout`);
    const p = new PulumiProject(consumer, "dev");
    // Nothing else: not this checkout's node_modules/.bin, not node_modules/@pulumi/pulumi.
    p.env.PATH = [pulumiCliDir(), path.dirname(process.execPath)].join(path.delimiter);
    const runs: Array<[string, CliResult]> = [];
    const ok = async (args: string[], input?: string) => {
      const r = await p.ok(args, input);
      runs.push([args.join(" "), r]);
      return r;
    };
    await ok(["stack", "init", "dev"]);
    const h = fleet.host("fs01");
    for (const [key, value] of Object.entries({ host: h.address, port: String(h.port), user: SIM_USER, hostKey: h.hostKeyFingerprint })) {
      await ok(["config", "set", key, "--", value]);
    }
    await ok(["config", "set", "--secret", "password"], SIM_PASSWORD);
    const preview = await ok(["preview", "--diff"]);
    assert.match(preview.output, /\+ pulumi-nodejs:dynamic\/smb:SmbSigningPolicy: \(create\)/);
    await ok(["up", "--yes", "--skip-preview"]);
    assert.equal(fleet.state("fs01").server.RequireSecuritySignature, true);
    await ok(["destroy", "--yes", "--skip-preview"]);
    assert.equal(fleet.state("fs01").server.RequireSecuritySignature, true, "onDelete's default (retain) leaves the host secured");
    // The shim beside `pulumi` also wins over a later one on PATH (how this checkout's tests ran
    // before the directory had it), so that setup no longer warns either.
    p.env.PATH = [pulumiCliDir(), path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi"), path.dirname(process.execPath)].join(path.delimiter);
    await ok(["preview"]);
    for (const [command, r] of runs) {
      assert.deepEqual(foreignWarnings(r, h.address), [], `pulumi ${command} printed warnings that are not ours:\n${r.output}`);
    }
  });
});
