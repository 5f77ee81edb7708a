// The provider's create/read/update/delete against simulated Windows hosts through real sshd:
// one test host per preset, fault switches, host keys, credentials. Each test starts from a
// fresh host state (SimulatedFleet.reset).
import assert from "node:assert/strict";
import * as ops from "../../provider/operations";
import type { PolicyOutputs } from "../../provider/domain/policy";
import { HostError } from "../../provider/errors";
import { PresetName, PRESETS as MODEL_PRESETS } from "../simhost/model";
import { SIM_KEY_PASSPHRASE, SIM_PASSWORD, SimulatedFleet } from "../simhost/fleet";

describe("provider operations", () => {
  /** Every preset the model knows, but the stock 2008 R2 whose PowerShell 2.0 cannot run the scripts (tested on its own). */
  const PRESETS = (Object.keys(MODEL_PRESETS) as PresetName[]).filter((p) => p !== "server-2008r2-stock");

  let fleet: SimulatedFleet;

  before(async () => {
    fleet = await SimulatedFleet.start(
      PRESETS.map((p) => ({ name: p, preset: p })),
      { winrm: true },
    );
  });
  after(async () => {
    await fleet?.stop();
  });

  function reset(name: PresetName) {
    fleet.reset(name, name);
  }

  /** Checked inputs; the scenarios follow hosts back to their originals, so restore unless they say otherwise. */
  async function checked(news: Record<string, unknown>) {
    const r = await ops.check({}, { onDelete: "restore", ...news });
    assert.deepEqual(r.failures, undefined, JSON.stringify(r.failures));
    return r.inputs as Record<string, unknown>;
  }

  async function rejection(p: Promise<unknown>): Promise<HostError & { properties?: PolicyOutputs }> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof Error);
      return err as HostError;
    }
    assert.fail("expected the operation to fail");
  }

  const runs = (name: string) => fleet.state(name).counters.runs;

  /** Both transports run the same scripts against the same host model. */
  const TRANSPORTS = ["ssh", "winrm", "winrm-https"] as const;
  type Transport = (typeof TRANSPORTS)[number];
  const connect = (name: string, transport: Transport) =>
    fleet.connection(name, transport === "winrm" ? "winrm" : transport === "winrm-https" ? "winrmHttps" : "password");
  const emulator = (name: string, transport: Transport) => (transport === "winrm-https" ? fleet.winrmHttps : fleet.winrm).get(name)!;
  /** HTTP requests one WinRM operation makes: 2 for NTLM, Create, Command, Send, Receive, Signal, Delete. */
  const WINRM_REQUESTS_PER_OPERATION = 8;

  describe("lifecycle per preset", () => {
    for (const transport of TRANSPORTS) for (const preset of PRESETS) {
      it(`${preset} over ${transport}: create, read, update, delete each cost one remote run and restore the originals`, async () => {
        const requestsBefore = emulator(preset, transport).requests;
        reset(preset);
        const initial = fleet.state(preset);
        const registryOnly = preset === "server-2008r2";
        const inputs = await checked({ connection: connect(preset, transport), client: { requireSigning: true }, server: { requireSigning: true } });

        const created = await ops.create(inputs);
        assert.equal(runs(preset), 1);
        const outs = created.outs as PolicyOutputs;
        assert.equal(created.id, fleet.host(preset).address);
        assert.equal(fleet.state(preset).client.RequireSecuritySignature, true);
        assert.equal(fleet.state(preset).server.RequireSecuritySignature, true);
        assert.deepEqual(outs.originalSettings, {
          client: { requireSigning: initial.client.RequireSecuritySignature },
          server: { requireSigning: initial.server.RequireSecuritySignature },
        });
        // Unmanaged settings are reported, and untouched.
        assert.equal(outs.observed.client.enableSigning, initial.client.EnableSecuritySignature);
        assert.equal(outs.observed.client.auditServerDoesNotSupportSigning, initial.client.AuditServerDoesNotSupportSigning === undefined ? null : false);
        assert.equal(outs.settingsSource, registryOnly ? "registry" : "cmdlet");
        assert.equal(outs.hostFacts.build, initial.os.build);

        const read = await ops.read(created.id, outs as unknown as Record<string, unknown>);
        assert.equal(runs(preset), 2);
        assert.deepEqual((read.props as PolicyOutputs).observed, outs.observed);

        const news = await checked({
          connection: connect(preset, transport),
          client: { requireSigning: true, enableSigning: true },
          server: { requireSigning: true },
        });
        const updated = await ops.update(created.id, outs, news);
        assert.equal(runs(preset), 3);
        assert.equal(fleet.state(preset).client.EnableSecuritySignature, true);
        assert.deepEqual((updated.outs as PolicyOutputs).originalSettings.client, {
          requireSigning: initial.client.RequireSecuritySignature,
          enableSigning: initial.client.EnableSecuritySignature,
        });

        await ops.delete(created.id, updated.outs as PolicyOutputs);
        assert.equal(runs(preset), 4);
        const expectedRequests = transport === "ssh" ? 0 : 4 * WINRM_REQUESTS_PER_OPERATION;
        assert.equal(emulator(preset, transport).requests - requestsBefore, expectedRequests);
        const restored = fleet.state(preset);
        assert.deepEqual(restored.client, initial.client);
        assert.deepEqual(restored.server, initial.server);
      });
    }
  });

  describe("behaviour", () => {
    const host = "win11-24h2-home";
    beforeEach(() => reset(host));

    it("a refresh after another resource took the host over keeps this resource's originals: another owner's record is never taken as its own", async () => {
      const inputs = await checked({ connection: fleet.connection(host), server: { requireSigning: true }, onDelete: "restore" });
      const created = await ops.create(inputs);
      const mine = (created.outs as PolicyOutputs).originalSettings;
      assert.deepEqual(mine, { client: {}, server: { requireSigning: false } });
      // Another resource's record (takeOwnership elsewhere), holding other originals.
      fleet.change(host, (st) => {
        const record = JSON.parse(st.record!);
        st.record = JSON.stringify({ ...record, ownerId: "0b7c7a5e-0000-4000-8000-000000000001", ownerLabel: "other/stack/fs01", originals: { client: {}, server: { RequireSecuritySignature: true } } });
      });
      const read = await ops.read(created.id, created.outs as PolicyOutputs);
      assert.deepEqual((read.props as PolicyOutputs).originalSettings, mine);
    });

    it("a second apply with nothing to change makes no write on the host", async () => {
      const inputs = await checked({ connection: fleet.connection(host), client: { requireSigning: true } });
      const created = await ops.create(inputs);
      await ops.update(created.id, created.outs!, inputs);
      // The record of originals is written once, before the first change, and not again.
      assert.deepEqual(fleet.state(host).counters, { runs: 2, writes: 1, recordWrites: 1 });
    });

    it("onDelete retain leaves the host as it is and marks its record released, so the next resource declaring the host takes it over with the genuine originals", async () => {
      const inputs = await checked({ connection: fleet.connection(host), server: { requireSigning: true }, onDelete: "retain" });
      const created = await ops.create(inputs);
      const writes = fleet.state(host).counters.writes;
      await ops.delete(created.id, created.outs as PolicyOutputs);
      assert.equal(fleet.state(host).server.RequireSecuritySignature, true);
      assert.equal(runs(host), 2);
      assert.equal(fleet.state(host).counters.writes, writes, "the release changed a setting");
      const released = JSON.parse(fleet.state(host).record!);
      assert.equal(released.ownerId, "", "the record is released");
      assert.deepEqual(released.originals, { client: {}, server: { RequireSecuritySignature: false } }, "the originals stay");
      // Another resource (no takeOwnership) declares the host next: it takes the record over.
      const next = await ops.create(await checked({ connection: fleet.connection(host), client: { requireSigning: true }, owner: "other/dev/next" }));
      assert.deepEqual((next.outs as PolicyOutputs).originalSettings, { client: { requireSigning: false }, server: { requireSigning: false } });
      assert.equal(JSON.parse(fleet.state(host).record!).ownerId, (next.outs as PolicyOutputs).ownerId);
      assert.deepEqual(JSON.parse(fleet.state(host).record!).originals.server, { RequireSecuritySignature: false }, "the released originals stay with the host");
    });

    it("a record and a state written by a release before owner ids: refresh and update recognise the old owner name, the update writes the new owner id keeping the genuine originals, a new resource of the same name is refused, and destroy restores", async () => {
      fleet.reset(host, "win11-24h2-home");
      const inputs = await checked({ connection: fleet.connection(host), client: { requireSigning: true }, owner: "proj/dev/fs01" });
      // As the released version left them: the host applied, its record in the first format,
      // and a state whose outputs have the owner's name and no owner id.
      const created = await ops.create(inputs);
      const legacy = { ...(created.outs as PolicyOutputs) };
      delete legacy.ownerId;
      fleet.change(host, (s) => {
        s.record = JSON.stringify({ version: 1, owner: "proj/dev/fs01", originals: { client: { RequireSecuritySignature: false }, server: {} } });
      });
      const read = await ops.read(created.id, legacy);
      assert.deepEqual((read.props as PolicyOutputs).originalSettings, { client: { requireSigning: false }, server: {} });
      // Another resource (no state, the same old name: another parent or backend) is refused.
      await assert.rejects(ops.create(inputs), (e: HostError) => e.kind === "ownedElsewhere" && /owned by another resource: proj\/dev\/fs01 \(written by a release before owner ids\)/.test(e.message));
      const writes = fleet.state(host).counters.writes;
      const updated = await ops.update(created.id, legacy, await checked({ connection: fleet.connection(host), client: { requireSigning: true }, server: { requireSigning: true }, owner: "proj/dev/fs01" }));
      const outs = updated.outs as PolicyOutputs;
      assert.match(outs.ownerId ?? "", /^[0-9a-f-]{36}$/);
      const record = JSON.parse(fleet.state(host).record!);
      assert.equal(record.version, 2);
      assert.equal(record.ownerId, outs.ownerId);
      assert.deepEqual(record.originals, { client: { RequireSecuritySignature: false }, server: { RequireSecuritySignature: false } });
      assert.equal(fleet.state(host).counters.writes, writes + 1, "only the newly declared server side was written");
      await ops.delete(created.id, outs);
      assert.equal(fleet.state(host).client.RequireSecuritySignature, false);
      assert.equal(fleet.state(host).server.RequireSecuritySignature, false);
      assert.equal(fleet.state(host).record, undefined);
    });

    it("a resource of any name owns its host: a 3000-character non-ASCII name passes check and the record keeps a 1024-character label", async () => {
      const name = `proj/dev/fs-Zürich-${"ü".repeat(3000)}`;
      const created = await ops.create(await checked({ connection: fleet.connection(host), client: { requireSigning: true }, owner: name, onDelete: "retain" }));
      const text = fleet.state(host).record!;
      const record = JSON.parse(text);
      assert.equal(record.ownerLabel.length, 1024);
      assert.ok(name.startsWith(record.ownerLabel.slice(0, -3)));
      assert.ok(text.length < 4096, `the record is ${text.length} characters`);
      await ops.delete(created.id, created.outs as PolicyOutputs);
    });

    it("onDelete retain on a host that cannot be reached still destroys, and says what it means for the next resource", async () => {
      const inputs = await checked({ connection: fleet.connection(host), server: { requireSigning: true }, onDelete: "retain" });
      const created = await ops.create(inputs);
      const gone = { ...(created.outs as PolicyOutputs), connection: { ...(created.outs as PolicyOutputs).connection, port: 1, connectTimeoutSeconds: 1, commandTimeoutSeconds: 1 } };
      await ops.delete(created.id, gone);
      assert.equal(JSON.parse(fleet.state(host).record!).ownerId, (created.outs as PolicyOutputs).ownerId, "the record still names the destroyed resource");
    });

    it("read reports out-of-band drift as the inputs the host really has", async () => {
      const inputs = await checked({ connection: fleet.connection(host), client: { requireSigning: true } });
      const created = await ops.create(inputs);
      fleet.change(host, (s) => (s.client.RequireSecuritySignature = false));
      const read = await ops.read(created.id, created.outs);
      assert.equal((read.inputs as any).client.requireSigning, false);
      assert.equal((read.props as PolicyOutputs).observed.client.requireSigning, false);
      assert.deepEqual((read.props as PolicyOutputs).originalSettings, (created.outs as PolicyOutputs).originalSettings);
      const d = await ops.diff(created.id, read.props as PolicyOutputs, inputs);
      assert.equal(d.changes, true);
    });

    it("read refuses an id naming another host than connection.host, without contacting any host", async () => {
      const created = await ops.create(await checked({ connection: fleet.connection(host), client: { requireSigning: true } }));
      const before = runs(host);
      await assert.rejects(ops.read("fs99.corp.example", created.outs), /the id "fs99\.corp\.example" names another host than connection\.host/);
      assert.equal(runs(host), before);
    });

    it("delete leaves a setting that Group Policy now enforces to the policy, restores the rest, and succeeds", async () => {
      const created = await ops.create(await checked({ connection: fleet.connection(host), client: { requireSigning: true }, server: { requireSigning: true } }));
      fleet.change(host, (s) => {
        s.groupPolicy.gpo = "Contoso SMB Baseline";
        s.groupPolicy.securityOptions.client = { RequireSecuritySignature: true };
      });
      await ops.delete(created.id, created.outs as PolicyOutputs);
      assert.equal(fleet.state(host).client.RequireSecuritySignature, true, "the policy's value stays");
      assert.equal(fleet.state(host).server.RequireSecuritySignature, false, "the rest is restored");
      assert.equal(fleet.state(host).record, undefined);
    });

    it("delete fails, naming the setting, when something puts the value back at once", async () => {
      const created = await ops.create(await checked({ connection: fleet.connection(host), client: { requireSigning: true } }));
      assert.deepEqual((created.outs as PolicyOutputs).originalSettings.client, { requireSigning: false });
      fleet.change(host, (s) => (s.faults.revertingAgent = { client: { RequireSecuritySignature: true } }));
      const e = await rejection(ops.delete(created.id, created.outs as PolicyOutputs));
      assert.equal((e as HostError).kind, "notEnforced");
      assert.match(e.message, /could not restore client\.requireSigning \(declared false, host has true\)/);
    });

    it("import: create with an import id adopts the host: one read, no write, current values as originals", async () => {
      const inputs = await checked({
        connection: fleet.connection(host),
        server: { requireSigning: false },
        acknowledgeInsecureSettings: true,
        importId: fleet.host(host).address,
      });
      const created = await ops.create(inputs);
      assert.deepEqual((created.outs as PolicyOutputs).originalSettings, { client: {}, server: { requireSigning: false } });
      assert.deepEqual(fleet.state(host).counters, { runs: 1, writes: 0 });
    });

    it("import refuses a host that differs from the program, and an id naming another host", async () => {
      const inputs = await checked({ connection: fleet.connection(host), server: { requireSigning: true }, importId: fleet.host(host).address });
      await assert.rejects(ops.create(inputs), /cannot import: the host differs from the program in server\.requireSigning/);
      assert.equal(fleet.state(host).counters.writes, 0);
      const r = await ops.check({}, { connection: fleet.connection(host), importId: "fs99.corp.example" });
      assert.equal(r.failures?.[0].property, "importId");
    });

    it("import refuses a host whose record names another owner, before recording anything; takeOwnership adopts it", async () => {
      await ops.create(await checked({ connection: fleet.connection(host), client: { requireSigning: true }, owner: "infra/prod/fs01" }));
      const writes = fleet.state(host).counters.writes;
      const adopt = (extra: object) => checked({ connection: fleet.connection(host), client: { requireSigning: true }, importId: fleet.host(host).address, owner: "other/dev/fs01", ...extra });
      await assert.rejects(ops.create(await adopt({})), /cannot import: the host's record names another owner: infra\/prod\/fs01 \(owner id [0-9a-f-]{36}, claimed /);
      const taken = await ops.create(await adopt({ takeOwnership: true }));
      assert.deepEqual((taken.outs as PolicyOutputs).originalSettings.client, { requireSigning: false }, "the record's originals, not the current values");
      assert.equal(fleet.state(host).counters.writes, writes);
    });

    it("authenticates with a private key, and with a passphrase-protected key", async () => {
      for (const auth of ["key", "encryptedKey"] as const) {
        const inputs = await checked({ connection: fleet.connection(host, auth), client: { requireSigning: true } });
        const created = await ops.create(inputs);
        assert.equal((created.outs as PolicyOutputs).observed.client.requireSigning, true);
        await ops.delete(created.id, created.outs as PolicyOutputs);
      }
    });

    it("refuses a wrong host key before any credential is sent, showing both fingerprints", async () => {
      const pinned = "SHA256:" + "Z".repeat(43);
      const inputs = await checked({ connection: { ...fleet.connection(host), hostKey: pinned }, client: { requireSigning: true } });
      const logBefore = fleet.sshdLog().length;
      const e = await rejection(ops.create(inputs));
      assert.equal((e as HostError).kind, "hostKeyMismatch");
      assert.ok(e.message.includes(pinned));
      assert.ok(e.message.includes(fleet.host(host).hostKeyFingerprint));
      const log = fleet.sshdLog().slice(logBefore);
      assert.doesNotMatch(log, /password|publickey for|Accepted|Failed/i, log);
      assert.equal(runs(host), 0);
    });

    it("reports a wrong password as an authentication failure without echoing it", async () => {
      const wrong = "Wrong-Pa55-never-logged";
      const inputs = await checked({ connection: { ...fleet.connection(host), password: wrong }, client: { requireSigning: true } });
      const e = await rejection(ops.create(inputs));
      assert.equal((e as HostError).kind, "authenticationFailed");
      assert.ok(!e.message.includes(wrong) && !e.message.includes(SIM_PASSWORD));
    });

    it("carries a user name full of shell syntax as data: it is just an unknown account", async () => {
      const user = "adm$(touch pwned)`id`'x&calc";
      const inputs = await checked({ connection: { ...fleet.connection(host, "key"), user }, client: { requireSigning: true } });
      const e = await rejection(ops.create(inputs));
      assert.equal((e as HostError).kind, "authenticationFailed");
      assert.equal(runs(host), 0);
    });

    it("a wrong key passphrase fails check naming connection.passphrase, never echoing it, before any host is contacted", async () => {
      const r = await ops.check({}, {
        connection: { ...fleet.connection(host, "encryptedKey"), passphrase: "not-the-passphrase" },
        client: { requireSigning: true },
      });
      assert.deepEqual(r.failures, [
        { property: "connection.passphrase", reason: "connection.privateKey cannot be decrypted with connection.passphrase: the passphrase is wrong" },
      ]);
      const missing = await ops.check({}, { connection: { ...fleet.connection(host, "encryptedKey"), passphrase: undefined }, client: { requireSigning: true } });
      assert.equal(missing.failures?.[0].property, "connection.privateKey");
      assert.match(missing.failures?.[0].reason ?? "", /is encrypted: connection\.passphrase is required/);
      assert.ok(!JSON.stringify([r, missing].map((x) => x.failures)).includes(SIM_KEY_PASSPHRASE));
      assert.equal(runs(host), 0);
    });

    it("a wrong passphrase that reaches the transport says the passphrase is wrong, not check host and port", async () => {
      const inputs = await checked({ connection: fleet.connection(host, "encryptedKey"), client: { requireSigning: true } });
      const e = await rejection(ops.create({ ...inputs, connection: { ...(inputs.connection as object), passphrase: "not-the-passphrase" } }));
      assert.equal((e as HostError).kind, "authenticationFailed");
      assert.match(e.message, /passphrase is wrong/);
      assert.ok(!e.message.includes("not-the-passphrase") && !e.message.includes(SIM_KEY_PASSPHRASE));
    });

  });

  for (const transport of TRANSPORTS) describe(`faults over ${transport}`, () => {
    const host = "server-2025";
    beforeEach(() => reset(host));
    const declare = async (extra: Record<string, unknown> = {}) =>
      checked({ connection: { ...connect(host, transport), ...extra }, client: { requireSigning: true }, server: { requireSigning: true } });

    it("non-administrator: access denied, host unchanged", async () => {
      fleet.change(host, (s) => (s.faults.nonAdmin = true));
      const e = await rejection(ops.create(await declare()));
      assert.equal((e as HostError).kind, "accessDenied");
      assert.match(e.message, /Administrators/);
      assert.equal(fleet.state(host).server.RequireSecuritySignature, false);
    });

    it("CLIXML progress noise on stderr does not fail a successful run", async () => {
      fleet.change(host, (s) => (s.faults.clixmlNoise = true));
      const created = await ops.create(await declare());
      assert.equal((created.outs as PolicyOutputs).observed.server.requireSigning, true);
    });

    it("OEM code page output: non-ASCII host facts survive", async () => {
      fleet.change(host, (s) => {
        s.faults.oemOutput = true;
        s.os.productName = "Windows Server® 2025 Datacenter — Évaluation";
      });
      const created = await ops.create(await declare());
      assert.equal((created.outs as PolicyOutputs).hostFacts.productName, "Windows Server® 2025 Datacenter — Évaluation");
    });

    it("slow PowerShell start beyond the command timeout: a timeout error", async () => {
      fleet.change(host, (s) => (s.faults.slowStartMs = 4000));
      const e = await rejection(ops.create(await declare({ commandTimeoutSeconds: 1, connectTimeoutSeconds: 1 })));
      assert.equal((e as HostError).kind, "timeout");
    });

    it("slow PowerShell start within the timeout still succeeds", async () => {
      fleet.change(host, (s) => (s.faults.slowStartMs = 600));
      const created = await ops.create(await declare());
      assert.equal((created.outs as PolicyOutputs).observed.server.requireSigning, true);
    });

    it("connection dropped mid-run: a clear error, never taken as success", async () => {
      fleet.change(host, (s) => (s.faults.dropConnection = true));
      const e = await rejection(ops.create(await declare()));
      assert.equal((e as HostError).kind, "connectionDropped");
      assert.match(e.message, /pulumi refresh/);
    });

    it("a failing cmdlet after a partial apply keeps the recorded originals", async () => {
      fleet.change(host, (s) => {
        s.client.RequireSecuritySignature = false;
        s.faults.failingCmdlet = "Set-SmbServerConfiguration";
      });
      const e = await rejection(ops.create(await declare()));
      assert.match(e.message, /The service has not been started/);
      assert.equal(fleet.state(host).client.RequireSecuritySignature, true);
      // The engine records these properties (ErrorResourceInitFailed): the originals are not lost.
      assert.deepEqual(e.properties?.originalSettings, { client: { requireSigning: false }, server: { requireSigning: false } });
      assert.equal(e.properties?.hostFacts.build, fleet.state(host).os.build);
    });

    it("a failing update leaves the originals recorded at create intact", async () => {
      const created = await ops.create(await checked({ connection: connect(host, transport), server: { requireSigning: true } }));
      const originals = structuredClone((created.outs as PolicyOutputs).originalSettings);
      fleet.change(host, (s) => (s.faults.failingCmdlet = "Set-SmbClientConfiguration"));
      const news = await checked({ connection: connect(host, transport), client: { requireSigning: false }, server: { requireSigning: true }, acknowledgeInsecureSettings: true });
      await rejection(ops.update(created.id, created.outs as PolicyOutputs, news));
      assert.deepEqual((created.outs as PolicyOutputs).originalSettings, originals);
      fleet.change(host, (s) => (s.faults = {}));
      await ops.delete(created.id, created.outs as PolicyOutputs);
      assert.equal(fleet.state(host).server.RequireSecuritySignature, false);
    });

    it("PowerShell failing before the script replies: the CLIXML error is readable", async () => {
      fleet.change(host, (s) => (s.faults.crash = true));
      const e = await rejection(ops.create(await declare()));
      assert.match(e.message, /exited with code 1: Get-CimInstance : The WS-Management service cannot process the request/);
    });

    it("a value put back at once (another configuration agent): the update is reported as not enforced", async () => {
      fleet.change(host, (s) => (s.faults.revertingAgent = { server: { RequireSecuritySignature: false } }));
      const e = await rejection(ops.create(await declare()));
      assert.equal((e as HostError).kind, undefined);
      assert.match(e.message, /did not keep/);
      assert.match(e.message, /server\.requireSigning \(declared true, host has false\)/);
      assert.deepEqual(e.properties?.originalSettings.server, { requireSigning: false });
    });

    it("Group Policy enforcing another value: refused before any write, naming the GPO and its value", async () => {
      fleet.change(host, (s) => {
        s.groupPolicy.gpo = "Contoso SMB Baseline";
        s.groupPolicy.securityOptions.server = { RequireSecuritySignature: false };
      });
      const e = await rejection(ops.create(await declare()));
      assert.equal((e as HostError).kind, "policyConflict");
      assert.match(e.message, /server\.requireSigning is declared true, but Group Policy "Contoso SMB Baseline" enforces false; nothing was changed/);
      assert.equal(fleet.state(host).counters.writes, 0);
      assert.equal(fleet.state(host).record, undefined);
      assert.equal(fleet.state(host).client.RequireSecuritySignature, true);
    });

    it("Group Policy enforcing the declared value: fine, and reported as policy-managed", async () => {
      fleet.change(host, (s) => {
        s.groupPolicy.gpo = "Contoso SMB Baseline";
        s.groupPolicy.securityOptions.client = { RequireSecuritySignature: true };
        s.groupPolicy.administrativeTemplates.client = { EnableInsecureGuestLogons: false };
      });
      const created = await ops.create(await declare());
      assert.deepEqual((created.outs as PolicyOutputs).policyManaged, {
        client: { requireSigning: { value: true, gpo: "Contoso SMB Baseline" }, enableInsecureGuestLogons: { value: false, gpo: "Contoso SMB Baseline" } },
        server: {},
      });
    });

    it("an Administrative Template (HKLM\\SOFTWARE\\Policies) enforcing guest logons is refused, even where RSoP logging is off", async () => {
      fleet.change(host, (s) => {
        s.groupPolicy.rsopLogging = false;
        s.groupPolicy.administrativeTemplates.client = { EnableInsecureGuestLogons: true };
      });
      const e = await rejection(ops.create(await checked({ connection: connect(host, transport), client: { enableInsecureGuestLogons: false } })));
      assert.equal((e as HostError).kind, "policyConflict");
      assert.match(e.message, /client\.enableInsecureGuestLogons is declared false, but Group Policy "a Group Policy object \(RSoP names none\)" enforces true/);
    });

    it("a wrong password is an authentication failure that does not echo it", async () => {
      const e = await rejection(ops.create(await declare({ password: "Wrong-Pa55-never-logged" })));
      assert.equal((e as HostError).kind, "authenticationFailed");
      assert.ok(!e.message.includes("Wrong-Pa55-never-logged"));
    });

    it("an audit setting on a build without it is refused by the host, clearly", async () => {
      const old = "win11-23h2-pro";
      reset(old);
      const e = await rejection(
        ops.create(await checked({ connection: connect(old, transport), client: { auditServerDoesNotSupportSigning: true } })),
      );
      assert.equal((e as HostError).kind, "unsupportedSetting");
      assert.match(e.message, /AuditServerDoesNotSupportSigning.*22631/);
    });
  });
});
