/**
 * Rate limits: GCRA shared by instances through Redis (in process on the embedded store),
 * the IETF RateLimit headers and Retry-After, the combined rate of two instances held to the
 * limit, and failing open while Redis is away, recovering without a restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { gcraStep } from '../../src/cache/gcra';
import { MemoryCache } from '../../src/cache/memory-cache';
import { RedisCache } from '../../src/cache/redis-cache';
import { Api } from '../helpers/api';
import { createAgent, createOrg } from '../helpers/fixtures';
import { basic, postForm } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const INTERVAL_US = 100_000; // 600 a minute
const TOLERANCE_US = INTERVAL_US * 59; // bursts of 60

/** A fresh agent of a fresh organization, and its Basic credentials. */
async function client(server: TestServer): Promise<{ authorization: string; reader: Api }> {
  const org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  const admin = new Api(server.baseUrl, org.admin);
  const agent = await createAgent(admin, { allowedScopes: ['agents:read'] });
  const secret = (await admin.call('createCredential', { path: { agentId: agent.id } })).body.secret as string;
  return { authorization: basic(agent.id as string, secret), reader: new Api(server.baseUrl, org.reader) };
}

const statuses = (answers: { status: number }[]) => answers.map((answer) => answer.status);
const count = (answers: { status: number }[], status: number) => answers.filter((answer) => answer.status === status).length;

const tokenRequest = (server: TestServer, authorization: string) => postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, authorization);

describe('the GCRA step', () => {
  it('lets a burst through, then one request per interval, and refuses without moving the schedule', () => {
    let tat: number | null = null;
    const at = (nowUs: number) => {
      const result = gcraStep(tat, nowUs, INTERVAL_US, TOLERANCE_US);
      if (result.allowed) tat = result.tatUs;
      return result.allowed;
    };
    const burst = Array.from({ length: 61 }, () => at(0));
    expect(burst.filter(Boolean)).toHaveLength(60);
    expect(at(INTERVAL_US - 1)).toBe(false);
    expect(at(INTERVAL_US)).toBe(true);
    expect(at(INTERVAL_US)).toBe(false);
    // Idle long enough, the whole burst is back; never more.
    expect(Array.from({ length: 61 }, () => at(60_000_000)).filter(Boolean)).toHaveLength(60);
  });

  it('is the same in Redis (Lua, on Redis’s clock) as in process', async () => {
    let clock = 1_000_000;
    const memory = new MemoryCache(() => clock);
    const redis = new RedisCache(process.env.TEST_REDIS_URL ?? '', undefined, `mandate-test-gcra-${Date.now()}:`);
    redis.connect();
    try {
      for (let i = 0; i < 100; i++) {
        try {
          await redis.ping();
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 20)); // still connecting
        }
      }
      // Two limits in one call: bursts of 10 and of 4, with a 10 s interval, so Redis's clock
      // cannot move an interval during the test.
      const checks = [
        { key: 'wide', intervalUs: 10_000_000, toleranceUs: 90_000_000 },
        { key: 'narrow', intervalUs: 10_000_000, toleranceUs: 30_000_000 },
      ];
      const memoryAnswers: boolean[][] = [];
      const redisAnswers: boolean[][] = [];
      for (let i = 0; i < 12; i++) {
        memoryAnswers.push((await memory.gcra(checks)).map((result) => result.allowed));
        redisAnswers.push((await redis.gcra(checks)).map((result) => result.allowed));
      }
      expect(redisAnswers).toEqual(memoryAnswers);
      expect(memoryAnswers.map(([wide]) => wide).filter(Boolean)).toHaveLength(10);
      expect(memoryAnswers.map(([, narrow]) => narrow).filter(Boolean)).toHaveLength(4);
      clock += 10_000; // ms: one interval later, one more of each
      expect((await memory.gcra(checks)).map((result) => result.allowed)).toEqual([true, true]);
    } finally {
      await redis.close();
    }
  });
});

describe('on the token endpoint', () => {
  let server: TestServer;
  beforeAll(async () => {
    // 5 a minute: all five at once, then one every 12 s; the requests below take far less.
    server = await startServer('postgres', { MANDATE_RATE_LIMIT_TOKEN_PER_CLIENT: '5' });
  });
  afterAll(() => server.close());

  it('answers with the RateLimit headers, then 429 too_many_requests with Retry-After past the burst', async () => {
    const { authorization } = await client(server);
    const first = await tokenRequest(server, authorization);
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('"token-address";q=100000000;w=60, "token-client";q=5;w=60');
    expect(first.headers.get('ratelimit')).toMatch(/^"token-address";r=\d+;t=\d+, "token-client";r=4;t=12$/);
    const answers = await Promise.all(Array.from({ length: 10 }, () => tokenRequest(server, authorization)));
    expect(count(answers, 200)).toBe(4);
    expect(count(answers, 429)).toBe(6);
    const refused = answers.find((a) => a.status === 429);
    expect(refused?.body).toEqual({ error: 'too_many_requests', error_description: 'Rate limit reached: token-client (5 a minute). Retry in 12 seconds.' });
    expect(refused?.headers.get('retry-after')).toBe('12');
    expect(refused?.headers.get('cache-control')).toBe('no-store');
    expect(refused?.headers.get('ratelimit')).toMatch(/"token-client";r=0;t=60$/);
  });

  it('counts a client id whose secret is wrong, so guessing secrets is limited too', async () => {
    // A made-up client id of this run: Redis keeps the limits' state between runs.
    const guessed = `agt_${randomBytes(13).toString('hex')}`;
    const answers = await Promise.all(Array.from({ length: 10 }, () => tokenRequest(server, basic(guessed, 'wrong'))));
    expect(count(answers, 401)).toBe(5);
    expect(count(answers, 429)).toBe(5);
  });
});

describe('on the management API', () => {
  it('limits each caller, with a RATE_LIMITED problem', async () => {
    const server = await startServer('embedded', { MANDATE_RATE_LIMIT_API_PER_CALLER: '6' });
    try {
      const { reader } = await client(server);
      const answers = await Promise.all(Array.from({ length: 10 }, () => reader.call('listAgents')));
      // 6 a minute, for this reader token (the set-up used the admin token).
      expect(count(answers, 200)).toBe(6);
      const refused = answers.find((a) => a.status === 429);
      expect(refused?.body).toMatchObject({ code: 'RATE_LIMITED', detail: expect.stringContaining('api-caller (6 a minute)') });
      expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(answers[0]?.headers.get('ratelimit-policy')).toBe('"api-caller";q=6;w=60');
    } finally {
      await server.close();
    }
  });
});

describe('two instances sharing Redis', () => {
  let one: TestServer;
  let two: TestServer;
  beforeAll(async () => {
    // All 120 at once, then 2 a second: a load a busy machine still sends well above that.
    const limits = { MANDATE_RATE_LIMIT_TOKEN_PER_CLIENT: '120' };
    [one, two] = await Promise.all([startServer('postgres', limits), startServer('postgres', limits)]);
  });
  afterAll(async () => {
    await Promise.all([one.close(), two.close()]);
  });

  it('hold one client to the limit together (within 5 %)', async () => {
    const { authorization } = await client(one);
    const started = Date.now();
    let allowed = 0;
    let sent = 0;
    // Both instances, 4 requests in flight each, for 6 s.
    const worker = async (server: TestServer) => {
      while (Date.now() - started < 6000) {
        sent += 1;
        const answer = await tokenRequest(server, authorization);
        if (answer.status === 200) allowed += 1;
        else expect(answer.status).toBe(429);
      }
    };
    await Promise.all([one, two, one, two, one, two, one, two].map(worker));
    const seconds = (Date.now() - started) / 1000;
    // Unshared, each instance would allow its own 120 at once: about twice this.
    const expected = 120 + 2 * seconds;
    expect(sent).toBeGreaterThan(expected * 1.5); // the load was well above the limit
    expect(Math.abs(allowed - expected) / expected).toBeLessThan(0.05);
  });
});

describe('while Redis is away', () => {
  let redis: ChildProcess;
  let redisPort: number;
  let dir: string;
  let server: TestServer;

  async function startRedis(): Promise<void> {
    redis = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(redisPort), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    const probe = new Redis(redisPort, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    probe.disconnect();
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mandate-redis-'));
    redisPort = await freePort();
    await startRedis();
    server = await startServer('postgres', { REDIS_URL: `redis://127.0.0.1:${redisPort}`, MANDATE_RATE_LIMIT_TOKEN_PER_CLIENT: '5' });
  });
  afterAll(async () => {
    await server.close();
    redis.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const burst = async (authorization: string) => statuses(await Promise.all(Array.from({ length: 10 }, () => tokenRequest(server, authorization))));

  it('lets token requests through (no 5xx), counts it, and limits again once Redis is back', async () => {
    const { authorization } = await client(server);
    expect((await burst(authorization)).filter((status) => status === 429)).toHaveLength(5);

    const stopped = new Promise((resolve) => redis.once('exit', resolve));
    redis.kill('SIGKILL');
    await stopped;
    const { authorization: other } = await client(server);
    const during = await burst(other);
    expect(during.every((status) => status === 200)).toBe(true);
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/mandate_rate_limiter_failures_total\{policy="token-client"\} [1-9]/);

    await startRedis();
    // ioredis reconnects on its own; the limit applies again without a restart.
    let statuses: number[] = [];
    for (let i = 0; i < 50 && !statuses.includes(429); i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      statuses = await burst(other);
    }
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
    expect(statuses.some((status) => status >= 500)).toBe(false);
  });
});
