import type { GcraCheck, GcraResult } from './gcra';

/**
 * Shared fast state between server instances (Redis in production, in-process on the
 * embedded default). Nothing in it is the only copy of data: PostgreSQL is the record.
 */
export interface Cache {
  readonly kind: 'redis' | 'memory';
  /** Sets `key` unless it exists; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Adds one to the counter at `key` (created at 1, expiring after `ttlSeconds`); the new count. */
  increment(key: string, ttlSeconds: number): Promise<number>;
  /**
   * One request against each rate limit (GCRA, see gcra.ts), in one round trip: each paced
   * at one per `intervalUs`, with bursts up to `toleranceUs / intervalUs + 1`.
   */
  gcra(checks: readonly GcraCheck[]): Promise<GcraResult[]>;
  get(key: string): Promise<string | null>;
  /** Several keys in one round trip, in order. */
  getMany(keys: string[]): Promise<(string | null)[]>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Tells every instance's subscribers of `channel`. At most once: a message may be lost. */
  publish(channel: string, message: string): Promise<void>;
  /** Calls `listener` with each message published on `channel`, until the returned function runs. */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type CacheTimer = (operation: string, seconds: number) => void;
