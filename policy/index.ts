// The SMB signing policy pack (CrossGuard): serves the rules of rules.ts to the Pulumi engine.
// Every rule is mandatory unless the organisation's config says otherwise (smb-restore-secure,
// which can only judge what an up already did, is advisory), e.g.
//   { "smb-signing-required": { "enforcementLevel": "advisory", "sides": ["server"],
//       "waivers": [{ "resource": "nas-01", "reason": "CHG-4711: firmware without signing, until 2025-06" }] } }
// passed with `pulumi preview --policy-pack-config <file>` (or `pulumi policy enable --config`).
//
// Waivers: a rule's waived findings are not reported by the rule (a report would carry the rule's
// enforcement level and block). The rule hands them to the advisory policy smb-waivers instead,
// which reports each with its reason, so the reason shows in every preview and up without
// blocking. @pulumi/policy's server runs a pack's policies one after another, in this list's
// order, within each of the engine's calls: Analyze (one resource) and AnalyzeStack (all of
// them). smb-waivers comes last, so it reports in the same call what the rules before it waived;
// the ledger is keyed by URN because the engine may analyze several resources at once. Set
// smb-waivers to "disabled" to hide waivers; "mandatory" would make each waiver block.
import { PolicyPack, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configSchema, judge, PACK_NAME, RESOURCE_TYPES, Rule, RULES, WAIVERS_POLICY, waivedMessage } from "./rules";

/** Waived findings awaiting smb-waivers, per resource URN: one ledger for Analyze, one for AnalyzeStack. */
class WaiverLedger {
  private readonly entries = new Map<string, string[]>();
  add(urn: string, message: string): void {
    this.entries.set(urn, [...(this.entries.get(urn) ?? []), message]);
  }
  /** The messages for this URN, removed from the ledger. */
  take(urn: string): string[] {
    const found = this.entries.get(urn) ?? [];
    this.entries.delete(urn);
    return found;
  }
}

const resourceWaivers = new WaiverLedger();
const stackWaivers = new WaiverLedger();

/** Judges one resource by one rule: reports its findings, and leaves the waived ones to smb-waivers. */
function judgeAndReport(
  rule: Rule<unknown>,
  config: Record<string, unknown>,
  resource: { urn: string; name: string; props: Record<string, unknown> },
  report: (finding: string) => void,
  ledger: WaiverLedger,
): void {
  const { findings, waived } = judge(rule, config, { urn: resource.urn, name: resource.name, props: resource.props });
  for (const finding of findings) report(finding);
  for (const w of waived) ledger.add(resource.urn, waivedMessage(rule.name, w.waiver, w.finding));
}

/** What every rule's policy says of itself: its name, description, config schema, and its level unless configured. */
function policyOf(rule: Rule<unknown>) {
  return { name: rule.name, description: rule.description, enforcementLevel: rule.defaultLevel, configSchema: configSchema(rule) };
}

function resourcePolicy(rule: Rule<unknown>): ResourceValidationPolicy {
  return {
    ...policyOf(rule),
    validateResource: (args, reportViolation) => {
      if (!RESOURCE_TYPES.includes(args.type)) return;
      judgeAndReport(rule, args.getConfig<Record<string, unknown>>(), args, (finding) => reportViolation(finding), resourceWaivers);
    },
  };
}

function stackPolicy(rule: Rule<unknown>): StackValidationPolicy {
  return {
    ...policyOf(rule),
    validateStack: (args, reportViolation) => {
      const config = args.getConfig<Record<string, unknown>>();
      for (const r of args.resources) {
        if (!RESOURCE_TYPES.includes(r.type)) continue;
        judgeAndReport(rule, config, r, (finding) => reportViolation(finding, r.urn), stackWaivers);
      }
    },
  };
}

/** Reports what the rules before it waived, one advisory message per waived finding. */
const waiversPolicy: ResourceValidationPolicy & StackValidationPolicy = {
  name: WAIVERS_POLICY,
  description: "Shows every waiver the organisation's config applied, with its reason (advisory: a waiver never blocks).",
  enforcementLevel: "advisory",
  validateResource: (args, reportViolation: ReportViolation) => {
    for (const message of resourceWaivers.take(args.urn)) reportViolation(message);
  },
  validateStack: (args, reportViolation: ReportViolation) => {
    for (const r of args.resources) for (const message of stackWaivers.take(r.urn)) reportViolation(message, r.urn);
  },
};

new PolicyPack(PACK_NAME, {
  description:
    "SMB signing on Windows hosts (pulumi-smb-signing): signing required, guest logons off, hosts pinned, no dangerous options, no silent restore of " +
    "insecure values.",
  enforcementLevel: "mandatory",
  policies: [...RULES.map((rule) => (rule.kind === "resource" ? resourcePolicy(rule) : stackPolicy(rule))), waiversPolicy],
});
