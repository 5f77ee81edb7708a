// Public entry point of pulumi-smb-signing.
export { SmbSigningPolicy } from "./resource";
export type { ClientSigningArgs, ConnectionArgs, ServerSigningArgs, SmbSigningPolicyArgs } from "./resource";
export { CLIENT_SETTINGS, SERVER_SETTINGS } from "./domain/settings";
export type { AuditLogFindings, AuditPeer, Readiness } from "./domain/impact";
/** The provider plugin's SDK (`smbsigning:index:SmbSigningPolicy`, provider `smbsigning`): see README, "The provider plugin". */
export * as smbsigning from "./sdk";
