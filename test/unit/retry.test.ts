// The retry loop of a remote run (provider/host/retry.ts): transient faults are retried with
// backoff inside the operation's deadline, fatal ones never, and no attempt is allowed to run
// past the deadline whatever its own limit.
import assert from "node:assert/strict";
import { HostError } from "../../provider/errors";
import { DEFAULT_RETRY, withRetries } from "../../provider/host/retry";

const NO_JITTER = { ...DEFAULT_RETRY, baseDelayMs: 1, maxDelayMs: 2, random: () => 0 };

describe("retries within the operation's deadline (host/retry.ts)", () => {
  it("no attempt may run past the deadline: each is given the earlier of its own limit and the deadline", async () => {
    const atMs = Date.now() + 5_000;
    const given: number[] = [];
    let n = 0;
    await withRetries(
      { atMs, attemptMs: 60_000 },
      async (attemptDeadlineMs) => {
        given.push(attemptDeadlineMs);
        if (++n < 3) throw new HostError("connectionFailed", "h:1", "refused");
        return "ok";
      },
      NO_JITTER,
    );
    assert.equal(given.length, 3);
    for (const d of given) assert.ok(d <= atMs, `an attempt was allowed until ${d - atMs} ms after the deadline`);
  });

  it("an attempt limit shorter than what is left of the deadline is kept", async () => {
    const before = Date.now();
    let given = 0;
    await withRetries({ atMs: before + 60_000, attemptMs: 1_000 }, async (d) => void (given = d), NO_JITTER);
    assert.ok(given >= before + 1_000 && given <= Date.now() + 1_000, String(given - before));
  });

  it("no attempt is started that the deadline would cut short: a host that keeps refusing is reported as refusing, not as a timeout", async () => {
    // Each attempt takes ~300 ms; with 500 ms left after one, a second would end at the deadline.
    const atMs = Date.now() + 800;
    let n = 0;
    await assert.rejects(
      withRetries(
        { atMs, attemptMs: 10_000 },
        async (attemptDeadlineMs) => {
          n++;
          await new Promise((r) => setTimeout(r, Math.min(300, attemptDeadlineMs - Date.now())));
          if (Date.now() >= attemptDeadlineMs) throw new HostError("timeout", "h:1", "no reply");
          throw new HostError("hostBusy", "h:1", "quota");
        },
        NO_JITTER,
      ),
      (e: HostError) => e.kind === "hostBusy" && /gave up after \d attempts?/.test(e.message),
    );
    assert.ok(n <= 2, `${n} attempts`);
  });

  it("a fatal fault is not retried; a transient one is, until the attempts run out, saying how many", async () => {
    let fatal = 0;
    await assert.rejects(
      withRetries({ atMs: Date.now() + 5_000, attemptMs: 1_000 }, async () => { fatal++; throw new HostError("authenticationFailed", "h:1", "no"); }, NO_JITTER),
      (e: HostError) => e.kind === "authenticationFailed",
    );
    assert.equal(fatal, 1);
    let transient = 0;
    await assert.rejects(
      withRetries({ atMs: Date.now() + 5_000, attemptMs: 1_000 }, async () => { transient++; throw new HostError("connectionFailed", "h:1", "refused"); }, { ...NO_JITTER, maxAttempts: 3 }),
      (e: HostError) => e.kind === "connectionFailed" && /gave up after 3 attempts/.test(e.message),
    );
    assert.equal(transient, 3);
  });
});
