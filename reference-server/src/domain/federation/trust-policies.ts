import type { Sql } from '../../store/database';
import type { PageRequest } from '../../store/page';
import { type TrustPolicyFields, type TrustPolicyRecord, trustPolicyStore } from '../../store/trust-policies';
import { agentService, requireGrantable } from '../agents';
import type { SecretRequester } from '../credentials';
import { badRequest, conflict, fail, notFound } from '../errors';
import { newId } from '../ids';

export type TrustPolicyInput = Partial<TrustPolicyFields>;

/** What the policy rules need from the server: where issuers may be (the SSRF guard). */
export interface TrustPolicyRules {
  /** Why tokens of this issuer cannot be accepted (its URL), or null. */
  checkIssuer(url: string): string | null;
}

const missing = (id: string) => notFound('TRUST_POLICY_NOT_FOUND', `No trust policy ${id} in this organization.`);

/** `*` matches any run of characters; everything else matches itself. */
function globPattern(pattern: string): RegExp {
  const parts = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 's');
}

/** A claim by name; `a/b` reaches into a nested object. Numbers and booleans as their JSON text. */
function claimText(claims: Record<string, unknown>, name: string): string | undefined {
  let value: unknown = name in claims ? claims[name] : name.split('/').reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined), claims);
  if (typeof value === 'number' || typeof value === 'boolean') value = JSON.stringify(value);
  return typeof value === 'string' ? value : undefined;
}

/** The names of the conditions that the claims do not meet (none: the policy matches). */
export function unmetConditions(conditions: Record<string, string>, claims: Record<string, unknown>): string[] {
  return Object.entries(conditions)
    .filter(([name, pattern]) => {
      const value = claimText(claims, name);
      return value === undefined || !globPattern(pattern).test(value);
    })
    .map(([name]) => name);
}

function checkFields(policy: TrustPolicyFields, allowedScopes: readonly string[], rules: TrustPolicyRules): void {
  const issuerProblem = rules.checkIssuer(policy.issuer);
  if (issuerProblem !== null) throw badRequest('ISSUER_NOT_ALLOWED', issuerProblem, [{ field: 'body.issuer', code: 'ISSUER_NOT_ALLOWED', message: issuerProblem }]);
  // A subject condition that matches anything would accept every workload of the issuer.
  if (/^\**$/.test(policy.conditions.sub ?? '')) {
    const message = 'must name a subject: a pattern of only * would accept every token of the issuer';
    throw badRequest('SUBJECT_CONDITION_REQUIRED', `The sub condition ${message}.`, [{ field: 'body.conditions.sub', code: 'SUBJECT_CONDITION_REQUIRED', message }]);
  }
  const refused = policy.scopes.filter((scope) => !allowedScopes.includes(scope));
  if (refused.length > 0) {
    // Scopes are up to 100 characters each: name a few, so the message stays short.
    const named = refused.slice(0, 3).join(', ') + (refused.length > 3 ? ` and ${refused.length - 3} more` : '');
    const message = `are not among the agent's allowed scopes: ${named}`;
    throw badRequest('SCOPE_NOT_ALLOWED', `The scopes ${message}.`, [{ field: 'body.scopes', code: 'SCOPE_NOT_ALLOWED', message }]);
  }
}

/**
 * The policy must target an agent of the organization that is not decommissioned, within
 * its allowed scopes; and since the policy hands out the agent's tokens, the caller must
 * hold the Mandate scopes it grants (as for a credential).
 */
async function checkPolicy(sql: Sql, orgId: string, policy: TrustPolicyFields, requester: SecretRequester, rules: TrustPolicyRules): Promise<void> {
  const agent = await agentService.get(sql, orgId, policy.agentId, { forUpdate: true });
  requireGrantable(policy.scopes, requester.scopes, requester.mandateScopes);
  if (agent.status === 'decommissioned') throw conflict('AGENT_DECOMMISSIONED', `Agent ${agent.id} is decommissioned: no policy can issue its tokens.`);
  checkFields(policy, agent.allowedScopes, rules);
}

export const trustPolicyService = {
  async create(sql: Sql, orgId: string, input: TrustPolicyInput & Omit<TrustPolicyFields, 'description' | 'enabled'>, requester: SecretRequester, rules: TrustPolicyRules): Promise<TrustPolicyRecord> {
    const fields: TrustPolicyFields = { ...input, description: input.description ?? null, enabled: input.enabled ?? true };
    await checkPolicy(sql, orgId, fields, requester, rules);
    return trustPolicyStore.insert(sql, { id: newId('trp'), orgId, ...fields });
  },

  async get(sql: Sql, orgId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<TrustPolicyRecord> {
    return (await trustPolicyStore.find(sql, orgId, id, options)) ?? fail(missing(id));
  },

  list(sql: Sql, orgId: string, page: PageRequest) {
    return trustPolicyStore.list(sql, orgId, page);
  },

  async update(sql: Sql, orgId: string, id: string, changes: TrustPolicyInput, requester: SecretRequester, rules: TrustPolicyRules): Promise<TrustPolicyRecord> {
    const current = await this.get(sql, orgId, id, { forUpdate: true });
    // Renaming or switching off a policy needs no check, even when its agent is gone.
    const widens = changes.enabled === true || Object.keys(changes).some((field) => !['name', 'description', 'enabled'].includes(field));
    if (widens) await checkPolicy(sql, orgId, { ...current, ...changes }, requester, rules);
    return trustPolicyStore.update(sql, orgId, id, changes);
  },

  async delete(sql: Sql, orgId: string, id: string): Promise<TrustPolicyRecord> {
    return (await trustPolicyStore.delete(sql, orgId, id)) ?? fail(missing(id));
  },
};
