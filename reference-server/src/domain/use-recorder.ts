import type { Cache } from '../cache/cache';

const INTERVAL_MS = 60_000;
const MAX_REMEMBERED = 10_000;

/**
 * "Last used" bookkeeping at most once a minute per token or credential, across instances:
 * a per-instance memory answers most requests without any round trip, the shared cache
 * settles which instance writes, and a cache outage skips the write rather than failing.
 */
export class UseRecorder {
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly cache: Cache,
    private readonly write: (id: string) => Promise<unknown>,
  ) {}

  async record(id: string, now: number = Date.now()): Promise<void> {
    const last = this.recent.get(id);
    if (last !== undefined && now - last < INTERVAL_MS) return;
    if (this.recent.size >= MAX_REMEMBERED) this.recent.clear();
    this.recent.set(id, now);
    const due = await this.cache.setIfAbsent(`used:${id}`, '1', INTERVAL_MS / 1000).catch(() => false);
    if (due) await this.write(id);
  }
}
