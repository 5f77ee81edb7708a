// Runs the real Pulumi CLI (built by tools/pulumi-cli/install.sh) against a project directory,
// with the local file backend and a passphrase secrets provider: nothing reaches the network.
import { execFileSync, spawn, spawnSync } from "node:child_process";
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

  run(args: string[], input?: string): CliResult {
    const r = spawnSync("pulumi", ["--non-interactive", "--color", "never", ...args], {
      cwd: this.dir,
      env: this.env,
      encoding: "utf8",
      input,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.error) throw r.error;
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, output: r.stdout + r.stderr };
  }

  /** Like run, without blocking the event loop (for callers that sample while the CLI works). */
  runAsync(args: string[]): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("pulumi", ["--non-interactive", "--color", "never", ...args], { cwd: this.dir, env: this.env });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, output: stdout + stderr }));
    });
  }

  /** Runs and throws with the CLI's output when it fails. */
  ok(args: string[], input?: string): CliResult {
    const r = this.run(args, input);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}:\n${r.output}`);
    return r;
  }

  init(): void {
    this.ok(["stack", "init", this.stack]);
  }

  /** Sets a secret config value through stdin, so it never shows in a process list. */
  setSecretConfig(key: string, value: string): void {
    this.ok(["config", "set", "--secret", key], value);
  }

  setConfig(key: string, value: string): void {
    this.ok(["config", "set", key, "--", value]);
  }

  exportState(): string {
    return this.ok(["stack", "export", "--show-secrets=false"]).stdout;
  }
}
