import type { Sql } from '../store/database';
import type { OrgPlans } from './quotas';
import { type AgentFields, type AgentFilters, type AgentRecord, type AgentStatus, agentStore } from '../store/agents';
import { credentialStore } from '../store/credentials';
import type { PageRequest } from '../store/page';
import { conflict, fail, forbidden, notFound } from './errors';
import { newId } from './ids';
import { isUniqueViolation } from './pg-errors';

export type AgentInput = Pick<AgentFields, 'name' | 'agentType'> & Partial<AgentFields>;
export type AgentChanges = Partial<AgentFields> & { status?: 'active' | 'suspended' };

const NAME_INDEX = 'agents_live_name';

const nameTaken = (name: string) => conflict('AGENT_NAME_TAKEN', `An agent named "${name}" already exists in this organization.`);
export const agentNotFound = (id: string) => notFound('AGENT_NOT_FOUND', `No agent ${id} in this organization.`);

/** Runs a write that may hit the live-name unique index, turning that into a clear conflict. */
async function guardName<T>(name: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error, NAME_INDEX)) throw nameTaken(name);
    throw error;
  }
}

/**
 * A caller may give an agent only those of Mandate's own API scopes it holds itself, or a
 * writer could mint itself an admin by way of an agent. Scopes of other APIs are free.
 */
export function requireGrantable(requested: readonly string[] | undefined, held: ReadonlySet<string>, mandateScopes: ReadonlySet<string>): void {
  const refused = (requested ?? []).filter((scope) => mandateScopes.has(scope) && !held.has(scope));
  if (refused.length > 0) {
    throw forbidden('SCOPE_NOT_HELD', `You can give an agent only Mandate scopes you hold yourself; not: ${refused.join(', ')}.`);
  }
}

/** Moves an agent between active and suspended; decommissioned is final and only reached by decommission(). */
function withStatus(agent: AgentRecord, status: 'active' | 'suspended' | undefined, now: Date): AgentRecord {
  if (status === undefined || status === agent.status) return agent;
  return status === 'suspended' ? { ...agent, status, suspendedAt: now } : { ...agent, status, suspendedAt: null };
}

/** The check of the organization's `activeAgents` quota (OrgPlans). */
export type AgentQuota = Pick<OrgPlans, 'admitAgent'>;

export const agentService = {
  /** Registers an agent, within the organization's `activeAgents` quota. */
  async create(sql: Sql, orgId: string, input: AgentInput, quota: AgentQuota): Promise<AgentRecord> {
    await quota.admitAgent(sql, orgId);
    return guardName(input.name, () =>
      agentStore.insert(sql, {
        id: newId('agt'),
        orgId,
        name: input.name,
        description: input.description ?? null,
        agentType: input.agentType,
        version: input.version ?? null,
        capabilities: input.capabilities ?? [],
        owner: input.owner ?? null,
        deploymentEnv: input.deploymentEnv ?? 'development',
        allowedScopes: input.allowedScopes ?? [],
        metadata: input.metadata ?? {},
        trustLevel: input.trustLevel ?? 'unknown',
        dpopRequired: input.dpopRequired ?? false,
        public: input.public ?? false,
      }),
    );
  },

  list(sql: Sql, orgId: string, filters: AgentFilters, page: PageRequest) {
    return agentStore.list(sql, orgId, filters, page);
  },

  async get(sql: Sql, orgId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<AgentRecord> {
    return (await agentStore.find(sql, orgId, id, options)) ?? fail(agentNotFound(id));
  },

  /** Returns the updated agent and the status it had before. */
  async update(sql: Sql, orgId: string, id: string, changes: AgentChanges): Promise<{ agent: AgentRecord; previousStatus: AgentStatus }> {
    const agent = await this.get(sql, orgId, id, { forUpdate: true });
    if (agent.status === 'decommissioned') {
      throw conflict('AGENT_DECOMMISSIONED', `Agent ${id} is decommissioned and cannot be changed.`);
    }
    const { status, ...fields } = changes;
    const changed = withStatus({ ...agent, ...fields }, status, new Date());
    return { agent: await guardName(changed.name, () => agentStore.save(sql, changed)), previousStatus: agent.status };
  },

  /**
   * Final and idempotent: marks the agent decommissioned and revokes every credential in the
   * same transaction, so no secret of a decommissioned agent works for even a moment.
   */
  async decommission(sql: Sql, orgId: string, id: string): Promise<{ agent: AgentRecord; credentialsRevoked: number | null }> {
    const agent = await this.get(sql, orgId, id, { forUpdate: true });
    if (agent.status === 'decommissioned') return { agent, credentialsRevoked: null };
    const credentialsRevoked = await credentialStore.revokeAllOfAgent(sql, orgId, id);
    const decommissioned = await agentStore.save(sql, { ...agent, status: 'decommissioned', suspendedAt: null, decommissionedAt: new Date() });
    return { agent: decommissioned, credentialsRevoked };
  },
};
