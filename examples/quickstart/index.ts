// Quickstart: one Windows host, SMB signing required both ways (outbound and inbound).
//   pulumi config set host fs01.corp.example
//   pulumi config set hostKey SHA256:...        # ssh-keygen -lf on the host's key
//   pulumi config set user 'CORP\admin'
//   pulumi config set --secret password
import * as pulumi from "@pulumi/pulumi";
import { SmbSigningPolicy } from "pulumi-smb-signing";

const config = new pulumi.Config();

const policy = new SmbSigningPolicy(config.get("name") ?? "fileserver-01", {
  connection: {
    host: config.require("host"),
    port: config.getNumber("port"),
    user: config.require("user"),
    password: config.requireSecret("password"),
    hostKey: config.require("hostKey"),
  },
  client: { requireSigning: true }, // outbound: Set-SmbClientConfiguration -RequireSecuritySignature
  server: { requireSigning: true }, // inbound:  Set-SmbServerConfiguration -RequireSecuritySignature
});

export const observed = policy.observed;
export const hostFacts = policy.hostFacts;
export const originalSettings = policy.originalSettings;
