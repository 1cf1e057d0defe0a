import type { Sql } from './database';
import { type PageRequest, pageParams, toPage } from './page';

export interface DelegationRecord {
  id: string;
  subjectAgentId: string;
  actorAgentId: string;
  parentDelegationId: string | null;
  depth: number;
  scope: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

export interface DelegationFilters {
  subjectAgentId?: string;
  actorAgentId?: string;
  active?: boolean;
}

const COLUMNS = `id, subject_agent_id AS "subjectAgentId", actor_agent_id AS "actorAgentId", parent_id AS "parentDelegationId",
  depth, scope, created_at AS "createdAt", expires_at AS "expiresAt", revoked_at AS "revokedAt"`;

export const delegationStore = {
  async list(sql: Sql, orgId: string, filters: DelegationFilters, page: PageRequest): Promise<{ items: DelegationRecord[]; lastId: string | null }> {
    const { after, fetch } = pageParams(page);
    const rows = await sql.query<DelegationRecord>(
      `SELECT ${COLUMNS} FROM delegations
       WHERE org_id = $1 AND id > $2
         AND ($3::text IS NULL OR subject_agent_id = $3)
         AND ($4::text IS NULL OR actor_agent_id = $4)
         AND ($5::boolean IS NULL OR (revoked_at IS NULL AND expires_at > now()) = $5)
       ORDER BY id LIMIT $6`,
      [orgId, after, filters.subjectAgentId ?? null, filters.actorAgentId ?? null, filters.active ?? null, fetch],
    );
    return toPage(rows, page);
  },

  /**
   * Revokes the delegation and every delegation made from it, down the chain; returns the
   * ones this call revoked (none when it already was). The root is locked first, so an
   * exchange that holds it (FOR SHARE) either finishes first or sees it revoked.
   */
  async revokeWithDescendants(sql: Sql, orgId: string, id: string): Promise<{ root: DelegationRecord | null; revoked: DelegationRecord[] }> {
    const [root] = await sql.query<DelegationRecord>(`SELECT ${COLUMNS} FROM delegations WHERE org_id = $1 AND id = $2 FOR UPDATE`, [orgId, id]);
    if (root === undefined) return { root: null, revoked: [] };
    const revoked = await sql.query<DelegationRecord>(
      `WITH RECURSIVE chain AS (
         SELECT id FROM delegations WHERE org_id = $1 AND id = $2
         UNION ALL
         SELECT d.id FROM delegations d JOIN chain c ON d.parent_id = c.id WHERE d.org_id = $1
       )
       UPDATE delegations SET revoked_at = now()
       WHERE org_id = $1 AND id IN (SELECT id FROM chain) AND revoked_at IS NULL
       RETURNING ${COLUMNS}`,
      [orgId, id],
    );
    const updatedRoot = revoked.find((d) => d.id === id) ?? root;
    return { root: updatedRoot, revoked };
  },
};
