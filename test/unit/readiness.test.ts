// Readiness from the SMB audit logs, end to end on simulated hosts: the shipped smb-signing.ps1
// reads the logs through the interpreter on the model of Windows (SMB sessions logged by
// smbConnect with the events' real templates), the provider decodes the reply and says what
// requiring signing would do. Three things (issue 22): the peer is the event's named field,
// decoded where it is a socket address; only the events whose template names signing count, as
// the provider's own manifest says at run time; and releases before 24H2 have the logs, so the
// text fits each preset, and a host patched with KB5066913 whose audit no setting shows is
// believed from its events. Sources: docs/windows-model.md, "SMB sessions and the SMB audit logs".
import assert from "node:assert/strict";
import { consequencesOf, Readiness } from "../../provider/domain/impact";
import type { ObservedSettings } from "../../provider/domain/policy";
import { decodeReply } from "../../provider/host/signingScript";
import { AuditEventData, HostState, newHostState, PresetName, PRESETS, smbConnect, SmbPeer } from "../simhost/model";
import { loadInterpreter, runShipped } from "./shippedScripts";

const HOUR = 3_600_000;
const hoursAgo = (n: number) => new Date(Date.now() - n * HOUR);

interface LogReply {
  log: string;
  signingIds?: number[];
  events: number;
  peers: Array<{ peer: string; events: number; ids: number[] }>;
}

/** One read with the audit logs, as the provider asks for it: the script's reply, and the provider's readiness from it. */
function read(state: HostState): { server: LogReply; client: LogReply; readiness: Readiness } {
  const run = runShipped(state, { operation: "read", ownerId: "", ownerLabel: "urn:readiness", auditDays: 7, auditMaxEvents: 2000 });
  assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  const audit = run.reply!.audit as { server: LogReply; client: LogReply };
  const result = decodeReply("host", { stdout: Buffer.from(run.stdout), stderr: Buffer.alloc(0), exitCode: run.exitCode });
  return { ...audit, readiness: result.readiness! };
}

const peersOf = (log: LogReply) => log.peers.map((p) => [p.peer, p.events, p.ids]);

/** What requiring signing on both sides would say about who would be refused, from a host that requires it on neither. */
function readinessLines(readiness: Readiness): { server: string[]; client: string[] } {
  const off = (): ObservedSettings => ({ client: { requireSigning: false }, server: { requireSigning: false } });
  const out = consequencesOf({ before: off(), declared: { client: { requireSigning: true }, server: { requireSigning: true } }, readiness, tense: "future" });
  const lines = (side: string) => out.filter((c) => c.setting === `${side}.requireSigning` && !c.text.startsWith(`${side}.requireSigning: true:`)).map((c) => `${c.severity} ${c.text}`);
  return { server: lines("server"), client: lines("client") };
}

function host(preset: PresetName, edit: (s: HostState) => void = () => {}): HostState {
  const state = newHostState(preset);
  edit(state);
  return state;
}

const inbound = (address: string, more: Partial<SmbPeer> = {}): SmbPeer => ({ direction: "inbound", address, signs: false, at: hoursAgo(2), ...more });
const outbound = (address: string, more: Partial<SmbPeer> = {}): SmbPeer => ({ direction: "outbound", address, signs: false, at: hoursAgo(2), ...more });

/** A Windows Server 2022 patched with KB5066913 whose server signing audit was turned on through the registry (no cmdlet shows it). */
const patched2022 = (edit: (s: HostState) => void = () => {}) =>
  host("server-2022", (s) => {
    s.kb5066913 = true;
    s.registryOnly = { server: { AuditClientDoesNotSupportSigning: 1 } };
    edit(s);
  });

describe("readiness from the SMB audit logs (smb-signing.ps1 on simulated hosts, then the provider)", () => {
  before(async () => {
    await loadInterpreter();
  });

  describe("peers: the event's named field (ClientName, ServerName), never a length or a flag", () => {
    it("names a client logged by its host name, one logged by its address, and a server this host reached by name, each without leading backslashes", () => {
      // Windows 11 24H2 Home requires signing on neither side, so both sessions go ahead unsigned and are logged.
      const state = host("win11-24h2-home", (s) => {
        s.server.AuditClientDoesNotSupportSigning = true;
        s.client.AuditServerDoesNotSupportSigning = true;
      });
      smbConnect(state, inbound("10.0.4.17", { name: "\\\\SCANNER01" }));
      smbConnect(state, inbound("10.0.4.17", { name: "\\\\SCANNER01" }));
      smbConnect(state, inbound("10.0.4.18"));
      smbConnect(state, outbound("10.0.9.5", { name: "\\nas01" }));
      const r = read(state);
      assert.deepEqual(peersOf(r.server), [
        ["SCANNER01", 2, [3021]],
        ["10.0.4.18", 1, [3021]],
      ]);
      assert.deepEqual(peersOf(r.client), [["nas01", 1, [31998]]]);
    });

    it("on a KB5066913 host, 3021 version 1 carries the account between the client's name and the flag: the peer is still the client", () => {
      const state = patched2022();
      smbConnect(state, inbound("10.0.7.7", { name: "\\\\PRINTER7", account: "CONTOSO\\scan" }));
      smbConnect(state, inbound("10.0.7.8", { account: "CONTOSO\\svc-backup" }));
      assert.deepEqual(state.auditLogs.server!.events.map((e) => [e.id, e.version]), [
        [3021, 1],
        [3021, 1],
      ]);
      assert.deepEqual(peersOf(read(state).server), [
        ["10.0.7.8", 1, [3021]],
        ["PRINTER7", 1, [3021]],
      ]);
    });

    it("decodes a socket address an event carries where it names no client: SOCKADDR_IN and SOCKADDR_IN6 in hexadecimal, or as <IP>:<port>", () => {
      // None of the signing events read so far carries an address (other SMB server events do:
      // ClientAddressLength, ClientAddress); a version that does is read by its name all the same.
      const v4 = [2, 0, 0xc0, 0x46, 10, 0, 4, 17, 0, 0, 0, 0, 0, 0, 0, 0];
      const v6 = [23, 0, 1, 0xbd, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 4, 0, 0, 0];
      const v6low = [23, 0, 1, 0xbd, 0, 0, 0, 0, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0, 0, 0, 1, 0, 0, 0, 0];
      const withAddress = (bytes: number[], render?: "hex" | "socketAddress"): AuditEventData[] => [
        { name: "ClientNameLength", type: "UInt16", value: 0 },
        { name: "ClientName", type: "UnicodeString", value: "" },
        { name: "ClientAddressLength", type: "UInt32", value: bytes.length },
        { name: "ClientAddress", type: "Binary", value: bytes, ...(render ? { render } : {}) },
        { name: "ServerRequiresSigning", type: "Boolean", value: false },
      ];
      const state = host("server-2025", (s) => {
        s.server.AuditClientDoesNotSupportSigning = true;
        const at = hoursAgo(1).toISOString();
        s.auditLogs.server!.events.push(
          { id: 3021, version: 0, timeCreated: at, data: withAddress(v4) },
          { id: 3021, version: 0, timeCreated: at, data: withAddress(v4, "socketAddress") },
          { id: 3021, version: 0, timeCreated: at, data: withAddress(v6) },
          { id: 3021, version: 0, timeCreated: at, data: withAddress(v6, "socketAddress") },
          { id: 3021, version: 0, timeCreated: at, data: withAddress(v6low) },
          // A name wins over an address where the event gives both.
          { id: 3021, version: 0, timeCreated: at, data: withAddress(v4).map((d) => (d.name === "ClientName" ? { ...d, value: "\\\\SCANNER01" } : d)) },
        );
      });
      assert.deepEqual(peersOf(read(state).server), [
        ["10.0.4.17", 2, [3021]],
        ["2001:db8::5", 2, [3021]],
        ["fe80::12:0:1", 1, [3021]],
        ["SCANNER01", 1, [3021]],
      ]);
    });

    it("reads the address as an event's XML may hold it (the form is unsettled): hexadecimal of either case, <IPv4>:<port>, [<IPv6>%<scope>]:<port>; the text itself when it is neither", () => {
      const zeros = (n: number) => "00".repeat(n);
      const cases: Array<[string, string]> = [
        [`0200c0460a000411${zeros(8)}`, "10.0.4.17"],
        ["10.0.4.17:49222", "10.0.4.17"],
        [`170001bd00000000fe80${zeros(13)}0104000000`, "fe80::1"],
        ["[FE80::1%4]:445", "fe80::1"],
        [`170001BD00000000${zeros(16)}00000000`, "::"],
        [`170001BD000000000001${zeros(14)}00000000`, "1::"],
        ["not an address", "not an address"],
      ];
      for (const [rendered, expected] of cases) {
        const state = host("server-2025", (s) => {
          s.server.AuditClientDoesNotSupportSigning = true;
          // The rendered text stands in the XML as it is: a string item of that name.
          s.auditLogs.server!.events.push({
            id: 3021,
            version: 0,
            timeCreated: hoursAgo(1).toISOString(),
            data: [
              { name: "ClientName", type: "UnicodeString", value: "" },
              { name: "ClientAddress", type: "UnicodeString", value: rendered },
              { name: "ServerRequiresSigning", type: "Boolean", value: false },
            ],
          });
        });
        assert.deepEqual(read(state).server.peers.map((p) => p.peer), [expected], rendered);
      }
    });
  });

  describe("which events mean signing: the provider's own manifest, read at run time", () => {
    it("counts a client or server that does not sign, not one that only does not encrypt (3022, 31999), and reports the signing IDs the release has", () => {
      const state = host("win11-24h2-home", (s) => {
        s.server.AuditClientDoesNotSupportSigning = true;
        s.client.AuditServerDoesNotSupportSigning = true;
        s.encryptionAudit = { server: true, client: true };
      });
      smbConnect(state, inbound("10.0.4.17"));
      smbConnect(state, inbound("10.0.4.30", { signs: true, encrypts: false }));
      smbConnect(state, outbound("10.0.9.5"));
      smbConnect(state, outbound("10.0.9.6", { signs: true, encrypts: false }));
      assert.deepEqual(state.auditLogs.server!.events.map((e) => e.id), [3021, 3022], "both kinds were logged");
      const r = read(state);
      assert.deepEqual(peersOf(r.server), [["10.0.4.17", 1, [3021]]]);
      assert.deepEqual(peersOf(r.client), [["10.0.9.5", 1, [31998]]]);
      assert.deepEqual([r.server.events, r.client.events], [1, 1]);
      assert.deepEqual([r.server.signingIds, r.client.signingIds], [[3021], [31998]]);
    });

    it("the signing IDs are the release's: none before 24H2, 3021 and 3027 with KB5066913 (an SMB 1 client counts), none on the client side there", () => {
      const ids = (state: HostState) => {
        const r = read(state);
        return [r.server.log, r.server.signingIds, r.client.log, r.client.signingIds];
      };
      assert.deepEqual(ids(host("server-2022")), ["available", [], "available", []]);
      assert.deepEqual(ids(host("win10-22h2-pro")), ["available", [], "available", []]);
      assert.deepEqual(ids(host("win11-24h2-pro")), ["available", [3021], "available", [31998]]);
      const state = patched2022();
      assert.deepEqual(ids(state), ["available", [3021, 3027], "available", []]);
      smbConnect(state, inbound("10.0.7.9", { smb1: true }));
      assert.deepEqual(peersOf(read(state).server), [["10.0.7.9", 1, [3027]]]);
    });
  });

  describe("releases before 24H2 have the logs: the readiness text fits each preset", () => {
    const expected = (preset: PresetName): { server: string; client: string } => {
      const server = "Microsoft-Windows-SMBServer/Audit";
      const client = "Microsoft-Windows-SMBClient/Audit";
      if (preset.startsWith("server-2008r2")) {
        return {
          server: `warning this host cannot tell which clients do not sign: its release has no ${server} log (Windows 10 and Windows Server 2016 brought it)`,
          client: `warning this host cannot tell which servers do not sign: its release has no ${client} log (Windows 10 and Windows Server 2016 brought it)`,
        };
      }
      if (preset.startsWith("win11-24h2") || preset.startsWith("server-2025")) {
        return {
          server: "warning this host does not log clients that do not sign (server.auditClientDoesNotSupportSigning is false): turn that audit on for a while first to learn who would be refused",
          client: "warning this host does not log servers that do not sign (client.auditServerDoesNotSupportSigning is false): turn that audit on for a while first to learn who would be unreachable",
        };
      }
      return {
        server: `warning this host cannot tell which clients do not sign: its release logs no such event in ${server} (Windows 11 24H2 and Windows Server 2025 do, and older releases with KB5066913 once its Group Policy "Audit client does not support signing" is on)`,
        client: `warning this host cannot tell which servers do not sign: its release logs no such event in ${client} (Windows 11 24H2 and Windows Server 2025 do)`,
      };
    };
    // server-2008r2-stock runs PowerShell 2.0: bootstrap.ps1 refuses it before any reading (powershellScripts.test.ts).
    for (const preset of (Object.keys(PRESETS) as PresetName[]).filter((p) => p !== "server-2008r2-stock")) {
      it(`${preset}: ${expected(preset).server.slice(8, 70)}...`, () => {
        const lines = readinessLines(read(host(preset)).readiness);
        assert.deepEqual(lines, { server: [expected(preset).server], client: [expected(preset).client] });
      });
    }

    it("KB5066913 with the audit turned on through the registry: its events are the evidence that it audits, and readiness names the clients", () => {
      const state = patched2022();
      smbConnect(state, inbound("10.0.7.7"));
      const r = read(state);
      assert.equal(r.readiness.server.auditing, true);
      const [line] = readinessLines(r.readiness).server;
      assert.match(line, /^warning 1 client in the last 7 days connected without signing: 10\.0\.7\.7 \(Microsoft-Windows-SMBServer\/Audit, event 3021, read /);
    });

    it("KB5066913 installed, but no setting, policy or event shows the audit on: says the release can log and nothing shows that it does", () => {
      const r = read(host("server-2022", (s) => (s.kb5066913 = true)));
      assert.equal(r.readiness.server.auditing, null);
      assert.deepEqual(readinessLines(r.readiness).server, [
        'warning this host can log clients that do not sign (Microsoft-Windows-SMBServer/Audit, event 3021, 3027) but nothing shows that it does: this release\'s Get-SmbServerConfiguration has no AuditClientDoesNotSupportSigning, no Group Policy turns that audit on, and no such event was logged in the last 7 days; turn it on (the Group Policy "Audit client does not support signing") for a while first to learn who would be refused',
      ]);
      // With its Group Policy on and nobody logged, the log speaks: good news, as information.
      const quiet = read(
        host("server-2022", (s) => {
          s.kb5066913 = true;
          s.groupPolicy.gpo = "SMB signing audit";
          s.groupPolicy.administrativeTemplates.server = { AuditClientDoesNotSupportSigning: true };
        }),
      );
      assert.match(readinessLines(quiet.readiness).server[0], /^info no client connected without signing in the last 7 days/);
    });
  });
});
