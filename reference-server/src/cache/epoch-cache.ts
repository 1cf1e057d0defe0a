import { randomUUID } from 'node:crypto';
import type { Cache } from './cache';

export interface EpochCacheOptions {
  /** Off: every read loads (instances that do not share one cache must not trust theirs). */
  enabled: boolean;
  /** Bounds how long an entry can outlive a change whose epoch write was lost. */
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

/** The epoch key itself may expire: a missing epoch is replaced, which only costs reloads. */
const EPOCH_TTL_SECONDS = 86_400;

/**
 * An in-process copy of records that change rarely and are read on every request (admin
 * tokens), kept coherent across instances by an epoch in the shared cache. Every change sets
 * a fresh random epoch after it commits and before it is acknowledged; an entry is used only
 * while the shared epoch is still the one it was loaded under, so a change made through any
 * instance is seen by the next request on every other. That costs one cache read per lookup
 * instead of a database round trip.
 *
 * The epoch is read before the record is loaded: a change that commits in between moves the
 * epoch after the load, and the entry is then never used. With the shared cache down the
 * database answers every lookup.
 */
export class EpochCache<V> {
  private readonly entries = new Map<string, { value: V; epoch: string; loadedAt: number }>();
  private readonly epochKey: string;
  private readonly now: () => number;

  constructor(
    private readonly cache: Cache,
    name: string,
    private readonly options: EpochCacheOptions,
  ) {
    this.epochKey = `epoch:${name}`;
    this.now = options.now ?? Date.now;
  }

  /** The record under `key`: from memory while the epoch holds, else from `load` (null: none). */
  async get(key: string, load: () => Promise<V | null>): Promise<V | null> {
    if (!this.options.enabled) return load();
    const epoch = await this.currentEpoch();
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.epoch === epoch && this.now() - entry.loadedAt < this.options.ttlMs) return entry.value;
    const value = await load();
    if (epoch === null || value === null) {
      this.entries.delete(key);
      return value;
    }
    if (this.entries.size >= this.options.maxEntries) this.entries.clear();
    this.entries.set(key, { value, epoch, loadedAt: this.now() });
    return value;
  }

  /** Call after a change committed and before acknowledging it: every instance reloads. */
  async changed(): Promise<void> {
    this.entries.clear();
    if (this.options.enabled) await this.cache.set(this.epochKey, randomUUID(), EPOCH_TTL_SECONDS);
  }

  /** The shared epoch, created when missing; null when the shared cache cannot be read. */
  private async currentEpoch(): Promise<string | null> {
    try {
      const epoch = await this.cache.get(this.epochKey);
      if (epoch !== null) return epoch;
      await this.cache.setIfAbsent(this.epochKey, randomUUID(), EPOCH_TTL_SECONDS);
      return await this.cache.get(this.epochKey);
    } catch {
      return null;
    }
  }
}
