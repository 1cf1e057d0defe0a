import { unauthorized } from '../domain/errors';
import type { Principal } from '../domain/principal';
import type { SecretHasher } from '../domain/secrets';
import type { Cache } from '../cache/cache';
import type { Metrics } from '../observability/metrics';
import type { Database } from '../store/database';
import { adminTokenStore } from '../store/admin-tokens';

export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Principal>;
}

const NOBODY = { orgId: null, instanceAdmin: false, principalId: '' };
const LAST_USED_INTERVAL_SECONDS = 60;

/** Admin API tokens (`Authorization: Bearer mdt_pat_…`), checked against their keyed hash. */
export function adminTokenAuthenticator(deps: {
  db: Database;
  cache: Cache;
  hasher: SecretHasher;
  metrics: Metrics;
  roles: Map<string, Set<string>>;
}): Authenticator {
  const refuse = (reason: string, detail: string, credentialsSent = true): never => {
    deps.metrics.authFailures.inc({ reason });
    throw unauthorized(credentialsSent ? 'INVALID_TOKEN' : 'AUTHENTICATION_REQUIRED', detail, credentialsSent);
  };

  /**
   * Records the use at most once a minute per token, whichever instance served it. It is
   * bookkeeping: a cache outage skips it rather than failing the caller's request.
   */
  const recordUse = async (tokenId: string): Promise<void> => {
    const due = await deps.cache.setIfAbsent(`admin-token-used:${tokenId}`, '1', LAST_USED_INTERVAL_SECONDS).catch(() => false);
    if (due) await deps.db.tenantTransaction(NOBODY, (sql) => adminTokenStore.recordUse(sql, tokenId));
  };

  return {
    async authenticate(authorization) {
      if (authorization === undefined || authorization.trim() === '') {
        return refuse('missing', 'Send an admin API token as "Authorization: Bearer mdt_pat_…".', false);
      }
      const match = /^Bearer +([^ ]+) *$/i.exec(authorization);
      const presented = match?.[1] ?? '';
      const lookup = deps.hasher.lookupOf('adminToken', presented);
      const row = lookup === null ? null : await deps.db.tenantTransaction(NOBODY, (sql) => adminTokenStore.findForAuthentication(sql, lookup));
      // Verify even when nothing was found, so unknown and wrong tokens take the same time.
      const valid = deps.hasher.verify(presented, row === null ? null : Buffer.from(row.secretHash));
      if (row === null || !valid) return refuse('unknown', 'The bearer token is not a valid admin API token.');
      if (row.revokedAt !== null || row.orgDeleted) return refuse('revoked', 'The bearer token has been revoked.');
      if (row.expiresAt !== null && row.expiresAt.getTime() <= Date.now()) return refuse('expired', 'The bearer token has expired.');

      await recordUse(row.id);
      return { id: row.id, orgId: row.orgId, role: row.role, scopes: deps.roles.get(row.role) ?? new Set() };
    },
  };
}
