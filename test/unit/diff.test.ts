// diff is local and per property: host replaces, credentials alone do nothing, settings update.
import assert from "node:assert/strict";
import * as ops from "../../provider/operations";
import { diffPolicy, PolicyOutputs, recordOriginals } from "../../provider/domain/policy";
import { parsePolicyInputs } from "../../provider/domain/schema";

const FP = "SHA256:" + "B".repeat(43);
const inputs = (over: Record<string, any> = {}) => {
  const r = parsePolicyInputs({
    connection: { host: "fs01", user: "admin", password: "one", hostKey: FP, ...over.connection },
    client: over.client ?? { requireSigning: true },
    server: over.server,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.failures));
  return r.inputs;
};
const olds = (): PolicyOutputs =>
  ({
    ...inputs(),
    observed: {
      client: { requireSigning: true, enableSigning: true, enableInsecureGuestLogons: false },
      server: { requireSigning: false, enableSigning: false },
    },
    originalSettings: { client: { requireSigning: false }, server: {} },
    hostFacts: {},
    settingsSource: "cmdlet",
  }) as PolicyOutputs;

describe("diff", () => {
  it("reports nothing when the declared values match what the host has", () => {
    assert.deepEqual(diffPolicy(olds(), inputs()), { changes: false, replaces: [], changed: [] });
  });

  it("replaces the resource when connection.host changes", () => {
    const d = diffPolicy(olds(), inputs({ connection: { host: "fs02" } }));
    assert.deepEqual(d.replaces, ["connection.host"]);
  });

  it("makes new credentials, host key, port or timeouts an update (not a replace), so refresh and destroy use them", () => {
    const d = diffPolicy(olds(), inputs({ connection: { password: "two", port: 2222, commandTimeoutSeconds: 5 } }));
    assert.deepEqual(d, { changes: true, replaces: [], changed: ["connection.password", "connection.commandTimeoutSeconds", "connection.port"] });
    const rotatedKey = diffPolicy(olds(), inputs({ connection: { hostKey: "SHA256:" + "C".repeat(43) } }));
    assert.deepEqual(rotatedKey.changed, ["connection.hostKey"]);
  });

  it("makes taking ownership, a new owner name or new customTimeouts an update", () => {
    const base = parsePolicyInputs({ connection: { host: "fs01", user: "admin", password: "one", hostKey: FP }, client: { requireSigning: true } });
    assert.ok(base.ok);
    const d = diffPolicy(olds(), { ...base.inputs, owner: "proj/stack/fs01", takeOwnership: true, customTimeouts: { create: 300 } });
    assert.deepEqual(d.changed, ["owner", "takeOwnership", "customTimeouts"]);
  });

  it("updates (does not replace) when one setting changes, naming only that setting", () => {
    const d = diffPolicy(olds(), inputs({ client: { requireSigning: true }, server: { requireSigning: true } }));
    assert.deepEqual(d, { changes: true, replaces: [], changed: ["server.requireSigning"] });
  });

  it("sees drift: the host no longer has a declared value", () => {
    const o = olds();
    o.observed.client.requireSigning = false;
    assert.deepEqual(diffPolicy(o, inputs()).changed, ["client.requireSigning"]);
  });

  it("ignores unmanaged settings changing on the host", () => {
    const o = olds();
    o.observed.server.enableSigning = true;
    assert.equal(diffPolicy(o, inputs()).changes, false);
  });

  it("makes no host call (works with an unreachable host)", async () => {
    const r = await ops.diff("fs01", olds(), { connection: { host: "fs01", user: "admin", password: "x", hostKey: FP }, client: { requireSigning: false }, acknowledgeInsecureSettings: true });
    assert.equal(r.changes, true);
    assert.deepEqual(r.replaces, []);
  });
});

describe("originals (where the host's record is missing)", () => {
  it("recordOriginals keeps an original once recorded, and adds only newly managed settings", () => {
    const previous = { client: { requireSigning: false }, server: {} };
    const before = { client: { requireSigning: true, enableSigning: true }, server: { requireSigning: true } };
    const declared = { client: { requireSigning: true, enableSigning: false }, server: { requireSigning: true } };
    assert.deepEqual(recordOriginals(previous, before, declared), { client: { requireSigning: false, enableSigning: true }, server: { requireSigning: true } });
  });
});
