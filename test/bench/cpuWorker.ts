// A child process of the benchmark that runs only provider operations (create, read, delete)
// against simulated hosts served by its parent, so that process.cpuUsage() here is the provider's
// CPU alone: the hosts' (sshd, the WinRM emulator) is spent in other processes.
import * as ops from "../../provider/operations";
import type { PolicyOutputs } from "../../provider/domain/policy";

export interface CpuWorkerRequest {
  /** Connection inputs, one per host; every host gets one operation of each round at once. */
  connections: Array<Record<string, unknown>>;
  rounds: number;
  readsPerRound: number;
}

export interface CpuPhase {
  operation: "create" | "read" | "delete";
  operations: number;
  cpuMs: number;
  wallMs: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function phase(operation: CpuPhase["operation"], count: number, body: () => Promise<unknown>): Promise<CpuPhase> {
  const c0 = cpuMs();
  const t0 = performance.now();
  await body();
  return { operation, operations: count, cpuMs: cpuMs() - c0, wallMs: performance.now() - t0 };
}

async function main(req: CpuWorkerRequest): Promise<{ warmUp: CpuPhase[]; phases: CpuPhase[] }> {
  const inputs: Array<Record<string, unknown>> = [];
  for (const connection of req.connections) {
    const r = await ops.check({}, { connection, client: { requireSigning: true }, server: { requireSigning: true }, owner: "bench/cpu/x" });
    if (r.failures) throw new Error(JSON.stringify(r.failures));
    inputs.push(r.inputs as Record<string, unknown>);
  }
  const n = inputs.length;
  const all = (f: (i: number) => Promise<unknown>) => Promise.all(inputs.map((_, i) => f(i)));
  const warmUp: CpuPhase[] = [];
  const phases: CpuPhase[] = [];
  for (let round = 0; round <= req.rounds; round++) {
    // Round 0 warms up (module loading, JIT) and is reported apart.
    const into = round === 0 ? warmUp : phases;
    const made: Array<{ id: string; outs: PolicyOutputs }> = [];
    into.push(await phase("create", n, () => all(async (i) => {
      const c = await ops.create(inputs[i]);
      made[i] = { id: c.id, outs: c.outs as PolicyOutputs };
    })));
    into.push(await phase("read", n * req.readsPerRound, async () => {
      for (let k = 0; k < req.readsPerRound; k++) await all((i) => ops.read(made[i].id, made[i].outs as unknown as Record<string, unknown>));
    }));
    into.push(await phase("delete", n, () => all((i) => ops.delete(made[i].id, made[i].outs))));
  }
  return { warmUp, phases };
}

process.once("message", (req: CpuWorkerRequest) => {
  main(req).then(
    (r) => process.send!(r, () => process.exit(0)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
});
