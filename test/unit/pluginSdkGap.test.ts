// What provider/plugin/main.ts makes up for in the pinned @pulumi/pulumi: the Node.js provider
// SDK's own server answers CheckConfig and DiffConfig as UNIMPLEMENTED and its Configure hands
// the configuration to no one. This test asks the SDK's own implementation (captured as its
// `main` registers it, in a child process, since `main` installs process-wide handlers) and
// fails the day the SDK answers them itself: main.ts's replacement can then be deleted. It also
// shows the replacement is in place for that one registration only.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { REPO_ROOT } from "../../tools/repoRoot";

/** Runs in the child: captures the implementation the SDK's main registers, calls the three methods, prints what they answered. */
const PROBE = `
const { fromPulumiSdk } = require("./dist/provider/engineLog");
const grpc = fromPulumiSdk("@grpc/grpc-js");
const provproto = require("@pulumi/pulumi/proto/provider_pb");
const { main } = require("@pulumi/pulumi/provider");
const mode = process.argv[1];
let configured = 0;
const provider = { version: "0.0.0", configure: async () => { configured++; } };
const grpcOwn = grpc.Server.prototype.addService;
if (mode === "patched") {
  const { serveConfiguration } = require("./dist/provider/plugin/main");
  serveConfiguration({ configure: () => [] });
}
const original = grpc.Server.prototype.addService;
grpc.Server.prototype.addService = function (service, impl) {
  original.call(this, service, impl);
  // grpc-js as it was once the one registration is done (the patch, if any, removed itself).
  const restored = mode === "sdk" || grpc.Server.prototype.addService === grpcOwn;
  const answer = (method, request) => new Promise((resolve) => impl[method]({ request }, (err, resp) => resolve(err ? { code: err.code } : { ok: true })));
  const checkReq = new provproto.CheckRequest();
  const diffReq = new provproto.DiffRequest();
  const confReq = new provproto.ConfigureRequest();
  confReq.getVariablesMap().set("smbsigning:config:user", "x");
  Promise.all([answer("checkConfig", checkReq), answer("diffConfig", diffReq), answer("configure", confReq)]).then(([check, diff, configure]) => {
    process.stdout.write(JSON.stringify({ check, diff, configure, configured, restored }) + "\\n");
    process.exit(0);
  });
  throw new Error("stop before binding a port");
};
main(provider, []).catch(() => undefined);
`;

function probe(mode: "sdk" | "patched"): { check: { code?: number; ok?: boolean }; diff: { code?: number; ok?: boolean }; configure: { ok?: boolean }; configured: number; restored: boolean } {
  const out = execFileSync(process.execPath, ["-e", PROBE, mode], { cwd: REPO_ROOT, encoding: "utf8", timeout: 30_000 });
  return JSON.parse(out.trim().split("\n").pop()!);
}

const UNIMPLEMENTED = 12; // grpc status code

describe("the provider SDK's gap that plugin/main.ts fills (pinned @pulumi/pulumi)", () => {
  it("the SDK itself still answers CheckConfig and DiffConfig UNIMPLEMENTED and keeps Configure's configuration from the provider: when this fails, delete the patch", function () {
    this.timeout(60_000);
    const sdk = probe("sdk");
    assert.equal(sdk.check.code, UNIMPLEMENTED, "the SDK now answers CheckConfig itself: provider/plugin/main.ts's checkConfig can go");
    assert.equal(sdk.diff.code, UNIMPLEMENTED, "the SDK now answers DiffConfig itself: provider/plugin/main.ts's diffConfig can go");
    assert.equal(sdk.configure.ok, true);
    assert.equal(sdk.configured, 0, "the SDK now hands Configure's configuration to the provider: provider/plugin/main.ts's configure can go");
  });

  it("with the plugin's replacement the three calls are answered, and grpc-js is as it was once the SDK registered its service", function () {
    this.timeout(60_000);
    const patched = probe("patched");
    assert.deepEqual([patched.check, patched.diff, patched.configure], [{ ok: true }, { ok: true }, { ok: true }]);
    assert.equal(patched.restored, true, "grpc.Server.prototype.addService is still replaced after the one registration");
  });
});
