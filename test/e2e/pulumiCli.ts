// Runs the real Pulumi CLI (built by tools/pulumi-cli/install.sh) against a project directory,
// with the local file backend and a passphrase secrets provider: nothing reaches the network.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
/** Test-only passphrase of the stacks' secrets provider. */
export const STACK_PASSPHRASE = "e2e-stack-passphrase";

export function pulumiCliDir(): string {
  return execFileSync("bash", [path.join(REPO_ROOT, "tools", "pulumi-cli", "install.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

/**
 * A new stack of the e2e program (program.ts) in `root/name`; the program declares what the test
 * writes to `program.json` in that directory. `root` must lie inside this checkout.
 */
export async function programStack(root: string, name: string): Promise<PulumiProject> {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  const main = path.relative(dir, path.join(__dirname, "program.js"));
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: smb-e2e-${name}\nruntime: nodejs\nmain: ${main}\n`);
  const p = new PulumiProject(dir, "test");
  p.env.SMB_E2E_SPEC = path.join(dir, "program.json");
  await p.init();
  return p;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  output: string;
}

export class PulumiProject {
  env: NodeJS.ProcessEnv;

  /** `dir` must lie inside this checkout so the program resolves "pulumi-smb-signing". */
  constructor(
    readonly dir: string,
    readonly stack: string,
  ) {
    const home = path.join(dir, ".pulumi-home");
    const backend = path.join(dir, ".pulumi-state");
    fs.mkdirSync(home, { recursive: true });
    fs.mkdirSync(backend, { recursive: true });
    this.env = {
      ...process.env,
      PATH: [
        pulumiCliDir(),
        path.join(REPO_ROOT, "node_modules", ".bin"),
        path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi"),
        process.env.PATH,
      ].join(path.delimiter),
      PULUMI_HOME: home,
      PULUMI_BACKEND_URL: `file://${backend}`,
      PULUMI_CONFIG_PASSPHRASE: STACK_PASSPHRASE,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
      NO_COLOR: "1",
    };
  }

  /**
   * Runs the CLI without blocking the event loop: simulated hosts served from this process (the
   * WinRM emulator) must keep answering while the CLI works.
   */
  run(args: string[], input?: string): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("pulumi", ["--non-interactive", "--color", "never", ...args], { cwd: this.dir, env: this.env });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, output: stdout + stderr }));
      child.stdin.end(input ?? "");
    });
  }

  /** Runs and throws with the CLI's output when it fails. */
  async ok(args: string[], input?: string): Promise<CliResult> {
    const r = await this.run(args, input);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}:\n${r.output}`);
    return r;
  }

  async init(): Promise<void> {
    await this.ok(["stack", "init", this.stack]);
  }

  /** Sets a secret config value through stdin, so it never shows in a process list. */
  async setSecretConfig(key: string, value: string): Promise<void> {
    await this.ok(["config", "set", "--secret", key], value);
  }

  async setConfig(key: string, value: string): Promise<void> {
    await this.ok(["config", "set", key, "--", value]);
  }

  async exportState(): Promise<string> {
    return (await this.ok(["stack", "export", "--show-secrets=false"])).stdout;
  }
}
