// The benchmark's round-trip counter counts each client flight that waited for the server.
import assert from "node:assert/strict";
import * as net from "node:net";
import { CountingRelay } from "../bench/relay";

describe("CountingRelay", () => {
  it("counts connections, round trips and bytes of a request/reply exchange", async () => {
    const echo = net.createServer((s) => s.on("data", (d) => s.write(d)));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    const relay = await CountingRelay.start("127.0.0.1", (echo.address() as net.AddressInfo).port);
    const client = net.connect({ host: "127.0.0.1", port: relay.port });
    for (const msg of ["one", "two", "three"]) {
      await new Promise<void>((resolve) => {
        client.once("data", () => resolve());
        client.write(msg);
      });
    }
    client.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(relay.reset(), { connections: 1, roundTrips: 3, bytesUp: 11, bytesDown: 11 });
    await relay.stop();
    echo.close();
  });
});
