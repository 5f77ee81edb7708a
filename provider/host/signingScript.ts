// Runs smb-signing.ps1 on a host: the one remote run behind every provider operation. Builds
// the request in cmdlet property names, moves it through the transport, returns the reply in
// our names.
import type { Connection } from "../domain/schema";
import type { ObservedSettings } from "../domain/policy";
import { fromCmdletProperties, SideSettings, toCmdletProperties } from "../domain/settings";
import { runOverSsh } from "../transport/ssh";
import { runOverWinrm } from "../transport/winrm/client";
import { bootstrapCommandLine, bootstrapStdin, parseReply, SIGNING_SCRIPT } from "./protocol";

export interface HostFacts {
  productName: string;
  edition: string;
  displayVersion: string;
  build: string;
  /** Win32_ComputerSystem.DomainRole: 4 and 5 are domain controllers. */
  domainRole: number;
}

export interface SigningResult {
  hostFacts: HostFacts;
  source: "cmdlet" | "registry";
  before: ObservedSettings;
  after: ObservedSettings;
  changed: string[];
}

interface RawReply {
  status: "ok";
  host: HostFacts;
  source: "cmdlet" | "registry";
  before: Record<"client" | "server", Record<string, boolean>>;
  after: Record<"client" | "server", Record<string, boolean>>;
  changed: string[];
}

/** Attached to a host error when the host changed some settings before failing. */
export interface PartialApply {
  partial?: SigningResult;
}

export type SigningRequest = { operation: "read" } | { operation: "apply"; client: SideSettings; server: SideSettings };

export async function runSigningScript(conn: Connection, request: SigningRequest): Promise<SigningResult> {
  const wire =
    request.operation === "read"
      ? { operation: "read" }
      : {
          operation: "apply",
          client: toCmdletProperties("client", request.client),
          server: toCmdletProperties("server", request.server),
        };
  const transport = conn.transport === "winrm" ? runOverWinrm : runOverSsh;
  const result = await transport(conn, bootstrapCommandLine(), bootstrapStdin(SIGNING_SCRIPT, wire));
  let reply: RawReply;
  try {
    reply = parseReply<RawReply>(`${conn.host}:${conn.port}`, result);
  } catch (err) {
    // An error reply after part of the settings was applied still says what the host had before;
    // what it has now is unknown, so `after` repeats `before` until the next read.
    const raw = (err as { reply?: Partial<RawReply> }).reply;
    if (raw?.before && raw.host && raw.source && (raw.changed?.length ?? 0) > 0) {
      (err as PartialApply).partial = toResult({ ...(raw as RawReply), after: raw.before });
    }
    throw err;
  }
  return toResult(reply);
}

/** A reply in cmdlet property names, as our names. */
function toResult(reply: RawReply): SigningResult {
  const observed = (raw: RawReply["before"]): ObservedSettings => ({
    client: fromCmdletProperties("client", raw?.client),
    server: fromCmdletProperties("server", raw?.server),
  });
  return {
    hostFacts: reply.host,
    source: reply.source,
    before: observed(reply.before),
    after: observed(reply.after),
    changed: [...(reply.changed ?? [])],
  };
}

