import type { Context } from 'koa';
import type { AccessTokenClaims } from '../../domain/access-tokens';
import { deviceCodeHash } from '../../domain/approvals';
import { appendEvents } from '../../domain/audit';
import { OAuthError, invalidRequest } from '../../domain/oauth-errors';
import { agentStore } from '../../store/agents';
import { approvalStore } from '../../store/approvals';
import { orgStore } from '../../store/orgs';
import { requestInfo } from '../router';
import { type GrantDeps, type TokenResponseBody, audienceOf, requireBinding } from './grant';

export const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

interface PollRow {
  outcome: 'used' | 'denied' | 'expired' | 'pending' | 'slow_down' | 'approved';
  approval_id: string;
  org_id: string;
  agent_id: string | null;
  granted_scopes: string[] | null;
  poll_interval_seconds: number;
}

/** RFC 8628 §3.5's answers while no token can be issued. */
function notYet(row: PollRow): OAuthError {
  switch (row.outcome) {
    case 'pending':
      return new OAuthError('authorization_pending', 'Nobody has approved or denied the request yet.');
    case 'slow_down':
      return new OAuthError('slow_down', `Polled too often: wait at least ${row.poll_interval_seconds} seconds between requests from now on.`);
    case 'denied':
      return new OAuthError('access_denied', 'The request was denied.');
    case 'expired':
      return new OAuthError('expired_token', 'The device code expired: ask again at the device authorization endpoint.');
    default:
      return new OAuthError('invalid_grant', 'The device code was already exchanged for a token.');
  }
}

/**
 * The device code grant (RFC 8628 §3.4): the agent polls with its device code until a person
 * (or its trust level) decided. An approved request yields one token, for the agent within
 * the granted scopes; spending the code, the agent's state and the audit event are one
 * transaction, so a failure leaves the code to be used again.
 */
export async function pollDeviceCode(ctx: Context, form: Map<string, string>, deps: GrantDeps, jkt: string | undefined): Promise<TokenResponseBody> {
  const code = form.get('device_code');
  if (code === undefined) throw invalidRequest('device_code is required.');
  const [row] = await deps.db.callFunction<PollRow>('SELECT * FROM mandate_poll_device_code($1)', [deviceCodeHash(code)]);
  if (row === undefined) throw new OAuthError('invalid_grant', 'The device_code is not one this server issued.');
  if (row.outcome !== 'approved' || row.agent_id === null) throw notYet(row);

  const agentId = row.agent_id;
  const scope = (row.granted_scopes ?? []).join(' ');
  const audience = audienceOf(form.get('resource'), deps.issuer);
  const record = (issued: AccessTokenClaims): Promise<void> =>
    deps.db.tenantTransaction({ orgId: row.org_id, instanceAdmin: false, principalId: agentId }, async (sql) => {
      if (!(await approvalStore.markTokenIssued(sql, row.org_id, row.approval_id))) throw notYet({ ...row, outcome: 'used' });
      const agent = await agentStore.find(sql, row.org_id, agentId);
      if (agent?.status !== 'active') throw new OAuthError('invalid_grant', `The agent is ${agent?.status ?? 'gone'}.`);
      const org = await orgStore.find(sql, row.org_id);
      requireBinding(agent.dpopRequired || org?.dpopRequired === true, jkt); // before the code is spent: the transaction rolls back
      const metadata = { method: 'device_code', approvalId: row.approval_id, jti: issued.jti, scope, aud: audience, exp: issued.exp };
      await appendEvents(sql, [{ orgId: row.org_id, action: 'token.issued', outcome: 'success', actor: { type: 'agent', id: agentId }, target: { type: 'agent', id: agentId }, ...requestInfo(ctx), metadata }]);
    });
  const { token, claims } = await deps.tokens.issue({ agentId, orgId: row.org_id }, scope, audience, { record, jkt });
  deps.metrics.tokensIssued.inc();
  return { access_token: token, token_type: 'Bearer', expires_in: claims.exp - claims.iat, scope };
}
