// The Pulumi program of the Windows workflow (.github/workflows/windows.yml; this repository's CI
// runs it only against a simulated host, in test/e2e/windowsProgram.test.ts): one SmbSigningPolicy
// on the host an acceptance report names, declaring exactly the values the report found there, so
// that up, refresh and destroy through the real CLI change nothing on the host.
//   npm run acceptance -- ... --report-file report.json
//   pulumi config set acceptanceReport "$PWD/report.json"
//   SMB_ACCEPTANCE_PASSWORD=... pulumi up
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { SmbSigningPolicy } from "pulumi-smb-signing";
import type { AcceptanceReport } from "../../../tools/acceptance/acceptance";

const config = new pulumi.Config();
const report: AcceptanceReport = JSON.parse(fs.readFileSync(config.require("acceptanceReport"), "utf8"));
if (!report.declared) throw new Error("the acceptance report holds no declared values: its run could not read the host");
// The password stays out of the stack's config and the command line, as with npm run acceptance.
const passwordEnv = config.get("passwordEnv") ?? "SMB_ACCEPTANCE_PASSWORD";
const password = process.env[passwordEnv];
if (!password) throw new Error(`the environment variable ${passwordEnv} (config passwordEnv) must hold the password`);

const t = report.target;
const policy = new SmbSigningPolicy("host", {
  connection: {
    transport: t.transport as "ssh" | "winrm",
    host: t.host,
    port: t.port ?? undefined,
    user: t.user,
    password,
    hostKey: t.hostKey ?? undefined,
    https: t.https || undefined,
    certificateFingerprint: t.certificateFingerprint ?? undefined,
  },
  client: report.declared.client,
  server: report.declared.server,
  acknowledgeInsecureSettings: report.acknowledgeInsecureSettings || undefined,
  // The lifecycle is non-destructive: destroy puts back (and so removes) the record up wrote.
  onDelete: "restore",
});

export const observed = policy.observed;
export const originalSettings = policy.originalSettings;
export const policyManaged = policy.policyManaged;
