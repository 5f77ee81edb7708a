// A loopback TCP relay between a client and a simulated host that counts network round trips:
// every time the client sends after having received something (or first), it waited for the
// server: one round trip. Also counts connections and bytes, and can reset the first connections
// (a host beyond its limits). Used by the benchmark and by the fault tests.
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

  /**
   * `resetFirst`: reset that many connections at once, as a server beyond its MaxStartups or a
   * network that drops connections before the SSH banner would. `port`: listen there (0: any).
   */
  static async start(targetHost: string, targetPort: number, options: { resetFirst?: number; port?: number } = {}): Promise<CountingRelay> {
    const server = net.createServer();
    const relay = new CountingRelay(server);
    let toReset = options.resetFirst ?? 0;
    server.on("connection", (client) => {
      relay.counters.connections++;
      if (toReset > 0) {
        toReset--;
        return void client.resetAndDestroy();
      }
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
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
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
