import { Redis, type Result } from 'ioredis';
import type { Cache, CacheTimer } from './cache';
import { GCRA_LUA, type GcraCheck, type GcraResult } from './gcra';
import { TurnBatch } from '../store/turn-batch';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** GCRA_LUA, registered with defineCommand: the number of keys, the keys, then each key's interval and tolerance; [allowed 0|1, tat µs]… then now µs. */
    mandateGcra(numberOfKeys: number, ...keysAndShapes: (string | number)[]): Result<number[], Context>;
  }
}

/** Redis, shared by every server instance. Keys are namespaced so a Redis can be shared. */
export class RedisCache implements Cache {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;
  private subscriber: Redis | null = null;
  private readonly listeners = new Map<string, Set<(message: string) => void>>();
  /** Reads wait for the end of the event-loop turn and go out together as one MGET. */
  private readonly reads = new TurnBatch<string | null>(async (keys) => {
    const values = await this.timed('mget', () => this.redis.mget(keys.map((key) => this.namespace + key)));
    return new Map(keys.map((key, i) => [key, values[i] ?? null]));
  });

  constructor(
    url: string,
    private readonly onOperation: CacheTimer = () => undefined,
    private readonly namespace = 'mandate:',
  ) {
    // Fail fast instead of queueing commands while Redis is away: readiness reports it.
    // Auto-pipelining sends the commands of one event-loop turn in one write.
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, enableAutoPipelining: true });
    this.redis.on('error', () => undefined); // reconnects on its own; readiness shows the outage
    // The number of keys goes first in each call: a request checks one policy or several.
    this.redis.defineCommand('mandateGcra', { lua: GCRA_LUA });
  }

  /**
   * Connects in the background: a server whose Redis is away still starts, answers
   * readiness with 503, and recovers when Redis returns (ioredis keeps reconnecting).
   */
  connect(): void {
    this.redis.connect().catch(() => undefined);
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    const result = await this.timed('set', () => this.redis.set(this.namespace + key, value, 'EX', ttlSeconds, 'NX'));
    return result === 'OK';
  }

  async increment(key: string, ttlSeconds: number): Promise<number> {
    // The expiry is set with the first count only (NX), so the window does not slide.
    const results = await this.timed('incr', () => this.redis.multi().incr(this.namespace + key).expire(this.namespace + key, ttlSeconds, 'NX').exec());
    return Number(results?.[0]?.[1] ?? 0);
  }

  async gcra(checks: readonly GcraCheck[]): Promise<GcraResult[]> {
    const keys = checks.map((check) => this.namespace + check.key);
    const shapes = checks.flatMap((check) => [Math.round(check.intervalUs), Math.round(check.toleranceUs)]);
    const out = await this.timed('gcra', () => this.redis.mandateGcra(keys.length, ...keys, ...shapes));
    const nowUs = out[out.length - 1] ?? 0;
    return checks.map((_, i) => ({ allowed: out[2 * i] === 1, tatUs: out[2 * i + 1] ?? 0, nowUs }));
  }

  async get(key: string): Promise<string | null> {
    return (await this.reads.get(key)) ?? null;
  }

  /** Under load, the reads of many requests cost one command. */
  getMany(keys: string[]): Promise<(string | null)[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.timed('set', () => this.redis.set(this.namespace + key, value, 'EX', Math.max(1, Math.ceil(ttlSeconds))));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.timed('publish', () => this.redis.publish(this.namespace + channel, message));
  }

  /**
   * A subscribed Redis connection can do nothing else, so subscriptions share one second
   * connection, opened on first use. ioredis subscribes again after a reconnect; messages
   * published while it was away are lost, which subscribers must tolerate.
   */
  async subscribe(channel: string, listener: (message: string) => void): Promise<() => void> {
    const name = this.namespace + channel;
    if (this.subscriber === null) {
      const subscriber = this.redis.duplicate({ lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: null });
      subscriber.on('error', () => undefined);
      subscriber.on('message', (from: string, message: string) => {
        for (const listen of this.listeners.get(from) ?? []) listen(message);
      });
      this.subscriber = subscriber;
    }
    let listeners = this.listeners.get(name);
    if (listeners === undefined) {
      listeners = new Set();
      this.listeners.set(name, listeners);
      await this.subscriber.subscribe(name);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  async ping(): Promise<void> {
    await this.timed('ping', () => this.redis.ping());
  }

  async close(): Promise<void> {
    const connections = this.subscriber === null ? [this.redis] : [this.redis, this.subscriber];
    await Promise.all(
      connections.map((connection) =>
        connection.quit().catch(() => {
          connection.disconnect();
        }),
      ),
    );
  }

  private async timed<T>(operation: string, command: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    try {
      return await command();
    } finally {
      this.onOperation(operation, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
}
