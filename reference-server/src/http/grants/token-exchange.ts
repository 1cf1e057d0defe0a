import { type AccessTokenClaims, actorsOf } from '../../domain/access-tokens';
import { newId } from '../../domain/ids';
import { invalidRequest } from '../../domain/oauth-errors';
import { requestInfo } from '../router';
import { type Grant, type GrantDeps, audienceOf, narrowedScopes } from './grant';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE_URI = 'urn:ietf:params:oauth:token-type:access_token';
/** The SQLSTATE of migration 0010's trigger when a delegation's parent is revoked. */
const PARENT_REVOKED = '23M01';

/** An active access token of this server, or why not (RFC 8693 §2.2.2: invalid_request). */
async function activeToken(deps: GrantDeps, token: string, name: string): Promise<AccessTokenClaims> {
  const claims = await deps.tokens.verify(token);
  if (claims === null) throw invalidRequest(`${name} is not a valid, unexpired access token of this server.`);
  if (!(await deps.tokenState.isActive(claims))) throw invalidRequest(`${name} was revoked, or an agent of its chain is not active.`);
  return claims;
}

/**
 * RFC 8693 token exchange, for delegation: the authenticated agent (the actor) presents
 * another agent's access token (the subject token) and gets a token to act for that agent.
 * The new token's `sub` is the subject, its `act` names the actor and nests the subject
 * token's own `act`; its scopes and lifetime only narrow; chains are bounded; both agents
 * are of one organization. Each exchange is recorded as a delegation, with its audit event,
 * in one transaction.
 */
export const tokenExchange: Grant = async ({ ctx, form, client, jkt }, deps) => {
  const subjectToken = form.get('subject_token');
  if (subjectToken === undefined) throw invalidRequest('subject_token is required.');
  if (form.get('subject_token_type') === undefined) throw invalidRequest('subject_token_type is required.');
  const actorToken = form.get('actor_token');
  if ((actorToken === undefined) !== (form.get('actor_token_type') === undefined)) {
    throw invalidRequest('actor_token and actor_token_type go together (RFC 8693 §2.1).');
  }

  const subject = await activeToken(deps, subjectToken, 'subject_token');
  // An organization's agents act only for one another (partners come with federation).
  if (subject.org !== client.orgId) throw invalidRequest('subject_token belongs to another organization.');
  if (actorToken !== undefined) {
    const actor = await activeToken(deps, actorToken, 'actor_token');
    if (actor.sub !== client.agentId) throw invalidRequest('actor_token must be a token of the authenticated agent.');
  }
  const chain = [subject.sub, ...actorsOf(subject)];
  if (chain.includes(client.agentId)) throw invalidRequest('The agent is already in this delegation chain (as its subject or an actor).');
  const depth = chain.length; // the actors so far, plus this one
  if (depth > deps.maxDelegationDepth) throw invalidRequest(`Delegation chains have at most ${deps.maxDelegationDepth} actors; this one would have ${depth}.`);

  const audience = audienceOf(form.get('resource'), deps.issuer);
  const parentId = subject.delegation_id ?? null;
  const [context] = await deps.db.callFunction<{ allowed_scopes: string[] | null; parent_revoked: boolean | null }>(
    'SELECT * FROM mandate_delegation_context($1, $2, $3)',
    [client.orgId, subject.sub, parentId],
  );
  if (context?.parent_revoked === true) throw invalidRequest('subject_token comes from a revoked delegation.');
  // What the subject's agent may delegate today: its token's scopes, within its current allowed scopes.
  const allowed = context?.allowed_scopes ?? [];
  const delegable = subject.scope.split(' ').filter((s) => s !== '' && allowed.includes(s));
  const scope = narrowedScopes(form.get('scope'), delegable, 'The subject token');

  const delegationId = newId('dlg');
  const act = subject.act === undefined ? { sub: client.agentId } : { sub: client.agentId, act: subject.act };
  // The event carries the delegation: migration 0010's trigger records it in the event's
  // transaction, which the audit writer's group commit shares with other token requests.
  const record = async (issued: AccessTokenClaims): Promise<void> => {
    const metadata = { subjectAgentId: subject.sub, actorAgentId: client.agentId, actingAgents: actorsOf(issued), parentDelegationId: parentId, depth, scope, aud: audience, jti: issued.jti, exp: issued.exp, method: client.method };
    try {
      await deps.audit.append({ orgId: client.orgId, action: 'delegation.created', outcome: 'success', actor: { type: 'agent', id: client.agentId }, target: { type: 'delegation', id: delegationId }, ...requestInfo(ctx), metadata });
    } catch (error) {
      // The parent was revoked between the check above and the commit.
      if ((error as { code?: unknown } | null)?.code === PARENT_REVOKED) throw invalidRequest('subject_token comes from a revoked delegation.');
      throw error;
    }
  };
  const delegation = { clientId: client.agentId, act, id: delegationId, notAfter: subject.exp };
  const { token, claims } = await deps.tokens.issue({ agentId: subject.sub, orgId: client.orgId }, scope, audience, { record, delegation, jkt });
  deps.metrics.tokensIssued.inc();
  return { access_token: token, issued_token_type: ACCESS_TOKEN_TYPE_URI, token_type: 'Bearer', expires_in: Math.max(1, claims.exp - claims.iat), scope };
};
