// One shard of a sharded fleet: the stack named after a site manages that site's hosts from the
// shared inventory (inventory.json, or the file stack config `inventory` names), with the
// settings of each host's edition. Each site's stack runs as its own CI job (see
// smb-signing-sharded.yml), so a fleet of thousands is spread over as many runners as there are
// jobs at once.
//   pulumi stack init paris && pulumi config set --secret password    # once per site
//   pulumi up --stack paris --parallel 32
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { SmbSigningPolicy, SmbSigningPolicyArgs } from "pulumi-smb-signing";
import { Edition, hostsOfSite, readInventory } from "./inventory";

type Settings = Pick<SmbSigningPolicyArgs, "client" | "server">;

// CIS benchmark 2.3.8 / 2.3.9: sign always, both ways; servers also audit peers that cannot sign.
const settings: Record<Edition, Settings> = {
  workstation: { client: { requireSigning: true }, server: { requireSigning: true } },
  server: {
    client: { requireSigning: true, auditServerDoesNotSupportSigning: true },
    server: { requireSigning: true, auditClientDoesNotSupportSigning: true },
  },
  legacy: { client: { requireSigning: true }, server: { requireSigning: true } },
};

const config = new pulumi.Config();
const site = config.get("site") ?? pulumi.getStack();
// Relative to the program's directory (where the CLI runs it); config `inventory` may name another file.
const inventory = readInventory(path.resolve(config.get("inventory") ?? "inventory.json"));
const hosts = hostsOfSite(inventory, site);
if (hosts.length === 0) throw new Error(`no host of the inventory has site "${site}": the stack's name (or config "site") must be a site of it`);
const password = config.requireSecret("password");
// "retain" (the default here): on destroy, leave the hosts signing; "restore" puts back each
// host's values from before.
const onDelete = config.get("onDelete") ?? "retain";
if (onDelete !== "restore" && onDelete !== "retain") throw new Error(`config onDelete must be "restore" or "retain", not "${onDelete}"`);

export const managed = hosts.map((h) => {
  const policy = new SmbSigningPolicy(h.name, {
    connection: { host: h.host, port: h.port, user: inventory.user, password, hostKey: h.hostKey },
    ...settings[h.edition],
    onDelete,
  });
  return { name: h.name, observed: policy.observed };
});
