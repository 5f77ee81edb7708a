// Benchmark part 3: does the provider keep anything per host? Runs many read operations in this
// process, 8 at a time like the engine, and samples the JS heap after a full GC and the RSS.
import * as v8 from "node:v8";
import * as vm from "node:vm";
import * as ops from "../../provider/operations";
import { SimulatedFleet } from "../simhost/fleet";

export interface MemorySample {
  operations: number;
  heapMiB: number;
  rssMiB: number;
}

export async function benchmarkProviderMemory(total: number, every: number): Promise<MemorySample[]> {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const fleet = await SimulatedFleet.start([{ name: "mem", preset: "server-2025" }]);
  try {
    const checked = await ops.check({}, { connection: fleet.connection("mem"), server: { requireSigning: true } });
    const created = await ops.create(checked.inputs as Record<string, unknown>);
    const samples: MemorySample[] = [];
    const sample = (n: number) => {
      gc();
      const m = process.memoryUsage();
      samples.push({ operations: n, heapMiB: m.heapUsed / 2 ** 20, rssMiB: m.rss / 2 ** 20 });
    };
    sample(0);
    for (let done = 0; done < total; ) {
      await Promise.all(Array.from({ length: 8 }, () => ops.read(created.id, created.outs)));
      done += 8;
      if (done % every === 0) sample(done);
    }
    return samples;
  } finally {
    await fleet.stop();
  }
}
