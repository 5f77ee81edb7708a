// The provider plugin's configuration: connection defaults a fleet shares (account, credentials,
// transport, timeouts), so that a resource declares little more than its host. Each key is the
// same zod schema as the resource's `connection.<key>` (domain/schema.ts), so a value refused on
// a resource is refused in configuration with the same reason.
//
// Where each default goes: the non-secret ones are written into the resource's checked inputs
// (shown by preview, compared by diff, kept in state, as if the resource had declared them);
// the credentials are added when an operation runs and never written into a resource's state, so
// rotating a fleet's password is no change to any resource.
import { z } from "zod";
import { connectionSchema, CREDENTIAL_KEYS, inOurWords, reasonOf, SHARED_KEYS, UNKNOWN } from "../domain/schema";
import { PLUGIN_PACKAGE } from "../domain/policy";
import type { CheckFailure } from "../domain/schema";

/** The package name: configuration keys are `smbsigning:<key>`, the resource token `smbsigning:index:SmbSigningPolicy`. */
export const PACKAGE = PLUGIN_PACKAGE;

export type SharedKey = (typeof SHARED_KEYS)[number];
export type ProviderConfig = Partial<Record<SharedKey, unknown>>;

/** One key's schema: the resource's, without its default (configuration that is absent stays absent). */
function keySchema(key: SharedKey): z.ZodType {
  const field = connectionSchema.shape[key] as z.ZodType;
  return (field instanceof z.ZodDefault ? field.unwrap() : field) as z.ZodType;
}

/**
 * Stack configuration reaches a provider as text (`pulumi config set smbsigning:commandTimeoutSeconds 300`
 * stores "300"); an explicit provider resource passes typed values. Numbers and booleans are read
 * from their text, then validated as the resource's would be.
 */
function typed(key: SharedKey, value: unknown): unknown {
  if (typeof value !== "string" || value === UNKNOWN) return value;
  if (key === "connectTimeoutSeconds" || key === "commandTimeoutSeconds") return /^\d+$/.test(value) ? Number(value) : value;
  if (key === "https") return value === "true" ? true : value === "false" ? false : value;
  // A list in text: `pulumi config set smbsigning:kdc "dc1.corp.example,dc2.corp.example"`.
  if (key === "kdc") return value.split(/[\s,]+/).filter(Boolean);
  return value;
}

/** Validates configuration; failures name the key as users set it (`smbsigning:user`). */
export function parseProviderConfig(raw: Record<string, unknown>): { config: ProviderConfig; failures: CheckFailure[] } {
  const config: ProviderConfig = {};
  const failures: CheckFailure[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key === "version" || value === undefined || value === null) continue;
    if (!(SHARED_KEYS as readonly string[]).includes(key)) {
      failures.push({ property: key, reason: `${PACKAGE}:${key} is not a configuration key of this provider; allowed: ${SHARED_KEYS.join(", ")}` });
      continue;
    }
    const k = key as SharedKey;
    const parsed = keySchema(k).safeParse(typed(k, value), { error: inOurWords });
    if (parsed.success) {
      config[k] = parsed.data;
      continue;
    }
    failures.push({ property: key, reason: `${PACKAGE}:${key} ${reasonOf(parsed.error.issues[0])}` });
  }
  return { config, failures };
}

/**
 * The connection an operation uses: the resource's, over the configured defaults. Credentials
 * come as a set: a resource that names any of password, privateKey or agent uses its own and none
 * of the configured ones (else a configured password would be offered beside the resource's key).
 */
export function withDefaults(connection: Record<string, unknown>, config: ProviderConfig): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const key of SHARED_KEYS) {
    if ((CREDENTIAL_KEYS as readonly string[]).includes(key)) continue;
    if (config[key] !== undefined) merged[key] = config[key];
  }
  Object.assign(merged, connection);
  const ownCredentials = CREDENTIAL_KEYS.some((k) => connection[k] !== undefined && k !== "passphrase");
  if (!ownCredentials) {
    for (const key of CREDENTIAL_KEYS) if (config[key] !== undefined) merged[key] = config[key];
  }
  return merged;
}

/** The connection as a resource's state keeps it: without the credentials configuration lent it. */
export function withoutLentCredentials(connection: Record<string, unknown>, declared: Record<string, unknown>): Record<string, unknown> {
  const out = { ...connection };
  for (const key of CREDENTIAL_KEYS) if (declared[key] === undefined) delete out[key];
  return out;
}
