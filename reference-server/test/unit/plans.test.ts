import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config';
import { DEFAULT_PLAN_QUOTAS, effectiveQuotas, nextMonthStart, parsePlanQuotas } from '../../src/domain/plans';

describe('MANDATE_PLAN_QUOTAS', () => {
  it('changes only the quotas it names', () => {
    const problems: string[] = [];
    const quotas = parsePlanQuotas('{"free":{"activeAgents":3},"pro":{"tokensPerMonth":null}}', problems);
    expect(problems).toEqual([]);
    expect(quotas.free).toEqual({ ...DEFAULT_PLAN_QUOTAS.free, activeAgents: 3 });
    expect(quotas.pro).toEqual({ ...DEFAULT_PLAN_QUOTAS.pro, tokensPerMonth: null });
    expect(quotas.enterprise).toEqual(DEFAULT_PLAN_QUOTAS.enterprise);
  });

  it('collects every problem, naming the plan and quota', () => {
    const problems: string[] = [];
    parsePlanQuotas('{"gold":{},"free":{"seats":1,"apiCallsPerMinute":0,"activeAgents":1.5},"pro":[]}', problems);
    expect(problems).toEqual([
      'MANDATE_PLAN_QUOTAS: unknown plan "gold" (plans: free, pro, enterprise).',
      'MANDATE_PLAN_QUOTAS.free: unknown quota "seats" (quotas: activeAgents, tokensPerMonth, apiCallsPerMinute).',
      'MANDATE_PLAN_QUOTAS.free.apiCallsPerMinute must be a whole number (at least 1) or null for unlimited.',
      'MANDATE_PLAN_QUOTAS.free.activeAgents must be a whole number (at least 0) or null for unlimited.',
      'MANDATE_PLAN_QUOTAS.pro must be an object of quotas.',
    ]);
    expect(parsePlanQuotas('not json', [])).toEqual(DEFAULT_PLAN_QUOTAS);
  });

  it('is read with MANDATE_DEFAULT_PLAN by the configuration, and refused there when wrong', () => {
    const base = { MANDATE_DATA_DIR: '/tmp/mandate-plans-unit' };
    expect(loadConfig(base).plans.defaultPlan).toBe('enterprise');
    expect(loadConfig({ ...base, MANDATE_DEFAULT_PLAN: 'free', MANDATE_PLAN_QUOTAS: '{"free":{"activeAgents":2}}' }).plans).toMatchObject({ defaultPlan: 'free', quotas: { free: { activeAgents: 2 } } });
    expect(() => loadConfig({ ...base, MANDATE_DEFAULT_PLAN: 'gold' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, MANDATE_PLAN_QUOTAS: '[]' })).toThrow(/MANDATE_PLAN_QUOTAS must be a JSON object of plans/);
  });
});

describe('quotas in force', () => {
  it('are the plan’s with the organization’s overrides on top', () => {
    const settings = { defaultPlan: 'enterprise' as const, quotas: DEFAULT_PLAN_QUOTAS };
    expect(effectiveQuotas(settings, 'free', { tokensPerMonth: null })).toEqual({ activeAgents: 10, tokensPerMonth: null, apiCallsPerMinute: 600 });
  });

  it('reset the month’s tokens at the next month’s start in UTC', () => {
    expect(nextMonthStart(new Date('2026-12-31T23:59:59.999Z')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(nextMonthStart(new Date('2027-01-31T00:00:00.000Z')).toISOString()).toBe('2027-02-01T00:00:00.000Z');
  });
});
