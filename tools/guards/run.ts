// `npm run guards [id ...]`: proves that every guard in tools/guards/guards.json has a test that
// fails without it. For each guard in turn: a scratch copy of the checkout, the guard's text
// replaced, a tsc build, and the guard's tests run; each listed test must fail ("caught"). A guard
// whose listed tests pass anyway is reported SURVIVED, and the exit code is 1. The same tests first
// run on an unmodified copy and must pass there, so a failure afterwards is the mutation's doing.
// A guard's code is found by its declaration and tokens (locate.ts), not its exact text.
// `run.js --locate [id ...]`: only checks that every guard's code is found exactly once (no copy,
// no build, a few seconds) and says where.
import * as crypto from "node:crypto";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GuardTest, loadGuards, locateAll, REPO_ROOT } from "./guardList";
import { isSourceFile, Locator, Repo } from "./locate";

/** Longest a test file may run before it counts as hung (the e2e file takes about 10 s). */
const RUN_TIMEOUT_MS = 10 * 60 * 1000;
const SELF = "pulumi-smb-signing";

type Outcome = "ok" | "not ok";
/** The checkout's files by path. */
type Snapshot = Map<string, { content: Buffer; mode: number }>;

interface FileRun {
  code: number | null;
  timedOut: boolean;
  /** Result per full test name (suites and test joined by spaces), as mocha reported it. */
  results: Map<string, Outcome>;
  output: string;
}

/**
 * The checkout's files as git knows them (tracked, plus new ones not ignored), read once: edits
 * made while the guards run reach none of the copies.
 */
function checkoutFiles(): Snapshot {
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: REPO_ROOT, encoding: "utf8" });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  const files: Snapshot = new Map();
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    const at = path.join(REPO_ROOT, file);
    if (fs.existsSync(at)) files.set(file, { content: fs.readFileSync(at), mode: fs.statSync(at).mode & 0o777 });
  }
  return files;
}

/** The snapshot as the locator reads it. */
function snapshotRepo(files: Snapshot): Repo {
  return {
    sourceFiles: () => [...files.keys()].filter(isSourceFile).sort(),
    read: (file) => files.get(file)?.content.toString("utf8"),
  };
}

/**
 * A scratch copy of the checkout. node_modules is a real directory of links to the checkout's
 * packages, except this package's own name: the e2e program and the serialized dynamic provider
 * `require("pulumi-smb-signing/...")` by name, which must reach this copy, not the checkout.
 */
function scratchCopy(files: Snapshot): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smb-guards-"));
  for (const [file, { content, mode }] of files) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content, { mode });
  }
  const modules = path.join(dir, "node_modules");
  fs.mkdirSync(modules);
  for (const entry of fs.readdirSync(path.join(REPO_ROOT, "node_modules"))) {
    fs.symlinkSync(entry === SELF ? ".." : path.join(REPO_ROOT, "node_modules", entry), path.join(modules, entry));
  }
  if (!fs.existsSync(path.join(modules, SELF))) fs.symlinkSync("..", path.join(modules, SELF));
  return dir;
}

/** tsc as `npm run build` runs it; returns its output, or throws with it. */
function build(dir: string): string {
  const tsc = spawnSync(process.execPath, [path.join(dir, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: dir, encoding: "utf8" });
  const output = `${tsc.stdout}${tsc.stderr}`;
  if (tsc.status !== 0) throw new Error(`tsc failed:\n${output}`);
  return output;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** What mocha's json reporter writes: each test by its full title (suites and test joined by spaces). */
interface MochaReport {
  passes: Array<{ fullTitle: string }>;
  failures: Array<{ fullTitle: string; title: string }>;
}

/** A failed hook's title, as mocha names it: `"before all" hook for "..."`, `"after each" hook`, ... */
const HOOK = /^"(?:before|after) (?:all|each)" hook/;

/**
 * Results per full test name. A test whose suite's hook failed never runs, but it failed as far as
 * the guard is concerned (node:test reported it so too): a failed hook counts against every named
 * test under that hook's suite.
 */
function outcomes(report: MochaReport, names: string[]): Map<string, Outcome> {
  const results = new Map<string, Outcome>();
  for (const t of report.passes) results.set(t.fullTitle, "ok");
  // A failure wins over a pass of a same-named test.
  for (const t of report.failures) results.set(t.fullTitle, "not ok");
  for (const hook of report.failures.filter((f) => HOOK.test(f.title))) {
    const suite = hook.fullTitle.slice(0, hook.fullTitle.length - hook.title.length).trimEnd();
    for (const name of names) if (suite === "" || name.startsWith(`${suite} `)) results.set(name, "not ok");
  }
  return results;
}

/** Runs the named tests of one compiled test file with mocha, as `npm test` would, and its json reporter. */
function runTests(dir: string, file: string, names: string[], log: string): Promise<FileRun> {
  const report = path.join(dir, `mocha-report-${path.basename(file)}.json`);
  const grep = `^(?:${names.map(escapeRegExp).join("|")})$`;
  const args = [
    path.join(dir, "node_modules", "mocha", "bin", "mocha.js"),
    "--reporter",
    "json",
    "--reporter-option",
    `output=${report}`,
    "--grep",
    grep,
    file,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d));
    child.stderr.on("data", (d: Buffer) => (output += d));
    let timedOut = false;
    // The test process and whatever it started (sshd, the Pulumi CLI) share its process group.
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    }, RUN_TIMEOUT_MS);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const written = fs.existsSync(report) ? fs.readFileSync(report, "utf8") : "";
      fs.appendFileSync(log, `$ node ${args.join(" ")}\n${output}\n${written}\n`);
      const results = written ? outcomes(JSON.parse(written) as MochaReport, names) : new Map<string, Outcome>();
      resolve({ code, timedOut, results, output });
    });
  });
}

function byFile(tests: GuardTest[]): Map<string, string[]> {
  const files = new Map<string, string[]>();
  for (const t of tests) files.set(t.file, [...(files.get(t.file) ?? []), t.name]);
  return files;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Builds a scratch copy with `mutate` applied, runs `tests`, and removes the copy. */
async function inScratch(files: Snapshot, mutate: ((dir: string) => void) | undefined, tests: GuardTest[], log: string): Promise<Map<string, FileRun>> {
  const dir = scratchCopy(files);
  try {
    mutate?.(dir);
    fs.appendFileSync(log, build(dir));
    const runs = new Map<string, FileRun>();
    for (const [file, names] of byFile(tests)) runs.set(file, await runTests(dir, file, names, log));
    return runs;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Replaces a shipped script's SHA-256 in the scratch copy's test/simhost/reviewedScripts.ts. */
function repin(dir: string, before: string, after: string): void {
  const pins = path.join(dir, "test", "simhost", "reviewedScripts.ts");
  const sha = (text: string) => crypto.createHash("sha256").update(text).digest("hex");
  const text = fs.readFileSync(pins, "utf8");
  if (!text.includes(sha(before))) throw new Error(`reviewedScripts.ts holds no pin ${sha(before)} of the script before the change`);
  fs.writeFileSync(pins, text.replace(sha(before), sha(after)));
}

const label = (t: GuardTest) => `${t.file.replace(/^dist\//, "")} › ${t.name}`;

async function main(): Promise<number> {
  const started = Date.now();
  const args = process.argv.slice(2);
  const locateOnly = args.includes("--locate");
  const only = args.filter((a) => a !== "--locate");
  const all = loadGuards();
  const unknown = only.filter((id) => !all.some((g) => g.id === id));
  if (unknown.length > 0) throw new Error(`no such guard: ${unknown.join(", ")}`);
  const guards = all.filter((g) => only.length === 0 || only.includes(g.id));
  if (locateOnly) return locate(guards);
  const files = checkoutFiles();
  const locator = new Locator(snapshotRepo(files));
  // Every guard's code must be found, once, before minutes are spent: fail loudly now.
  const removals = new Map(guards.map((g) => [g.id, locator.remove(g)]));
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "smb-guards-logs-"));

  const allTests = guards.flatMap((g) => g.tests);
  const unique = [...new Map(allTests.map((t) => [`${t.file}\0${t.name}`, t])).values()];
  process.stdout.write(`guards: ${guards.length} guards, ${unique.length} tests; baseline on an unmodified copy ... `);
  const baselineStart = Date.now();
  const baseline = await inScratch(files, undefined, unique, path.join(logDir, "baseline.log"));
  const broken = unique.filter((t) => baseline.get(t.file)!.results.get(t.name) !== "ok" || baseline.get(t.file)!.code !== 0);
  if (broken.length > 0) {
    console.log("FAILED");
    for (const t of broken) console.log(`  does not pass (or did not run) without a mutation: ${label(t)}`);
    console.log(`guards: the baseline must pass first; see ${path.join(logDir, "baseline.log")}`);
    return 2;
  }
  console.log(`passes (${seconds(Date.now() - baselineStart)})`);

  const tally = { caught: 0, survived: 0, errors: 0 };
  const width = Math.max(...guards.map((g) => g.id.length));
  for (const guard of guards) {
    const guardStart = Date.now();
    const log = path.join(logDir, `${guard.id}.log`);
    let verdict: string;
    const notes: string[] = [];
    try {
      const runs = await inScratch(
        files,
        (dir) => {
          const { file, before, after } = removals.get(guard.id)!;
          fs.writeFileSync(path.join(dir, file), after);
          // A shipped script's pin is updated as a developer would after editing the script, so
          // that only a behavioural test can catch the removal (the pin test is never listed).
          if (file.startsWith("provider/scripts/")) repin(dir, before, after);
        },
        guard.tests,
        log,
      );
      const outcomes = guard.tests.map((t) => ({ t, run: runs.get(t.file)!, outcome: runs.get(t.file)!.results.get(t.name) }));
      const missing = outcomes.filter((o) => o.outcome === undefined);
      const passed = outcomes.filter((o) => o.outcome === "ok");
      if (missing.length > 0) {
        verdict = "ERROR";
        tally.errors++;
        for (const o of missing) notes.push(`did not run${o.run.timedOut ? " (timed out)" : ""}: ${label(o.t)}`);
      } else if (passed.length > 0) {
        verdict = "SURVIVED";
        tally.survived++;
        for (const o of passed) notes.push(`still passes: ${label(o.t)}`);
      } else {
        verdict = "caught";
        tally.caught++;
      }
    } catch (err) {
      verdict = "ERROR";
      tally.errors++;
      notes.push((err as Error).message.split("\n").slice(0, 6).join("\n    "));
    }
    const tests = guard.tests.length === 1 ? "1 test" : `${guard.tests.length} tests`;
    const { file, at } = removals.get(guard.id)!;
    console.log(`${verdict.padEnd(8)} ${guard.id.padEnd(width)}  ${file}:${at.line}  (${tests}, ${seconds(Date.now() - guardStart)})`);
    for (const note of notes) console.log(`    ${note}`);
  }
  const total = Math.round((Date.now() - started) / 1000);
  console.log(
    `guards: ${guards.length} guards, ${tally.caught} caught, ${tally.survived} survived, ${tally.errors} errors, in ${Math.floor(total / 60)} min ` +
      `${total % 60} s (logs: ${logDir})`,
  );
  return tally.survived + tally.errors > 0 ? 1 : 0;
}

/** `--locate`: every guard's code found exactly once, and where; exit 1 if any is not. */
function locate(guards: ReturnType<typeof loadGuards>): number {
  const started = Date.now();
  const resolved = locateAll(guards);
  const width = Math.max(...guards.map((g) => g.id.length));
  for (const { guard, at, error } of resolved) {
    if (at) {
      const moved = guard.file && guard.file !== at.file ? `  (moved from ${guard.file})` : "";
      console.log(`found    ${guard.id.padEnd(width)}  ${at.file}:${at.line}${guard.symbol ? `  in ${guard.symbol}` : ""}${moved}`);
    } else console.log(`MISSING  ${guard.id.padEnd(width)}  ${error}`);
  }
  const missing = resolved.filter((r) => r.error).length;
  console.log(`guards: ${guards.length} guards, ${guards.length - missing} found exactly once, ${missing} not, in ${seconds(Date.now() - started)}`);
  return missing > 0 ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    console.error(`guards: ${err.message}`);
    process.exitCode = 2;
  },
);
