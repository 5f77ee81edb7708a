// Benchmark part 3 (`npm run bench -- fleet`): where a fleet's time goes through the real CLI.
// CPU per process (engine, language host and program, dynamic provider, the rest: simulated
// hosts and whatever else runs on the machine) from /proc, the engine's checkpoint knob, the
// --parallel curve, the provider's memory with V8's young generation capped, shards run
// concurrently against one big stack, and the provider's own CPU
// per operation measured in a process of its own.
import { fork } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PresetName } from "../simhost/model";
import { SIM_PASSWORD, SIM_USER, SimulatedFleet } from "../simhost/fleet";
import { REPO_ROOT, type PulumiProject } from "../e2e/pulumiCli";
import { declarePolicies, fleetExampleStack, type Front, FRONTS, programStack, shardedExampleStacks } from "../e2e/stacks";
import { runOverSsh } from "../../provider/transport/ssh";
import * as ops from "../../provider/operations";
import type { Connection } from "../../provider/domain/schema";
import type { CpuPhase, CpuWorkerRequest } from "./cpuWorker";

const PRESETS: Array<{ preset: PresetName; edition: string }> = [
  { preset: "win11-24h2-pro", edition: "workstation" },
  { preset: "win11-24h2-home", edition: "workstation" },
  { preset: "server-2025", edition: "server" },
];

const TICK_MS = 1000 / 100; // USER_HZ: /proc reports CPU time in 1/100 s

type Role = "engine" | "program" | "provider" | "hosts";

function roleOf(cmdline: string[]): Role | undefined {
  const joined = cmdline.join(" ");
  if (joined.includes("cmd/dynamic-provider")) return "provider";
  const exe = path.basename(cmdline[0] ?? "");
  if (exe === "pulumi") return "engine";
  if (exe === "pulumi-language-nodejs" || joined.includes("@pulumi/pulumi/cmd/run")) return "program";
  return undefined;
}

function machineTicks(): number {
  const cpu = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + cpu[7];
}

/** CPU seconds per role and the provider's peak RSS, from /proc every 100 ms while a CLI runs. */
export class CpuProbe {
  /** Only processes working in `dir` (the CLI, its plugins and the program run in the project's directory). */
  constructor(private readonly dir: string) {}
  private readonly ticks = new Map<number, { role: Role; ticks: number }>();
  private providerPeakKiB = 0;
  /** The hosts' daemons run before and after a CLI run: their ticks count from the probe's start. */
  private readonly hosts0 = new Map<number, number>();
  private readonly machine0 = machineTicks();
  private readonly timer = setInterval(() => this.sample(), 100);
  private readonly first: true | undefined = (this.sample(), true);

  private isSshd(pid: number): boolean {
    try {
      return path.basename(fs.readlinkSync(`/proc/${pid}/exe`)) === "sshd";
    } catch {
      return false;
    }
  }

  private sample(): void {
    // Every process's parent, state and CPU ticks; then the CLIs working in `dir` and everything
    // they started (the plugins run elsewhere, but as the CLI's descendants).
    const table = new Map<number, { ppid: number; ticks: number }>();
    for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        // after "pid (comm) ": state, ppid, ...; utime and stime (fields 14, 15) are 11 and 12 here
        table.set(Number(pid), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
      } catch {
        // the process ended between listing and reading
      }
    }
    // The simulated hosts: the sshd daemons this process started and every session and forced
    // command under them (each lives for one operation: at least the PowerShell start-up, sampled
    // every 100 ms, so at most its last 100 ms of CPU go uncounted). Processes already running
    // when the probe started count from there.
    const daemons = [...table].filter(([pid, t]) => t.ppid === process.pid && (this.ticks.get(pid)?.role === "hosts" || this.isSshd(pid))).map(([pid]) => pid);
    const hosts = new Set<number>(daemons);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, t] of table) if (!hosts.has(pid) && hosts.has(t.ppid)) grew = hosts.add(pid) !== undefined;
    }
    for (const pid of hosts) {
      const t = table.get(pid)!;
      if (this.first === undefined && !this.hosts0.has(pid)) this.hosts0.set(pid, t.ticks);
      this.ticks.set(pid, { role: "hosts", ticks: t.ticks - (this.hosts0.get(pid) ?? 0) });
    }
    const ours = new Set<number>();
    for (const pid of table.keys()) {
      try {
        if (this.ticks.has(pid) || (path.basename(fs.readlinkSync(`/proc/${pid}/exe`)) === "pulumi" && fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(this.dir))) ours.add(pid);
      } catch {
        // gone, or not ours to read
      }
    }
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, t] of table) if (!ours.has(pid) && ours.has(t.ppid)) grew = ours.add(pid) !== undefined;
    }
    for (const pid of ours) {
      const t = table.get(pid);
      if (!t) continue;
      try {
        const role = this.ticks.get(pid)?.role ?? roleOf(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0"));
        if (!role) continue;
        this.ticks.set(pid, { role, ticks: t.ticks });
        if (role === "provider") {
          const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
          if (hwm) this.providerPeakKiB = Math.max(this.providerPeakKiB, Number(hwm[1]));
        }
      } catch {
        // ended meanwhile
      }
    }
  }

  stop(): { cpuSeconds: Record<Role | "rest" | "machine", number>; providerPeakMiB: number } {
    this.sample();
    clearInterval(this.timer);
    const by: Record<Role, number> = { engine: 0, program: 0, provider: 0, hosts: 0 };
    for (const { role, ticks } of this.ticks.values()) by[role] += (ticks * TICK_MS) / 1000;
    const machine = ((machineTicks() - this.machine0) * TICK_MS) / 1000;
    return { cpuSeconds: { ...by, rest: Math.max(0, machine - by.engine - by.program - by.provider - by.hosts), machine }, providerPeakMiB: this.providerPeakKiB / 1024 };
  }
}

export interface FleetRun {
  label: string;
  hosts: number;
  stacks: number;
  command: string;
  parallel: number;
  skipCheckpoints: boolean;
  wallSeconds: number;
  msPerHost: number;
  /** CPU ms per host by process role; machine = the whole machine's busy time. */
  cpuMsPerHost: Record<Role | "rest" | "machine", number>;
  providerPeakMiB: number;
  failures: number;
  /** NODE_OPTIONS of the CLI and so of its Node.js plugins (the memory part). */
  nodeOptions?: string;
  /** The run of `npm run bench -- fleet` this row comes from: its date and its per-operation limit. */
  date?: string;
  limitMs?: number;
}

export interface CpuPerOperation {
  transport: "ssh" | "winrm";
  operation: string;
  operations: number;
  cpuMsPerOperation: number;
  opsPerCoreSecond: number;
}

export interface ProgramCost {
  resources: number;
  /** Program CPU per resource registered under mocks: SmbSigningPolicy and a bare dynamic resource. */
  oursMs: number;
  bareMs: number;
}

/** The program's CPU per resource, ours against a bare dynamic resource, each in a child process of its own. */
export async function benchmarkProgram(n = 2000): Promise<ProgramCost> {
  const one = (kind: string) =>
    new Promise<number>((resolve, reject) => {
      const child = fork(path.join(__dirname, "programWorker.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      child.once("message", (m) => resolve(m as number));
      child.once("exit", (code) => (code ? reject(new Error(`program worker exited ${code}`)) : undefined));
      child.send({ kind, n });
    });
  const r = { resources: n, oursMs: await one("ours"), bareMs: await one("bare") };
  console.log(`  program CPU per resource: ours ${r.oursMs.toFixed(2)} ms, bare dynamic resource ${r.bareMs.toFixed(2)} ms`);
  return r;
}

export interface StateSize {
  hosts: number;
  bytesPerResource: number;
  serializedProviderBytes: number;
  inputsBytes: number;
  outputsBytes: number;
  engineMetadataBytes: number;
  /** Mean bytes per resource of each top-level field of inputs and of outputs (the state part). */
  fields?: Record<"inputs" | "outputs", Record<string, number>>;
}

export interface FleetPerfResults {
  date: string;
  machine: string;
  powershellStartMs: number;
  hosts: number;
  /** The physical limit of one operation (bare connection, handshake, PowerShell start), median. */
  limitMs: number;
  cpu: CpuPerOperation[];
  /** The run the CPU figures come from, when results were merged. */
  cpuDate?: string;
  runs: FleetRun[];
  state?: StateSize;
  /** The state part: field by field, from a small up. */
  stateFields?: StateSize;
  stateFieldsDate?: string;
  /** State per resource of the same declarations through each front end (the dynamic resource, the provider plugin). */
  stateByFront?: Partial<Record<Front, StateSize>>;
  program?: ProgramCost;
  programDate?: string;
}

const hostsOf = (n: number, prefix = "host") => Array.from({ length: n }, (_, i) => ({ name: `${prefix}-${String(i).padStart(4, "0")}`, ...PRESETS[i % PRESETS.length] }));

async function cliRun(projects: PulumiProject[], label: string, command: string, parallel: number, skipCheckpoints: boolean, hosts: number, nodeOptions?: string): Promise<FleetRun> {
  const probe = new CpuProbe(path.dirname(projects[0].dir));
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(
    projects.map((p) => {
      const saved = p.env;
      p.env = { ...saved, PULUMI_SKIP_CHECKPOINTS: skipCheckpoints ? "true" : "false", ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) };
      const common = ["--stack", p.stack, "--parallel", String(parallel)];
      const args = command === "preview" ? ["preview", ...common] : [command, "--yes", "--skip-preview", ...common];
      const running = p.run(args);
      p.env = saved;
      return running;
    }),
  );
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const { cpuSeconds, providerPeakMiB } = probe.stop();
  let failures = 0;
  for (const r of results) {
    if (r.code !== 0) {
      failures += (r.output.match(/ (creating|refreshing|deleting) failed| error:/g) ?? []).length || 1;
      console.error(r.output.slice(-3000));
    }
  }
  const perHost = (s: number) => (s * 1000) / hosts;
  const run: FleetRun = {
    label,
    hosts,
    stacks: projects.length,
    command,
    parallel,
    skipCheckpoints,
    wallSeconds,
    msPerHost: perHost(wallSeconds),
    cpuMsPerHost: Object.fromEntries(Object.entries(cpuSeconds).map(([k, v]) => [k, perHost(v)])) as FleetRun["cpuMsPerHost"],
    providerPeakMiB,
    failures,
    ...(nodeOptions ? { nodeOptions } : {}),
  };
  console.log(`  ${label} ${command} ×${projects.length} p${parallel}${skipCheckpoints ? " skip-checkpoints" : ""}: ${wallSeconds.toFixed(1)} s, ${run.msPerHost.toFixed(0)} ms/host, cpu ms/host ${JSON.stringify(Object.fromEntries(Object.entries(run.cpuMsPerHost).map(([k, v]) => [k, Math.round(v)])))}, provider ${providerPeakMiB.toFixed(0)} MiB, failures ${failures}`);
  return run;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One bare connection, handshake and PowerShell start against a fleet host: the per-operation limit. */
async function limitMs(fleet: SimulatedFleet, name: string, reps = 7): Promise<number> {
  const r = await ops.check({}, { connection: fleet.connection(name), client: { requireSigning: true } });
  const conn = (r.inputs as { connection: Connection }).connection;
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await runOverSsh(conn, "powershell.exe -NoProfile -NonInteractive -Command exit", Buffer.alloc(0), Date.now() + 60_000);
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** Provider CPU per operation in a child process of its own (the hosts run here, in this one). */
export async function benchmarkProviderCpu(): Promise<CpuPerOperation[]> {
  const names = Array.from({ length: 8 }, (_, i) => ({ name: `cpu-${i}`, preset: "win11-24h2-pro" as PresetName }));
  const fleet = await SimulatedFleet.start(names, { sharedDaemon: true, winrm: true, powershellStartMs: 0 });
  const out: CpuPerOperation[] = [];
  try {
    for (const transport of ["ssh", "winrm"] as const) {
      const req: CpuWorkerRequest = { connections: names.map((h) => fleet.connection(h.name, transport === "winrm" ? "winrm" : "password")), rounds: 4, readsPerRound: 6 };
      const child = fork(path.join(__dirname, "cpuWorker.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      const reply = await new Promise<{ phases: CpuPhase[] }>((resolve, reject) => {
        child.once("message", (m) => resolve(m as { phases: CpuPhase[] }));
        child.once("exit", (code) => (code ? reject(new Error(`cpu worker exited ${code}`)) : undefined));
        child.send(req);
      });
      for (const operation of ["create", "read", "delete"]) {
        const ph = reply.phases.filter((p) => p.operation === operation);
        const count = ph.reduce((s, p) => s + p.operations, 0);
        const cpu = ph.reduce((s, p) => s + p.cpuMs, 0) / count;
        out.push({ transport, operation, operations: count, cpuMsPerOperation: cpu, opsPerCoreSecond: 1000 / cpu });
        console.log(`  provider cpu ${transport} ${operation}: ${cpu.toFixed(2)} ms per operation over ${count}`);
      }
    }
  } finally {
    await fleet.stop();
  }
  return out;
}

function stateSize(hosts: number, exported: string): StateSize {
  const resources = JSON.parse(exported).deployment.resources.filter((x: { type: string }) => x.type.endsWith(":SmbSigningPolicy"));
  const sum = (f: (r: Record<string, unknown>) => unknown) => Math.round(resources.reduce((s: number, r: Record<string, unknown>) => s + Buffer.byteLength(JSON.stringify(f(r) ?? "")), 0) / resources.length);
  const total = sum((r) => r);
  const inputsBytes = sum((r) => r.inputs);
  const outputsBytes = sum((r) => r.outputs);
  const fields = { inputs: {} as Record<string, number>, outputs: {} as Record<string, number> };
  for (const side of ["inputs", "outputs"] as const) {
    const keys = new Set<string>(resources.flatMap((r: Record<string, Record<string, unknown>>) => Object.keys(r[side] ?? {})));
    for (const k of keys) fields[side][k] = sum((r) => (r[side] as Record<string, unknown>)?.[k]);
  }
  return {
    fields,
    hosts,
    bytesPerResource: total,
    serializedProviderBytes: Buffer.byteLength((resources[0]?.inputs as { __provider?: string }).__provider ?? ""),
    inputsBytes,
    outputsBytes,
    engineMetadataBytes: total - inputsBytes - outputsBytes,
  };
}

/** V8's young generation, capped: the provider's peak RSS is mostly semi-spaces grown under the RPCs' allocations. */
export const SMALL_YOUNG_GENERATION = "--max-semi-space-size=1";
/** No stack traces captured for errors and promises (source positions of resources are kept: the SDK raises the limit for them). */
export const NO_STACK_TRACES = "--stack-trace-limit=0";

/** The whole fleet part: see the file's head comment. BENCH_FLEET_PARTS picks parts (program,cpu,breakdown,curve,memory,stacks,shards,state). */
export async function benchmarkFleetPerf(powershellStartMs: number, hosts: number, parts: string[], shardParallel: number): Promise<FleetPerfResults> {
  const results: FleetPerfResults = { date: new Date().toISOString(), machine: `${os.cpus().length} cores`, powershellStartMs, hosts, limitMs: 0, cpu: [], runs: [] };
  if (parts.includes("program")) {
    console.log("Program CPU per resource under mocks");
    results.program = await benchmarkProgram();
  }
  if (parts.includes("cpu")) {
    console.log("Provider CPU per operation (own process, 8 hosts at once)");
    results.cpu = await benchmarkProviderCpu();
  }
  if (!["breakdown", "curve", "memory", "stacks", "shards", "state"].some((x) => parts.includes(x))) return results;
  const bigN = parts.includes("shards") ? hosts * 2 : hosts;
  const all = hostsOf(bigN);
  console.log(`Starting ${bigN} simulated hosts`);
  const fleet = await SimulatedFleet.start(all.map((h) => ({ name: h.name, preset: h.preset })), { sharedDaemon: true, powershellStartMs });
  const work = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-bench-fleet-"));
  try {
    results.limitMs = await limitMs(fleet, all[0].name);
    console.log(`  limit per operation: ${results.limitMs.toFixed(0)} ms`);
    const fleetHosts = all.slice(0, hosts);
    if (["breakdown", "curve", "memory", "stacks"].some((x) => parts.includes(x))) {
      const p = await fleetExampleStack(path.join(work, "one"), "bench", fleet, fleetHosts, { compiled: true });
      if (parts.includes("breakdown")) {
        console.log(`Breakdown at ${hosts} hosts, --parallel 8`);
        results.runs.push(await cliRun([p], "breakdown", "preview", 8, false, hosts));
        for (const skip of [false, true]) {
          for (const command of ["up", "refresh", "destroy"]) {
            results.runs.push(await cliRun([p], "breakdown", command, 8, skip, hosts));
            if (command === "up" && !skip) results.state = stateSize(hosts, await p.exportState());
          }
        }
      }
      if (parts.includes("curve")) {
        console.log(`Parallelism at ${hosts} hosts, checkpoints skipped`);
        for (const parallel of [8, 16, 32, 64]) {
          for (const command of ["up", "refresh", "destroy"]) results.runs.push(await cliRun([p], "curve", command, parallel, true, hosts));
        }
      }
      if (parts.includes("memory")) {
        console.log(`Provider memory at ${hosts} hosts, --parallel 8, checkpoints skipped: NODE_OPTIONS=${SMALL_YOUNG_GENERATION} or not`);
        for (const nodeOptions of [undefined, SMALL_YOUNG_GENERATION]) {
          for (const command of ["up", "refresh", "destroy"]) results.runs.push(await cliRun([p], "memory", command, 8, true, hosts, nodeOptions));
        }
      }
      if (parts.includes("stacks")) {
        // Every property a resource registers costs the SDK four promises, each of which captures a
        // stack trace that only PULUMI_DEBUG_PROMISE_LEAKS reads; under the CLI's source-map-support
        // that is most of the program's CPU per resource. V8's stack trace limit set to 0 removes it
        // (the SDK raises the limit itself where it records source positions).
        console.log(`Stack traces at ${hosts} hosts, --parallel 8, checkpoints skipped: NODE_OPTIONS=${NO_STACK_TRACES} or not`);
        for (const nodeOptions of [undefined, NO_STACK_TRACES]) {
          for (const command of ["up", "refresh", "destroy"]) results.runs.push(await cliRun([p], "stacks", command, 8, true, hosts, nodeOptions));
        }
      }
      await p.run(["stack", "rm", "--yes", "--force"]);
    }
    if (parts.includes("state")) {
      // State per resource does not depend on the fleet's size (it is the same at 10, 100 and 500
      // hosts): 30 hosts of the three presets show each field's bytes.
      const n = Math.min(30, hosts);
      console.log(`State per field: up of ${n} hosts`);
      const p = await fleetExampleStack(path.join(work, "state"), "state", fleet, fleetHosts.slice(0, n), { compiled: true });
      await p.ok(["up", "--yes", "--skip-preview"]);
      results.stateFields = stateSize(n, await p.exportState());
      await p.ok(["destroy", "--yes", "--skip-preview"]);
      // The same declarations (signing required both ways) through each front end, each as a fleet
      // would write it: the dynamic resource with its password from secret config; the plugin
      // with account and password in the provider's configuration.
      console.log(`State per front end: up of ${n} hosts, dynamic resource and provider plugin`);
      results.stateByFront = {};
      for (const front of FRONTS) {
        const q = await programStack(work, `state-${front}`, front === "dynamic" ? { password: SIM_PASSWORD } : {}, front);
        if (front === "plugin") {
          await q.setConfig("smbsigning:user", SIM_USER);
          await q.setSecretConfig("smbsigning:password", SIM_PASSWORD);
        }
        declarePolicies(
          q,
          fleet,
          fleetHosts.slice(0, n).map((h) => ({ name: h.name, host: h.name, client: { requireSigning: true }, server: { requireSigning: true }, ...(front === "plugin" ? { secretConfig: {} } : {}) })),
        );
        await q.ok(["up", "--yes", "--skip-preview"]);
        results.stateByFront[front] = stateSize(n, await q.exportState());
        await q.ok(["destroy", "--yes", "--skip-preview"]);
      }
    }
    if (parts.includes("shards")) {
      const shardSize = hosts / 2;
      console.log(`Shards: 4 stacks × ${shardSize} at once against 1 stack × ${bigN}, --parallel ${shardParallel}, checkpoints skipped`);
      // examples/fleet-sharded: its inventory is a file; the fleet example's `hosts` stack config
      // cannot hold 1,000 hosts (the CLI hands config to the program in one environment variable).
      const restore = { onDelete: "restore" };
      const one = Object.values(await shardedExampleStacks(path.join(work, "big"), fleet, all.map((h) => ({ ...h, site: "all" })), restore));
      const four = Object.values(await shardedExampleStacks(path.join(work, "shards"), fleet, all.map((h, i) => ({ ...h, site: `site-${Math.floor(i / shardSize)}` })), restore));
      for (const [label, projects] of [["1 stack", one], ["4 shards", four]] as const) {
        for (const command of ["up", "refresh", "destroy"]) results.runs.push(await cliRun(projects, label, command, shardParallel, true, bigN));
      }
    }
  } finally {
    await fleet.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  for (const run of results.runs) Object.assign(run, { date: results.date, limitMs: results.limitMs });
  return results;
}


