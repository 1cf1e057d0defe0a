import { ApiError } from './errors';
import { OAuthError } from './oauth-errors';

/** An organization's plan; its quotas come from the server's configuration. */
export const PLANS = ['free', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

export const QUOTA_NAMES = ['activeAgents', 'tokensPerMonth', 'apiCallsPerMinute'] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];

/** What an organization may use; null is unlimited. */
export type Quotas = Record<QuotaName, number | null>;

/** An organization's own quotas, each replacing its plan's. */
export type QuotaOverrides = Partial<Quotas>;

/** Out of the box; MANDATE_PLAN_QUOTAS changes any of them. */
export const DEFAULT_PLAN_QUOTAS: Record<Plan, Quotas> = {
  free: { activeAgents: 10, tokensPerMonth: 100_000, apiCallsPerMinute: 600 },
  pro: { activeAgents: 1_000, tokensPerMonth: 10_000_000, apiCallsPerMinute: 6_000 },
  enterprise: { activeAgents: null, tokensPerMonth: null, apiCallsPerMinute: null },
};

export interface PlanSettings {
  /** The plan of an organization created without one (MANDATE_DEFAULT_PLAN). */
  defaultPlan: Plan;
  quotas: Record<Plan, Quotas>;
}

/** The quotas in force: the plan's, with the organization's overrides applied. */
export function effectiveQuotas(settings: PlanSettings, plan: Plan, overrides: QuotaOverrides): Quotas {
  return { ...settings.quotas[plan], ...overrides };
}

const isQuotaValue = (name: QuotaName, value: unknown): value is number | null =>
  value === null || (Number.isSafeInteger(value) && (value as number) >= (name === 'apiCallsPerMinute' ? 1 : 0));

/**
 * MANDATE_PLAN_QUOTAS: JSON of the plans to change, each with the quotas to change, such as
 * `{"free":{"activeAgents":3},"pro":{"tokensPerMonth":null}}`. Problems are collected, not thrown.
 */
export function parsePlanQuotas(json: string | null, problems: string[]): Record<Plan, Quotas> {
  const quotas = structuredClone(DEFAULT_PLAN_QUOTAS);
  if (json === null) return quotas;
  const name = 'MANDATE_PLAN_QUOTAS';
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    problems.push(`${name} must be JSON, such as {"free":{"activeAgents":3}}.`);
    return quotas;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`${name} must be a JSON object of plans.`);
    return quotas;
  }
  for (const [plan, changes] of Object.entries(parsed)) {
    if (!(PLANS as readonly string[]).includes(plan)) {
      problems.push(`${name}: unknown plan "${plan}" (plans: ${PLANS.join(', ')}).`);
      continue;
    }
    if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
      problems.push(`${name}.${plan} must be an object of quotas.`);
      continue;
    }
    for (const [quota, value] of Object.entries(changes as Record<string, unknown>)) {
      if (!(QUOTA_NAMES as readonly string[]).includes(quota)) {
        problems.push(`${name}.${plan}: unknown quota "${quota}" (quotas: ${QUOTA_NAMES.join(', ')}).`);
      } else if (!isQuotaValue(quota as QuotaName, value)) {
        problems.push(`${name}.${plan}.${quota} must be a whole number (at least ${quota === 'apiCallsPerMinute' ? 1 : 0}) or null for unlimited.`);
      } else {
        quotas[plan as Plan][quota as QuotaName] = value;
      }
    }
  }
  return quotas;
}

/** What a refusal says about its quota, as the `quota` member of the problem or OAuth error. */
export interface QuotaRefusal {
  name: QuotaName;
  limit: number;
  resetAt: string | null;
}

/** The first day of the month after `now`, in UTC: when a month's token count starts again. */
export function nextMonthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

/** The organization already has its `activeAgents`: only decommissioning one makes room. */
export function activeAgentsExceeded(limit: number): ApiError {
  const quota: QuotaRefusal = { name: 'activeAgents', limit, resetAt: null };
  return new ApiError(403, 'QUOTA_EXCEEDED', 'Quota exceeded', `The organization's plan allows ${limit} active agents; decommission one, or raise the quota, to register another.`, [], {}, { quota });
}

/** The organization issued its month's tokens (the token endpoint's OAuth error). */
export function tokensPerMonthExceeded(limit: number, now: Date): OAuthError {
  const quota: QuotaRefusal = { name: 'tokensPerMonth', limit, resetAt: nextMonthStart(now).toISOString() };
  return new OAuthError('quota_exceeded', `The organization has issued its ${limit} tokens for this month.`, 403, { quota });
}

/** The organization's callers together made its `apiCallsPerMinute`. */
export function apiCallsExceeded(limit: number, retryAfterSeconds: number, now: number): ApiError {
  const quota: QuotaRefusal = { name: 'apiCallsPerMinute', limit, resetAt: new Date(now + retryAfterSeconds * 1000).toISOString() };
  const detail = `The organization's plan allows ${limit} API calls a minute, all its callers together. Retry in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`;
  return new ApiError(429, 'QUOTA_EXCEEDED', 'Quota exceeded', detail, [], {}, { quota });
}
