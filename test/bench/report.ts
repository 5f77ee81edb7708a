// Turns benchmark measurements into the results file (Markdown tables, targets, machine and
// commands), a JSON copy for later comparison, and a chart (SVG rendered to PNG).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Resvg } from "@resvg/resvg-js";
import type { FleetMeasurement, FleetStateSize } from "./fleetScale";
import { KdcExchanges, Measurement, OPERATIONS, TRANSPORTS } from "./perOperation";
import type { MemorySample } from "./providerMemory";
import type { FleetPerfResults, FleetRun } from "./fleetPerf";

export interface BenchResults {
  date: string;
  machine: string;
  node: string;
  pulumi: string;
  reps: number;
  powershellStartMs: number;
  operations: Measurement[];
  /** The KDC exchanges of the per-operation part's Kerberos rows (absent from results made before them). */
  kdc?: KdcExchanges;
  /** Set when the per-operation part was run alone (`npm run bench -- operations`) after the rest. */
  operationsDate?: string;
  operationsMachine?: string;
  operationsNode?: string;
  fleet: FleetMeasurement[];
  state: FleetStateSize[];
  memory: MemorySample[];
}

export function machineDescription(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`;
}

const fmt = (n: number, digits = 0) => n.toFixed(digits);

function find(r: BenchResults, op: string, variant: string, transport = "ssh"): Measurement {
  return r.operations.find((m) => m.operation === op && m.variant === variant && (m.transport ?? "ssh") === transport)!;
}

/** Least-squares slope and intercept of y over x. */
function fit(points: Array<[number, number]>): { slope: number; intercept: number } {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxy = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** Kerberos's goal (issue 23): per operation within this factor of NTLM's median. */
export const KERBEROS_TARGET_RATIO = 1.1;

/** WinRM with Kerberos beside WinRM with NTLM, measured in the same run, and the KDC exchanges the Kerberos rows cost. */
function kerberosAgainstNtlm(r: BenchResults): string[] {
  if (!OPERATIONS.some((op) => find(r, op, "ours", "winrm-kerberos"))) return [];
  const L = ["### WinRM: Kerberos against NTLM (same run, same host, HTTP with message encryption)", ""];
  L.push(`| operation | variant | NTLM median ms | Kerberos median ms | Kerberos / NTLM | within ${KERBEROS_TARGET_RATIO}× |`, "|---|---|---:|---:|---:|---|");
  for (const op of OPERATIONS) {
    for (const variant of ["limit", "ours"] as const) {
      const ntlm = find(r, op, variant, "winrm");
      const krb = find(r, op, variant, "winrm-kerberos");
      if (!ntlm || !krb) continue;
      const ratio = krb.medianMs / ntlm.medianMs;
      L.push(`| ${op} | ${variant} | ${fmt(ntlm.medianMs)} | ${fmt(krb.medianMs)} | ${fmt(ratio, 2)}× | ${ratio <= KERBEROS_TARGET_RATIO ? "yes" : "**no**"} |`);
    }
  }
  if (r.kdc) {
    const k = r.kdc;
    const one = k.asIssued <= 1 && k.tgsIssued <= k.services.length && k.services.length <= 1;
    L.push(
      "",
      `KDC exchanges for all ${k.runs} Kerberos runs of the part (limit, ours and baseline, ${r.reps} reps; one provider process, its ticket store fresh at the start): ` +
        `AS ${k.asRequests} request(s), ${k.asIssued} ticket(s) issued; TGS ${k.tgsRequests} request(s), ${k.tgsIssued} ticket(s) issued, for ${k.services.join(", ") || "no service"}` +
        ` (goal: at most one exchange per service per run: ${one ? "met" : "**not met**"}). From the MIT KDC's log; a pre-authenticated AS exchange is two requests (PREAUTH_REQUIRED, then the ticket).`,
    );
  }
  L.push("");
  return L;
}

export function markdown(r: BenchResults): string {
  const lines: string[] = [];
  lines.push("# Benchmark results", "");
  lines.push(`- date: ${r.date}`, `- machine: ${r.machine}`, `- node ${r.node}, Pulumi CLI ${r.pulumi}`);
  lines.push(`- command: \`bash tools/setup.sh && npm run bench\` (BENCH_REPS=${r.reps}, BENCH_PS_START_MS=${r.powershellStartMs}, BENCH_FLEET_SIZES=${[...new Set(r.fleet.map((f) => f.hosts))].join(",")})`);
  if (r.operationsDate) {
    lines.push(`- per operation: run alone on ${r.operationsDate} (\`npm run bench -- operations\`, BENCH_REPS=${r.reps}, BENCH_PS_START_MS=${r.powershellStartMs}); machine: ${r.operationsMachine ?? r.machine}; node ${r.operationsNode ?? r.node}`);
  }
  lines.push(`- simulated hosts: real sshd on loopback, the WinRM emulator, and for Kerberos a throw-away MIT KDC and MIT's GSSAPI acceptor (python3-gssapi); PowerShell start-up modelled as ${r.powershellStartMs} ms per run`, "");
  lines.push("## Per operation (one host, median of " + r.reps + " runs)", "");
  lines.push("| transport | operation | variant | median ms | remote runs | connections | round trips | bytes | vs limit | baseline / ours |");
  lines.push("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const transport of TRANSPORTS) {
    for (const op of OPERATIONS) {
      const limit = find(r, op, "limit", transport);
      const ours = find(r, op, "ours", transport);
      if (!limit || !ours) continue;
      for (const m of [limit, ours, find(r, op, "baseline", transport)]) {
        const ratio = m.medianMs / limit.medianMs;
        const base = m.variant === "ours" ? fmt(find(r, op, "baseline", transport).medianMs / ours.medianMs, 2) + "×" : "";
        lines.push(`| ${transport} | ${op} | ${m.variant} | ${fmt(m.medianMs)} | ${m.remoteRuns} | ${m.connections} | ${m.roundTrips} | ${m.bytes} | ${fmt(ratio, 2)}× | ${base} |`);
      }
    }
  }
  lines.push("", "limit: one bare connection with its handshake (SSH; or WinRM's NTLM or Kerberos handshake and shell) and `powershell.exe -Command exit`. baseline: one connection and one PowerShell run per cmdlet (Get/Set client, Get/Set server, re-read both), as with a generic remote-command resource. Round trips: client flights that waited for the server, counted by a loopback relay (for WinRM, one per HTTP request).", "");
  lines.push(...kerberosAgainstNtlm(r));
  lines.push("## Fleet through the real Pulumi CLI, over SSH (default parallelism: 4 × cores = 8)", "");
  lines.push("| hosts | command | wall s | s per host | provider peak RSS MiB | failures |", "|---:|---|---:|---:|---:|---:|");
  for (const f of r.fleet) {
    lines.push(`| ${f.hosts} | ${f.command} | ${fmt(f.wallSeconds, 1)} | ${fmt(f.wallSeconds / f.hosts, 3)} | ${fmt(f.providerPeakMiB, 1)} | ${f.failures} |`);
  }
  lines.push("", "| hosts | state bytes per resource | serialized provider bytes per resource |", "|---:|---:|---:|");
  for (const s of r.state) lines.push(`| ${s.hosts} | ${s.bytesPerResource} | ${s.serializedProviderBytes} |`);
  lines.push("", "## Growth with N (least squares over the fleet sizes)", "");
  for (const command of [...new Set(r.fleet.map((f) => f.command))]) {
    const rows = r.fleet.filter((f) => f.command === command);
    const t = fit(rows.map((f) => [f.hosts, f.wallSeconds]));
    const m = fit(rows.map((f) => [f.hosts, f.providerPeakMiB * 1024]));
    lines.push(`- ${command}: ${fmt(t.slope * 1000)} ms per host + ${fmt(t.intercept, 1)} s fixed; provider peak memory ${fmt(m.slope, 1)} KiB per host`);
  }
  lines.push(`- the ideal at parallelism 8 is ${fmt(find(r, "create", "limit").medianMs / 8)} ms per host (the per-operation limit / 8)`);
  lines.push("", "## Provider memory per operation (in process, 8 reads at a time against one host, after a full GC)", "");
  lines.push("| operations | JS heap MiB | RSS MiB |", "|---:|---:|---:|");
  for (const m of r.memory) lines.push(`| ${m.operations} | ${fmt(m.heapMiB, 1)} | ${fmt(m.rssMiB, 1)} |`);
  const warm = r.memory.slice(1);
  if (warm.length > 1) {
    const h = fit(warm.map((m) => [m.operations, m.heapMiB * 1024]));
    lines.push("", `- JS heap after warm-up: ${fmt(h.slope, 2)} KiB per operation`);
  }
  return lines.join("\n") + "\n";
}

export function chartSvg(r: BenchResults): string {
  const W = 960;
  const H = 450;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans" font-size="12">`];
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  const colors: Record<string, string> = { limit: "#9e9e9e", ours: "#1e88e5", baseline: "#e53935", up: "#1e88e5", refresh: "#43a047", "refresh (heap capped)": "#8e24aa", destroy: "#fb8c00" };
  // Left: per-operation medians.
  const x0 = 60, y0 = 360, pw = 380, ph = 300;
  const maxMs = Math.max(...r.operations.map((m) => m.medianMs));
  parts.push(`<text x="${x0}" y="30" font-size="14" font-weight="bold">Per operation, median ms (PowerShell start ${r.powershellStartMs} ms)</text>`);
  parts.push(`<line x1="${x0}" y1="${y0}" x2="${x0 + pw}" y2="${y0}" stroke="black"/><line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y0 - ph}" stroke="black"/>`);
  for (let t = 0; t <= maxMs; t += 1000) {
    const y = y0 - (t / maxMs) * ph;
    parts.push(`<text x="${x0 - 8}" y="${y + 4}" text-anchor="end">${t}</text><line x1="${x0}" y1="${y}" x2="${x0 + pw}" y2="${y}" stroke="#eee"/>`);
  }
  const groups = TRANSPORTS.flatMap((t) => OPERATIONS.map((op) => ({ t, op }))).filter((g) => find(r, g.op, "ours", g.t));
  const gw = pw / groups.length;
  groups.forEach(({ t, op }, i) => {
    const gx = x0 + 4 + i * gw;
    const bw = (gw - 6) / 3;
    (["limit", "ours", "baseline"] as const).forEach((v, j) => {
      const m = find(r, op, v, t);
      const h = (m.medianMs / maxMs) * ph;
      parts.push(`<rect x="${gx + j * bw}" y="${y0 - h}" width="${bw - 1}" height="${h}" fill="${colors[v]}"/>`);
    });
    parts.push(`<text x="${gx + gw / 2 - 3}" y="${y0 + 14}" text-anchor="middle" font-size="10">${op}</text>`);
    parts.push(`<text x="${gx + gw / 2 - 3}" y="${y0 + 26}" text-anchor="middle" font-size="10">${t === "winrm-kerberos" ? "krb" : t}</text>`);
  });
  (["limit", "ours", "baseline"] as const).forEach((v, j) => {
    parts.push(`<rect x="${x0 + 10 + j * 110}" y="${y0 + 38}" width="12" height="12" fill="${colors[v]}"/><text x="${x0 + 26 + j * 110}" y="${y0 + 49}">${v}</text>`);
  });
  // Right: fleet wall time against N.
  const fx0 = 560, fpw = 360;
  const sizes = [...new Set(r.fleet.map((f) => f.hosts))].sort((a, b) => a - b);
  const maxN = Math.max(...sizes);
  const maxS = Math.max(...r.fleet.map((f) => f.wallSeconds));
  parts.push(`<text x="${fx0}" y="30" font-size="14" font-weight="bold">Fleet via the Pulumi CLI (SSH): wall s vs hosts</text>`);
  parts.push(`<line x1="${fx0}" y1="${y0}" x2="${fx0 + fpw}" y2="${y0}" stroke="black"/><line x1="${fx0}" y1="${y0}" x2="${fx0}" y2="${y0 - ph}" stroke="black"/>`);
  const step = maxS > 60 ? 20 : 5;
  for (let t = 0; t <= maxS; t += step) {
    const y = y0 - (t / maxS) * ph;
    parts.push(`<text x="${fx0 - 8}" y="${y + 4}" text-anchor="end">${t}</text><line x1="${fx0}" y1="${y}" x2="${fx0 + fpw}" y2="${y}" stroke="#eee"/>`);
  }
  for (const n of sizes) parts.push(`<text x="${fx0 + (n / maxN) * fpw}" y="${y0 + 18}" text-anchor="middle">${n}</text>`);
  const commands = [...new Set(r.fleet.map((f) => f.command))];
  commands.forEach((c, j) => {
    const pts = r.fleet.filter((f) => f.command === c).map((f) => `${fx0 + (f.hosts / maxN) * fpw},${y0 - (f.wallSeconds / maxS) * ph}`);
    parts.push(`<polyline points="${pts.join(" ")}" fill="none" stroke="${colors[c]}" stroke-width="2"/>`);
    for (const p of pts) parts.push(`<circle cx="${p.split(",")[0]}" cy="${p.split(",")[1]}" r="3" fill="${colors[c]}"/>`);
    parts.push(`<rect x="${fx0 + 10 + (j % 2) * 170}" y="${y0 + 32 + Math.floor(j / 2) * 18}" width="12" height="12" fill="${colors[c]}"/><text x="${fx0 + 26 + (j % 2) * 170}" y="${y0 + 43 + Math.floor(j / 2) * 18}">${c}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

export function writeResults(dir: string, r: BenchResults): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "results.md"), markdown(r) + "\n![chart](chart.png)\n");
  fs.writeFileSync(path.join(dir, "results.json"), JSON.stringify(r, null, 2) + "\n");
  const svg = chartSvg(r);
  fs.writeFileSync(path.join(dir, "chart.svg"), svg);
  fs.writeFileSync(path.join(dir, "chart.png"), new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } }).render().asPng());
}

const FLEET_BEGIN = "<!-- fleet at scale: npm run bench -- fleet -->";

/** Appends the fleet-at-scale section of bench/fleet.json, unchanged, to a results.md just written by writeResults. */
export function rewriteFleetSection(dir: string): void {
  const fleetFile = path.join(dir, "fleet.json");
  if (!fs.existsSync(fleetFile)) return;
  const file = path.join(dir, "results.md");
  const old = fs.readFileSync(file, "utf8");
  const at = old.indexOf(FLEET_BEGIN);
  const text = fleetMarkdown(JSON.parse(fs.readFileSync(fleetFile, "utf8")) as FleetPerfResults);
  fs.writeFileSync(file, (at < 0 ? old.trimEnd() + "\n\n" : old.slice(0, at)) + text);
}

/** The fleet-at-scale section (fleetPerf.ts) of results.md. */
export function fleetMarkdown(r: FleetPerfResults): string {
  const L: string[] = [];
  const ideal = (x: FleetRun, p: number) => (x.limitMs ?? r.limitMs) / p;
  const cores = os.cpus().length;
  L.push(FLEET_BEGIN, "", "## Fleet at scale", "");
  const runs = [...new Map(r.runs.map((x) => [x.date ?? r.date, x])).values()];
  L.push(`- machine: ${r.machine}; command: \`npm run bench -- fleet\` (BENCH_FLEET_HOSTS=${r.hosts}, BENCH_PS_START_MS=${r.powershellStartMs}); BENCH_FLEET_PARTS runs some parts, whose tables replace those of an earlier run; each table below comes from one run:`);
  for (const x of runs) L.push(`  - run of ${x.date ?? r.date}: ${[...new Set(r.runs.filter((y) => (y.date ?? r.date) === (x.date ?? r.date)).map((y) => (y.label === "1 stack" || y.label === "4 shards" ? "shards" : y.label)))].join(", ")}; per-operation limit against a fleet host (bare SSH connection, handshake, PowerShell start; median of 7): ${fmt(x.limitMs ?? r.limitMs)} ms`);
  if (r.cpu.length) L.push(`  - provider CPU per operation: run of ${r.cpuDate ?? r.date}`);
  if (r.program) L.push(`  - program CPU per resource: run of ${r.programDate ?? r.date}`);
  if (r.stateFields) L.push(`  - state field by field: run of ${r.stateFieldsDate ?? r.date}`);
  L.push("- ideal per host at --parallel p = limit / p");
  L.push("- CPU per host: from /proc (utime + stime) of the CLI (`engine`), the language host and the program (`program`), the dynamic provider (`provider`), the simulated hosts (`hosts`: the sshd daemons with the sessions and forced commands they reaped); `rest` is the machine's other busy time: the benchmark itself and whatever else runs on this shared machine (in rows without `hosts`, the hosts too)");
  if (r.cpu.length) {
    L.push("", "### Provider CPU per operation (its own process; the hosts' CPU is in another)", "");
    L.push("| transport | operation | operations | CPU ms per operation | operations per core-second |", "|---|---|---:|---:|---:|");
    for (const c of r.cpu) L.push(`| ${c.transport} | ${c.operation} | ${c.operations} | ${fmt(c.cpuMsPerOperation, 2)} | ${fmt(c.opsPerCoreSecond)} |`);
  }
  if (r.program) {
    L.push("", `### Program CPU per resource (${r.program.resources} registered under Pulumi's mocks, no engine; each in a process of its own)`, "");
    L.push("| SmbSigningPolicy ms | bare dynamic resource, same inputs, ms | ours / bare |", "|---:|---:|---:|");
    L.push(`| ${fmt(r.program.oursMs, 2)} | ${fmt(r.program.bareMs, 2)} | ${fmt(r.program.oursMs / r.program.bareMs, 2)}× |`);
  }
  const table = (runs: FleetRun[], first: string) => {
    L.push(`| ${first} | command | wall s | ms per host | ideal ms | vs ideal | CPU ms/host engine | program | provider | hosts | rest | machine busy | provider peak RSS MiB | failures |`);
    L.push("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const x of runs) {
      const c = x.cpuMsPerHost;
      const busy = (c.machine * x.hosts) / 1000 / (x.wallSeconds * cores);
      const col = first === "checkpoints" ? (x.skipCheckpoints ? "skipped" : "written") : first === "parallel" ? String(x.parallel) : first === "NODE_OPTIONS" ? (x.nodeOptions ?? "(none)") : x.label;
      const idealMs = x.command === "preview" ? 0 : ideal(x, x.parallel * (first === "layout" ? x.stacks : 1));
      L.push(`| ${col} | ${x.command} | ${fmt(x.wallSeconds, 1)} | ${fmt(x.msPerHost)} | ${idealMs ? fmt(idealMs) : "–"} | ${idealMs ? fmt(x.msPerHost / idealMs, 2) + "×" : "–"} | ${fmt(c.engine, 1)} | ${fmt(c.program, 1)} | ${fmt(c.provider, 1)} | ${c.hosts === undefined ? "–" : fmt(c.hosts, 1)} | ${fmt(c.rest, 1)} | ${fmt(busy * 100)}% | ${fmt(x.providerPeakMiB)} | ${x.failures} |`);
    }
  };
  const breakdown = r.runs.filter((x) => x.label === "breakdown");
  if (breakdown.length) {
    L.push("", `### Where the per-host time goes (${r.hosts} hosts, --parallel 8)`, "");
    L.push("`preview` runs the program and the engine's check and diff RPCs and contacts no host. `checkpoints skipped` is `PULUMI_SKIP_CHECKPOINTS=true`.", "");
    table(breakdown, "checkpoints");
  }
  const curve = r.runs.filter((x) => x.label === "curve");
  if (curve.length) {
    L.push("", `### --parallel at ${r.hosts} hosts (checkpoints skipped)`, "");
    table(curve, "parallel");
  }
  const memory = r.runs.filter((x) => x.label === "memory");
  if (memory.length) {
    L.push("", `### Provider memory at ${r.hosts} hosts (--parallel 8, checkpoints skipped), with V8's young generation capped or not`, "");
    table(memory, "NODE_OPTIONS");
  }
  const stacks = r.runs.filter((x) => x.label === "stacks");
  if (stacks.length) {
    L.push("", `### Stack traces at ${r.hosts} hosts (--parallel 8, checkpoints skipped), captured or not`, "");
    table(stacks, "NODE_OPTIONS");
  }
  const shards = r.runs.filter((x) => x.label === "1 stack" || x.label === "4 shards");
  if (shards.length) {
    L.push("", `### Shards: 4 stacks × ${shards[0].hosts / 4} run at once against 1 stack × ${shards[0].hosts} (--parallel ${shards[0].parallel} each, checkpoints skipped)`, "");
    L.push("`ideal` for 4 shards is the limit / (4 × parallel): four engines at once.", "");
    table(shards, "layout");
  }
  const top = Math.max(0, ...curve.map((x) => x.parallel));
  const basis = curve.filter((x) => x.parallel === top);
  if (basis.length) {
    L.push("", "### Projection for runners that do not also run the hosts", "");
    L.push(`The runner's CPU per host is engine + program + provider from the --parallel ${top} rows above (the hosts' CPU is theirs, not the runner's). A runner with C cores manages at most C × 1000 / (that CPU) hosts a second; with real hosts taking T seconds per operation, --parallel P manages P / T. 10,000 hosts on N runners of 2 cores at --parallel 64, one stack (shard) per runner, take about (10,000 / N) × max(T / 64, CPU / 2) plus each stack's start-up (a few seconds).`, "");
    L.push("| command | runner CPU ms per host | hosts per core-second | 10,000 hosts, T = limit: N = 1 | N = 4 | N = 10 | T = 2 s: N = 1 | N = 4 | N = 10 |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const x of basis) {
      const cpu = x.cpuMsPerHost.engine + x.cpuMsPerHost.program + x.cpuMsPerHost.provider;
      const t = (T: number, n: number) => `${fmt(((10_000 / n) * Math.max(T / 64, cpu / 2)) / 1000)} s`;
      const lim = x.limitMs ?? r.limitMs;
      L.push(`| ${x.command} | ${fmt(cpu, 1)} | ${fmt(1000 / cpu)} | ${t(lim, 1)} | ${t(lim, 4)} | ${t(lim, 10)} | ${t(2000, 1)} | ${t(2000, 4)} | ${t(2000, 10)} |`);
    }
  }
  if (r.state) {
    const s = r.state;
    L.push("", `### State per SmbSigningPolicy (${s.hosts} hosts, after up)`, "");
    L.push("| whole resource bytes | inputs | outputs | engine's fields (urn, stack trace, ...) | serialized provider (in inputs and in outputs, each) |", "|---:|---:|---:|---:|---:|");
    L.push(`| ${s.bytesPerResource} | ${s.inputsBytes} | ${s.outputsBytes} | ${s.engineMetadataBytes} | ${s.serializedProviderBytes} |`);
  }
  if (r.stateFields?.fields) {
    const f = r.stateFields;
    L.push("", `### State field by field (mean bytes per SmbSigningPolicy, ${f.hosts} hosts, after up; JSON of each field's value)`, "");
    L.push(`Whole resource ${f.bytesPerResource} bytes: inputs ${f.inputsBytes}, outputs ${f.outputsBytes}, the engine's fields ${f.engineMetadataBytes}.`, "");
    L.push("| field | in inputs | in outputs |", "|---|---:|---:|");
    const keys = [...new Set([...Object.keys(f.fields!.inputs), ...Object.keys(f.fields!.outputs)])];
    keys.sort((a, b) => (f.fields!.outputs[b] ?? 0) + (f.fields!.inputs[b] ?? 0) - (f.fields!.outputs[a] ?? 0) - (f.fields!.inputs[a] ?? 0));
    for (const k of keys) L.push(`| ${k} | ${f.fields!.inputs[k] ?? "–"} | ${f.fields!.outputs[k] ?? "–"} |`);
  }
  if (r.stateByFront?.dynamic && r.stateByFront.plugin) {
    const d = r.stateByFront.dynamic;
    const g = r.stateByFront.plugin;
    L.push("", `### State per resource by front end (${d.hosts} hosts, the same declarations, after up; run of ${r.stateFieldsDate ?? r.date})`, "");
    L.push("| front end | whole resource bytes | inputs | outputs | engine's fields | serialized code |", "|---|---:|---:|---:|---:|---:|");
    for (const [name, s] of [["dynamic resource (password in the resource, from secret config)", d], ["provider plugin (account and password in provider configuration)", g]] as const) {
      L.push(`| ${name} | ${s.bytesPerResource} | ${s.inputsBytes} | ${s.outputsBytes} | ${s.engineMetadataBytes} | ${s.serializedProviderBytes} ×2 |`);
    }
    L.push("", `The plugin's resources are ${fmt((1 - g.bytesPerResource / d.bytesPerResource) * 100)}% smaller; its default provider keeps the configuration once per stack (not counted above).`);
  }
  L.push("");
  return L.join("\n");
}

/** Writes bench/fleet.json and puts the fleet section in results.md in place of the old one (or after it). */
export function writeFleetResults(dir: string, fresh: FleetPerfResults): string {
  fs.mkdirSync(dir, { recursive: true });
  const r = mergeFleetResults(dir, fresh);
  fs.writeFileSync(path.join(dir, "fleet.json"), JSON.stringify(r, null, 2) + "\n");
  const file = path.join(dir, "results.md");
  const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmark results\n";
  const at = old.indexOf(FLEET_BEGIN);
  const text = fleetMarkdown(r);
  fs.writeFileSync(file, (at < 0 ? old.trimEnd() + "\n\n" : old.slice(0, at)) + text);
  return text;
}

/** The fresh run's parts over those of bench/fleet.json: rows of other parts stay, with their run's date and limit. */
function mergeFleetResults(dir: string, fresh: FleetPerfResults): FleetPerfResults {
  const file = path.join(dir, "fleet.json");
  if (!fs.existsSync(file)) return { ...fresh, cpuDate: fresh.cpu.length ? fresh.date : undefined };
  const old = JSON.parse(fs.readFileSync(file, "utf8")) as FleetPerfResults;
  const part = (x: FleetRun) => (x.label === "1 stack" || x.label === "4 shards" ? "shards" : x.label);
  const freshParts = new Set(fresh.runs.map(part));
  const kept = old.runs.filter((x) => !freshParts.has(part(x))).map((x) => ({ ...x, date: x.date ?? old.date, limitMs: x.limitMs ?? old.limitMs }));
  return {
    ...fresh,
    runs: [...kept, ...fresh.runs],
    cpu: fresh.cpu.length ? fresh.cpu : old.cpu,
    cpuDate: fresh.cpu.length ? fresh.date : (old.cpuDate ?? old.date),
    state: fresh.state ?? old.state,
    program: fresh.program ?? old.program,
    stateFields: fresh.stateFields ?? old.stateFields,
    stateFieldsDate: fresh.stateFields ? fresh.date : old.stateFieldsDate,
    stateByFront: fresh.stateByFront ?? old.stateByFront,
    programDate: fresh.program ? fresh.date : (old.programDate ?? (old.program ? old.date : undefined)),
  };
}
