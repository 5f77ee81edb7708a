// `npm test` and the test:* scripts: runs the compiled test files with mocha in parallel worker
// processes (mocha --parallel), one per core, longest first, so the slow end-to-end files do not
// queue at the end. test/durations.json holds each file's
// last recorded duration (`npm test -- --record` rewrites it); a file it does not know yet runs
// first, as if it were the slowest. The order only changes the total time, never a result: each
// file runs alone in its worker, with its own simulated hosts on its own loopback range
// (test/simhost/loopback.ts).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "./repoRoot";

const SUITES = ["unit", "tooling", "integration", "e2e"] as const;
type Suite = (typeof SUITES)[number];
const DURATIONS = path.join(REPO_ROOT, "test", "durations.json");

interface Options {
  suites: Suite[];
  jobs: number;
  record: boolean;
  /** Mocha's own options passed through (after `--`), e.g. --grep. */
  mochaArgs: string[];
}

function parseArgs(argv: string[]): Options {
  const options: Options = { suites: [], jobs: defaultJobs(), record: false, mochaArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      options.mochaArgs = argv.slice(i + 1);
      break;
    } else if (a === "--record") options.record = true;
    else if (a === "--jobs") options.jobs = Number(argv[++i]);
    else if ((SUITES as readonly string[]).includes(a)) options.suites.push(a as Suite);
    else throw new Error(`unknown argument ${a}: takes suites (${SUITES.join(", ")}), --jobs N, --record, and mocha's options after --`);
  }
  if (!Number.isInteger(options.jobs) || options.jobs < 1) throw new Error("--jobs takes a whole number of at least 1");
  if (options.suites.length === 0) options.suites = [...SUITES];
  return options;
}

/**
 * Workers: SMB_TEST_JOBS if set, else one per core. The suite is CPU-bound (each CLI run starts
 * the Go engine, a Node.js language host, the program and a provider), so workers beyond the
 * cores only add contention: measured on 2 cores, 3 workers took 27.7 min and 45 CPU-min, 2
 * workers 26.8 min and 39.5 CPU-min (CONTRIBUTING.md, "Test time").
 */
function defaultJobs(): number {
  const env = process.env.SMB_TEST_JOBS;
  if (env !== undefined && env !== "") return Number(env);
  return os.availableParallelism();
}

/**
 * Node.js's compile cache for every process the tests start (test workers, the Pulumi programs,
 * dynamic providers, the provider plugin, the simulated hosts): each of them loads @pulumi/pulumi
 * or the interpreter anew, and the cache spares compiling the same code hundreds of times. Node
 * keys it by its own version, so the Node.js 22 of a consumer project shares the directory safely.
 */
function compileCacheDir(): string {
  return process.env.NODE_COMPILE_CACHE || path.join(os.tmpdir(), "pulumi-smb-signing-test-compile-cache");
}

/** CPU time of the children this process has waited for (and theirs), in minutes: /proc/self/stat's cutime and cstime. */
function childCpuMinutes(): { user: number; sys: number } | undefined {
  try {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields after the command name start at field 3 (state): cutime is field 16, cstime 17; clock ticks of 1/100 s.
    return { user: Number(fields[13]) / 100 / 60, sys: Number(fields[14]) / 100 / 60 };
  } catch {
    return undefined;
  }
}

function testFiles(suites: Suite[]): string[] {
  const files: string[] = [];
  for (const suite of suites) {
    const dir = path.join(REPO_ROOT, "dist", "test", suite);
    if (!fs.existsSync(dir)) throw new Error(`${dir} is missing: run npm run build first`);
    for (const f of fs.readdirSync(dir).sort()) if (f.endsWith(".test.js")) files.push(path.join("dist", "test", suite, f));
  }
  return files;
}

function recorded(): Record<string, number> {
  try {
    return JSON.parse(fs.readFileSync(DURATIONS, "utf8")).seconds as Record<string, number>;
  } catch {
    return {};
  }
}

/** Longest first; files with no record first of all. */
export function ordered(files: string[], seconds: Record<string, number>): string[] {
  const key = (f: string) => seconds[f] ?? Number.POSITIVE_INFINITY;
  return [...files].sort((a, b) => key(b) - key(a) || a.localeCompare(b));
}

function runMocha(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const mocha = path.join(REPO_ROOT, "node_modules", "mocha", "bin", "mocha.js");
    const env = { ...process.env, NODE_COMPILE_CACHE: compileCacheDir() };
    const child = spawn(process.execPath, [mocha, ...args], { cwd: REPO_ROOT, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

interface JsonTest {
  file?: string;
  duration?: number;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const files = ordered(testFiles(options.suites), recorded());
  const started = Date.now();
  const parallel = ["--parallel", "--jobs", String(options.jobs)];
  let code: number;
  if (options.record) {
    // The JSON reporter gives each test's file and duration; a file's time is the sum of its tests'.
    // Written to a file: tests print to stdout too.
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "smb-durations-")), "report.json");
    code = await runMocha([...parallel, "--reporter", "json", "--reporter-option", `output=${out}`, ...options.mochaArgs, ...files]);
    const report = JSON.parse(fs.readFileSync(out, "utf8")) as { tests: JsonTest[]; failures: unknown[]; stats: { passes: number } };
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
    const seconds: Record<string, number> = { ...recorded() };
    for (const f of files) seconds[f] = 0;
    for (const t of report.tests) {
      if (t.file === undefined) continue;
      const rel = path.relative(REPO_ROOT, t.file);
      if (rel in seconds) seconds[rel] += (t.duration ?? 0) / 1000;
    }
    for (const f of files) seconds[f] = Math.round(seconds[f]);
    const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => a.localeCompare(b)));
    const comment =
      "Each test file's last recorded duration in seconds (its tests' sum, hooks not counted), by tools/testRun.ts --record; it orders the parallel run " +
      "longest first.";
    fs.writeFileSync(DURATIONS, JSON.stringify({ $comment: comment, seconds: sorted }, null, 2) + "\n");
    console.log(`${report.stats.passes} passing, ${report.failures.length} failing; durations written to ${path.relative(REPO_ROOT, DURATIONS)}`);
  } else {
    code = await runMocha([...parallel, ...options.mochaArgs, ...files]);
  }
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const cpu = childCpuMinutes();
  const cpuText = cpu ? ` (CPU: user ${cpu.user.toFixed(1)} + sys ${cpu.sys.toFixed(1)} min)` : "";
  console.log(`${files.length} test files (${options.suites.join(", ")}) in ${options.jobs} parallel workers: ${minutes} min${cpuText}`);
  process.exit(code);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  });
}
