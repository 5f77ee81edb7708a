// The provider's operations (check, diff, create, read, update, delete), translating between
// Pulumi's plain objects and the domain. Loaded at run time by the serialized dynamic provider,
// so none of this code is copied into Pulumi state.
import type * as dynamic from "@pulumi/pulumi/dynamic";
import {
  declaredSettings,
  DeclaredSettings,
  diffPolicy,
  inputsFromObserved,
  policyId,
  PolicyOutputs,
  recordOriginals,
  unenforcedSettings,
} from "./domain/policy";
import { checkSafety } from "./domain/safety";
import { Connection, isFullyKnown, parsePolicyInputs, PolicyInputs } from "./domain/schema";
import { HostError } from "./host/errors";
import { PartialApply, runSigningScript, SigningResult } from "./host/signingScript";

/** Pulumi's own bookkeeping keys (`__provider`) are not user inputs. */
function userInputs(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith("__")));
}

function validated(raw: Record<string, unknown>): PolicyInputs {
  const parsed = parsePolicyInputs(userInputs(raw));
  if (!parsed.ok) throw new Error(parsed.failures.map((f) => `${f.property}: ${f.reason}`).join("; "));
  if (!isFullyKnown(parsed.inputs)) throw new Error("inputs are not fully known");
  return parsed.inputs;
}

/** The Pulumi engine records a failed create with these properties (ErrorResourceInitFailed). */
class PartialApplyError extends Error {
  constructor(
    readonly id: string,
    readonly properties: PolicyOutputs,
    readonly reasons: string[],
  ) {
    super(reasons.join("; "));
  }
}

function outputsOf(inputs: PolicyInputs, result: SigningResult, originals: DeclaredSettings): PolicyOutputs {
  return {
    ...(inputs as PolicyOutputs),
    connection: inputs.connection as Connection,
    observed: result.after,
    originalSettings: originals,
    hostFacts: { ...result.hostFacts },
    settingsSource: result.source,
  };
}

/** One remote run: read, apply what differs, re-read; fails if the host did not take a value. */
async function apply(inputs: PolicyInputs, previous: DeclaredSettings | undefined): Promise<PolicyOutputs> {
  const conn = inputs.connection as Connection;
  const declared = declaredSettings(inputs);
  let result: SigningResult;
  try {
    result = await runSigningScript(conn, { operation: "apply", ...declared });
  } catch (err) {
    // A host that failed half way still told us what it had before: keep those originals.
    const partial = (err as PartialApply).partial;
    if (previous === undefined && partial) {
      const originals = recordOriginals(undefined, partial.before, declared);
      throw new PartialApplyError(policyId(conn), outputsOf(inputs, partial, originals), [(err as Error).message]);
    }
    throw err;
  }
  const originals = recordOriginals(previous, result.before, declared);
  const missed = unenforcedSettings(declared, result.after);
  if (missed.length > 0) {
    const error = new HostError("notEnforced", `${conn.host}:${conn.port}`, `the host did not keep ${missed.join(", ")}`);
    throw new PartialApplyError(policyId(conn), outputsOf(inputs, result, originals), [error.message]);
  }
  return outputsOf(inputs, result, originals);
}

export async function check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<dynamic.CheckResult> {
  const parsed = parsePolicyInputs(userInputs(news));
  if (!parsed.ok) return { inputs: news, failures: parsed.failures };
  const failures = checkSafety(parsed.inputs);
  if (failures.length > 0) return { inputs: news, failures };
  return { inputs: parsed.inputs };
}

export async function diff(_id: string, olds: PolicyOutputs, news: Record<string, unknown>): Promise<dynamic.DiffResult> {
  const parsed = parsePolicyInputs(userInputs(news));
  if (!parsed.ok) return { changes: true };
  const result = diffPolicy(olds, parsed.inputs);
  return { changes: result.changes, replaces: result.replaces, deleteBeforeReplace: result.replaces.length > 0 };
}

export async function create(raw: Record<string, unknown>): Promise<dynamic.CreateResult> {
  const inputs = validated(raw);
  const outs = inputs.importId === undefined ? await apply(inputs, undefined) : await adopt(inputs);
  return { id: policyId(outs.connection), outs };
}

/**
 * Import: the engine reads imported resources with neither inputs nor state, so a dynamic
 * provider cannot find its own code then. SmbSigningPolicy turns the `import` option into the
 * `importId` input instead, and create adopts the host: one read, no write, and a refusal if the
 * host differs from the program (as Pulumi's import does).
 */
async function adopt(inputs: PolicyInputs): Promise<PolicyOutputs> {
  const conn = inputs.connection as Connection;
  const result = await runSigningScript(conn, { operation: "read" });
  const declared = declaredSettings(inputs);
  const differing = unenforcedSettings(declared, result.after);
  if (differing.length > 0) {
    throw new Error(
      `${conn.host}: cannot import: the host differs from the program in ${differing.join(", ")}; declare the host's values to import it, then change them in a later update`,
    );
  }
  return outputsOf(inputs, result, recordOriginals(undefined, result.after, declared));
}

export async function update(_id: string, olds: PolicyOutputs, raw: Record<string, unknown>): Promise<dynamic.UpdateResult> {
  const inputs = validated(raw);
  return { outs: await apply(inputs, olds.originalSettings) };
}

export async function read(id: string, props: Record<string, unknown>): Promise<dynamic.ReadResult> {
  const prior = props as Partial<PolicyOutputs>;
  const inputs = validated(pickInputs(prior));
  if (id !== policyId(inputs.connection as Connection)) {
    throw new Error(`the id "${id}" names another host than connection.host "${inputs.connection.host}"`);
  }
  const result = await runSigningScript(inputs.connection as Connection, { operation: "read" });
  const declared = declaredSettings(inputs);
  // Adopted by `import`: nothing was changed, so the host's current values are the originals.
  const originals = prior.originalSettings ?? recordOriginals(undefined, result.after, declared);
  const outs = outputsOf(inputs, result, originals);
  const currentInputs = inputsFromObserved(pickInputs(outs), result.after);
  return { id, props: { ...outs, ...currentInputs }, inputs: currentInputs };
}

export async function remove(_id: string, props: PolicyOutputs): Promise<void> {
  if (props.onDelete === "retain") return;
  const conn = props.connection;
  const originals = props.originalSettings ?? { client: {}, server: {} };
  const result = await runSigningScript(conn, { operation: "apply", ...originals });
  const missed = unenforcedSettings(originals, result.after);
  if (missed.length > 0) {
    throw new HostError("notEnforced", `${conn.host}:${conn.port}`, `could not restore ${missed.join(", ")}`);
  }
}

function pickInputs(p: Partial<PolicyOutputs>): PolicyInputs {
  const { connection, client, server, acknowledgeInsecureSettings, onDelete, importId } = p as PolicyOutputs;
  const out: Record<string, unknown> = { connection, onDelete };
  if (importId !== undefined) out.importId = importId;
  if (client !== undefined) out.client = client;
  if (server !== undefined) out.server = server;
  if (acknowledgeInsecureSettings !== undefined) out.acknowledgeInsecureSettings = acknowledgeInsecureSettings;
  return out as unknown as PolicyInputs;
}
