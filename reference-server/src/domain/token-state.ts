import type { Cache } from '../cache/cache';
import type { Database, Sql } from '../store/database';

/** How long a cached agent status is trusted when no change was written through. */
const STATUS_TTL_SECONDS = 60;
const LOADED_MARKER = 'revocations:loaded';
const revokedKey = (jti: string): string => `revoked:${jti}`;
const statusKey = (agentId: string): string => `agent-status:${agentId}`;

/**
 * Whether an issued token still counts: not revoked, and its agent active. PostgreSQL is
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

  async isActive(agentId: string, jti: string): Promise<boolean> {
    let cached: (string | null)[] = [null, null, null];
    try {
      if (this.useCache) cached = await this.cache.getMany([revokedKey(jti), LOADED_MARKER, statusKey(agentId)]);
    } catch {
      // cache down: the database decides
    }
    const [revoked, loaded, status] = cached;
    if (revoked !== null) return false;
    if (loaded !== null && status !== null) return status === 'active';
    const [row] = await this.db.callFunction<{ agent_status: string | null; revoked: boolean }>(
      'SELECT * FROM mandate_token_state($1, $2)',
      [agentId, jti],
    );
    const agentStatus = row?.agent_status ?? null;
    if (agentStatus !== null) {
      // Fill only if absent: a status written through by a concurrent change must win.
      await this.cache.setIfAbsent(statusKey(agentId), agentStatus, STATUS_TTL_SECONDS).catch(() => false);
    }
    return row !== undefined && !row.revoked && agentStatus === 'active';
  }

  /** Records a revocation in the caller's transaction; call `revoked()` after it commits. */
  async recordRevocation(sql: Sql, token: { jti: string; orgId: string; agentId: string; expiresAt: Date }): Promise<void> {
    await sql.query(
      'INSERT INTO revoked_tokens (jti, org_id, agent_id, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (jti) DO NOTHING',
      [token.jti, token.orgId, token.agentId, token.expiresAt],
    );
  }

  async revoked(jti: string, expiresAt: Date): Promise<void> {
    await this.cache.set(revokedKey(jti), '1', Math.max(1, (expiresAt.getTime() - Date.now()) / 1000));
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
