import type { Database, Sql } from './database';
import { type PageRequest, pageParams, toPage } from './page';

export type AdminRole = 'reader' | 'writer' | 'admin';

export interface AdminTokenRecord {
  id: string;
  orgId: string | null;
  role: AdminRole;
  label: string;
  displayPrefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** What authentication needs; read through the SECURITY DEFINER lookup function. */
export interface AdminTokenCredentials {
  id: string;
  orgId: string | null;
  role: AdminRole;
  secretHash: Buffer;
  expiresAt: Date | null;
  revokedAt: Date | null;
  orgDeleted: boolean;
}

// The display prefix is derived from the lookup, which is the token's public start.
const COLUMNS = `id, org_id AS "orgId", role, label, 'mdt_pat_' || left(lookup, 8) AS "displayPrefix",
  created_at AS "createdAt", expires_at AS "expiresAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"`;

export const adminTokenStore = {
  async insert(
    sql: Sql,
    token: { id: string; orgId: string | null; role: AdminRole; label: string; lookup: string; hash: Buffer; expiresAt: Date | null },
  ): Promise<AdminTokenRecord> {
    const [row] = await sql.query<AdminTokenRecord>(
      `INSERT INTO admin_tokens (id, org_id, role, label, lookup, secret_hash, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [token.id, token.orgId, token.role, token.label, token.lookup, token.hash, token.expiresAt],
    );
    return row as AdminTokenRecord;
  },

  async list(sql: Sql, orgId: string, page: PageRequest): Promise<{ items: AdminTokenRecord[]; lastId: string | null }> {
    const { after, fetch } = pageParams(page);
    const rows = await sql.query<AdminTokenRecord>(
      `SELECT ${COLUMNS} FROM admin_tokens WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
      [orgId, after, fetch],
    );
    return toPage(rows, page);
  },

  async find(sql: Sql, orgId: string, id: string): Promise<AdminTokenRecord | null> {
    const [row] = await sql.query<AdminTokenRecord>(`SELECT ${COLUMNS} FROM admin_tokens WHERE org_id = $1 AND id = $2 FOR NO KEY UPDATE`, [orgId, id]);
    return row ?? null;
  },

  async revoke(sql: Sql, orgId: string, id: string): Promise<AdminTokenRecord> {
    const [row] = await sql.query<AdminTokenRecord>(
      `UPDATE admin_tokens SET revoked_at = now() WHERE org_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [orgId, id],
    );
    return row as AdminTokenRecord;
  },

  async revokeAllOfOrg(sql: Sql, orgId: string): Promise<void> {
    await sql.query('UPDATE admin_tokens SET revoked_at = now() WHERE org_id = $1 AND revoked_at IS NULL', [orgId]);
  },

  /** One round trip, through the SECURITY DEFINER lookup (see Database.callFunction). */
  async findForAuthentication(db: Database, lookup: string): Promise<AdminTokenCredentials | null> {
    const [row] = await db.callFunction<{
      id: string;
      org_id: string | null;
      role: AdminRole;
      secret_hash: Uint8Array;
      expires_at: Date | null;
      revoked_at: Date | null;
      org_deleted: boolean;
    }>('SELECT * FROM mandate_find_admin_token($1)', [lookup]);
    if (row === undefined) return null;
    return {
      id: row.id,
      orgId: row.org_id,
      role: row.role,
      secretHash: Buffer.from(row.secret_hash),
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      orgDeleted: row.org_deleted,
    };
  },
};
