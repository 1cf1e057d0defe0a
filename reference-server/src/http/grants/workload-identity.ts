import type { Context } from 'koa';
import type { JWTPayload } from 'jose';
import type { AuditEntry } from '../../domain/audit';
import { EXTERNAL_ALGORITHMS, TokenRefused, inspect, verifyExternalToken } from '../../domain/federation/external-tokens';
import { unmetConditions } from '../../domain/federation/trust-policies';
import { OAuthError, invalidRequest } from '../../domain/oauth-errors';
import { requestInfo } from '../router';
import { type GrantDeps, type TokenResponseBody, audienceOf, narrowedScopes, requireBinding } from './grant';
import { ACCESS_TOKEN_TYPE_URI, TOKEN_EXCHANGE } from './token-exchange';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** A refusal is audited on at most this many organizations' chains. */
const MAX_AUDITED_ORGS = 5;

interface PolicyRow {
  id: string;
  org_id: string;
  audience: string;
  conditions: Record<string, string>;
  agent_id: string;
  scopes: string[];
  agent_status: string;
  allowed_scopes: string[];
  dpop_required: boolean;
}

/** Whether a token request is workload identity federation, in which the external token authenticates. */
export function isWorkloadIdentity(form: Map<string, string>): boolean {
  const grantType = form.get('grant_type');
  return grantType === JWT_BEARER || (grantType === TOKEN_EXCHANGE && form.get('subject_token_type') === JWT_TOKEN_TYPE);
}

export interface WorkloadRequest {
  ctx: Context;
  form: Map<string, string>;
  /** The agent asked for (client_id, or the client that authenticated anyway), if any. */
  agentId: string | undefined;
  /** The DPoP key to bind the token to. */
  jkt: string | undefined;
}

const invalidGrant = (message: string) => new OAuthError('invalid_grant', message);

/**
 * Workload identity federation (RFC 7523 §2.1, and RFC 8693 with a JWT subject token): a
 * token of an external OIDC issuer, verified with the issuer's published keys, is exchanged
 * for an access token of the agent named by the one enabled trust policy whose issuer,
 * audience and claim conditions it meets. Failures say what did not match, never the
 * policies' values; an organization whose policies were considered sees the refusal on its
 * audit trail.
 */
export async function exchangeWorkloadToken({ ctx, form, agentId, jkt }: WorkloadRequest, deps: GrantDeps): Promise<TokenResponseBody> {
  const grant = form.get('grant_type') === JWT_BEARER ? 'jwt-bearer' : 'token-exchange';
  const external = grant === 'jwt-bearer' ? form.get('assertion') : form.get('subject_token');
  if (external === undefined) throw invalidRequest(grant === 'jwt-bearer' ? 'assertion is required.' : 'subject_token is required.');
  if (grant === 'token-exchange' && form.has('actor_token')) throw invalidRequest('A workload identity exchange takes no actor_token.');

  const refusal = (error: unknown): never => {
    if (error instanceof TokenRefused) throw invalidGrant(`The token is refused (${error.code}): ${error.message}`);
    throw error;
  };
  const { issuer } = await inspect(external).catch(refusal);
  const policies = await deps.db.callFunction<PolicyRow>('SELECT * FROM mandate_find_trust_policies($1)', [issuer]);
  if (policies.length === 0) throw invalidGrant(`No trust policy accepts tokens of the issuer ${issuer.slice(0, 200)}.`);
  const claims = await verifyExternalToken(external, deps.issuerKeys, { source: { issuer }, issuer, algorithms: EXTERNAL_ALGORITHMS }).catch(refusal);

  const audiences = claims.aud === undefined ? [] : [claims.aud].flat();
  const candidates = policies.filter((policy) => audiences.includes(policy.audience) && (agentId === undefined || policy.agent_id === agentId));
  if (candidates.length === 0) {
    throw invalidGrant(`No trust policy of this issuer${agentId === undefined ? '' : ` for agent ${agentId.slice(0, 40)}`} accepts the token's audience (aud).`);
  }
  const unmet = new Map(candidates.map((policy) => [policy, unmetConditions(policy.conditions, claims)]));
  const matching = candidates.filter((policy) => unmet.get(policy)?.length === 0);
  const audit = (refused: PolicyRow[], reason: string) => auditRefusal(ctx, deps, refused, claims, grant, reason);
  if (matching.length === 0) {
    const claimsMissed = [...new Set([...unmet.values()].flat())].sort();
    await audit(candidates, `claims did not meet the conditions on: ${claimsMissed.join(', ')}`);
    throw invalidGrant(`No trust policy accepts this token: its claims do not meet the conditions on ${claimsMissed.join(', ')}.`);
  }
  if (matching.length > 1) {
    await audit(matching, 'more than one trust policy matched');
    throw invalidGrant(`${matching.length} trust policies accept this token; narrow their conditions, or name the agent with client_id.`);
  }

  const policy = matching[0] as PolicyRow;
  try {
    if (policy.agent_status !== 'active') throw invalidGrant(`The trust policy's agent is ${policy.agent_status}.`);
    requireBinding(policy.dpop_required, jkt);
    const grantable = policy.scopes.filter((scope) => policy.allowed_scopes.includes(scope));
    const scope = narrowedScopes(form.get('scope'), grantable, 'The trust policy');
    const audience = audienceOf(form.get('resource'), deps.issuer);
    const { token, claims: issued } = await deps.tokens.issue({ agentId: policy.agent_id, orgId: policy.org_id }, scope, audience, {
      jkt,
      record: (ours) => {
        const metadata = { ...externalIdentity(claims, grant, policy), jti: ours.jti, scope, aud: audience, exp: ours.exp };
        return deps.audit.append(event(ctx, policy, 'token.issued', 'success', metadata));
      },
    });
    deps.metrics.tokensIssued.inc();
    const typed = grant === 'token-exchange' ? { issued_token_type: ACCESS_TOKEN_TYPE_URI } : {};
    return { access_token: token, token_type: 'Bearer', expires_in: issued.exp - issued.iat, scope, ...typed };
  } catch (error) {
    if (error instanceof OAuthError) await audit([policy], error.message);
    throw error;
  }
}

/** Who the workload is, for the audit trail: its issuer, subject and the policy that matched. */
function externalIdentity(claims: JWTPayload, grant: string, policy: PolicyRow): Record<string, unknown> {
  return { method: 'trust_policy', grant, trustPolicyId: policy.id, issuer: claims.iss, externalSubject: claims.sub ?? null, externalJti: claims.jti ?? null };
}

function event(ctx: Context, policy: PolicyRow, action: string, outcome: AuditEntry['outcome'], metadata: Record<string, unknown>): AuditEntry {
  const actor = { type: 'agent' as const, id: policy.agent_id };
  return { orgId: policy.org_id, action, outcome, actor, target: { type: 'trust_policy', id: policy.id }, ...requestInfo(ctx), metadata };
}

/** A verified token that the policies considered refused: each organization concerned sees it. */
async function auditRefusal(ctx: Context, deps: GrantDeps, policies: PolicyRow[], claims: JWTPayload, grant: string, reason: string): Promise<void> {
  const firstPerOrg = [...new Map(policies.map((policy) => [policy.org_id, policy])).values()].slice(0, MAX_AUDITED_ORGS);
  for (const policy of firstPerOrg) {
    await deps.audit.append(event(ctx, policy, 'token.refused', 'failure', { ...externalIdentity(claims, grant, policy), error: 'invalid_grant', description: reason }));
  }
}
