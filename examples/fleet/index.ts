// A fleet: every host listed in stack config gets the settings of its edition.
//   pulumi config set --path 'hosts[0].name' fs01
//   pulumi config set --path 'hosts[0].host' fs01.corp.example
//   pulumi config set --path 'hosts[0].hostKey' SHA256:...
//   pulumi config set --path 'hosts[0].edition' server
//   pulumi config set user 'CORP\admin'; pulumi config set --secret password
//   pulumi config set onDelete restore  # optional: on destroy, put back each host's values from before
//
// Rolled out in two stages (stack config `stage`):
//   pulumi config set stage audit     # 1. log the peers that do not sign; nothing is refused yet
//   pulumi up                         #    ... and let the hosts log for a week or so
//   pulumi config set stage enforce   # 2. require signing (the default stage)
//   pulumi preview --refresh          #    each host's warnings name the peers its audit log saw
//                                     #    connecting without signing: they would be refused
//   pulumi up
import * as pulumi from "@pulumi/pulumi";
import { SmbSigningPolicy, SmbSigningPolicyArgs } from "pulumi-smb-signing";

interface FleetHost {
  name: string;
  host: string;
  port?: number;
  hostKey: string;
  edition: "workstation" | "server" | "legacy";
}

type Settings = Pick<SmbSigningPolicyArgs, "client" | "server">;

// Stage 1: SMB signing audit (Windows 11 24H2 / Server 2025) logs the peers that do not sign, in
// Microsoft-Windows-SMBServer/Audit and -SMBClient/Audit. Legacy hosts lack it: they are only
// read, and their readiness says so.
const audit: Record<FleetHost["edition"], Settings> = {
  workstation: { client: { auditServerDoesNotSupportSigning: true }, server: { auditClientDoesNotSupportSigning: true } },
  server: { client: { auditServerDoesNotSupportSigning: true }, server: { auditClientDoesNotSupportSigning: true } },
  legacy: {},
};

// Stage 2, CIS benchmark 2.3.8 / 2.3.9: sign always, both ways; servers keep auditing peers that
// cannot sign.
const enforce: Record<FleetHost["edition"], Settings> = {
  workstation: { client: { requireSigning: true }, server: { requireSigning: true } },
  server: {
    client: { requireSigning: true, auditServerDoesNotSupportSigning: true },
    server: { requireSigning: true, auditClientDoesNotSupportSigning: true },
  },
  legacy: { client: { requireSigning: true }, server: { requireSigning: true } },
};

const config = new pulumi.Config();
const stage = config.get("stage") ?? "enforce";
if (stage !== "audit" && stage !== "enforce") throw new Error(`stack config "stage" must be "audit" or "enforce", not "${stage}"`);
const hosts = config.requireObject<FleetHost[]>("hosts");
const user = config.require("user");
const password = config.requireSecret("password");
// "retain" (the default) leaves the hosts signing on destroy; "restore" puts back each host's values
// from before, and where those were insecure the policy pack's smb-restore-secure rule says so.
const onDelete = config.get("onDelete");
if (onDelete !== undefined && onDelete !== "restore" && onDelete !== "retain") {
  throw new Error(`config onDelete must be "restore" or "retain", not "${onDelete}"`);
}

export const fleet = hosts.map((h) => {
  const policy = new SmbSigningPolicy(h.name, {
    connection: { host: h.host, port: h.port, user, password, hostKey: h.hostKey },
    ...(stage === "audit" ? audit : enforce)[h.edition],
    onDelete,
  });
  return { name: h.name, observed: policy.observed, build: policy.hostFacts.build, consequences: policy.consequences };
});
