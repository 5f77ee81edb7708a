// Reply parsing: judged by exit code, CLIXML noise tolerated, CLIXML errors made readable,
// output decoded once as a whole.
import assert from "node:assert/strict";
import { errorTextFromStderr } from "../../provider/host/clixml";
import { HostError } from "../../provider/errors";
import { parseReply } from "../../provider/host/protocol";
import { decodeReply } from "../../provider/host/signingScript";
import { clixml } from "../simhost/model";

const ok = { status: "ok", value: "Windows Server® 2008" };
const result = (stdout: string | Buffer, stderr = "", exitCode: number | null = 0) => ({
  stdout: Buffer.isBuffer(stdout) ? stdout : Buffer.from(stdout),
  stderr: Buffer.from(stderr),
  exitCode,
});

function hostError(fn: () => unknown): HostError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof HostError, `expected HostError, got ${err}`);
    return err;
  }
  assert.fail("expected an error");
}

describe("parseReply", () => {
  it("returns the JSON reply of a successful run", () => {
    assert.deepEqual(parseReply("h", result(JSON.stringify(ok))), ok);
  });

  it("treats a missing exit code (dropped connection) as failure even with a full reply", () => {
    assert.equal(hostError(() => parseReply("h", result(JSON.stringify(ok), "", null))).kind, "connectionDropped");
  });

  it("tolerates CLIXML progress records on stderr when the exit code is 0", () => {
    const noise = clixml([{ kind: "progress", text: "Preparing modules for first use." }]);
    assert.deepEqual(parseReply("h", result(JSON.stringify(ok), noise)), ok);
  });

  it("turns CLIXML error records into a readable message", () => {
    const stderr = clixml([
      { kind: "progress", text: "Preparing modules for first use." },
      { kind: "error", text: "Get-Thing : Access <denied>\r\n" },
      { kind: "error", text: "At line:1 char:1\r\n" },
    ]);
    const e = hostError(() => parseReply("fs01:22", result("", stderr, 1)));
    assert.equal(e.kind, "failed");
    assert.match(e.message, /^fs01:22: PowerShell exited with code 1: Get-Thing : Access <denied>\r?\nAt line:1 char:1/);
    assert.ok(!e.message.includes("_x000D_"));
    assert.ok(!e.message.includes("CLIXML"));
  });

  it("maps the script's error reply to its kind", () => {
    const e = hostError(() => parseReply("h", result(JSON.stringify({ status: "error", kind: "accessDenied", message: "Access denied" }), "", 2)));
    assert.equal(e.kind, "accessDenied");
    assert.match(e.message, /Administrators/);
  });

  it("a failure the script reported after it ran says the host may be partly changed, where its originals are, and what the next up does", () => {
    const e = hostError(() => parseReply("fs01", result(JSON.stringify({ status: "error", kind: "failed", message: "Set-SmbServerConfiguration: the RPC server is unavailable" }), "", 2)));
    assert.equal(e.kind, "failed");
    assert.match(e.message, /^fs01: Set-SmbServerConfiguration: the RPC server is unavailable \(/);
    assert.match(e.message, /the host may be partly changed, and its original values are kept in its record on the host/);
    assert.match(e.message, /run `pulumi up` \(or `destroy`\) again: it reads the host and applies only what still differs/);
  });

  it("fails a zero exit code without a reply", () => {
    assert.equal(hostError(() => parseReply("h", result("garbage"))).kind, "failed");
  });

  it("fails a non-zero exit code even when stdout holds an ok reply", () => {
    const e = hostError(() => parseReply("h", result(JSON.stringify(ok), "", 1)));
    assert.equal(e.kind, "failed");
    assert.match(e.message, /PowerShell exited with code 1/);
  });

  it("fails a zero exit code whose reply is neither ok nor an error", () => {
    const e = hostError(() => parseReply("h", result(JSON.stringify({ status: "partial", value: "x" }))));
    assert.equal(e.kind, "failed");
    assert.match(e.message, /PowerShell exited with code 0: \{"status":"partial"/);
  });

  it("decodes a multi-byte character split across chunks", () => {
    const bytes = Buffer.from(JSON.stringify(ok));
    const cut = bytes.indexOf(Buffer.from("®")) + 1;
    const joined = Buffer.concat([bytes.subarray(0, cut), bytes.subarray(cut)]);
    assert.equal(parseReply<typeof ok & { status: "ok" }>("h", result(joined)).value, ok.value);
  });

  it("keeps plain stderr text as it is", () => {
    assert.equal(errorTextFromStderr("plain failure\n"), "plain failure");
  });
});

describe("decodeReply (the signing script's reply)", () => {
  const facts = { productName: "Windows Server 2022 Standard", edition: "ServerStandard", displayVersion: "21H2", build: "20348.2700", domainRole: 3 };
  const sides = { client: { RequireSecuritySignature: true }, server: { RequireSecuritySignature: false } };
  const good = { status: "ok", host: facts, source: "cmdlet", before: sides, after: sides, changed: [], record: null, ours: true, restored: false };

  it("returns a well-formed ok reply in our names", () => {
    const r = decodeReply("h", result(JSON.stringify(good)));
    assert.equal(r.after.client.requireSigning, true);
    assert.equal(r.after.server.requireSigning, false);
    assert.equal(r.record, null);
  });

  for (const [what, spoiled] of [
    ["a setting that is not a Boolean", { ...good, after: { client: { RequireSecuritySignature: "yes" }, server: {} } }],
    ["host facts missing", { ...good, host: undefined }],
    ["an unknown settings source", { ...good, source: "wmi" }],
    ["a record without owner", { ...good, record: { originals: {} } }],
  ] as const) {
    it(`refuses an ok reply with ${what} as badReply, naming the field`, () => {
      const e = hostError(() => decodeReply("h", result(JSON.stringify(spoiled))));
      assert.equal(e.kind, "badReply");
      assert.match(e.message, /is not as smb-signing\.ps1 writes it/);
    });
  }
});

describe("decodeReply: policy the script could not see, and MDM", () => {
  const facts = { productName: "Windows Server 2025 Datacenter", edition: "ServerDatacenter", displayVersion: "24H2", build: "26100.4061", domainRole: 5 };
  const refusal = (visibility: unknown, unconfirmed: unknown = ["server.RequireSecuritySignature"]) =>
    result(JSON.stringify({ status: "error", kind: "policyUnknown", message: "the script's words", unconfirmed, policyVisibility: visibility, host: facts }), "", 2);

  it("policyUnknown in the program's words: the setting, the cause, and the fix for that cause", () => {
    const off = hostError(() => decodeReply("dc1:22", refusal({ state: "unknown", cause: "rsopLoggingOff", detail: "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\System RSoPLogging is 0" })));
    assert.equal(off.kind, "policyUnknown");
    assert.equal(
      off.detail,
      "this domain controller's Group Policy cannot be seen: RSoP logging is turned off (HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\System RSoPLogging is 0); a policy such as the Default Domain Controllers Policy may enforce server.requireSigning and would put a change back at its next refresh, so nothing was changed",
    );
    assert.match(off.advice, /^turn RSoP logging back on/);
    const denied = hostError(() => decodeReply("dc1:22", refusal({ state: "unknown", cause: "rsopQueryFailed", detail: "Access denied (HRESULT 0x80041003,x)" })));
    assert.match(denied.message, /the RSoP query \(root\\rsop\\computer\) failed: Access denied \(HRESULT 0x80041003,x\)/);
    assert.match(denied.advice, /elevated member of the local Administrators group/);
    const none = hostError(() => decodeReply("dc1:22", refusal({ state: "unknown", cause: "noGpoInstances", detail: "d" })));
    assert.match(none.advice, /gpupdate \/force/);
  });

  it("a policyUnknown reply without its settings or its cause is a badReply", () => {
    assert.equal(hostError(() => decodeReply("dc1:22", refusal({ state: "known" }))).kind, "badReply");
    assert.equal(hostError(() => decodeReply("dc1:22", refusal({ state: "unknown", cause: "rsopLoggingOff", detail: "d" }, "server"))).kind, "badReply");
  });

  it("a conflict with MDM names the MDM policy, not a Group Policy, and advises changing the Intune profile", () => {
    const gpo = "MDM (Intune) policy LocalPoliciesSecurityOptions/MicrosoftNetworkClient_DigitallySignCommunicationsAlways";
    const e = hostError(() =>
      decodeReply("h:22", result(JSON.stringify({ status: "error", kind: "policyConflict", message: "m", conflicts: [{ side: "client", name: "RequireSecuritySignature", declared: false, enforced: true, gpo, source: "mdm" }] }), "", 2)),
    );
    assert.equal(e.detail, `client.requireSigning is declared false, but ${gpo} enforces true; nothing was changed`);
    assert.match(e.advice, /Intune device configuration/);
  });
});
