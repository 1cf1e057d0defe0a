import type { Logger } from './log.js';

/** The clock and randomness the client uses; tests pass their own to control time. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
}

export interface ClientOptions {
  /** Defaults to `MANDATE_BASE_URL`, then the spec's server. */
  baseURL?: string;
  /** An admin API token (`mdt_pat_…`); defaults to `MANDATE_API_TOKEN`. */
  apiToken?: string;
  /** An agent's client id; defaults to `MANDATE_CLIENT_ID`. */
  clientId?: string;
  /** The agent credential's secret; defaults to `MANDATE_CLIENT_SECRET`. */
  clientSecret?: string;
  /** Space-separated scopes to request with client credentials (default: all the agent's). */
  scope?: string;
  /** Sent as `Mandate-Organization` where an operation accepts it; defaults to `MANDATE_ORGANIZATION`. */
  organization?: string;
  /** Further attempts after a retryable failure. Default 2. */
  maxRetries?: number;
  /** Per attempt, in milliseconds. Default 60 000. */
  timeout?: number;
  /** Sent with every request. */
  defaultHeaders?: Record<string, string>;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** `debug` logs every attempt (never secrets); defaults to `MANDATE_LOG`, else `warn`. */
  logLevel?: LogLevel;
  /** Defaults to `console`. */
  logger?: Logger;
  /** For tests: time, sleeping and jitter. */
  clock?: Clock;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';

export interface RequestOptions {
  /** Overrides the client's organization for this call. */
  organization?: string;
  /** Overrides the generated key; the same key is reused across this call's retries. */
  idempotencyKey?: string;
  headers?: Record<string, string>;
  timeout?: number;
  maxRetries?: number;
  signal?: AbortSignal;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

/** Reads a variable where `process` exists (Node, Bun, Deno with compat); elsewhere nothing. */
export function readEnv(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
