// A loopback TCP relay between the benchmark's client and a simulated host that counts network
// round trips: every time the client sends after having received something (or first), it
// waited for the server: one round trip. Also counts connections and bytes.
import * as net from "node:net";

export interface TrafficCounters {
  connections: number;
  roundTrips: number;
  bytesUp: number;
  bytesDown: number;
}

export class CountingRelay {
  readonly counters: TrafficCounters = { connections: 0, roundTrips: 0, bytesUp: 0, bytesDown: 0 };
  private readonly server: net.Server;

  private constructor(server: net.Server) {
    this.server = server;
  }

  static async start(targetHost: string, targetPort: number): Promise<CountingRelay> {
    const server = net.createServer();
    const relay = new CountingRelay(server);
    server.on("connection", (client) => {
      relay.counters.connections++;
      let lastFromServer = true;
      const upstream = net.connect({ host: targetHost, port: targetPort });
      client.on("data", (chunk) => {
        if (lastFromServer) relay.counters.roundTrips++;
        lastFromServer = false;
        relay.counters.bytesUp += chunk.length;
        upstream.write(chunk);
      });
      upstream.on("data", (chunk) => {
        lastFromServer = true;
        relay.counters.bytesDown += chunk.length;
        client.write(chunk);
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("close", close).on("error", close);
      upstream.on("close", close).on("error", close);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return relay;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  reset(): TrafficCounters {
    const snapshot = { ...this.counters };
    Object.assign(this.counters, { connections: 0, roundTrips: 0, bytesUp: 0, bytesDown: 0 });
    return snapshot;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
