// SmbSigningPolicy passes its own URN as the resourceUrn input (the provider's warnings name it);
// it must be the URN the engine gives the resource, with and without a parent component, or the
// CLI shows the warnings on a resource that does not exist. Run under Pulumi's mocks, whose URNs
// qualify a type with its parent's only (the engine's, with every ancestor's: a resource nested
// in two components is checked through the real CLI in test/e2e/impact.test.ts).
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";

const registered = new Map<string, Record<string, unknown>>();

class Rack extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("corp:infra:Rack", name, {}, opts);
  }
}

const promiseOf = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

describe("the resourceUrn input", () => {
  before(() => {
    pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          registered.set(args.name, args.inputs);
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call: () => ({}),
      },
      "impact",
      "dev",
      false,
    );
  });
  it("is the resource's own URN, at the top of the stack and under a component", async () => {
    const { SmbSigningPolicy } = await import("../../provider/resource");
    const connection = { host: "fs01.corp.example", user: "admin", password: "p", hostKey: "SHA256:" + "A".repeat(43) };
    const top = new SmbSigningPolicy("fs01", { connection, client: { requireSigning: true } });
    const nested = new SmbSigningPolicy("fs02", { connection: { ...connection, host: "fs02.corp.example" } }, { parent: new Rack("rack-1") });
    const [topUrn, nestedUrn] = await Promise.all([promiseOf(top.urn), promiseOf(nested.urn)]);
    assert.equal(topUrn, "urn:pulumi:dev::impact::pulumi-nodejs:dynamic/smb:SmbSigningPolicy::fs01");
    assert.equal(nestedUrn, "urn:pulumi:dev::impact::corp:infra:Rack$pulumi-nodejs:dynamic/smb:SmbSigningPolicy::fs02");
    assert.equal(registered.get("fs01")?.resourceUrn, topUrn);
    assert.equal(registered.get("fs02")?.resourceUrn, nestedUrn);
  });
});
