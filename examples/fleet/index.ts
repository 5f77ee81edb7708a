// A fleet: every host listed in stack config gets the settings of its edition.
//   pulumi config set --path 'hosts[0].name' fs01
//   pulumi config set --path 'hosts[0].host' fs01.corp.example
//   pulumi config set --path 'hosts[0].hostKey' SHA256:...
//   pulumi config set --path 'hosts[0].edition' server
//   pulumi config set user 'CORP\admin'; pulumi config set --secret password
//   pulumi config set onDelete retain   # optional: on destroy, leave the hosts signing
import * as pulumi from "@pulumi/pulumi";
import { SmbSigningPolicy, SmbSigningPolicyArgs } from "pulumi-smb-signing";

interface FleetHost {
  name: string;
  host: string;
  port?: number;
  hostKey: string;
  edition: "workstation" | "server" | "legacy";
}

// CIS benchmark 2.3.8 / 2.3.9: sign always, both ways; audit peers that cannot sign where the
// build supports it (Windows 11 24H2 / Server 2025). Legacy hosts lack the audit settings.
const byEdition: Record<FleetHost["edition"], Pick<SmbSigningPolicyArgs, "client" | "server">> = {
  workstation: { client: { requireSigning: true }, server: { requireSigning: true } },
  server: {
    client: { requireSigning: true, auditServerDoesNotSupportSigning: true },
    server: { requireSigning: true, auditClientDoesNotSupportSigning: true },
  },
  legacy: { client: { requireSigning: true }, server: { requireSigning: true } },
};

const config = new pulumi.Config();
const hosts = config.requireObject<FleetHost[]>("hosts");
const user = config.require("user");
const password = config.requireSecret("password");
// "restore" (the default) puts back each host's values from before on destroy; where those were
// insecure, the policy pack's smb-restore-acknowledged rule asks for "retain" (examples/pipeline).
const onDelete = config.get("onDelete");
if (onDelete !== undefined && onDelete !== "restore" && onDelete !== "retain") {
  throw new Error(`config onDelete must be "restore" or "retain", not "${onDelete}"`);
}

export const fleet = hosts.map((h) => {
  const policy = new SmbSigningPolicy(h.name, {
    connection: { host: h.host, port: h.port, user, password, hostKey: h.hostKey },
    ...byEdition[h.edition],
    onDelete,
  });
  return { name: h.name, observed: policy.observed, build: policy.hostFacts.build };
});
