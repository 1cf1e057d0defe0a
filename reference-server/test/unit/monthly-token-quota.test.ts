import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { MonthlyTokenQuota, type OrgPlans } from '../../src/domain/quotas';
import type { Database } from '../../src/store/database';

const ORG = 'org_quota';

/**
 * The quota over a stand-in for the database: `usage.recorded` is what the usage table says
 * the organization was issued this month (the audit trigger's count), read on every refresh.
 */
function quotaOf(tokensPerMonth: number): { quota: MonthlyTokenQuota; usage: { recorded: number } } {
  const usage = { recorded: 0 };
  const sql = {
    query: () => Promise.resolve([{ orgId: ORG, tokensIssued: usage.recorded, apiCalls: 0, failedAuthentications: 0 }]),
  };
  const db = { ownerTransaction: (work: (s: typeof sql) => Promise<unknown>) => work(sql) } as unknown as Database;
  const plans = { current: () => Promise.resolve({ plan: 'free', quotas: { tokensPerMonth, activeAgents: null, apiCallsPerMinute: null } }) } as unknown as OrgPlans;
  return { quota: new MonthlyTokenQuota(db, plans), usage };
}

/** Lets the once-a-second read of the month's usage run, and finish. */
async function aRefresh(): Promise<void> {
  await jest.advanceTimersByTimeAsync(1000);
}

describe('MonthlyTokenQuota', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('does not forget a token whose record has not committed when the month is read again', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const { quota, usage } = quotaOf(1);
    quota.start();
    const first = await quota.admit(ORG);
    // The read happens while the first token is between its admission and its audit event.
    await aRefresh();
    await expect(quota.admit(ORG)).rejects.toMatchObject({ error: 'quota_exceeded' });
    usage.recorded = 1; // its audit event commits, and the trigger counts it
    first.settle(true);
    await expect(quota.admit(ORG)).rejects.toMatchObject({ error: 'quota_exceeded' });
    await aRefresh();
    await expect(quota.admit(ORG)).rejects.toMatchObject({ error: 'quota_exceeded' });
    await quota.stop();
  });

  it('counts a recorded token once the read that includes it has replaced this instance\'s own count', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const { quota, usage } = quotaOf(2);
    quota.start();
    (await quota.admit(ORG)).settle(true);
    usage.recorded = 1;
    await aRefresh();
    // One recorded by the read, none counted twice: the second token of two still fits.
    (await quota.admit(ORG)).settle(true);
    await expect(quota.admit(ORG)).rejects.toMatchObject({ error: 'quota_exceeded' });
    await quota.stop();
  });

  it('gives the place back when the token was not issued after all', async () => {
    const { quota } = quotaOf(1);
    const failed = await quota.admit(ORG);
    failed.settle(false);
    failed.settle(true); // a second settle changes nothing
    const issued = await quota.admit(ORG);
    issued.settle(true);
    await expect(quota.admit(ORG)).rejects.toMatchObject({ error: 'quota_exceeded' });
  });
});
