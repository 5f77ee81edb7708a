// Deadlines: a host that accepts the TCP connection and then never answers fails the operation
// with a timeout error after the configured seconds, over SSH and over WinRM, instead of hanging.
import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { Connection, knownInputs, parsePolicyInputs } from "../../provider/domain/schema";
import { HostError } from "../../provider/errors";
import { runOverSsh } from "../../provider/transport/ssh";
import { runOverWinrm } from "../../provider/transport/winrm/client";
import { loopbackAddress } from "../simhost/loopback";

/** A loopback address of this test process's own (fleet.ts uses third octets 0 to 2). */
const ADDRESS = loopbackAddress(253, 1);

/** Starts `server` on an ephemeral port of ADDRESS, runs `use`, and stops it (and its connections). */
async function listening<T>(server: net.Server, use: (port: number) => Promise<T>): Promise<T> {
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => sockets.add(s));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, ADDRESS, () => resolve());
  });
  try {
    return await use((server.address() as net.AddressInfo).port);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function connection(extra: Record<string, unknown>): Connection {
  const parsed = parsePolicyInputs({ connection: { host: ADDRESS, user: "smbsim", password: "never-sent", ...extra } });
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.failures));
  const known = parsed.ok ? knownInputs(parsed.inputs) : undefined;
  assert.ok(known, "the inputs are fully known");
  return known.connection;
}

/**
 * How long a test waits for the refusal: well past the deadlines it configures, well short of the
 * transports' own fallbacks (ssh2's 20 s handshake timeout, the client's 30 s HTTP read timeout).
 */
const PATIENCE_MS = 8000;

async function timedRefusal(run: () => Promise<unknown>): Promise<{ error: HostError; seconds: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const patience = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("still waiting"), PATIENCE_MS)));
  const outcome = await Promise.race([run().then(() => "accepted", (e: unknown) => e), patience]).finally(() => clearTimeout(timer));
  assert.notEqual(outcome, "still waiting", `no refusal within ${PATIENCE_MS / 1000} s`);
  assert.notEqual(outcome, "accepted", "a host that never answers was taken as a success");
  assert.ok(outcome instanceof HostError, `expected a HostError, got ${outcome}`);
  return { error: outcome, seconds: (Date.now() - started) / 1000 };
}

describe("a host that never answers", () => {
  it("SSH: the handshake times out after connectTimeoutSeconds, long before the command deadline", async () => {
    // A TCP server that never sends the SSH banner.
    const { error, seconds } = await listening(net.createServer(), (port) =>
      timedRefusal(() =>
        runOverSsh(connection({ port, hostKey: "SHA256:" + "A".repeat(43), connectTimeoutSeconds: 1, commandTimeoutSeconds: 60 }), "exit", Buffer.alloc(0), Date.now() + 61_000),
      ),
    );
    assert.equal(error.kind, "timeout");
    assert.match(error.message, /no SSH handshake within 1 s/);
    assert.ok(seconds >= 0.9, `took ${seconds} s`);
  });

  it("WinRM: the operation times out at connectTimeoutSeconds + commandTimeoutSeconds", async () => {
    // An HTTP server that reads requests and never replies.
    const { error, seconds } = await listening(http.createServer(() => undefined), (port) =>
      timedRefusal(() =>
        runOverWinrm(connection({ transport: "winrm", port, connectTimeoutSeconds: 1, commandTimeoutSeconds: 1 }), "exit", Buffer.alloc(0), Date.now() + 2_000),
      ),
    );
    assert.equal(error.kind, "timeout");
    assert.match(error.message, /no reply within 2 s/);
    assert.ok(seconds >= 1.9, `took ${seconds} s`);
  });
});
