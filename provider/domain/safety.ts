// Safety rules that make weakening SMB signing a deliberate, visible act: check refuses such
// inputs unless `acknowledgeInsecureSettings` is set, and refuses contradictions outright.
import { CheckFailure, PolicyInputs, UNKNOWN } from "./schema";
import { SETTINGS, Side, SIDES } from "./settings";

export interface Weakening {
  property: string;
  /** The value that weakens it (the settings table's `weakenedWhen`). */
  value: boolean;
  risk: string;
}

/**
 * Every value that weakens the host's SMB security, by the settings table: declared inputs, or
 * any settings by our names (originals a restore would put back, values a policy judges).
 */
export function findWeakenings(settings: Partial<Record<Side, Record<string, unknown> | undefined>>): Weakening[] {
  const found: Weakening[] = [];
  for (const side of SIDES) {
    for (const def of SETTINGS[side]) {
      if (def.weakenedWhen === undefined) continue;
      if (settings[side]?.[def.name] === def.weakenedWhen) {
        found.push({
          property: `${side}.${def.name}`,
          value: def.weakenedWhen,
          risk:
            def.name === "requireSigning"
              ? `unsigned ${side === "client" ? "outbound" : "inbound"} SMB traffic can be tampered with or relayed`
              : "unauthenticated guest access lets any server impersonate a share",
        });
      }
    }
  }
  return found;
}

/** The weakening values among these settings as `side.name=value` (requireSigning false, insecure guest logons true). */
export function insecureValues(settings: Partial<Record<Side, Record<string, unknown> | undefined>>): string[] {
  return findWeakenings(settings).map((w) => `${w.property}=${w.value}`);
}

/** Check failures for unacknowledged weakenings and for settings that cannot work together. */
export function checkSafety(inputs: PolicyInputs): CheckFailure[] {
  const failures: CheckFailure[] = [];
  if (inputs.acknowledgeInsecureSettings !== true) {
    for (const w of findWeakenings(inputs)) {
      failures.push({
        property: w.property,
        reason: `weakens SMB security (${w.risk}); set acknowledgeInsecureSettings: true to do this deliberately`,
      });
    }
  }
  // Windows refuses guest logons whenever the client requires signing (0xC05D0003), so this
  // combination would be silently ineffective.
  if (inputs.client?.enableInsecureGuestLogons === true && inputs.client?.requireSigning === true) {
    failures.push({
      property: "client.enableInsecureGuestLogons",
      reason: "cannot work while client.requireSigning is true: Windows blocks guest logons when signing is required",
    });
  }
  // A host or id not known yet (preview) is judged when known.
  const known = inputs.importId !== UNKNOWN && inputs.connection.host !== UNKNOWN;
  if (known && inputs.importId !== undefined && inputs.importId !== inputs.connection.host) {
    failures.push({ property: "importId", reason: `the import id "${inputs.importId}" must name connection.host ("${inputs.connection.host}")` });
  }
  return failures;
}

/**
 * What the program's declaration itself deserves a note for, whatever the host: a setting that
 * changes nothing on SMB 2 and 3 (EnableSecuritySignature, "Overview of SMB signing"), and each
 * acknowledged weakening. Info, not warnings: the declaration is the decision already taken (the
 * change itself is warned about by preview when it would weaken the host). The dynamic resource
 * says these from the program; the provider plugin from check. Values not known yet say nothing.
 */
export function declarationWarnings(host: string, settings: Partial<Record<Side, Record<string, unknown> | undefined>>, acknowledged: unknown): string[] {
  const out: string[] = [];
  for (const side of SIDES) {
    if (typeof settings[side]?.enableSigning === "boolean") {
      out.push(
        `${host}: ${side}.enableSigning (EnableSecuritySignature) has no effect on SMB 2 and 3; only SMB 1 uses it. Signing is governed by requireSigning.`,
      );
    }
  }
  if (acknowledged === true) for (const w of findWeakenings(settings)) out.push(`${host}: ${w.property} weakens SMB security: ${w.risk} (acknowledged)`);
  return out;
}
