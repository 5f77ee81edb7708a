// `npm run bench`: per-operation medians against the physical limit and a naive baseline, then
// fleets of simulated hosts through the real Pulumi CLI. Writes bench/results.md, results.json
// and chart.png. Settings: BENCH_REPS (7), BENCH_PS_START_MS (400), BENCH_FLEET_SIZES (10,100,500).
// `npm run bench -- fleet` runs only the fleet at scale (fleetPerf.ts: provider CPU, breakdown,
// --parallel curve, shards) and writes bench/fleet.json and its section of results.md. Settings:
// BENCH_FLEET_HOSTS (500), BENCH_FLEET_PARTS (program,cpu,breakdown,curve,memory,stacks,shards,state), BENCH_SHARD_PARALLEL (16).
// `npm run bench -- operations` runs only the per-operation part (SSH, WinRM with NTLM, WinRM with
// Kerberos: a few minutes) and puts its rows in bench/results.json and results.md in place of the
// old ones, keeping the fleet sections. Settings: BENCH_REPS, BENCH_PS_START_MS.
import * as fs from "node:fs";
import * as path from "node:path";
import { pulumiCliDir, REPO_ROOT } from "../e2e/pulumiCli";
import { execFileSync } from "node:child_process";
import { benchmarkFleet } from "./fleetScale";
import { benchmarkOperations } from "./perOperation";
import { benchmarkProviderMemory } from "./providerMemory";
import { benchmarkFleetPerf } from "./fleetPerf";
import { BenchResults, machineDescription, markdown, rewriteFleetSection, writeFleetResults, writeResults } from "./report";

async function fleetOnly(): Promise<void> {
  const powershellStartMs = Number(process.env.BENCH_PS_START_MS ?? 400);
  const hosts = Number(process.env.BENCH_FLEET_HOSTS ?? 500);
  const parts = (process.env.BENCH_FLEET_PARTS ?? "program,cpu,breakdown,curve,memory,stacks,shards,state").split(",");
  const shardParallel = Number(process.env.BENCH_SHARD_PARALLEL ?? 16);
  const r = await benchmarkFleetPerf(powershellStartMs, hosts, parts, shardParallel);
  r.machine = machineDescription();
  const dir = path.join(REPO_ROOT, "bench");
  const text = writeFleetResults(dir, r);
  console.log("\n" + text);
}

/** The per-operation part alone, its rows replacing those of bench/results.json; the rest of the results is kept as it was. */
async function operationsOnly(): Promise<void> {
  const reps = Number(process.env.BENCH_REPS ?? 7);
  const powershellStartMs = Number(process.env.BENCH_PS_START_MS ?? 400);
  const dir = path.join(REPO_ROOT, "bench");
  const file = path.join(dir, "results.json");
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run the whole bench (npm run bench) once first`);
  const old = JSON.parse(fs.readFileSync(file, "utf8")) as BenchResults;
  console.log(`Per operation: ${reps} runs each, PowerShell start ${powershellStartMs} ms`);
  const { measurements, kdc } = await benchmarkOperations(reps, powershellStartMs);
  const date = new Date().toISOString();
  const results: BenchResults = { ...old, operations: measurements, kdc, reps, powershellStartMs, operationsDate: date, operationsMachine: machineDescription(), operationsNode: process.version };
  writeResults(dir, results);
  rewriteFleetSection(dir);
  console.log("\n" + markdown(results));
  console.log(`Written: ${path.join(dir, "results.md")}, results.json, chart.png`);
}

async function main(): Promise<void> {
  const reps = Number(process.env.BENCH_REPS ?? 7);
  const powershellStartMs = Number(process.env.BENCH_PS_START_MS ?? 400);
  const sizes = (process.env.BENCH_FLEET_SIZES ?? "10,100,500").split(",").map(Number);
  const pulumi = execFileSync(path.join(pulumiCliDir(), "pulumi"), ["version"], { encoding: "utf8" }).trim();
  console.log(`Per operation: ${reps} runs each, PowerShell start ${powershellStartMs} ms`);
  const { measurements: operations, kdc } = await benchmarkOperations(reps, powershellStartMs);
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: machineDescription(),
    node: process.version,
    pulumi,
    reps,
    powershellStartMs,
    operations,
    kdc,
    fleet: [],
    state: [],
    memory: [],
  };
  for (const n of sizes) {
    console.log(`Fleet of ${n} hosts: up, refresh, refresh (heap capped), destroy`);
    const f = await benchmarkFleet(n, powershellStartMs);
    results.fleet.push(...f.runs);
    results.state.push(f.state);
  }
  console.log("Provider memory: 2400 reads, 8 at a time, heap after GC");
  results.memory = await benchmarkProviderMemory(2400, 600);
  const dir = path.join(REPO_ROOT, "bench");
  writeResults(dir, results);
  console.log("Fleet at scale (npm run bench -- fleet)");
  const fleet = await benchmarkFleetPerf(powershellStartMs, 500, ["program", "cpu", "breakdown", "curve", "memory", "stacks", "shards", "state"], 16);
  fleet.machine = results.machine;
  writeFleetResults(dir, fleet);
  console.log("\n" + markdown(results));
  console.log(`Written: ${path.join(dir, "results.md")}, results.json, chart.png`);
}

(process.argv[2] === "fleet" ? fleetOnly() : process.argv[2] === "operations" ? operationsOnly() : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
