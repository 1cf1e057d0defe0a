import type { Sql } from './database';
import { type PageRequest, pageParams, toPage } from './page';

export interface CredentialRecord {
  id: string;
  agentId: string;
  label: string | null;
  displayPrefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  rotatedAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

const COLUMNS = `id, agent_id AS "agentId", label, 'mdt_sk_' || left(lookup, 8) AS "displayPrefix",
  created_at AS "createdAt", expires_at AS "expiresAt", rotated_at AS "rotatedAt",
  revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"`;

export const credentialStore = {
  async insert(
    sql: Sql,
    credential: { id: string; orgId: string; agentId: string; label: string | null; lookup: string; hash: Buffer; expiresAt: Date | null },
  ): Promise<CredentialRecord> {
    const [row] = await sql.query<CredentialRecord>(
      `INSERT INTO credentials (id, org_id, agent_id, label, lookup, secret_hash, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [credential.id, credential.orgId, credential.agentId, credential.label, credential.lookup, credential.hash, credential.expiresAt],
    );
    return row as CredentialRecord;
  },

  async find(sql: Sql, orgId: string, agentId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<CredentialRecord | null> {
    const [row] = await sql.query<CredentialRecord>(
      `SELECT ${COLUMNS} FROM credentials WHERE org_id = $1 AND agent_id = $2 AND id = $3${options.forUpdate === true ? ' FOR NO KEY UPDATE' : ''}`,
      [orgId, agentId, id],
    );
    return row ?? null;
  },

  async list(sql: Sql, orgId: string, agentId: string, page: PageRequest): Promise<{ items: CredentialRecord[]; lastId: string | null }> {
    const { after, fetch } = pageParams(page);
    const rows = await sql.query<CredentialRecord>(
      `SELECT ${COLUMNS} FROM credentials WHERE org_id = $1 AND agent_id = $2 AND id > $3 ORDER BY id LIMIT $4`,
      [orgId, agentId, after, fetch],
    );
    return toPage(rows, page);
  },

  async countActive(sql: Sql, orgId: string, agentId: string): Promise<number> {
    const [row] = await sql.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM credentials WHERE org_id = $1 AND agent_id = $2
         AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
      [orgId, agentId],
    );
    return row?.count ?? 0;
  },

  async replaceSecret(sql: Sql, orgId: string, id: string, secret: { lookup: string; hash: Buffer }): Promise<CredentialRecord> {
    const [row] = await sql.query<CredentialRecord>(
      `UPDATE credentials SET lookup = $3, secret_hash = $4, rotated_at = now()
       WHERE org_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [orgId, id, secret.lookup, secret.hash],
    );
    return row as CredentialRecord;
  },

  async revoke(sql: Sql, orgId: string, id: string): Promise<CredentialRecord> {
    const [row] = await sql.query<CredentialRecord>(
      `UPDATE credentials SET revoked_at = COALESCE(revoked_at, now()) WHERE org_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [orgId, id],
    );
    return row as CredentialRecord;
  },

  /** Revokes every credential of an agent that is not revoked yet; returns how many. */
  async revokeAllOfAgent(sql: Sql, orgId: string, agentId: string): Promise<number> {
    const rows = await sql.query(
      `UPDATE credentials SET revoked_at = now() WHERE org_id = $1 AND agent_id = $2 AND revoked_at IS NULL RETURNING id`,
      [orgId, agentId],
    );
    return rows.length;
  },
};
