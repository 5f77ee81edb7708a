// The serialized provider finds its implementation under whatever name the package was installed,
// and the providers earlier versions serialized into state still find theirs.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../../tools/repoRoot";
import { implementationSpecifier } from "../../provider/dynamicProvider";

describe("the dynamic provider's implementation specifier", () => {
  it("names the package as installed: npm, an alias, a nested install, a scope, pnpm's store", () => {
    const at = (p: string) => implementationSpecifier(`${p}/dist/provider/dynamicProvider.js`);
    assert.equal(at("/p/node_modules/pulumi-smb-signing"), "pulumi-smb-signing/dist/provider/operations");
    assert.equal(at("/p/node_modules/windows-smb"), "windows-smb/dist/provider/operations");
    assert.equal(at("/p/node_modules/infra/node_modules/smb"), "smb/dist/provider/operations");
    assert.equal(at("/p/node_modules/@corp/smb"), "@corp/smb/dist/provider/operations");
    assert.equal(at("/p/node_modules/.pnpm/pulumi-smb-signing@0.1.0/node_modules/pulumi-smb-signing"), "pulumi-smb-signing/dist/provider/operations");
  });
  it("uses the package's own name in a checkout, outside node_modules", () => {
    assert.equal(implementationSpecifier("/work/repo/dist/provider/dynamicProvider.js"), "pulumi-smb-signing/dist/provider/operations");
  });
});

describe("the serialized provider", () => {
  it("is one small configure method that installs the six engine methods of operations.js", async () => {
    const pulumi = await import("@pulumi/pulumi");
    const { smbSigningProvider } = await import("../../provider/dynamicProvider");
    const operations = await import("../../provider/operations");
    const serialized = await pulumi.runtime.serializeFunction(() => smbSigningProvider, { allowSecrets: true });
    assert.ok(Buffer.byteLength(serialized.text) < 1000, `serialized provider is ${Buffer.byteLength(serialized.text)} bytes`);
    // As the dynamic-provider runtime does: load the text as a module, call handler, configure once.
    const m = { exports: {} as { handler: () => Record<string, unknown> } };
    new Function("exports", "require", "module", serialized.text)(m.exports, require, m);
    const provider = m.exports.handler() as Record<string, unknown> & { configure: () => Promise<void> };
    assert.equal(provider.create, undefined);
    await provider.configure();
    for (const [name, fn] of Object.entries(operations.engineMethods)) assert.equal(provider[name], fn, name);
    assert.deepEqual(Object.keys(operations.engineMethods).sort(), ["check", "create", "delete", "diff", "read", "update"]);
  });

  it("a failure the runtime logs as `${e}: ${e.stack}` (a failed read, delete, check or diff) names the error once, then where it arose", async () => {
    const operations = await import("../../provider/operations");
    const props = { connection: { host: "fs01.corp.example", user: "admin", password: "pw", hostKey: "SHA256:" + "A".repeat(43) } };
    const err = await operations.engineMethods.read("fs99.corp.example", props).then(
      () => assert.fail("read succeeded"),
      (e: Error) => e,
    );
    const logged = `${err}: ${err.stack}`;
    const text = 'the id "fs99.corp.example" names another host than connection.host';
    assert.equal(logged.split(text).length - 1, 1, logged);
    assert.match(logged, /^Error: the id "fs99\.corp\.example" names another host than connection\.host "fs01\.corp\.example": at /);
  });
});

describe("providers older versions serialized into state", () => {
  // test/fixtures/state/providers: what earlier commits' dynamicProvider.ts serialized. The engine
  // runs the one in a resource's state for its refresh and destroy, so every name such code
  // calls on operations.js must still be there (6774300's delete calls `remove`).
  const dir = path.join(REPO_ROOT, "test", "fixtures", "state", "providers");
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".js"))) {
    it(`${file}: every operation it runs finds its function in today's operations.js`, async () => {
      const operations = (await import("../../provider/operations")) as unknown as Record<string, unknown>;
      const asked: string[] = [];
      const implementation = new Proxy(
        {},
        {
          get: (_t, name: string) => {
            asked.push(name);
            if (name === "engineMethods") return operations.engineMethods;
            return typeof operations[name] === "function" ? async () => name : undefined;
          },
        },
      );
      const fakeRequire = (specifier: string) => {
        assert.equal(specifier, "pulumi-smb-signing/dist/provider/operations");
        return implementation;
      };
      const m = { exports: {} as { handler: () => Record<string, (...args: unknown[]) => Promise<unknown>> } };
      new Function("exports", "require", "module", fs.readFileSync(path.join(dir, file), "utf8"))(m.exports, fakeRequire, m);
      const provider = m.exports.handler();
      const configured = typeof provider.configure === "function";
      if (configured) await provider.configure.call(provider);
      for (const method of ["check", "diff", "create", "read", "update", "delete"]) {
        assert.equal(typeof provider[method], "function", `${file} has no ${method}`);
        if (configured) continue; // today's engine methods themselves (the test above)
        // A stub answers for each function found; a name operations.js lacks throws here.
        await provider[method].call(provider).catch((err: Error) => assert.fail(`${file}'s ${method}: ${err.message} (asked for ${asked.join(", ")})`));
      }
    });
  }
});
