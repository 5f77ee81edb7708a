// One model of the resource: the inputs are the schema's keys (domain/schema.ts), and what state
// records as inputs (pickInputs) and what the provider plugin takes from a program follow from
// them. Checked by behaviour over every key the schema has, so an input added to the schema and
// left out of either fails here. Also the URNs the front ends build and read (domain/urn.ts).
import assert from "node:assert/strict";
import { FRONT_END_KEYS, policySchema } from "../../provider/domain/schema";
import { pickInputs } from "../../provider/domain/recordedInputs";
import type { PolicyOutputs } from "../../provider/domain/policy";
import { topLevelUrn, urnParts } from "../../provider/domain/urn";
import { ownerOf, SmbSigningPlugin } from "../../provider/plugin/provider";
import { setDiagnosticSink } from "../../provider/engineLog";

const URN = "urn:pulumi:prod::smb::smbsigning:index:SmbSigningPolicy::fs01";
const FP = "SHA256:" + "A".repeat(43);
/** Every input of the resource, read from the zod object itself (not from any list of ours). */
const schemaKeys = () => Object.keys(policySchema.shape);
/** A value no input of the schema takes: an object with a key nothing declares. */
const misfit = (key: string) => ({ [`not-an-input-of-${key}`]: [] });

describe("the resource's inputs, from the schema", () => {
  it("state's inputs (pickInputs) are every input the schema has, and nothing the provider observed", () => {
    const outputs: Record<string, unknown> = { observed: { client: {}, server: {} }, originalSettings: { client: {}, server: {} }, hostFacts: {}, settingsSource: "cmdlet", ownerId: "id", consequences: [] };
    for (const key of schemaKeys()) outputs[key] = `recorded ${key}`;
    const picked = pickInputs(outputs as unknown as Partial<PolicyOutputs>) as Record<string, unknown>;
    assert.deepEqual(Object.keys(picked).sort(), schemaKeys().sort());
    for (const key of schemaKeys()) assert.equal(picked[key], `recorded ${key}`, key);
  });

  it("state's inputs leave out what state written by an earlier version lacks", () => {
    assert.deepEqual(pickInputs({ connection: { host: "fs01" }, observed: { client: {}, server: {} } } as unknown as Partial<PolicyOutputs>), { connection: { host: "fs01" } });
  });

  describe("the provider plugin", () => {
    let previous: ReturnType<typeof setDiagnosticSink>;
    before(() => (previous = setDiagnosticSink(() => undefined)));
    after(() => setDiagnosticSink(previous));
    const plugin = () => {
      const p = new SmbSigningPlugin("0.0.0", "{}");
      assert.deepEqual(p.configure({ user: "fleet", password: "pw" }), []);
      return p;
    };
    const refusedAsUnknown = (key: string) => (f: { property: string; reason: string }) => f.property === key && f.reason.startsWith(`${key} is not a known property`);

    it("passes every input of the schema a program declares on to the resource's validation, which judges its value", async () => {
      const declared = schemaKeys().filter((k) => !(FRONT_END_KEYS as readonly string[]).includes(k));
      assert.ok(declared.includes("connection") && declared.includes("client") && declared.includes("readinessDays"), declared.join(", "));
      for (const key of declared) {
        const news: Record<string, unknown> = { connection: { host: "fs01", hostKey: FP }, [key]: misfit(key) };
        const { failures } = await plugin().check(URN, {}, news);
        assert.ok(failures && failures.length > 0, key);
        assert.ok(!failures.some(refusedAsUnknown(key)), `${key}: ${JSON.stringify(failures)}`);
        assert.ok(failures.some((f) => f.property === key || f.property.startsWith(`${key}.`)), `${key}: ${JSON.stringify(failures)}`);
      }
    });

    it("refuses the inputs a front end sets itself (owner and URN from the request; importId, customTimeouts of the dynamic resource's options)", async () => {
      for (const key of FRONT_END_KEYS) {
        assert.ok(schemaKeys().includes(key), key);
        const { failures } = await plugin().check(URN, {}, { connection: { host: "fs01", hostKey: FP }, [key]: "x" });
        assert.ok(failures?.some(refusedAsUnknown(key)), `${key}: ${JSON.stringify(failures)}`);
      }
    });

    it("returns a program's valid declaration whole: every declared input it was given", async () => {
      const news = { connection: { host: "fs01", hostKey: FP }, client: { requireSigning: true }, server: { requireSigning: true }, acknowledgeInsecureSettings: false, onDelete: "restore", takeOwnership: true, readinessDays: 30 };
      const { inputs, failures } = await plugin().check(URN, {}, news);
      assert.equal(failures, undefined);
      for (const [key, value] of Object.entries(news)) if (key !== "connection") assert.deepEqual((inputs as Record<string, unknown>)[key], value, key);
    });
  });
});

describe("URNs", () => {
  it("a top-level resource's URN is the engine's form, and reads back into its parts", () => {
    const urn = topLevelUrn("dev", "impact", "pulumi-nodejs:dynamic/smb:SmbSigningPolicy", "fs01");
    assert.equal(urn, "urn:pulumi:dev::impact::pulumi-nodejs:dynamic/smb:SmbSigningPolicy::fs01");
    assert.deepEqual(urnParts(urn), { stack: "dev", project: "impact", type: "pulumi-nodejs:dynamic/smb:SmbSigningPolicy", name: "fs01" });
  });

  it("a name may itself contain '::'; a parent's type qualifies the type", () => {
    assert.deepEqual(urnParts("urn:pulumi:prod::smb::corp:infra:Rack$smbsigning:index:SmbSigningPolicy::rack::fs01"), {
      stack: "prod",
      project: "smb",
      type: "corp:infra:Rack$smbsigning:index:SmbSigningPolicy",
      name: "rack::fs01",
    });
    assert.equal(ownerOf("urn:pulumi:prod::smb::corp:infra:Rack$smbsigning:index:SmbSigningPolicy::rack::fs01"), "smb/prod/rack::fs01");
  });
});
