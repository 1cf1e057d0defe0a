import { Wafv2WebAcl } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { Construct } from "constructs";
import type { Namer } from "../naming";

export interface WafProps {
  readonly namer: Namer;
  readonly albArn: string;
  /** Requests per 5-minute window per client IP before blocking. */
  readonly rateLimitPer5Min: number;
}

/** A rule in the WAFv2 API's own JSON shape (what `rule_json` takes). */
export interface WafRule {
  readonly Name: string;
  readonly Priority: number;
  readonly Statement: Record<string, unknown>;
  readonly Action?: Record<string, Record<string, never>>;
  readonly OverrideAction?: Record<string, Record<string, never>>;
  readonly VisibilityConfig: { CloudWatchMetricsEnabled: boolean; MetricName: string; SampledRequestsEnabled: boolean };
}

function visibility(metricName: string): WafRule["VisibilityConfig"] {
  return { CloudWatchMetricsEnabled: true, MetricName: metricName, SampledRequestsEnabled: true };
}

function managedRule(name: string, priority: number): WafRule {
  return {
    Name: name,
    Priority: priority,
    OverrideAction: { None: {} },
    Statement: { ManagedRuleGroupStatement: { VendorName: "AWS", Name: name } },
    VisibilityConfig: visibility(name),
  };
}

export function wafRules(rateLimitPer5Min: number): WafRule[] {
  return [
    {
      Name: "rate-limit-per-ip",
      Priority: 0,
      Action: { Block: {} },
      Statement: { RateBasedStatement: { Limit: rateLimitPer5Min, AggregateKeyType: "IP", EvaluationWindowSec: 300 } },
      VisibilityConfig: visibility("rate-limit-per-ip"),
    },
    managedRule("AWSManagedRulesCommonRuleSet", 10),
    managedRule("AWSManagedRulesKnownBadInputsRuleSet", 20),
  ];
}

/**
 * Regional WAFv2 ACL on the ALB: per-IP rate limiting first (credential
 * stuffing against token endpoints is the main abuse case), then AWS managed
 * rules for common exploits and known-bad inputs. Rules go through
 * `rule_json` because the typed `rule.statement` block is untyped in the
 * binding and renders as invalid HCL in `cdktf synth --hcl`.
 */
export class Waf extends Construct {
  readonly acl: Wafv2WebAcl;

  constructor(scope: Construct, id: string, props: WafProps) {
    super(scope, id);
    const name = props.namer.name("waf");
    this.acl = new Wafv2WebAcl(this, "acl", {
      name,
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      ruleJson: JSON.stringify(wafRules(props.rateLimitPer5Min)),
      visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true },
    });
    new Wafv2WebAclAssociation(this, "association", { resourceArn: props.albArn, webAclArn: this.acl.arn });
  }
}
