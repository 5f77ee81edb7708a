// Group Policy the script cannot see, and MDM policy that RSoP never shows (issue 22): the
// shipped smb-signing.ps1 run through the PowerShell interpreter on simulated hosts whose RSoP is
// turned off, denied or missing while their policy still applies (model.ts, GroupPolicy.rsop*),
// and whose Security Options an MDM (Intune) pushes (model.ts, MdmPolicy). Sources in
// docs/windows-model.md, "Group Policy" and "MDM".
import assert from "node:assert/strict";
import { applyGroupPolicy, HostState, newHostState, PresetName } from "../simhost/model";
import { loadInterpreter, runShipped } from "./shippedScripts";

const OWNER = "0b9c7a52-5f7e-4b8a-9a51-2f8d3c1e6a10";
const apply = (declared: Record<string, unknown>) => ({ operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", legacyOwners: [], originals: { client: {}, server: {} }, ...declared });
const read = { operation: "read", ownerId: OWNER, ownerLabel: "urn:a", legacyOwners: [] };

function host(preset: PresetName, edit: (s: HostState) => void = () => {}): HostState {
  const state = newHostState(preset);
  edit(state);
  applyGroupPolicy(state);
  return state;
}

describe("smb-signing.ps1: Group Policy it cannot see, and MDM", () => {
  before(async () => {
    await loadInterpreter();
  });

  describe("policy visibility", () => {
    it("RSoP that answers: known", () => {
      const r = runShipped(host("server-2025-dc"), read);
      assert.equal(r.exitCode, 0, r.stdout);
      assert.deepEqual(r.reply!.policyVisibility, { state: "known" });
      assert.deepEqual((r.reply!.policy as { server: unknown }).server, {
        RequireSecuritySignature: { value: true, gpo: "Default Domain Controllers Policy", source: "gpo" },
        EnableSecuritySignature: { value: true, gpo: "Default Domain Controllers Policy", source: "gpo" },
      });
    });

    it("RSoP logging turned off by policy (HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\System RSoPLogging 0): unknown, not 'no policy'", () => {
      const r = runShipped(host("server-2025-dc", (s) => (s.groupPolicy.rsopLogging = false)), read);
      assert.equal(r.exitCode, 0, r.stdout);
      assert.deepEqual(r.reply!.policyVisibility, { state: "unknown", cause: "rsopLoggingOff", detail: "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\System RSoPLogging is 0" });
    });

    it("the preference-level RSoPLogging 0 under ...\\Winlogon: unknown too", () => {
      const r = runShipped(host("server-2022", (s) => (s.groupPolicy.winlogonRsopLogging = false)), read);
      assert.equal(r.exitCode, 0, r.stdout);
      assert.equal((r.reply!.policyVisibility as { cause: string }).cause, "rsopLoggingOff");
      assert.match((r.reply!.policyVisibility as { detail: string }).detail, /Winlogon RSoPLogging is 0/);
    });

    it("a 32-bit PowerShell (WOW64) reads Winlogon's RSoPLogging 0 in the 64-bit view: unknown", () => {
      const state = host("server-2022", (s) => (s.groupPolicy.winlogonRsopLogging = false));
      state.process32 = true;
      const r = runShipped(state, read);
      assert.equal(r.exitCode, 0, r.stdout);
      assert.equal((r.reply!.policyVisibility as { cause: string }).cause, "rsopLoggingOff");
    });

    it("RSoP access denied (HRESULT 0x80041003): unknown, with the query's error; the run still reads", () => {
      const r = runShipped(host("server-2025-dc", (s) => (s.groupPolicy.rsopQuery = "accessDenied")), read);
      assert.equal(r.exitCode, 0, r.stdout);
      assert.deepEqual(r.reply!.policyVisibility, {
        state: "unknown",
        cause: "rsopQueryFailed",
        detail: "Access denied (HRESULT 0x80041003,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand)",
      });
    });

    it("root\\rsop\\computer missing (HRESULT 0x8004100e): unknown, with the query's error", () => {
      const r = runShipped(host("server-2022", (s) => (s.groupPolicy.rsopQuery = "namespaceMissing")), read);
      assert.equal(r.exitCode, 0, r.stdout);
      assert.equal((r.reply!.policyVisibility as { cause: string }).cause, "rsopQueryFailed");
      assert.match((r.reply!.policyVisibility as { detail: string }).detail, /Invalid namespace \(HRESULT 0x8004100e,/);
    });

    it("no RSOP_GPO instance on a domain member: unknown; on a standalone server (domainRole 2, not joined): known", () => {
      const member = runShipped(host("server-2022", (s) => (s.groupPolicy.rsopQuery = "empty")), read);
      assert.deepEqual(member.reply!.policyVisibility, { state: "unknown", cause: "noGpoInstances", detail: "RSOP_GPO has no instances on a domain member (domainRole 3)" });
      const workgroup = runShipped(host("server-2022", (s) => ((s.groupPolicy.rsopQuery = "empty"), (s.os.domainRole = 2))), read);
      assert.deepEqual(workgroup.reply!.policyVisibility, { state: "known" });
    });
  });

  describe("a domain controller whose policy cannot be seen", () => {
    for (const [what, edit] of [
      ["RSoP logging off", (s: HostState) => (s.groupPolicy.rsopLogging = false)],
      ["RSoP access denied", (s: HostState) => (s.groupPolicy.rsopQuery = "accessDenied")],
      ["root\\rsop\\computer missing", (s: HostState) => (s.groupPolicy.rsopQuery = "namespaceMissing")],
    ] as const) {
      it(`${what}, the Default Domain Controllers Policy enforcing inbound signing: declaring server.RequireSecuritySignature false is refused (policyUnknown) before anything is written`, () => {
        const state = host("server-2025-dc", edit);
        const r = runShipped(state, apply({ server: { RequireSecuritySignature: false } }));
        assert.equal(r.exitCode, 2, r.stdout);
        assert.equal(r.reply!.kind, "policyUnknown");
        assert.deepEqual(r.reply!.unconfirmed, ["server.RequireSecuritySignature"]);
        assert.match(String(r.reply!.message), /cannot be read .*server\.RequireSecuritySignature.*nothing was changed/);
        assert.deepEqual(r.writes, []);
        assert.equal(state.record, undefined);
        assert.equal(state.server.RequireSecuritySignature, true);
      });
    }

    it("the refusal names the fix for its cause: RSoP logging back on; an administrator or WMI for a failed query", () => {
      const off = runShipped(host("server-2025-dc", (s) => (s.groupPolicy.rsopLogging = false)), apply({ server: { RequireSecuritySignature: false } }));
      assert.match(String(off.reply!.message), /turn RSoP logging back on/);
      const denied = runShipped(host("server-2025-dc", (s) => (s.groupPolicy.rsopQuery = "accessDenied")), apply({ server: { RequireSecuritySignature: false } }));
      assert.match(String(denied.reply!.message), /Access denied \(HRESULT 0x80041003.*elevated member of the local Administrators group/);
    });

    it("a declaration that changes no Security Option still applies (the value the host has, an Administrative Template)", () => {
      const state = host("server-2025-dc", (s) => (s.groupPolicy.rsopLogging = false));
      const r = runShipped(state, apply({ server: { RequireSecuritySignature: true, AuditClientDoesNotSupportSigning: true } }));
      assert.equal(r.exitCode, 0, r.stdout);
      assert.deepEqual(r.reply!.changed, ["server.AuditClientDoesNotSupportSigning"]);
    });

    it("a member server with RSoP logging off still applies (reported unknown, not refused)", () => {
      const state = host("server-2022", (s) => (s.groupPolicy.rsopLogging = false));
      const r = runShipped(state, apply({ server: { RequireSecuritySignature: true } }));
      assert.equal(r.exitCode, 0, r.stdout);
      assert.equal((r.reply!.policyVisibility as { state: string }).state, "unknown");
    });

    it("a restore leaves its Security Options as they are (an original written back could weaken it), restores the rest and removes the record", () => {
      // A domain controller whose signing was off before this resource required it.
      const state = host("server-2025-dc", (s) => (s.groupPolicy.securityOptions.server = {}));
      state.server.RequireSecuritySignature = false;
      const first = runShipped(state, apply({ server: { RequireSecuritySignature: true, AuditClientDoesNotSupportSigning: true } }));
      assert.equal(first.exitCode, 0, first.stdout);
      assert.deepEqual(JSON.parse(state.record!).originals.server, { RequireSecuritySignature: false, AuditClientDoesNotSupportSigning: false });
      state.groupPolicy.rsopLogging = false;
      const r = runShipped(state, { operation: "restore", ownerId: OWNER, ownerLabel: "urn:a", legacyOwners: [], originals: { client: {}, server: {} } });
      assert.equal(r.exitCode, 0, r.stdout);
      assert.deepEqual(r.reply!.changed, ["server.AuditClientDoesNotSupportSigning"]);
      assert.equal(r.reply!.restored, true);
      assert.equal(state.record, undefined);
      assert.equal(state.server.RequireSecuritySignature, true);
      assert.equal(state.server.AuditClientDoesNotSupportSigning, false);
    });
  });

  describe("MDM (Intune LocalPoliciesSecurityOptions)", () => {
    const mdm = (server: Record<string, boolean>, dataType?: "DWord" | "String") => (s: HostState) => (s.mdm = { securityOptions: { client: {}, server }, ...(dataType ? { dataType } : {}) });

    for (const dataType of ["DWord", "String"] as const) {
      it(`an MDM-set value (${dataType}) is policy enforcing that setting: a conflicting declaration is refused naming MDM, nothing written`, () => {
        const state = host("server-2022", mdm({ RequireSecuritySignature: true }, dataType));
        const r = runShipped(state, apply({ server: { RequireSecuritySignature: false } }));
        assert.equal(r.exitCode, 2, r.stdout);
        assert.equal(r.reply!.kind, "policyConflict");
        assert.deepEqual(r.reply!.conflicts, [
          { side: "server", name: "RequireSecuritySignature", declared: false, enforced: true, gpo: "MDM (Intune) policy LocalPoliciesSecurityOptions/MicrosoftNetworkServer_DigitallySignCommunicationsAlways", source: "mdm" },
        ]);
        assert.deepEqual(r.writes, []);
      });
    }

    it("a 32-bit PowerShell (WOW64) reads the PolicyManager in the 64-bit view: the MDM-set value is still refused, naming MDM", () => {
      const state = host("server-2022", mdm({ RequireSecuritySignature: true }));
      state.process32 = true;
      const r = runShipped(state, apply({ server: { RequireSecuritySignature: false } }));
      assert.equal(r.exitCode, 2, r.stdout);
      assert.equal(r.reply!.kind, "policyConflict");
      assert.equal((r.reply!.conflicts as Array<{ source: string }>)[0].source, "mdm");
      assert.deepEqual(r.writes, []);
    });

    it("reported in the reply's policy; the if-client-agrees node too", () => {
      const state = host("win11-24h2-pro", mdm({ EnableSecuritySignature: false }));
      const r = runShipped(state, read);
      assert.deepEqual((r.reply!.policy as { server: unknown }).server, {
        EnableSecuritySignature: { value: false, gpo: "MDM (Intune) policy LocalPoliciesSecurityOptions/MicrosoftNetworkServer_DigitallySignCommunicationsIfClientAgrees", source: "mdm" },
      });
    });

    it("a GPO and MDM setting one option to different values: either may win, so every declaration conflicts with one", () => {
      const state = host("server-2025-dc", mdm({ RequireSecuritySignature: false }));
      for (const value of [true, false]) {
        const r = runShipped(state, apply({ server: { RequireSecuritySignature: value } }));
        assert.equal(r.reply!.kind, "policyConflict", r.stdout);
        assert.equal((r.reply!.conflicts as unknown[]).length, 1);
      }
    });

    it("a restore leaves an MDM-set setting to MDM", () => {
      const state = host("server-2022");
      runShipped(state, apply({ server: { RequireSecuritySignature: true } }));
      state.mdm = { securityOptions: { client: {}, server: { RequireSecuritySignature: true } } };
      const r = runShipped(state, { operation: "restore", ownerId: OWNER, ownerLabel: "urn:a", legacyOwners: [], originals: { client: {}, server: {} } });
      assert.equal(r.exitCode, 0, r.stdout);
      assert.deepEqual(r.reply!.changed, []);
      assert.equal(state.server.RequireSecuritySignature, true);
    });
  });
});
