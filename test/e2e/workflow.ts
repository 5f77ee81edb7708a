// Runs a GitHub Actions workflow of this repository's examples here, as GitHub would run it, so
// a test checks what the workflow does rather than its text: the YAML read by a real parser
// (js-yaml, which the pinned @pulumi/pulumi already depends on), jobs in the order of `needs`,
// a job's and a step's `if` (only `always()` and `github.event_name == '...'`), a matrix from an
// earlier job's output, each `run` step through bash with the workflow's `env`, step outputs
// (GITHUB_OUTPUT), the step summary, and artifacts uploaded and downloaded between jobs.
// The project's directory stands for the checkout and for every `working-directory`;
// `actions/checkout` leaves in it only what the checkout had (an earlier job's files are gone, as
// on a fresh runner; the dot directories, the file backend and PULUMI_HOME, stand for the shared
// backend). `npm ci` is not run (the checkout's dependencies are installed), and
// `npx ts-node X.ts` runs the compiled X.js given for it. Any other expression or action fails
// the run, naming it, so a workflow this cannot run faithfully never passes.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

interface Step {
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | boolean>;
  "working-directory"?: string;
}
interface Job {
  if?: string;
  needs?: string | string[];
  strategy?: { matrix?: Record<string, string> };
  outputs?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  env?: Record<string, string>;
  defaults?: { run?: { "working-directory"?: string } };
  jobs: Record<string, Job>;
}

export interface StepRun {
  step: string;
  code: number;
  output: string;
}
export interface JobRun {
  job: string;
  matrix: Record<string, string>;
  /** 0 when every step that ran succeeded; otherwise the first failed step's exit code. */
  code: number;
  steps: StepRun[];
  outputs: Record<string, string>;
  summary: string;
}
/** Each job's runs (one per matrix entry); a job skipped by its `if` or its needs has none. */
export type WorkflowRun = Record<string, JobRun[]>;

function yamlLoad(text: string): unknown {
  const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  const jsYaml = require(require.resolve("js-yaml", { paths: [pulumiDir] })) as { load: (text: string) => unknown };
  return jsYaml.load(text);
}

export class WorkflowRunner {
  private readonly workflow: Workflow;
  private readonly checkout: Set<string>;
  private readonly artifacts: string;

  /**
   * @param file the workflow's YAML
   * @param dir the project's directory (the checkout, and every working directory)
   * @param scripts for `npx ts-node <name>.ts`, the compiled file to run instead
   * @param env the environment of every step (the CLI's), before the workflow's own `env`
   */
  constructor(
    file: string,
    readonly dir: string,
    private readonly scripts: Record<string, string>,
    private readonly env: () => NodeJS.ProcessEnv,
  ) {
    this.workflow = yamlLoad(fs.readFileSync(file, "utf8")) as Workflow;
    this.checkout = new Set(fs.readdirSync(dir));
    this.artifacts = fs.mkdtempSync(path.join(dir, ".artifacts-"));
  }

  /** The workflow's own `env`; an entry that is an expression (secrets, vars) is the caller's to give. */
  workflowEnv(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.workflow.env ?? {}).filter(([, v]) => !String(v).includes("${{")).map(([k, v]) => [k, String(v)]));
  }

  /** Runs the whole workflow for one event; `envOf` may change a job's environment (a broken secret). */
  private event = "";

  async run(event: string, envOf: (job: string, matrix: Record<string, string>) => NodeJS.ProcessEnv = () => ({})): Promise<WorkflowRun> {
    this.event = event;
    fs.rmSync(this.artifacts, { recursive: true, force: true });
    fs.mkdirSync(this.artifacts);
    const done: WorkflowRun = {};
    const pending = new Map(Object.entries(this.workflow.jobs));
    while (pending.size > 0) {
      const ready = [...pending].filter(([, job]) => needsOf(job).every((n) => n in done));
      if (ready.length === 0) throw new Error(`jobs waiting on each other: ${[...pending.keys()].join(", ")}`);
      // Jobs whose needs are met run at once, and so do a matrix job's entries.
      await Promise.all(
        ready.map(async ([name, job]) => {
          pending.delete(name);
          const needsOk = needsOf(job).every((n) => (done[n] ?? []).length > 0 && done[n].every((r) => r.code === 0));
          const { value, always } = this.condition(job.if, event);
          if (!value || (!needsOk && !always)) {
            done[name] = [];
            return;
          }
          const matrices = this.matrices(job, done);
          done[name] = await Promise.all(matrices.map((m) => this.runJob(name, job, m, envOf(name, m))));
        }),
      );
    }
    return done;
  }

  private matrices(job: Job, done: WorkflowRun): Record<string, string>[] {
    const matrix = job.strategy?.matrix;
    if (!matrix) return [{}];
    const entries = Object.entries(matrix);
    if (entries.length !== 1) throw new Error(`a matrix of one key only: ${JSON.stringify(matrix)}`);
    const [key, expr] = entries[0];
    const m = /^\$\{\{ fromJson\(needs\.([\w-]+)\.outputs\.([\w-]+)\) \}\}$/.exec(String(expr));
    if (!m) throw new Error(`matrix expression not known here: ${expr}`);
    const values = JSON.parse(done[m[1]][0].outputs[m[2]]) as string[];
    return values.map((v) => ({ [key]: v }));
  }

  private condition(expr: string | undefined, event: string, failed = false): { value: boolean; always: boolean } {
    if (expr === undefined) return { value: !failed, always: false };
    let always = false;
    const value = expr.split("&&").every((term) => {
      const t = term.trim();
      if (t === "always()") return (always = true);
      const m = /^github\.event_name == '([\w-]+)'$/.exec(t);
      if (m) return m[1] === event;
      throw new Error(`condition not known here: ${t}`);
    });
    return { value: value && (always || !failed), always };
  }

  private expand(text: string, matrix: Record<string, string>, steps: Record<string, Record<string, string>>): string {
    return text.replace(/\$\{\{ ([^}]*) \}\}/g, (whole, expr: string) => {
      const m = /^matrix\.([\w-]+)$/.exec(expr);
      if (m && m[1] in matrix) return matrix[m[1]];
      const s = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr);
      if (s && steps[s[1]]?.[s[2]] !== undefined) return steps[s[1]][s[2]];
      throw new Error(`expression not known here: ${whole}`);
    });
  }

  /** An action's path (relative to the checkout's root, inside the working directory) in the project's directory. */
  private local(p: string): string {
    const project = this.workflow.defaults?.run?.["working-directory"] ?? ".";
    const rel = path.posix.relative(project, p);
    if (rel.startsWith("..")) throw new Error(`${p} is outside the working directory ${project}`);
    return path.join(this.dir, rel);
  }

  private async runJob(name: string, job: Job, matrix: Record<string, string>, extraEnv: NodeJS.ProcessEnv): Promise<JobRun> {
    const run: JobRun = { job: name, matrix, code: 0, steps: [], outputs: {}, summary: "" };
    const stepOutputs: Record<string, Record<string, string>> = {};
    const work = fs.mkdtempSync(path.join(this.artifacts, "job-"));
    const outputFile = path.join(work, "output");
    const summaryFile = path.join(work, "summary");
    const shims = path.join(work, "bin");
    fs.mkdirSync(shims);
    const cases = Object.entries(this.scripts).map(([ts, js]) => `  "ts-node ${ts}") shift 2; exec "${process.execPath}" "${js}" "$@" ;;`);
    fs.writeFileSync(path.join(shims, "npx"), `#!/bin/sh\ncase "$1 $2" in\n${cases.join("\n")}\n  *) echo "npx $*: not known to the workflow runner" >&2; exit 127 ;;\nesac\n`, { mode: 0o755 });
    for (const step of job.steps) {
      const { value } = this.condition(step.if, this.event, run.code !== 0);
      if (!value) continue;
      const label = step.run ?? step.uses ?? "?";
      if (step.uses?.startsWith("actions/checkout@")) {
        for (const entry of fs.readdirSync(this.dir)) if (!this.checkout.has(entry) && !entry.startsWith(".")) fs.rmSync(path.join(this.dir, entry), { recursive: true, force: true });
      } else if (step.uses?.startsWith("actions/upload-artifact@")) {
        const to = path.join(this.artifacts, "store", this.expand(String(step.with?.name), matrix, stepOutputs));
        const from = this.local(this.expand(String(step.with?.path), matrix, stepOutputs));
        fs.mkdirSync(to, { recursive: true });
        if (fs.existsSync(from)) fs.copyFileSync(from, path.join(to, path.basename(from)));
      } else if (step.uses?.startsWith("actions/download-artifact@")) {
        if (step.with?.["merge-multiple"] !== true) throw new Error("download-artifact without merge-multiple is not known here");
        const pattern = new RegExp(`^${String(step.with?.pattern).replace(/[.]/g, "\\.").replace(/\*/g, ".*")}$`);
        const to = this.local(String(step.with?.path));
        fs.mkdirSync(to, { recursive: true });
        const store = path.join(this.artifacts, "store");
        for (const a of fs.existsSync(store) ? fs.readdirSync(store).filter((a) => pattern.test(a)) : []) {
          for (const f of fs.readdirSync(path.join(store, a))) fs.copyFileSync(path.join(store, a, f), path.join(to, f));
        }
      } else if (step.run === "npm ci") {
        // The checkout's dependencies are installed.
      } else if (step.run !== undefined) {
        fs.writeFileSync(outputFile, "");
        const command = this.expand(step.run, matrix, stepOutputs);
        const env: NodeJS.ProcessEnv = { ...this.env(), ...this.workflowEnv(), ...extraEnv, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile };
        env.PATH = `${shims}${path.delimiter}${env.PATH}`;
        const r = await bash(command, this.dir, env);
        run.steps.push({ step: label, ...r });
        if (r.code !== 0 && run.code === 0) run.code = r.code;
        if (step.id) stepOutputs[step.id] = Object.fromEntries(fs.readFileSync(outputFile, "utf8").split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
      } else {
        throw new Error(`step not known here: ${JSON.stringify(step)}`);
      }
    }
    for (const [key, expr] of Object.entries(job.outputs ?? {})) run.outputs[key] = this.expand(expr, matrix, stepOutputs);
    run.summary = fs.existsSync(summaryFile) ? fs.readFileSync(summaryFile, "utf8") : "";
    return run;
  }
}

function needsOf(job: Job): string[] {
  return job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
}

function bash(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-e", "-o", "pipefail", "-c", command], { cwd, env });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, output }));
  });
}
