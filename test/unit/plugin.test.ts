// The provider plugin's own parts, without the CLI: its configuration (validated like the
// resource's connection, credentials lent and never recorded), the secrets it returns, the owner
// it derives from a URN, the import id it reads, and the package schema generated from the
// definitions the dynamic resource uses.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { SHARED_KEYS } from "../../provider/domain/schema";
import { SETTINGS, SIDES } from "../../provider/domain/settings";
import { parseProviderConfig, withDefaults } from "../../provider/plugin/config";
import { parseImportId } from "../../provider/plugin/importId";
import { ownerOf, SmbSigningPlugin, unwrapSecrets, wrapSecrets } from "../../provider/plugin/provider";
import { setDiagnosticSink } from "../../provider/engineLog";
import { packageSchema, SCHEMA_FILE, schemaText } from "../../tools/schema/generate";

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";
const URN = "urn:pulumi:prod::smb::smbsigning:index:SmbSigningPolicy::fs01";
const FP = "SHA256:" + "A".repeat(43);
const isSecret = (v: unknown) => typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG] === SECRET;

describe("provider plugin: configuration", () => {
  it("takes the shared connection keys, typed from stack configuration's text", () => {
    const { config, failures } = parseProviderConfig({ user: "CORP\\admin", password: "pw", connectTimeoutSeconds: "30", https: "true", transport: "winrm" });
    assert.deepEqual(failures, []);
    assert.deepEqual(config, { user: "CORP\\admin", password: "pw", connectTimeoutSeconds: 30, https: true, transport: "winrm" });
  });

  it("takes Kerberos's keys: a KDC list from text (commas or blanks), or as a list from a provider resource; a keytab or cache as a credential set", () => {
    const fromText = parseProviderConfig({ authentication: "kerberos", realm: "CORP.EXAMPLE", kdc: "dc1.corp.example, dc2.corp.example:88", keytabFile: "/run/secrets/svc.keytab" });
    assert.deepEqual(fromText.failures, []);
    assert.deepEqual(fromText.config, { authentication: "kerberos", realm: "CORP.EXAMPLE", kdc: ["dc1.corp.example", "dc2.corp.example:88"], keytabFile: "/run/secrets/svc.keytab" });
    assert.deepEqual(parseProviderConfig({ kdc: ["dc1.corp.example"] }).config, { kdc: ["dc1.corp.example"] });
    assert.match(parseProviderConfig({ kdc: "dc1.corp.example:port" }).failures[0]?.reason ?? "", /^smbsigning:kdc must /);
    // A resource with its own password uses none of the configured key sources.
    assert.deepEqual(withDefaults({ host: "fs01", password: "own" }, fromText.config), { host: "fs01", authentication: "kerberos", realm: "CORP.EXAMPLE", kdc: ["dc1.corp.example", "dc2.corp.example:88"], password: "own" });
  });

  it("refuses a key it does not have and a value the resource would refuse, naming smbsigning:<key>", () => {
    const { failures } = parseProviderConfig({ hostKey: FP, commandTimeoutSeconds: "9000", transport: "telnet", user: "a/b" });
    assert.deepEqual(
      failures.map((f) => f.reason),
      [
        "smbsigning:hostKey is not a configuration key of this provider; allowed: transport, user, password, privateKey, passphrase, agent, https, authentication, realm, kdc, keytabFile, ccache, caCertificate, connectTimeoutSeconds, commandTimeoutSeconds, scriptPath",
        "smbsigning:commandTimeoutSeconds must be a whole number of seconds from 1 to 3600",
        'smbsigning:transport must be "ssh" or "winrm"',
        'smbsigning:user must be a Windows account name (1-104 characters, none of " / [ ] : ; | = , + * ? < > or control characters)',
      ],
    );
  });

  it("refuses a wrong value of any key in the resource's words, naming what is allowed, never zod's raw text", () => {
    const wrong = ["", "0", "1.5", "yes", 0, -1, 1.5, 99999, true, null, [], {}];
    for (const key of SHARED_KEYS) {
      for (const value of wrong) {
        const { failures } = parseProviderConfig({ [key]: value });
        for (const f of failures) {
          assert.match(f.reason, new RegExp(`^smbsigning:${key} must `), `${key} = ${JSON.stringify(value)}: ${f.reason}`);
          assert.doesNotMatch(f.reason, /Too (small|big)|expected .* received|Invalid (input|option|type|string|value)|received /, `${key} = ${JSON.stringify(value)}`);
        }
      }
    }
    assert.equal(parseProviderConfig({ connectTimeoutSeconds: "1.5" }).failures[0]?.reason, "smbsigning:connectTimeoutSeconds must be a whole number of seconds from 1 to 300");
  });

  it("lends defaults under the resource's own values; credentials as a set, the resource's winning whole", () => {
    const config = { user: "fleet", password: "fleet-pw", commandTimeoutSeconds: 300 };
    assert.deepEqual(withDefaults({ host: "fs01", user: "local" }, config), { host: "fs01", user: "local", commandTimeoutSeconds: 300, password: "fleet-pw" });
    assert.deepEqual(withDefaults({ host: "fs01", privateKey: "KEY" }, config), { host: "fs01", user: "fleet", commandTimeoutSeconds: 300, privateKey: "KEY" });
  });
});

describe("provider plugin: check", () => {
  let warnings: string[];
  let previous: ReturnType<typeof setDiagnosticSink>;
  beforeEach(() => {
    warnings = [];
    previous = setDiagnosticSink((d) => void warnings.push(`${d.severity}: ${d.message}`));
  });
  afterEach(() => setDiagnosticSink(previous));

  const plugin = (config: Record<string, unknown>) => {
    const p = new SmbSigningPlugin("0.0.0", "{}");
    assert.deepEqual(p.configure(config), []);
    return p;
  };

  it("records the configured account in the resource's inputs and never the configured password", async () => {
    const result = await plugin({ user: "fleet", password: "fleet-pw" }).check(URN, {}, { connection: { host: "fs01", hostKey: FP }, server: { requireSigning: true } });
    assert.equal(result.failures, undefined);
    const connection = (result.inputs as { connection: Record<string, unknown> }).connection;
    assert.equal(connection.user, "fleet");
    assert.equal(connection.password, undefined);
    assert.ok(!JSON.stringify(result.inputs).includes("fleet-pw"));
    assert.equal((result.inputs as { owner: string }).owner, "smb/prod/fs01");
  });

  it("returns a password the resource declares as a secret, even when it came in plain", async () => {
    const result = await plugin({ user: "fleet" }).check(URN, {}, { connection: { host: "fs01", hostKey: FP, password: "own-pw" } });
    const password = (result.inputs as { connection: Record<string, unknown> }).connection.password;
    assert.ok(isSecret(password), JSON.stringify(password));
  });

  it("without credentials anywhere: the failure says where they can be given", async () => {
    const result = await plugin({ user: "fleet" }).check(URN, {}, { connection: { host: "fs01", hostKey: FP } });
    assert.equal(result.failures?.length, 1);
    assert.match(result.failures![0].reason, /one of password, privateKey or agent is required \(on the resource, or for every resource as smbsigning:password/);
  });

  it("the missing credential of any WinRM authentication says where it can be given, and so does a missing user; the hint follows what failed, not its words", async () => {
    for (const authentication of ["ntlm", "negotiate"]) {
      const result = await plugin({ user: "fleet" }).check(URN, {}, { connection: { transport: "winrm", authentication, host: "fs01.corp.example" } });
      assert.equal(result.failures?.length, 1, JSON.stringify(result.failures));
      assert.match(result.failures![0].reason, /connection\.password is required .*\(on the resource, or for every resource as smbsigning:password, smbsigning:privateKey or smbsigning:agent\)$/, authentication);
      assert.deepEqual(Object.keys(result.failures![0]).sort(), ["property", "reason"]);
    }
    const noUser = await plugin({ password: "pw" }).check(URN, {}, { connection: { host: "fs01", hostKey: FP } });
    assert.match(noUser.failures![0].reason, /connection\.user is required \(on the resource, or for every resource as smbsigning:user\)$/);
    // Another failure of the same property gets no hint.
    const badPort = await plugin({ user: "fleet", password: "pw" }).check(URN, {}, { connection: { host: "fs01", hostKey: FP, port: 0 } });
    assert.ok(badPort.failures!.every((f) => !f.reason.includes("for every resource")), JSON.stringify(badPort.failures));
  });

  it("refuses the inputs the dynamic resource sets itself (owner, resourceUrn, importId): the plugin derives them", async () => {
    const result = await plugin({ user: "fleet", password: "pw" }).check(URN, {}, { connection: { host: "fs01", hostKey: FP }, owner: "someone/else/fs01" });
    assert.deepEqual(result.failures, [{ property: "owner", reason: "owner is not a known property; allowed: connection, client, server, acknowledgeInsecureSettings, onDelete, takeOwnership, readinessDays" }]);
  });

  it("keeps the safety rules: an unacknowledged weakening fails; an acknowledged one is noted (info), as the dynamic resource's program does", async () => {
    const p = plugin({ user: "fleet", password: "pw" });
    const refused = await p.check(URN, {}, { connection: { host: "fs01", hostKey: FP }, server: { requireSigning: false } });
    assert.match(refused.failures?.[0].reason ?? "", /acknowledgeInsecureSettings/);
    const acknowledged = await p.check(URN, {}, { connection: { host: "fs01", hostKey: FP }, server: { requireSigning: false }, client: { enableSigning: true }, acknowledgeInsecureSettings: true });
    assert.equal(acknowledged.failures, undefined);
    assert.ok(warnings.some((w) => /^info: fs01: server\.requireSigning weakens SMB security/.test(w)), warnings.join("\n"));
    assert.ok(warnings.some((w) => /^info: .*client\.enableSigning \(EnableSecuritySignature\) has no effect on SMB 2 and 3/.test(w)));
    assert.ok(!warnings.some((w) => w.startsWith("warning:")), warnings.join("\n"));
  });
});

describe("provider plugin: secrets and identity", () => {
  it("wraps password, privateKey and passphrase of a connection, and unwraps at any depth", () => {
    const wrapped = wrapSecrets({ connection: { host: "h", password: "p", privateKey: "k", passphrase: "q", user: "u" }, client: {} });
    const c = wrapped.connection as Record<string, unknown>;
    for (const key of ["password", "privateKey", "passphrase"]) assert.ok(isSecret(c[key]), key);
    assert.equal(c.user, "u");
    assert.deepEqual(unwrapSecrets(wrapped), { connection: { host: "h", password: "p", privateKey: "k", passphrase: "q", user: "u" }, client: {} });
  });

  it("derives the owner the dynamic resource records for the same project, stack and name", () => {
    assert.equal(ownerOf(URN), "smb/prod/fs01");
    assert.equal(ownerOf("urn:pulumi:dev::proj::smbsigning:index:SmbSigningPolicy::a::b"), "proj/dev/a::b");
  });
});

describe("provider plugin: import ids", () => {
  it("reads host, transport, port and the identity to pin", () => {
    assert.deepEqual(parseImportId("fs01.corp.example"), { host: "fs01.corp.example" });
    assert.deepEqual(parseImportId("winrm://fs01:5985"), { host: "fs01", transport: "winrm", port: 5985 });
    assert.deepEqual(parseImportId(`ssh://10.0.4.20:22?hostKey=${FP}`), { host: "10.0.4.20", transport: "ssh", port: 22, hostKey: FP });
    assert.deepEqual(parseImportId("ssh://[fd00::20]:2222"), { host: "fd00::20", transport: "ssh", port: 2222 });
    assert.deepEqual(parseImportId("winrm://fs01?certificateFingerprint=AB:CD"), { host: "fs01", transport: "winrm", certificateFingerprint: "AB:CD" });
  });

  it("refuses what it cannot read, naming the form it takes", () => {
    assert.throws(() => parseImportId("telnet://fs01"), /is not \[ssh:\/\/\|winrm:\/\/\]<host>/);
    assert.throws(() => parseImportId("fs01?password=x"), /has "password=x"; allowed after "\?": hostKey, certificateFingerprint/);
    assert.throws(() => parseImportId("fs01 ; rm"), /is not/);
  });

  it("refuses a key given twice (rather than taking the last), naming the id, the key and the form it takes", () => {
    const twice = `ssh://fs01?hostKey=${FP}&hostKey=SHA256:${"B".repeat(43)}`;
    assert.throws(() => parseImportId(twice), (e: Error) => e.message.includes(`"${twice}"`) && /gives "hostKey" more than once/.test(e.message) && e.message.includes("[ssh://|winrm://]<host>"));
    assert.throws(() => parseImportId("winrm://fs01?certificateFingerprint=AB&certificateFingerprint=CD"), /gives "certificateFingerprint" more than once; it takes one value \(\[ssh:\/\/\|winrm:\/\/\]<host>/);
  });

  it("refuses hostKey and certificateFingerprint together: the form takes one of them", () => {
    const both = `fs01?hostKey=${FP}&certificateFingerprint=AB:CD`;
    assert.throws(() => parseImportId(both), (e: Error) => e.message.includes(`"${both}"`) && /gives both hostKey and certificateFingerprint; it takes one of them/.test(e.message) && e.message.includes("[ssh://|winrm://]<host>"));
  });
});

describe("provider plugin: package schema", () => {
  it("the committed provider/plugin/schema.json is what tools/schema/generate.ts makes of today's definitions", () => {
    assert.equal(fs.readFileSync(SCHEMA_FILE, "utf8"), schemaText(), "run: npm run build && node dist/tools/schema/generate.js --write");
  });

  it("every reference resolves; every setting of the table is a property; credentials are secret", () => {
    const schema = packageSchema() as { types: Record<string, { properties: Record<string, { secret?: boolean }> }>; config: { variables: Record<string, { secret?: boolean }> } };
    const refs = [...JSON.stringify(schema).matchAll(/"#\/types\/([^"]+)"/g)].map((m) => m[1]);
    assert.ok(refs.length > 0);
    for (const ref of refs) assert.ok(schema.types[ref], `unresolved $ref ${ref}`);
    for (const side of SIDES) {
      const props = schema.types[`smbsigning:index:${side === "client" ? "Client" : "Server"}Signing`].properties;
      assert.deepEqual(Object.keys(props).sort(), SETTINGS[side].map((d) => d.name).sort());
    }
    for (const key of ["password", "privateKey", "passphrase"]) {
      assert.equal(schema.types["smbsigning:index:Connection"].properties[key].secret, true, `Connection.${key}`);
      assert.equal(schema.config.variables[key].secret, true, `config ${key}`);
    }
  });
});
