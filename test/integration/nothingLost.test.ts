// Nothing the user owns is lost, whatever fails: faults injected at every point of create,
// update and delete over SSH and WinRM; the originals live in the host's record; every failure
// leaves a resource that refresh (read) and destroy (remove) still handle; transient faults are
// retried within the deadline and fatal ones are not; a second owner is refused.
import assert from "node:assert/strict";
import * as net from "node:net";
import * as ops from "../../provider/operations";
import type { PolicyOutputs } from "../../provider/domain/policy";
import { HostError } from "../../provider/errors";
import { CountingRelay } from "../bench/relay";
import { SIM_KEY_PASSPHRASE, SIM_PASSWORD, SimulatedFleet } from "../simhost/fleet";
import type { HostState } from "../simhost/model";

describe("nothing lost", () => {
  const PRESET = "win11-24h2-home"; // requires neither side: every declared value is a change
  const TRANSPORTS = ["ssh", "winrm"] as const;
  type Transport = (typeof TRANSPORTS)[number];
  /** What the serialized provider looks like to these operations: opaque text the engine stores. */
  const PROVIDER_TEXT = "exports.handler = __f0; /* serialized dynamic provider */";

  let fleet: SimulatedFleet;
  before(async () => {
    fleet = await SimulatedFleet.start([{ name: "h", preset: PRESET }], { winrm: true });
  });
  after(async () => {
    await fleet?.stop();
  });

  type Failure = Error & { kind?: string; properties?: Record<string, unknown>; id?: string };

  async function failure(p: Promise<unknown>): Promise<Failure> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof Error);
      for (const secret of [SIM_PASSWORD, SIM_KEY_PASSPHRASE]) assert.ok(!err.message.includes(secret), "an error message holds a secret");
      return err as Failure;
    }
    assert.fail("expected the operation to fail");
  }

  function connect(transport: Transport): Record<string, unknown> {
    return fleet.connection("h", transport === "winrm" ? "winrm" : "password");
  }

  async function inputs(transport: Transport, rest: Record<string, unknown>, connection: Record<string, unknown> = {}) {
    // Every scenario here follows the host back to its originals: they declare the restore.
    const r = await ops.check({}, { connection: { ...connect(transport), ...connection }, owner: "proj/dev/h", onDelete: "restore", ...rest });
    assert.deepEqual(r.failures, undefined, JSON.stringify(r.failures));
    return { ...(r.inputs as Record<string, unknown>), __provider: PROVIDER_TEXT };
  }

  const state = (): HostState => fleet.state("h");
  const record = () => {
    const text = state().record;
    return text === undefined
      ? undefined
      : (JSON.parse(text) as { version: number; ownerId: string; ownerLabel: string; claimedAt: string; originals: Record<string, Record<string, boolean>> });
  };
  const setFaults = (faults: HostState["faults"]) => fleet.change("h", (s) => (s.faults = faults));

  /** The host as installed, for comparing after destroy. */
  function pristine(): Pick<HostState, "client" | "server"> {
    const s = fleet.reset("h", PRESET);
    return { client: { ...s.client }, server: { ...s.server } };
  }

  function assertRestored(initial: Pick<HostState, "client" | "server">): void {
    assert.deepEqual(state().client, initial.client);
    assert.deepEqual(state().server, initial.server);
    assert.equal(record(), undefined, "the record is removed after a complete restore");
  }

  for (const transport of TRANSPORTS) {
    describe(`originals survive faults over ${transport}`, () => {
      it("a connection dropped during create after the host applied: the retry records the genuine originals, destroy restores them", async () => {
        const initial = pristine();
        setFaults({ dropConnection: true });
        const declared = await inputs(transport, { client: { requireSigning: true }, server: { requireSigning: true } });
        const e = await failure(ops.create(declared));
        assert.equal(e.kind, "connectionDropped");
        assert.equal(state().client.RequireSecuritySignature, true, "the host applied before the reply was lost");
        // The failed create is kept in state with the owner id the host recorded (ErrorResourceInitFailed).
        const kept = (e as unknown as { properties: PolicyOutputs }).properties;
        assert.match(kept.ownerId ?? "", /^[0-9a-f-]{36}$/);
        const { claimedAt, ...rest } = record()!;
        assert.match(claimedAt, /^\d{4}-\d\d-\d\dT/);
        assert.deepEqual(rest, {
          version: 2,
          ownerId: kept.ownerId,
          ownerLabel: "proj/dev/h",
          originals: { client: { RequireSecuritySignature: false }, server: { RequireSecuritySignature: false } },
        });
        setFaults({});
        // The engine's next up updates the resource it kept (a new create would be another owner).
        const created = { id: (e as unknown as { id: string }).id, ...(await ops.update("h", kept, declared)) };
        const outs = created.outs as PolicyOutputs;
        assert.deepEqual(outs.originalSettings, { client: { requireSigning: false }, server: { requireSigning: false } });
        await ops.delete(created.id, outs);
        assertRestored(initial);
      });

      it("a connection dropped during an update that adds a setting: refresh learns its original from the host, destroy restores it", async () => {
        const initial = pristine();
        const created = await ops.create(await inputs(transport, { server: { requireSigning: true } }));
        setFaults({ dropConnection: true });
        const e = await failure(ops.update(created.id, created.outs!, await inputs(transport, { client: { requireSigning: true }, server: { requireSigning: true } })));
        assert.equal(e.kind, "connectionDropped");
        assert.equal(state().client.RequireSecuritySignature, true);
        setFaults({});
        // The engine keeps the old outputs after a plain failure; refresh reads the host's record.
        const refreshed = await ops.read(created.id, created.outs);
        const props = refreshed.props as PolicyOutputs;
        assert.deepEqual(props.originalSettings, { client: { requireSigning: false }, server: { requireSigning: false } });
        await ops.delete(created.id, props);
        assertRestored(initial);
      });

      it("a cmdlet failing on one side during an update after the other side was applied: both sides' originals are recorded", async () => {
        const initial = pristine();
        const created = await ops.create(await inputs(transport, { client: { auditInsecureGuestLogon: true } }));
        setFaults({ failingCmdlet: "Set-SmbServerConfiguration" });
        const news = await inputs(transport, { client: { auditInsecureGuestLogon: true, requireSigning: true }, server: { requireSigning: true } });
        const e = await failure(ops.update(created.id, created.outs!, news));
        assert.match(e.message, /The service has not been started/);
        assert.equal(state().client.RequireSecuritySignature, true, "the client side was applied");
        const props = e.properties as unknown as PolicyOutputs;
        assert.deepEqual(props.originalSettings, {
          client: { auditInsecureGuestLogon: false, requireSigning: false },
          server: { requireSigning: false },
        });
        setFaults({});
        const refreshed = await ops.read(e.id!, e.properties!);
        setFaults({});
        await ops.delete(e.id!, refreshed.props as PolicyOutputs);
        assertRestored(initial);
      });

      for (const [what, fault] of [
        ["a partial create (a failing cmdlet)", { failingCmdlet: "Set-SmbServerConfiguration" }],
        ["a create whose value is put back at once", { revertingAgent: { server: { RequireSecuritySignature: false } } }],
      ] as const) {
        it(`after ${what}, the recorded properties are complete: refresh and destroy work at once`, async () => {
          const initial = pristine();
          setFaults(fault);
          const e = await failure(ops.create(await inputs(transport, { client: { requireSigning: true }, server: { requireSigning: true } })));
          assert.equal(e.id, fleet.host("h").address);
          // The dynamic-provider runtime finds its code in the recorded properties, nowhere else.
          assert.equal(e.properties?.__provider, PROVIDER_TEXT);
          for (const key of ["connection", "owner", "observed", "originalSettings", "hostFacts", "settingsSource", "onDelete"]) {
            assert.ok(e.properties?.[key] !== undefined, `recorded properties lack ${key}`);
          }
          setFaults({});
          const refreshed = await ops.read(e.id!, e.properties!);
          assert.deepEqual((refreshed.props as PolicyOutputs).originalSettings, { client: { requireSigning: false }, server: { requireSigning: false } });
          await ops.delete(e.id!, e.properties as unknown as PolicyOutputs);
          assertRestored(initial);
        });
      }

      it("a restore cut off by a dropped connection keeps the record, and the next destroy finishes it", async () => {
        const initial = pristine();
        const created = await ops.create(await inputs(transport, { client: { requireSigning: true }, server: { requireSigning: true } }));
        setFaults({ dropConnection: true });
        const e = await failure(ops.delete(created.id, created.outs as PolicyOutputs));
        assert.equal(e.kind, "connectionDropped");
        setFaults({});
        await ops.delete(created.id, created.outs as PolicyOutputs);
        assertRestored(initial);
      });

      it("an update whose value is put back at once records complete properties: refresh and destroy work at once", async () => {
        const initial = pristine();
        const created = await ops.create(await inputs(transport, { client: { requireSigning: true } }));
        setFaults({ revertingAgent: { server: { RequireSecuritySignature: false } } });
        const e = await failure(ops.update(created.id, created.outs!, await inputs(transport, { client: { requireSigning: true }, server: { requireSigning: true } })));
        assert.match(e.message, /did not keep server\.requireSigning/);
        assert.equal(e.properties?.__provider, PROVIDER_TEXT);
        assert.deepEqual((e.properties as unknown as PolicyOutputs).originalSettings, { client: { requireSigning: false }, server: { requireSigning: false } });
        const refreshed = await ops.read(e.id!, e.properties!);
        await ops.delete(e.id!, refreshed.props as PolicyOutputs);
        assertRestored(initial);
      });

      it("a restore whose cmdlet fails keeps the record; once the host is fixed, the next destroy restores everything", async () => {
        const initial = pristine();
        const created = await ops.create(await inputs(transport, { client: { requireSigning: true }, server: { requireSigning: true } }));
        setFaults({ failingCmdlet: "Set-SmbServerConfiguration" });
        const e = await failure(ops.delete(created.id, created.outs as PolicyOutputs));
        assert.match(e.message, /The service has not been started/);
        assert.ok(record(), "the record survives a failed restore");
        setFaults({});
        await ops.delete(created.id, created.outs as PolicyOutputs);
        assertRestored(initial);
      });

      it("a refresh cut off by a dropped connection fails clearly and changes nothing; the next refresh works", async () => {
        pristine();
        const created = await ops.create(await inputs(transport, { client: { requireSigning: true } }));
        setFaults({ dropConnection: true });
        const e = await failure(ops.read(created.id, created.outs));
        assert.equal(e.kind, "connectionDropped");
        setFaults({});
        const refreshed = await ops.read(created.id, created.outs);
        assert.deepEqual((refreshed.props as PolicyOutputs).originalSettings, { client: { requireSigning: false }, server: {} });
      });

      it("a user's retry after a partial apply changes nothing twice and keeps the genuine originals", async () => {
        const initial = pristine();
        setFaults({ dropConnectionRuns: 1 });
        const declared = await inputs(transport, { client: { requireSigning: true } });
        const e = await failure(ops.create(declared));
        const writes = state().counters.writes;
        const created = { id: "h", ...(await ops.update("h", (e as unknown as { properties: PolicyOutputs }).properties, declared)) };
        assert.equal(state().counters.writes, writes, "the retry found the value applied and wrote nothing");
        assert.deepEqual((created.outs as PolicyOutputs).originalSettings.client, { requireSigning: false });
        await ops.delete(created.id, created.outs as PolicyOutputs);
        assertRestored(initial);
      });

      it("a second resource declaring the same host is refused, naming the owner, before any write; takeOwnership keeps the genuine originals", async () => {
        const initial = pristine();
        const first = await ops.create(await inputs(transport, { client: { requireSigning: true } }));
        const writes = state().counters.writes;
        const second = await inputs(transport, { client: { requireSigning: true }, server: { requireSigning: true }, owner: "other/prod/fs" });
        const e = await failure(ops.create(second));
        assert.equal(e.kind, "ownedElsewhere");
        assert.match(e.message, /owned by another resource: proj\/dev\/h \(owner id [0-9a-f-]{36}, claimed /);
        assert.match(e.message, /takeOwnership: true/);
        assert.equal(state().counters.writes, writes);
        assert.equal(state().server.RequireSecuritySignature, false);
        const taken = await ops.create({ ...second, takeOwnership: true });
        assert.deepEqual((taken.outs as PolicyOutputs).originalSettings, { client: { requireSigning: false }, server: { requireSigning: false } });
        assert.equal(record()?.ownerLabel, "other/prod/fs");
        assert.equal(record()?.ownerId, (taken.outs as PolicyOutputs).ownerId);
        // The old owner's destroy leaves the host to its new owner.
        await ops.delete(first.id, first.outs as PolicyOutputs);
        assert.equal(state().server.RequireSecuritySignature, true);
        await ops.delete(taken.id, taken.outs as PolicyOutputs);
        assertRestored(initial);
      });

      it("a renamed resource (owner changes in an update) keeps its host and its originals", async () => {
        const initial = pristine();
        const created = await ops.create(await inputs(transport, { client: { requireSigning: true } }));
        const renamed = await ops.update(created.id, created.outs as PolicyOutputs, await inputs(transport, { client: { requireSigning: true }, owner: "proj/dev/h-renamed" }));
        assert.equal(record()?.ownerLabel, "proj/dev/h-renamed", "the update rewrote the label");
        assert.equal(record()?.ownerId, (created.outs as PolicyOutputs).ownerId, "the owner id stays");
        assert.equal((renamed.outs as PolicyOutputs).ownerId, (created.outs as PolicyOutputs).ownerId);
        await ops.delete(created.id, renamed.outs as PolicyOutputs);
        assertRestored(initial);
      });

      it("a record changed by hand is refused before any write, with the way out", async () => {
        pristine();
        fleet.change("h", (s) => (s.record = "{ not json"));
        const e = await failure(ops.create(await inputs(transport, { client: { requireSigning: true } })));
        assert.equal(e.kind, "badRecord");
        assert.match(e.message, /HKLM:\\SOFTWARE\\pulumi-smb-signing/);
        assert.equal(state().client.RequireSecuritySignature, false);
      });

      it("credentials follow the program: an update with only a new credential writes nothing and stores it", async () => {
        pristine();
        const created = await ops.create(await inputs(transport, { client: { requireSigning: true } }));
        const news = await inputs(transport, { client: { requireSigning: true } }, { commandTimeoutSeconds: 30 });
        const d = await ops.diff(created.id, created.outs as PolicyOutputs, news);
        assert.equal(d.changes, true);
        const writes = state().counters.writes;
        const updated = await ops.update(created.id, created.outs as PolicyOutputs, news);
        assert.equal(state().counters.writes, writes);
        assert.equal((updated.outs as PolicyOutputs).connection.commandTimeoutSeconds, 30);
      });
    });
  }

  describe("transient faults are retried within the deadline; fatal ones are not", () => {
    it("WinRM 503 Service Unavailable: retried, then the operation succeeds", async () => {
      pristine();
      setFaults({ serviceUnavailableRequests: 3 });
      const created = await ops.create(await inputs("winrm", { client: { requireSigning: true } }));
      assert.equal((created.outs as PolicyOutputs).observed.client.requireSigning, true);
      assert.equal(state().faults.serviceUnavailableRequests, 0);
      assert.equal(state().counters.runs, 1);
    });

    it("WinRM shell quota exceeded: retried, then the operation succeeds", async () => {
      pristine();
      setFaults({ shellQuotaCreates: 2 });
      const created = await ops.create(await inputs("winrm", { client: { requireSigning: true } }));
      assert.equal((created.outs as PolicyOutputs).observed.client.requireSigning, true);
      assert.equal(state().counters.runs, 1);
    });

    it("SSH connections reset before the handshake (a server beyond MaxStartups): retried, then the operation succeeds", async () => {
      pristine();
      const h = fleet.host("h");
      const relay = await CountingRelay.start(h.address, h.port, { resetFirst: 2 });
      try {
        const created = await ops.create(await inputs("ssh", { client: { requireSigning: true } }, { host: "127.0.0.1", port: relay.port }));
        assert.equal((created.outs as PolicyOutputs).observed.client.requireSigning, true);
        assert.equal(relay.counters.connections, 3);
        assert.equal(state().counters.runs, 1);
      } finally {
        await relay.stop();
      }
    });

    it("connection refused until the host's SSH server starts: retried, then the operation succeeds", async () => {
      pristine();
      const h = fleet.host("h");
      const port = await freePort();
      let relay: CountingRelay | undefined;
      const starting = new Promise<void>((resolve) =>
        setTimeout(async () => {
          relay = await CountingRelay.start(h.address, h.port, { port });
          resolve();
        }, 1000),
      );
      try {
        const created = await ops.create(await inputs("ssh", { client: { requireSigning: true } }, { host: "127.0.0.1", port }));
        assert.equal((created.outs as PolicyOutputs).observed.client.requireSigning, true);
      } finally {
        await starting;
        await relay?.stop();
      }
    });

    it("customTimeouts bound the retries: a host that never answers fails within the create timeout", async () => {
      const port = await freePort();
      const started = Date.now();
      const e = await failure(ops.create(await inputs("ssh", { client: { requireSigning: true }, customTimeouts: { create: 2 } }, { host: "127.0.0.1", port })));
      const elapsed = Date.now() - started;
      assert.equal(e.kind, "connectionFailed");
      assert.match(e.message, /gave up after \d+ attempts/);
      assert.ok(elapsed < 4000, `took ${elapsed} ms`);
    });

    for (const [what, connection, kind] of [
      ["a wrong password", { password: "Wrong-Pa55-never-logged" }, "authenticationFailed"],
      ["a wrong host key", { hostKey: "SHA256:" + "Z".repeat(43) }, "hostKeyMismatch"],
    ] as const) {
      it(`${what} is not retried: one connection, then ${kind}`, async () => {
        pristine();
        const h = fleet.host("h");
        const relay = await CountingRelay.start(h.address, h.port);
        try {
          const e = await failure(ops.create(await inputs("ssh", { client: { requireSigning: true } }, { host: "127.0.0.1", port: relay.port, ...connection })));
          assert.equal(e.kind, kind);
          assert.equal(relay.counters.connections, 1);
        } finally {
          await relay.stop();
        }
      });
    }

    for (const transport of TRANSPORTS) {
      it(`access denied over ${transport} is not retried`, async () => {
        pristine();
        setFaults({ nonAdmin: true });
        const e = await failure(ops.create(await inputs(transport, { client: { requireSigning: true } })));
        assert.equal((e as HostError).kind, "accessDenied");
        assert.ok(state().counters.runs <= 1);
        assert.equal(state().record, undefined, "a non-administrator cannot write the record either");
      });
    }
  });

  /** A loopback port nothing listens on (yet). */
  async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }
});
