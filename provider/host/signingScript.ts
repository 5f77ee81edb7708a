// Runs smb-signing.ps1 on a host: the one remote run behind every provider operation. Builds
// the request in cmdlet property names, moves it through the transport (retrying transient
// faults within the operation's deadline), checks the reply's shape, and returns it in the
// domain's own types: settings in our names (domain/settings.ts), the audit logs as Readiness.
import { z } from "zod";
import type { Connection } from "../domain/schema";
import { groupPolicySource, type PolicyEnforced, type PolicyVisibility } from "../domain/policy";
import { type AuditLogFindings, auditingOf, type Readiness } from "../domain/impact";
import {
  bothSidesFromCmdlet,
  type DeclaredSettings,
  fromCmdletProperties,
  type ObservedSettings,
  settingByCmdlet,
  type SettingNames,
  Side,
  SideSettings,
  SIDES,
  toCmdletProperties,
} from "../domain/settings";
import { runOverSsh } from "../transport/ssh";
import { runOverWinrm } from "../transport/winrm/client";
import { HostError } from "../errors";
import type { Authentication, RemoteResult } from "../transport/result";
import { errorTextFromStderr } from "./clixml";
import {
  bootstrapCommandLine,
  bootstrapStdin,
  fileCommandLine,
  fileStdin,
  packageVersion,
  parseReply,
  readFileCommandLine,
  scriptFileProblem,
  shippedScriptSha256,
  SIGNING_SCRIPT,
} from "./protocol";
import { Deadline, withRetries } from "./retry";

export interface HostFacts {
  productName: string;
  edition: string;
  displayVersion: string;
  build: string;
  /** Win32_ComputerSystem.DomainRole: 4 and 5 are domain controllers. */
  domainRole: number;
  /** The bitness of the PowerShell that ran the script (32: WOW64, e.g. a 32-bit OpenSSH build) and of Windows. */
  processBits?: 32 | 64;
  osBits?: 32 | 64;
}

/** A side the script could not read: the error, as PowerShell gave it. */
export interface UnavailableSide {
  message: string;
  errorId: string;
}

/**
 * The record the script keeps on the host (HKLM:\SOFTWARE\pulumi-smb-signing): its owner and the
 * originals. Format 2 names the owner by the random id its resource keeps in state (ownerId; ""
 * once released) and a label for people (its URN); format 1, written by releases before owner
 * ids, by "<project>/<stack>/<name>" alone (ownerLabel here, no id).
 */
export interface HostRecord {
  format: 1 | 2;
  ownerId: string;
  ownerLabel: string;
  /** When its owner first wrote it (UTC, ISO 8601; "" in format 1). */
  claimedAt: string;
  originals: DeclaredSettings;
}

export interface SigningResult {
  hostFacts: HostFacts;
  source: "cmdlet" | "registry";
  before: ObservedSettings;
  after: ObservedSettings;
  /** The settings this run wrote, in our names (the reply's "side.CmdletProperty" entries). */
  changed: SettingNames;
  /** The record on the host after this run (null: none). */
  record: HostRecord | null;
  /** Whether the record (if any) is this resource's: its id, released, or a format-1 record under one of its legacy names. */
  ours: boolean;
  /** restore only: false when another resource owns the host now, so nothing was restored. */
  restored: boolean;
  /** What Group Policy enforces on this host, by side and setting (our names), and which GPO. */
  groupPolicy: PolicyEnforced;
  /** Whether Group Policy could be seen (null: the run did not read it, as a release does not). */
  groupPolicyVisibility: PolicyVisibility | null;
  /** What the SMB audit logs say (read and apply runs that asked for it), or null. */
  readiness: Readiness | null;
  /** Sides whose settings could not be read (e.g. the Server service disabled), with the error; their `before`/`after` hold nothing. */
  unavailable: Partial<Record<Side, UnavailableSide>>;
  /** Services whose restart this run's registry writes may need before they take effect (Windows 7 / Server 2008 R2), e.g. ["LanmanServer"]. */
  restartNeeded: string[];
  /** How the script ran when run as a file (connection.scriptPath): its path, language mode and signature; null for the encoded run. */
  scriptRun: ScriptRun | null;
  /** How the transport authenticated (WinRM; null over SSH). */
  authentication: Authentication | null;
}

/** smb-signing.ps1's own report when run as a file (its reply's `script`). */
export type ScriptRun = z.infer<typeof scriptRunSchema>;
const scriptRunSchema = z.object({
  invocation: z.literal("file"),
  path: z.string(),
  languageMode: z.string(),
  signature: z.object({ status: z.string(), signer: z.string(), thumbprint: z.string() }),
});

// The reply's shape, checked before any of it is believed: a reply of another shape is a typed
// badReply, never a crash further on.
const sideValues = z.record(z.string(), z.boolean());
const sidesSchema = z.object({ client: sideValues, server: sideValues });
const factsSchema = z.object({
  productName: z.string(),
  edition: z.string(),
  displayVersion: z.string(),
  build: z.string(),
  domainRole: z.number().int(),
  processBits: z.union([z.literal(32), z.literal(64)]).optional(),
  osBits: z.union([z.literal(32), z.literal(64)]).optional(),
});
const unavailableSchema = z.object({
  client: z.object({ message: z.string(), errorId: z.string() }).optional(),
  server: z.object({ message: z.string(), errorId: z.string() }).optional(),
});
const recordSchema = z.object({
  format: z.union([z.literal(1), z.literal(2)]),
  ownerId: z.string(),
  ownerLabel: z.string(),
  claimedAt: z.string(),
  originals: z.object({ client: sideValues.optional(), server: sideValues.optional() }),
});
const enforcedSide = z.record(z.string(), z.object({ value: z.boolean(), gpo: z.string() }));
/** What Group Policy enforces, as the reply gives it (not domain/schema.ts's policySchema, the resource's inputs). */
const groupPolicySchema = z.object({ client: enforcedSide.optional(), server: enforcedSide.optional() });
const visibilitySchema = z.union([
  z.object({ state: z.literal("known") }),
  z.object({ state: z.literal("unknown"), cause: z.enum(["rsopLoggingOff", "rsopQueryFailed", "noGpoInstances"]), detail: z.string() }),
]);
const auditLogSchema = z.object({
  log: z.enum(["available", "absent", "disabled", "unreadable"]),
  /** The IDs the release logs in this log for a peer that does not sign (its SMB provider's manifest); empty: none. */
  signingIds: z.array(z.number().int()),
  events: z.number().int().min(0),
  truncated: z.boolean(),
  /** Distinct peers in the events read; `peers` names the busiest of them. */
  peerCount: z.number().int().min(0),
  peers: z.array(z.object({ peer: z.string(), events: z.number().int().min(1), ids: z.array(z.number().int()), lastSeen: z.string() })),
  error: z.string().nullish(),
});
const auditSchema = z.object({ readAt: z.string(), days: z.number().int().min(1), server: auditLogSchema, client: auditLogSchema });
const conflictSchema = z.object({
  side: z.enum(["client", "server"]),
  name: z.string(),
  declared: z.boolean(),
  enforced: z.boolean(),
  gpo: z.string(),
  source: z.enum(["gpo", "mdm"]).nullish(),
});
const okReplySchema = z.object({
  status: z.literal("ok"),
  host: factsSchema,
  source: z.enum(["cmdlet", "registry"]),
  before: sidesSchema,
  after: sidesSchema,
  changed: z.array(z.string()).nullish(),
  record: recordSchema.nullish(),
  ours: z.boolean(),
  restored: z.boolean().nullish(),
  policy: groupPolicySchema.nullish(),
  policyVisibility: visibilitySchema.nullish(),
  audit: auditSchema.nullish(),
  unavailable: unavailableSchema.nullish(),
  restartNeeded: z.array(z.string()).nullish(),
  script: scriptRunSchema.nullish(),
});
/** What an error reply may carry: enough to keep the originals when the host changed something. */
const errorDetailSchema = z.object({
  host: factsSchema,
  source: z.enum(["cmdlet", "registry"]),
  before: sidesSchema,
  changed: z.array(z.string()).nullish(),
  record: recordSchema.nullish(),
  ours: z.boolean(),
  policy: groupPolicySchema.nullish(),
  unavailable: unavailableSchema.nullish(),
  restartNeeded: z.array(z.string()).nullish(),
  policyVisibility: visibilitySchema.nullish(),
});
type OkReply = z.infer<typeof okReplySchema>;

/** Attached to a host error when the host changed some settings, or wrote its record, before failing. */
export interface PartialApply {
  partial?: SigningResult;
}

/** Who asks (see HostRecord): the resource's owner id ("" before its state has one), its label, the names it had in format-1 records. */
export interface Ownership {
  ownerId: string;
  ownerLabel: string;
  legacyOwners?: string[];
  takeOwnership?: boolean;
}

/** One audit log as the script reads it (see smb-signing.ps1, Get-AuditFindings). */
type AuditLogReply = z.infer<typeof auditLogSchema>;

/** Read the SMB audit logs of the last `days` days, at most `maxEvents` events per log. */
export interface AuditRequest {
  audit?: { days: number; maxEvents: number };
}

export type SigningRequest =
  | ({ operation: "read" } & Ownership & AuditRequest)
  | ({ operation: "apply"; client: SideSettings; server: SideSettings; originals: DeclaredSettings } & Ownership & AuditRequest)
  | ({ operation: "restore"; originals: DeclaredSettings } & Ownership)
  | ({ operation: "release" } & Ownership);

const sidesToCmdlet = (v: Partial<DeclaredSettings>) => ({
  client: toCmdletProperties("client", v.client),
  server: toCmdletProperties("server", v.server),
});

function wireRequest(request: SigningRequest): Record<string, unknown> {
  const ownership = {
    ownerId: request.ownerId,
    ownerLabel: request.ownerLabel,
    legacyOwners: request.legacyOwners ?? [],
    takeOwnership: request.takeOwnership === true,
  };
  if (request.operation === "release") return { operation: "release", ...ownership };
  if (request.operation === "restore") return { operation: "restore", ...ownership, originals: sidesToCmdlet(request.originals) };
  const audit = request.audit ? { auditDays: request.audit.days, auditMaxEvents: request.audit.maxEvents } : {};
  if (request.operation === "read") return { operation: "read", ...ownership, ...audit };
  return { operation: "apply", ...ownership, ...sidesToCmdlet(request), originals: sidesToCmdlet(request.originals), ...audit };
}

export async function runSigningScript(conn: Connection, request: SigningRequest, deadline: Deadline): Promise<SigningResult> {
  const where = `${conn.host}:${conn.port}`;
  const transport = conn.transport === "winrm" ? runOverWinrm : runOverSsh;
  if (conn.scriptPath !== undefined) {
    // The signed copy on the host (connection.scriptPath): its text checked first, read by
    // cmd.exe's type (no PowerShell), then run as a file. Another version or an edited copy is
    // refused before it runs. The file could still change between the check and the run: the
    // check only says which version runs; what may run is the signature and the host's policy.
    const scriptPath = conn.scriptPath;
    const commandLine = fileCommandLine(scriptPath);
    const stdin = fileStdin(wireRequest(request));
    return withRetries(deadline, async (attemptDeadlineMs) => {
      checkScriptFile(where, scriptPath, await transport(conn, readFileCommandLine(scriptPath), Buffer.alloc(0), attemptDeadlineMs));
      return decodeReply(where, await transport(conn, commandLine, stdin, attemptDeadlineMs), request.ownerLabel);
    });
  }
  const commandLine = bootstrapCommandLine();
  const stdin = bootstrapStdin(SIGNING_SCRIPT, wireRequest(request));
  // Retried only when the script never started; even a repeated run would be safe: every run
  // reads, applies only what differs and re-reads, and the originals live in the host's record.
  return withRetries(deadline, (attemptDeadlineMs) =>
    transport(conn, commandLine, stdin, attemptDeadlineMs).then((result) => decodeReply(where, result, request.ownerLabel)),
  );
}

/** Refuses the file `type` printed unless it is this release's smb-signing.ps1 (protocol.ts scriptFileProblem), saying which the provider expects. */
export function checkScriptFile(where: string, scriptPath: string, result: RemoteResult): void {
  const expected = () =>
    `the provider expects the smb-signing.ps1 of pulumi-smb-signing ${packageVersion()} (SHA-256 ${shippedScriptSha256()} before signing), ` +
    "signed, with nothing else changed";
  if (result.exitCode === null) throw new HostError("connectionDropped", where, `the connection ended while reading connection.scriptPath ${scriptPath}`);
  if (result.exitCode !== 0) {
    const why = errorTextFromStderr(result.stderr.toString("utf8")).trim() || `exit code ${result.exitCode}`;
    throw new HostError("scriptMismatch", where, `connection.scriptPath ${scriptPath} could not be read on the host (${why}); ${expected()}`);
  }
  const problem = scriptFileProblem(result.stdout);
  if (problem) throw new HostError("scriptMismatch", where, `connection.scriptPath ${scriptPath} ${problem}, so it was not run; ${expected()}`);
}

/** The reply of one run as a typed result, or a typed HostError (badReply for any other shape). */
export function decodeReply(where: string, result: Parameters<typeof parseReply>[1], ownerLabel = ""): SigningResult {
  let reply: unknown;
  try {
    reply = parseReply(where, result);
  } catch (err) {
    if (err instanceof HostError && err.kind === "policyConflict") throw groupPolicyConflict(where, err);
    if (err instanceof HostError && err.kind === "policyUnknown") throw groupPolicyUnseen(where, err);
    if (err instanceof HostError && err.kind === "ownedElsewhere") throw ownedElsewhere(where, err, ownerLabel);
    // An error reply after the host changed something (or wrote its record) still says what the
    // host had before; what it has now is unknown, so `after` repeats `before` until the next read.
    const detail = errorDetailSchema.safeParse((err as { reply?: unknown }).reply);
    if (detail.success && ((detail.data.changed?.length ?? 0) > 0 || detail.data.record)) {
      (err as PartialApply).partial = toResult({ ...detail.data, status: "ok", after: detail.data.before }, result.authentication);
    }
    throw err;
  }
  const parsed = okReplySchema.safeParse(reply);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HostError("badReply", where, `the reply's ${issue.path.join(".") || "document"} is not as smb-signing.ps1 writes it (${issue.message})`);
  }
  return toResult(parsed.data, result.authentication);
}

/** A record's owner for people: its label, and its id and claim (or that a release before owner ids wrote it). */
export function ownerText(r: Pick<HostRecord, "format" | "ownerId" | "ownerLabel" | "claimedAt">): string {
  return `${r.ownerLabel} (${r.format === 1 ? "written by a release before owner ids" : `owner id ${r.ownerId}, claimed ${r.claimedAt}`})`;
}

/**
 * Another owner's record, named for people: its label and id, when it claimed the host, and, when
 * the label is this resource's own, what can have written it (the advice says how to hand over).
 */
function ownedElsewhere(where: string, err: HostError, ownerLabel: string): HostError {
  const record = recordSchema.safeParse((err as { reply?: { record?: unknown } }).reply?.record);
  // A refusal is believed without its record too (it refuses): then the script's own words.
  if (!record.success) return err;
  const r = record.data;
  let text = `the SMB signing settings of this host are owned by another resource: ${ownerText(r)}; nothing was changed`;
  if (r.ownerLabel === ownerLabel && r.format === 2) {
    text +=
      ". That record has this resource's own name but another owner id: either a stack of the same name in another backend or organisation owns the host, " +
      "or an earlier `up` of this resource was interrupted after the host recorded it and before Pulumi saved it (a pending create, or " +
      "PULUMI_SKIP_CHECKPOINTS); if it is the interrupted run, set takeOwnership: true for one `up`";
  }
  return Object.assign(new HostError("ownedElsewhere", where, text), { reply: (err as { reply?: unknown }).reply });
}

/** A policy conflict in the words of the program: `server.requireSigning`, the GPO and its value. */
function groupPolicyConflict(where: string, err: HostError): HostError {
  const conflicts = z.array(conflictSchema).safeParse((err as { reply?: { conflicts?: unknown } }).reply?.conflicts);
  if (!conflicts.success || conflicts.data.length === 0) return new HostError("badReply", where, "a policy conflict reply without its conflicts");
  const described = conflicts.data.map((c) => {
    const def = settingByCmdlet(c.side, c.name);
    return `${c.side}.${def?.name ?? c.name} is declared ${c.declared}, but ${groupPolicySource(c.gpo)} enforces ${c.enforced}`;
  });
  const mdm = conflicts.data.some((c) => c.source === "mdm");
  return new HostError(
    "policyConflict",
    where,
    `${described.join("; ")}; nothing was changed`,
    mdm
      ? "declare the value the policy enforces, stop managing that setting, or change the policy (the Intune device configuration for MDM): a local " +
          "change would only last until the policy's next application (Group Policy refresh or MDM sync)"
      : undefined,
  );
}

/** Why Group Policy could not be seen, for people. */
export function visibilityReason(v: z.infer<typeof visibilitySchema>): PolicyVisibility {
  if (v.state === "known") return { state: "known" };
  const reason = {
    rsopLoggingOff: `RSoP logging is turned off (${v.detail})`,
    rsopQueryFailed: `the RSoP query (root\\rsop\\computer) failed: ${v.detail}`,
    noGpoInstances: `RSoP names no Group Policy object on this domain member (${v.detail})`,
  }[v.cause];
  return { state: "unknown", reason };
}

/** Fixes for each cause of unseen policy, in the program's words. */
const UNSEEN_FIX: Record<"rsopLoggingOff" | "rsopQueryFailed" | "noGpoInstances", string> = {
  rsopLoggingOff:
    'turn RSoP logging back on (set "Turn off Resultant Set of Policy logging", Computer Configuration > Administrative Templates > System > Group ' +
    "Policy, to Not Configured, then run gpupdate /force on the host), or declare the value the host has now",
  rsopQueryFailed:
    "connect as an elevated member of the local Administrators group, or repair WMI's root\\rsop\\computer namespace so that the policy can be read, or " +
    "declare the value the host has now",
  noGpoInstances: "run gpupdate /force on the host so that RSoP records the policy it applies, or declare the value the host has now",
};

/** A change refused because the domain controller's policy cannot be seen: which settings, why, and the fix. */
function groupPolicyUnseen(where: string, err: HostError): HostError {
  const reply = (err as { reply?: { unconfirmed?: unknown; policyVisibility?: unknown } }).reply;
  const unconfirmed = z.array(z.string()).safeParse(reply?.unconfirmed);
  const visibility = visibilitySchema.safeParse(reply?.policyVisibility);
  if (!unconfirmed.success || !visibility.success || visibility.data.state !== "unknown")
    return new HostError("badReply", where, "a policyUnknown reply without its settings or cause");
  const names = unconfirmed.data.map((entry) => {
    const { side, name } = cmdletEntry(entry);
    return `${side}.${name}`;
  });
  const reason = (visibilityReason(visibility.data) as { reason: string }).reason;
  return Object.assign(
    new HostError(
      "policyUnknown",
      where,
      `this domain controller's Group Policy cannot be seen: ${reason}; a policy such as the Default Domain Controllers Policy may enforce ` +
        `${names.join(", ")} and would put a change back at its next refresh, so nothing was changed`,
      UNSEEN_FIX[visibility.data.cause],
    ),
    { reply },
  );
}

/** A reply's "side.CmdletProperty" entry in our names (a property we do not manage keeps its cmdlet name). */
function cmdletEntry(entry: string): { side: Side; name: string; known: boolean } {
  const [side, cmdletName] = entry.split(".") as [Side, string];
  const def = SIDES.includes(side) ? settingByCmdlet(side, cmdletName) : undefined;
  return { side, name: def?.name ?? cmdletName, known: def !== undefined };
}

/** The settings a reply says were written, in our names; entries for settings we do not manage are dropped. */
function changedSettings(entries: readonly string[]): SettingNames {
  const out: SettingNames = { client: [], server: [] };
  for (const entry of entries) {
    const { side, name, known } = cmdletEntry(entry);
    if (known) out[side].push(name);
  }
  return out;
}

/** One audit log's findings in the domain's words (impact.ts), with whether the side audits (auditingOf). */
function auditLogFindings(r: AuditLogReply, auditing: boolean | null): AuditLogFindings {
  return {
    log: r.log,
    auditing,
    signingEventIds: [...r.signingIds],
    events: r.events,
    truncated: r.truncated,
    peerCount: r.peerCount,
    peers: r.peers.map((p) => ({ peer: p.peer, events: p.events, eventIds: p.ids, lastSeen: p.lastSeen })),
    ...(r.error ? { error: r.error } : {}),
  };
}

/** A reply in cmdlet property names, as the domain's types. */
function toResult(reply: OkReply, authentication: Authentication | undefined): SigningResult {
  const observed = (raw: OkReply["before"]): ObservedSettings => ({
    client: fromCmdletProperties("client", raw.client),
    server: fromCmdletProperties("server", raw.server),
  });
  const before = observed(reply.before);
  const groupPolicy = bothSidesFromCmdlet(reply.policy ?? {});
  const audit = reply.audit;
  const readiness: Readiness | null = audit
    ? {
        readAt: audit.readAt,
        days: audit.days,
        server: auditLogFindings(audit.server, auditingOf("server", groupPolicy, before, audit.server)),
        client: auditLogFindings(audit.client, auditingOf("client", groupPolicy, before, audit.client)),
      }
    : null;
  return {
    hostFacts: reply.host,
    source: reply.source,
    before,
    after: observed(reply.after),
    changed: changedSettings(reply.changed ?? []),
    record: reply.record ? { ...reply.record, originals: bothSidesFromCmdlet(reply.record.originals) } : null,
    ours: reply.ours,
    restored: reply.restored === true,
    groupPolicy,
    groupPolicyVisibility: reply.policyVisibility ? visibilityReason(reply.policyVisibility) : null,
    readiness,
    unavailable: { ...reply.unavailable },
    restartNeeded: [...(reply.restartNeeded ?? [])],
    scriptRun: reply.script ? { ...reply.script, signature: { ...reply.script.signature } } : null,
    authentication: authentication ? { ...authentication } : null,
  };
}
