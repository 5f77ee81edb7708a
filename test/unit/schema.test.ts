// Inputs: every bad property is refused by check with its path and what is allowed, before any host is contacted.
import assert from "node:assert/strict";
import * as ops from "../../provider/operations";
import { z } from "zod";
import { connectionSchema, inOurWords, parsePolicyInputs, policySchema, UNKNOWN } from "../../provider/domain/schema";
import { SETTINGS } from "../../provider/domain/settings";
import { customTimeoutSeconds, durationSeconds } from "../../provider/domain/timeouts";

const FP = "SHA256:" + "A".repeat(43);
const conn = (extra: Record<string, unknown> = {}) => ({ host: "fs01.corp.example", user: "admin", password: "pw", hostKey: FP, ...extra });

async function failuresOf(news: Record<string, unknown>) {
  return (await ops.check({}, news)).failures ?? [];
}

describe("check", () => {
  it("accepts a minimal policy and fills in defaults", async () => {
    const r = await ops.check({}, { connection: conn(), client: { requireSigning: true } });
    assert.deepEqual(r.failures, undefined);
    const c = (r.inputs as any).connection;
    assert.equal(c.port, 22);
    assert.equal(c.transport, "ssh");
    assert.equal((r.inputs as any).onDelete, "retain");
  });

  it("refuses a pinned hostKey together with dangerouslyAcceptAnyHostKey, naming both", async () => {
    const f = await failuresOf({ connection: conn({ dangerouslyAcceptAnyHostKey: true }) });
    assert.equal(f.length, 1);
    assert.equal(f[0].property, "connection.dangerouslyAcceptAnyHostKey");
    assert.match(f[0].reason, /contradicts connection\.hostKey/);
  });

  it("refuses more than one credential (password with privateKey, or with agent), naming both", async () => {
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n";
    for (const [extra, second, first] of [
      [{ privateKey: key }, "connection.privateKey", "connection.password"],
      [{ agent: "/run/agent.sock" }, "connection.agent", "connection.password"],
    ] as const) {
      const f = await failuresOf({ connection: conn(extra) });
      const failure = f.find((x) => x.property === second);
      assert.ok(failure, JSON.stringify(f));
      assert.match(failure.reason, new RegExp(`cannot be combined with ${first.replace(".", "\\.")}`));
      assert.match(failure.reason, /exactly one of password, privateKey or agent/);
    }
  });

  it("refuses a private key that does not parse, naming connection.privateKey, without echoing it", async () => {
    const f = await failuresOf({ connection: conn({ password: undefined, privateKey: "not-a-key-secret-text" }) });
    assert.equal(f[0].property, "connection.privateKey");
    assert.match(f[0].reason, /is not an OpenSSH, PEM or PPK private key/);
    assert.ok(!f[0].reason.includes("not-a-key-secret-text"));
  });

  it("accepts owner, takeOwnership and customTimeouts, and refuses bad ones by path", async () => {
    const ok = await ops.check({}, { connection: conn(), owner: "proj/dev/fs01", takeOwnership: true, customTimeouts: { create: 300 } });
    assert.deepEqual(ok.failures, undefined);
    const f = await failuresOf({ connection: conn(), owner: "bad\nowner", takeOwnership: "yes", customTimeouts: { create: 0, read: 5 } });
    assert.deepEqual(f.map((x) => x.property).sort(), ["customTimeouts.create", "customTimeouts.read", "owner", "takeOwnership"]);
  });

  it("ignores Pulumi's own __provider key", async () => {
    assert.deepEqual(await failuresOf({ __provider: "x", connection: conn() }), []);
  });

  it("names the property and the allowed values for wrong types", async () => {
    const f = await failuresOf({ connection: conn({ port: "22" }), client: { requireSigning: "yes" }, onDelete: "keep" });
    const byProp = Object.fromEntries(f.map((x) => [x.property, x.reason]));
    assert.match(byProp["connection.port"], /number|integer/i);
    assert.match(byProp["client.requireSigning"], /true or false/);
    assert.match(byProp["onDelete"], /"restore" or "retain"/);
  });

  it("refuses unknown properties and lists the allowed ones", async () => {
    const f = await failuresOf({ connection: conn({ hostname: "x" }), client: { requireSignature: true }, colour: 1 });
    const props = f.map((x) => x.property).sort();
    assert.deepEqual(props, ["client.requireSignature", "colour", "connection.hostname"]);
    assert.match(f.find((x) => x.property === "client.requireSignature")!.reason, /requireSigning/);
  });

  it("requires a host key fingerprint unless the loud opt-out is set", async () => {
    const f = await failuresOf({ connection: conn({ hostKey: undefined }) });
    assert.equal(f[0].property, "connection.hostKey");
    assert.match(f[0].reason, /dangerouslyAcceptAnyHostKey/);
    assert.deepEqual(await failuresOf({ connection: conn({ hostKey: undefined, dangerouslyAcceptAnyHostKey: true }) }), []);
    const bad = await failuresOf({ connection: conn({ hostKey: "ab:cd:ef" }) });
    assert.match(bad[0].reason, /SHA256:/);
  });

  it("requires a credential, and a passphrase only with a private key", async () => {
    assert.equal((await failuresOf({ connection: conn({ password: undefined }) }))[0].property, "connection.password");
    assert.equal((await failuresOf({ connection: conn({ passphrase: "p" }) }))[0].property, "connection.passphrase");
  });

  for (const host of ['fs01"; calc', "$(whoami)", "fs01\nrm", "fs01 & del", "`id`", "fs01.corp.example'", ""]) {
    it(`refuses the host name ${JSON.stringify(host)}`, async () => {
      const f = await failuresOf({ connection: conn({ host }) });
      assert.equal(f[0]?.property, "connection.host");
    });
  }

  for (const user of ['adm"in', "adm;in", "adm\nin", "adm|in", "adm<in>", ""]) {
    it(`refuses the user name ${JSON.stringify(user)}`, async () => {
      const f = await failuresOf({ connection: conn({ user }) });
      assert.equal(f[0]?.property, "connection.user");
    });
  }

  it("accepts DOMAIN\\user, UPNs and IPv6 literals", async () => {
    assert.deepEqual(await failuresOf({ connection: conn({ user: "CORP\\admin" }) }), []);
    assert.deepEqual(await failuresOf({ connection: conn({ user: "admin@corp.example" }) }), []);
    assert.deepEqual(await failuresOf({ connection: conn({ host: "::1" }) }), []);
  });

  it("accepts values not known yet during preview", async () => {
    assert.deepEqual(await failuresOf({ connection: conn({ host: UNKNOWN, password: UNKNOWN }), client: { requireSigning: UNKNOWN } }), []);
  });

  it("never echoes a secret in a failure", async () => {
    const f = await failuresOf({ connection: conn({ password: "", privateKey: 42, passphrase: "hunter2-secret" }) });
    assert.ok(f.length > 0);
    assert.ok(!JSON.stringify(f).includes("hunter2-secret"));
  });

  it("refuses turning signing off unless acknowledged", async () => {
    const f = await failuresOf({ connection: conn(), client: { requireSigning: false }, server: { requireSigning: false } });
    assert.deepEqual(f.map((x) => x.property).sort(), ["client.requireSigning", "server.requireSigning"]);
    assert.match(f[0].reason, /acknowledgeInsecureSettings/);
    assert.deepEqual(await failuresOf({ connection: conn(), server: { requireSigning: false }, acknowledgeInsecureSettings: true }), []);
  });

  it("refuses insecure guest logons unless acknowledged", async () => {
    const f = await failuresOf({ connection: conn(), client: { enableInsecureGuestLogons: true } });
    assert.equal(f[0].property, "client.enableInsecureGuestLogons");
  });

  it("refuses guest logons together with required client signing, even acknowledged", async () => {
    const f = await failuresOf({
      connection: conn(),
      client: { enableInsecureGuestLogons: true, requireSigning: true },
      acknowledgeInsecureSettings: true,
    });
    assert.equal(f.length, 1);
    assert.match(f[0].reason, /blocks guest logons/);
  });

  it("parsePolicyInputs reports a path for nested problems", () => {
    const r = parsePolicyInputs({ connection: { ...conn(), connectTimeoutSeconds: 0 } });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.failures[0].property, "connection.connectTimeoutSeconds");
  });
});

describe("check's reasons are the project's words", () => {
  // zod's own texts: "Too small: expected number to be >=1", "Invalid input: expected int, received number", ...
  const ZOD = /Too (small|big)|expected .* received|Invalid (input|option|type|string|value)|received /;
  const winrmHttps = (extra: Record<string, unknown>) => ({ connection: { transport: "winrm", https: true, host: "fs01", user: "admin", password: "pw", ...extra } });
  /** Wrong values of a kind, and what the reason must name besides "must". */
  type Kind = { values: unknown[]; says?: RegExp };
  const wrongTypes = [1, true, null, [], {}];
  const flag: Kind = { values: ["true", "yes", 1, 0, null, [], {}], says: /true or false/ };
  const text: Kind = { values: ["", ...wrongTypes] };
  const also = (kind: Kind, ...values: unknown[]): Kind => ({ ...kind, values: [...values, ...kind.values] });
  const whole = (min: number, max: number): Kind => ({
    values: [min - 1, -1, max + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "20", "", true, null, [], {}],
    says: new RegExp(`from ${min} to ${max}\\b`),
  });
  const object: Kind = { values: ["x", "", 1, true, null, []], says: /object/ };
  /** Per input field (its path as failures name it): the wrong values to give it, and how to place one among otherwise valid inputs. */
  const fields: Record<string, Kind & { inputs: (v: unknown) => Record<string, unknown> }> = {};
  const connectionField = (key: string, kind: Kind, winrmOnly = false) => {
    fields[`connection.${key}`] = { ...kind, inputs: (v) => (winrmOnly ? winrmHttps({ [key]: v }) : { connection: conn({ [key]: v }) }) };
  };
  connectionField("transport", { ...also(text, "telnet", "SSH"), says: /"ssh" or "winrm"/ });
  connectionField("host", also(text, "$(whoami)", "fs01 ; rm"));
  connectionField("port", whole(1, 65535));
  connectionField("user", also(text, "adm;in"));
  connectionField("password", text);
  connectionField("privateKey", text);
  fields["connection.passphrase"] = { ...text, inputs: (v) => ({ connection: conn({ password: undefined, agent: "/run/agent.sock", passphrase: v }) }) };
  connectionField("agent", text);
  connectionField("hostKey", also(text, "SHA256:short"));
  connectionField("dangerouslyAcceptAnyHostKey", flag);
  connectionField("https", flag, true);
  connectionField("authentication", { ...also(text, "digest", "NTLM"), says: /"ntlm", "kerberos", "negotiate" or "basic"/ }, true);
  const kerberosField = (key: string, kind: Kind) => {
    fields[`connection.${key}`] = { ...kind, inputs: (v) => ({ connection: { transport: "winrm", authentication: "kerberos", host: "fs01.corp.example", user: "admin@CORP.EXAMPLE", [key]: v } }) };
  };
  kerberosField("servicePrincipal", { ...also(text, "web01", "HTTP/", "HTTP/a b", "HTTP/web01@"), says: /service principal "HTTP\/<host name>"/ });
  kerberosField("realm", { ...also(text, "CORP EXAMPLE", "-CORP"), says: /Kerberos realm/ });
  kerberosField("kdc", { values: ["dc1", "", [], [""], ["a b"], ["dc1:port"], 1, true, null, {}], says: /KDC/ });
  kerberosField("keytabFile", text);
  kerberosField("ccache", text);
  connectionField("caCertificate", also(text, "not pem"), true);
  connectionField("certificateFingerprint", also(text, "AB", "ZZ".repeat(32)), true);
  connectionField("dangerouslySkipCertificateCheck", flag, true);
  connectionField("connectTimeoutSeconds", whole(1, 300));
  connectionField("commandTimeoutSeconds", whole(1, 3600));
  connectionField("scriptPath", {
    ...also(text, "smb-signing.ps1", "C:\\scripts\\smb-signing.txt", "C:\\a\\..\\smb-signing.ps1", "C:\\tmp\\a&calc.ps1", "C:\\tmp\\%PATH%.ps1", "\\\\srv\\share\\smb-signing.ps1", 'C:\\x".ps1', "C:\\NUL\\smb-signing.ps1"),
    says: /full path of the signed copy of smb-signing\.ps1/,
  });
  fields["connection"] = { ...object, inputs: (v) => ({ connection: v }) };
  for (const side of ["client", "server"] as const) {
    fields[side] = { ...object, inputs: (v) => ({ connection: conn(), [side]: v }) };
    for (const def of SETTINGS[side]) fields[`${side}.${def.name}`] = { ...flag, inputs: (v) => ({ connection: conn(), [side]: { [def.name]: v } }) };
  }
  const topField = (key: string, kind: Kind) => {
    fields[key] = { ...kind, inputs: (v) => ({ connection: conn(), [key]: v }) };
  };
  topField("acknowledgeInsecureSettings", flag);
  topField("onDelete", { ...also(text, "keep", "Retain"), says: /"restore" or "retain"/ });
  topField("importId", text);
  topField("owner", also(text, "bad\nowner"));
  topField("takeOwnership", flag);
  topField("readinessDays", whole(1, 90));
  topField("resourceUrn", also(text, "fs01"));
  topField("customTimeouts", object);
  for (const op of ["create", "update", "delete"]) fields[`customTimeouts.${op}`] = { ...whole(1, 86_400), inputs: (v) => ({ connection: conn(), customTimeouts: { [op]: v } }) };

  it("the table below covers every input field the schema has", () => {
    const expected = [
      ...Object.keys(policySchema.shape),
      ...Object.keys(connectionSchema.shape).map((k) => `connection.${k}`),
      ...(["client", "server"] as const).flatMap((side) => SETTINGS[side].map((d) => `${side}.${d.name}`)),
      ...["create", "update", "delete"].map((op) => `customTimeouts.${op}`),
    ];
    assert.deepEqual(Object.keys(fields).sort(), expected.sort());
  });

  it("a wrong value of any input field (wrong type, out of range, not whole, empty) is refused, naming what is allowed, never in zod's raw words", async () => {
    const raw: string[] = [];
    for (const [path, { values, says, inputs }] of Object.entries(fields)) {
      for (const value of values) {
        const f = await failuresOf(inputs(value));
        const own = f.find((x) => x.property === path);
        const shown = `${path} = ${JSON.stringify(value)}: ${JSON.stringify(f)}`;
        assert.ok(own, `not refused by path: ${shown}`);
        if (!/^must /.test(own.reason) || !(says ?? /./).test(own.reason) || f.some((x) => ZOD.test(x.reason))) raw.push(shown);
      }
    }
    assert.deepEqual(raw, []);
  });

  it("a field added without words of its own is still refused in the project's words, never zod's", () => {
    // Every field today names what it allows; this holds the net under them, for the next field.
    const bare = z.object({ n: z.number().int().min(1).max(9), s: z.string().min(2), e: z.enum(["a", "b"]), b: z.boolean() });
    const result = bare.safeParse({ n: 1.5, s: "x", e: "c", b: "yes" }, { error: inOurWords });
    assert.equal(result.success, false);
    const reasons = result.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    assert.deepEqual(reasons, ["n: must be a whole number", "s: must be at least 2 characters long", 'e: must be one of "a", "b"', "b: must be true or false"]);
    const missing = bare.safeParse({ n: 1, e: "a", b: true }, { error: inOurWords });
    assert.deepEqual(missing.error!.issues.map((i) => i.message), ["is required"]);
    assert.ok(!reasons.some((r) => ZOD.test(r)), reasons.join("; "));
  });
});

describe("check, winrm transport", () => {
  const winrm = (extra: Record<string, unknown> = {}) => ({ transport: "winrm", host: "fs01.corp.example", user: "CORP\\admin", password: "pw", ...extra });

  it("defaults the port to 5985 and needs no host key", async () => {
    const r = await ops.check({}, { connection: winrm(), client: { requireSigning: true } });
    assert.equal(r.failures, undefined);
    assert.equal((r.inputs as any).connection.port, 5985);
  });

  it("requires a password and refuses SSH-only properties", async () => {
    const f = await failuresOf({ connection: winrm({ password: undefined, privateKey: "k", hostKey: FP }) });
    assert.deepEqual(f.map((x) => x.property).sort(), ["connection.hostKey", "connection.password", "connection.privateKey"]);
    assert.match(f.find((x) => x.property === "connection.hostKey")!.reason, /only for transport "ssh"/);
  });

  it("refuses certificate options without https: true, so plain HTTP is never taken for a pinned connection", async () => {
    const f = await failuresOf({ connection: winrm({ certificateFingerprint: "AB".repeat(32), caCertificate: "-----BEGIN CERTIFICATE-----", dangerouslySkipCertificateCheck: true }) });
    assert.deepEqual(f.map((x) => x.property).sort(), ["connection.caCertificate", "connection.certificateFingerprint", "connection.dangerouslySkipCertificateCheck"]);
    assert.match(f[0].reason, /only for https: true/);
    assert.deepEqual(await failuresOf({ connection: winrm({ https: true, certificateFingerprint: "AB".repeat(32) }) }), []);
  });

  it("refuses an unknown transport", async () => {
    const f = await failuresOf({ connection: conn({ transport: "telnet" }) });
    assert.equal(f[0].property, "connection.transport");
    assert.match(f[0].reason, /"ssh" or "winrm"/);
  });
});

describe("customTimeouts as the resource passes them", () => {
  it("reads Go durations into whole seconds and ignores what it cannot read", () => {
    assert.equal(durationSeconds("90s"), 90);
    assert.equal(durationSeconds("5m"), 300);
    assert.equal(durationSeconds("1h30m"), 5400);
    assert.equal(durationSeconds("1.5h"), 5400);
    assert.equal(durationSeconds("500ms"), 1);
    assert.equal(durationSeconds("ten minutes"), undefined);
    assert.equal(durationSeconds(""), undefined);
    assert.equal(durationSeconds(undefined), undefined);
  });

  it("carries the seconds of each operation whose duration reads, and nothing when none does", () => {
    assert.deepEqual(customTimeoutSeconds({ create: "10m", update: "soon", delete: "90s" }), { create: 600, delete: 90 });
    assert.equal(customTimeoutSeconds({ update: "soon" }), undefined);
    assert.equal(customTimeoutSeconds({}), undefined);
    assert.equal(customTimeoutSeconds(undefined), undefined);
  });
});

describe("check as the engine takes it (checkForEngine)", () => {
  it("reports a nested failure against its top-level input, the nested path leading the reason", async () => {
    const r = await ops.checkForEngine({}, { connection: conn(), client: { requireSigning: "yes" } });
    assert.deepEqual(r.failures, [{ property: "client", reason: "client.requireSigning must be true or false" }]);
  });
  it("keeps a top-level input's name, and a reason that already names its path", async () => {
    const r = await ops.checkForEngine({}, { connection: conn(), onDelete: "forget" });
    assert.deepEqual(r.failures, [{ property: "onDelete", reason: 'must be "restore" or "retain"' }]);
    assert.deepEqual(ops.engineFailure({ property: "connection.passphrase", reason: "connection.privateKey cannot be decrypted" }), {
      property: "connection",
      reason: "connection.privateKey cannot be decrypted",
    });
  });
  it("names no property for a failure of the inputs as a whole", () => {
    assert.deepEqual(ops.engineFailure({ property: "(inputs)", reason: "must be an object" }), { property: "", reason: "must be an object" });
  });
  it("passes accepted inputs through unchanged", async () => {
    const news = { connection: conn(), client: { requireSigning: true } };
    assert.deepEqual(await ops.checkForEngine({}, news), await ops.check({}, news));
  });
});

describe("check in preview, with inputs not known yet (built from other resources' outputs)", () => {
  it("passes a connection, client or server unknown as a whole, returning them as unknown and the rest validated", async () => {
    const r = await ops.check({}, { connection: UNKNOWN, client: UNKNOWN, server: { requireSigning: true } });
    assert.deepEqual(r.failures, undefined);
    const inputs = r.inputs as Record<string, unknown>;
    assert.equal(inputs.connection, UNKNOWN);
    assert.equal(inputs.client, UNKNOWN);
    assert.deepEqual(inputs.server, { requireSigning: true });
    assert.equal(inputs.onDelete, "retain");
  });

  it("still refuses what is known to be wrong beside them", async () => {
    assert.deepEqual(await failuresOf({ connection: UNKNOWN, onDelete: "forget" }), [{ property: "onDelete", reason: 'must be "restore" or "retain"' }]);
    assert.match((await failuresOf({ connection: UNKNOWN, server: { requireSigning: false } }))[0]?.reason ?? "", /acknowledgeInsecureSettings/);
    assert.match((await failuresOf({ connection: UNKNOWN, client: { requireSigning: "yes" } }))[0]?.reason ?? "", /true or false/);
  });

  it("an unknown transport leaves which fields belong to it to be judged at up: WinRM-only fields and a missing host key pass", async () => {
    assert.deepEqual(await failuresOf({ connection: { transport: UNKNOWN, host: "fs01", user: "admin", password: "pw", https: true, certificateFingerprint: "AB".repeat(32) } }), []);
    assert.deepEqual(await failuresOf({ connection: { transport: UNKNOWN, host: "fs01", user: "admin", password: "pw" } }), []);
    // Known, the same connection is judged.
    assert.match((await failuresOf({ connection: { transport: "ssh", host: "fs01", user: "admin", password: "pw", https: true } }))[0]?.reason ?? "", /only for transport "winrm"/);
  });

  it("an unknown host does not fail the import id check, nor an unknown opt-out the host key check", async () => {
    assert.deepEqual(await failuresOf({ connection: conn({ host: UNKNOWN }), importId: "fs01.corp.example" }), []);
    assert.deepEqual(await failuresOf({ connection: conn({ hostKey: undefined, dangerouslyAcceptAnyHostKey: UNKNOWN }) }), []);
    assert.deepEqual(await failuresOf({ connection: { ...conn({ transport: "winrm", hostKey: undefined }), https: UNKNOWN, certificateFingerprint: "AB".repeat(32) } }), []);
  });
});
