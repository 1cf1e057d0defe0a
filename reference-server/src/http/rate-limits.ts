import type { Context } from 'koa';
import type { RateLimitSettings } from '../config';
import { type RateLimitObserver, RateLimiter, type RatePolicy, type RateVerdict, rateLimitHeaders } from '../domain/rate-limits';
import type { Cache } from '../cache/cache';
import { ApiError } from '../domain/errors';
import { OAuthError } from '../domain/oauth-errors';
import type { Metrics } from '../observability/metrics';
import type { Logger } from '../observability/logger';

/** The server's rate limits by route (MANDATE_RATE_LIMIT_* settings; all off with MANDATE_RATE_LIMITS=off). */
export interface RoutePolicies {
  tokenPerClient: RatePolicy;
  tokenPerAddress: RatePolicy;
  apiPerCaller: RatePolicy;
  registrationPerAddress: RatePolicy;
  directoryPerAddress: RatePolicy;
  devicePerAddress: RatePolicy;
  devicePerClient: RatePolicy;
}

/** How long one log line about an unreachable limiter store stands for the failures after it. */
const FAILURE_LOG_INTERVAL_MS = 10_000;

/** Counts refusals and store failures; logs a failure at most every 10 s, so an outage does not flood the log. */
function observer(metrics: Metrics, logger: Logger): RateLimitObserver {
  let lastLogged = 0;
  return {
    refused(policy) {
      metrics.rateLimited.inc({ policy });
    },
    failedOpen(policy, error) {
      metrics.rateLimiterFailures.inc({ policy });
      if (Date.now() - lastLogged < FAILURE_LOG_INTERVAL_MS) return;
      lastLogged = Date.now();
      logger.warn({ err: error, policy }, 'rate limiter store unreachable: requests pass unlimited until it answers again');
    },
  };
}

/** Checks requests against the route's policies, answering with the RateLimit headers, or refusing. */
export class RateLimits {
  readonly policies: RoutePolicies;
  private readonly limiter: RateLimiter | null;

  constructor(perMinute: RateLimitSettings, devicePerMinute: number, cache: Cache, metrics: Metrics, logger: Logger) {
    this.limiter = perMinute.enabled ? new RateLimiter(cache, observer(metrics, logger)) : null;
    this.policies = {
      tokenPerClient: { name: 'token-client', perMinute: perMinute.tokenPerClient },
      tokenPerAddress: { name: 'token-address', perMinute: perMinute.tokenPerAddress },
      apiPerCaller: { name: 'api-caller', perMinute: perMinute.apiPerCaller },
      registrationPerAddress: { name: 'registration-address', perMinute: perMinute.registrationPerAddress },
      directoryPerAddress: { name: 'directory-address', perMinute: perMinute.directoryPerAddress },
      devicePerAddress: { name: 'device-address', perMinute: devicePerMinute },
      devicePerClient: { name: 'device-client', perMinute: devicePerMinute },
    };
  }

  /**
   * One request against each `{ policy, key }` (a missing key is not checked). Sets the
   * RateLimit headers; when refused, sets Retry-After and throws what `refuse` makes of it.
   */
  async enforce(ctx: Context, limits: { policy: RatePolicy; key: string | undefined }[], refuse: (verdict: RateVerdict) => Error): Promise<void> {
    if (this.limiter === null) return;
    const verdict = await this.limiter.check(limits.flatMap(({ policy, key }) => (key === undefined ? [] : [{ policy, key }])));
    ctx.set(rateLimitHeaders(verdict.states));
    if (verdict.allowed) return;
    ctx.set('Retry-After', String(verdict.retryAfterSeconds));
    throw refuse(verdict);
  }
}

/** The OAuth endpoints' refusal (an RFC 6749 §5.2 document with status 429). */
export const tooManyRequests = (verdict: RateVerdict): OAuthError => new OAuthError('too_many_requests', refusalDetail(verdict));

/** The management API's refusal (a problem). */
export const rateLimited = (verdict: RateVerdict): ApiError => new ApiError(429, 'RATE_LIMITED', 'Too many requests', refusalDetail(verdict));

/** The sentence a refusal gives: which limit, and when to come back. */
function refusalDetail(verdict: RateVerdict): string {
  const spent = verdict.states.filter((state) => state.refused).map((state) => `${state.policy.name} (${state.policy.perMinute} a minute)`);
  return `Rate limit reached: ${spent.join(', ')}. Retry in ${verdict.retryAfterSeconds} second${verdict.retryAfterSeconds === 1 ? '' : 's'}.`;
}
