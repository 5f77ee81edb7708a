// Benchmark part 2: `pulumi up`, `refresh` and `destroy` through the real CLI for a fleet of N
// simulated hosts (one sshd listening on N loopback addresses), with wall time, the provider
// process's peak memory and the state bytes per resource.
import * as fs from "node:fs";
import * as path from "node:path";
import { PresetName } from "../simhost/model";
import { SimulatedFleet } from "../simhost/fleet";
import { REPO_ROOT } from "../e2e/pulumiCli";
import { fleetExampleStack } from "../e2e/stacks";

const PRESETS: Array<{ preset: PresetName; edition: string }> = [
  { preset: "win11-24h2-pro", edition: "workstation" },
  { preset: "win11-24h2-home", edition: "workstation" },
  { preset: "server-2025", edition: "server" },
];

export interface FleetMeasurement {
  hosts: number;
  /** "refresh (heap capped)" repeats refresh with the provider's V8 old space capped at 100 MiB. */
  command: "up" | "refresh" | "refresh (heap capped)" | "destroy";
  wallSeconds: number;
  providerPeakMiB: number;
  failures: number;
}

export interface FleetStateSize {
  hosts: number;
  bytesPerResource: number;
  serializedProviderBytes: number;
}

/** Peak resident memory (VmHWM) of the dynamic-provider processes, sampled every 100 ms. */
class ProviderMemoryProbe {
  private peakKiB = 0;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      try {
        const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
        if (!cmdline.includes("cmd/dynamic-provider")) continue;
        const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
        if (hwm) this.peakKiB = Math.max(this.peakKiB, Number(hwm[1]));
      } catch {
        // the process ended between listing and reading
      }
    }
  }

  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.peakKiB / 1024;
  }
}

export async function benchmarkFleet(
  n: number,
  powershellStartMs: number,
): Promise<{ runs: FleetMeasurement[]; state: FleetStateSize }> {
  const names = Array.from({ length: n }, (_, i) => ({ name: `host-${String(i).padStart(3, "0")}`, ...PRESETS[i % PRESETS.length] }));
  const fleet = await SimulatedFleet.start(
    names.map((h) => ({ name: h.name, preset: h.preset })),
    { sharedDaemon: true, powershellStartMs },
  );
  const dir = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-bench-"));
  try {
    const project = await fleetExampleStack(dir, "bench", fleet, names);
    const runs: FleetMeasurement[] = [];
    let state: FleetStateSize | undefined;
    const plainEnv = project.env;
    for (const command of ["up", "refresh", "refresh (heap capped)", "destroy"] as const) {
      // Peak RSS includes garbage V8 has not yet collected; a capped old space shows what stays.
      project.env = command === "refresh (heap capped)" ? { ...plainEnv, NODE_OPTIONS: "--max-old-space-size=100" } : plainEnv;
      const probe = new ProviderMemoryProbe();
      const t0 = process.hrtime.bigint();
      const r = await project.run([command.split(" ")[0], "--yes", "--skip-preview"]);
      const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const providerPeakMiB = probe.stop();
      const failures = r.code === 0 ? 0 : (r.output.match(/ (creating|refreshing|deleting) failed| error:/g) ?? []).length || 1;
      if (r.code !== 0) console.error(r.output.slice(-4000));
      runs.push({ hosts: n, command, wallSeconds, providerPeakMiB, failures });
      if (command === "up") {
        const resources = JSON.parse(await project.exportState()).deployment.resources.filter((x: { type: string }) =>
          x.type.endsWith(":SmbSigningPolicy"),
        );
        const total = resources.reduce((sum: number, x: object) => sum + Buffer.byteLength(JSON.stringify(x)), 0);
        state = {
          hosts: n,
          bytesPerResource: Math.round(total / Math.max(1, resources.length)),
          serializedProviderBytes: Buffer.byteLength(resources[0]?.inputs.__provider ?? ""),
        };
      }
    }
    project.env = plainEnv;
    await project.run(["stack", "rm", "--yes", "--force"]);
    return { runs, state: state! };
  } finally {
    await fleet.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
