// The policy pack's rules (policy/rules.ts) as plain functions, and the pack's packaging: what
// npm ships, the launcher, and the version the pack reports. test/e2e/policyPack.test.ts runs
// the same rules through the real CLI.
import assert from "node:assert/strict";
import { UNKNOWN } from "../../provider/domain/schema";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  guestLogonsOff,
  hostIdentityPinned,
  judge,
  noDangerousOptions,
  parseWaivers,
  restoreSecure,
  Rule,
  RULES,
  signingRequired,
  waiverFor,
} from "../../policy/rules";
import { REPO_ROOT } from "../../tools/repoRoot";

const SSH = { host: "fs01.corp.example", user: "admin", password: "pw", hostKey: `SHA256:${"A".repeat(43)}` };
const SIGNED = { client: { requireSigning: true }, server: { requireSigning: true } };

const check = <C>(rule: Rule<C>, props: Record<string, unknown>, config: Record<string, unknown> = {}) => rule.check(props, rule.parse(config));

describe("policy rule smb-signing-required", () => {
  it("passes only when both sides declare requireSigning: true", () => {
    assert.deepEqual(check(signingRequired, { connection: SSH, ...SIGNED }), []);
    const none = check(signingRequired, { connection: SSH });
    assert.equal(none.length, 2);
    assert.match(none[0], /^client\.requireSigning is not declared/);
    assert.match(none[1], /^server\.requireSigning is not declared/);
    assert.deepEqual(check(signingRequired, { connection: SSH, client: { requireSigning: false }, server: { requireSigning: true } }).map((f) => f.split(":")[0]), [
      "client.requireSigning is false",
    ]);
  });

  it("judges only the sides the config names, and refuses a bad sides value", () => {
    assert.deepEqual(check(signingRequired, { client: { requireSigning: true } }, { sides: ["client"] }), []);
    assert.equal(check(signingRequired, { client: { requireSigning: true } }, { sides: ["server"] }).length, 1);
    assert.throws(() => signingRequired.parse({ sides: "server" }), /smb-signing-required\.sides must list "client" and\/or "server"/);
    assert.throws(() => signingRequired.parse({ sides: [] }), /sides must list/);
    assert.throws(() => signingRequired.parse({ sides: ["clients"] }), /sides must list/);
  });
});

describe("policy rule smb-insecure-guest-logons-off", () => {
  it("refuses guest logons declared true; unmanaged passes unless requireDeclared", () => {
    assert.match(check(guestLogonsOff, { client: { enableInsecureGuestLogons: true } })[0], /client\.enableInsecureGuestLogons is true/);
    assert.deepEqual(check(guestLogonsOff, { client: { enableInsecureGuestLogons: false } }), []);
    assert.deepEqual(check(guestLogonsOff, { client: {} }), []);
    assert.match(check(guestLogonsOff, { client: {} }, { requireDeclared: true })[0], /is not declared/);
    assert.deepEqual(check(guestLogonsOff, { client: { enableInsecureGuestLogons: false } }, { requireDeclared: true }), []);
    assert.throws(() => guestLogonsOff.parse({ requireDeclared: "yes" }), /smb-insecure-guest-logons-off\.requireDeclared must be true or false/);
  });
});

describe("policy rule smb-host-identity-pinned", () => {
  const winrmHttps = { transport: "winrm", https: true, host: "fs01", user: "admin", password: "pw" };

  it("SSH needs connection.hostKey (ssh is the default transport)", () => {
    assert.deepEqual(check(hostIdentityPinned, { connection: SSH }), []);
    assert.match(check(hostIdentityPinned, { connection: { ...SSH, hostKey: undefined } })[0], /connection\.hostKey is not set/);
    assert.match(check(hostIdentityPinned, { connection: { ...SSH, transport: "ssh", hostKey: "" } })[0], /connection\.hostKey is not set/);
  });

  it("WinRM over HTTPS needs a certificate fingerprint, or a private CA unless the config refuses CAs", () => {
    assert.match(check(hostIdentityPinned, { connection: winrmHttps })[0], /connection\.certificateFingerprint is not set: .* system's CAs/);
    assert.deepEqual(check(hostIdentityPinned, { connection: { ...winrmHttps, certificateFingerprint: "AB".repeat(32) } }), []);
    assert.deepEqual(check(hostIdentityPinned, { connection: { ...winrmHttps, caCertificate: "-----BEGIN CERTIFICATE-----" } }), []);
    assert.match(
      check(hostIdentityPinned, { connection: { ...winrmHttps, caCertificate: "-----BEGIN CERTIFICATE-----" } }, { acceptCaCertificate: false })[0],
      /does not accept a CA/,
    );
  });

  it("WinRM over HTTP passes unless the config requires HTTPS", () => {
    const http = { transport: "winrm", host: "fs01", user: "admin", password: "pw" };
    assert.deepEqual(check(hostIdentityPinned, { connection: http }), []);
    assert.match(check(hostIdentityPinned, { connection: http }, { requireHttpsForWinrm: true })[0], /connection\.https is not true/);
  });
});

describe("policy rule smb-no-dangerous-options", () => {
  it("refuses every dangerously* option set to anything but false, by prefix", () => {
    assert.deepEqual(check(noDangerousOptions, { connection: { ...SSH, dangerouslyAcceptAnyHostKey: false } }), []);
    assert.match(check(noDangerousOptions, { connection: { ...SSH, dangerouslyAcceptAnyHostKey: true } })[0], /^connection\.dangerouslyAcceptAnyHostKey is set/);
    assert.match(check(noDangerousOptions, { connection: { dangerouslySkipCertificateCheck: true } })[0], /^connection\.dangerouslySkipCertificateCheck is set/);
    // An option the provider may add later is caught too.
    assert.match(check(noDangerousOptions, { dangerouslyIgnoreGroupPolicy: true })[0], /^dangerouslyIgnoreGroupPolicy is set/);
    // Not only a literal true: a value not known yet (the engine's unknown placeholder), or one a
    // YAML program or config gives as text, is refused too; only false (or leaving it out) passes.
    for (const value of [UNKNOWN, "true", 1, "false"]) {
      assert.match(check(noDangerousOptions, { connection: { ...SSH, dangerouslyAcceptAnyHostKey: value } })[0] ?? "", /^connection\.dangerouslyAcceptAnyHostKey is set/, JSON.stringify(value));
    }
  });
});

describe("policy rule smb-restore-secure", () => {
  const recorded = { client: { requireSigning: true }, server: { requireSigning: false } };

  it("refuses a declared restore of insecure originals, naming them; retain (the default) passes, and the acknowledgement plays no part", () => {
    assert.match(check(restoreSecure, { onDelete: "restore", originalSettings: recorded })[0], /destroy would restore server\.requireSigning=false on this host/);
    assert.match(check(restoreSecure, { onDelete: "restore", originalSettings: { client: { enableInsecureGuestLogons: true }, server: {} } })[0], /client\.enableInsecureGuestLogons=true/);
    assert.match(check(restoreSecure, { onDelete: "restore", acknowledgeInsecureSettings: true, originalSettings: recorded })[0], /server\.requireSigning=false/);
    assert.deepEqual(check(restoreSecure, { onDelete: "retain", originalSettings: recorded }), []);
    assert.deepEqual(check(restoreSecure, { originalSettings: recorded }), []);
  });

  it("is advisory unless configured: it can only judge what an up already did; the rules on inputs are mandatory", () => {
    assert.equal(restoreSecure.defaultLevel, "advisory");
    for (const rule of RULES) if (rule.kind === "resource") assert.equal(rule.defaultLevel, "mandatory", rule.name);
  });

  it("secure originals pass: restoring them weakens nothing", () => {
    assert.deepEqual(check(restoreSecure, { onDelete: "restore", originalSettings: { client: { requireSigning: true, auditInsecureGuestLogon: false }, server: { requireSigning: true } } }), []);
  });

  it("originals not known yet pass, unless whenOriginalsUnknown is violation", () => {
    assert.deepEqual(check(restoreSecure, { onDelete: "restore" }), []);
    assert.match(check(restoreSecure, { onDelete: "restore" }, { whenOriginalsUnknown: "violation" })[0], /not known yet/);
    assert.deepEqual(check(restoreSecure, { onDelete: "retain" }, { whenOriginalsUnknown: "violation" }), []);
    assert.throws(() => restoreSecure.parse({ whenOriginalsUnknown: "fail" }), /whenOriginalsUnknown must be "pass" or "violation"/);
  });
});

describe("policy waivers", () => {
  const resource = { urn: "urn:pulumi:prod::fleet::pulumi-nodejs:dynamic/smb:SmbSigningPolicy::nas-01", name: "nas-01", props: { connection: SSH, client: { requireSigning: true } } };

  it("a waiver names a resource by name or by URN, and covers nothing else", () => {
    const byName = { resource: "nas-01", reason: "CHG-1" };
    const byUrn = { resource: resource.urn, reason: "CHG-2" };
    assert.equal(waiverFor([byName], resource.urn, resource.name), byName);
    assert.equal(waiverFor([byUrn], resource.urn, resource.name), byUrn);
    assert.equal(waiverFor([{ resource: "nas-02", reason: "CHG-3" }], resource.urn, resource.name), undefined);
    assert.equal(waiverFor([{ resource: "nas", reason: "CHG-4" }], resource.urn, resource.name), undefined, "no prefix match");
  });

  it("judge moves a waived resource's findings to the waived list, with the waiver", () => {
    const plain = judge(signingRequired, {}, resource);
    assert.equal(plain.findings.length, 1);
    const waived = judge(signingRequired, { waivers: [{ resource: "nas-01", reason: "CHG-1: firmware" }] }, resource);
    assert.deepEqual(waived.findings, []);
    assert.deepEqual(waived.waived, [{ waiver: { resource: "nas-01", reason: "CHG-1: firmware" }, finding: plain.findings[0] }]);
  });

  it("refuses a waiver without a resource or reason, and a parameter the rule lacks", () => {
    assert.throws(() => parseWaivers("smb-signing-required", { waivers: [{ resource: "nas-01" }] }), /smb-signing-required\.waivers\[0\] needs a "resource" .* and a non-empty "reason"/);
    assert.throws(() => parseWaivers("smb-signing-required", { waivers: [{ resource: "", reason: "x" }] }), /waivers\[0\]/);
    assert.throws(() => parseWaivers("smb-signing-required", { waivers: "nas-01" }), /must be a list/);
    assert.throws(() => judge(signingRequired, { sidez: ["client"] }, resource), /smb-signing-required has no parameter "sidez"; it takes sides, waivers/);
  });
});

describe("policy pack packaging", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
  const packPkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "policy", "package.json"), "utf8"));

  it("npm ships the pack: its directory's files and the compiled rules", () => {
    for (const entry of ["dist/policy", "policy/PulumiPolicy.yaml", "policy/package.json", "policy/launcher"]) {
      assert.ok(pkg.files.includes(entry), `package.json "files" lacks ${entry}`);
    }
    assert.equal(path.normalize(path.join("policy", packPkg.main)), path.join("dist", "policy", "index.js"));
    assert.ok(fs.existsSync(path.join(REPO_ROOT, "dist", "policy", "index.js")));
    assert.match(fs.readFileSync(path.join(REPO_ROOT, "policy", "PulumiPolicy.yaml"), "utf8"), /^runtime: nodejs$/m);
  });

  it("the pack reports the package's version (@pulumi/policy reads it from the pack directory's package.json)", () => {
    assert.equal(packPkg.version, pkg.version);
  });

  it("@pulumi/policy is a dependency at an exact version", () => {
    assert.match(pkg.dependencies["@pulumi/policy"], /^\d+\.\d+\.\d+$/);
  });

  it("the launcher is executable and, started by hand without the engine's address, says how it is meant to run", () => {
    const launcher = path.join(REPO_ROOT, "policy", "launcher");
    assert.ok((fs.statSync(launcher).mode & 0o111) !== 0, "policy/launcher is not executable");
    const r = spawnSync(launcher, [], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: launcher <engine-address>/);
    assert.match(r.stderr, /pulumi preview --policy-pack .*policy\/launcher/);
  });

  it("every rule has a description and a name the CLI accepts", () => {
    for (const rule of RULES) {
      assert.match(rule.name, /^smb-[a-z-]+$/);
      assert.ok(rule.description.length > 20, rule.name);
    }
    assert.equal(new Set(RULES.map((r) => r.name)).size, RULES.length);
  });
});
