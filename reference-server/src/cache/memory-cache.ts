import { EventEmitter } from 'node:events';
import type { Cache } from './cache';
import { type GcraCheck, type GcraResult, gcraStep } from './gcra';

/** In-process cache for a single instance on the embedded default. */
export class MemoryCache implements Cache {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  private readonly channels = new EventEmitter().setMaxListeners(0);

  constructor(private readonly now: () => number = Date.now) {}

  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    if (this.read(key) !== null) return Promise.resolve(false);
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
    this.sweep();
    return Promise.resolve(true);
  }

  increment(key: string, ttlSeconds: number): Promise<number> {
    const current = this.entries.get(key);
    const live = current !== undefined && this.read(key) !== null;
    const count = live ? Number(current.value) + 1 : 1;
    this.entries.set(key, { value: String(count), expiresAt: live ? current.expiresAt : this.now() + ttlSeconds * 1000 });
    if (!live) this.sweep();
    return Promise.resolve(count);
  }

  gcra(checks: readonly GcraCheck[]): Promise<GcraResult[]> {
    const nowUs = this.now() * 1000;
    return Promise.resolve(
      checks.map(({ key, intervalUs, toleranceUs }) => {
        const stored = this.read(key);
        const result = gcraStep(stored === null ? null : Number(stored), nowUs, intervalUs, toleranceUs);
        if (result.allowed) {
          this.entries.set(key, { value: String(result.tatUs), expiresAt: result.tatUs / 1000 });
          if (stored === null) this.sweep();
        }
        return result;
      }),
    );
  }

  get(key: string): Promise<string | null> {
    return Promise.resolve(this.read(key));
  }

  getMany(keys: string[]): Promise<(string | null)[]> {
    return Promise.resolve(keys.map((key) => this.read(key)));
  }

  set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
    this.sweep();
    return Promise.resolve();
  }

  publish(channel: string, message: string): Promise<void> {
    // Delivered on a later turn, as over a network: a publisher never runs listeners inline.
    setImmediate(() => this.channels.emit(channel, message));
    return Promise.resolve();
  }

  subscribe(channel: string, listener: (message: string) => void): Promise<() => void> {
    this.channels.on(channel, listener);
    return Promise.resolve(() => this.channels.off(channel, listener));
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }

  private read(key: string): string | null {
    const entry = this.entries.get(key);
    if (entry === undefined) return null;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return null;
    }
    return entry.value;
  }

  /** Bounds memory: expired entries go once the map grows large. */
  private sweep(): void {
    if (this.entries.size < 10000) return;
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
