// What SmbSigningPolicy registers, under Pulumi's mocks: an input given as undefined is the same
// as one left out (the SDK sends neither), and every declared output is an Output the engine's
// state resolves.
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";

const registered = new Map<string, Record<string, unknown>>();
const promiseOf = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

describe("SmbSigningPolicy's registration", () => {
  before(() => {
    pulumi.runtime.setMocks(
      {
        newResource: (a) => {
          registered.set(a.name, a.inputs);
          return { id: `${a.name}-id`, state: { ...a.inputs, observed: { client: { RequireSecuritySignature: true }, server: {} }, settingsSource: "cmdlet", policyDrift: [], consequences: [`${a.name} ok`] } };
        },
        call: () => ({}),
      },
      "registration",
      "dev",
      false,
    );
  });

  it("sends the same inputs for an argument given as undefined and one left out, and resolves the outputs", async () => {
    const { SmbSigningPolicy } = await import("../../provider/resource");
    const connection = { host: "fs01.corp.example", user: "admin", password: "p", hostKey: "SHA256:" + "A".repeat(43) };
    const left = new SmbSigningPolicy("left", { connection, client: { requireSigning: true } });
    const undef = new SmbSigningPolicy("undef", { connection: { ...connection, port: undefined }, client: { requireSigning: true }, server: undefined, onDelete: undefined, takeOwnership: undefined, readinessDays: undefined });
    await Promise.all([promiseOf(left.urn), promiseOf(undef.urn)]);
    const withoutName = (i: Record<string, unknown> | undefined) => ({ ...i, owner: undefined, resourceUrn: undefined, __provider: undefined });
    assert.deepEqual(withoutName(registered.get("undef")), withoutName(registered.get("left")));
    assert.deepEqual(Object.keys(registered.get("left") ?? {}).sort(), ["__provider", "client", "connection", "owner", "resourceUrn"]);
    for (const r of [left, undef]) {
      assert.deepEqual(await promiseOf(r.observed), { client: { RequireSecuritySignature: true }, server: {} });
      assert.equal(await promiseOf(r.settingsSource), "cmdlet");
      assert.deepEqual(await promiseOf(r.policyDrift), []);
      assert.deepEqual(await promiseOf(r.consequences), [`${r === left ? "left" : "undef"} ok`]);
      for (const output of ["originalSettings", "hostFacts", "policyManaged", "readiness"] as const) {
        assert.ok(pulumi.Output.isInstance(r[output]), output);
        assert.equal(await promiseOf(r[output] as pulumi.Output<unknown>), undefined);
      }
    }
  });
});
