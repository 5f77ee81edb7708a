// SmbSigningPolicy as a provider plugin (`pulumi-resource-smbsigning`): the resource
// `smbsigning:index:SmbSigningPolicy` for programs in any Pulumi language and for `pulumi import`.
// It is an adapter over the same operations as the dynamic resource (operations.ts): what differs
// is only what the engine hands a plugin, namely
//   - secrets arrive wrapped (the plugin accepts secrets) and must leave wrapped;
//   - provider configuration (config.ts) lends connection defaults and credentials;
//   - the owner and the URN come from the request, not from inputs a program sets;
//   - `read` without state is an import: the id names the host, the inputs are generated.
import type * as provider from "@pulumi/pulumi/provider";
import { isRpcSecret, specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime";
import * as operations from "../operations";
import { ownerName, policyId, type PolicyOutputs } from "../domain/policy";
import { declarationWarnings } from "../domain/safety";
import { DECLARED_KEYS, SECRET_KEYS, type CheckFailure } from "../domain/schema";
import { urnParts } from "../domain/urn";
import { info, warn } from "../engineLog";
import { PACKAGE, parseProviderConfig, type ProviderConfig, withDefaults, withoutLentCredentials } from "./config";
import { parseImportId } from "./importId";

type Props = Record<string, unknown>;

/** A secret as the engine encodes it for a provider that accepts secrets (the SDK's own test). */
const isSecret = (v: unknown): v is { value: unknown } => isRpcSecret(v);

/** The values inside secrets, at any depth (the operations work on plain values). */
export function unwrapSecrets(v: unknown): unknown {
  if (isSecret(v)) return unwrapSecrets(v.value);
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
  return v;
}

const plain = (v: unknown): Props => unwrapSecrets(v ?? {}) as Props;

/** connection.password, .privateKey and .passphrase as secrets, wherever the plugin returns a connection. */
export function wrapSecrets(props: Props): Props {
  const c = props.connection;
  if (typeof c !== "object" || c === null) return props;
  const connection: Props = { ...(c as Props) };
  for (const key of SECRET_KEYS) if (connection[key] !== undefined) connection[key] = { [specialSigKey]: specialSecretSig, value: connection[key] };
  return { ...props, connection };
}

/** "<project>/<stack>/<name>", the owner the dynamic resource records for the same resource. */
export function ownerOf(urn: string): string {
  const { stack, project, name } = urnParts(urn);
  return ownerName(project, stack, name);
}

/**
 * Whether a program passed a credential as plain text (a YAML program that did not use
 * fn::secret or secret config). The engine prints a failing input's value as the program gave it,
 * redacting only secrets, so such a connection's failures must not name it as their property.
 */
function plainCredentialIn(news: Props): boolean {
  const c = news.connection;
  return typeof c === "object" && c !== null && SECRET_KEYS.some((k) => (c as Props)[k] !== undefined && !isSecret((c as Props)[k]));
}

/** A failure the engine prints without the input's value ("resource 'x' is invalid: ..."). */
function withoutValue(f: CheckFailure): CheckFailure {
  return f.property === "connection" ? { property: "", reason: f.reason.startsWith("connection.") ? f.reason : `connection: ${f.reason}` } : f;
}

export class SmbSigningPlugin implements provider.Provider {
  private config: ProviderConfig = {};

  constructor(
    readonly version: string,
    readonly schema: string,
  ) {}

  /** Validates and keeps the provider's configuration (Configure); returns what it refused. */
  configure(raw: Props): CheckFailure[] {
    const { config, failures } = parseProviderConfig(plain(raw));
    if (failures.length === 0) this.config = config;
    return failures;
  }

  /**
   * What an operation acts on: the resource's connection over the configured defaults and
   * credentials, and its URN (for the warnings the operations send; it is in every request, so
   * state need not keep it).
   */
  private connect(props: Props, urn: string): Props {
    const c = props.connection;
    const withUrn = { ...props, resourceUrn: urn };
    if (typeof c !== "object" || c === null) return withUrn;
    return { ...withUrn, connection: withDefaults(c as Props, this.config) };
  }

  /** What the plugin returns of a resource: no lent credentials, no runtime keys, secrets wrapped. */
  private recorded(props: Props, declared: Props): Props {
    const out: Props = { ...props };
    delete out.__provider;
    delete out.importId;
    delete out.resourceUrn;
    if (typeof out.connection === "object" && out.connection !== null) {
      const own = typeof declared.connection === "object" && declared.connection !== null ? (declared.connection as Props) : {};
      out.connection = withoutLentCredentials(out.connection as Props, own);
    }
    return wrapSecrets(out);
  }

  async check(urn: string, olds: Props, news: Props): Promise<provider.CheckResult> {
    const declared = plain(news);
    // The inputs a program declares (DECLARED_KEYS); the rest the plugin sets (owner, URN) or has no use for.
    const unknownKeys = Object.keys(declared).filter((k) => !(DECLARED_KEYS as readonly string[]).includes(k));
    if (unknownKeys.length > 0) {
      return {
        inputs: news,
        failures: unknownKeys.map((k) => ({ property: k, reason: `${k} is not a known property; allowed: ${DECLARED_KEYS.join(", ")}` })),
      };
    }
    const raw: Props = { ...this.connect(declared, urn), owner: ownerOf(urn) };
    const result = await operations.checkForEngine(plain(olds), raw);
    if (result.failures && result.failures.length > 0) {
      const failures = result.failures.map((f) => this.explain(f));
      return { inputs: news, failures: plainCredentialIn(news) ? failures.map(withoutValue) : failures };
    }
    const host = typeof (raw.connection as Props | undefined)?.host === "string" ? String((raw.connection as Props).host) : "a host";
    const settings = { client: declared.client as Props | undefined, server: declared.server as Props | undefined };
    for (const message of declarationWarnings(operations.hostLabel(host), settings, declared.acknowledgeInsecureSettings)) {
      await info(message, urn);
    }
    return { inputs: this.recorded(result.inputs as Props, declared) };
  }

  /** A missing credential may come from configuration: say so where it is asked for. */
  private explain(f: CheckFailure): CheckFailure {
    // By what the failure is (schema.ts marks what configuration can lend), not by its words.
    const { lendable, ...failure } = f;
    if (lendable === "credential") {
      return { ...failure, reason: `${f.reason} (on the resource, or for every resource as ${PACKAGE}:password, ${PACKAGE}:privateKey or ${PACKAGE}:agent)` };
    }
    if (lendable === "user") return { ...failure, reason: `${f.reason} (on the resource, or for every resource as ${PACKAGE}:user)` };
    return failure;
  }

  async diff(id: string, urn: string, olds: Props, news: Props): Promise<provider.DiffResult> {
    // Both sides with the same lent credentials: configuration is not the resource's change.
    return operations.diff(id, this.connect(plain(olds), urn) as unknown as PolicyOutputs, this.connect(plain(news), urn));
  }

  async create(urn: string, inputs: Props): Promise<provider.CreateResult> {
    const declared = plain(inputs);
    try {
      const { id, outs } = await operations.create(this.connect(declared, urn));
      return { id, outs: this.recorded(outs as unknown as Props, declared) };
    } catch (err) {
      throw this.initFailure(err, declared);
    }
  }

  async update(id: string, urn: string, olds: Props, news: Props): Promise<provider.UpdateResult> {
    const declared = plain(news);
    try {
      const { outs } = await operations.update(id, this.connect(plain(olds), urn) as unknown as PolicyOutputs, this.connect(declared, urn));
      return { outs: this.recorded(outs as unknown as Props, declared) };
    } catch (err) {
      throw this.initFailure(err, declared);
    }
  }

  /** A partial apply keeps what the host reported in state (ErrorResourceInitFailed), recorded like any outputs. */
  private initFailure(err: unknown, declared: Props): unknown {
    const e = err as Error & { properties?: Props };
    if (e.properties) e.properties = this.recorded(e.properties, declared);
    return err;
  }

  async read(id: string, urn: string, props?: Props): Promise<provider.ReadResult> {
    const prior = plain(props);
    if (prior.connection === undefined) return this.import(id, urn);
    const result = await operations.read(id, this.connect(prior, urn));
    return {
      id: result.id,
      props: this.recorded(result.props as Props, prior),
      inputs: this.recorded(result.inputs as Props, prior),
    };
  }

  /**
   * `pulumi import`: the connection from the id and configuration, the settings from what the host
   * reports (operations.importHost). The inputs returned are what the program should declare: the
   * engine prints them as the program's code.
   */
  private async import(id: string, urn: string): Promise<provider.ReadResult> {
    const target = parseImportId(id);
    const connection: Props = { ...target };
    const raw = { ...this.connect({ connection }, urn), owner: ownerOf(urn) };
    const imported = await operations.importHost(raw);
    if (imported.leftInsecure.length > 0) {
      await warn(
        `${target.host}: imported without managing ${imported.leftInsecure.join(", ")}: the host has values that weaken it, and declaring them takes ` +
          `acknowledgeInsecureSettings; declare the secure value (e.g. requireSigning: true) to change them`,
        urn,
      );
    }
    const inputs: Props = { connection };
    for (const side of ["client", "server"] as const) if (Object.keys(imported.declared[side]).length > 0) inputs[side] = imported.declared[side];
    return { id: policyId({ host: target.host }), props: this.recorded(imported.outputs as unknown as Props, inputs), inputs };
  }

  async delete(id: string, urn: string, props: Props): Promise<void> {
    await operations.delete(id, this.connect(plain(props), urn) as unknown as PolicyOutputs);
  }
}
