// Runs the real Pulumi CLI (built by tools/pulumi-cli/install.sh) against a project directory,
// with the local file backend and a passphrase secrets provider: nothing reaches the network.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { REPO_ROOT } from "../../tools/repoRoot";
export { REPO_ROOT };
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
  /** The signal that ended the CLI, if one did. */
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  output: string;
}

/** A CLI run in progress. */
export interface RunningCli {
  finished: Promise<CliResult>;
  /** What the CLI printed so far. */
  output(): string;
  /**
   * SIGKILL to the CLI and every process it started (language host, program, provider plugins),
   * as a CI job that is killed or a machine that is lost would end them: no cleanup, no last
   * checkpoint, the stack lock stays. Returns the process ids it killed.
   */
  killProcessTree(): number[];
}

/** pid, state and parent pid of every process, from /proc/<pid>/stat. */
function processTable(): Array<{ pid: number; state: string; ppid: number }> {
  const table = [];
  for (const entry of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      table.push({ pid: Number(entry), state, ppid: Number(ppid) });
    } catch {
      // the process ended between listing and reading
    }
  }
  return table;
}

function descendantsOf(root: number): number[] {
  const table = processTable();
  const found: number[] = [];
  for (let frontier = [root]; frontier.length > 0; ) {
    const children = table.filter((p) => frontier.includes(p.ppid) && p.state !== "Z").map((p) => p.pid);
    found.push(...children);
    frontier = children;
  }
  return found;
}

/**
 * Kills a process and all its descendants. The CLI starts each plugin in a process group of its
 * own (setpgid), so a signal to the CLI's group would leave the language host and the provider
 * running on; the tree is frozen first (SIGSTOP) so that nobody forks or reaps in between.
 */
function killProcessTree(root: number): number[] {
  const stopped = new Set<number>();
  for (;;) {
    const fresh = [root, ...descendantsOf(root)].filter((pid) => !stopped.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      try {
        process.kill(pid, "SIGSTOP");
      } catch {
        // already gone
      }
      stopped.add(pid);
    }
  }
  for (const pid of stopped) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return [...stopped];
}

/** Whether any of these processes still runs (a zombie, awaiting its reaper, does not). */
export function anyAlive(pids: number[]): boolean {
  return processTable().some((p) => pids.includes(p.pid) && p.state !== "Z");
}

export class PulumiProject {
  env: NodeJS.ProcessEnv;

  /**
   * `dir` must lie inside this checkout so the program resolves "pulumi-smb-signing", unless it is
   * a `consumer` project with its own node_modules: then nothing of this checkout is on PATH but
   * the CLI, and the project's own Node.js (npm's `node` package) comes before the one running the tests.
   */
  constructor(
    readonly dir: string,
    readonly stack: string,
    options: { consumer?: boolean } = {},
  ) {
    const home = path.join(dir, ".pulumi-home");
    const backend = path.join(dir, ".pulumi-state");
    fs.mkdirSync(home, { recursive: true });
    fs.mkdirSync(backend, { recursive: true });
    this.env = {
      ...process.env,
      // The CLI's directory holds the plugin shims as the official distribution's does
      // (install.sh), so nothing of @pulumi/pulumi needs to be on PATH; node_modules/.bin brings
      // the pinned Node.js (a consumer project's own, before the one running the tests).
      PATH: (options.consumer
        ? [pulumiCliDir(), path.join(dir, "node_modules", ".bin"), path.dirname(process.execPath), "/usr/bin", "/bin"]
        : [pulumiCliDir(), path.join(REPO_ROOT, "node_modules", ".bin"), process.env.PATH]
      ).join(path.delimiter),
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
    return this.start(args, input).finished;
  }

  /** Starts the CLI and returns at once, for tests that must act while it runs. */
  start(args: string[], input?: string): RunningCli {
    const child = spawn("pulumi", ["--non-interactive", "--color", "never", ...args], { cwd: this.dir, env: this.env });
    let stdout = "";
    let stderr = "";
    const finished = new Promise<CliResult>((resolve, reject) => {
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr, output: stdout + stderr }));
    });
    child.stdin.end(input ?? "");
    return {
      finished,
      output: () => stdout + stderr,
      killProcessTree: () => (child.pid === undefined ? [] : killProcessTree(child.pid)),
    };
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
