import type { Sql } from './database';
import { type PageRequest, pageParams, toPage } from './page';

export interface TrustPolicyFields {
  name: string;
  description: string | null;
  issuer: string;
  audience: string;
  conditions: Record<string, string>;
  agentId: string;
  scopes: string[];
  enabled: boolean;
}

export interface TrustPolicyRecord extends TrustPolicyFields {
  id: string;
  orgId: string;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, org_id AS "orgId", name, description, issuer, audience, conditions, agent_id AS "agentId", scopes, enabled,
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Column of each changeable field. */
const FIELD_COLUMNS: Record<keyof TrustPolicyFields, string> = {
  name: 'name',
  description: 'description',
  issuer: 'issuer',
  audience: 'audience',
  conditions: 'conditions',
  agentId: 'agent_id',
  scopes: 'scopes',
  enabled: 'enabled',
};

/** A policy's JSON-typed column takes its value as JSON text. */
const columnValue = (field: keyof TrustPolicyFields, value: unknown): unknown => (field === 'conditions' ? JSON.stringify(value) : value);

export const trustPolicyStore = {
  async insert(sql: Sql, policy: TrustPolicyFields & { id: string; orgId: string }): Promise<TrustPolicyRecord> {
    const [row] = await sql.query<TrustPolicyRecord>(
      `INSERT INTO trust_policies (id, org_id, name, description, issuer, audience, conditions, agent_id, scopes, enabled)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
      [policy.id, policy.orgId, policy.name, policy.description, policy.issuer, policy.audience, JSON.stringify(policy.conditions), policy.agentId, policy.scopes, policy.enabled],
    );
    return row as TrustPolicyRecord;
  },

  async find(sql: Sql, orgId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<TrustPolicyRecord | null> {
    const lock = options.forUpdate === true ? ' FOR UPDATE' : '';
    const [row] = await sql.query<TrustPolicyRecord>(`SELECT ${COLUMNS} FROM trust_policies WHERE org_id = $1 AND id = $2${lock}`, [orgId, id]);
    return row ?? null;
  },

  async list(sql: Sql, orgId: string, page: PageRequest): Promise<{ items: TrustPolicyRecord[]; lastId: string | null }> {
    const { after, fetch } = pageParams(page);
    const rows = await sql.query<TrustPolicyRecord>(`SELECT ${COLUMNS} FROM trust_policies WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`, [orgId, after, fetch]);
    return toPage(rows, page);
  },

  async update(sql: Sql, orgId: string, id: string, changes: Partial<TrustPolicyFields>): Promise<TrustPolicyRecord> {
    const values: unknown[] = [orgId, id];
    const assignments = ['updated_at = now()'];
    for (const [field, value] of Object.entries(changes) as Array<[keyof TrustPolicyFields, unknown]>) {
      if (value === undefined) continue;
      values.push(columnValue(field, value));
      assignments.push(`${FIELD_COLUMNS[field]} = $${values.length}`);
    }
    const [row] = await sql.query<TrustPolicyRecord>(`UPDATE trust_policies SET ${assignments.join(', ')} WHERE org_id = $1 AND id = $2 RETURNING ${COLUMNS}`, values);
    return row as TrustPolicyRecord;
  },

  async delete(sql: Sql, orgId: string, id: string): Promise<TrustPolicyRecord | null> {
    const [row] = await sql.query<TrustPolicyRecord>(`DELETE FROM trust_policies WHERE org_id = $1 AND id = $2 RETURNING ${COLUMNS}`, [orgId, id]);
    return row ?? null;
  },
};
