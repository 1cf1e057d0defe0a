import type { Cache } from '../cache/cache';

/**
 * A rate limit: `perMinute` requests a minute, by GCRA (src/cache/gcra.ts) with the whole
 * minute's quota as the burst. So 600 a minute is up to 600 at once after a quiet minute, and
 * one every 100 ms at a sustained pace: capacity comes back continuously, never all at a
 * window's edge.
 */
export interface RatePolicy {
  /** The policy's name in the RateLimit-Policy and RateLimit headers. */
  name: string;
  perMinute: number;
}

/** Where one policy stands for one key after a request. */
export interface RateState {
  policy: RatePolicy;
  /** Requests that would be accepted right now. */
  remaining: number;
  /** Seconds until the whole burst is available again. */
  resetSeconds: number;
  /** Whether this policy refused the request. */
  refused: boolean;
}

export interface RateVerdict {
  allowed: boolean;
  /** Each policy that could be checked (a policy whose store failed is left out: fail open). */
  states: RateState[];
  /** When refused: seconds until a request would be accepted. */
  retryAfterSeconds: number;
}

export interface RateLimitObserver {
  refused(policy: string): void;
  /** The shared store did not answer: the request goes through unlimited. */
  failedOpen(policy: string, error: unknown): void;
}

function shape(policy: RatePolicy): { intervalUs: number; burst: number; toleranceUs: number } {
  const intervalUs = 60_000_000 / policy.perMinute;
  const burst = policy.perMinute;
  return { intervalUs, burst, toleranceUs: intervalUs * (burst - 1) };
}

/** Checks requests against rate limits kept in the shared cache, so all instances share them. */
export class RateLimiter {
  constructor(
    private readonly cache: Cache,
    private readonly observer: RateLimitObserver,
  ) {}

  /** One request against each `{ policy, key }`; refused when any policy refuses it. */
  async check(limits: { policy: RatePolicy; key: string }[]): Promise<RateVerdict> {
    const checked = await Promise.all(limits.map(({ policy, key }) => this.one(policy, key)));
    const states = checked.filter((state) => state !== null);
    const waits = states.filter((state) => state.refused).map((state) => state.retryAfterUs);
    return {
      allowed: waits.length === 0,
      states: states.map(({ policy, remaining, resetSeconds, refused }) => ({ policy, remaining, resetSeconds, refused })),
      retryAfterSeconds: waits.length === 0 ? 0 : Math.max(1, Math.ceil(Math.max(...waits) / 1e6)),
    };
  }

  private async one(policy: RatePolicy, key: string): Promise<(RateState & { retryAfterUs: number }) | null> {
    const { intervalUs, toleranceUs } = shape(policy);
    try {
      const { allowed, tatUs, nowUs } = await this.cache.gcra(`rate:${policy.name}:${key}`, intervalUs, toleranceUs);
      const ahead = tatUs - nowUs;
      if (!allowed) this.observer.refused(policy.name);
      return {
        policy,
        remaining: allowed ? Math.max(0, Math.floor((toleranceUs - ahead) / intervalUs) + 1) : 0,
        resetSeconds: Math.max(0, Math.ceil(ahead / 1e6)),
        refused: !allowed,
        retryAfterUs: allowed ? 0 : ahead - toleranceUs,
      };
    } catch (error) {
      this.observer.failedOpen(policy.name, error);
      return null;
    }
  }
}

/**
 * The IETF RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers): each
 * policy as its quota `q` per `w` = 60 seconds, and where this key stands (`r` requests it
 * may send at once, `t` seconds until its whole quota is back).
 */
export function rateLimitHeaders(states: RateState[]): Record<string, string> {
  if (states.length === 0) return {};
  const policies = states.map(({ policy }) => {
    return `"${policy.name}";q=${policy.perMinute};w=60`;
  });
  const standing = states.map((state) => `"${state.policy.name}";r=${state.remaining};t=${state.resetSeconds}`);
  return { 'RateLimit-Policy': policies.join(', '), RateLimit: standing.join(', ') };
}
