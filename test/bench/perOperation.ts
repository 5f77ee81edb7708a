// Benchmark part 1: each provider operation against one simulated host with a realistic
// PowerShell start-up delay, beside the physical limit (one bare connection, handshake and
// PowerShell start) and a naive baseline (one connection and one PowerShell run per cmdlet,
// the way users do it by hand with a generic remote-command resource), all in one run, over SSH,
// over WinRM (HTTP with NTLM message encryption), and over WinRM with Kerberos (HTTP, messages
// sealed with RFC 4121 wrap tokens; tickets from the simulated domain's MIT KDC, whose log counts
// the KDC exchanges of the whole Kerberos part: the process's ticket store should make them one
// AS and one TGS exchange for the one service, however many operations).
import * as ops from "../../provider/operations";
import type { PolicyOutputs } from "../../provider/domain/policy";
import type { Connection } from "../../provider/domain/schema";
import { runOverSsh } from "../../provider/transport/ssh";
import { runOverWinrm } from "../../provider/transport/winrm/client";
import { processTicketStore } from "../../provider/transport/winrm/kerberos/tickets";
import { newHostState } from "../simhost/model";
import { SIM_PORT, SIM_WINRM_PORT, SimulatedFleet } from "../simhost/fleet";
import { CountingRelay } from "./relay";

export const OPERATIONS = ["create", "read", "update", "delete"] as const;
export type Operation = (typeof OPERATIONS)[number];
export type Variant = "limit" | "ours" | "baseline";
export const TRANSPORTS = ["ssh", "winrm", "winrm-kerberos"] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface Measurement {
  transport: Transport;
  operation: Operation;
  variant: Variant;
  medianMs: number;
  remoteRuns: number;
  connections: number;
  roundTrips: number;
  bytes: number;
}

/** The Kerberos part's traffic to the KDC, from its log: requests (a pre-authenticated AS exchange is two, PREAUTH_REQUIRED then the ticket) and tickets issued. */
export interface KdcExchanges {
  /** Provider operations and bare runs made with Kerberos (limit, ours and baseline runs, every rep). */
  runs: number;
  asRequests: number;
  asIssued: number;
  tgsRequests: number;
  tgsIssued: number;
  /** The services tickets were issued for. */
  services: string[];
}

export interface OperationResults {
  measurements: Measurement[];
  kdc?: KdcExchanges;
}

const PRESET = "win11-24h2-home";

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const run = (conn: Connection) => (conn.transport === "winrm" ? runOverWinrm : runOverSsh);

/** The naive way: a string of PowerShell per cmdlet, values spliced in, one remote run each. */
async function naive(conn: Connection, commands: string[]): Promise<void> {
  for (const c of commands) {
    const r = await run(conn)(conn, `powershell.exe -NoProfile -NonInteractive -Command "${c}"`, Buffer.alloc(0), Date.now() + 120_000);
    if (r.exitCode !== 0) throw new Error(`baseline command failed: ${c}`);
  }
}

const GET = ["Get-SmbClientConfiguration | ConvertTo-Json", "Get-SmbServerConfiguration | ConvertTo-Json"];
const setClient = (v: boolean) => `Set-SmbClientConfiguration -RequireSecuritySignature $${v} -Force`;
const setServer = (v: boolean) => `Set-SmbServerConfiguration -RequireSecuritySignature $${v} -Force`;
const BASELINE: Record<Operation, string[]> = {
  create: [GET[0], setClient(true), GET[1], setServer(true), ...GET],
  read: GET,
  update: [GET[0], setClient(true), GET[1], setServer(true), ...GET],
  delete: [GET[0], setClient(false), GET[1], setServer(false), ...GET],
};

export async function benchmarkOperations(reps: number, powershellStartMs: number): Promise<OperationResults> {
  const fleet = await SimulatedFleet.start([{ name: "bench", preset: PRESET }], { winrm: true, kerberos: true });
  const out: Measurement[] = [];
  let kdc: KdcExchanges | undefined;
  try {
    for (const transport of TRANSPORTS) {
      if (transport !== "winrm-kerberos") {
        out.push(...(await benchmarkTransport(fleet, transport, reps, powershellStartMs)));
        continue;
      }
      // A fresh ticket store, as in a new provider process: the part's first run asks the KDC.
      processTicketStore().clear();
      const from = fleet.realm!.kdcLog().length;
      const measured = await benchmarkTransport(fleet, transport, reps, powershellStartMs);
      out.push(...measured);
      kdc = kdcExchanges(fleet.realm!.kdcLog().slice(from), reps * (OPERATIONS.length * 2 + OPERATIONS.reduce((n, op) => n + BASELINE[op].length, 0)));
    }
  } finally {
    await fleet.stop();
  }
  return { measurements: out, kdc };
}

/** Counts the AS and TGS requests in a stretch of the MIT KDC's log, and the services of the tickets it issued. */
export function kdcExchanges(log: string, runs: number): KdcExchanges {
  const lines = log.split("\n");
  const of = (kind: string) => lines.filter((l) => l.includes(`${kind}_REQ`));
  const issued = (kind: string) => of(kind).filter((l) => l.includes(": ISSUE:"));
  const services = [...new Set(issued("TGS").map((l) => (/ for (\S+)/.exec(l.slice(l.indexOf(": ISSUE:")))?.[1] ?? "?").replace(/,$/, "")))];
  return { runs, asRequests: of("AS").length, asIssued: issued("AS").length, tgsRequests: of("TGS").length, tgsIssued: issued("TGS").length, services };
}

async function benchmarkTransport(fleet: SimulatedFleet, transport: Transport, reps: number, powershellStartMs: number): Promise<Measurement[]> {
  const host = fleet.host("bench");
  const relay = await CountingRelay.start(host.address, transport === "ssh" ? SIM_PORT : SIM_WINRM_PORT);
  const samples = new Map<string, { ms: number[]; runs: number; connections: number; roundTrips: number; bytes: number }>();
  const fresh = () => fleet.change("bench", (s) => { delete s.record; Object.assign(s, newHostState(PRESET), { powershellStartMs }); });
  const timed = async (operation: Operation, variant: Variant, fn: () => Promise<unknown>) => {
    relay.reset();
    const runsBefore = fleet.state("bench").counters.runs;
    const t0 = process.hrtime.bigint();
    await fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const traffic = relay.reset();
    const key = `${operation}/${variant}`;
    const entry = samples.get(key) ?? { ms: [], runs: 0, connections: 0, roundTrips: 0, bytes: 0 };
    entry.ms.push(ms);
    Object.assign(entry, {
      runs: fleet.state("bench").counters.runs - runsBefore,
      connections: traffic.connections,
      roundTrips: traffic.roundTrips,
      bytes: traffic.bytesUp + traffic.bytesDown,
    });
    samples.set(key, entry);
  };
  try {
    // Through the relay at 127.0.0.1: Kerberos names its service principal, so the address does not matter to it.
    const auth = transport === "winrm" ? "winrm" : transport === "winrm-kerberos" ? "kerberos" : "password";
    const raw = { ...fleet.connection("bench", auth), host: "127.0.0.1", port: relay.port };
    const declare = async (server: Record<string, boolean>) => {
      const r = await ops.check({}, { connection: raw, client: { requireSigning: true }, server });
      if (r.failures) throw new Error(JSON.stringify(r.failures));
      return r.inputs as Record<string, unknown>;
    };
    const first = await declare({ requireSigning: true });
    const second = await declare({ requireSigning: true, auditClientDoesNotSupportSigning: true });
    const conn = (first as { connection: Connection }).connection;
    for (let i = 0; i < reps; i++) {
      fresh();
      for (const operation of OPERATIONS) {
        await timed(operation, "limit", () => run(conn)(conn, "powershell.exe -NoProfile -NonInteractive -Command exit", Buffer.alloc(0), Date.now() + 120_000));
      }
      fresh();
      let outs: PolicyOutputs | undefined;
      let id = "";
      await timed("create", "ours", async () => {
        const c = await ops.create(first);
        outs = c.outs as PolicyOutputs;
        id = c.id;
      });
      await timed("read", "ours", () => ops.read(id, outs as unknown as Record<string, unknown>));
      await timed("update", "ours", async () => {
        outs = (await ops.update(id, outs!, second)).outs as PolicyOutputs;
      });
      await timed("delete", "ours", () => ops.delete(id, outs!));
      fresh();
      for (const operation of OPERATIONS) await timed(operation, "baseline", () => naive(conn, BASELINE[operation]));
    }
  } finally {
    await relay.stop();
  }
  const out: Measurement[] = [];
  for (const operation of OPERATIONS) {
    for (const variant of ["limit", "ours", "baseline"] as Variant[]) {
      const s = samples.get(`${operation}/${variant}`)!;
      out.push({ transport, operation, variant, medianMs: median(s.ms), remoteRuns: s.runs, connections: s.connections, roundTrips: s.roundTrips, bytes: s.bytes });
    }
  }
  return out;
}
