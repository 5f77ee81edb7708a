// The TypeScript SDK of the provider plugin (`pulumi-resource-smbsigning`): the resource
// `smbsigning:index:SmbSigningPolicy` and the provider `smbsigning`, for programs that want what
// the dynamic SmbSigningPolicy cannot give them: `pulumi import`, connection defaults from
// provider configuration, state without serialized code. Written by hand (it is two classes)
// over the argument types the dynamic resource documents, so both take the same inputs; the
// plugin's package schema (provider/plugin/schema.json) is generated from the same definitions.
import * as pulumi from "@pulumi/pulumi";
import {
  OUTPUTS,
  type ClientSigningArgs,
  type ConnectionArgs,
  type ServerSigningArgs,
  type SmbSigningPolicy as DynamicPolicy,
  type SmbSigningPolicyArgs,
} from "./resource";
import { PLUGIN_PACKAGE, PLUGIN_RESOURCE_TYPE } from "./domain/policy";
import { SHARED_KEYS } from "./domain/schema";
import { withSecretFields } from "./secrets";

/** The package's name: the plugin is `pulumi-resource-smbsigning`, configuration keys `smbsigning:<key>`. */
export const PACKAGE = PLUGIN_PACKAGE;

/** A host's connection: as the dynamic resource's, but the account may come from the provider's configuration. */
export type PluginConnectionArgs = Omit<ConnectionArgs, "user"> & { user?: ConnectionArgs["user"] };

/** SmbSigningPolicyArgs with a connection whose account and credentials may come from configuration. */
export type PluginPolicyArgs = Omit<SmbSigningPolicyArgs, "connection"> & { connection: pulumi.Input<PluginConnectionArgs> };

/** Connection defaults a fleet shares (`smbsigning:<key>` in stack configuration, or an explicit provider): the connection's fields of those names. */
export type ProviderArgs = Partial<Pick<ConnectionArgs, (typeof SHARED_KEYS)[number]>>;

/** The plugin's provider: connection defaults for the resources given it (`{ provider }`). Credentials are secrets. */
export class Provider extends pulumi.ProviderResource {
  constructor(name: string, args: ProviderArgs = {}, opts?: pulumi.ResourceOptions) {
    super(PACKAGE, name, withSecretFields(args), opts);
  }
}

/** The outputs both front ends share: the dynamic SmbSigningPolicy's, with their doc comments. */
type SharedOutputs = Pick<DynamicPolicy, (typeof OUTPUTS)[number]>;

// The class gets the shared outputs' declarations by merging with this interface.
export interface SmbSigningPolicy extends SharedOutputs {}

/** SmbSigningPolicy served by the provider plugin: the same inputs, outputs and behaviour as the dynamic resource. */
export class SmbSigningPolicy extends pulumi.CustomResource {
  /** The connection as recorded: the declared one over the provider's non-secret defaults, without lent credentials. */
  declare public readonly connection: pulumi.Output<PluginConnectionArgs>;
  /** The declared outbound settings. */
  declare public readonly client: pulumi.Output<ClientSigningArgs | undefined>;
  /** The declared inbound settings. */
  declare public readonly server: pulumi.Output<ServerSigningArgs | undefined>;

  constructor(name: string, args: PluginPolicyArgs, opts?: pulumi.CustomResourceOptions) {
    // Credentials declared here are secrets from the start (the plugin returns them wrapped too).
    const c = args.connection;
    const props: Record<string, unknown> = { ...args, connection: pulumi.Output.isInstance(c) || c instanceof Promise ? c : withSecretFields(c) };
    for (const key of OUTPUTS) props[key] = undefined;
    super(PLUGIN_RESOURCE_TYPE, name, opts?.id ? {} : props, opts);
  }
}
