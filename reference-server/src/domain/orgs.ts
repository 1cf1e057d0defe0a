import type { Sql } from '../store/database';
import { adminTokenStore } from '../store/admin-tokens';
import { type OrgLock, type OrgRecord, orgStore } from '../store/orgs';
import type { PageRequest } from '../store/page';
import { conflict, fail, forbidden, notFound } from './errors';
import { newId } from './ids';
import type { Plan, QuotaOverrides } from './plans';
import type { Principal } from './principal';

export interface OrgInput {
  name: string;
  metadata?: Record<string, string>;
  dpopRequired?: boolean;
  plan?: Plan;
  quotaOverrides?: QuotaOverrides;
}

const orgNotFound = (id: string) => notFound('ORG_NOT_FOUND', `No organization ${id}.`);

function requireInstanceAdmin(principal: Principal, action: string): void {
  if (principal.orgId !== null) {
    throw forbidden('INSTANCE_ADMIN_REQUIRED', `Only the instance administrator can ${action} organizations.`);
  }
}

/** An organization's plan and quotas are the operator's to set, not the organization's own. */
function requirePlanChangeAllowed(principal: Principal, changes: Partial<OrgInput>): void {
  if (principal.orgId !== null && (changes.plan !== undefined || changes.quotaOverrides !== undefined)) {
    throw forbidden('FORBIDDEN', "Only the instance administrator can change an organization's plan or quotas.");
  }
}

export const orgService = {
  create(sql: Sql, principal: Principal, input: OrgInput, defaultPlan: Plan): Promise<OrgRecord> {
    requireInstanceAdmin(principal, 'create');
    return orgStore.insert(sql, {
      id: newId('org'),
      name: input.name,
      metadata: input.metadata ?? {},
      dpopRequired: input.dpopRequired ?? false,
      plan: input.plan ?? defaultPlan,
      quotaOverrides: input.quotaOverrides ?? {},
    });
  },

  /** Row-level security narrows this to the caller's organization unless it is the instance admin. */
  list(sql: Sql, page: PageRequest) {
    return orgStore.list(sql, page);
  },

  async get(sql: Sql, id: string): Promise<OrgRecord> {
    return (await orgStore.find(sql, id)) ?? fail(orgNotFound(id));
  },

  async update(sql: Sql, principal: Principal, id: string, changes: Partial<OrgInput>): Promise<OrgRecord> {
    requirePlanChangeAllowed(principal, changes);
    return (await orgStore.update(sql, id, changes)) ?? fail(orgNotFound(id));
  },

  /** Soft delete: the organization disappears from the API and its admin tokens stop working. */
  async delete(sql: Sql, principal: Principal, id: string): Promise<void> {
    if (!(await orgStore.isLive(sql, id, 'delete'))) throw orgNotFound(id);
    requireInstanceAdmin(principal, 'delete');
    const live = await orgStore.liveAgentCount(sql, id);
    if (live > 0) {
      throw conflict('ORG_HAS_ACTIVE_AGENTS', `The organization still has ${live} agent(s) that are not decommissioned.`);
    }
    await adminTokenStore.revokeAllOfOrg(sql, id);
    await orgStore.markDeleted(sql, id);
  },

  /** The organization a call acts in must exist (and, for a write, stay so until commit). */
  async requireLive(sql: Sql, id: string, lock: Exclude<OrgLock, 'delete'>): Promise<void> {
    if (!(await orgStore.isLive(sql, id, lock))) throw orgNotFound(id);
  },
};
