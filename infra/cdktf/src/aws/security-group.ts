import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import type { TerraformProvider } from "cdktf";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";

/** Exactly one source: a CIDR or another security group. */
export type Peer = { readonly cidr: string } | { readonly securityGroupId: string };

export interface RuleOptions {
  readonly port: number;
  readonly peer: Peer;
  readonly description: string;
  /** Set when the rule lives in another region than the stack's provider (VPC peering). */
  readonly provider?: TerraformProvider;
}

function peerFields(peer: Peer): { cidrIpv4?: string; referencedSecurityGroupId?: string } {
  return "cidr" in peer ? { cidrIpv4: peer.cidr } : { referencedSecurityGroupId: peer.securityGroupId };
}

/**
 * Standalone rule resources instead of inline ingress/egress blocks: inline
 * blocks fight with standalone rules and render poorly in exported HCL.
 */
export function allowIngress(scope: Construct, id: string, securityGroupId: string, opts: RuleOptions): VpcSecurityGroupIngressRule {
  return new VpcSecurityGroupIngressRule(scope, id, {
    securityGroupId,
    ipProtocol: "tcp",
    fromPort: opts.port,
    toPort: opts.port,
    description: opts.description,
    provider: opts.provider,
    ...peerFields(opts.peer),
  });
}

export function allowEgress(scope: Construct, id: string, securityGroupId: string, opts: RuleOptions): VpcSecurityGroupEgressRule {
  return new VpcSecurityGroupEgressRule(scope, id, {
    securityGroupId,
    ipProtocol: "tcp",
    fromPort: opts.port,
    toPort: opts.port,
    description: opts.description,
    ...peerFields(opts.peer),
  });
}

/** A security group with no inline rules (rules are added with allowIngress/allowEgress). */
export function emptySecurityGroup(scope: Construct, id: string, name: string, vpcId: string, description: string): SecurityGroup {
  return new SecurityGroup(scope, id, { name, description, vpcId, revokeRulesOnDelete: true, tags: { Name: name } });
}
