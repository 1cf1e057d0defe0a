import { ComputeSecurityPolicy, type ComputeSecurityPolicyRule } from "@cdktf/provider-google/lib/compute-security-policy";
import { Construct } from "constructs";

export interface CloudArmorProps {
  readonly name: string;
  readonly rateLimitPerMinute: number;
}

const EVERYONE = { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } };

function preconfiguredWaf(priority: number, rule: string): ComputeSecurityPolicyRule {
  return {
    priority,
    action: "deny(403)",
    description: `OWASP ${rule}`,
    // Sensitivity 1 only: higher levels flag ordinary JWTs and OAuth parameters.
    match: { expr: { expression: `evaluatePreconfiguredWaf('${rule}', {'sensitivity': 1})` } },
  };
}

/**
 * Cloud Armor on the global backend: per-IP throttling (answers 429), the
 * OWASP SQLi/XSS rule sets, and layer-7 DDoS adaptive protection.
 */
export class CloudArmor extends Construct {
  readonly policy: ComputeSecurityPolicy;

  constructor(scope: Construct, id: string, props: CloudArmorProps) {
    super(scope, id);
    this.policy = new ComputeSecurityPolicy(this, "policy", {
      name: props.name,
      description: "Mandate edge policy",
      type: "CLOUD_ARMOR",
      adaptiveProtectionConfig: { layer7DdosDefenseConfig: { enable: true } },
      rule: [
        {
          priority: 100,
          action: "throttle",
          description: "Per-IP rate limit",
          match: EVERYONE,
          rateLimitOptions: {
            conformAction: "allow",
            exceedAction: "deny(429)",
            enforceOnKey: "IP",
            rateLimitThreshold: { count: props.rateLimitPerMinute, intervalSec: 60 },
          },
        },
        preconfiguredWaf(200, "sqli-v33-stable"),
        preconfiguredWaf(300, "xss-v33-stable"),
        { priority: 2147483647, action: "allow", description: "Default", match: EVERYONE },
      ],
    });
  }
}
