// The dynamic provider Pulumi serializes into the state of every SmbSigningPolicy (twice: in its
// inputs and its outputs). It is kept tiny on purpose: one method, `configure`, which the
// dynamic-provider runtime calls once per process right after deserializing the provider and
// before any other method (@pulumi/pulumi cmd/dynamic-provider, getProvider); it loads the
// implementation from the installed package (the closure serializer keeps `require` as a call
// and inlines the string it is given) and puts its methods on the provider. So state holds a few
// hundred bytes of forwarding code and never a credential.
import * as path from "node:path";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { PolicyOutputs } from "./domain/policy";

/** Inputs arrive unvalidated (check validates them); outputs are what operations.ts records. */
export type ProviderInputs = Record<string, unknown>;

/**
 * How the serialized provider finds operations.js: by the name this package is installed under,
 * read from where this file lies (`.../node_modules/<name>/dist/provider/`), so an install under
 * another name (`"smb": "npm:pulumi-smb-signing@..."`) works too. npm and yarn install it right
 * after the last `node_modules` above this file, and so does pnpm's store. Outside node_modules
 * (this repository's own checkout, where tools/link-self.js links the package to itself) the
 * package's own name is used.
 */
export function implementationSpecifier(file: string = __filename): string {
  const parts = path.resolve(file).split(path.sep);
  const at = parts.lastIndexOf("node_modules");
  const name = at < 0 ? "pulumi-smb-signing" : parts[at + 1].startsWith("@") ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1];
  return `${name}/dist/provider/operations`;
}

const OPERATIONS = implementationSpecifier();

/**
 * The serialized provider: `configure` installs check, diff, create, read, update and delete
 * from operations.js (its `engineMethods`) on the provider object itself.
 */
export const smbSigningProvider = {
  async configure() {
    Object.assign(this, require(OPERATIONS).engineMethods);
  },
  // The type says `create` is required: it is there once configured, which the runtime does first.
} as unknown as dynamic.ResourceProvider<ProviderInputs, PolicyOutputs>;
