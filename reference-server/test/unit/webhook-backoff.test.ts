import { describe, expect, it } from '@jest/globals';
import { retryDelayMs } from '../../src/workers/webhooks/delivery-worker';

describe('the webhook retry schedule', () => {
  it('grows four-fold per attempt from the base, less up to 25 % jitter', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, 30_000, null, () => 0))).toEqual([30_000, 120_000, 480_000, 1_920_000]);
    expect(retryDelayMs(2, 30_000, null, () => 1)).toBe(90_000);
  });

  it('spans about a day over the default 8 attempts, each wait capped at 12 hours', () => {
    const waits = [1, 2, 3, 4, 5, 6, 7].map((attempt) => retryDelayMs(attempt, 30_000, null, () => 0));
    expect(Math.max(...waits)).toBe(12 * 3600 * 1000);
    expect(waits.reduce((a, b) => a + b, 0) / 3_600_000).toBeGreaterThan(20);
    expect(waits.reduce((a, b) => a + b, 0) / 3_600_000).toBeLessThan(26);
  });

  it('waits at least as long as a Retry-After asks', () => {
    expect(retryDelayMs(1, 50, 5_000, () => 0)).toBe(5_000);
    expect(retryDelayMs(3, 30_000, 1_000, () => 0)).toBe(480_000);
  });
});
