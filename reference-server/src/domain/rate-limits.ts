import type { Cache } from '../cache/cache';
import type { GcraResult } from '../cache/gcra';

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
  /** Each policy checked (none when the store did not answer: fail open). */
  states: RateState[];
  /** When refused: seconds until a request would be accepted. */
  retryAfterSeconds: number;
}

export interface RateLimitObserver {
  refused(policy: string): void;
  /** The shared store did not answer: the request goes through unlimited. */
  failedOpen(policy: string, error: unknown): void;
}

/** GCRA's parameters for a policy: one request per interval, the whole minute's quota at once. */
function shape(policy: RatePolicy): { intervalUs: number; toleranceUs: number } {
  const intervalUs = 60_000_000 / policy.perMinute;
  return { intervalUs, toleranceUs: intervalUs * (policy.perMinute - 1) };
}

/** Checks requests against rate limits kept in the shared cache, so all instances share them. */
export class RateLimiter {
  constructor(
    private readonly cache: Cache,
    private readonly observer: RateLimitObserver,
  ) {}

  /** One request against each `{ policy, key }` (one store round trip); refused when any policy refuses it. */
  async check(limits: { policy: RatePolicy; key: string }[]): Promise<RateVerdict> {
    if (limits.length === 0) return { allowed: true, states: [], retryAfterSeconds: 0 };
    const checks = limits.map(({ policy, key }) => ({ policy, key: `rate:${policy.name}:${key}`, ...shape(policy) }));
    let results: GcraResult[];
    try {
      results = await this.cache.gcra(checks);
    } catch (error) {
      for (const { policy } of limits) this.observer.failedOpen(policy.name, error);
      return { allowed: true, states: [], retryAfterSeconds: 0 };
    }
    let retryAfterUs = 0;
    const states = checks.map(({ policy, intervalUs, toleranceUs }, i): RateState => {
      const { allowed, tatUs, nowUs } = results[i] ?? { allowed: true, tatUs: 0, nowUs: 0 };
      const ahead = tatUs - nowUs;
      if (!allowed) {
        this.observer.refused(policy.name);
        retryAfterUs = Math.max(retryAfterUs, ahead - toleranceUs);
      }
      return {
        policy,
        remaining: allowed ? Math.max(0, Math.floor((toleranceUs - ahead) / intervalUs) + 1) : 0,
        resetSeconds: Math.max(0, Math.ceil(ahead / 1e6)),
        refused: !allowed,
      };
    });
    const refused = states.some((state) => state.refused);
    return { allowed: !refused, states, retryAfterSeconds: refused ? Math.max(1, Math.ceil(retryAfterUs / 1e6)) : 0 };
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
