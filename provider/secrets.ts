// Which of a connection's fields are secrets is said once (SECRET_KEYS, domain/schema.ts); this
// is the one function both SDK front ends (the dynamic SmbSigningPolicy, and the typed SDK of the
// provider plugin: its Provider and SmbSigningPolicy) wrap them with. The plugin itself wraps
// what it returns with the same list (plugin/provider.ts).
import * as pulumi from "@pulumi/pulumi";
import { SECRET_KEYS } from "./domain/schema";

/** The same fields, with those SECRET_KEYS names (password, privateKey, passphrase) as Pulumi secrets. */
export function withSecretFields<T extends object>(fields: T): T {
  const out = { ...fields } as Record<string, unknown>;
  for (const key of SECRET_KEYS) {
    const value = out[key];
    if (value !== undefined) out[key] = pulumi.secret(value as pulumi.Input<string>);
  }
  return out as T;
}
