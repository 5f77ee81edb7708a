// The HostError an operation against a simulated host fails with, for the integration tests.
import assert from "node:assert/strict";
import { HostError } from "../../provider/errors";

/** The HostError `p` rejects with; fails the test if it resolves or rejects with anything else. */
export async function failure(p: Promise<unknown>): Promise<HostError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HostError, `expected a HostError, got ${err}`);
    return err;
  }
  assert.fail("expected the operation to fail");
}
