// The pipeline's helper for the sharded fleet (smb-signing-sharded.yml):
//   shards sites [inventory.json]            the sites as a JSON list, for the job matrix
//   shards drift <site> <dir>                `pulumi preview --refresh --expect-no-changes` of that
//                                            site's stack (it writes nothing into the state, so a
//                                            drifted host fails every run until converged); writes
//                                            <dir>/<site>.json; exits with the CLI's code
//   shards report <dir> [inventory.json]     merges every shard's result: prints and writes
//                                            <dir>/drift-report.md; exits 0 when every site is
//                                            clean, 7 (the CLI's "changes found") when some drifted,
//                                            1 when a shard failed or left no result
// Run it from the project's directory (or give paths): npx ts-node shards.ts sites
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { readInventory, sites } from "./inventory";

export interface ShardResult {
  site: string;
  /** clean: exit 0; drift: exit 7 (`--expect-no-changes` found changes); failed: anything else. */
  status: "clean" | "drift" | "failed";
  exitCode: number;
  /** Resources whose preview found a change from the hosts as they are (names as in the program). */
  drifted: string[];
  /** The CLI's last lines, when it failed. */
  tail?: string;
}

/**
 * The resources a `preview --refresh --diff` output shows as to be changed or gone: each "~"/"-"
 * update, replace or delete step's URN names it. The refresh steps before them are not drift
 * (a read records new audit findings every time), nor is the stack's own outputs step.
 */
export function driftedResources(output: string): string[] {
  const names = new Set<string>();
  let pending = false;
  for (const line of output.split("\n")) {
    if (/^\s*[~+-]+ \S+: \((update|replace|delete)\)/.test(line) && !/pulumi:pulumi:Stack/.test(line)) pending = true;
    const urn = /\[urn=urn:pulumi:[^\]]*::([^:\]]+)\]/.exec(line);
    if (urn && pending) {
      names.add(urn[1]);
      pending = false;
    }
  }
  return [...names].sort();
}

export function shardResult(site: string, exitCode: number, output: string): ShardResult {
  const status = exitCode === 0 ? "clean" : exitCode === 7 ? "drift" : "failed";
  return { site, status, exitCode, drifted: status === "failed" ? [] : driftedResources(output), ...(status === "failed" ? { tail: output.split("\n").slice(-30).join("\n") } : {}) };
}

/** Merges the shards' results against the inventory's sites: a site without a result is a failure, never clean. */
export function mergeResults(expected: string[], results: ShardResult[]): { code: number; text: string } {
  const bySite = new Map(results.map((r) => [r.site, r]));
  const lines = ["# SMB signing drift report", "", "| site | status | drifted hosts |", "|---|---|---|"];
  let code = 0;
  for (const site of expected) {
    const r = bySite.get(site);
    if (!r) {
      lines.push(`| ${site} | no result (the shard's job did not report) | |`);
      code = 1;
      continue;
    }
    lines.push(`| ${site} | ${r.status}${r.status === "failed" ? ` (exit ${r.exitCode})` : ""} | ${r.drifted.join(", ")} |`);
    if (r.status === "failed") code = 1;
    else if (r.status === "drift" && code === 0) code = 7;
  }
  for (const r of results) if (!expected.includes(r.site)) lines.push(`| ${r.site} | not a site of the inventory | |`);
  const drifted = results.reduce((n, r) => n + r.drifted.length, 0);
  lines.push("", `${expected.length} sites: ${results.filter((r) => r.status === "clean").length} clean, ${results.filter((r) => r.status === "drift").length} drifted (${drifted} hosts), ${expected.length - results.filter((r) => r.status !== "failed" && expected.includes(r.site)).length} failed or missing.`);
  for (const r of results) if (r.tail) lines.push("", `## ${r.site}: the CLI's last lines`, "", "```", r.tail, "```");
  return { code, text: lines.join("\n") + "\n" };
}

function main(argv: string[]): number {
  const [command, ...args] = argv;
  if (command === "sites") {
    console.log(JSON.stringify(sites(readInventory(args[0] ?? "inventory.json"))));
    return 0;
  }
  if (command === "drift" && args.length === 2) {
    const [site, dir] = args;
    const r = spawnSync("pulumi", ["preview", "--refresh", "--diff", "--expect-no-changes", "--non-interactive", "--stack", site], { encoding: "utf8", maxBuffer: 1 << 30 });
    const output = (r.stdout ?? "") + (r.stderr ?? "") + (r.error ? String(r.error) : "");
    process.stdout.write(output);
    const result = shardResult(site, r.status ?? 1, output);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${site}.json`), JSON.stringify(result, null, 2) + "\n");
    return r.status ?? 1;
  }
  if (command === "report" && args.length >= 1) {
    const [dir, inventory] = args;
    fs.mkdirSync(dir, { recursive: true });
    const results = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as ShardResult);
    const { code, text } = mergeResults(sites(readInventory(inventory ?? "inventory.json")), results);
    fs.writeFileSync(path.join(dir, "drift-report.md"), text);
    process.stdout.write(text);
    return code;
  }
  console.error("usage: shards sites [inventory.json] | shards drift <site> <dir> | shards report <dir> [inventory.json]");
  return 2;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
