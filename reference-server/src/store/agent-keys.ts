import type { Sql } from './database';
import { type PageRequest, pageParams, toPage } from './page';

export interface AgentKeyRecord {
  id: string;
  agentId: string;
  kid: string;
  thumbprint: string;
  alg: string;
  jwk: Record<string, string>;
  label: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

const COLUMNS = `id, agent_id AS "agentId", kid, thumbprint, alg, jwk, label, created_at AS "createdAt", last_used_at AS "lastUsedAt"`;

export const agentKeyStore = {
  async insert(
    sql: Sql,
    key: { id: string; orgId: string; agentId: string; kid: string; thumbprint: string; alg: string; jwk: Record<string, string>; label: string | null },
  ): Promise<AgentKeyRecord> {
    const [row] = await sql.query<AgentKeyRecord>(
      `INSERT INTO agent_keys (id, org_id, agent_id, kid, thumbprint, alg, jwk, label)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [key.id, key.orgId, key.agentId, key.kid, key.thumbprint, key.alg, JSON.stringify(key.jwk), key.label],
    );
    return row as AgentKeyRecord;
  },

  /** All of an agent's keys (at most MAX_AGENT_KEYS), oldest first. */
  async listAll(sql: Sql, orgId: string, agentId: string): Promise<AgentKeyRecord[]> {
    return sql.query<AgentKeyRecord>(`SELECT ${COLUMNS} FROM agent_keys WHERE org_id = $1 AND agent_id = $2 ORDER BY id`, [orgId, agentId]);
  },

  async list(sql: Sql, orgId: string, agentId: string, page: PageRequest): Promise<{ items: AgentKeyRecord[]; lastId: string | null }> {
    const { after, fetch } = pageParams(page);
    const rows = await sql.query<AgentKeyRecord>(
      `SELECT ${COLUMNS} FROM agent_keys WHERE org_id = $1 AND agent_id = $2 AND id > $3 ORDER BY id LIMIT $4`,
      [orgId, agentId, after, fetch],
    );
    return toPage(rows, page);
  },

  /** Removes every key of an agent (a registration replacing its JWK Set). */
  async deleteAllOfAgent(sql: Sql, orgId: string, agentId: string): Promise<void> {
    await sql.query('DELETE FROM agent_keys WHERE org_id = $1 AND agent_id = $2', [orgId, agentId]);
  },

  async delete(sql: Sql, orgId: string, agentId: string, id: string): Promise<AgentKeyRecord | null> {
    const [row] = await sql.query<AgentKeyRecord>(`DELETE FROM agent_keys WHERE org_id = $1 AND agent_id = $2 AND id = $3 RETURNING ${COLUMNS}`, [orgId, agentId, id]);
    return row ?? null;
  },
};
