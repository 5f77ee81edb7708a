// SmbSigningPolicy's constructor notes (info, not warnings: a declaration is a decision already
// taken) enableSigning (SMB 1 only) and acknowledged weakenings, whether the arguments are plain
// values, Outputs or promises; it leaves out its hook only when plain arguments show there is
// nothing to say. Run under Pulumi's mocks, where pulumi.log.info writes to console.log and
// pulumi.log.warn to console.warn. The test waits for each hook itself (it computes its notes with
// domain/safety's declarationWarnings and logs them in the same turn), never for a fixed time.
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import * as safety from "../../provider/domain/safety";

describe("the constructor's notes", () => {
  const warned: string[] = [];
  const noted: string[] = [];
  const consoleWarn = console.warn;
  const consoleLog = console.log;
  const declarationWarnings = safety.declarationWarnings;
  /** The hosts whose hook has run, in order, and a promise per host that resolves when it has. */
  const hooked: string[] = [];
  const waiting = new Map<string, () => void>();
  const hookOf = (host: string) => new Promise<void>((resolve) => (hooked.includes(host) ? resolve() : waiting.set(host, resolve)));
  before(() => {
    pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: () => ({}) }, "warnings", "dev", false);
    console.warn = (...args: unknown[]) => void warned.push(args.join(" "));
    console.log = (...args: unknown[]) => void noted.push(args.join(" "));
    // resource.js calls it through the module's exports, so this sees every hook's call. The hook
    // logs the notes returned right after, synchronously: a waiter resumed by this resolve runs
    // once they are logged.
    (safety as { declarationWarnings: typeof declarationWarnings }).declarationWarnings = (host, settings, acknowledged) => {
      const notes = declarationWarnings(host, settings, acknowledged);
      hooked.push(host);
      waiting.get(host)?.();
      return notes;
    };
  });
  after(() => {
    console.warn = consoleWarn;
    console.log = consoleLog;
    (safety as { declarationWarnings: typeof declarationWarnings }).declarationWarnings = declarationWarnings;
  });

  it("come from plain values, Outputs and promises alike, and not when there is nothing to say", async () => {
    const { SmbSigningPolicy } = await import("../../provider/resource");
    const connection = (host: string) => ({ host, user: "admin", password: "p", hostKey: "SHA256:" + "A".repeat(43) });
    const declared: [string, Omit<ConstructorParameters<typeof SmbSigningPolicy>[1], "connection">][] = [
      ["plain", { client: { enableSigning: true } }],
      ["output-side", { server: pulumi.output({ enableSigning: false }) }],
      ["output-value", { client: { enableSigning: pulumi.output(true) } }],
      ["promise-side", { client: Promise.resolve({ enableSigning: true }) }],
      ["acknowledged", { server: { requireSigning: false }, acknowledgeInsecureSettings: true }],
      ["acknowledged-output", { server: pulumi.output({ requireSigning: false }), acknowledgeInsecureSettings: pulumi.output(true) }],
      ["quiet", { client: { requireSigning: true }, server: { requireSigning: true }, acknowledgeInsecureSettings: false }],
      ["quiet-output", { client: pulumi.output({ requireSigning: true }), acknowledgeInsecureSettings: pulumi.output(false) }],
      ["unacknowledged", { server: { requireSigning: false } }],
      // Declared after the two plain declarations that need no hook, with arguments of the same
      // shapes, plus an enableSigning that needs one: a hook over plain values resolves through
      // the same chain of promise jobs, which run in order, so had "quiet" or "unacknowledged"
      // been given a hook, it would have run before these.
      ["quiet-after", { client: { requireSigning: true, enableSigning: true }, server: { requireSigning: true }, acknowledgeInsecureSettings: false }],
      ["unacknowledged-after", { server: { requireSigning: false, enableSigning: true } }],
    ];
    const withHook = ["plain", "output-side", "output-value", "promise-side", "acknowledged", "acknowledged-output", "quiet-output", "quiet-after", "unacknowledged-after"];
    for (const [host, args] of declared) new SmbSigningPolicy(host, { connection: connection(host), ...args });
    await Promise.all(withHook.map(hookOf));
    assert.deepEqual([...hooked].sort(), [...withHook].sort(), "a hook for plain arguments with nothing to say");

    const of = (host: string) => noted.filter((w) => w.includes(` ${host}: `)).map((w) => w.replace(/^info: \[runtime\] /, ""));
    assert.deepEqual(warned, [], "a declaration is noted, never warned about");
    assert.deepEqual(of("plain"), ["plain: client.enableSigning (EnableSecuritySignature) has no effect on SMB 2 and 3; only SMB 1 uses it. Signing is governed by requireSigning."]);
    assert.deepEqual(of("output-side"), ["output-side: server.enableSigning (EnableSecuritySignature) has no effect on SMB 2 and 3; only SMB 1 uses it. Signing is governed by requireSigning."]);
    assert.deepEqual(of("output-value"), ["output-value: client.enableSigning (EnableSecuritySignature) has no effect on SMB 2 and 3; only SMB 1 uses it. Signing is governed by requireSigning."]);
    assert.deepEqual(of("promise-side"), ["promise-side: client.enableSigning (EnableSecuritySignature) has no effect on SMB 2 and 3; only SMB 1 uses it. Signing is governed by requireSigning."]);
    assert.equal(of("acknowledged").length, 1);
    assert.match(of("acknowledged")[0], /^acknowledged: server\.requireSigning weakens SMB security: .* \(acknowledged\)$/);
    assert.equal(of("acknowledged-output").length, 1);
    assert.match(of("acknowledged-output")[0], /^acknowledged-output: server\.requireSigning weakens SMB security: .* \(acknowledged\)$/);
    assert.deepEqual(of("quiet"), []);
    assert.deepEqual(of("quiet-output"), []);
    assert.deepEqual(of("unacknowledged"), []);
    assert.equal(of("quiet-after").length, 1);
    assert.equal(of("unacknowledged-after").length, 1);
  });
});
