// The plan of one provider operation, built once from the resource's inputs: the connection, the
// declared settings, who the resource is to the host's record, the operation's deadline and what
// it asks of the host's audit logs. Every remote run and every output of the operation reads the
// plan; nothing in operations.ts computes these facts again.
import { newOwnerId, ownerLabel } from "./domain/owner";
import { declaredSettings } from "./domain/policy";
import type { Connection, KnownPolicyInputs } from "./domain/schema";
import type { DeclaredSettings } from "./domain/settings";
import { Deadline, deadlineIn } from "./host/retry";
import { type Ownership, runSigningScript, type SigningRequest, type SigningResult } from "./host/signingScript";

/** The most audit events read per log and run: enough for a busy file server's week, bounded in time and reply size. */
export const AUDIT_MAX_EVENTS = 2000;

export type Operation = "create" | "update" | "delete" | "read";

export interface OperationPlan {
  /** The inputs the operation acts on (validated; for a destroy, as its state recorded them). */
  inputs: KnownPolicyInputs;
  connection: Connection;
  /** The settings the inputs manage (domain/policy.ts declaredSettings). */
  declared: DeclaredSettings;
  /** The owner id the outputs record (undefined: state written before owner ids, on a read or destroy). */
  ownerId: string | undefined;
  /** Who the resource is to the host's record (see ownersOf). */
  ownership: Ownership;
  deadline: Deadline;
  /** What every read and apply asks of the host's SMB audit logs: the resource's window, bounded. */
  audit: { days: number; maxEvents: number };
}

/** Whose the operation is: its owner id, and the name a record of the first format may give it. */
export interface Owners {
  ownerId: string | undefined;
  /** The name a record written before owner ids gives this resource: its state's owner (an import: its own); undefined on a create. */
  legacyOwner: string | undefined;
}

/** The operation's deadline: its customTimeouts entry, else one attempt's connect and command time. */
function deadlineFor(inputs: Pick<KnownPolicyInputs, "connection" | "customTimeouts">, operation: Operation): Deadline {
  const c = inputs.connection;
  const attempt = c.connectTimeoutSeconds + c.commandTimeoutSeconds;
  const custom = operation === "read" ? undefined : inputs.customTimeouts?.[operation];
  return deadlineIn(typeof custom === "number" ? custom : attempt, attempt);
}

/**
 * Who this resource is to the host's record (domain/owner.ts): the owner id its state keeps ("" in
 * state written before owner ids, until its next apply writes one), the label for people, and the
 * name a record of the first format may give it.
 */
function ownershipOf(inputs: KnownPolicyInputs, owners: Owners): Ownership {
  return {
    ownerId: owners.ownerId ?? "",
    ownerLabel: ownerLabel(inputs.resourceUrn, inputs.owner),
    legacyOwners: owners.legacyOwner === undefined ? [] : [owners.legacyOwner],
    takeOwnership: inputs.takeOwnership === true,
  };
}

/** The plan of one operation on these inputs, its deadline starting now. */
export function planFor(inputs: KnownPolicyInputs, operation: Operation, owners: Owners): OperationPlan {
  return {
    inputs,
    connection: inputs.connection,
    declared: declaredSettings(inputs),
    ownerId: owners.ownerId,
    ownership: ownershipOf(inputs, owners),
    deadline: deadlineFor(inputs, operation),
    audit: { days: inputs.readinessDays, maxEvents: AUDIT_MAX_EVENTS },
  };
}

/** The plan of an import (either kind): a new owner id, its own name as the legacy owner. */
export function importPlan(inputs: KnownPolicyInputs, operation: "create" | "read"): OperationPlan {
  return planFor(inputs, operation, { ownerId: newOwnerId(), legacyOwner: inputs.owner });
}

/** One run of the signing script that a plan asks for. */
export type PlannedRun = { operation: "read" } | { operation: "apply" | "restore"; originals: DeclaredSettings } | { operation: "release" };

/** The request of one planned run: the plan's ownership, and its declared settings and audit request where the run takes them. */
export function requestOf(plan: OperationPlan, run: PlannedRun): SigningRequest {
  switch (run.operation) {
    case "read":
      return { operation: "read", ...plan.ownership, audit: plan.audit };
    case "apply":
      return { operation: "apply", ...plan.declared, originals: run.originals, ...plan.ownership, audit: plan.audit };
    case "restore":
      return { operation: "restore", originals: run.originals, ...plan.ownership };
    case "release":
      return { operation: "release", ...plan.ownership };
  }
}

/** Runs the signing script as the plan says, within the operation's deadline. */
export function runPlanned(plan: OperationPlan, run: PlannedRun): Promise<SigningResult> {
  return runSigningScript(plan.connection, requestOf(plan, run), plan.deadline);
}
