// `npm run bench`: per-operation medians against the physical limit and a naive baseline, then
// fleets of simulated hosts through the real Pulumi CLI. Writes bench/results.md, results.json
// and chart.png. Settings: BENCH_REPS (7), BENCH_PS_START_MS (400), BENCH_FLEET_SIZES (10,100,500).
import * as path from "node:path";
import { pulumiCliDir, REPO_ROOT } from "../e2e/pulumiCli";
import { execFileSync } from "node:child_process";
import { benchmarkFleet } from "./fleetScale";
import { benchmarkOperations } from "./perOperation";
import { benchmarkProviderMemory } from "./providerMemory";
import { BenchResults, machineDescription, markdown, writeResults } from "./report";

async function main(): Promise<void> {
  const reps = Number(process.env.BENCH_REPS ?? 7);
  const powershellStartMs = Number(process.env.BENCH_PS_START_MS ?? 400);
  const sizes = (process.env.BENCH_FLEET_SIZES ?? "10,100,500").split(",").map(Number);
  const pulumi = execFileSync(path.join(pulumiCliDir(), "pulumi"), ["version"], { encoding: "utf8" }).trim();
  console.log(`Per operation: ${reps} runs each, PowerShell start ${powershellStartMs} ms`);
  const operations = await benchmarkOperations(reps, powershellStartMs);
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: machineDescription(),
    node: process.version,
    pulumi,
    reps,
    powershellStartMs,
    operations,
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
  console.log("\n" + markdown(results));
  console.log(`Written: ${path.join(dir, "results.md")}, results.json, chart.png`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
