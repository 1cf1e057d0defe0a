import { delegationService } from '../../domain/delegations';
import type { DelegationFilters } from '../../store/delegations';
import { type Handler, orgOf, pageOf, pageReply } from '../handler';
import { delegationJson } from '../representations';

/** The Delegations tag: the record of token exchanges, and their revocation. */
export const delegationHandlers: Record<string, Handler> = {
  async listDelegations(call) {
    const { subjectAgentId, actorAgentId, active } = call.query as { subjectAgentId?: string; actorAgentId?: string; active?: boolean };
    const filters: DelegationFilters = { subjectAgentId, actorAgentId, active };
    return pageReply(await delegationService.list(call.sql, orgOf(call), filters, pageOf(call, 'dlg')), delegationJson);
  },
  async revokeDelegation(call) {
    const { delegation, revoked } = await delegationService.revoke(call.sql, orgOf(call), String(call.path.delegationId));
    const audit = revoked.map((d) => ({
      action: 'delegation.revoked',
      target: { type: 'delegation', id: d.id },
      metadata: { subjectAgentId: d.subjectAgentId, actorAgentId: d.actorAgentId, ...(d.id === delegation.id ? {} : { becauseOf: delegation.id }) },
    }));
    return {
      status: 200,
      body: delegationJson(delegation),
      audit,
      // Every instance refuses the delegations' tokens before we answer.
      afterCommit: async () => {
        for (const d of revoked) await call.services.tokenState.revoked(d.id, d.expiresAt);
      },
    };
  },
};
