import type { Database, Sql } from '../store/database';
import { orgStore } from '../store/orgs';
import { usageStore } from '../store/usage';
import { type QuotaAdmission, type TokenQuota, UNCOUNTED } from './access-tokens';
import { type Plan, type PlanSettings, type QuotaOverrides, type Quotas, activeAgentsExceeded, effectiveQuotas, tokensPerMonthExceeded } from './plans';

/** How long an organization's plan is remembered: a change made on another instance applies within this. */
const PLAN_TTL_MS = 5_000;
/** How often this instance reads the month's token counts that every instance wrote. */
const MONTH_REFRESH_MS = 1_000;

export interface OrgPlan {
  plan: Plan;
  quotas: Quotas;
}

/** Each organization's plan and the quotas in force, from its row and the server's plan settings. */
export class OrgPlans {
  private readonly cached = new Map<string, { plan: OrgPlan; until: number }>();

  constructor(
    private readonly db: Database,
    readonly settings: PlanSettings,
  ) {}

  /** The quotas in force for an organization record. */
  quotasOf(org: { plan: Plan; quotaOverrides: QuotaOverrides }): Quotas {
    return effectiveQuotas(this.settings, org.plan, org.quotaOverrides);
  }

  /** The organization's plan, remembered for a few seconds; an unknown organization has no quota. */
  async current(orgId: string): Promise<OrgPlan> {
    const hit = this.cached.get(orgId);
    if (hit !== undefined && hit.until > Date.now()) return hit.plan;
    const org = await this.db.ownerTransaction((sql) => orgStore.find(sql, orgId));
    const plan = org === null ? { plan: 'enterprise' as const, quotas: effectiveQuotas(this.settings, 'enterprise', {}) } : { plan: org.plan, quotas: this.quotasOf(org) };
    this.cached.set(orgId, { plan, until: Date.now() + PLAN_TTL_MS });
    return plan;
  }

  /** After this instance changed the organization's plan: the next call reads it again. */
  forget(orgId: string): void {
    this.cached.delete(orgId);
  }

  /**
   * Refuses a new agent when the organization's active agents already reach its quota, read in
   * the registration's own transaction. Agents are counted under a transaction-scoped lock per
   * organization, so two registrations at once cannot both take the last place.
   */
  async admitAgent(sql: Sql, orgId: string): Promise<void> {
    const org = await orgStore.find(sql, orgId);
    if (org === null) return; // the registration fails on its own: no such organization
    const quotas = this.quotasOf(org);
    if (quotas.activeAgents === null) return;
    await sql.query(`SELECT pg_advisory_xact_lock(hashtextextended('mandate.agents:' || $1, 0))`, [orgId]);
    if ((await orgStore.liveAgentCount(sql, orgId)) >= quotas.activeAgents) throw activeAgentsExceeded(quotas.activeAgents);
  }
}

const monthOf = (at: Date): string => at.toISOString().slice(0, 7);

interface MonthCount {
  month: string;
  /** Tokens every instance had recorded when last read. */
  recorded: number;
  /** This instance's tokens recorded (their audit events committed) since that read began. */
  committed: number;
  /** This instance's tokens admitted and not yet recorded or failed. */
  pending: number;
}

/**
 * The tokensPerMonth quota. The month's count is what every instance recorded (usage, read
 * every second), plus this instance's tokens recorded since that read began, plus its tokens
 * admitted and not yet recorded. A read forgets only tokens whose record had committed before
 * it began, so on one instance the quota holds exactly (a token recorded while a read runs may
 * be counted twice until the next read: early refusal, never a token too many); across
 * instances, the others' tokens of the last second are seen a second late. Only organizations
 * with a quota are tracked.
 */
export class MonthlyTokenQuota implements TokenQuota {
  private readonly counts = new Map<string, MonthCount>();
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly db: Database,
    private readonly plans: OrgPlans,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      // A failed read keeps the figures it had; the next second tries again.
      this.refreshing ??= this.refresh()
        .catch(() => undefined)
        .finally(() => {
          this.refreshing = null;
        });
    }, MONTH_REFRESH_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.refreshing;
  }

  /**
   * Takes one token of the organization's month, or refuses with `quota_exceeded`. The
   * caller settles the admission once the token is recorded, or has failed.
   */
  async admit(orgId: string, now: Date = new Date()): Promise<QuotaAdmission> {
    const { quotas } = await this.plans.current(orgId);
    const limit = quotas.tokensPerMonth;
    if (limit === null) return UNCOUNTED;
    let count = this.counts.get(orgId);
    if (count?.month !== monthOf(now)) {
      const month = monthOf(now);
      const recorded = await this.db.ownerTransaction((sql) => usageStore.monthTotals(sql, [orgId], `${month}-01`));
      // Another request of the same organization may have read it meanwhile: keep its admissions.
      count = this.counts.get(orgId);
      if (count?.month !== month) {
        count = { month, recorded: recorded.get(orgId)?.tokensIssued ?? 0, committed: 0, pending: 0 };
        this.counts.set(orgId, count);
      }
    }
    if (count.recorded + count.committed + count.pending >= limit) throw tokensPerMonthExceeded(limit, now);
    const admitted = count;
    admitted.pending += 1;
    let settled = false;
    return {
      settle: (recordedNow) => {
        if (settled) return;
        settled = true;
        admitted.pending -= 1;
        // A failed record that did commit after all is in the next read's usage.
        if (recordedNow) admitted.committed += 1;
      },
    };
  }

  /** Reads every tracked organization's month again; tokens not recorded before the read began stay counted. */
  private async refresh(now: Date = new Date()): Promise<void> {
    const month = monthOf(now);
    const tracked = [...this.counts].filter(([, count]) => count.month === month);
    for (const [orgId, count] of this.counts) if (count.month !== month) this.counts.delete(orgId);
    if (tracked.length === 0) return;
    const before = new Map(tracked.map(([orgId, count]) => [orgId, count.committed]));
    const recorded = await this.db.ownerTransaction((sql) => usageStore.monthTotals(sql, [...before.keys()], `${month}-01`));
    for (const [orgId, committedBefore] of before) {
      const count = this.counts.get(orgId);
      if (count?.month !== month) continue;
      count.recorded = recorded.get(orgId)?.tokensIssued ?? 0;
      count.committed -= committedBefore;
    }
  }
}
