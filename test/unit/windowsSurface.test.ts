// The Windows the interpreter's scripts run on (test/simhost/windowsSurface.ts), tested command by
// command through the host interface: each command's output objects and errors (category, fully
// qualified id, terminating or not), each fault of the host model, and the refusal of anything the
// model does not answer.
import assert from "node:assert/strict";
import {
  CommandCall,
  CommandError,
  ErrorSpec,
  HostObject,
  PowerShellHost,
  PSArray,
  PSCustomObject,
  PSDateTime,
  PSEnum,
  PSNumber,
  PSValue,
  array,
  hashtable,
  int32,
  isHostObject,
} from "../simhost/powershell/host";
import { AUDIT_LOGS, HostState, newHostState, PresetName, smbConnect } from "../simhost/model";
import { SurfaceGap, windowsSurface } from "../simhost/windowsSurface";

const NOW = new Date("2026-03-01T12:00:00.000Z");

/** A non-terminating error written under -ErrorAction Stop: what the interpreter throws from writeError. */
class Stopped extends Error {
  constructor(readonly error: ErrorSpec) {
    super(error.message);
  }
}

interface Outcome {
  output: PSValue[];
  errors: ErrorSpec[];
}

/** Runs one host command as the interpreter would, with bound parameters; `stop` makes writeError throw. */
function run(host: PowerShellHost, name: string, parameters: Record<string, PSValue> = {}, stop = false): Outcome {
  const command = Object.entries(host.commands).find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
  assert.ok(command, `the host has no command ${name}`);
  for (const p of Object.keys(parameters)) {
    if (p === "WhatIf" || p === "Confirm") assert.ok(command.supportsShouldProcess, `${name} takes no -${p}`);
    else assert.ok(Object.keys(command.parameters).includes(p), `${name} declares no -${p}`);
  }
  const errors: ErrorSpec[] = [];
  const call: CommandCall = {
    name,
    parameters,
    input: [],
    writeError(error) {
      errors.push(error);
      if (stop) throw new Stopped(error);
    },
  };
  const result = command.run(call);
  const output = result === undefined ? [] : Array.isArray(result) ? result : [result];
  return { output, errors };
}

function only(outcome: Outcome): PSValue {
  assert.deepEqual(outcome.errors, []);
  assert.equal(outcome.output.length, 1, "one object");
  return outcome.output[0];
}

function prop(object: PSValue, name: string): PSValue | undefined {
  if (object instanceof PSCustomObject) return object.get(name)?.value;
  assert.ok(isHostObject(object), "a host object");
  const p = (object as HostObject).properties.find((q) => q.name.toLowerCase() === name.toLowerCase());
  return p === undefined ? undefined : p.value;
}

function names(object: PSValue): string[] {
  if (object instanceof PSCustomObject) return object.properties().map((p) => p.name);
  return (object as HostObject).properties.map((p) => p.name);
}

const num = (v: PSValue | undefined) => {
  assert.ok(v instanceof PSNumber, `a number, not ${String(v)}`);
  return { type: v.type, value: v.value };
};

function hostOf(preset: PresetName, change: (s: HostState) => void = () => {}): { state: HostState; host: PowerShellHost } {
  const state = newHostState(preset);
  change(state);
  return { state, host: windowsSurface(state, { now: () => NOW }) };
}

function oneError(outcome: Outcome): ErrorSpec {
  assert.equal(outcome.errors.length, 1, `one error, got ${JSON.stringify(outcome.errors)}`);
  assert.deepEqual(outcome.output, []);
  return outcome.errors[0];
}

const RECORD = "HKLM:\\SOFTWARE\\pulumi-smb-signing";
const CURRENT_VERSION = "HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
const WORKSTATION = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters";
const SERVER = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Parameters";
const WORKSTATION_POLICY = "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\LanmanWorkstation";

describe("windowsSurface: what Windows supplies to the interpreter", () => {
  describe("session", () => {
    it("$PSVersionTable.PSVersion follows the OS build on 5.1, WMF 5.1's on Windows 7 / 2008 R2, and 2.0 stays 2.0; LanguageMode and the clock come from the host", () => {
      assert.equal(hostOf("server-2025").host.session.psVersion, "5.1.26100.4061");
      assert.equal(hostOf("server-2008r2").host.session.psVersion, "5.1.14409.1005");
      assert.equal(hostOf("server-2008r2-stock").host.session.psVersion, "2.0");
      const { host } = hostOf("server-2022", (s) => (s.languageMode = "ConstrainedLanguage"));
      assert.equal(host.session.languageMode, "ConstrainedLanguage");
      assert.equal(host.session.now().getTime(), NOW.getTime());
      assert.equal(host.session.utcOffsetMinutes, 0);
    });
  });

  describe("registry", () => {
    it("Get-ItemProperty CurrentVersion: ProductName, EditionID, DisplayVersion, CurrentBuildNumber as strings, UBR as Int32, and the provider's PS* properties", () => {
      const { host } = hostOf("server-2025");
      const item = only(run(host, "Get-ItemProperty", { Path: CURRENT_VERSION }));
      assert.ok(item instanceof PSCustomObject);
      assert.equal(prop(item, "ProductName"), "Windows Server 2025 Datacenter");
      assert.equal(prop(item, "EditionID"), "ServerDatacenter");
      assert.equal(prop(item, "DisplayVersion"), "24H2");
      assert.equal(prop(item, "CurrentBuildNumber"), "26100");
      assert.deepEqual(num(prop(item, "UBR")), { type: "Int32", value: 4061 });
      assert.equal(prop(item, "PSChildName"), "CurrentVersion");
      assert.equal(prop(item, "PSPath"), "Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion");
      assert.equal(prop(item, "PSParentPath"), "Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT");
    });

    it("releases before Windows 10 20H2 have no DisplayVersion value at all (the script's [string] of it is '')", () => {
      const item = only(run(hostOf("server-2019").host, "Get-ItemProperty", { Path: CURRENT_VERSION }));
      assert.ok(!names(item).includes("DisplayVersion"));
      assert.equal(prop(item, "DisplayVersion"), undefined);
    });

    it("paths ignore case and take the Registry:: form and a trailing backslash", () => {
      const { host } = hostOf("server-2025");
      for (const path of ["hklm:\\software\\microsoft\\windows nt\\currentversion\\", "Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"]) {
        assert.equal(prop(only(run(host, "Get-ItemProperty", { Path: path })), "EditionID"), "ServerDatacenter");
      }
    });

    it("a missing key is the non-terminating PathNotFound (ObjectNotFound) quoting the path as typed; -ErrorAction Stop makes it throw", () => {
      const { host } = hostOf("server-2025");
      const error = oneError(run(host, "Get-ItemProperty", { Path: WORKSTATION_POLICY }));
      assert.deepEqual(error, {
        message: `Cannot find path '${WORKSTATION_POLICY}' because it does not exist.`,
        category: "ObjectNotFound",
        fullyQualifiedErrorId: "PathNotFound,Microsoft.PowerShell.Commands.GetItemPropertyCommand",
        exceptionType: "System.Management.Automation.ItemNotFoundException",
        targetObject: WORKSTATION_POLICY,
      });
      assert.throws(() => run(host, "Get-ItemProperty", { Path: WORKSTATION_POLICY }, true), Stopped);
    });

    it("an Administrative Template is a REG_DWORD under HKLM:\\SOFTWARE\\Policies (AllowInsecureGuestAuth for EnableInsecureGuestLogons), whether or not RSoP logs", () => {
      const { host } = hostOf("win11-24h2-pro", (s) => {
        s.groupPolicy.gpo = "Contoso Workstations";
        s.groupPolicy.administrativeTemplates.client = { EnableInsecureGuestLogons: false, AuditServerDoesNotSupportSigning: true };
        s.groupPolicy.rsopLogging = false;
      });
      const item = only(run(host, "Get-ItemProperty", { Path: WORKSTATION_POLICY }));
      assert.deepEqual(num(prop(item, "AllowInsecureGuestAuth")), { type: "Int32", value: 0 });
      assert.deepEqual(num(prop(item, "AuditServerDoesNotSupportSigning")), { type: "Int32", value: 1 });
      assert.equal(prop(item, "EnableInsecureGuestLogons"), undefined);
    });

    it("the signing settings are REG_DWORD values under the Parameters keys (registry-backed hosts read them there)", () => {
      const { host } = hostOf("server-2008r2");
      const client = only(run(host, "Get-ItemProperty", { Path: WORKSTATION }));
      assert.deepEqual(num(prop(client, "RequireSecuritySignature")), { type: "Int32", value: 0 });
      assert.deepEqual(num(prop(client, "EnableSecuritySignature")), { type: "Int32", value: 1 });
      const server = only(run(host, "Get-ItemProperty", { Path: SERVER }));
      assert.deepEqual(num(prop(server, "RequireSecuritySignature")), { type: "Int32", value: 0 });
    });

    it("Set-ItemProperty -Type DWord under Parameters changes the setting; a reverting agent puts its value back at once", () => {
      const { state, host } = hostOf("server-2008r2");
      assert.deepEqual(run(host, "Set-ItemProperty", { Path: SERVER, Name: "RequireSecuritySignature", Value: int32(1), Type: "DWord" }), { output: [], errors: [] });
      assert.equal(state.server.RequireSecuritySignature, true);
      assert.equal(state.counters.recordWrites, undefined, "not a record write");
      const reverting = hostOf("server-2008r2", (s) => (s.faults.revertingAgent = { server: { RequireSecuritySignature: false } }));
      run(reverting.host, "Set-ItemProperty", { Path: SERVER, Name: "RequireSecuritySignature", Value: int32(1), Type: "DWord" });
      assert.equal(reverting.state.server.RequireSecuritySignature, false);
    });

    it("the record: absent, then New-Item -Force makes the key, Get-ItemProperty -Name names the missing value, Set-ItemProperty -Type String writes it (counted), Remove-Item removes it", () => {
      const { state, host } = hostOf("server-2022");
      assert.equal(only(run(host, "Test-Path", { Path: RECORD })), false);
      assert.equal(oneError(run(host, "Get-ItemProperty", { Path: RECORD, Name: "OriginalSettings" })).fullyQualifiedErrorId, "PathNotFound,Microsoft.PowerShell.Commands.GetItemPropertyCommand");
      const key = only(run(host, "New-Item", { Path: RECORD, Force: true }));
      assert.equal(prop(key, "Name"), "HKEY_LOCAL_MACHINE\\SOFTWARE\\pulumi-smb-signing");
      assert.equal(only(run(host, "Test-Path", { Path: RECORD })), true);
      assert.deepEqual(oneError(run(host, "Get-ItemProperty", { Path: RECORD, Name: "OriginalSettings" })), {
        message: "Property OriginalSettings does not exist at path HKEY_LOCAL_MACHINE\\SOFTWARE\\pulumi-smb-signing.",
        category: "InvalidArgument",
        fullyQualifiedErrorId: "System.Management.Automation.PSArgumentException,Microsoft.PowerShell.Commands.GetItemPropertyCommand",
        exceptionType: "System.Management.Automation.PSArgumentException",
        targetObject: "OriginalSettings",
      });
      assert.deepEqual(run(host, "Get-ItemProperty", { Path: RECORD }), { output: [], errors: [] }, "a key without values writes no object");
      run(host, "Set-ItemProperty", { Path: RECORD, Name: "OriginalSettings", Value: '{"version":2}', Type: "String" });
      assert.equal(state.record, '{"version":2}');
      assert.equal(state.counters.recordWrites, 1);
      const item = only(run(host, "Get-ItemProperty", { Path: RECORD, Name: "OriginalSettings" }));
      assert.deepEqual(names(item), ["OriginalSettings", "PSPath", "PSParentPath", "PSChildName", "PSDrive", "PSProvider"]);
      assert.equal(prop(item, "OriginalSettings"), '{"version":2}');
      assert.deepEqual(run(host, "Remove-Item", { Path: RECORD, Recurse: true, Force: true }), { output: [], errors: [] });
      assert.equal(state.record, undefined);
      assert.equal(only(run(host, "Test-Path", { Path: RECORD })), false);
      assert.equal(oneError(run(host, "Remove-Item", { Path: RECORD, Recurse: true, Force: true })).fullyQualifiedErrorId, "PathNotFound,Microsoft.PowerShell.Commands.RemoveItemCommand");
    });

    it("New-Item -Force over an existing key deletes its values (RegistryProvider.NewItem); without -Force it is ResourceExists", () => {
      const { state, host } = hostOf("server-2022", (s) => (s.record = '{"version":2}'));
      const error = oneError(run(host, "New-Item", { Path: RECORD }));
      assert.equal(error.category, "ResourceExists");
      assert.equal(error.message, "A key in this path already exists.");
      assert.equal(state.record, '{"version":2}');
      run(host, "New-Item", { Path: RECORD, Force: true });
      assert.equal(state.record, undefined);
      assert.equal(only(run(host, "Test-Path", { Path: RECORD })), true, "the key is there, empty");
    });

    it("Set-ItemProperty on a missing key is PathNotFound, before any permission check", () => {
      const { host } = hostOf("server-2022", (s) => (s.faults.nonAdmin = true));
      assert.equal(
        oneError(run(host, "Set-ItemProperty", { Path: RECORD, Name: "OriginalSettings", Value: "{}", Type: "String" })).fullyQualifiedErrorId,
        "PathNotFound,Microsoft.PowerShell.Commands.SetItemPropertyCommand",
      );
    });

    it("a non-administrator reads HKLM but cannot write it: New-Item, Set-ItemProperty and Remove-Item are PermissionDenied (SecurityException), and nothing changes", () => {
      const { state, host } = hostOf("server-2022", (s) => {
        s.faults.nonAdmin = true;
        s.record = '{"version":2}';
      });
      const denied = (outcome: Outcome, command: string) => {
        const error = oneError(outcome);
        assert.equal(error.message, "Requested registry access is not allowed.");
        assert.equal(error.category, "PermissionDenied");
        assert.equal(error.exceptionType, "System.Security.SecurityException");
        assert.equal(error.fullyQualifiedErrorId, `System.Security.SecurityException,Microsoft.PowerShell.Commands.${command}`);
      };
      denied(run(host, "Set-ItemProperty", { Path: RECORD, Name: "OriginalSettings", Value: "{}", Type: "String" }), "SetItemPropertyCommand");
      denied(run(host, "New-Item", { Path: RECORD, Force: true }), "NewItemCommand");
      denied(run(host, "Remove-Item", { Path: RECORD, Recurse: true, Force: true }), "RemoveItemCommand");
      denied(run(host, "Set-ItemProperty", { Path: SERVER, Name: "RequireSecuritySignature", Value: int32(1), Type: "DWord" }), "SetItemPropertyCommand");
      assert.equal(state.record, '{"version":2}');
      assert.equal(state.server.RequireSecuritySignature, false);
      assert.equal(state.counters.recordWrites, undefined);
      assert.equal(prop(only(run(host, "Get-ItemProperty", { Path: RECORD, Name: "OriginalSettings" })), "OriginalSettings"), '{"version":2}');
    });

    it("anything else is a SurfaceGap naming the command: another key, drive, value, type, wildcard or parameter", () => {
      const { host } = hostOf("server-2022");
      const gap = (name: string, parameters: Record<string, PSValue>, pattern: RegExp) =>
        assert.throws(() => run(host, name, parameters), (e: unknown) => e instanceof SurfaceGap && e.message.includes(name) && pattern.test(e.message));
      gap("Get-ItemProperty", { Path: "HKLM:\\SOFTWARE\\Contoso" }, /SOFTWARE\\Contoso/);
      gap("Test-Path", { Path: "C:\\Windows" }, /C:\\Windows/);
      gap("Get-ItemProperty", { Path: "HKCU:\\Software" }, /HKCU/);
      gap("Get-ItemProperty", { Path: "HKLM:\\SOFTWARE\\*" }, /wildcard/);
      gap("Get-ItemProperty", { Path: "HKLM:\\SOFTWARE" }, /values of HKLM:\\SOFTWARE/);
      gap("Set-ItemProperty", { Path: CURRENT_VERSION, Name: "ProductName", Value: "x", Type: "String" }, /ProductName/);
      gap("Set-ItemProperty", { Path: SERVER, Name: "RequireSecuritySignature", Value: int32(1), Type: "QWord" }, /QWord/);
      gap("Set-ItemProperty", { Path: RECORD, Name: "OriginalSettings", Value: "{}", Type: "String", PassThru: true }, /PassThru/);
      gap("Get-ItemProperty", { Path: RECORD, LiteralPath: RECORD }, /LiteralPath/);
      gap("New-Item", { Path: "HKLM:\\SOFTWARE\\Contoso", Force: true }, /Contoso/);
      gap("Test-Path", { Path: RECORD, PathType: "Container" }, /PathType/);
      assert.throws(() => run(host, "Remove-Item", { Path: RECORD, WhatIf: true }), SurfaceGap);
    });
  });

  describe("CIM", () => {
    it("Win32_ComputerSystem gives DomainRole as UInt16", () => {
      const cs = only(run(hostOf("server-2025-dc").host, "Get-CimInstance", { ClassName: "Win32_ComputerSystem" }));
      assert.deepEqual(num(prop(cs, "DomainRole")), { type: "UInt16", value: 5 });
      assert.equal((cs as HostObject).typeNames[0], "Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_ComputerSystem");
    });

    it("broken WMI: a non-terminating CimException 'Invalid class' (MetadataError) for every query", () => {
      const { host } = hostOf("server-2022", (s) => (s.faults.brokenWmi = true));
      const error = oneError(run(host, "Get-CimInstance", { ClassName: "Win32_ComputerSystem" }));
      assert.equal(error.message, 'Invalid class "Win32_ComputerSystem"');
      assert.equal(error.category, "MetadataError");
      assert.equal(error.fullyQualifiedErrorId, "HRESULT 0x80041010,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand");
      assert.equal(oneError(run(host, "Get-CimInstance", { Namespace: "root\\rsop\\computer", ClassName: "RSOP_GPO", Filter: "id IS NOT NULL" })).category, "MetadataError");
    });

    it("a domain controller's RSoP: the Default Domain Controllers Policy by its well-known id, and its Security Options as RSOP_RegistryValue (Path, Data '4,1', GPOID)", () => {
      const { host } = hostOf("server-2025-dc");
      const gpos = run(host, "Get-CimInstance", { Namespace: "root\\rsop\\computer", ClassName: "RSOP_GPO", Filter: "id IS NOT NULL" }).output;
      const dc = gpos.find((g) => prop(g, "name") === "Default Domain Controllers Policy");
      assert.ok(dc);
      assert.equal(prop(dc, "id"), "cn={6AC1786C-016F-11D2-945F-00C04FB984F9},cn=policies,cn=system,DC=corp,DC=example");
      assert.ok(gpos.some((g) => prop(g, "id") === "LocalGPO"));
      const values = run(host, "Get-CimInstance", { Namespace: "root\\rsop\\computer", ClassName: "RSOP_RegistryValue", Filter: "precedence = 1" }).output;
      assert.deepEqual(
        values.map((v) => [prop(v, "Path"), prop(v, "Data"), prop(v, "GPOID")]),
        [
          ["MACHINE\\System\\CurrentControlSet\\Services\\LanmanServer\\Parameters\\RequireSecuritySignature", "4,1", prop(dc, "id")],
          ["MACHINE\\System\\CurrentControlSet\\Services\\LanmanServer\\Parameters\\EnableSecuritySignature", "4,1", prop(dc, "id")],
        ],
      );
      assert.deepEqual(run(host, "Get-CimInstance", { Namespace: "root\\rsop\\computer", ClassName: "RSOP_RegistryValue", Filter: "precedence = 2" }).output, []);
      assert.deepEqual(run(host, "Get-CimInstance", { Namespace: "root\\rsop\\computer", ClassName: "RSOP_RegistryPolicySetting", Filter: "precedence = 1" }).output, []);
    });

    it("Administrative Templates as RSOP_RegistryPolicySetting (registryKey, valueName, value bytes); RSoP logging off: no instances of any RSoP class", () => {
      const { state, host } = hostOf("win11-24h2-pro", (s) => {
        s.groupPolicy.gpo = "Contoso Workstations";
        s.groupPolicy.administrativeTemplates.client = { EnableInsecureGuestLogons: true };
      });
      const [setting] = run(host, "Get-CimInstance", { Namespace: "root\\rsop\\computer", ClassName: "RSOP_RegistryPolicySetting", Filter: "precedence = 1" }).output;
      assert.equal(prop(setting, "registryKey"), "Software\\Policies\\Microsoft\\Windows\\LanmanWorkstation");
      assert.equal(prop(setting, "valueName"), "AllowInsecureGuestAuth");
      assert.deepEqual((prop(setting, "value") as PSArray).items.map((b) => num(b).value), [1, 0, 0, 0]);
      const gpo = run(host, "Get-CimInstance", { Namespace: "root\\rsop\\computer", ClassName: "RSOP_GPO", Filter: "id IS NOT NULL" }).output.find((g) => prop(g, "id") === prop(setting, "GPOID"));
      assert.equal(prop(gpo!, "name"), "Contoso Workstations");
      state.groupPolicy.rsopLogging = false;
      for (const className of ["RSOP_GPO", "RSOP_RegistryValue", "RSOP_RegistryPolicySetting"]) {
        assert.deepEqual(run(host, "Get-CimInstance", { Namespace: "root\\rsop\\computer", ClassName: className, Filter: "precedence = 1" }), { output: [], errors: [] });
      }
    });

    it("another namespace, class, filter or parameter is a SurfaceGap", () => {
      const { host } = hostOf("server-2022");
      assert.throws(() => run(host, "Get-CimInstance", { ClassName: "Win32_OperatingSystem" }), SurfaceGap);
      assert.throws(() => run(host, "Get-CimInstance", { Namespace: "root\\rsop\\computer", ClassName: "RSOP_SecurityEventLog" }), SurfaceGap);
      assert.throws(() => run(host, "Get-CimInstance", { Namespace: "root\\rsop\\computer", ClassName: "RSOP_GPO", Filter: "id IS NOT NULL AND enabled = TRUE" }), SurfaceGap);
      assert.throws(() => run(host, "Get-CimInstance", { ClassName: "Win32_ComputerSystem", ComputerName: "dc1" }), SurfaceGap);
    });
  });

  describe("SmbShare", () => {
    it("a host without the module has no Get-/Set-Smb* commands (so Get-Command finds none); one with it has all four", () => {
      const names = (preset: PresetName) => Object.keys(hostOf(preset).host.commands).filter((n) => /Smb/.test(n)).sort();
      assert.deepEqual(names("server-2008r2"), []);
      assert.deepEqual(names("server-2022"), ["Get-SmbClientConfiguration", "Get-SmbServerConfiguration", "Set-SmbClientConfiguration", "Set-SmbServerConfiguration"]);
    });

    it("Get-Smb*Configuration: one MSFT_Smb*Configuration instance with a Boolean per setting the release has", () => {
      const { host } = hostOf("server-2022");
      const client = only(run(host, "Get-SmbClientConfiguration"));
      assert.equal((client as HostObject).typeNames[0], "Microsoft.Management.Infrastructure.CimInstance#ROOT/Microsoft/Windows/SMB/MSFT_SmbClientConfiguration");
      assert.equal(prop(client, "RequireSecuritySignature"), false);
      assert.equal(prop(client, "EnableInsecureGuestLogons"), false);
      assert.equal(prop(client, "AuditServerDoesNotSupportSigning"), undefined, "no audit property before 24H2 / Server 2025");
      assert.equal(prop(only(run(hostOf("server-2025").host, "Get-SmbServerConfiguration")), "AuditClientDoesNotSupportSigning"), false);
    });

    it("Set-Smb*Configuration -Force -Confirm:$false sets the values; the parameters are the settings this release has", () => {
      const { state, host } = hostOf("server-2022");
      assert.deepEqual(run(host, "Set-SmbServerConfiguration", { RequireSecuritySignature: true, EnableSecuritySignature: true, Force: true, Confirm: false }), { output: [], errors: [] });
      assert.equal(state.server.RequireSecuritySignature, true);
      assert.equal(state.server.EnableSecuritySignature, true);
      assert.ok(!("AuditClientDoesNotSupportSigning" in host.commands["Set-SmbServerConfiguration"].parameters), "Server 2022's cmdlet has no audit parameter");
      assert.ok("AuditClientDoesNotSupportSigning" in hostOf("server-2025").host.commands["Set-SmbServerConfiguration"].parameters);
    });

    it("a non-administrator: 'Access denied' (PermissionDenied, Windows System Error 5), nothing set", () => {
      const { state, host } = hostOf("server-2022", (s) => (s.faults.nonAdmin = true));
      const error = oneError(run(host, "Set-SmbClientConfiguration", { RequireSecuritySignature: true, Force: true, Confirm: false }));
      assert.deepEqual(
        { message: error.message, category: error.category, id: error.fullyQualifiedErrorId },
        { message: "Access denied", category: "PermissionDenied", id: "Windows System Error 5,Set-SmbClientConfiguration" },
      );
      assert.equal(state.client.RequireSecuritySignature, false);
      assert.throws(() => run(host, "Set-SmbClientConfiguration", { RequireSecuritySignature: true, Force: true, Confirm: false }, true), Stopped);
      assert.equal(prop(only(run(host, "Get-SmbClientConfiguration")), "RequireSecuritySignature"), false, "reading is allowed");
    });

    it("failingCmdlet: that cmdlet fails with 'The service has not been started.' (not PermissionDenied); the other side's works", () => {
      const { state, host } = hostOf("server-2022", (s) => (s.faults.failingCmdlet = "Set-SmbServerConfiguration"));
      const error = oneError(run(host, "Set-SmbServerConfiguration", { RequireSecuritySignature: true, Force: true, Confirm: false }));
      assert.equal(error.message, "The service has not been started.");
      assert.equal(error.category, "NotSpecified");
      assert.equal(error.fullyQualifiedErrorId, "Windows System Error 1062,Set-SmbServerConfiguration");
      assert.equal(state.server.RequireSecuritySignature, false);
      run(host, "Set-SmbClientConfiguration", { RequireSecuritySignature: true, Force: true, Confirm: false });
      assert.equal(state.client.RequireSecuritySignature, true);
    });

    it("revertingAgent puts its values back at once after a Set-* of that side", () => {
      const { state, host } = hostOf("server-2022", (s) => (s.faults.revertingAgent = { server: { RequireSecuritySignature: false }, client: { EnableInsecureGuestLogons: true } }));
      run(host, "Set-SmbServerConfiguration", { RequireSecuritySignature: true, EnableSecuritySignature: true, Force: true, Confirm: false });
      assert.equal(state.server.RequireSecuritySignature, false);
      assert.equal(state.server.EnableSecuritySignature, true);
      assert.equal(state.client.EnableInsecureGuestLogons, false, "the client side was not written");
    });

    it("a value that is not a Boolean or a number is PowerShell's argument transformation error; a parameter the model does not answer, -WhatIf or a call that may prompt is a SurfaceGap", () => {
      const { host } = hostOf("server-2022");
      assert.throws(
        () => run(host, "Set-SmbServerConfiguration", { RequireSecuritySignature: "yes", Force: true }),
        (e: unknown) => e instanceof CommandError && e.error.fullyQualifiedErrorId === "ParameterArgumentTransformationError,Set-SmbServerConfiguration" && e.error.category === "InvalidData",
      );
      assert.throws(() => run(host, "Set-SmbServerConfiguration", { EncryptData: true, Force: true }), SurfaceGap);
      assert.throws(() => run(host, "Set-SmbServerConfiguration", { RequireSecuritySignature: true }), SurfaceGap);
      assert.throws(() => run(host, "Set-SmbServerConfiguration", { RequireSecuritySignature: true, Force: true, WhatIf: true }), SurfaceGap);
      assert.throws(() => run(host, "Get-SmbServerConfiguration", { CimSession: "dc1" }), SurfaceGap);
    });
  });

  describe("event log", () => {
    const SERVER_LOG = AUDIT_LOGS.server.log;
    const filter = (days: number, ids = AUDIT_LOGS.server.ids) =>
      hashtable({ LogName: SERVER_LOG, Id: array(ids.map((i) => int32(i))), StartTime: new PSDateTime(NOW.getTime() - days * 86_400_000, "Local") });

    it("-ListLog: an EventLogConfiguration with IsEnabled; a log the host lacks is the non-terminating NoMatchingLogsFound (ObjectNotFound)", () => {
      const log = only(run(hostOf("server-2025", (s) => (s.auditLogs.server!.enabled = false)).host, "Get-WinEvent", { ListLog: SERVER_LOG }));
      assert.equal(prop(log, "IsEnabled"), false);
      assert.equal(prop(log, "LogName"), SERVER_LOG);
      assert.ok(prop(log, "LogType") instanceof PSEnum);
      const error = oneError(run(hostOf("server-2022").host, "Get-WinEvent", { ListLog: SERVER_LOG }));
      assert.deepEqual(
        { message: error.message, category: error.category, id: error.fullyQualifiedErrorId },
        {
          message: `There is not an event log on the localhost computer that matches "${SERVER_LOG}".`,
          category: "ObjectNotFound",
          id: "NoMatchingLogsFound,Microsoft.PowerShell.Commands.GetWinEventCommand",
        },
      );
    });

    it("-FilterHashtable: newest first, at most -MaxEvents, only the listed ids and from StartTime on; each record with Id, TimeCreated (local) and Properties' values", () => {
      const { host } = hostOf("server-2025", (s) => {
        const at = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * 3_600_000).toISOString();
        s.auditLogs.server!.events.push(
          { id: 3021, timeCreated: at(30 * 24), properties: ["old", "\\\\10.0.0.1"] },
          { id: 3021, timeCreated: at(5), properties: ["CONTOSO\\alice", "\\\\10.0.4.17", 0x311] },
          { id: 9999, timeCreated: at(4), properties: ["other"] },
          { id: 3027, timeCreated: at(3), properties: ["10.0.4.18", ""] },
          { id: 3022, timeCreated: at(2), properties: ["CONTOSO\\bob", "\\\\10.0.4.19"] },
        );
      });
      const events = run(host, "Get-WinEvent", { FilterHashtable: filter(7), MaxEvents: new PSNumber("Int32", 2000) }).output;
      assert.deepEqual(
        events.map((e) => num(prop(e, "Id")).value),
        [3022, 3027, 3021],
      );
      const last = events[2];
      const time = prop(last, "TimeCreated");
      assert.ok(time instanceof PSDateTime);
      assert.equal(time.kind, "Local");
      assert.equal(time.epochMs, NOW.getTime() - 5 * 3_600_000);
      const values = (prop(last, "Properties") as PSArray).items.map((p) => prop(p, "Value"));
      assert.equal(values[1], "\\\\10.0.4.17");
      assert.deepEqual(num(values[2]), { type: "UInt32", value: 0x311 });
      assert.deepEqual(
        run(host, "Get-WinEvent", { FilterHashtable: filter(7), MaxEvents: int32(2) }).output.map((e) => num(prop(e, "Id")).value),
        [3022, 3027],
      );
    });

    it("nothing matches: the non-terminating NoMatchingEventsFound (ObjectNotFound), which -ErrorAction Stop throws", () => {
      const { host } = hostOf("server-2025");
      const error = oneError(run(host, "Get-WinEvent", { FilterHashtable: filter(7), MaxEvents: int32(10) }));
      assert.deepEqual(
        { message: error.message, category: error.category, id: error.fullyQualifiedErrorId },
        { message: "No events were found that match the specified selection criteria.", category: "ObjectNotFound", id: "NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand" },
      );
      assert.throws(() => run(host, "Get-WinEvent", { FilterHashtable: filter(7), MaxEvents: int32(10) }, true), (e: unknown) => e instanceof Stopped && /^NoMatchingEventsFound,/.test(e.error.fullyQualifiedErrorId));
    });

    it("a FilterHashtable naming a log the host lacks: NoMatchingLogsFound only, and no query", () => {
      const outcome = run(hostOf("server-2022").host, "Get-WinEvent", { FilterHashtable: filter(7), MaxEvents: int32(10) });
      assert.equal(oneError(outcome).fullyQualifiedErrorId, "NoMatchingLogsFound,Microsoft.PowerShell.Commands.GetWinEventCommand");
    });

    it("the events smbConnect logs are what Get-WinEvent returns: newest first, those since StartTime, with the peer's address among their values", () => {
      const state = newHostState("server-2025");
      state.server.AuditClientDoesNotSupportSigning = true;
      const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000);
      for (const [address, hoursAgo, smb1] of [
        ["10.0.4.19", 24 * 10, false],
        ["10.0.4.18", 3, true],
        ["10.0.4.17", 2, false],
        ["10.0.4.16", 1, false],
      ] as const) {
        smbConnect(state, { direction: "inbound", address, signs: false, smb1, at: at(hoursAgo), account: "CONTOSO\\svc" });
      }
      const host = windowsSurface(state);
      const events = run(host, "Get-WinEvent", {
        FilterHashtable: hashtable({ LogName: AUDIT_LOGS.server.log, Id: array(AUDIT_LOGS.server.ids.map((i) => int32(i))), StartTime: new PSDateTime(Date.now() - 7 * 86_400_000, "Local") }),
        MaxEvents: int32(2000),
      }).output;
      assert.deepEqual(
        events.map((e) => [(prop(e, "Id") as PSNumber).value, (prop(e, "Properties") as PSArray).items.map((p) => prop(p, "Value")).filter((v) => typeof v === "string")]),
        [
          [3021, ["CONTOSO\\svc", "\\\\10.0.4.16"]],
          [3021, ["CONTOSO\\svc", "\\\\10.0.4.17"]],
          [3027, ["10.0.4.18", "CONTOSO\\svc"]],
        ],
      );
    });

    it("other logs, keys or parameters are a SurfaceGap", () => {
      const { host } = hostOf("server-2025");
      assert.throws(() => run(host, "Get-WinEvent", { ListLog: "System" }), SurfaceGap);
      assert.throws(() => run(host, "Get-WinEvent", { ListLog: "Microsoft-Windows-SMB*" }), SurfaceGap);
      assert.throws(() => run(host, "Get-WinEvent", { FilterHashtable: hashtable({ LogName: SERVER_LOG, Level: int32(2) }) }), SurfaceGap);
      assert.throws(() => run(host, "Get-WinEvent", { LogName: SERVER_LOG }), SurfaceGap);
    });
  });
});
