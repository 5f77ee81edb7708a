// The shipped scripts run end to end through the PowerShell interpreter (test/simhost/powershell/)
// on a stub host of this file's own: bootstrap.ps1 as powershell.exe -EncodedCommand runs it,
// smb-signing.ps1 from stdin, a read request. Also: PowerShell 2.0 and Constrained Language Mode
// sessions get bootstrap.ps1's typed errors through the same interpreter.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SCRIPTS_DIR } from "../../provider/host/protocol";
import { HostCommand, PSValue, PowerShellHost, array, customObject, hostObject, int32 } from "../simhost/powershell/host";
import { initParser, runPowerShellSync } from "../simhost/powershell/run";
import { PSDateTime } from "../simhost/powershell/values";

const bootstrap = fs.readFileSync(path.join(SCRIPTS_DIR, "bootstrap.ps1"), "utf8");
const signing = fs.readFileSync(path.join(SCRIPTS_DIR, "smb-signing.ps1"), "utf8");

const NOW = new Date("2025-06-01T12:00:00Z");

/** A small Windows: registry values, SMB settings, audit logs; enough for the scripts' reads. */
interface Stub {
  registry: Map<string, Map<string, PSValue>>;
  client: Record<string, boolean>;
  server: Record<string, boolean>;
  events: Array<{ id: number; at: string; properties: string[] }>;
  calls: string[];
}

function stubWindows(): Stub {
  const registry = new Map<string, Map<string, PSValue>>();
  registry.set(
    "hklm:\\software\\microsoft\\windows nt\\currentversion",
    new Map<string, PSValue>([
      ["ProductName", "Windows Server 2025 Datacenter"],
      ["EditionID", "ServerDatacenter"],
      ["DisplayVersion", "24H2"],
      ["CurrentBuildNumber", "26100"],
      ["UBR", int32(4061)],
    ]),
  );
  return {
    registry,
    client: { RequireSecuritySignature: true, EnableSecuritySignature: true, EnableInsecureGuestLogons: false, AuditServerDoesNotSupportSigning: false, AuditInsecureGuestLogon: false },
    server: { RequireSecuritySignature: false, EnableSecuritySignature: false, AuditClientDoesNotSupportSigning: true, AuditInsecureGuestLogon: false },
    events: [],
    calls: [],
  };
}

function hostFor(w: Stub, session: Partial<PowerShellHost["session"]> = {}): PowerShellHost {
  const pathNotFound = (p: string) => ({
    message: `Cannot find path '${p.replace(/^HKLM:/i, "HKEY_LOCAL_MACHINE")}' because it does not exist.`,
    category: "ObjectNotFound" as const,
    fullyQualifiedErrorId: "PathNotFound,Microsoft.PowerShell.Commands.GetItemPropertyCommand",
    exceptionType: "System.Management.Automation.ItemNotFoundException",
    targetObject: p,
  });
  const settings = (side: "client" | "server") =>
    hostObject([`Microsoft.Management.Infrastructure.CimInstance#ROOT/Microsoft/Windows/SMB/MSFT_Smb${side === "client" ? "Client" : "Server"}Configuration`], { ...w[side] });
  const commands: Record<string, HostCommand> = {
    "Get-ItemProperty": {
      parameters: { Path: { position: 0 }, Name: { position: 1 } },
      run(call) {
        const p = String(call.parameters.Path);
        w.calls.push(`Get-ItemProperty ${p}`);
        const key = w.registry.get(p.toLowerCase());
        if (!key) {
          call.writeError(pathNotFound(p));
          return;
        }
        const name = call.parameters.Name;
        if (typeof name === "string" && !key.has(name)) {
          call.writeError({ message: `Property ${name} does not exist at path ${p}.`, category: "InvalidArgument", fullyQualifiedErrorId: "System.Management.Automation.PSArgumentException,Microsoft.PowerShell.Commands.GetItemPropertyCommand" });
          return;
        }
        return customObject(Object.fromEntries([...key].filter(([k]) => typeof name !== "string" || k === name)));
      },
    },
    "Get-CimInstance": {
      parameters: { ClassName: { position: 0 }, Namespace: {}, Filter: {} },
      run(call) {
        w.calls.push(`Get-CimInstance ${String(call.parameters.ClassName)}`);
        if (call.parameters.ClassName === "Win32_ComputerSystem") return hostObject("Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_ComputerSystem", { DomainRole: int32(3) });
        return []; // RSoP: no policy
      },
    },
    "Get-SmbClientConfiguration": { parameters: {}, run: () => settings("client") },
    "Get-SmbServerConfiguration": { parameters: {}, run: () => settings("server") },
    "Get-WinEvent": {
      parameters: { ListLog: {}, FilterHashtable: {}, MaxEvents: {} },
      run(call) {
        if ("ListLog" in call.parameters) {
          if (call.parameters.ListLog === "Microsoft-Windows-SMBServer/Audit") return hostObject("System.Diagnostics.Eventing.Reader.EventLogConfiguration", { LogName: call.parameters.ListLog, IsEnabled: true });
          call.writeError({ message: `There is not an event log on the localhost computer that matches "${String(call.parameters.ListLog)}".`, category: "ObjectNotFound", fullyQualifiedErrorId: "NoMatchingLogsFound,Microsoft.PowerShell.Commands.GetWinEventCommand" });
          return;
        }
        if (w.events.length === 0) {
          call.writeError({ message: "No events were found that match the specified selection criteria.", category: "ObjectNotFound", fullyQualifiedErrorId: "NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand" });
          return;
        }
        return w.events.map((e) =>
          hostObject("System.Diagnostics.Eventing.Reader.EventLogRecord", {
            Id: int32(e.id),
            TimeCreated: new PSDateTime(Date.parse(e.at), "Local", 0),
            Properties: array(e.properties.map((v) => hostObject("System.Diagnostics.Eventing.Reader.EventProperty", { Value: v }))),
          }),
        );
      },
    },
  };
  return {
    session: { psVersion: "5.1.26100.4061", languageMode: "FullLanguage", now: () => NOW, ...session },
    commands,
  };
}

function run(w: Stub, request: unknown, session: Partial<PowerShellHost["session"]> = {}) {
  const stdin = JSON.stringify({ script: signing, request: JSON.stringify(request) });
  return runPowerShellSync({ script: bootstrap, stdin, host: hostFor(w, session) });
}

describe("the shipped scripts through the PowerShell interpreter", () => {
  before(async () => {
    await initParser();
  });

  it("answers a read request with the host's settings (bootstrap.ps1 + smb-signing.ps1)", () => {
    const w = stubWindows();
    const r = run(w, { operation: "read", ownerId: "", ownerLabel: "urn:x", legacyOwners: [] });
    assert.equal(r.stderr, "");
    assert.equal(r.exitCode, 0, r.stdout);
    const reply = JSON.parse(r.stdout);
    assert.equal(reply.status, "ok");
    assert.equal(reply.source, "cmdlet");
    assert.deepEqual(reply.before.client, w.client);
    assert.deepEqual(reply.after.server, w.server);
    assert.equal(reply.host.build, "26100.4061");
    assert.equal(reply.host.domainRole, 3);
    assert.equal(reply.record, null);
    assert.equal(reply.ours, true);
    assert.deepEqual(reply.changed, []);
  });
});
