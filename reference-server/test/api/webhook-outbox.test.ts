import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { pruneExpiredState } from '../../src/domain/maintenance';
import { webhookOutbox } from '../../src/store/webhook-outbox';
import { Api } from '../helpers/api';
import { isolatedDatabaseUrl } from '../helpers/env';
import { capturedLogger } from '../helpers/logs';
import { type OrgFixture, createOrg } from '../helpers/fixtures';
import { Receiver } from '../helpers/receiver';
import { type TestServer, startServer } from '../helpers/server';

/** What the server logs at warn and above: a deadlock in the delivery worker shows here. */
const { lines: logged, logger } = capturedLogger('warn');

let server: TestServer;
let org: OrgFixture;
let admin: Api;
let webhookIds: string[];
let hanging: Receiver;
let databaseUrl: string;

beforeAll(async () => {
  databaseUrl = await isolatedDatabaseUrl('lock_order');
  server = await startServer('postgres', {
    DATABASE_URL: databaseUrl,
    MANDATE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.0/8',
    // Deliveries wait: the test takes the delivery worker's locks itself.
    MANDATE_WEBHOOK_RETRY_BASE_MS: '3600000',
    MANDATE_WEBHOOK_TIMEOUT_MS: '5000',
  }, logger);
  org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  admin = new Api(server.baseUrl, org.admin);
  // An endpoint that never answers keeps the real worker's attempts in flight (its timeout is
  // 5 s), so only the test takes locks on these two webhooks while it plays the worker.
  hanging = await Receiver.start();
  hanging.answer('hang');
  webhookIds = [];
  for (const name of ['one', 'two']) {
    const created = await admin.call('createWebhook', { body: { url: `${hanging.url}/${name}`, events: ['agent.*'] } });
    webhookIds.push(created.body.id as string);
  }
});
afterAll(async () => {
  await server.close();
  await hanging.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The delivery worker records a failing endpoint on its webhook row while requests append
 * audit events whose outbox rows reference that webhook (a foreign-key check). Neither may
 * wait for the other: found by fuzzing as "deadlock detected" on POST /v1/agents.
 */
describe('locks taken by requests and by the delivery worker', () => {
  it.each([
    ['first', 'second'],
    ['second', 'first'],
  ])('never deadlock, whichever webhook the worker locks %s', async (first) => {
    const order = first === 'first' ? webhookIds : [...webhookIds].reverse();
    const worker = server.mandate.db.ownerTransaction(async (sql) => {
      await webhookOutbox.endpointOutcome(sql, order[0] as string, false, 3_600_000);
      await sleep(300); // meanwhile a request appends an agent.created event for both webhooks
      await webhookOutbox.endpointOutcome(sql, order[1] as string, false, 3_600_000);
    });
    await sleep(50);
    const created = await admin.call('createAgent', { body: { name: `lock-${first}`, agentType: 'tool' } });
    expect(created.status).toBe(201);
    await expect(worker).resolves.toBeUndefined();
  });

  it('lets a webhook be deleted while the worker records its attempts', async () => {
    const created = await admin.call('createWebhook', { body: { url: 'http://127.0.0.1:9/closed', events: ['agent.*'] } });
    const id = created.body.id as string;
    // Hold the worker inside its recording transaction, after it wrote the attempts.
    const record = webhookOutbox.recordMany.bind(webhookOutbox);
    let recorded!: () => void;
    const recording = new Promise<void>((resolve) => {
      recorded = resolve;
    });
    const spy = jest.spyOn(webhookOutbox, 'recordMany').mockImplementation(async (sql, outcomes) => {
      await record(sql, outcomes);
      if (outcomes.some((o) => o.delivery.webhookId === id)) {
        recorded();
        await sleep(500);
      }
    });
    try {
      expect((await admin.call('createAgent', { body: { name: 'recorded', agentType: 'tool' } })).status).toBe(201);
      await recording;
      expect((await admin.call('deleteWebhook', { path: { webhookId: id } })).status).toBe(204);
    } finally {
      spy.mockRestore();
    }
    await sleep(200);
    expect(logged.filter((line) => line.level >= 40).map((line) => `${line.msg}: ${JSON.stringify(line.err ?? '')}`)).toEqual([]);
  });
});

describe('deliveries of a deleted webhook', () => {
  it('go with it, and maintenance removes any that a racing delete left behind', async () => {
    const created = await admin.call('createWebhook', { body: { url: `${hanging.url}/deleted`, events: ['agent.*'] } });
    const id = created.body.id as string;
    await admin.call('createAgent', { body: { name: 'before-delete', agentType: 'tool' } });
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const count = async (webhookId: string) =>
        (await db.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1', [webhookId])).rows[0].n as number;
      expect(await count(id)).toBe(1);
      expect((await admin.call('deleteWebhook', { path: { webhookId: id } })).status).toBe(204);
      expect(await count(id)).toBe(0);
      // What a trigger that read the webhook just before its delete committed would leave.
      await db.query(
        `INSERT INTO webhook_deliveries (id, org_id, webhook_id, event_id, action, next_attempt_at) VALUES ('whd_orphan', $1, 'whk_gone', 'evt_x', 'agent.created', now())`,
        [org.orgId],
      );
      await pruneExpiredState(server.mandate.db);
      expect(await count('whk_gone')).toBe(0);
    } finally {
      await db.end();
    }
  });
});

describe('an instance with MANDATE_WEBHOOK_DELIVERY=off', () => {
  it('queues deliveries and sends none', async () => {
    const apiOnly = await startServer('postgres', {
      DATABASE_URL: await isolatedDatabaseUrl('delivery_off'),
      MANDATE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.0/8',
      MANDATE_WEBHOOK_DELIVERY: 'off',
    });
    const endpoint = await Receiver.start();
    try {
      const tenant = await createOrg(new Api(apiOnly.baseUrl, apiOnly.bootstrapToken));
      const api = new Api(apiOnly.baseUrl, tenant.admin);
      const webhook = await api.call('createWebhook', { body: { url: endpoint.url, events: ['agent.*'] } });
      expect((await api.call('createAgent', { body: { name: 'queued', agentType: 'tool' } })).status).toBe(201);
      await sleep(1500); // longer than a delivering instance's idle poll
      expect(endpoint.received).toHaveLength(0);
      const deliveries = await api.call('listWebhookDeliveries', { path: { webhookId: webhook.body.id as string } });
      expect(deliveries.body.data.map((d: { status: string }) => d.status)).toEqual(['pending']);
    } finally {
      await endpoint.close();
      await apiOnly.close();
    }
  });
});
