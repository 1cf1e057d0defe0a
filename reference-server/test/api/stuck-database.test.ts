import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { Logger } from 'pino';
import { DatabaseTimeoutError, NestedTransactionError } from '../../src/store/database';
import { Api } from '../helpers/api';
import { isolatedDatabaseUrl } from '../helpers/env';
import { capturedLogger } from '../helpers/logs';
import { createOrg } from '../helpers/fixtures';
import { type TestServer, startServer } from '../helpers/server';

const stores = ['embedded', 'postgres'] as const;
const TIMEOUT_MS = 400;

/** The key cache reloads when its copy is over 10 s old: pretend that much time went by. */
function elevenSecondsLater(): () => void {
  const realNow = Date.now.bind(Date);
  const spy = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 11_000);
  return () => { spy.mockRestore(); };
}

/** Holds a transaction open until the returned function is called. */
function holdTransaction(server: TestServer): { release: () => void; done: Promise<unknown> } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const done = server.mandate.db.ownerTransaction(() => gate).catch((error: unknown) => error);
  return { release, done };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: TestServer | undefined;
afterEach(async () => {
  jest.restoreAllMocks();
  await server?.close();
  server = undefined;
});

describe.each(stores)('a stuck database on %s', (store) => {
  const start = async (env: Record<string, string> = {}, logger?: Logger) => {
    const extra: Record<string, string> = store === 'postgres' ? { DATABASE_URL: await isolatedDatabaseUrl('stuck') } : {};
    server = await startServer(store, { ...extra, ...env }, logger);
    return { server, root: new Api(server.baseUrl, server.bootstrapToken) };
  };

  it('lists signing keys after the key cache has gone stale, and keeps serving', async () => {
    const { root } = await start();
    expect((await root.call('listSigningKeys')).status).toBe(200);
    const restore = elevenSecondsLater();
    try {
      const again = await root.call('listSigningKeys');
      expect(again.status).toBe(200);
      expect(again.body.data.length).toBeGreaterThan(0);
    } finally {
      restore();
    }
    expect((await root.call('listOrgs')).status).toBe(200);
  });

  it('refuses database work started inside a transaction, and stays usable', async () => {
    const { server: running } = await start();
    const db = running.mandate.db;
    await expect(db.ownerTransaction(() => db.ownerTransaction((sql) => sql.query('SELECT 1')))).rejects.toBeInstanceOf(NestedTransactionError);
    await expect(db.ownerTransaction(() => db.callFunction('SELECT * FROM mandate_live_revocations()', []))).rejects.toBeInstanceOf(NestedTransactionError);
    await expect(db.ownerTransaction(() => db.withAdvisoryLock(1, () => Promise.resolve()))).rejects.toBeInstanceOf(NestedTransactionError);
    // Work merely started from a transaction's flow, after it committed, is not nesting.
    const later = await db.ownerTransaction(() => Promise.resolve(() => db.ownerTransaction((sql) => sql.query<{ one: number }>('SELECT 1 AS one'))));
    expect(await later()).toEqual([{ one: 1 }]);
  });

  it('answers 503 instead of hanging, says so in liveness and the log, and recovers', async () => {
    const { lines, logger } = capturedLogger('warn');
    const { server: running, root } = await start(
      { MANDATE_DB_TIMEOUT_MS: String(TIMEOUT_MS), MANDATE_REQUEST_DEADLINE_MS: String(TIMEOUT_MS / 2), ...(store === 'postgres' ? { DATABASE_POOL_SIZE: '1' } : {}) },
      logger,
    );
    const held = holdTransaction(running);
    const started = Date.now();
    const blocked = await root.call('listOrgs');
    expect(blocked.status).toBe(503);
    expect(blocked.body.code).toBe('DATABASE_TIMEOUT');
    expect(blocked.headers.get('retry-after')).toBe('1');
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 5);
    expect(lines.some((line) => line.msg === 'request exceeded its deadline' && line.operation === 'listOrgs')).toBe(true);

    await sleep(TIMEOUT_MS * 2);
    const health = await root.call('getHealth');
    expect(health.status).toBe(503);
    expect(health.body.status).toBe('stuck');

    held.release();
    await held.done;
    expect((await root.call('getHealth')).status).toBe(200);
    expect((await root.call('listOrgs')).status).toBe(200);
  });
});

describe('timeouts enforced by PostgreSQL', () => {
  it('ends a slow statement and a transaction left idle, without crashing the process', async () => {
    server = await startServer('postgres', { DATABASE_URL: await isolatedDatabaseUrl('stuck'), MANDATE_DB_TIMEOUT_MS: String(TIMEOUT_MS) });
    const db = server.mandate.db;
    await expect(db.ownerTransaction((sql) => sql.query('SELECT pg_sleep(5)'))).rejects.toBeInstanceOf(DatabaseTimeoutError);
    await expect(
      db.ownerTransaction(async (sql) => {
        await sql.query('SELECT 1');
        await sleep(TIMEOUT_MS * 3);
        await sql.query('SELECT 1');
      }),
    ).rejects.toBeInstanceOf(DatabaseTimeoutError);
    expect((await new Api(server.baseUrl).call('getReadiness')).status).toBe(200);
  });

  it('serves concurrent key listings on a small pool after the key cache has gone stale', async () => {
    server = await startServer('postgres', { DATABASE_URL: await isolatedDatabaseUrl('stuck'), DATABASE_POOL_SIZE: '2', MANDATE_DB_TIMEOUT_MS: '3000' });
    const root = new Api(server.baseUrl, server.bootstrapToken);
    const org = await createOrg(root);
    const restore = elevenSecondsLater();
    try {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? root.call('listSigningKeys') : root.as(org.admin).call('listAgents'))),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    } finally {
      restore();
    }
  });
});

// The flow of control is followed only while some transaction is open (src/store/database.ts).
// Transactions overlap only on PostgreSQL: the embedded store has one connection, so there
// they run one after another.
describe('nesting on PostgreSQL', () => {
  it('is refused whichever transactions opened and closed around it', async () => {
    server = await startServer('postgres', { DATABASE_URL: await isolatedDatabaseUrl('stuck') });
    const db = server.mandate.db;
    const liveRevocations = () => db.callFunction('SELECT * FROM mandate_live_revocations()', []);
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = (): void => undefined;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    // A long transaction, with another opening and closing while it is open…
    const long = db.ownerTransaction(async () => {
      entered();
      await released;
      return liveRevocations();
    });
    await inside;
    await db.ownerTransaction((sql) => sql.query('SELECT 1'));
    // …still refuses the work started inside it once the other has closed.
    release();
    await expect(long).rejects.toBeInstanceOf(NestedTransactionError);
    // With no transaction open, and then in a new one, it is as before.
    await expect(liveRevocations()).resolves.toBeInstanceOf(Array);
    await expect(db.ownerTransaction(() => liveRevocations())).rejects.toBeInstanceOf(NestedTransactionError);
  });
});
