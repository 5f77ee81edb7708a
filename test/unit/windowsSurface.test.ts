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
import { AUDIT_LOGS, auditEvent, HostState, newHostState, PresetName, restartService, SMB_AUDIT_EVENTS, smbConnect } from "../simhost/model";
import { evaluate, initParser } from "../simhost/powershell/run";
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
      // A value written there directly that no cmdlet reports (KB5066913's audit turned on through the registry) is one more REG_DWORD.
      const patched = only(run(hostOf("server-2022", (s) => (s.registryOnly = { server: { AuditClientDoesNotSupportSigning: 1 } })).host, "Get-ItemProperty", { Path: SERVER }));
      assert.deepEqual(num(prop(patched, "AuditClientDoesNotSupportSigning")), { type: "Int32", value: 1 });
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

    it("RSoP that cannot be read: access denied (0x80041003, PermissionDenied) and a missing namespace (0x8004100e, MetadataError) are non-terminating CIM errors; 'empty' answers nothing; Win32_ComputerSystem still answers", () => {
      const query = { Namespace: "root\\rsop\\computer", ClassName: "RSOP_GPO", Filter: "id IS NOT NULL" };
      const denied = hostOf("server-2025-dc", (s) => (s.groupPolicy.rsopQuery = "accessDenied")).host;
      assert.deepEqual(oneError(run(denied, "Get-CimInstance", query)), {
        message: "Access denied",
        category: "PermissionDenied",
        fullyQualifiedErrorId: "HRESULT 0x80041003,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand",
        exceptionType: "Microsoft.Management.Infrastructure.CimException",
        targetObject: "root\\rsop\\computer:RSOP_GPO",
      });
      assert.equal(only(run(denied, "Get-CimInstance", { ClassName: "Win32_ComputerSystem" })) !== undefined, true);
      const missing = hostOf("server-2022", (s) => (s.groupPolicy.rsopQuery = "namespaceMissing")).host;
      const e = oneError(run(missing, "Get-CimInstance", { ...query, ClassName: "RSOP_RegistryValue", Filter: "precedence = 1" }));
      assert.equal(e.category, "MetadataError");
      assert.equal(e.fullyQualifiedErrorId, "HRESULT 0x8004100e,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand");
      const empty = hostOf("server-2022", (s) => (s.groupPolicy.rsopQuery = "empty")).host;
      assert.deepEqual(run(empty, "Get-CimInstance", query), { output: [], errors: [] });
    });

    it("RSoPLogging: REG_DWORD 0 under ...\\Policies\\Microsoft\\Windows\\System only where logging is turned off (the key absent otherwise); ...\\Winlogon always exists, with RSoPLogging 0 only where the preference is off", () => {
      const SYSTEM = "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\System";
      const WINLOGON = "HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon";
      const on = hostOf("server-2022").host;
      assert.equal(oneError(run(on, "Get-ItemProperty", { Path: SYSTEM })).category, "ObjectNotFound");
      assert.equal(prop(only(run(on, "Get-ItemProperty", { Path: WINLOGON })), "RSoPLogging"), undefined);
      const off = hostOf("server-2022", (s) => ((s.groupPolicy.rsopLogging = false), (s.groupPolicy.winlogonRsopLogging = false))).host;
      assert.deepEqual(num(prop(only(run(off, "Get-ItemProperty", { Path: SYSTEM })), "RSoPLogging")), { type: "Int32", value: 0 });
      assert.deepEqual(num(prop(only(run(off, "Get-ItemProperty", { Path: WINLOGON })), "RSoPLogging")), { type: "Int32", value: 0 });
    });

    it("MDM Security Options: the PolicyManager key exists only on an MDM-managed host, with each node's value (REG_DWORD or REG_SZ), _ProviderSet and _WinningProvider", () => {
      const KEY = "HKLM:\\SOFTWARE\\Microsoft\\PolicyManager\\current\\device\\LocalPoliciesSecurityOptions";
      assert.deepEqual(run(hostOf("server-2022").host, "Test-Path", { Path: KEY }).output, [false]);
      const dword = only(run(hostOf("server-2022", (s) => (s.mdm = { securityOptions: { client: { RequireSecuritySignature: true }, server: {} } })).host, "Get-ItemProperty", { Path: KEY }));
      assert.deepEqual(num(prop(dword, "MicrosoftNetworkClient_DigitallySignCommunicationsAlways")), { type: "Int32", value: 1 });
      assert.deepEqual(num(prop(dword, "MicrosoftNetworkClient_DigitallySignCommunicationsAlways_ProviderSet")), { type: "Int32", value: 1 });
      assert.match(String(prop(dword, "MicrosoftNetworkClient_DigitallySignCommunicationsAlways_WinningProvider")), /^\{[0-9A-F-]{36}\}$/);
      const text = only(run(hostOf("server-2022", (s) => (s.mdm = { securityOptions: { client: {}, server: { EnableSecuritySignature: false } }, dataType: "String" })).host, "Get-ItemProperty", { Path: KEY }));
      assert.equal(prop(text, "MicrosoftNetworkServer_DigitallySignCommunicationsIfClientAgrees"), "0");
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
    const filter = (days: number, ids = [3000, 3021, 3022, 3027]) =>
      hashtable({ LogName: SERVER_LOG, Id: array(ids.map((i) => int32(i))), StartTime: new PSDateTime(NOW.getTime() - days * 86_400_000, "Local") });
    const definition = (id: number, version = 0) => SMB_AUDIT_EVENTS.find((e) => e.id === id && e.version === version)!;
    const xmlOf = (record: PSValue) => (record as HostObject).methods!.ToXml() as string;

    it("-ListLog: an EventLogConfiguration with IsEnabled; both logs exist from Windows 10 / Server 2016 on; a log the host lacks is the non-terminating NoMatchingLogsFound (ObjectNotFound)", () => {
      const log = only(run(hostOf("server-2025", (s) => (s.auditLogs.server!.enabled = false)).host, "Get-WinEvent", { ListLog: SERVER_LOG }));
      assert.equal(prop(log, "IsEnabled"), false);
      assert.equal(prop(log, "LogName"), SERVER_LOG);
      assert.ok(prop(log, "LogType") instanceof PSEnum);
      for (const preset of ["server-2016", "server-2019", "server-2022", "win10-22h2-pro", "win11-23h2-pro"] as PresetName[]) {
        for (const side of ["server", "client"] as const) assert.equal(prop(only(run(hostOf(preset).host, "Get-WinEvent", { ListLog: AUDIT_LOGS[side].log })), "IsEnabled"), true, `${preset} ${side}`);
      }
      const error = oneError(run(hostOf("server-2008r2").host, "Get-WinEvent", { ListLog: SERVER_LOG }));
      assert.deepEqual(
        { message: error.message, category: error.category, id: error.fullyQualifiedErrorId },
        {
          message: `There is not an event log on the localhost computer that matches "${SERVER_LOG}".`,
          category: "ObjectNotFound",
          id: "NoMatchingLogsFound,Microsoft.PowerShell.Commands.GetWinEventCommand",
        },
      );
    });

    it("-ListProvider: the manifest's audit events per release, each with Id, Version, LogLink.LogName and its template; KB5066913 adds 3021 version 1 and 3024 to 3027 on the server side", () => {
      function events(preset: PresetName, side: "server" | "client", edit?: (s: HostState) => void): string[] {
        const metadata = only(run(hostOf(preset, edit).host, "Get-WinEvent", { ListProvider: AUDIT_LOGS[side].provider }));
        return (prop(metadata, "Events") as PSArray).items.map((e) => `${(prop(e, "Id") as PSNumber).value}v${(prop(e, "Version") as PSNumber).value}`);
      }
      assert.deepEqual(events("server-2025", "server"), ["3000v0", "3021v0", "3022v0", "3023v0"]);
      assert.deepEqual(events("server-2025", "client"), ["31997v0", "31998v0", "31999v0"]);
      assert.deepEqual(events("server-2022", "server"), ["3000v0"]);
      assert.deepEqual(events("server-2022", "server", (s) => (s.kb5066913 = true)), ["3000v0", "3021v1", "3024v0", "3025v0", "3026v0", "3027v0"]);
      assert.deepEqual(events("server-2022", "client", (s) => (s.kb5066913 = true)), [], "KB5066913 is the server's; SMBClient's older audit events (32000 to 32003) are not modelled");
      assert.deepEqual(events("win11-24h2-pro", "server", (s) => (s.kb5066913 = true)), ["3000v0", "3021v0", "3021v1", "3022v0", "3023v0", "3024v0", "3025v0", "3026v0", "3027v0"]);
      const meta = (prop(only(run(hostOf("server-2025").host, "Get-WinEvent", { ListProvider: "microsoft-windows-smbserver" })), "Events") as PSArray).items[1];
      assert.deepEqual(num(prop(meta, "Id")), { type: "Int64", value: 3021 });
      assert.equal(prop(prop(meta, "LogLink")!, "LogName"), SERVER_LOG);
      assert.equal(
        prop(meta, "Template"),
        '<template xmlns="http://schemas.microsoft.com/win/2004/08/events">\r\n' +
          '  <data name="ClientNameLength" inType="win:UInt16" outType="xs:unsignedShort"/>\r\n' +
          '  <data name="ClientName" inType="win:UnicodeString" outType="xs:string"/>\r\n' +
          '  <data name="ServerRequiresSigning" inType="win:Boolean" outType="xs:boolean"/>\r\n' +
          "</template>",
      );
      assert.equal(prop(meta, "Description"), null, "no source gives 3021's message text");
      const error = oneError(run(hostOf("server-2008r2").host, "Get-WinEvent", { ListProvider: AUDIT_LOGS.server.provider }));
      assert.deepEqual([error.fullyQualifiedErrorId, error.category, error.message], [
        "NoMatchingProvidersFound,Microsoft.PowerShell.Commands.GetWinEventCommand",
        "ObjectNotFound",
        'There is not an event provider on the localhost computer that matches "Microsoft-Windows-SMBServer".',
      ]);
      assert.throws(() => run(hostOf("server-2025").host, "Get-WinEvent", { ListProvider: "Microsoft-Windows-SMB*" }), SurfaceGap);
      assert.throws(() => run(hostOf("server-2025").host, "Get-WinEvent", { ListProvider: "Microsoft-Windows-Security-Auditing" }), SurfaceGap);
    });

    it("-FilterHashtable: newest first, at most -MaxEvents, only the listed ids and from StartTime on; each record with Id, Version, TimeCreated (local), typed Properties and ToXml()", () => {
      const { host } = hostOf("server-2025", (s) => {
        const at = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * 3_600_000);
        s.auditLogs.server!.events.push(
          auditEvent(definition(3021), at(30 * 24), { ClientName: "\\\\10.0.0.1" }),
          auditEvent(definition(3021), at(5), { ClientName: "\\\\10.0.4.17" }),
          auditEvent(definition(3023), at(4), { ClientName: "\\\\10.0.4.99" }),
          auditEvent(definition(3000), at(3), { ClientName: "10.0.4.18" }),
          auditEvent(definition(3022), at(2), { ClientName: "\\\\10.0.4.19", SmbClientDoesNotSupportEncryptionType: 1 }),
        );
      });
      const events = run(host, "Get-WinEvent", { FilterHashtable: filter(7), MaxEvents: new PSNumber("Int32", 2000) }).output;
      assert.deepEqual(
        events.map((e) => num(prop(e, "Id")).value),
        [3022, 3000, 3021],
      );
      const last = events[2];
      const time = prop(last, "TimeCreated");
      assert.ok(time instanceof PSDateTime);
      assert.equal(time.kind, "Local");
      assert.equal(time.epochMs, NOW.getTime() - 5 * 3_600_000);
      assert.deepEqual(num(prop(last, "Version")), { type: "Byte", value: 0 });
      const values = (prop(last, "Properties") as PSArray).items.map((p) => prop(p, "Value"));
      assert.deepEqual(num(values[0]), { type: "UInt16", value: 11 }, "ClientNameLength: the name's length in characters");
      assert.deepEqual(values.slice(1), ["\\\\10.0.4.17", false]);
      assert.equal(
        xmlOf(last),
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-SMBServer'/><EventID>3021</EventID><Version>0</Version>" +
          `<TimeCreated SystemTime='${new Date(NOW.getTime() - 5 * 3_600_000).toISOString().replace("Z", "0000Z")}'/><EventRecordID>2</EventRecordID><Channel>Microsoft-Windows-SMBServer/Audit</Channel></System>` +
          "<EventData><Data Name='ClientNameLength'>11</Data><Data Name='ClientName'>\\\\10.0.4.17</Data><Data Name='ServerRequiresSigning'>false</Data></EventData></Event>",
      );
      assert.match(xmlOf(events[0]), /<Data Name='ServerRequiresEncryption'>false<\/Data><Data Name='SmbClientDoesNotSupportEncryptionType'>1<\/Data><\/EventData>/);
      assert.deepEqual(
        run(host, "Get-WinEvent", { FilterHashtable: filter(7), MaxEvents: int32(2) }).output.map((e) => num(prop(e, "Id")).value),
        [3022, 3000],
      );
    });

    it("ToXml() escapes text, writes an empty string as an empty element, and binary data as hexadecimal or, where a test says so, as <IP>:<port>", () => {
      const at = new Date(NOW.getTime() - 3_600_000);
      const v4 = [2, 0, 0xc0, 0x46, 10, 0, 4, 17, 0, 0, 0, 0, 0, 0, 0, 0];
      const v6 = [23, 0, 1, 0xbd, 0, 0, 0, 0, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0];
      const { host } = hostOf("server-2025", (s) =>
        s.auditLogs.server!.events.push(
          { id: 3021, version: 0, timeCreated: at.toISOString(), data: [{ name: "ClientName", type: "UnicodeString", value: "a<b>&'c" }, { name: "UserName", type: "UnicodeString", value: "" }] },
          { id: 3021, version: 0, timeCreated: at.toISOString(), data: [{ name: "ClientAddress", type: "Binary", value: v4 }, { name: "ClientAddress", type: "Binary", value: v6 }] },
          { id: 3021, version: 0, timeCreated: at.toISOString(), data: [{ name: "ClientAddress", type: "Binary", value: v4, render: "socketAddress" }, { name: "ClientAddress", type: "Binary", value: v6, render: "socketAddress" }] },
        ),
      );
      const [sock, hex, text] = run(host, "Get-WinEvent", { FilterHashtable: filter(1) }).output.map(xmlOf);
      assert.match(text, /<EventData><Data Name='ClientName'>a&lt;b&gt;&amp;'c<\/Data><Data Name='UserName'><\/Data><\/EventData>/);
      assert.match(hex, /<Data Name='ClientAddress'>0200C0460A000411(00){8}<\/Data><Data Name='ClientAddress'>170001BD00000000FE80(00){13}0104000000<\/Data>/);
      assert.match(sock, /<Data Name='ClientAddress'>10\.0\.4\.17:49222<\/Data><Data Name='ClientAddress'>\[fe80::1%4\]:445<\/Data>/);
      const bytes = (prop((prop(run(host, "Get-WinEvent", { FilterHashtable: filter(1) }).output[1], "Properties") as PSArray).items[0], "Value") as PSArray).items;
      assert.deepEqual(bytes.map((b) => num(b)), v4.map((value) => ({ type: "Byte", value })));
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
      const outcome = run(hostOf("server-2008r2").host, "Get-WinEvent", { FilterHashtable: filter(7), MaxEvents: int32(10) });
      assert.equal(oneError(outcome).fullyQualifiedErrorId, "NoMatchingLogsFound,Microsoft.PowerShell.Commands.GetWinEventCommand");
    });

    it("smbConnect logs what the release's manifest has, where its audit is on: 3021 (version 1 with KB5066913, with the account), 3027 for SMB 1 only with KB5066913, 31998, and 3022 / 31999 for a peer that cannot encrypt", () => {
      const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000);
      const logged = (state: HostState, side: "server" | "client") =>
        state.auditLogs[side]!.events.map((e) => [e.id, e.version, Object.fromEntries(e.data.map((d) => [d.name, d.value]))]);
      const srv25 = newHostState("server-2025");
      srv25.server.AuditClientDoesNotSupportSigning = true;
      assert.equal(smbConnect(srv25, { direction: "inbound", address: "10.0.4.16", signs: false, at: at(1) }).audited, true);
      assert.equal(smbConnect(srv25, { direction: "inbound", address: "10.0.4.18", signs: false, smb1: true, at: at(1) }).audited, false, "no 3027 before KB5066913");
      assert.equal(smbConnect(srv25, { direction: "inbound", address: "10.0.4.19", name: "SCANNER01", signs: true, encrypts: false }).audited, false, "encryption audit off");
      srv25.encryptionAudit = { server: true };
      assert.equal(smbConnect(srv25, { direction: "inbound", address: "10.0.4.19", name: "SCANNER01", signs: true, encrypts: false }).audited, true);
      assert.deepEqual(logged(srv25, "server"), [
        [3021, 0, { ClientNameLength: 11, ClientName: "\\\\10.0.4.16", ServerRequiresSigning: false }],
        [3022, 0, { ClientNameLength: 9, ClientName: "SCANNER01", ServerRequiresEncryption: false, SmbClientDoesNotSupportEncryptionType: 0 }],
      ]);

      const patched = newHostState("server-2022");
      patched.kb5066913 = true;
      patched.registryOnly = { server: { AuditClientDoesNotSupportSigning: 1 } };
      smbConnect(patched, { direction: "inbound", address: "10.0.7.7", signs: false, account: "CONTOSO\\scan" });
      smbConnect(patched, { direction: "inbound", address: "10.0.7.8", signs: false, smb1: true });
      assert.deepEqual(logged(patched, "server"), [
        [3021, 1, { ClientNameLength: 10, ClientName: "\\\\10.0.7.7", UserNameLength: 12, UserName: "CONTOSO\\scan", ServerRequiresSigning: false }],
        [3027, 0, { ClientNameLength: 10, ClientName: "\\\\10.0.7.8", ServerRequiresSigning: false }],
      ]);
      const unpatched = newHostState("server-2022");
      unpatched.groupPolicy.administrativeTemplates.server = { AuditClientDoesNotSupportSigning: true };
      assert.equal(smbConnect(unpatched, { direction: "inbound", address: "10.0.7.7", signs: false }).audited, false, "without KB5066913 the release has no such event");

      const home = newHostState("win11-24h2-home");
      home.client.AuditServerDoesNotSupportSigning = true;
      home.encryptionAudit = { client: true };
      smbConnect(home, { direction: "outbound", address: "10.0.9.5", signs: false });
      smbConnect(home, { direction: "outbound", address: "10.0.9.6", name: "\\nas01", signs: true, encrypts: false });
      assert.deepEqual(logged(home, "client"), [
        [31998, 0, { ServerNameLength: 9, ServerName: "\\10.0.9.5", ClientRequireSigning: false }],
        [31999, 0, { ServerNameLength: 6, ServerName: "\\nas01", ClientRequireEncryption: false }],
      ]);
    });

    it("other logs, keys or parameters are a SurfaceGap", () => {
      const { host } = hostOf("server-2025");
      assert.throws(() => run(host, "Get-WinEvent", { ListLog: "System" }), SurfaceGap);
      assert.throws(() => run(host, "Get-WinEvent", { ListLog: "Microsoft-Windows-SMB*" }), SurfaceGap);
      assert.throws(() => run(host, "Get-WinEvent", { FilterHashtable: hashtable({ LogName: SERVER_LOG, Level: int32(2) }) }), SurfaceGap);
      assert.throws(() => run(host, "Get-WinEvent", { LogName: SERVER_LOG }), SurfaceGap);
    });
  });
  describe("hosts that half-work", () => {
    before(async () => {
      await initParser();
    });
    /** The objects a script writes on the host, as plain JS; throws with the message of an uncaught error. */
    const ps = (state: HostState, script: string): unknown[] => {
      const r = evaluate(script, windowsSurface(state, { now: () => NOW }));
      if (r.uncaught) throw new Error(`uncaught: ${r.uncaught.message} [${r.uncaught.fullyQualifiedErrorId}]`);
      return r.output.map((v) => (v instanceof PSNumber ? v.value : isHostObject(v) ? `<${v.typeNames[0]}>` : v instanceof PSEnum ? v.name : v));
    };
    const caught = (state: HostState, script: string): string[] => ps(state, `try { ${script} } catch { $_.Exception.Message; $_.FullyQualifiedErrorId; [string]$_.CategoryInfo.Category }`) as string[];

    it("stoppedServices: Get- and Set-SmbServerConfiguration fail with 'The service has not been started.' (Windows System Error 1062, NotSpecified); the client side and the Parameters key still answer", () => {
      const state = newHostState("server-2022");
      state.faults.stoppedServices = ["LanmanServer"];
      const host = windowsSurface(state, { now: () => NOW });
      const get = oneError(run(host, "Get-SmbServerConfiguration"));
      assert.deepEqual([get.message, get.fullyQualifiedErrorId, get.category], ["The service has not been started.", "Windows System Error 1062,Get-SmbServerConfiguration", "NotSpecified"]);
      const set = oneError(run(host, "Set-SmbServerConfiguration", { RequireSecuritySignature: true, Force: true }));
      assert.equal(set.fullyQualifiedErrorId, "Windows System Error 1062,Set-SmbServerConfiguration");
      assert.equal(state.server.RequireSecuritySignature, false);
      assert.equal(run(host, "Get-SmbClientConfiguration").errors.length, 0);
      assert.equal(run(host, "Get-ItemProperty", { Path: SERVER }).errors.length, 0);
    });

    it("[Environment]::Is64BitProcess follows HostState.process32; Is64BitOperatingSystem is true (every modelled host is x64); a type neither the engine nor the host knows is refused", () => {
      const state = newHostState("server-2022");
      assert.deepEqual(ps(state, "[Environment]::Is64BitProcess; [System.Environment]::Is64BitOperatingSystem"), [true, true]);
      state.process32 = true;
      assert.deepEqual(ps(state, "[Environment]::Is64BitProcess"), [false]);
      assert.throws(() => ps(state, "[Microsoft.Win32.Registry]::LocalMachine"), /Registry/);
    });

    it("RegistryKey in the 64-bit view: OpenSubKey ($null when missing), GetValue (Int32 for REG_DWORD, $null when absent), CreateSubKey + SetValue(String) write the record (counted), DeleteSubKeyTree(name, $false) removes it and ignores a missing key; void methods write nothing", () => {
      const state = newHostState("server-2022");
      const open = "$m = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64); ";
      assert.deepEqual(ps(state, open + "$k = $m.OpenSubKey('SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion'); $k.GetValue('UBR'); $k.GetValue('CurrentBuildNumber'); $k.GetValue('Nope'); $k.Close()"), [2762, "20348", null]);
      assert.deepEqual(ps(state, open + "$null -eq $m.OpenSubKey('SOFTWARE\\pulumi-smb-signing')"), [true]);
      assert.deepEqual(ps(state, open + "$k = $m.CreateSubKey('SOFTWARE\\pulumi-smb-signing'); $k.SetValue('OriginalSettings', '{}', [Microsoft.Win32.RegistryValueKind]::String); $k.Close(); $m.Close()"), []);
      assert.equal(state.record, "{}");
      assert.equal(state.counters.recordWrites, 1);
      assert.deepEqual(ps(state, open + "$m.OpenSubKey('SOFTWARE\\pulumi-smb-signing').GetValue('OriginalSettings')"), ["{}"]);
      assert.deepEqual(ps(state, open + "$m.DeleteSubKeyTree('SOFTWARE\\pulumi-smb-signing', $false); $m.DeleteSubKeyTree('SOFTWARE\\pulumi-smb-signing', $false)"), []);
      assert.equal(state.record, undefined);
      assert.deepEqual(caught(state, open + "$m.DeleteSubKeyTree('SOFTWARE\\pulumi-smb-signing', $true)"), [
        'Exception calling "DeleteSubKeyTree" with "2" argument(s): "Cannot delete a subkey tree because the subkey does not exist."',
        "ArgumentException",
        "NotSpecified",
      ]);
      assert.deepEqual(caught(state, open + "$m.Close(); $m.OpenSubKey('SOFTWARE')"), ['Exception calling "OpenSubKey" with "1" argument(s): "Cannot access a closed registry key."', "ObjectDisposedException", "NotSpecified"]);
    });

    it("a non-administrator: CreateSubKey is UnauthorizedAccessException, OpenSubKey(name, $true) SecurityException, SetValue on a key opened read-only UnauthorizedAccessException, DeleteSubKeyTree(name, $false) silently nothing (.NET's InternalOpenSubKey gives $null)", () => {
      const state = newHostState("server-2022");
      state.record = "{}";
      state.faults.nonAdmin = true;
      const open = "$m = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64); ";
      assert.deepEqual(caught(state, open + "$m.CreateSubKey('SOFTWARE\\pulumi-smb-signing')").slice(1), ["UnauthorizedAccessException", "NotSpecified"]);
      assert.match(caught(state, open + "$m.CreateSubKey('SOFTWARE\\pulumi-smb-signing')")[0], /"Access to the registry key 'HKEY_LOCAL_MACHINE\\SOFTWARE\\pulumi-smb-signing' is denied\."/);
      assert.deepEqual(caught(state, open + "$m.OpenSubKey('SOFTWARE\\pulumi-smb-signing', $true)"), ['Exception calling "OpenSubKey" with "2" argument(s): "Requested registry access is not allowed."', "SecurityException", "NotSpecified"]);
      assert.deepEqual(caught(state, open + "$m.OpenSubKey('SOFTWARE\\pulumi-smb-signing').SetValue('OriginalSettings', 'x', [Microsoft.Win32.RegistryValueKind]::String)").slice(1), ["UnauthorizedAccessException", "NotSpecified"]);
      assert.deepEqual(ps(state, open + "$m.DeleteSubKeyTree('SOFTWARE\\pulumi-smb-signing', $false)"), []);
      assert.equal(state.record, "{}");
    });

    it("WOW64 (process32): the registry drive and the Default view read HKLM\\SOFTWARE\\pulumi-smb-signing and CurrentVersion under WOW6432Node, Registry64 the real keys; SOFTWARE\\Policies and SYSTEM are shared", () => {
      const state = newHostState("server-2022");
      state.process32 = true;
      state.record = "64-bit";
      state.groupPolicy.administrativeTemplates.server.AuditClientDoesNotSupportSigning = true;
      const host = windowsSurface(state, { now: () => NOW });
      assert.equal(run(host, "Test-Path", { Path: RECORD }).output[0], false, "the drive sees WOW6432Node, where no record is");
      run(host, "New-Item", { Path: RECORD, Force: true });
      run(host, "Set-ItemProperty", { Path: RECORD, Name: "OriginalSettings", Value: "32-bit", Type: "String" });
      assert.deepEqual([state.record, state.record32], ["64-bit", "32-bit"]);
      const view = (v: string) => `$m = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::${v}); $m.OpenSubKey('SOFTWARE\\pulumi-smb-signing').GetValue('OriginalSettings'); $m.OpenSubKey('SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion').GetValue('UBR')`;
      assert.deepEqual(ps(state, view("Registry64")), ["64-bit", 2762]);
      assert.deepEqual(ps(state, view("Default")), ["32-bit", null]);
      assert.equal(run(host, "Get-ItemProperty", { Path: "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\LanmanServer" }).output.length, 1, "Policies is shared");
      assert.equal(run(host, "Get-ItemProperty", { Path: SERVER }).output.length, 1, "SYSTEM is shared");
    });

    it("a raw registry write under Parameters leaves the running service on its old values (running) until restartService; the cmdlets' writes take effect at once", () => {
      const state = newHostState("server-2022");
      const host = windowsSurface(state, { now: () => NOW });
      run(host, "Set-ItemProperty", { Path: SERVER, Name: "RequireSecuritySignature", Value: int32(1), Type: "DWord" });
      assert.equal(state.server.RequireSecuritySignature, true);
      assert.equal(state.running?.server?.RequireSecuritySignature, false);
      assert.equal(smbConnect(state, { direction: "inbound", address: "10.0.0.9", signs: false }).connected, true);
      restartService(state, "server");
      assert.equal(smbConnect(state, { direction: "inbound", address: "10.0.0.9", signs: false }).connected, false);
      run(host, "Set-SmbClientConfiguration", { RequireSecuritySignature: true, Force: true });
      assert.equal(state.running?.client, undefined);
    });
  });
});
