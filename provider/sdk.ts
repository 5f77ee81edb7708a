// The TypeScript SDK of the provider plugin (`pulumi-resource-smbsigning`): the resource
// `smbsigning:index:SmbSigningPolicy` and the provider `smbsigning`, for programs that want what
// the dynamic SmbSigningPolicy cannot give them: `pulumi import`, connection defaults from
// provider configuration, state without serialized code. Written by hand (it is two classes)
// over the argument types the dynamic resource documents, so both take the same inputs; the
// plugin's package schema (provider/plugin/schema.json) is generated from the same definitions.
import * as pulumi from "@pulumi/pulumi";
import type { ClientSigningArgs, ConnectionArgs, ServerSigningArgs, SmbSigningPolicyArgs } from "./resource";
import type { Readiness } from "./domain/impact";
import { PLUGIN_PACKAGE, PLUGIN_RESOURCE_TYPE, type PolicyEnforced } from "./domain/policy";

/** The package's name: the plugin is `pulumi-resource-smbsigning`, configuration keys `smbsigning:<key>`. */
export const PACKAGE = PLUGIN_PACKAGE;

/** A host's connection: as the dynamic resource's, but the account may come from the provider's configuration. */
export type PluginConnectionArgs = Omit<ConnectionArgs, "user"> & { user?: ConnectionArgs["user"] };

/** SmbSigningPolicyArgs with a connection whose account and credentials may come from configuration. */
export type PluginPolicyArgs = Omit<SmbSigningPolicyArgs, "connection"> & { connection: pulumi.Input<PluginConnectionArgs> };

/** Connection defaults a fleet shares (`smbsigning:<key>` in stack configuration, or an explicit provider). */
export interface ProviderArgs {
  transport?: pulumi.Input<"ssh" | "winrm">;
  user?: pulumi.Input<string>;
  password?: pulumi.Input<string>;
  privateKey?: pulumi.Input<string>;
  passphrase?: pulumi.Input<string>;
  agent?: pulumi.Input<string>;
  https?: pulumi.Input<boolean>;
  authentication?: pulumi.Input<"ntlm" | "basic">;
  caCertificate?: pulumi.Input<string>;
  connectTimeoutSeconds?: pulumi.Input<number>;
  commandTimeoutSeconds?: pulumi.Input<number>;
}

/** The plugin's provider: connection defaults for the resources given it (`{ provider }`). Credentials are secrets. */
export class Provider extends pulumi.ProviderResource {
  constructor(name: string, args: ProviderArgs = {}, opts?: pulumi.ResourceOptions) {
    super(PACKAGE, name, secretCredentials(args), opts);
  }
}

type Observed = Record<string, boolean | null>;

/** The same arguments with password, privateKey and passphrase as secrets. */
function secretCredentials<T extends Partial<Record<"password" | "privateKey" | "passphrase", pulumi.Input<string>>>>(c: T): T {
  const out: T = { ...c };
  for (const key of ["password", "privateKey", "passphrase"] as const) {
    const v = c[key];
    if (v !== undefined) out[key] = pulumi.secret(v);
  }
  return out;
}

/** SmbSigningPolicy served by the provider plugin: the same inputs, outputs and behaviour as the dynamic resource. */
export class SmbSigningPolicy extends pulumi.CustomResource {
  declare public readonly connection: pulumi.Output<PluginConnectionArgs>;
  declare public readonly client: pulumi.Output<ClientSigningArgs | undefined>;
  declare public readonly server: pulumi.Output<ServerSigningArgs | undefined>;
  declare public readonly observed: pulumi.Output<{ client: Observed; server: Observed }>;
  declare public readonly originalSettings: pulumi.Output<{ client: Record<string, boolean>; server: Record<string, boolean> }>;
  declare public readonly hostFacts: pulumi.Output<{ productName: string; edition: string; displayVersion: string; build: string; domainRole: number }>;
  declare public readonly settingsSource: pulumi.Output<string>;
  declare public readonly policyManaged: pulumi.Output<PolicyEnforced>;
  declare public readonly policyDrift: pulumi.Output<string[]>;
  declare public readonly consequences: pulumi.Output<string[]>;
  declare public readonly readiness: pulumi.Output<Readiness | null>;

  constructor(name: string, args: PluginPolicyArgs, opts?: pulumi.CustomResourceOptions) {
    // Credentials declared here are secrets from the start (the plugin returns them wrapped too).
    const c = args.connection;
    const props = {
      ...args,
      connection: pulumi.Output.isInstance(c) || c instanceof Promise ? c : secretCredentials(c),
      observed: undefined,
      originalSettings: undefined,
      hostFacts: undefined,
      settingsSource: undefined,
      policyManaged: undefined,
      policyDrift: undefined,
      consequences: undefined,
      readiness: undefined,
    };
    super(PLUGIN_RESOURCE_TYPE, name, opts?.id ? {} : props, opts);
  }
}
