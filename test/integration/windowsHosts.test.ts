// The hosts real fleets run, against the stricter model: release defaults, domain controllers'
// signing from their GPO, Group Policy read before any write, Windows PowerShell 2.0,
// Constrained Language Mode, broken WMI, and settings a release lacks; over SSH and WinRM.
import assert from "node:assert/strict";
import * as ops from "../../provider/operations";
import type { PolicyOutputs } from "../../provider/domain/policy";
import { setDiagnosticSink } from "../../provider/engineLog";
import { SimulatedFleet } from "../simhost/fleet";
import { PresetName } from "../simhost/model";
import { failure } from "./hostFailure";

describe("Windows hosts", () => {
  const HOSTS: PresetName[] = ["server-2016", "server-2019-dc", "server-2022", "server-2022-dc", "win10-22h2-pro", "win11-23h2-pro", "server-2008r2", "server-2008r2-stock"];
  const TRANSPORTS = ["ssh", "winrm"] as const;
  type Transport = (typeof TRANSPORTS)[number];

  let fleet: SimulatedFleet;
  before(async () => {
    fleet = await SimulatedFleet.start(HOSTS.map((preset) => ({ name: preset, preset })), { winrm: true });
  });
  after(async () => {
    await fleet?.stop();
  });

  async function inputs(host: PresetName, transport: Transport, rest: Record<string, unknown>) {
    const r = await ops.check({}, { connection: fleet.connection(host, transport === "winrm" ? "winrm" : "password"), onDelete: "restore", ...rest });
    assert.deepEqual(r.failures, undefined, JSON.stringify(r.failures));
    return r.inputs as Record<string, unknown>;
  }

  for (const transport of TRANSPORTS) {
    describe(`hosts as fleets run them, over ${transport}`, () => {
      it("a domain controller's inbound signing comes from the Default Domain Controllers Policy, and is reported as such", async () => {
        fleet.reset("server-2022-dc", "server-2022-dc");
        const created = await ops.create(await inputs("server-2022-dc", transport, { server: { requireSigning: true } }));
        const outs = created.outs as PolicyOutputs;
        assert.equal(outs.observed.server.requireSigning, true);
        assert.deepEqual(outs.policyManaged?.server.requireSigning, { value: true, gpo: "Default Domain Controllers Policy" });
        assert.equal(fleet.state("server-2022-dc").counters.writes, 0);
        await ops.delete(created.id, outs);
      });

      it("turning off a domain controller's inbound signing is refused before any write, naming its GPO", async () => {
        fleet.reset("server-2019-dc", "server-2019-dc");
        const e = await failure(ops.create(await inputs("server-2019-dc", transport, { server: { requireSigning: false }, acknowledgeInsecureSettings: true })));
        assert.equal(e.kind, "policyConflict");
        assert.match(e.message, /server\.requireSigning is declared false, but Group Policy "Default Domain Controllers Policy" enforces true/);
        assert.equal(fleet.state("server-2019-dc").counters.writes, 0);
        assert.equal(fleet.state("server-2019-dc").record, undefined);
        // An administrator's local change sticks until the DC restarts; the policy then wins.
        fleet.change("server-2019-dc", (s) => (s.server.RequireSecuritySignature = false));
        assert.equal(fleet.state("server-2019-dc").server.RequireSecuritySignature, false);
        fleet.reboot("server-2019-dc");
        assert.equal(fleet.state("server-2019-dc").server.RequireSecuritySignature, true);
      });

      it("a domain controller whose RSoP logging is turned off: turning off its inbound signing is refused (policyUnknown) before any write, naming the cause and the fix; the unseen policy still applies", async () => {
        fleet.reset("server-2019-dc", "server-2019-dc");
        fleet.change("server-2019-dc", (s) => (s.groupPolicy.rsopLogging = false));
        const e = await failure(ops.create(await inputs("server-2019-dc", transport, { server: { requireSigning: false }, acknowledgeInsecureSettings: true })));
        assert.equal(e.kind, "policyUnknown");
        assert.match(e.message, /this domain controller's Group Policy cannot be seen: RSoP logging is turned off \(HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\System RSoPLogging is 0\); a policy such as the Default Domain Controllers Policy may enforce server\.requireSigning/);
        assert.match(e.message, /turn RSoP logging back on/);
        assert.equal(fleet.state("server-2019-dc").counters.writes, 0);
        assert.equal(fleet.state("server-2019-dc").record, undefined);
        fleet.change("server-2019-dc", (s) => (s.server.RequireSecuritySignature = false));
        fleet.refreshPolicy("server-2019-dc");
        assert.equal(fleet.state("server-2019-dc").server.RequireSecuritySignature, true, "the policy RSoP does not show still applies");
      });

      it("a domain controller whose RSoP query is denied: up that changes nothing, refresh and destroy still work, and policyVisibility says why it is unknown", async () => {
        fleet.reset("server-2022-dc", "server-2022-dc");
        fleet.change("server-2022-dc", (s) => (s.groupPolicy.rsopQuery = "accessDenied"));
        const said: string[] = [];
        const previous = setDiagnosticSink((d) => void said.push(`${d.severity}: ${d.message}`));
        const created = await ops.create(await inputs("server-2022-dc", transport, { server: { requireSigning: true } })).finally(() => setDiagnosticSink(previous));
        const host = String((created.outs as PolicyOutputs).connection.host);
        // Information, not a warning: policy is merely unknown, and nothing here is refused.
        assert.deepEqual(
          said.filter((m) => m.includes("Group Policy")),
          [
            `info: ${host}: Group Policy on this host cannot be seen (the RSoP query (root\\rsop\\computer) failed: Access denied (HRESULT 0x80041003,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand)): a policy the provider cannot see may set a declared setting back at its next refresh`,
          ],
        );
        const outs = created.outs as PolicyOutputs;
        assert.deepEqual(outs.policyVisibility, {
          state: "unknown",
          reason: "the RSoP query (root\\rsop\\computer) failed: Access denied (HRESULT 0x80041003,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand)",
        });
        assert.deepEqual(outs.policyManaged, { client: {}, server: {} });
        const read = await ops.read(created.id, outs);
        assert.equal((read.props as PolicyOutputs).policyVisibility?.state, "unknown");
        await ops.delete(created.id, outs);
        assert.equal(fleet.state("server-2022-dc").record, undefined);
        assert.equal(fleet.state("server-2022-dc").server.RequireSecuritySignature, true);
      });

      it("destroy (restore) of a domain controller whose policy cannot be seen leaves its Security Options as they are, restores the rest, and says which it left", async () => {
        fleet.reset("server-2022-dc", "server-2022-dc");
        // A domain controller whose inbound signing no policy set, off before this resource.
        fleet.change("server-2022-dc", (s) => {
          s.groupPolicy.securityOptions.server = {};
          s.server.RequireSecuritySignature = false;
          s.server.EnableSecuritySignature = false;
        });
        const created = await ops.create(await inputs("server-2022-dc", transport, { server: { requireSigning: true, enableSigning: true } }));
        fleet.change("server-2022-dc", (s) => (s.groupPolicy.rsopLogging = false));
        const said: string[] = [];
        const previous = setDiagnosticSink((d) => void said.push(`${d.severity}: ${d.message}`));
        await ops.delete(created.id, created.outs as PolicyOutputs).finally(() => setDiagnosticSink(previous));
        assert.equal(fleet.state("server-2022-dc").server.RequireSecuritySignature, true);
        assert.equal(fleet.state("server-2022-dc").record, undefined);
        assert.ok(
          said.some((m) => /^info: [^ ]+: destroy left /.test(m) && m.includes("destroy left server.requireSigning (original false, left true), server.enableSigning (original false, left true) as it is: this domain controller's Group Policy cannot be seen (RSoP logging is turned off")),
          said.join("\n"),
        );
      });

      it("a Security Option MDM (Intune) pushes is refused like Group Policy, naming MDM; an MDM sync puts a local change back", async () => {
        fleet.reset("server-2022", "server-2022");
        fleet.change("server-2022", (s) => (s.mdm = { securityOptions: { client: { RequireSecuritySignature: true }, server: {} } }));
        fleet.refreshPolicy("server-2022");
        const e = await failure(ops.create(await inputs("server-2022", transport, { client: { requireSigning: false }, acknowledgeInsecureSettings: true })));
        assert.equal(e.kind, "policyConflict");
        assert.match(e.message, /client\.requireSigning is declared false, but MDM \(Intune\) policy LocalPoliciesSecurityOptions\/MicrosoftNetworkClient_DigitallySignCommunicationsAlways enforces true/);
        assert.match(e.message, /Intune device configuration/);
        assert.equal(fleet.state("server-2022").counters.writes, 0);
        fleet.change("server-2022", (s) => (s.client.RequireSecuritySignature = false));
        fleet.refreshPolicy("server-2022");
        assert.equal(fleet.state("server-2022").client.RequireSecuritySignature, true);
      });

      it("a local security policy (no domain) is read like a GPO", async () => {
        fleet.reset("win10-22h2-pro", "win10-22h2-pro");
        fleet.change("win10-22h2-pro", (s) => {
          s.groupPolicy.gpo = "Local Group Policy";
          s.groupPolicy.securityOptions.client = { RequireSecuritySignature: false };
        });
        const e = await failure(ops.create(await inputs("win10-22h2-pro", transport, { client: { requireSigning: true } })));
        assert.match(e.message, /client\.requireSigning is declared true, but Group Policy "Local Group Policy" enforces false/);
      });

      it("a local change sticks until Group Policy is applied again, and refresh then says the policy set it back", async () => {
        fleet.reset("server-2022", "server-2022");
        const created = await ops.create(await inputs("server-2022", transport, { server: { requireSigning: true } }));
        fleet.change("server-2022", (s) => {
          s.groupPolicy.gpo = "Contoso File Servers";
          s.groupPolicy.securityOptions.server = { RequireSecuritySignature: false };
        });
        const stuck = await ops.read(created.id, created.outs);
        assert.equal((stuck.props as PolicyOutputs).observed.server.requireSigning, true, "the policy has not been applied yet");
        assert.deepEqual((stuck.props as PolicyOutputs).policyDrift, []);
        fleet.refreshPolicy("server-2022");
        const reverted = await ops.read(created.id, created.outs);
        assert.deepEqual((reverted.props as PolicyOutputs).policyDrift, ['server.requireSigning: Group Policy "Contoso File Servers" set it back to false']);
      });

      it("Windows PowerShell 2.0 (a stock Windows Server 2008 R2) gets a typed answer naming what to install", async () => {
        const e = await failure(ops.create(await inputs("server-2008r2-stock", transport, { server: { requireSigning: true } })));
        assert.equal(e.kind, "unsupportedOs");
        assert.match(e.message, /Windows PowerShell 2\.0 is too old: install Windows Management Framework 5\.1/);
      });

      it("Constrained Language Mode (AppLocker or WDAC) gets a typed answer that explains it", async () => {
        fleet.reset("server-2016", "server-2016");
        fleet.change("server-2016", (s) => (s.languageMode = "ConstrainedLanguage"));
        const e = await failure(ops.create(await inputs("server-2016", transport, { server: { requireSigning: true } })));
        assert.equal(e.kind, "constrainedLanguage");
        assert.match(e.message, /ConstrainedLanguage mode/);
        assert.match(e.message, /application control policy/);
        assert.equal(fleet.state("server-2016").counters.writes, 0);
      });

      it("broken WMI gets a typed reply, not a PowerShell crash", async () => {
        fleet.reset("server-2016", "server-2016");
        fleet.change("server-2016", (s) => (s.faults.brokenWmi = true));
        const e = await failure(ops.create(await inputs("server-2016", transport, { server: { requireSigning: true } })));
        assert.equal(e.kind, "failed");
        assert.match(e.message, /could not read the host's facts.*Win32_ComputerSystem/);
      });

      it("a setting one side lacks is refused before the other side is changed", async () => {
        fleet.reset("win11-23h2-pro", "win11-23h2-pro");
        const e = await failure(
          ops.create(await inputs("win11-23h2-pro", transport, { client: { requireSigning: true }, server: { auditClientDoesNotSupportSigning: true } })),
        );
        assert.equal(e.kind, "unsupportedSetting");
        assert.equal(fleet.state("win11-23h2-pro").client.RequireSecuritySignature, false);
        assert.equal(fleet.state("win11-23h2-pro").record, undefined);
      });

      it("the registry fallback (no SmbShare module) reports insecure guest logons as absent and refuses to write them", async () => {
        fleet.reset("server-2008r2", "server-2008r2");
        const read = await ops.create(await inputs("server-2008r2", transport, { server: { requireSigning: true } }));
        assert.equal((read.outs as PolicyOutputs).observed.client.enableInsecureGuestLogons, null);
        await ops.delete(read.id, read.outs as PolicyOutputs);
        const e = await failure(ops.create(await inputs("server-2008r2", transport, { client: { enableInsecureGuestLogons: false } })));
        assert.equal(e.kind, "unsupportedSetting");
        assert.equal(fleet.state("server-2008r2").client.EnableInsecureGuestLogons, undefined, "AllowInsecureGuestAuth was not written");
      });
    });
  }

  describe("release defaults the model starts from", () => {
    it("match the documented defaults of each release (docs/windows-model.md)", () => {
      const expect: Array<[PresetName, boolean, boolean, boolean | undefined]> = [
        // preset, client RequireSecuritySignature, server RequireSecuritySignature, EnableInsecureGuestLogons
        ["server-2016", false, false, true],
        ["server-2019-dc", false, true, false],
        ["server-2022", false, false, false],
        ["server-2022-dc", false, true, false],
        ["win10-22h2-pro", false, false, true],
        ["win11-23h2-pro", false, false, true],
        ["server-2008r2", false, false, undefined],
      ];
      for (const [preset, client, server, guest] of expect) {
        const s = fleet.reset(preset, preset);
        assert.deepEqual([s.client.RequireSecuritySignature, s.server.RequireSecuritySignature, s.client.EnableInsecureGuestLogons], [client, server, guest], preset);
      }
    });
  });
});
