import type { Plan, QuotaOverrides } from '../domain/plans';
import type { Sql } from './database';
import { type PageRequest, pageParams, toPage } from './page';

export interface OrgRecord {
  id: string;
  name: string;
  metadata: Record<string, string>;
  dpopRequired: boolean;
  plan: Plan;
  quotaOverrides: QuotaOverrides;
  createdAt: Date;
  updatedAt: Date;
}

export type OrgLock = 'none' | 'write' | 'delete';

const COLUMNS = `id, name, metadata, dpop_required AS "dpopRequired", plan, quota_overrides AS "quotaOverrides", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** What a new organization is made of; what an update may change. */
export interface OrgFields {
  name: string;
  metadata: Record<string, string>;
  dpopRequired: boolean;
  plan: Plan;
  quotaOverrides: QuotaOverrides;
}

export const orgStore = {
  async insert(sql: Sql, org: OrgFields & { id: string }): Promise<OrgRecord> {
    const [row] = await sql.query<OrgRecord>(
      `INSERT INTO orgs (id, name, metadata, dpop_required, plan, quota_overrides) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [org.id, org.name, JSON.stringify(org.metadata), org.dpopRequired, org.plan, JSON.stringify(org.quotaOverrides)],
    );
    return row as OrgRecord;
  },

  async find(sql: Sql, id: string): Promise<OrgRecord | null> {
    const [row] = await sql.query<OrgRecord>(`SELECT ${COLUMNS} FROM orgs WHERE id = $1 AND deleted_at IS NULL`, [id]);
    return row ?? null;
  },

  async list(sql: Sql, page: PageRequest): Promise<{ items: OrgRecord[]; lastId: string | null }> {
    const { after, fetch } = pageParams(page);
    const rows = await sql.query<OrgRecord>(
      `SELECT ${COLUMNS} FROM orgs WHERE deleted_at IS NULL AND id > $1 ORDER BY id LIMIT $2`,
      [after, fetch],
    );
    return toPage(rows, page);
  },

  async update(sql: Sql, id: string, changes: Partial<OrgFields>): Promise<OrgRecord | null> {
    const [row] = await sql.query<OrgRecord>(
      `UPDATE orgs SET name = COALESCE($2, name), metadata = COALESCE($3::jsonb, metadata), dpop_required = COALESCE($4, dpop_required),
       plan = COALESCE($5, plan), quota_overrides = COALESCE($6::jsonb, quota_overrides), updated_at = now()
       WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [
        id,
        changes.name ?? null,
        changes.metadata === undefined ? null : JSON.stringify(changes.metadata),
        changes.dpopRequired ?? null,
        changes.plan ?? null,
        changes.quotaOverrides === undefined ? null : JSON.stringify(changes.quotaOverrides),
      ],
    );
    return row ?? null;
  },

  async markDeleted(sql: Sql, id: string): Promise<void> {
    await sql.query('UPDATE orgs SET deleted_at = now(), updated_at = now() WHERE id = $1', [id]);
  },

  /**
   * True when the organization exists and is not deleted. Writes take a key-share lock and
   * a delete an exclusive one, so a write and a delete of the same organization serialize
   * (a new agent cannot slip in after the delete counted the live agents); reads lock nothing.
   */
  async isLive(sql: Sql, id: string, lock: OrgLock): Promise<boolean> {
    const clause = lock === 'none' ? '' : lock === 'write' ? ' FOR KEY SHARE' : ' FOR UPDATE';
    const rows = await sql.query(`SELECT 1 FROM orgs WHERE id = $1 AND deleted_at IS NULL${clause}`, [id]);
    return rows.length === 1;
  },

  async liveAgentCount(sql: Sql, orgId: string): Promise<number> {
    const [row] = await sql.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM agents WHERE org_id = $1 AND status <> 'decommissioned'`,
      [orgId],
    );
    return row?.count ?? 0;
  },
};
