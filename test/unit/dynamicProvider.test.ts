// The serialized provider finds its implementation under whatever name the package was installed.
import assert from "node:assert/strict";
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
