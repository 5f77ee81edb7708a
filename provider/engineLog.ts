// The provider's diagnostics channel to the Pulumi engine: warnings and info from its operations
// (diff, check, create, delete) and from the provider plugin, to the user. Not a transport: it
// speaks to the engine, never to a host; its state (the sink tests install, the engine's address,
// what was said) is this process's. Like errors.ts it imports none of the provider's layers.
//
// The dynamic provider runs in a process of its own (pulumi-resource-pulumi-nodejs, started by
// the CLI with the engine's address as its argument). `pulumi.log.warn` there has no engine
// connection: it falls back to stderr, which the CLI shows as a stack message ("warning:
// [runtime] ..."), not as a warning of the resource. So the provider sends its warnings through
// the engine's Log RPC itself, with the resource's URN (the `resourceUrn` input), and the CLI
// shows them on the resource, in preview as in up and destroy. The provider plugin
// (provider/plugin) sends them the same way, to the address the CLI started it with. Outside a provider process (tests,
// the acceptance tool, which call the operations directly) they go to the sink a caller
// installed, else nowhere: there is no engine to show them.
import * as path from "node:path";

export type Severity = "info" | "warning";

export interface Diagnostic {
  severity: Severity;
  message: string;
  /** The resource the message is about; empty: the stack. */
  urn?: string;
}

export type DiagnosticSink = (d: Diagnostic) => void | Promise<void>;

let installed: DiagnosticSink | undefined;
/** The engine's address when this process is the provider plugin (provider/plugin/main.ts says so). */
let pluginEngine: string | undefined;

/** The provider plugin's entry point names the engine it serves (its first argument). */
export function setEngineAddress(address: string | undefined): void {
  pluginEngine = address;
}

/** Installs a sink (tests capture warnings with it); returns the previous one. */
export function setDiagnosticSink(sink: DiagnosticSink | undefined): DiagnosticSink | undefined {
  const previous = installed;
  installed = sink;
  return previous;
}

/** Sends a warning about a resource; never throws (a warning the engine does not take goes to stderr). */
export async function warn(message: string, urn?: string): Promise<void> {
  await emit({ severity: "warning", message, urn });
}

/** Sends an info message about a resource (what needs no decision); never throws. */
export async function info(message: string, urn?: string): Promise<void> {
  await emit({ severity: "info", message, urn });
}

/**
 * What this process has said to the engine, per resource. The engine asks the same question more
 * than once in one operation (`preview --refresh` calls diff at the refresh step and again at
 * the update step), and one operation is one provider process: a message already said about a
 * resource is not said again, so the warnings budget (one per resource per operation) holds.
 */
const said = new Set<string>();

async function emit(d: Diagnostic): Promise<void> {
  if (installed) return installed(d);
  const address = pluginEngine ?? engineAddress();
  if (!address) return;
  const key = `${d.urn ?? ""}\u0000${d.severity}\u0000${d.message}`;
  if (said.has(key)) return;
  said.add(key);
  try {
    await logToEngine(address, d);
  } catch (err) {
    // stderr reaches the CLI too, as a message of the stack rather than of the resource.
    console.error(`could not deliver a ${d.severity} through the engine (${(err as Error).message}); ${d.severity}: ${d.message}`);
  }
}

/**
 * The engine's address when this process is Pulumi's dynamic provider: its script is
 * @pulumi/pulumi/cmd/dynamic-provider, and the CLI passes the engine's host:port as the last
 * argument (after any logging flags).
 */
export function engineAddress(argv: readonly string[] = process.argv): string | undefined {
  if (!/[\\/]cmd[\\/]dynamic-provider([\\/]index(\.js)?)?$/.test(argv[1] ?? "")) return undefined;
  const last = argv[argv.length - 1] ?? "";
  return /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/.test(last) ? last : undefined;
}

interface EngineClient {
  log(request: unknown, callback: (err: Error | null) => void): void;
}

let client: { address: string; engine: EngineClient; proto: { LogRequest: new () => LogRequest; LogSeverity: Record<string, number> } } | undefined;

interface LogRequest {
  setSeverity(s: number): void;
  setMessage(m: string): void;
  setUrn(u: string): void;
  setStreamid(id: number): void;
  setEphemeral(e: boolean): void;
}

/**
 * A module of @pulumi/pulumi's own dependencies (grpc-js, google-protobuf), resolved from where
 * the SDK lies, hoisted or not: messages built with another copy are not the SDK's.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a CommonJS module resolved at run time, untyped to the compiler
export function fromPulumiSdk(specifier: string): any {
  const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  return require(require.resolve(specifier, { paths: [pulumiDir] }));
}

/** The engine's Log RPC (pulumirpc.Engine/Log), through the gRPC client @pulumi/pulumi itself uses. */
function logToEngine(address: string, d: Diagnostic): Promise<void> {
  if (!client || client.address !== address) {
    const grpc = fromPulumiSdk("@grpc/grpc-js");
    const services = require("@pulumi/pulumi/proto/engine_grpc_pb");
    const proto = require("@pulumi/pulumi/proto/engine_pb");
    client = { address, engine: new services.EngineClient(address, grpc.credentials.createInsecure()), proto };
  }
  const { engine, proto } = client;
  const request = new proto.LogRequest();
  request.setSeverity(d.severity === "warning" ? proto.LogSeverity.WARNING : proto.LogSeverity.INFO);
  request.setMessage(d.message);
  request.setUrn(d.urn ?? "");
  request.setStreamid(0);
  request.setEphemeral(false);
  return new Promise((resolve, reject) => engine.log(request, (err) => (err ? reject(err) : resolve())));
}
