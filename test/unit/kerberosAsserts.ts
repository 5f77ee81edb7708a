// Assertions the Kerberos tests share: a refusal is a KerberosError of the expected failure,
// message and RFC 4120 code, and its message holds none of the given secrets (keys, ticket bytes)
// in hex (either case) or base64.
import assert from "node:assert/strict";
import { KerberosError } from "../../provider/transport/winrm/kerberos/errors";

export function kerberosRefusal(fn: () => unknown, failure: KerberosError["failure"], message: RegExp, code?: number, secrets: Buffer[] = []): KerberosError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof KerberosError, `a KerberosError, not ${String(caught)}`);
  assert.equal(caught.failure, failure, caught.message);
  assert.match(caught.message, message);
  assert.equal(caught.code, code);
  for (const secret of secrets) {
    for (const form of [secret.toString("hex"), secret.toString("hex").toUpperCase(), secret.toString("base64")]) {
      assert.ok(!caught.message.includes(form), "no key or ticket bytes in the message");
    }
  }
  return caught;
}
