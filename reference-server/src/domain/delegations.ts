import { auditStore } from '../store/audit';
import type { Sql } from '../store/database';
import { type DelegationFilters, type DelegationRecord, delegationStore } from '../store/delegations';
import type { PageRequest } from '../store/page';
import { chainOf } from './audit';
import { fail, notFound } from './errors';

export const delegationService = {
  list(sql: Sql, orgId: string, filters: DelegationFilters, page: PageRequest) {
    return delegationStore.list(sql, orgId, filters, page);
  },

  /** Revokes it and its descendants; `revoked` lists those this call revoked (empty when it already was). */
  async revoke(sql: Sql, orgId: string, id: string): Promise<{ delegation: DelegationRecord; revoked: DelegationRecord[] }> {
    // Locks in the order a token exchange's commit takes them, the audit chain's head before
    // the delegation (migration 0010), so the two wait for each other instead of deadlocking.
    await auditStore.lockHead(sql, chainOf(orgId));
    const { root, revoked } = await delegationStore.revokeWithDescendants(sql, orgId, id);
    return { delegation: root ?? fail(notFound('DELEGATION_NOT_FOUND', `No delegation ${id} in this organization.`)), revoked };
  },
};
