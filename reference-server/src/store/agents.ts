import type { Sql } from './database';
import { Conditions } from './conditions';
import { type PageRequest, pageParams, toPage } from './page';

export type AgentStatus = 'active' | 'suspended' | 'decommissioned';
export type TrustLevel = 'trusted' | 'unknown' | 'blocked';

export interface AgentFields {
  name: string;
  description: string | null;
  agentType: string;
  version: string | null;
  capabilities: string[];
  owner: string | null;
  deploymentEnv: string;
  allowedScopes: string[];
  metadata: Record<string, string>;
  trustLevel: TrustLevel;
  dpopRequired: boolean;
  /** Listed in the public directory while active. */
  public: boolean;
}

export interface AgentRecord extends AgentFields {
  id: string;
  orgId: string;
  status: AgentStatus;
  createdAt: Date;
  updatedAt: Date;
  suspendedAt: Date | null;
  decommissionedAt: Date | null;
}

export interface AgentFilters {
  status?: AgentStatus;
  agentType?: string;
  owner?: string;
  deploymentEnv?: string;
  nameContains?: string;
}

const COLUMNS = `id, org_id AS "orgId", name, description, agent_type AS "agentType", version, capabilities, owner,
  deployment_env AS "deploymentEnv", allowed_scopes AS "allowedScopes", metadata, trust_level AS "trustLevel", dpop_required AS "dpopRequired", public, status,
  created_at AS "createdAt", updated_at AS "updatedAt", suspended_at AS "suspendedAt",
  decommissioned_at AS "decommissionedAt"`;

/** The descriptive columns, in the order of the $3…$14 placeholders of insert and save. */
const fieldParams = (agent: AgentFields): unknown[] => [
  agent.name,
  agent.description,
  agent.agentType,
  agent.version,
  agent.capabilities,
  agent.owner,
  agent.deploymentEnv,
  agent.allowedScopes,
  JSON.stringify(agent.metadata),
  agent.trustLevel,
  agent.dpopRequired,
  agent.public,
];

/** Escapes LIKE wildcards so a search for `50%` finds the text "50%". */
const likeLiteral = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export const agentStore = {
  async insert(sql: Sql, agent: AgentFields & { id: string; orgId: string }): Promise<AgentRecord> {
    const [row] = await sql.query<AgentRecord>(
      `INSERT INTO agents (id, org_id, name, description, agent_type, version, capabilities, owner,
         deployment_env, allowed_scopes, metadata, trust_level, dpop_required, public, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'active') RETURNING ${COLUMNS}`,
      [agent.id, agent.orgId, ...fieldParams(agent)],
    );
    return row as AgentRecord;
  },

  async find(sql: Sql, orgId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<AgentRecord | null> {
    const [row] = await sql.query<AgentRecord>(
      `SELECT ${COLUMNS} FROM agents WHERE org_id = $1 AND id = $2${options.forUpdate === true ? ' FOR NO KEY UPDATE' : ''}`,
      [orgId, id],
    );
    return row ?? null;
  },

  async list(sql: Sql, orgId: string, filters: AgentFilters, page: PageRequest): Promise<{ items: AgentRecord[]; lastId: string | null }> {
    const { after, fetch } = pageParams(page);
    const where = new Conditions()
      .add('org_id = ?', orgId)
      .add('id > ?', after)
      .addIf('status = ?', filters.status)
      .addIf('agent_type = ?', filters.agentType)
      .addIf('owner = ?', filters.owner)
      .addIf('deployment_env = ?', filters.deploymentEnv)
      .addIf(`name ILIKE '%' || ? || '%'`, filters.nameContains === undefined ? undefined : likeLiteral(filters.nameContains));
    const rows = await sql.query<AgentRecord>(`SELECT ${COLUMNS} FROM agents WHERE ${where.sql()} ORDER BY id LIMIT ${where.param(fetch)}`, where.params);
    return toPage(rows, page);
  },

  /** The id of the organization's live (not decommissioned) agent with this name, if any. */
  async liveIdNamed(sql: Sql, orgId: string, name: string): Promise<string | null> {
    const [row] = await sql.query<{ id: string }>(`SELECT id FROM agents WHERE org_id = $1 AND name = $2 AND status <> 'decommissioned'`, [orgId, name]);
    return row?.id ?? null;
  },

  async save(sql: Sql, agent: AgentRecord): Promise<AgentRecord> {
    const [row] = await sql.query<AgentRecord>(
      `UPDATE agents SET name = $3, description = $4, agent_type = $5, version = $6, capabilities = $7,
         owner = $8, deployment_env = $9, allowed_scopes = $10, metadata = $11, trust_level = $12, dpop_required = $13,
         public = $14, status = $15, suspended_at = $16, decommissioned_at = $17, updated_at = now()
       WHERE org_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [agent.orgId, agent.id, ...fieldParams(agent), agent.status, agent.suspendedAt, agent.decommissionedAt],
    );
    return row as AgentRecord;
  },
};
