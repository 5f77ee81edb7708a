// Property-based test (fast-check): invalid inputs aimed at a real simulated host never reach it, neither from check nor from create.
import assert from "node:assert/strict";
import fc from "fast-check";
import * as ops from "../../provider/operations";
import { isFullyKnown } from "../../provider/domain/schema";
import { brokenField, Inputs, validPolicy, withUnknown } from "../arbitraries/policyInputs";
import { SimulatedFleet } from "../simhost/fleet";

const PRESET = "win11-24h2-home"; // requires neither side: any apply that got through would change it

let fleet: SimulatedFleet;

/** Everything by which the host could tell it was contacted: script runs, SSH connections, WinRM requests. */
function contacts() {
  return {
    runs: fleet.state("h").counters.runs,
    sshConnections: fleet.sshdLog().match(/Connection from /g)?.length ?? 0,
    winrmRequests: fleet.winrm.get("h")!.requests + fleet.winrmHttps.get("h")!.requests,
  };
}

describe("invalid inputs against a simulated host", () => {
  before(async () => {
    fleet = await SimulatedFleet.start([{ name: "h", preset: PRESET }], { winrm: true });
  });
  after(async () => {
    await fleet?.stop();
  });
  it("are refused by check, and create rejects them without contacting the host over SSH or WinRM", async () => {
    const cases = fc.constantFrom("password" as const, "winrm" as const).chain((auth) => {
      const connection = fleet.connection("h", auth);
      const transport = auth === "winrm" ? "winrm" : "ssh";
      const valid = validPolicy(fc.constant(connection));
      return fc.oneof(
        { weight: 4, arbitrary: valid.chain((i) => brokenField(transport).map((m) => ({ inputs: m.apply(i), why: m.describe }))) },
        { weight: 1, arbitrary: withUnknown(valid).map((u) => ({ inputs: u.inputs, why: `unknown at ${u.at}` })) },
      );
    });
    let inputs = 0;
    await fc.assert(
      fc.asyncProperty(cases, async ({ inputs: raw, why }: { inputs: Inputs; why: string }) => {
        inputs++;
        const start = contacts();
        try {
          const checked = await ops.check({}, raw);
          // The sentinel is not an error at check (a preview has unknowns), but create must still refuse it.
          assert.ok((checked.failures ?? []).length > 0 || !isFullyKnown(raw), `check accepted: ${why}`);
          await assert.rejects(ops.create(raw), `create accepted: ${why}`);
          assert.deepEqual(contacts(), start, `the host was contacted for: ${why}`);
          assert.equal(contacts().runs, 0);
        } finally {
          // A property that failed may have changed the host; every run starts from a fresh one.
          if (contacts().runs !== 0) fleet.reset("h", PRESET);
        }
      }),
      { numRuns: 100 },
    );
    console.log(`create (invalid inputs, simulated host): ${inputs} inputs`);
  });
});
