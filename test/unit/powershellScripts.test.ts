// The shipped scripts run end to end through the PowerShell interpreter (test/simhost/powershell/)
// on a stub host of this file's own, built over the model's HostState (test/simhost/model.ts):
// bootstrap.ps1 as powershell.exe -EncodedCommand runs it, smb-signing.ps1 from stdin. Its replies
// are compared with the model's TypeScript twin (runSigningScript) on the same hosts; the
// differences that remain are the ones docs/windows-model.md lists. PowerShell 2.0 and Constrained
// Language Mode sessions get bootstrap.ps1's typed errors through the same interpreter.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SCRIPTS_DIR } from "../../provider/host/protocol";
import { HostState, PresetName, Side, newHostState, runSigningScript } from "../simhost/model";
import { CommandError, ErrorSpec, HostCommand, PSValue, PowerShellHost, array, customObject, hostObject, int32 } from "../simhost/powershell/host";
import { initParser, runPowerShellSync } from "../simhost/powershell/run";
import { PSDateTime, PSHashtable } from "../simhost/powershell/values";
import { toStr } from "../simhost/powershell/convert";

const bootstrap = fs.readFileSync(path.join(SCRIPTS_DIR, "bootstrap.ps1"), "utf8");
const signing = fs.readFileSync(path.join(SCRIPTS_DIR, "smb-signing.ps1"), "utf8");

const SIDES: Side[] = ["client", "server"];
const PARAMETERS: Record<Side, string> = {
  client: "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters",
  server: "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Parameters",
};
const POLICIES: Record<Side, string> = {
  client: "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\LanmanWorkstation",
  server: "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\LanmanServer",
};
const TEMPLATE_VALUE: Record<string, string> = { EnableInsecureGuestLogons: "AllowInsecureGuestAuth" };
const RECORD_KEY = "HKLM:\\SOFTWARE\\pulumi-smb-signing";
const CURRENT_VERSION = "HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";

const denied = (fqid: string): ErrorSpec => ({ message: "Requested registry access is not allowed.", category: "PermissionDenied", fullyQualifiedErrorId: fqid, exceptionType: "System.Security.SecurityException" });
const pathNotFound = (p: string, command: string): ErrorSpec => ({
  message: `Cannot find path '${p.replace(/^HKLM:/i, "HKEY_LOCAL_MACHINE")}' because it does not exist.`,
  category: "ObjectNotFound",
  fullyQualifiedErrorId: `PathNotFound,Microsoft.PowerShell.Commands.${command}`,
  exceptionType: "System.Management.Automation.ItemNotFoundException",
  targetObject: p,
});

/** A stub Windows over a HostState: the commands smb-signing.ps1 calls, as this test reads their documentation. */
function stubHost(state: HostState, session: Partial<PowerShellHost["session"]> = {}): PowerShellHost {
  const same = (a: unknown, b: string) => toStr(a as PSValue).toLowerCase() === b.toLowerCase();
  const keyValues = (p: string): Record<string, PSValue> | undefined => {
    if (same(p, CURRENT_VERSION)) {
      const [build, ubr] = state.os.build.split(".");
      return { ProductName: state.os.productName, EditionID: state.os.edition, DisplayVersion: state.os.displayVersion, CurrentBuildNumber: build, UBR: int32(Number(ubr)) };
    }
    for (const side of SIDES) {
      if (same(p, PARAMETERS[side])) {
        const v: Record<string, PSValue> = {};
        for (const name of ["RequireSecuritySignature", "EnableSecuritySignature"]) if (name in state[side]) v[name] = int32(state[side][name] ? 1 : 0);
        return v;
      }
      if (same(p, POLICIES[side])) {
        const t = state.groupPolicy.administrativeTemplates[side];
        if (Object.keys(t).length === 0) return undefined;
        return Object.fromEntries(Object.entries(t).map(([k, v]) => [TEMPLATE_VALUE[k] ?? k, int32(v ? 1 : 0)]));
      }
    }
    if (same(p, RECORD_KEY)) return state.record === undefined ? (state.counters.recordWrites ? {} : undefined) : { OriginalSettings: state.record };
    return undefined;
  };
  const settings = (side: Side) => {
    if (state.faults.brokenWmi) throw new CommandError({ message: "Invalid class ", category: "MetadataError", fullyQualifiedErrorId: "HRESULT 0x80041010" });
    return hostObject(`Microsoft.Management.Infrastructure.CimInstance#ROOT/Microsoft/Windows/SMB/MSFT_Smb${side === "client" ? "Client" : "Server"}Configuration`, { ...state[side] });
  };
  const setSettings = (side: Side, name: string): HostCommand => ({
    parameters: { ...Object.fromEntries(Object.keys(state[side]).map((k) => [k, {}])), Force: { switch: true } },
    supportsShouldProcess: true,
    run(call) {
      if (state.faults.nonAdmin) throw new CommandError({ message: "Access denied", category: "PermissionDenied", fullyQualifiedErrorId: `Windows System Error 5,${name}` });
      if (state.faults.failingCmdlet === name) throw new CommandError({ message: "The service has not been started.", category: "NotSpecified", fullyQualifiedErrorId: `Windows System Error 1062,${name}` });
      for (const [k, v] of Object.entries(call.parameters)) if (k !== "Force" && k !== "Confirm") state[side][k] = v === true;
      Object.assign(state[side], state.faults.revertingAgent?.[side]);
    },
  });
  const gp = state.groupPolicy;
  const gpoId = "{31B2F340-016D-11D2-945F-00C04FB984F9}";
  const commands: Record<string, HostCommand> = {
    "Get-ItemProperty": {
      parameters: { Path: { position: 0 }, Name: { position: 1 } },
      run(call) {
        const p = toStr(call.parameters.Path);
        const values = keyValues(p);
        if (!values) return call.writeError(pathNotFound(p, "GetItemPropertyCommand"));
        const name = call.parameters.Name;
        if (name !== undefined && !(toStr(name) in values)) {
          return call.writeError({ message: `Property ${toStr(name)} does not exist at path ${p.replace(/^HKLM:/i, "HKEY_LOCAL_MACHINE")}.`, category: "InvalidArgument", fullyQualifiedErrorId: "System.Management.Automation.PSArgumentException,Microsoft.PowerShell.Commands.GetItemPropertyCommand" });
        }
        return customObject(name === undefined ? values : { [toStr(name)]: values[toStr(name)] });
      },
    },
    "Get-CimInstance": {
      parameters: { ClassName: { position: 0 }, Namespace: {}, Filter: {} },
      run(call) {
        const cls = toStr(call.parameters.ClassName);
        if (cls === "Win32_ComputerSystem") {
          if (state.faults.brokenWmi) throw new CommandError({ message: 'Invalid class "Win32_ComputerSystem"', category: "MetadataError", fullyQualifiedErrorId: "HRESULT 0x80041010,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand" });
          return hostObject("Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_ComputerSystem", { DomainRole: int32(state.os.domainRole) });
        }
        if (!gp.rsopLogging || !gp.gpo) return [];
        if (cls === "RSOP_GPO") return hostObject("RSOP_GPO", { id: gpoId, name: gp.gpo });
        if (cls === "RSOP_RegistryValue") {
          return SIDES.flatMap((side) =>
            Object.entries(gp.securityOptions[side]).map(([n, v]) =>
              hostObject("RSOP_RegistryValue", { Path: `MACHINE\\System\\CurrentControlSet\\Services\\Lanman${side === "client" ? "Workstation" : "Server"}\\Parameters\\${n}`, Data: `4,${v ? 1 : 0}`, GPOID: gpoId, precedence: int32(1) }),
            ),
          );
        }
        if (cls === "RSOP_RegistryPolicySetting") {
          return SIDES.flatMap((side) =>
            Object.keys(gp.administrativeTemplates[side]).map((n) => hostObject("RSOP_RegistryPolicySetting", { registryKey: POLICIES[side].slice(6), valueName: TEMPLATE_VALUE[n] ?? n, GPOID: gpoId, precedence: int32(1) })),
          );
        }
        return [];
      },
    },
    "Get-WinEvent": {
      parameters: { ListLog: {}, FilterHashtable: {}, MaxEvents: {} },
      run(call) {
        const sideOf = (log: string): Side | undefined => (log === "Microsoft-Windows-SMBServer/Audit" ? "server" : log === "Microsoft-Windows-SMBClient/Audit" ? "client" : undefined);
        if ("ListLog" in call.parameters) {
          const side = sideOf(toStr(call.parameters.ListLog));
          const log = side && state.auditLogs[side];
          if (!log) return call.writeError({ message: `There is not an event log on the localhost computer that matches "${toStr(call.parameters.ListLog)}".`, category: "ObjectNotFound", fullyQualifiedErrorId: "NoMatchingLogsFound,Microsoft.PowerShell.Commands.GetWinEventCommand" });
          return hostObject("System.Diagnostics.Eventing.Reader.EventLogConfiguration", { LogName: call.parameters.ListLog, IsEnabled: log.enabled });
        }
        const filter = call.parameters.FilterHashtable as PSHashtable;
        const side = sideOf(toStr(filter.get("LogName")))!;
        const ids = (filter.get("Id") as { items: PSValue[] }).items.map((i) => Number(toStr(i)));
        const start = (filter.get("StartTime") as PSDateTime).epochMs;
        const max = Number(toStr(call.parameters.MaxEvents));
        const logged = state.auditLogs[side]!.events
          .filter((e) => ids.includes(e.id) && Date.parse(e.timeCreated) >= start)
          .sort((a, b) => Date.parse(b.timeCreated) - Date.parse(a.timeCreated))
          .slice(0, max);
        if (logged.length === 0) return call.writeError({ message: "No events were found that match the specified selection criteria.", category: "ObjectNotFound", fullyQualifiedErrorId: "NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand" });
        return logged.map((e) =>
          hostObject("System.Diagnostics.Eventing.Reader.EventLogRecord", {
            Id: int32(e.id),
            TimeCreated: new PSDateTime(Date.parse(e.timeCreated), "Local", 60),
            Properties: array(e.properties.map((v) => hostObject("System.Diagnostics.Eventing.Reader.EventProperty", { Value: typeof v === "number" ? int32(v) : v }))),
          }),
        );
      },
    },
    "Test-Path": {
      parameters: { Path: { position: 0 } },
      run: (call) => keyValues(toStr(call.parameters.Path)) !== undefined,
    },
    "New-Item": {
      parameters: { Path: { position: 0 }, Force: { switch: true } },
      supportsShouldProcess: true,
      run(call) {
        if (state.faults.nonAdmin) return call.writeError(denied("System.Security.SecurityException,Microsoft.PowerShell.Commands.NewItemCommand"));
        return hostObject("Microsoft.Win32.RegistryKey", { Name: toStr(call.parameters.Path) });
      },
    },
    "Set-ItemProperty": {
      parameters: { Path: { position: 0 }, Name: { position: 1 }, Value: { position: 2 }, Type: {}, Force: { switch: true } },
      supportsShouldProcess: true,
      run(call) {
        const p = toStr(call.parameters.Path);
        if (state.faults.nonAdmin) return call.writeError(denied("System.Security.SecurityException,Microsoft.PowerShell.Commands.SetItemPropertyCommand"));
        if (same(p, RECORD_KEY)) {
          state.record = toStr(call.parameters.Value);
          state.counters.recordWrites = (state.counters.recordWrites ?? 0) + 1;
          return;
        }
        for (const side of SIDES) if (same(p, PARAMETERS[side])) state[side][toStr(call.parameters.Name)] = toStr(call.parameters.Value) !== "0";
      },
    },
    "Remove-Item": {
      parameters: { Path: { position: 0 }, Recurse: { switch: true }, Force: { switch: true } },
      supportsShouldProcess: true,
      run() {
        delete state.record;
      },
    },
  };
  if (state.cmdlets) {
    commands["Get-SmbClientConfiguration"] = { parameters: {}, run: () => settings("client") };
    commands["Get-SmbServerConfiguration"] = { parameters: {}, run: () => settings("server") };
    commands["Set-SmbClientConfiguration"] = setSettings("client", "Set-SmbClientConfiguration");
    commands["Set-SmbServerConfiguration"] = setSettings("server", "Set-SmbServerConfiguration");
  }
  return {
    session: { psVersion: state.powershellVersion === "2.0" ? "2.0" : "5.1.17763.6414", languageMode: state.languageMode, now: () => new Date(), ...session },
    commands,
  };
}

function runScript(state: HostState, request: unknown) {
  const stdin = JSON.stringify({ script: signing, request: typeof request === "string" ? request : JSON.stringify(request) });
  return runPowerShellSync({ script: bootstrap, stdin, host: stubHost(state) });
}

/** Timestamps compare as instants (the script writes seven fractional digits, the twin three). */
function normalise(value: unknown): unknown {
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)) return "<time>";
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  return value;
}

const OWNER = "0b9c7a52-5f7e-4b8a-9a51-2f8d3c1e6a10";
const OTHER = "7d1e2f30-4a5b-4c6d-8e9f-a0b1c2d3e4f5";

describe("the shipped scripts through the PowerShell interpreter", () => {
  before(async () => {
    await initParser();
  });

  it("answers a read request with the host's settings (bootstrap.ps1 + smb-signing.ps1)", () => {
    const state = newHostState("server-2025");
    const r = runScript(state, { operation: "read", ownerId: "", ownerLabel: "urn:x", legacyOwners: [] });
    assert.equal(r.stderr, "");
    assert.equal(r.exitCode, 0, r.stdout);
    const reply = JSON.parse(r.stdout);
    assert.equal(reply.status, "ok");
    assert.equal(reply.source, "cmdlet");
    assert.deepEqual(reply.before, { client: state.client, server: state.server });
    assert.equal(reply.host.build, "26100.4061");
    assert.equal(reply.record, null);
    assert.deepEqual(reply.changed, []);
  });

  it("applies, writing the record first, then restores and removes it", () => {
    const state = newHostState("win10-22h2-pro");
    const apply = runScript(state, { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", client: { RequireSecuritySignature: true }, server: { RequireSecuritySignature: true } });
    assert.equal(apply.exitCode, 0, apply.stdout + apply.stderr);
    const reply = JSON.parse(apply.stdout);
    assert.deepEqual(reply.changed, ["client.RequireSecuritySignature", "server.RequireSecuritySignature"]);
    assert.equal(state.client.RequireSecuritySignature, true);
    const record = JSON.parse(state.record!);
    assert.deepEqual(record.originals, { client: { RequireSecuritySignature: false }, server: { RequireSecuritySignature: false } });
    assert.match(record.claimedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    const restore = runScript(state, { operation: "restore", ownerId: OWNER, ownerLabel: "urn:a" });
    assert.equal(restore.exitCode, 0, restore.stdout);
    assert.equal(JSON.parse(restore.stdout).restored, true);
    assert.equal(state.record, undefined);
    assert.equal(state.client.RequireSecuritySignature, false);
  });

  it("answers PowerShell 2.0 and Constrained Language Mode with bootstrap.ps1's typed errors", () => {
    const old = newHostState("server-2008r2-stock");
    const r1 = runScript(old, { operation: "read" });
    assert.equal(r1.exitCode, 2);
    assert.deepEqual(JSON.parse(r1.stdout), { status: "error", kind: "unsupportedOs", message: "Windows PowerShell 2.0 is too old: install Windows Management Framework 5.1" });
    assert.ok(r1.stdout.endsWith("}\r\n"));
    const locked = { ...newHostState("server-2022"), languageMode: "ConstrainedLanguage" as const };
    const r2 = runScript(locked, { operation: "read" });
    assert.equal(r2.exitCode, 2);
    assert.deepEqual(JSON.parse(r2.stdout), { status: "error", kind: "constrainedLanguage", message: "PowerShell runs in ConstrainedLanguage mode (AppLocker or WDAC)" });
  });

  it("an empty request fails to bind -RequestJson (the script's Mandatory [string]): exit 1, no reply", () => {
    const r = runScript(newHostState("server-2022"), "");
    assert.equal(r.exitCode, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /Cannot bind argument to parameter 'RequestJson' because it is an empty string/);
  });

  // The same requests on the same hosts through the interpreter and through the twin.
  // Where the twin's reply is not the script's, `twinDiffers` turns the twin's reply into the
  // script's; each is a difference of the twin, reported, which the twin's removal settles.
  const cases: Array<{ name: string; preset: PresetName; request: unknown; prepare?: (s: HostState) => void; twinDiffers?: (reply: Record<string, unknown>) => void }> = [
    { name: "read", preset: "win11-24h2-enterprise", request: { operation: "read", ownerId: "", ownerLabel: "urn:r" } },
    { name: "read on the registry (no SmbShare module)", preset: "server-2008r2", request: { operation: "read", ownerId: "", ownerLabel: "urn:r" } },
    { name: "apply", preset: "server-2022", request: { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", client: { RequireSecuritySignature: true, EnableSecuritySignature: true } } },
    { name: "apply on the registry", preset: "server-2008r2", request: { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", server: { RequireSecuritySignature: true } } },
    { name: "apply against the DC policy", preset: "server-2022-dc", request: { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", server: { RequireSecuritySignature: false } } },
    { name: "apply of an unknown setting", preset: "server-2022", request: { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", client: { Nope: true } } },
    { name: "apply of a setting the host lacks", preset: "server-2022", request: { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", client: { AuditInsecureGuestLogon: true } } },
    { name: "apply without an owner", preset: "server-2022", request: { operation: "apply", ownerId: "", ownerLabel: "urn:a" } },
    { name: "an uppercase owner id", preset: "server-2022", request: { operation: "read", ownerId: OWNER.toUpperCase(), ownerLabel: "urn:a" } },
    { name: "an unknown operation", preset: "server-2022", request: { operation: "nope" } },
    { name: "auditDays out of range", preset: "server-2022", request: { operation: "read", auditDays: 91 } },
    { name: "auditDays not an integer", preset: "server-2022", request: { operation: "read", auditDays: 1.5 } },
    { name: "apply owned elsewhere", preset: "server-2022", request: { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", client: { RequireSecuritySignature: true } }, prepare: (s) => (s.record = JSON.stringify({ version: 2, ownerId: OTHER, ownerLabel: "urn:other", claimedAt: "2025-01-01T00:00:00.0000000Z", originals: { client: {}, server: {} } })),
      // The script's message also names the record's key.
      twinDiffers: (r) => (r.message += " (record HKLM:\\SOFTWARE\\pulumi-smb-signing)") },
    { name: "a bad record", preset: "server-2022", request: { operation: "read", ownerId: OWNER, ownerLabel: "urn:a" }, prepare: (s) => (s.record = "{not json"),
      // The script's message goes on with how to start afresh.
      twinDiffers: (r) => (r.message += " (Remove-Item -Path HKLM:\\SOFTWARE\\pulumi-smb-signing) to let the provider start afresh") },
    { name: "release", preset: "server-2022", request: { operation: "release", ownerId: OWNER, ownerLabel: "urn:a" }, prepare: (s) => (s.record = JSON.stringify({ version: 2, ownerId: OWNER, ownerLabel: "urn:a", claimedAt: "2025-01-01T00:00:00.0000000Z", originals: { client: { RequireSecuritySignature: false }, server: {} } })) },
    { name: "a format-1 record of a legacy owner", preset: "server-2022", request: { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", legacyOwners: ["p/s/r"], client: { RequireSecuritySignature: true } }, prepare: (s) => (s.record = JSON.stringify({ version: 1, owner: "p/s/r", originals: { client: { RequireSecuritySignature: false }, server: {} } })) },
    { name: "non-admin apply", preset: "server-2022", request: { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", client: { RequireSecuritySignature: true } }, prepare: (s) => (s.faults.nonAdmin = true),
      // The script's catch-all error reply carries the policy it read before the failure.
      twinDiffers: (r) => (r.policy = { client: {}, server: {} }) },
    { name: "a failing Set-SmbServerConfiguration", preset: "server-2022", request: { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", server: { RequireSecuritySignature: true } }, prepare: (s) => (s.faults.failingCmdlet = "Set-SmbServerConfiguration"),
      twinDiffers: (r) => (r.policy = { client: {}, server: {} }) },
    { name: "broken WMI", preset: "server-2022", request: { operation: "read", ownerId: "", ownerLabel: "urn:a" }, prepare: (s) => (s.faults.brokenWmi = true) },
    { name: "audit with peers", preset: "server-2025", request: { operation: "read", ownerId: "", ownerLabel: "urn:a", auditDays: 7, auditMaxEvents: 2 }, prepare: (s) => {
      const at = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
      s.auditLogs.server!.events.push({ id: 3021, timeCreated: at(1), properties: ["alice", "\\\\10.0.4.17", 0x311] }, { id: 3027, timeCreated: at(2), properties: ["10.0.4.18", "bob"] }, { id: 3021, timeCreated: at(3), properties: ["alice", "\\\\10.0.4.17", 0x311] });
      s.auditLogs.client!.enabled = false;
    } },
    { name: "restore of a policy-enforced setting", preset: "server-2022-dc", request: { operation: "restore", ownerId: OWNER, ownerLabel: "urn:a", originals: { server: { RequireSecuritySignature: false }, client: { RequireSecuritySignature: true } } } },
  ];
  for (const c of cases) {
    it(`replies as the twin does: ${c.name}`, () => {
      const mine = newHostState(c.preset);
      const twins = newHostState(c.preset);
      c.prepare?.(mine);
      c.prepare?.(twins);
      const r = runScript(mine, c.request);
      const expected = runSigningScript(twins, typeof c.request === "string" ? c.request : JSON.stringify(c.request));
      c.twinDiffers?.(expected.reply);
      assert.equal(r.stderr, "", r.stderr);
      const reply = JSON.parse(r.stdout);
      assert.deepEqual(normalise(reply), normalise(expected.reply));
      assert.equal(r.exitCode, expected.exitCode);
      assert.deepEqual({ client: mine.client, server: mine.server }, { client: twins.client, server: twins.server });
      const parsed = (text: string | undefined) => {
        try {
          return text === undefined ? undefined : JSON.parse(text);
        } catch {
          return text;
        }
      };
      assert.deepEqual(normalise(parsed(mine.record)), normalise(parsed(twins.record)));
    });
  }

  describe("where the twin does not do what the script does", () => {
    const both = (preset: PresetName, request: unknown) => {
      const mine = newHostState(preset);
      const r = runScript(mine, request);
      return { script: JSON.parse(r.stdout), exitCode: r.exitCode, state: mine, twin: runSigningScript(newHostState(preset), JSON.stringify(request)).reply };
    };
    it("PowerShell reads the request's names ignoring case: {\"Operation\": \"read\"} is a read", () => {
      const { script, twin } = both("server-2022", { Operation: "read", OwnerLabel: "urn:x" });
      assert.equal(script.status, "ok");
      assert.equal(twin.kind, "badRequest");
    });
    it("a setting named in another case is accepted and applied (-contains and the hashtables ignore case)", () => {
      const { script, state, twin } = both("server-2022", { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", client: { requiresecuritysignature: true } });
      assert.equal(script.status, "ok");
      assert.deepEqual(script.changed, ["client.requiresecuritysignature"]);
      assert.equal(state.client.RequireSecuritySignature, true);
      assert.equal(twin.kind, "badRequest");
    });
    it("auditDays 7.0 is a [decimal] from ConvertFrom-Json, not an integer: refused (the twin accepts it)", () => {
      const text = '{"operation":"read","ownerId":"","ownerLabel":"u","auditDays":7.0}';
      const mine = runPowerShellSync({ script: bootstrap, stdin: JSON.stringify({ script: signing, request: text }), host: stubHost(newHostState("server-2025")) });
      assert.equal(JSON.parse(mine.stdout).message, "auditDays must be an integer from 1 to 90");
      assert.equal(runSigningScript(newHostState("server-2025"), text).reply.status, "ok");
    });
    it("a request that is a JSON array of one object is read as that object (member-access enumeration)", () => {
      const { script, twin } = both("server-2022", [{ operation: "read", ownerId: "", ownerLabel: "urn:x" }]);
      assert.equal(script.status, "ok");
      assert.equal(twin.kind, "badRequest");
    });
  });

  it("runs smb-signing.ps1 in well under 10 ms once parsed", () => {
    const state = newHostState("win11-24h2-enterprise");
    runScript(state, { operation: "read", ownerId: "", ownerLabel: "urn:r" });
    const n = 50;
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) runScript(state, { operation: "read", ownerId: "", ownerLabel: "urn:r", auditDays: 7 });
    const ms = Number(process.hrtime.bigint() - t) / 1e6 / n;
    assert.ok(ms < 10, `${ms.toFixed(2)} ms per run`);
  });
});
