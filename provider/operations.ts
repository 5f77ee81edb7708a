// The provider's operations (check, diff, create, read, update, delete), translating between
// Pulumi's plain objects and the domain. Loaded at run time by the serialized dynamic provider,
// so none of this code is copied into Pulumi state.
import type * as dynamic from "@pulumi/pulumi/dynamic";
import {
  declaredSettings,
  DeclaredSettings,
  diffPolicy,
  ObservedSettings,
  inputsFromObserved,
  policyId,
  PolicyOutputs,
  policyDrift,
  recordOriginals,
  unenforcedSettings,
} from "./domain/policy";
import { checkSafety, findWeakenings } from "./domain/safety";
import { Consequence, consequencesIfUnread, consequencesOf, insecureRestore, Readiness } from "./domain/impact";
import { settingByCmdlet, Side, SIDES } from "./domain/settings";
import { info, warn } from "./transport/engineLog";
import { CheckFailure, DEFAULT_OWNER, knownInputs, KnownPolicyInputs, parsePolicyInputs, PolicyInputs, UNKNOWN } from "./domain/schema";
import { HostError, type HostErrorKind } from "./errors";
import { newOwnerId, ownerLabel } from "./domain/owner";
import { Deadline, deadlineIn } from "./host/retry";
import { AuditLogReply, AuditRequest, Ownership, ownerText, PartialApply, runSigningScript, SigningResult } from "./host/signingScript";
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

/** The operation's deadline: its customTimeouts entry, else one attempt's connect and command time. */
function deadlineFor(inputs: Pick<KnownPolicyInputs, "connection" | "customTimeouts">, operation: "create" | "update" | "delete" | "read"): Deadline {
  const c = inputs.connection;
  const attempt = c.connectTimeoutSeconds + c.commandTimeoutSeconds;
  const custom = operation === "read" ? undefined : inputs.customTimeouts?.[operation];
  return deadlineIn(typeof custom === "number" ? custom : attempt, attempt);
}

/**
 * Who this resource is to the host's record (domain/owner.ts): the owner id its state keeps ("" in
 * state written before owner ids, until its next apply writes one), the label for people, and the
 * name a record of the first format may give it: its state's owner (an import: its own).
 */
function ownershipOf(inputs: KnownPolicyInputs, ownerId: string | undefined, legacyOwner: string | undefined): Ownership {
  return {
    ownerId: ownerId ?? "",
    ownerLabel: ownerLabel(inputs.resourceUrn, inputs.owner),
    legacyOwners: legacyOwner === undefined ? [] : [legacyOwner],
    takeOwnership: inputs.takeOwnership === true,
  };
}

/** The originals the host's record keeps for this resource, if the record is this resource's. */
const ownOriginals = (r: SigningResult): DeclaredSettings | undefined => (r.ours && r.record ? r.record.originals : undefined);

/** Faults of the connection itself, and a signed copy refused before it ran (scriptMismatch): the script never started, so the host wrote nothing. */
const SCRIPT_NEVER_RAN: ReadonlySet<HostErrorKind> = new Set(["authenticationFailed", "hostKeyMismatch", "certificateRejected", "connectionFailed", "hostBusy", "scriptMismatch"]);

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

/** The most audit events read per log and run: enough for a busy file server's week, bounded in time and reply size. */
export const AUDIT_MAX_EVENTS = 2000;

/** What every run asks of the host's SMB audit logs: the resource's window, bounded. */
function auditRequest(inputs: Pick<KnownPolicyInputs, "readinessDays">): NonNullable<AuditRequest["audit"]> {
  return { days: inputs.readinessDays, maxEvents: AUDIT_MAX_EVENTS };
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

function outputsOf(inputs: KnownPolicyInputs, ownerId: string | undefined, result: SigningResult, originals: DeclaredSettings, previousRestarts?: string[]): PolicyOutputs {
  const readiness = readinessOf(result);
  return {
    ...inputs,
    ...(ownerId === undefined ? {} : { ownerId }),
    connection: inputs.connection,
    observed: result.after,
    originalSettings: originals,
    hostFacts: { ...result.hostFacts },
    settingsSource: result.source,
    policyManaged: result.policy,
    policyDrift: policyDrift(declaredSettings(inputs), result.after, result.policy),
    ...(result.policyVisibility ? { policyVisibility: result.policyVisibility } : {}),
    readiness,
    consequences: keptConsequences(inputs, result, originals).map((c) => c.text),
    unavailableSides: unavailableText(result),
    restartNeeded: restartsOwed(result, previousRestarts),
    ...(result.scriptRun ? { scriptRun: result.scriptRun } : {}),
    ...(result.authentication ? { authenticatedWith: result.authentication.mechanism } : {}),
  };
}

/**
 * The audit findings with whether each side audited peers that do not sign when the logs were
 * read (before this run changed anything: audit turned on in the same run has logged nothing
 * yet). Policy wins over the setting. Where neither says (a release whose cmdlet lacks the
 * setting: KB5066913 on an older server, its audit turned on through the registry), a signing
 * event in the log is the evidence that the audit is on.
 */
export function readinessOf(result: SigningResult): Readiness | null {
  if (!result.audit) return null;
  const auditing = (side: "server" | "client", name: string, r: AuditLogReply): boolean | null => {
    const value = result.policy[side][name]?.value ?? result.before[side][name];
    if (typeof value === "boolean") return value;
    return r.log === "available" && r.events > 0 ? true : null;
  };
  const side = (r: AuditLogReply, on: boolean | null) => ({
    log: r.log,
    auditing: on,
    signingEventIds: [...r.signingIds],
    events: r.events,
    truncated: r.truncated,
    peerCount: r.peerCount,
    peers: r.peers.map((p) => ({ peer: p.peer, events: p.events, eventIds: p.ids, lastSeen: p.lastSeen })),
    ...(r.error ? { error: r.error } : {}),
  });
  return {
    readAt: result.audit.readAt,
    days: result.audit.days,
    server: side(result.audit.server, auditing("server", "auditClientDoesNotSupportSigning", result.audit.server)),
    client: side(result.audit.client, auditing("client", "auditServerDoesNotSupportSigning", result.audit.client)),
  };
}

/**
 * What this resource's settings change for people on the host, against how the host was before
 * this resource changed them (its originals; unmanaged settings as the host reports them now),
 * plus what `destroy` would put back if that weakens the host. Stable across runs that change
 * nothing: the audit findings, which change with every read, are the `readiness` output's.
 */
function keptConsequences(inputs: KnownPolicyInputs, result: SigningResult, originals: DeclaredSettings): Consequence[] {
  const declared = declaredSettings(inputs);
  const out = presentConsequences(declared, result.after, originals);
  if (inputs.onDelete === "restore") {
    const restored: DeclaredSettings = { client: {}, server: {} };
    for (const side of SIDES) {
      for (const [name, original] of Object.entries(originals[side])) {
        // A restore leaves what Group Policy enforces to the policy.
        if (declared[side][name] !== undefined && original !== declared[side][name] && result.policy[side][name] === undefined) restored[side][name] = original;
      }
    }
    const weakens = insecureRestore(restored);
    if (weakens) out.push({ severity: "info", setting: "onDelete", text: `on destroy (onDelete: "restore") this host returns to ${weakens}` });
  }
  return out;
}

/** What the declared settings mean for people, against the host as it was before this resource changed it. */
function presentConsequences(declared: DeclaredSettings, now: ObservedSettings, originals: DeclaredSettings): Consequence[] {
  return consequencesOf({ before: beforeThisResource(now, originals), declared, readiness: null, tense: "present" });
}

/** The host as it was before this resource changed it: its originals, and what it reports now for the rest. */
function beforeThisResource(now: ObservedSettings, originals: DeclaredSettings): ObservedSettings {
  const before = { client: { ...now.client }, server: { ...now.server } };
  for (const side of SIDES) {
    for (const [name, original] of Object.entries(originals[side])) if (typeof original === "boolean") before[side][name] = original;
  }
  return before;
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
  const v = result.policyVisibility;
  if (v?.state !== "unknown") return;
  await info(`${host}: Group Policy on this host cannot be seen (${v.reason}): a policy the provider cannot see may set a declared setting back at its next refresh`, urn);
}

/**
 * The resource's messages about consequences, on the resource (transport/engineLog.ts): at most
 * one warning, holding everything a person must decide on, and at most one info message with
 * the rest. A 500-host run then has at most one warning line per host that needs a decision.
 */
async function tell(host: string, urn: string | undefined, consequences: Consequence[]): Promise<void> {
  const joined = (texts: string[], what: string) => (texts.length === 1 ? `${host}: ${texts[0]}` : `${host}: ${texts.length} ${what}:\n  - ${texts.join("\n  - ")}`);
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
  const conn = inputs.connection;
  const declared = declaredSettings(inputs);
  const previous = olds?.originalSettings;
  // State written before owner ids gets one now: this apply writes it into the host's record.
  const ownerId = olds?.ownerId ?? newOwnerId();
  const originalsOf = (r: SigningResult) => ownOriginals(r) ?? recordOriginals(previous, r.before, declared);
  let result: SigningResult;
  try {
    result = await runSigningScript(
      conn,
      {
        operation: "apply",
        ...declared,
        originals: previous ?? { client: {}, server: {} },
        ...ownershipOf(inputs, ownerId, olds ? (olds.owner ?? DEFAULT_OWNER) : undefined),
        audit: auditRequest(inputs),
      },
      deadlineFor(inputs, olds ? "update" : "create"),
    );
  } catch (err) {
    const partial = (err as PartialApply).partial;
    if (partial) {
      await warnRestart(conn.host, inputs.resourceUrn, partial);
      throw new PartialApplyError(policyId(conn), outputsOf(inputs, ownerId, partial, originalsOf(partial), olds?.restartNeeded), providerText, [(err as Error).message]);
    }
    // A create whose run may have written the record keeps its owner id in state: the error
    // itself carries what the engine records (its kind and message unchanged).
    if (!olds && err instanceof Error && mayHaveClaimed(err)) {
      throw Object.assign(err, { id: policyId(conn), properties: { ...unreadOutputs(inputs, ownerId), [PROVIDER_KEY]: providerText }, reasons: [err.message] });
    }
    throw err;
  }
  await tellAboutRun(conn.host, inputs.resourceUrn, result);
  const outputs = outputsOf(inputs, ownerId, result, originalsOf(result), olds?.restartNeeded);
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
    `${host}: the settings were written to the registry (this release has no SmbShare module), and whether the running ${services} service takes them without a restart is not documented: a restart of ${services} (Restart-Service; it drops open SMB sessions) or a reboot may be needed before they take effect`,
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
  if (result.changes) await tell(hostLabel(parsed.inputs.connection.host), known(parsed.inputs.resourceUrn), previewConsequences(olds, parsed.inputs, result.replaces.length > 0));
  return { changes: result.changes, replaces: result.replaces, deleteBeforeReplace: result.replaces.length > 0 };
}

/**
 * What the next up changes for people, as preview can know it without contacting the host: from
 * the host's settings and audit findings as last seen (the last up or refresh; `pulumi preview
 * --refresh` reads them first). A replacement is another host, not read yet.
 */
export function previewConsequences(olds: Partial<PolicyOutputs>, news: PolicyInputs, replaced = false): Consequence[] {
  const declared = declaredSettings(news);
  if (replaced || !olds.observed) return consequencesIfUnread(declared);
  return consequencesOf({ before: olds.observed, declared, readiness: olds.readiness ?? null, tense: "future" });
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
async function readForImport(inputs: KnownPolicyInputs, ownerId: string, operation: "create" | "read"): Promise<SigningResult> {
  const conn = inputs.connection;
  const result = await runSigningScript(conn, { operation: "read", ...ownershipOf(inputs, ownerId, inputs.owner), audit: auditRequest(inputs) }, deadlineFor(inputs, operation));
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
  const conn = inputs.connection;
  const ownerId = newOwnerId();
  const result = await readForImport(inputs, ownerId, "create");
  const declared = declaredSettings(inputs);
  const differing = unenforcedSettings(declared, result.after);
  if (differing.length > 0) {
    throw new Error(
      `${conn.host}: cannot import: the host differs from the program in ${differing.join(", ")}; declare the host's values to import it, then change them in a later update`,
    );
  }
  return outputsOf(inputs, ownerId, result, recordOriginals(result.record?.originals, result.after, declared));
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
  const inputs = validated(raw);
  const ownerId = newOwnerId();
  const result = await readForImport(inputs, ownerId, "read");
  const declared: DeclaredSettings = { client: {}, server: {} };
  const leftInsecure: string[] = [];
  for (const side of SIDES) {
    for (const [name, value] of Object.entries(result.after[side])) {
      if (typeof value !== "boolean" || name === "enableSigning") continue;
      if (findWeakenings({ [side]: { [name]: value } }).length > 0) leftInsecure.push(`${side}.${name}=${value}`);
      else declared[side][name] = value;
    }
  }
  const withSettings: KnownPolicyInputs = { ...inputs, client: declared.client, server: declared.server };
  const outputs = outputsOf(withSettings, ownerId, result, recordOriginals(result.record?.originals, result.after, declared));
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
  const result = await runSigningScript(
    inputs.connection,
    { operation: "read", ...ownershipOf(inputs, prior.ownerId, inputs.owner), audit: auditRequest(inputs) },
    deadlineFor(inputs, "read"),
  );
  await tellAboutRun(inputs.connection.host, inputs.resourceUrn, result);
  const declared = declaredSettings(inputs);
  // The host's record is the truth about originals (an apply may have recorded more than state
  // knows, if its reply never arrived); adopted by `import`, the current values are.
  const originals = ownOriginals(result) ?? prior.originalSettings ?? recordOriginals(undefined, result.after, declared);
  const outs = outputsOf(inputs, prior.ownerId, result, originals, prior.restartNeeded);
  // State written before owners existed keeps none: the schema's default recorded here would be
  // a change of owner at the next diff (drift on a host nobody touched; stateUpgrade.test.ts).
  if (prior.owner === undefined) delete (outs as Partial<PolicyOutputs>).owner;
  const currentInputs = inputsFromObserved(pickInputs(outs), result.after);
  return { id, props: { ...outs, ...currentInputs }, inputs: currentInputs };
}

/** The SDK's `delete` (a reserved word as a function name, hence the alias below). */
async function deleteResource(_id: string, props: PolicyOutputs): Promise<void> {
  const conn = props.connection;
  const inputs = { ...props, owner: props.owner ?? DEFAULT_OWNER } as KnownPolicyInputs;
  const ownership = ownershipOf(inputs, props.ownerId, inputs.owner);
  if (props.onDelete === "retain") return release(props, ownership);
  const originals = props.originalSettings ?? { client: {}, server: {} };
  const result = await runSigningScript(conn, { operation: "restore", originals, ...ownership }, deadlineFor(props, "delete"));
  await warnInsecureRestore(props, result);
  await tellLeftToUnseenPolicy(props, originals, result);
  if (result.restored) return;
  // Taken over by another resource: its record, its originals, its restore.
  if (result.record && !result.ours) return;
  const targets = { client: { ...originals.client, ...result.record?.originals.client }, server: { ...originals.server, ...result.record?.originals.server } };
  // A side that cannot be read cannot be restored: said with its cause; its originals stay recorded on the host.
  const unreadable = SIDES.filter((side) => result.unavailable[side] && Object.keys(targets[side]).length > 0);
  if (unreadable.length > 0) {
    const causes = unreadable.map((side) => `the ${side} side cannot be read (${unavailableText(result)[side]})`).join("; ");
    throw new HostError(
      "sideUnavailable",
      `${conn.host}:${conn.port}`,
      `could not restore the originals: ${causes}; they stay recorded on the host: start the ${unreadable.map((side) => (side === "server" ? "Server (LanmanServer)" : "Workstation (LanmanWorkstation)")).join(" and ")} service and destroy again, or set onDelete: "retain" to leave the host as it is`,
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
async function release(props: PolicyOutputs, ownership: Ownership): Promise<void> {
  try {
    await runSigningScript(props.connection, { operation: "release", ...ownership }, deadlineFor(props, "delete"));
  } catch (err) {
    await info(
      `${props.connection.host}: destroy left the host as it is (onDelete: "retain") but could not mark its record released: ${(err as Error).message}; a resource that declares this host later needs takeOwnership: true`,
      props.resourceUrn,
    );
  }
}

/**
 * A domain controller whose policy the restore could not see keeps its Security Options as they
 * are (smb-signing.ps1: an original written back could weaken it until a policy, if any, puts its
 * value back): said, with the originals left, so that a person can put them back by hand.
 */
async function tellLeftToUnseenPolicy(props: PolicyOutputs, originals: DeclaredSettings, result: SigningResult): Promise<void> {
  if (result.policyVisibility?.state !== "unknown" || result.hostFacts.domainRole < 4 || !result.ours) return;
  const targets = { client: { ...originals.client, ...result.record?.originals.client }, server: { ...originals.server, ...result.record?.originals.server } };
  const left: string[] = [];
  for (const side of SIDES) {
    for (const [name, original] of Object.entries(targets[side])) {
      const now = result.after[side][name];
      if (typeof original === "boolean" && typeof now === "boolean" && now !== original && result.policy[side][name] === undefined) left.push(`${side}.${name} (original ${original}, left ${now})`);
    }
  }
  if (left.length === 0) return;
  await info(
    `${props.connection.host}: destroy left ${left.join(", ")} as it is: this domain controller's Group Policy cannot be seen (${result.policyVisibility.reason}), and writing an original back could weaken it until a policy puts its value back; set it by hand or by policy if it should change`,
    props.resourceUrn,
  );
}

/**
 * A restore that returned the host to values that weaken it (requireSigning false, guest logons
 * on) is said, naming the host and the values: the program declared them secure, and destroy
 * quietly undid that.
 */
async function warnInsecureRestore(props: PolicyOutputs, result: SigningResult): Promise<void> {
  const restored: DeclaredSettings = { client: {}, server: {} };
  for (const entry of result.changed) {
    const [side, cmdletName] = entry.split(".") as ["client" | "server", string];
    const def = SIDES.includes(side) ? settingByCmdlet(side, cmdletName) : undefined;
    const value = def && result.after[side][def.name];
    if (def && typeof value === "boolean") restored[side][def.name] = value;
  }
  const weakens = insecureRestore(restored);
  if (!weakens) return;
  await warn(
    `${props.connection.host}: destroy put back the values this host had before this resource changed them (onDelete: "restore"): ${weakens}; to leave a host secured when its resource goes, set onDelete: "retain" before destroying`,
    props.resourceUrn,
  );
}

/** The inputs part of recorded outputs: what the program declared. */
type RecordedInputs = Pick<
  PolicyOutputs,
  "connection" | "client" | "server" | "acknowledgeInsecureSettings" | "onDelete" | "importId" | "owner" | "takeOwnership" | "customTimeouts" | "readinessDays" | "resourceUrn"
>;

function pickInputs(p: Partial<PolicyOutputs>): RecordedInputs {
  const { connection, client, server, acknowledgeInsecureSettings, onDelete, importId, owner, takeOwnership, customTimeouts, readinessDays, resourceUrn } = p as PolicyOutputs;
  const out: Record<string, unknown> = { connection, onDelete };
  const optional = { importId, client, server, acknowledgeInsecureSettings, owner, takeOwnership, customTimeouts, readinessDays, resourceUrn };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) out[k] = v;
  return out as RecordedInputs;
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
