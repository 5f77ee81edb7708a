// Who owns a host's record. Pulumi promises unique URNs within one stack of one backend, and
// nothing across backends or organisations; so the owner a record names is a random id the
// resource creates with itself and keeps in its state (two resources can never share it, and
// renames, aliases and stack renames keep it), beside a label for people: the URN.
import { randomUUID } from "node:crypto";

/** The most characters of a label a record keeps (smb-signing.ps1 refuses more). */
export const OWNER_LABEL_MAX = 1024;

/** A new owner id: a version 4 UUID (122 random bits). */
export function newOwnerId(): string {
  return randomUUID();
}

/**
 * The label a record shows people: the resource's URN (else its "<project>/<stack>/<name>"),
 * cut to OWNER_LABEL_MAX UTF-16 units without splitting a surrogate pair, the cut marked "...".
 * Whatever the name, the record and the reply stay small (a few KiB, escaped as ASCII).
 */
export function ownerLabel(urn: string | undefined, owner: string): string {
  const label = urn ?? owner;
  if (label.length <= OWNER_LABEL_MAX) return label;
  let cut = OWNER_LABEL_MAX - 3;
  const last = label.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return `${label.slice(0, cut)}...`;
}
