// The provider's operations (check, diff, create, read, update, delete), translating between
// Pulumi's plain objects and the domain: each builds its plan once (plan.ts), runs the signing
// script as the plan says, and turns the host's answer (already in the domain's types) into
// outputs and messages; what a change means is domain/impact.ts's. Loaded at run time by the
// serialized dynamic provider, so none of this code is copied into Pulumi state.
import type * as dynamic from "@pulumi/pulumi/dynamic";
import {
  declaredSettings,
  diffPolicy,
  groupPolicyDrift,
  inputsFromObserved,
  policyId,
  PolicyOutputs,
  recordOriginals,
  unenforcedSettings,
} from "./domain/policy";
import { checkSafety, findWeakenings } from "./domain/safety";
import { Consequence, consequencesIfUnread, consequencesOfChange, insecureRestore, keptConsequences, leftByRestore, restoredValues } from "./domain/impact";
import { type DeclaredSettings, Side, SIDES } from "./domain/settings";
import { info, warn } from "./engineLog";
import { pickInputs } from "./domain/recordedInputs";
import { CheckFailure, DEFAULT_OWNER, knownInputs, KnownPolicyInputs, parsePolicyInputs, PolicyInputs, UNKNOWN } from "./domain/schema";
import { HostError, type HostErrorKind } from "./errors";
import { newOwnerId } from "./domain/owner";
import { ownerText, PartialApply, SigningResult } from "./host/signingScript";
import { importPlan, OperationPlan, planFor, runPlanned } from "./plan";
import { privateKeyProblem } from "./transport/ssh";

/** The key under which the dynamic-provider runtime keeps its serialized code in every state. */
const PROVIDER_KEY = "__provider";

/** Pulumi's own bookkeeping keys (`__provider`) are not user inputs. */
function userInputs(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith("__")));
}

function validated(raw: Record<string, unknown>): KnownPolicyInputs {
  const parsed = parsePolicyInputs(userInputs(raw));
  if (!parsed.ok) throw new Error(parsed.failures.map((f) => `${f.property}: ${f.reason}`).join("; "));
  const known = knownInputs(parsed.inputs);
  if (!known) throw new Error("inputs are not fully known");
  return known;
}

/**
 * create and update refuse what the safety rules refuse: the engine always checks first, but a
 * direct caller (or a bypassed check) must not weaken a host unacknowledged. Not for read: a
 * refresh may record drift that check would call a weakening.
 */
function validatedForChange(raw: Record<string, unknown>): KnownPolicyInputs {
  const inputs = validated(raw);
  const failures = checkSafety(inputs);
  if (failures.length > 0) throw new Error(failures.map((f) => `${f.property}: ${f.reason}`).join("; "));
  return inputs;
}

/**
 * The Pulumi engine records a failed create or update with these properties
 * (ErrorResourceInitFailed). They must be complete, `__provider` included, or the next refresh
 * and destroy cannot even load the provider.
 */
class PartialApplyError extends Error {
  readonly properties: Record<string, unknown>;
  constructor(
    readonly id: string,
    outputs: PolicyOutputs,
    providerText: unknown,
    readonly reasons: string[],
  ) {
    super(reasons.join("; "));
    this.properties = { ...outputs, [PROVIDER_KEY]: providerText };
  }
}

/** The originals the host's record keeps for this resource, if the record is this resource's. */
const ownOriginals = (r: SigningResult): DeclaredSettings | undefined => (r.ours && r.record ? r.record.originals : undefined);

/** Faults of the connection itself, and a signed copy refused before it ran (scriptMismatch): the script never started, so the host wrote nothing. */
const SCRIPT_NEVER_RAN: ReadonlySet<HostErrorKind> = new Set([
  "authenticationFailed",
  "hostKeyMismatch",
  "certificateRejected",
  "connectionFailed",
  "hostBusy",
  "scriptMismatch",
]);

/**
 * Whether a failed create may have left the host's record naming its new owner id: the script
 * may have run, and no reply says what it did (a reply does: an error reply after a write comes
 * with what was written, `partial`). The create's failure then keeps the id in state
 * (ErrorResourceInitFailed), so the next `up` goes on as the same owner instead of being refused
 * by its own record.
 */
function mayHaveClaimed(err: unknown): boolean {
  if ((err as { reply?: unknown }).reply !== undefined) return false;
  return !(err instanceof HostError && SCRIPT_NEVER_RAN.has(err.kind));
}

/**
 * The services a restart may still be owed to: those this run's registry writes named, and those
 * an earlier run named (state), since nothing on the host says whether the service restarted.
 */
function restartsOwed(result: SigningResult, previous: string[] | undefined): string[] {
  return [...new Set([...(previous ?? []), ...result.restartNeeded])].sort();
}

/** The sides the host could not read, as text: the error and its id. */
function unavailableText(result: SigningResult): Partial<Record<Side, string>> {
  const out: Partial<Record<Side, string>> = {};
  for (const side of SIDES) {
    const u = result.unavailable[side];
    if (u) out[side] = `${u.message} (${u.errorId})`;
  }
  return out;
}

/** The outputs of a run: the plan's inputs and owner id, what the host reported, the originals, and what they mean. */
function outputsOf(plan: OperationPlan, result: SigningResult, originals: DeclaredSettings, previousRestarts?: string[]): PolicyOutputs {
  const { inputs, declared } = plan;
  return {
    ...inputs,
    ...(plan.ownerId === undefined ? {} : { ownerId: plan.ownerId }),
    connection: inputs.connection,
    observed: result.after,
    originalSettings: originals,
    hostFacts: { ...result.hostFacts },
    settingsSource: result.source,
    policyManaged: result.groupPolicy,
    policyDrift: groupPolicyDrift(declared, result.after, result.groupPolicy),
    ...(result.groupPolicyVisibility ? { policyVisibility: result.groupPolicyVisibility } : {}),
    readiness: result.readiness,
    consequences: keptConsequences({ declared, now: result.after, originals, enforced: result.groupPolicy, onDelete: inputs.onDelete }).map((c) => c.text),
    unavailableSides: unavailableText(result),
    restartNeeded: restartsOwed(result, previousRestarts),
    ...(result.scriptRun ? { scriptRun: result.scriptRun } : {}),
    ...(result.authentication ? { authenticatedWith: result.authentication.mechanism } : {}),
  };
}

/**
 * What a run learnt that needs no decision, as information on the resource: Group Policy it could
 * not see, and why authentication "negotiate" used NTLM.
 */
async function tellAboutRun(host: string, urn: string | undefined, result: SigningResult): Promise<void> {
  await tellUnseenPolicy(host, urn, result);
  const why = result.authentication?.kerberosUnavailable;
  if (why !== undefined) await info(`${host}: authentication "negotiate" used NTLM, as Kerberos was not available: ${why}`, urn);
}

/**
 * Group Policy the run could not see, said as information on the resource (not a warning: it is
 * merely unknown; a domain controller's change it could put back is refused by the script).
 */
async function tellUnseenPolicy(host: string, urn: string | undefined, result: SigningResult): Promise<void> {
  const v = result.groupPolicyVisibility;
  if (v?.state !== "unknown") return;
  await info(
    `${host}: Group Policy on this host cannot be seen (${v.reason}): a policy the provider cannot see may set a declared setting back at its next refresh`,
    urn,
  );
}

/**
 * The resource's messages about consequences, on the resource (engineLog.ts): at most
 * one warning, holding everything a person must decide on, and at most one info message with
 * the rest. A 500-host run then has at most one warning line per host that needs a decision.
 */
async function tell(host: string, urn: string | undefined, consequences: Consequence[]): Promise<void> {
  const joined = (texts: string[], what: string) =>
    texts.length === 1 ? `${host}: ${texts[0]}` : `${host}: ${texts.length} ${what}:\n  - ${texts.join("\n  - ")}`;
  const warnings = consequences.filter((c) => c.severity === "warning").map((c) => c.text);
  const infos = consequences.filter((c) => c.severity === "info").map((c) => c.text);
  // The warning last: the CLI's row of the resource shows its latest message.
  if (infos.length > 0) await info(joined(infos, "consequences"), urn);
  if (warnings.length > 0) await warn(joined(warnings, "consequences to decide on before this change"), urn);
}

/**
 * One remote run: read, record the originals on the host, apply what differs, re-read; fails if
 * the host did not take a value. Whatever fails, the originals are on the host before the first
 * change, and whatever the host reported is recorded in state with the error.
 */
async function apply(inputs: KnownPolicyInputs, olds: Partial<PolicyOutputs> | undefined, providerText: unknown): Promise<PolicyOutputs> {
  // State written before owner ids gets one now: this apply writes it into the host's record.
  const ownerId = olds?.ownerId ?? newOwnerId();
  const plan = planFor(inputs, olds ? "update" : "create", { ownerId, legacyOwner: olds ? (olds.owner ?? DEFAULT_OWNER) : undefined });
  const { connection: conn, declared } = plan;
  const previous = olds?.originalSettings;
  const originalsOf = (r: SigningResult) => ownOriginals(r) ?? recordOriginals(previous, r.before, declared);
  let result: SigningResult;
  try {
    result = await runPlanned(plan, { operation: "apply", originals: previous ?? { client: {}, server: {} } });
  } catch (err) {
    const partial = (err as PartialApply).partial;
    if (partial) {
      await warnRestart(conn.host, inputs.resourceUrn, partial);
      throw new PartialApplyError(policyId(conn), outputsOf(plan, partial, originalsOf(partial), olds?.restartNeeded), providerText, [(err as Error).message]);
    }
    // A create whose run may have written the record keeps its owner id in state: the error
    // itself carries what the engine records (its kind and message unchanged).
    if (!olds && err instanceof Error && mayHaveClaimed(err)) {
      throw Object.assign(err, { id: policyId(conn), properties: { ...unreadOutputs(inputs, ownerId), [PROVIDER_KEY]: providerText }, reasons: [err.message] });
    }
    throw err;
  }
  await tellAboutRun(conn.host, inputs.resourceUrn, result);
  const outputs = outputsOf(plan, result, originalsOf(result), olds?.restartNeeded);
  await warnRestart(conn.host, inputs.resourceUrn, result);
  const missed = unenforcedSettings(declared, result.after);
  if (missed.length > 0) {
    const error = new HostError("notEnforced", `${conn.host}:${conn.port}`, `the host did not keep ${missed.join(", ")}`);
    throw new PartialApplyError(policyId(conn), outputs, providerText, [error.message]);
  }
  return outputs;
}

/**
 * Settings written to the registry (Windows 7 / Server 2008 R2, no SmbShare module): whether the
 * running service takes them without a restart is documented nowhere, so the user decides on the
 * restart (it drops open SMB sessions): one warning per host and run.
 */
async function warnRestart(host: string, urn: string | undefined, result: SigningResult): Promise<void> {
  if (result.restartNeeded.length === 0) return;
  const services = result.restartNeeded.join(" and ");
  await warn(
    `${host}: the settings were written to the registry (this release has no SmbShare module), and whether the running ${services} service takes them ` +
      `without a restart is not documented: a restart of ${services} (Restart-Service; it drops open SMB sessions) or a reboot may be needed before they ` +
      `take effect`,
    urn,
  );
}

/** The outputs of a create whose run gave no reply: the inputs and the owner id; nothing read yet. */
function unreadOutputs(inputs: KnownPolicyInputs, ownerId: string): PolicyOutputs {
  return {
    ...inputs,
    ownerId,
    observed: { client: {}, server: {} },
    originalSettings: { client: {}, server: {} },
    hostFacts: {},
    settingsSource: "unknown",
    policyManaged: { client: {}, server: {} },
    policyDrift: [],
    readiness: null,
    consequences: [],
    unavailableSides: {},
    restartNeeded: [],
  };
}

/** Inputs that may be unknown as a whole in preview (built from another resource's outputs). */
const WHOLE_INPUTS = ["connection", "client", "server"] as const;

/**
 * The inputs to validate in preview: a connection not known yet stands in as one whose every
 * field is not known yet; unknown settings as none. So the known inputs are still judged, and
 * nothing that may still be valid fails; check judges the rest when the engine knows it (at up).
 */
function knownPart(raw: Record<string, unknown>): { probe: Record<string, unknown>; pending: string[] } {
  const pending = WHOLE_INPUTS.filter((k) => raw[k] === UNKNOWN);
  const probe = { ...raw };
  for (const key of pending) {
    if (key === "connection") probe.connection = { transport: UNKNOWN, host: UNKNOWN, user: UNKNOWN, password: UNKNOWN };
    else delete probe[key];
  }
  return { probe, pending };
}

export async function check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<dynamic.CheckResult<Record<string, unknown>>> {
  const { probe, pending } = knownPart(userInputs(news));
  const parsed = parsePolicyInputs(probe);
  if (!parsed.ok) return { inputs: news, failures: parsed.failures };
  const failures = [...checkSafety(parsed.inputs), ...checkPrivateKey(parsed.inputs.connection)];
  if (failures.length > 0) return { inputs: news, failures };
  if (pending.length > 0) return { inputs: { ...parsed.inputs, ...Object.fromEntries(pending.map((k) => [k, UNKNOWN])) } };
  // A create (no inputs yet): the host has not been read, so say (as information: nothing is
  // known to decide on) what the declared values would change if it does not have them already.
  // An import changes nothing.
  if (Object.keys(userInputs(olds ?? {})).length === 0 && parsed.inputs.importId === undefined) {
    const host = hostLabel(parsed.inputs.connection.host);
    await tell(`${host} (not read yet)`, known(parsed.inputs.resourceUrn), consequencesIfUnread(declaredSettings(parsed.inputs)));
  }
  return { inputs: parsed.inputs };
}

/**
 * check as the engine takes it. The engine prints each failure as "property P value V has a
 * problem: R", looking P up among the top-level inputs only: a nested path such as
 * `client.requireSigning` would print the value as `{<nil>}`. So each failure is reported against
 * its top-level input (whose value the engine prints, secrets redacted), the full path leading
 * the reason; a failure of the inputs as a whole names no property.
 */
export async function checkForEngine(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<dynamic.CheckResult<Record<string, unknown>>> {
  const result = await check(olds, news);
  return result.failures ? { ...result, failures: result.failures.map(engineFailure) } : result;
}

export function engineFailure(f: CheckFailure): CheckFailure {
  if (f.property === "(inputs)") return { property: "", reason: f.reason };
  const top = f.property.split(".")[0];
  if (top === f.property) return f;
  // A reason that already names its path ("connection.privateKey cannot be decrypted ...") keeps it.
  return { ...f, property: top, reason: f.reason.startsWith(`${top}.`) ? f.reason : `${f.property} ${f.reason}` };
}

const known = (v: string | undefined): string | undefined => (v === UNKNOWN ? undefined : v);
/** A host for messages: the engine's "not known yet" sentinel said in words. */
export const hostLabel = (host: string): string => (host === UNKNOWN ? "a host not known yet" : host);

/** A key that cannot be decrypted fails here, naming the input, before any host is contacted. */
function checkPrivateKey(c: PolicyInputs["connection"]): CheckFailure[] {
  if (typeof c.privateKey !== "string" || c.privateKey === UNKNOWN || c.passphrase === UNKNOWN) return [];
  const problem = privateKeyProblem(c.privateKey, c.passphrase);
  if (!problem) return [];
  const property = /passphrase/.test(problem) && c.passphrase !== undefined ? "connection.passphrase" : "connection.privateKey";
  return [{ property, reason: `connection.privateKey ${problem}` }];
}

export async function diff(_id: string, olds: PolicyOutputs, news: Record<string, unknown>): Promise<dynamic.DiffResult> {
  const parsed = parsePolicyInputs(userInputs(news));
  if (!parsed.ok) return { changes: true };
  const result = diffPolicy(olds, parsed.inputs);
  if (result.changes)
    await tell(
      hostLabel(parsed.inputs.connection.host),
      known(parsed.inputs.resourceUrn),
      previewConsequences(olds, parsed.inputs, result.replaces.length > 0),
    );
  return { changes: result.changes, replaces: result.replaces, deleteBeforeReplace: result.replaces.length > 0 };
}

/**
 * What the next up changes for people, as preview can know it without contacting the host: from
 * the host's settings and audit findings as last seen (the last up or refresh; `pulumi preview
 * --refresh` reads them first). A replacement is another host, not read yet.
 */
export function previewConsequences(olds: Partial<PolicyOutputs>, news: PolicyInputs, replaced = false): Consequence[] {
  return consequencesOfChange(declaredSettings(news), replaced ? undefined : olds.observed, olds.readiness ?? null);
}

export async function create(raw: Record<string, unknown>): Promise<dynamic.CreateResult<PolicyOutputs>> {
  const inputs = validatedForChange(raw);
  if (inputs.importId !== undefined) {
    const adopted = await adopt(inputs);
    return { id: policyId(adopted.connection), outs: adopted };
  }
  // What the create did is in its outputs (`consequences`); its preview said what it would do.
  const outs = await apply(inputs, undefined, raw[PROVIDER_KEY]);
  return { id: policyId(outs.connection), outs };
}

/**
 * The one read of an import (either kind): a host whose record names another owner is refused,
 * unless takeOwnership is set, before anything is recorded.
 */
async function readForImport(plan: OperationPlan): Promise<SigningResult> {
  const { connection: conn, inputs } = plan;
  const result = await runPlanned(plan, { operation: "read" });
  await tellAboutRun(conn.host, inputs.resourceUrn, result);
  if (result.record && !result.ours && inputs.takeOwnership !== true) {
    throw new HostError("ownedElsewhere", `${conn.host}:${conn.port}`, `cannot import: the host's record names another owner: ${ownerText(result.record)}`);
  }
  return result;
}

/**
 * Import: the engine reads imported resources with neither inputs nor state, so a dynamic
 * provider cannot find its own code then. SmbSigningPolicy turns the `import` option into the
 * `importId` input instead, and create adopts the host: one read, no write, and a refusal if the
 * host differs from the program (as Pulumi's import does) or is owned by another resource.
 */
async function adopt(inputs: KnownPolicyInputs): Promise<PolicyOutputs> {
  const plan = importPlan(inputs, "create");
  const result = await readForImport(plan);
  const differing = unenforcedSettings(plan.declared, result.after);
  if (differing.length > 0) {
    throw new Error(
      `${plan.connection.host}: cannot import: the host differs from the program in ${differing.join(", ")}; declare the host's values to import it, then ` +
        `change them in a later update`,
    );
  }
  return outputsOf(plan, result, recordOriginals(result.record?.originals, result.after, plan.declared));
}

/** What `pulumi import` of a host through the provider plugin recorded: its outputs and the inputs to write in the program. */
export interface ImportedHost {
  outputs: PolicyOutputs;
  /** The settings the host reports with values that do not weaken it (see importHost). */
  declared: DeclaredSettings;
  /** Settings left unmanaged because their current values weaken the host, as `side.name=value`. */
  leftInsecure: string[];
}

/**
 * `pulumi import` through the provider plugin: the engine reads a resource it has neither inputs
 * nor state for, so the inputs are generated from what the host reports. One read, no write.
 * Every setting the host reports is declared with its current value, except: values that weaken
 * the host (declaring them needs acknowledgeInsecureSettings, which only a person should write;
 * they are left unmanaged and named), settings the host's build lacks (null), and enableSigning
 * (SMB 1 only: managing it controls nothing). A host whose record names another owner is refused
 * unless takeOwnership is set.
 */
export async function importHost(raw: Record<string, unknown>): Promise<ImportedHost> {
  const plan = importPlan(validated(raw), "read");
  const result = await readForImport(plan);
  const declared: DeclaredSettings = { client: {}, server: {} };
  const leftInsecure: string[] = [];
  for (const side of SIDES) {
    for (const [name, value] of Object.entries(result.after[side])) {
      if (typeof value !== "boolean" || name === "enableSigning") continue;
      if (findWeakenings({ [side]: { [name]: value } }).length > 0) leftInsecure.push(`${side}.${name}=${value}`);
      else declared[side][name] = value;
    }
  }
  // The generated inputs declare what the host has: the plan's declared settings are those.
  const generated: OperationPlan = { ...plan, inputs: { ...plan.inputs, client: declared.client, server: declared.server }, declared };
  const outputs = outputsOf(generated, result, recordOriginals(result.record?.originals, result.after, declared));
  return { outputs, declared, leftInsecure };
}

export async function update(_id: string, olds: PolicyOutputs, raw: Record<string, unknown>): Promise<dynamic.UpdateResult<PolicyOutputs>> {
  const inputs = validatedForChange(raw);
  return { outs: await apply(inputs, olds, raw[PROVIDER_KEY]) };
}

// The SDK types ReadResult.inputs as Outputs; refresh records inputs only, so this stays untyped.
export async function read(id: string, props?: Partial<PolicyOutputs> | Record<string, unknown>): Promise<dynamic.ReadResult> {
  const prior = (props ?? {}) as Partial<PolicyOutputs>;
  const inputs = validated(pickInputs(prior));
  if (id !== policyId(inputs.connection)) {
    throw new Error(`the id "${id}" names another host than connection.host "${inputs.connection.host}"`);
  }
  const plan = planFor(inputs, "read", { ownerId: prior.ownerId, legacyOwner: inputs.owner });
  const result = await runPlanned(plan, { operation: "read" });
  await tellAboutRun(inputs.connection.host, inputs.resourceUrn, result);
  // The host's record is the truth about originals (an apply may have recorded more than state
  // knows, if its reply never arrived); adopted by `import`, the current values are.
  const originals = ownOriginals(result) ?? prior.originalSettings ?? recordOriginals(undefined, result.after, plan.declared);
  const outs = outputsOf(plan, result, originals, prior.restartNeeded);
  // State written before owners existed keeps none: the schema's default recorded here would be
  // a change of owner at the next diff (drift on a host nobody touched; stateUpgrade.test.ts).
  if (prior.owner === undefined) delete (outs as Partial<PolicyOutputs>).owner;
  const currentInputs = inputsFromObserved(pickInputs(outs), result.after);
  return { id, props: { ...outs, ...currentInputs }, inputs: currentInputs };
}

/** The SDK's `delete` (a reserved word as a function name, hence the alias below). */
async function deleteResource(_id: string, props: PolicyOutputs): Promise<void> {
  const inputs = { ...props, owner: props.owner ?? DEFAULT_OWNER } as KnownPolicyInputs;
  const plan = planFor(inputs, "delete", { ownerId: props.ownerId, legacyOwner: inputs.owner });
  const conn = plan.connection;
  if (props.onDelete === "retain") return release(plan);
  const originals = props.originalSettings ?? { client: {}, server: {} };
  const result = await runPlanned(plan, { operation: "restore", originals });
  // What the restore owed: the originals state keeps, and those the host's record keeps (which wins).
  const targets = { client: { ...originals.client, ...result.record?.originals.client }, server: { ...originals.server, ...result.record?.originals.server } };
  await warnInsecureRestore(plan, result);
  await tellLeftToUnseenPolicy(plan, targets, result);
  if (result.restored) return;
  // Taken over by another resource: its record, its originals, its restore.
  if (result.record && !result.ours) return;
  // A side that cannot be read cannot be restored: said with its cause; its originals stay recorded on the host.
  const unreadable = SIDES.filter((side) => result.unavailable[side] && Object.keys(targets[side]).length > 0);
  if (unreadable.length > 0) {
    const causes = unreadable.map((side) => `the ${side} side cannot be read (${unavailableText(result)[side]})`).join("; ");
    throw new HostError(
      "sideUnavailable",
      `${conn.host}:${conn.port}`,
      `could not restore the originals: ${causes}; they stay recorded on the host: start the ` +
        `${unreadable.map((side) => (side === "server" ? "Server (LanmanServer)" : "Workstation (LanmanWorkstation)")).join(" and ")} service and destroy ` +
        `again, or set onDelete: "retain" to leave the host as it is`,
    );
  }
  const missed = unenforcedSettings(targets, result.after);
  throw new HostError("notEnforced", `${conn.host}:${conn.port}`, `could not restore ${missed.join(", ") || "the recorded originals"}`);
}

/**
 * destroy with onDelete "retain": the host keeps its settings, and its record is marked released
 * (its originals kept), so whichever resource declares the host next takes it over without
 * takeOwnership. A host that cannot be reached is no reason to fail a destroy that changes
 * nothing: said as information, with what it means for the next resource.
 */
async function release(plan: OperationPlan): Promise<void> {
  try {
    await runPlanned(plan, { operation: "release" });
  } catch (err) {
    await info(
      `${plan.connection.host}: destroy left the host as it is (onDelete: "retain") but could not mark its record released: ${(err as Error).message}; a ` +
        `resource that declares this host later needs takeOwnership: true`,
      plan.inputs.resourceUrn,
    );
  }
}

/**
 * A domain controller whose policy the restore could not see keeps its Security Options as they
 * are (smb-signing.ps1: an original written back could weaken it until a policy, if any, puts its
 * value back): said, with the originals left, so that a person can put them back by hand.
 */
async function tellLeftToUnseenPolicy(plan: OperationPlan, targets: DeclaredSettings, result: SigningResult): Promise<void> {
  if (result.groupPolicyVisibility?.state !== "unknown" || result.hostFacts.domainRole < 4 || !result.ours) return;
  const left = leftByRestore(targets, result.after, result.groupPolicy);
  if (left.length === 0) return;
  await info(
    `${plan.connection.host}: destroy left ${left.join(", ")} as it is: this domain controller's Group Policy cannot be seen ` +
      `(${result.groupPolicyVisibility.reason}), and writing an original back could weaken it until a policy puts its value back; set it by hand or by ` +
      `policy if it should change`,
    plan.inputs.resourceUrn,
  );
}

/**
 * A restore that returned the host to values that weaken it (requireSigning false, guest logons
 * on) is said, naming the host and the values: the program declared them secure, and destroy
 * quietly undid that.
 */
async function warnInsecureRestore(plan: OperationPlan, result: SigningResult): Promise<void> {
  const weakens = insecureRestore(restoredValues(result.changed, result.after));
  if (!weakens) return;
  await warn(
    `${plan.connection.host}: destroy put back the values this host had before this resource changed them (onDelete: "restore"): ${weakens}; to leave a ` +
      `host secured when its resource goes, set onDelete: "retain" before destroying`,
    plan.inputs.resourceUrn,
  );
}

export { deleteResource as delete };
/**
 * Providers serialized into state before delete took the SDK's name (before 4d0a2d7) call
 * `remove`; their resources' destroy runs that code, so the name stays (stateUpgrade.test.ts).
 */
export { deleteResource as remove };

/**
 * The dynamic-provider runtime writes a failed check, diff, read or delete to its stderr as
 * `${e}: ${e.stack}` (@pulumi/pulumi cmd/dynamic-provider), which the engine shows on the stack's
 * line; V8's stack opens with `${e}` itself, so the error read twice ("HostError: X: HostError:
 * X"). An error leaves an engine method with its stack as the frames alone, "at ...", so the
 * runtime's line names it once.
 */
export function namedOnce<A extends unknown[], R>(method: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await method(...args);
    } catch (err) {
      if (err instanceof Error && typeof err.stack === "string" && err.stack.startsWith(String(err))) {
        err.stack = err.stack.slice(String(err).length).trimStart();
      }
      throw err;
    }
  };
}

/**
 * The methods the serialized provider (dynamicProvider.ts) installs on itself when the
 * dynamic-provider runtime configures it: the engine's check validates with engine-shaped failures.
 */
export const engineMethods = {
  check: namedOnce(checkForEngine),
  diff: namedOnce(diff),
  create: namedOnce(create),
  read: namedOnce(read),
  update: namedOnce(update),
  delete: namedOnce(deleteResource),
};
