import { type AccessTokens, actorsOf } from '../domain/access-tokens';
import type { AuditEntry, RequestInfo } from '../domain/audit';
import type { AuditWriter } from '../domain/audit-writer';
import { unauthorized } from '../domain/errors';
import type { Principal } from '../domain/principal';
import type { SecretHasher } from '../domain/secrets';
import type { TokenState } from '../domain/token-state';
import { UseRecorder } from '../domain/use-recorder';
import type { Cache } from '../cache/cache';
import type { EpochCache } from '../cache/epoch-cache';
import type { Metrics } from '../observability/metrics';
import type { Database } from '../store/database';
import { type AdminTokenCredentials, adminTokenStore } from '../store/admin-tokens';


export interface Authenticator {
  /** The caller behind an Authorization header; every success and failure is audited. */
  authenticate(authorization: string | undefined, request: RequestInfo): Promise<Principal>;
  /**
   * Whether a credential that authenticated earlier still would (not revoked or expired, its
   * agent still active), for answers that outlive their request. Not audited.
   */
  stillValid(authorization: string): Promise<boolean>;
}


/** A refusal, with what is known of the caller. */
class Refusal extends Error {
  constructor(
    readonly reason: string,
    readonly detail: string,
    readonly known: { orgId: string | null; type: AuditEntry['actor']['type']; id: string | null } = { orgId: null, type: 'anonymous', id: null },
  ) {
    super(detail);
  }
}

export interface AuthenticatorDeps {
  db: Database;
  cache: Cache;
  /** Admin tokens' credentials by lookup; revocations and org deletions move its epoch. */
  adminTokens: EpochCache<AdminTokenCredentials>;
  hasher: SecretHasher;
  metrics: Metrics;
  roles: Map<string, Set<string>>;
  tokens: AccessTokens;
  tokenState: TokenState;
  audit: AuditWriter;
  issuer: string;
}

/**
 * Bearer authentication for the API: admin tokens (`mdt_pat_…`, keyed-hash compared) and
 * agents' access tokens (JWTs for this issuer as audience, whose agent is still active and
 * which were not revoked).
 */
export function bearerAuthenticator(deps: AuthenticatorDeps): Authenticator {
  async function adminToken(presented: string, recordUse = true): Promise<Principal> {
    // A malformed token still costs a lookup (of nothing), so it answers in the same time class.
    const lookup = deps.hasher.lookupOf('adminToken', presented) ?? '';
    const row = await deps.adminTokens.get(lookup, () => adminTokenStore.findForAuthentication(deps.db, lookup));
    // Verify even when nothing was found, so unknown and wrong tokens take the same time.
    const valid = deps.hasher.verify(presented, row === null ? null : row.secretHash);
    if (row === null || !valid) throw new Refusal('unknown', 'The bearer token is not a valid admin API token.');
    const known = { orgId: row.orgId, type: 'admin_token' as const, id: row.id };
    if (row.revokedAt !== null || row.orgDeleted) throw new Refusal('revoked', 'The bearer token has been revoked.', known);
    if (row.expiresAt !== null && row.expiresAt.getTime() <= Date.now()) throw new Refusal('expired', 'The bearer token has expired.', known);
    if (recordUse) await uses.record(row.id);
    return { kind: 'admin_token', id: row.id, orgId: row.orgId, role: row.role, scopes: deps.roles.get(row.role) ?? new Set() };
  }

  async function agentToken(presented: string): Promise<Principal> {
    const claims = await deps.tokens.verify(presented, deps.issuer);
    if (claims === null) throw new Refusal('invalid_jwt', 'The bearer token is not a valid access token for this API.');
    if (!(await deps.tokenState.isActive(claims))) {
      throw new Refusal('inactive', 'The access token was revoked, or its agent (or an agent acting for it) is not active.', { orgId: claims.org, type: 'agent', id: claims.sub });
    }
    const scopes = new Set(claims.scope.split(' ').filter((s) => s !== ''));
    return { kind: 'agent', id: claims.sub, orgId: claims.org, role: null, scopes, ...(claims.act === undefined ? {} : { actors: actorsOf(claims) }) };
  }

  const uses = new UseRecorder(deps.cache, (tokenId) => adminTokenStore.recordUse(deps.db, tokenId));

  const bearerOf = (authorization: string): string => /^Bearer +([^ ]+) *$/i.exec(authorization)?.[1] ?? '';

  return {
    async stillValid(authorization) {
      const presented = bearerOf(authorization);
      try {
        await (presented.startsWith('mdt_pat_') ? adminToken(presented, false) : agentToken(presented));
        return true;
      } catch (error) {
        if (error instanceof Refusal) return false;
        throw error;
      }
    },
    async authenticate(authorization, request) {
      if (authorization === undefined || authorization.trim() === '') {
        deps.metrics.authFailures.inc({ reason: 'missing' });
        throw unauthorized('AUTHENTICATION_REQUIRED', 'Send an admin API token or an access token as "Authorization: Bearer <token>".', false);
      }
      const presented = bearerOf(authorization);
      try {
        const principal = presented.startsWith('mdt_pat_') ? await adminToken(presented) : await agentToken(presented);
        await deps.audit.append({
          orgId: principal.orgId,
          action: 'auth.succeeded',
          outcome: 'success',
          actor: { type: principal.kind, id: principal.id },
          target: null,
          ...request,
          metadata: {
            method: principal.kind === 'agent' ? 'access_token' : 'admin_token',
            ...(principal.actors === undefined ? {} : { actingAgents: principal.actors }),
          },
        });
        return principal;
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        deps.metrics.authFailures.inc({ reason: error.reason });
        await deps.audit.append({
          orgId: error.known.orgId,
          action: 'auth.failed',
          outcome: 'failure',
          actor: { type: error.known.type, id: error.known.id },
          target: null,
          ...request,
          metadata: { method: 'bearer', reason: error.reason },
        });
        throw unauthorized('INVALID_TOKEN', error.detail, true);
      }
    },
  };
}

