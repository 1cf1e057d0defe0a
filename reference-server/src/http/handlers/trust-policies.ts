import { type TrustPolicyInput, type TrustPolicyRules, trustPolicyService } from '../../domain/federation/trust-policies';
import type { TrustPolicyFields } from '../../store/trust-policies';
import { type Call, type Handler, orgOf, pageOf, pageReply, requesterOf } from '../handler';
import { trustPolicyJson } from '../representations';

const target = (id: string) => ({ type: 'trust_policy', id });
const policyIdOf = (call: Call): string => String(call.path.policyId);

/** The Trust policies tag: workload identity federation's rules. */
export function trustPolicyHandlers(rules: TrustPolicyRules): Record<string, Handler> {
  return {
    async createTrustPolicy(call) {
      const input = call.body as TrustPolicyInput & Omit<TrustPolicyFields, 'description' | 'enabled'>;
      const policy = await trustPolicyService.create(call.sql, orgOf(call), input, requesterOf(call), rules);
      const metadata = { issuer: policy.issuer, audience: policy.audience, conditions: policy.conditions, agentId: policy.agentId, scopes: policy.scopes };
      return { status: 201, body: trustPolicyJson(policy), audit: [{ action: 'trust_policy.created', target: target(policy.id), metadata }] };
    },
    async listTrustPolicies(call) {
      return pageReply(await trustPolicyService.list(call.sql, orgOf(call), pageOf(call, 'trp')), trustPolicyJson);
    },
    async getTrustPolicy(call) {
      return { status: 200, body: trustPolicyJson(await trustPolicyService.get(call.sql, orgOf(call), policyIdOf(call))) };
    },
    async updateTrustPolicy(call) {
      const changes = call.body as TrustPolicyInput;
      const policy = await trustPolicyService.update(call.sql, orgOf(call), policyIdOf(call), changes, requesterOf(call), rules);
      return { status: 200, body: trustPolicyJson(policy), audit: [{ action: 'trust_policy.updated', target: target(policy.id), metadata: { changes } }] };
    },
    async deleteTrustPolicy(call) {
      const policy = await trustPolicyService.delete(call.sql, orgOf(call), policyIdOf(call));
      return { status: 204, audit: [{ action: 'trust_policy.deleted', target: target(policy.id), metadata: { issuer: policy.issuer, agentId: policy.agentId } }] };
    },
  };
}
