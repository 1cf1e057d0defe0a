import type { Cache } from '../cache/cache';
import type { Database, Sql } from '../store/database';
import { type AccessTokenClaims, actorsOf } from './access-tokens';

/** How long a cached agent status is trusted when no change was written through. */
const STATUS_TTL_SECONDS = 60;
const LOADED_MARKER = 'revocations:loaded';
const revokedKey = (jti: string): string => `revoked:${jti}`;
const statusKey = (agentId: string): string => `agent-status:${agentId}`;

/**
 * Whether an issued token still counts: not revoked, and its agent active; for a delegated
 * token also every actor of its chain active and its delegation (or one it came from) not
 * revoked — revoking a delegation revokes its descendants, so one id covers the chain. PostgreSQL is
 * the record; the cache answers the hot path. Every change is written to the database,
 * then through to the cache before the change is acknowledged, so every instance sharing
 * the cache sees it at once. A cache that lost its data (restart) is detected by the
 * missing "loaded" marker and the database is asked until the cache is refilled.
 *
 * Instances that do not share one cache (e.g. a Redis per region) must not trust it: with
 * `useCache` false every check asks the database.
 */
export class TokenState {
  constructor(
    private readonly db: Database,
    private readonly cache: Cache,
    private readonly useCache: boolean = true,
  ) {}

  async isActive(claims: Pick<AccessTokenClaims, 'sub' | 'jti' | 'act' | 'delegation_id'>): Promise<boolean> {
    const delegationId = claims.delegation_id;
    const agents = [claims.sub, ...actorsOf(claims)];
    const revocations = delegationId === undefined ? [claims.jti] : [claims.jti, delegationId];
    let cached: (string | null)[] = [];
    try {
      if (this.useCache) cached = await this.cache.getMany([LOADED_MARKER, ...revocations.map(revokedKey), ...agents.map(statusKey)]);
    } catch {
      // cache down: the database decides
    }
    const [loaded, ...rest] = cached;
    const revoked = rest.slice(0, revocations.length);
    const statuses = rest.slice(revocations.length);
    if (revoked.some((value) => value !== null)) return false;
    if (loaded !== undefined && loaded !== null && statuses.every((status) => status !== null)) return statuses.every((status) => status === 'active');
    return delegationId === undefined ? this.agentTokenFromDatabase(claims.sub, claims.jti) : this.delegatedTokenFromDatabase(agents, claims.jti, delegationId);
  }

  private async agentTokenFromDatabase(agentId: string, jti: string): Promise<boolean> {
    const [row] = await this.db.callFunction<{ agent_status: string | null; revoked: boolean }>('SELECT * FROM mandate_token_state($1, $2)', [agentId, jti]);
    const agentStatus = row?.agent_status ?? null;
    if (agentStatus !== null) {
      // Fill only if absent: a status written through by a concurrent change must win.
      await this.cache.setIfAbsent(statusKey(agentId), agentStatus, STATUS_TTL_SECONDS).catch(() => false);
    }
    return row !== undefined && !row.revoked && agentStatus === 'active';
  }

  private async delegatedTokenFromDatabase(agentIds: string[], jti: string, delegationId: string): Promise<boolean> {
    const [row] = await this.db.callFunction<{ all_active: boolean; revoked: boolean }>('SELECT * FROM mandate_delegated_token_state($1, $2, $3)', [
      agentIds,
      jti,
      delegationId,
    ]);
    return row !== undefined && row.all_active && !row.revoked;
  }

  /** Records a revocation in the caller's transaction; call `revoked()` after it commits. */
  async recordRevocation(sql: Sql, token: { jti: string; orgId: string; agentId: string; expiresAt: Date }): Promise<void> {
    await sql.query(
      'INSERT INTO revoked_tokens (jti, org_id, agent_id, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (jti) DO NOTHING',
      [token.jti, token.orgId, token.agentId, token.expiresAt],
    );
  }

  /** Writes a revoked token (by jti) or delegation (by id) through to the cache, after it committed. */
  async revoked(id: string, expiresAt: Date): Promise<void> {
    await this.cache.set(revokedKey(id), '1', Math.max(1, (expiresAt.getTime() - Date.now()) / 1000));
  }

  /** Writes an agent's new status through to the cache (after the change committed). */
  async agentStatusChanged(agentId: string, status: string): Promise<void> {
    await this.cache.set(statusKey(agentId), status, STATUS_TTL_SECONDS);
  }

  /** Refills the cache with the revocations in force, unless it still has them. */
  async warm(): Promise<void> {
    if ((await this.cache.get(LOADED_MARKER)) !== null) return;
    const live = await this.db.callFunction<{ jti: string; expires_at: Date }>('SELECT * FROM mandate_live_revocations()', []);
    for (const revocation of live) await this.revoked(revocation.jti, revocation.expires_at);
    await this.cache.set(LOADED_MARKER, new Date().toISOString(), 365 * 86400);
  }
}
