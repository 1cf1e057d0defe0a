import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RedisCache } from '../../src/cache/redis-cache';
import { requireEnv } from '../helpers/env';

let cache: RedisCache;
const operations: string[] = [];
// A namespace of its own, so nothing else in the shared test Redis is touched.
const namespace = `test-${randomUUID()}:`;

/** A client on the test Redis, once it answers (it connects in the background). */
async function connected(onOperation: (operation: string) => void = () => undefined): Promise<RedisCache> {
  const client = new RedisCache(requireEnv('TEST_REDIS_URL'), onOperation, namespace);
  client.connect();
  for (let attempt = 0; ; attempt++) {
    try {
      await client.ping();
      return client;
    } catch (error) {
      if (attempt > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

beforeAll(async () => {
  cache = await connected((operation) => operations.push(operation));
});
afterAll(async () => {
  await cache.close();
});

describe('the Redis cache', () => {
  it("answers the reads of one event-loop turn with one command, each caller with its own keys' values", async () => {
    await Promise.all(['a', 'b', 'c'].map((key) => cache.set(key, `value-${key}`, 60)));
    operations.length = 0;
    const answers = await Promise.all([
      cache.get('a'),
      cache.getMany(['c', 'missing', 'b']),
      cache.get('missing'),
      cache.getMany([]),
      cache.getMany(['b', 'a']),
    ]);
    expect(answers).toEqual(['value-a', ['value-c', null, 'value-b'], null, [], ['value-b', 'value-a']]);
    expect(operations).toEqual(['mget']);
  });

  it('never answers a read with a command sent before it was asked', async () => {
    const other = await connected();
    try {
      await cache.set('state', 'before', 60);
      const earlier = cache.get('state');
      await new Promise((resolve) => setImmediate(resolve)); // its MGET is on the wire
      await other.set('state', 'after', 60); // a change acknowledged through another client
      expect(await cache.get('state')).toBe('after');
      expect(['before', 'after']).toContain(await earlier);
    } finally {
      await other.close();
    }
  });
});
