// The dynamic provider Pulumi serializes into the state of every SmbSigningPolicy. It is kept
// tiny on purpose: each method loads the implementation from the installed package at run time
// (the closure serializer keeps `require` as a call), so state holds a few hundred bytes of
// forwarding code and never a credential.
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { PolicyOutputs } from "./domain/policy";

/** Inputs arrive unvalidated (check validates them); outputs are what operations.ts records. */
export type ProviderInputs = Record<string, unknown>;

export const smbSigningProvider: dynamic.ResourceProvider<ProviderInputs, PolicyOutputs> = {
  async check(olds, news) {
    return require("pulumi-smb-signing/dist/provider/operations").check(olds, news);
  },
  async diff(id, olds, news) {
    return require("pulumi-smb-signing/dist/provider/operations").diff(id, olds, news);
  },
  async create(inputs) {
    return require("pulumi-smb-signing/dist/provider/operations").create(inputs);
  },
  async read(id, props) {
    return require("pulumi-smb-signing/dist/provider/operations").read(id, props);
  },
  async update(id, olds, news) {
    return require("pulumi-smb-signing/dist/provider/operations").update(id, olds, news);
  },
  async delete(id, props) {
    return require("pulumi-smb-signing/dist/provider/operations").remove(id, props);
  },
};
