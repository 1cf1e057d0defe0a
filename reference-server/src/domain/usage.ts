import type { Sql } from '../store/database';
import { orgStore } from '../store/orgs';
import { type UsageDay, usageStore } from '../store/usage';
import { badRequest } from './errors';
import { type Plan, type Quotas, nextMonthStart } from './plans';

const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

export interface UsageReport {
  orgId: string;
  plan: Plan;
  quotas: Quotas;
  from: string;
  to: string;
  currentMonth: Omit<UsageDay, 'date'> & { resetAt: string };
  days: UsageDay[];
}

const MAX_DAYS = 366;
const DAY_MS = 86_400_000;

/** The days asked for (default: this month so far), checked: in order, at most 366. */
export function usagePeriod(query: { from?: string; to?: string }, now: Date): { from: string; to: string } {
  const today = utcDay(now);
  const to = query.to ?? today;
  const from = query.from ?? `${today.slice(0, 8)}01`;
  const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
  if (days < 1) throw badRequest('INVALID_PERIOD', `from (${from}) is after to (${to}).`);
  if (days > MAX_DAYS) throw badRequest('INVALID_PERIOD', `At most ${MAX_DAYS} days at once; ${from} to ${to} is ${days}.`);
  return { from, to };
}

/** The organization's usage per day, with its plan and this month's count against its quotas. */
export async function usageReport(
  sql: Sql,
  org: { id: string; plan: Plan; quotas: Quotas },
  period: { from: string; to: string },
  now: Date,
): Promise<UsageReport> {
  const monthStart = `${utcDay(now).slice(0, 8)}01`;
  const days = await usageStore.days(sql, org.id, period.from, period.to);
  const month = (await usageStore.monthTotals(sql, [org.id], monthStart)).get(org.id) ?? { tokensIssued: 0, apiCalls: 0, failedAuthentications: 0 };
  const activeAgents = await orgStore.liveAgentCount(sql, org.id);
  return {
    orgId: org.id,
    plan: org.plan,
    quotas: org.quotas,
    ...period,
    currentMonth: { ...month, activeAgents, resetAt: nextMonthStart(now).toISOString() },
    days,
  };
}
