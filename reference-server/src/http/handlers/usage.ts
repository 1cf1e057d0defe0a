import { orgService } from '../../domain/orgs';
import { usagePeriod, usageReport } from '../../domain/usage';
import { type Handler, orgOf } from '../handler';

/** The Usage tag: an organization's daily usage against its plan. */
export const usageHandlers: Record<string, Handler> = {
  async getUsage(call) {
    const now = new Date();
    const orgId = orgOf(call);
    const period = usagePeriod({ from: call.query.from as string | undefined, to: call.query.to as string | undefined }, now);
    const org = await orgService.get(call.sql, orgId);
    const report = await usageReport(call.sql, { id: orgId, plan: org.plan, quotas: call.services.plans.quotasOf(org) }, period, now);
    return { status: 200, body: report };
  },
};
