import { describe, expect, it } from '@jest/globals';
import type { Cache } from '../../src/cache/cache';
import { EpochCache, type EpochCacheOptions } from '../../src/cache/epoch-cache';
import { MemoryCache } from '../../src/cache/memory-cache';

const OPTIONS: EpochCacheOptions = { enabled: true, ttlMs: 30_000, maxEntries: 100 };

/** A loader that counts its calls and answers what the "database" holds now. */
function database(initial: string | null) {
  const state = { value: initial, loads: 0 };
  return { state, load: () => { state.loads += 1; return Promise.resolve(state.value); } };
}

/** A shared cache that is down. */
const unreachable: Cache = {
  kind: 'redis',
  setIfAbsent: () => Promise.reject(new Error('down')),
  increment: () => Promise.reject(new Error('down')),
  gcra: () => Promise.reject(new Error('down')),
  get: () => Promise.reject(new Error('down')),
  getMany: () => Promise.reject(new Error('down')),
  set: () => Promise.reject(new Error('down')),
  publish: () => Promise.reject(new Error('down')),
  subscribe: () => Promise.reject(new Error('down')),
  ping: () => Promise.reject(new Error('down')),
  close: () => Promise.resolve(),
};

describe('epoch cache', () => {
  it('answers from memory while the shared epoch holds', async () => {
    const db = database('row');
    const local = new EpochCache<string>(new MemoryCache(), 'records', OPTIONS);
    expect(await local.get('k', db.load)).toBe('row');
    expect(await local.get('k', db.load)).toBe('row');
    expect(db.state.loads).toBe(1);
  });

  it("reloads on every instance after a change made through any one of them", async () => {
    const shared = new MemoryCache();
    const db = database('valid');
    const one = new EpochCache<string>(shared, 'records', OPTIONS);
    const two = new EpochCache<string>(shared, 'records', OPTIONS);
    await one.get('k', db.load);
    await two.get('k', db.load);
    db.state.value = 'revoked';
    await one.changed();
    expect(await two.get('k', db.load)).toBe('revoked');
    expect(await one.get('k', db.load)).toBe('revoked');
    expect(db.state.loads).toBe(4);
  });

  it('never uses an entry loaded under an epoch that moved while it loaded', async () => {
    const shared = new MemoryCache();
    const reader = new EpochCache<string>(shared, 'records', OPTIONS);
    const writer = new EpochCache<string>(shared, 'records', OPTIONS);
    const db = database('valid');
    await reader.get('warm-up', db.load); // the epoch exists
    // The change commits, and moves the epoch, while the reader is loading the old row.
    const stale = await reader.get('k', async () => {
      const row = await db.load();
      db.state.value = 'revoked';
      await writer.changed();
      return row;
    });
    expect(stale).toBe('valid'); // what the database said when it was asked
    expect(await reader.get('k', db.load)).toBe('revoked');
  });

  it('does not remember misses, and forgets entries after their time to live', async () => {
    let now = 0;
    const db = database(null);
    const local = new EpochCache<string>(new MemoryCache(() => now), 'records', { ...OPTIONS, now: () => now });
    expect(await local.get('k', db.load)).toBeNull();
    db.state.value = 'created';
    expect(await local.get('k', db.load)).toBe('created');
    now = 29_999;
    await local.get('k', db.load);
    expect(db.state.loads).toBe(2);
    now = 30_000;
    await local.get('k', db.load);
    expect(db.state.loads).toBe(3);
  });

  it('starts a new epoch when the shared cache lost it, which invalidates every entry', async () => {
    const shared = new MemoryCache();
    const db = database('row');
    const local = new EpochCache<string>(shared, 'records', OPTIONS);
    await local.get('k', db.load);
    await shared.close(); // a Redis restart: every key is gone
    await local.get('k', db.load);
    expect(db.state.loads).toBe(2);
    await local.get('k', db.load);
    expect(db.state.loads).toBe(2);
  });

  it('loads every time when switched off or when the shared cache is down', async () => {
    for (const local of [
      new EpochCache<string>(new MemoryCache(), 'records', { ...OPTIONS, enabled: false }),
      new EpochCache<string>(unreachable, 'records', OPTIONS),
    ]) {
      const db = database('row');
      await local.get('k', db.load);
      await local.get('k', db.load);
      expect(db.state.loads).toBe(2);
    }
  });

  it('fails a change whose epoch could not be written, so it is not acknowledged as seen everywhere', async () => {
    await expect(new EpochCache<string>(unreachable, 'records', OPTIONS).changed()).rejects.toThrow('down');
  });
});
