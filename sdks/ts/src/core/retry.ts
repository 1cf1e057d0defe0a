/** Statuses worth another attempt: timeouts, lock conflicts, rate limits and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

const INITIAL_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * The wait before retry number `retry` (0 for the first retry): the server's `retry-after-ms`
 * or `Retry-After` (seconds or an HTTP date) when it is between 0 and 60 s, else exponential
 * backoff capped at 8 s, less up to 25 % jitter so that clients do not retry in step.
 */
export function retryDelay(retry: number, headers: Headers | undefined, now: number, random: () => number): number {
  const fromServer = headers === undefined ? undefined : retryAfter(headers, now);
  return fromServer ?? backoff(retry, INITIAL_DELAY_MS, MAX_DELAY_MS, random);
}

/** `initialMs` doubled per retry up to `maxMs`, less up to 25 % jitter. */
export function backoff(retry: number, initialMs: number, maxMs: number, random: () => number): number {
  return Math.min(initialMs * 2 ** retry, maxMs) * (1 - 0.25 * random());
}

/** The server's requested wait (`retry-after-ms`, `Retry-After`) in ms, when within 60 s. */
export function retryAfter(headers: Headers, now: number): number | undefined {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (withinLimit(ms)) return ms;
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - now;
  return withinLimit(seconds) ? seconds : undefined;
}

const withinLimit = (ms: number): boolean => Number.isFinite(ms) && ms >= 0 && ms <= MAX_RETRY_AFTER_MS;
