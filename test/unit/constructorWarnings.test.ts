// SmbSigningPolicy's constructor notes (info, not warnings: a declaration is a decision already
// taken) enableSigning (SMB 1 only) and acknowledged weakenings, whether the arguments are plain
// values, Outputs or promises; it leaves out its hook only when plain arguments show there is
// nothing to say. Run under Pulumi's mocks, where pulumi.log.info writes to console.log and
// pulumi.log.warn to console.warn.
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";

describe("the constructor's notes", () => {
  const warned: string[] = [];
  const noted: string[] = [];
  const consoleWarn = console.warn;
  const consoleLog = console.log;
  before(() => {
    pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: () => ({}) }, "warnings", "dev", false);
    console.warn = (...args: unknown[]) => void warned.push(args.join(" "));
    console.log = (...args: unknown[]) => void noted.push(args.join(" "));
  });
  after(() => {
    console.warn = consoleWarn;
    console.log = consoleLog;
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
    ];
    const resources = declared.map(([host, args]) => new SmbSigningPolicy(host, { connection: connection(host), ...args }));
    await Promise.all(resources.map((r) => new Promise((resolve) => r.urn.apply(resolve))));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const of = (host: string) => noted.filter((w) => w.includes(` ${host}: `)).map((w) => w.replace(/^info: \[runtime\] /, ""));
    assert.deepEqual(warned, [], "a declaration is noted, never warned about");
    assert.deepEqual(of("plain"), ["plain: client.enableSigning (EnableSecuritySignature) has no effect on SMB 2 and 3; only SMB 1 uses it. Signing is governed by requireSigning."]);
    assert.deepEqual(of("output-side"), ["output-side: server.enableSigning (EnableSecuritySignature) has no effect on SMB 2 and 3; only SMB 1 uses it. Signing is governed by requireSigning."]);
    assert.equal(of("output-value").length, 1);
    assert.equal(of("promise-side").length, 1);
    assert.equal(of("acknowledged").length, 1);
    assert.match(of("acknowledged")[0], /^acknowledged: server\.requireSigning weakens SMB security: .* \(acknowledged\)$/);
    assert.equal(of("acknowledged-output").length, 1);
    assert.deepEqual(of("quiet"), []);
    assert.deepEqual(of("quiet-output"), []);
    assert.deepEqual(of("unacknowledged"), []);
  });
});
