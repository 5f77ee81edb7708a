// The Pulumi program the end-to-end tests run: it declares the SmbSigningPolicy resources listed
// in the JSON file named by SMB_E2E_SPEC (written by the test). Credentials come from secret
// stack config, as a user's would: by default the password from "password"; `secretConfig` maps
// other connection properties (privateKey, passphrase) to config keys. A resource may instead
// ask for the spec's own plain credentials. SMB_E2E_FRONT=plugin declares them through the
// provider plugin's SDK instead of the dynamic resource.
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { type ClientSigningArgs, SmbSigningPolicy, SmbSigningPolicyArgs, smbsigning } from "pulumi-smb-signing";

interface Declared {
  name: string;
  args: SmbSigningPolicyArgs;
  import?: string;
  /** Connection property -> secret config key (default: the password from "password"). */
  secretConfig?: Record<string, string>;
  /**
   * "plain": the credentials written in the spec are passed as they are, plain strings, as a
   * program that reads them from a file or from plain config would.
   */
  credentials?: "secretConfig" | "plain";
  /**
   * The name of an earlier resource whose outputs this one's client settings wait for: the
   * program registers it only once that one is created, as a program that takes a value from
   * another resource would (`up --skip-preview` then reaches them in this order).
   */
  after?: string;
}

const config = new pulumi.Config();
// SMB_E2E_FRONT=plugin: the same declarations through the provider plugin's SDK (stacks.ts, FRONTS).
const Policy = process.env.SMB_E2E_FRONT === "plugin" ? smbsigning.SmbSigningPolicy : SmbSigningPolicy;
const spec: { resources: Declared[] } = JSON.parse(fs.readFileSync(process.env.SMB_E2E_SPEC ?? "", "utf8"));
const declared = new Map<string, { observed: pulumi.Output<unknown> }>();
for (const r of spec.resources) {
  const fromConfig = r.credentials === "plain" ? {} : (r.secretConfig ?? { password: "password" });
  const secrets = Object.fromEntries(Object.entries(fromConfig).map(([field, key]) => [field, config.requireSecret(key)]));
  const earlier = r.after ? declared.get(r.after) : undefined;
  const client = earlier ? (earlier.observed.apply(() => r.args.client) as pulumi.Input<ClientSigningArgs>) : r.args.client;
  const policy = new Policy(r.name, { ...r.args, client, connection: { ...r.args.connection, ...secrets } }, r.import ? { import: r.import } : undefined);
  declared.set(r.name, policy);
  if (r.name === spec.resources[0].name) {
    // A stack output, so the tests can read what the host reported.
    module.exports.observed = policy.observed;
  }
}
