import type { Context } from 'koa';
import type { AccessTokens } from '../../domain/access-tokens';
import type { AuditEntry } from '../../domain/audit';
import type { AuditWriter } from '../../domain/audit-writer';
import type { AuthenticatedClient } from '../../domain/clients';
import { OAuthError } from '../../domain/oauth-errors';
import type { IssuerKeys } from '../../domain/federation/issuer-keys';
import type { TokenState } from '../../domain/token-state';
import type { Metrics } from '../../observability/metrics';
import type { Database } from '../../store/database';
import { requestInfo } from '../router';

/** What a grant needs from the server. */
export interface GrantDeps {
  db: Database;
  metrics: Metrics;
  issuer: string;
  tokens: AccessTokens;
  tokenState: TokenState;
  audit: AuditWriter;
  /** The most actors a delegation chain may have (MANDATE_DELEGATION_MAX_DEPTH). */
  maxDelegationDepth: number;
  /** External issuers' keys, for workload identity federation. */
  issuerKeys: IssuerKeys;
}

/** One token request, its client authenticated. */
export interface GrantRequest {
  ctx: Context;
  form: Map<string, string>;
  client: AuthenticatedClient;
  /** The thumbprint of the request's DPoP key: the token is bound to it (RFC 9449). */
  jkt: string | undefined;
}

/** The RFC 6749 §5.1 (and RFC 8693 §2.2.1) success response. */
export interface TokenResponseBody {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  issued_token_type?: string;
}

/** Issues a token for an authenticated client, or throws an OAuthError. */
export type Grant = (request: GrantRequest, deps: GrantDeps) => Promise<TokenResponseBody>;

export /** An event an authenticated agent caused, on its organization's chain. */
function byAgent(
  ctx: Context,
  client: AuthenticatedClient,
  event: { action: string; outcome: AuditEntry['outcome']; onItself: boolean; metadata: Record<string, unknown> },
): AuditEntry {
  return {
    orgId: client.orgId,
    action: event.action,
    outcome: event.outcome,
    actor: { type: 'agent', id: client.agentId },
    target: event.onItself ? { type: 'agent', id: client.agentId } : null,
    ...requestInfo(ctx),
    metadata: event.metadata,
  };
}

const MAX_SCOPES = 100;

/** The scopes asked for, each one of `allowed`; all of `allowed` when none are asked for. */
export function narrowedScopes(requested: string | undefined, allowed: readonly string[], whose: string): string {
  if (requested === undefined) return allowed.join(' ');
  const scopes = [...new Set(requested.split(' ').filter((s) => s !== ''))];
  if (scopes.length > MAX_SCOPES) throw new OAuthError('invalid_scope', `At most ${MAX_SCOPES} scopes.`);
  const refused = scopes.filter((scope) => !allowed.includes(scope));
  if (refused.length > 0) throw new OAuthError('invalid_scope', `${whose} may not request: ${refused.join(' ')}`);
  return scopes.join(' ');
}

/**
 * RFC 8707: an absolute URI (the spec's `format: uri`, checked with the form) without a
 * fragment; the issuer when absent.
 */
export function audienceOf(resource: string | undefined, issuer: string): string {
  if (resource === undefined) return issuer;
  if (resource.includes('#')) throw new OAuthError('invalid_target', 'resource must not have a fragment.');
  return resource;
}

/** An agent that must use DPoP gets no token without a proof (RFC 9449). */
export function requireBinding(dpopRequired: boolean, jkt: string | undefined): void {
  if (dpopRequired && jkt === undefined) throw new OAuthError('invalid_dpop_proof', 'This agent’s tokens must be DPoP-bound: send a DPoP proof (RFC 9449).');
}
