import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { Api, type Body } from '../helpers/api';
import { isolatedDatabaseUrl } from '../helpers/env';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { Receiver } from '../helpers/receiver';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let root: Api;
let org: OrgFixture;
let admin: Api;
const receivers: Receiver[] = [];

beforeAll(async () => {
  // A database of its own: every instance on a database delivers its outbox, and the other
  // suites' servers run with other webhook settings.
  server = await startServer('postgres', {
    DATABASE_URL: await isolatedDatabaseUrl('webhooks'),
    MANDATE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.0/8',
    MANDATE_WEBHOOK_MAX_ATTEMPTS: '3',
    MANDATE_WEBHOOK_RETRY_BASE_MS: '50',
    MANDATE_WEBHOOK_TIMEOUT_MS: '1000',
  });
  root = new Api(server.baseUrl, server.bootstrapToken);
  org = await createOrg(root);
  admin = root.as(org.admin);
});
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  await server.close();
});

async function receiver(): Promise<Receiver> {
  const started = await Receiver.start();
  receivers.push(started);
  return started;
}

async function register(url: string, events: string[] = []): Promise<Body> {
  const created = await admin.call('createWebhook', { body: { url, events } });
  expect(created.status).toBe(201);
  return created.body;
}

/** Polls the deliveries list until `done` holds for the newest delivery. */
async function delivery(webhookId: string, done: (d: Body) => boolean, timeoutMs = 10_000): Promise<Body> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = await admin.call('listWebhookDeliveries', { path: { webhookId } });
    const newest = page.body.data[0];
    if (newest !== undefined && done(newest)) return newest;
    if (Date.now() > deadline) throw new Error(`delivery not done: ${JSON.stringify(newest)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('webhooks', () => {
  it('deliver each matching event, signed so the standardwebhooks library verifies it', async () => {
    const endpoint = await receiver();
    const webhook = await register(endpoint.url, ['agent.created']);
    expect(webhook.secret).toMatch(/^whsec_/);
    expect((await admin.call('getWebhook', { path: { webhookId: webhook.id as string } })).body.secret).toBeUndefined();

    const agent = await createAgent(admin);
    const [request] = await endpoint.waitFor(1);
    const payload = new Webhook(webhook.secret as string).verify(request?.body ?? '', request?.headers as Record<string, string>) as Body;
    expect(payload.type).toBe('agent.created');
    expect(payload.data.target).toEqual({ type: 'agent', id: agent.id });
    const stored = await admin.call('getAuditEvent', { path: { eventId: payload.data.id as string } });
    expect(payload.data).toEqual(stored.body);

    const done = await delivery(webhook.id as string, (d) => d.status === 'succeeded');
    expect(request?.headers['webhook-id']).toBe(done.id);
    expect(done).toMatchObject({ eventId: payload.data.id, action: 'agent.created', attemptCount: 1, nextAttemptAt: null });
    expect(done.attempts[0]).toMatchObject({ status: 200, error: null, responseBody: 'answer 200' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(endpoint.received).toHaveLength(1); // agent.updated etc. are not subscribed
  });

  it('retry 5xx, timeouts and dropped connections with the same webhook-id, then give up and let a person retry', async () => {
    const endpoint = await receiver();
    endpoint.answer(500, 'drop', 200);
    const webhook = await register(endpoint.url, ['agent.*']);
    await createAgent(admin);
    const requests = await endpoint.waitFor(3);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    // Exponential backoff: at least base × 4^(n-1), less the 25 % jitter (base 50 ms here).
    const gaps = requests.slice(1).map((r, i) => r.at - (requests[i]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(50 * 0.75);
    expect(gaps[1]).toBeGreaterThanOrEqual(200 * 0.75);
    const succeeded = await delivery(webhook.id as string, (d) => d.status === 'succeeded');
    expect(succeeded.attempts.map((a: Body) => a.status)).toEqual([500, null, 200]);
    expect(succeeded.attempts[1].error).toBeTruthy();

    endpoint.answer(503);
    await createAgent(admin);
    const dead = await delivery(webhook.id as string, (d) => d.status === 'failed');
    expect(dead.attemptCount).toBe(3); // MANDATE_WEBHOOK_MAX_ATTEMPTS
    expect(dead.nextAttemptAt).toBeNull();

    // The first attempt of the manual round hangs past the timeout, so the delivery stays pending meanwhile.
    endpoint.answer('hang', 200);
    const before = endpoint.received.length;
    const retried = await admin.call('retryWebhookDelivery', { path: { webhookId: webhook.id as string, deliveryId: dead.id as string } });
    expect([retried.status, retried.body.status]).toEqual([202, 'pending']);
    await endpoint.waitFor(before + 1);
    const again = await admin.call('retryWebhookDelivery', { path: { webhookId: webhook.id as string, deliveryId: dead.id as string } });
    expect([again.status, again.body.code]).toEqual([409, 'DELIVERY_PENDING']);
    const recovered = await delivery(webhook.id as string, (d) => d.id === dead.id && d.status === 'succeeded');
    expect(recovered.attempts.slice(3).map((a: Body) => [a.status, a.error === null])).toEqual([
      [null, false],
      [200, true],
    ]);
  });

  it('fail at once on other 4xx and on redirects, which are never followed', async () => {
    const endpoint = await receiver();
    const elsewhere = await receiver();
    endpoint.answer(400, { status: 302, headers: { location: elsewhere.url } });
    const webhook = await register(endpoint.url, ['agent.created']);
    await createAgent(admin);
    const refused = await delivery(webhook.id as string, (d) => d.status === 'failed');
    expect(refused.attempts.map((a: Body) => a.status)).toEqual([400]);
    await createAgent(admin);
    const redirected = await delivery(webhook.id as string, (d) => d.status === 'failed' && d.id !== refused.id);
    expect(redirected.attempts.map((a: Body) => a.status)).toEqual([302]);
    expect(elsewhere.received).toHaveLength(0);
  });

  it('sign with the old and the new secret while a rotation settles', async () => {
    const endpoint = await receiver();
    const webhook = await register(endpoint.url, ['webhook.tested']);
    const rotated = await admin.call('updateWebhook', { path: { webhookId: webhook.id as string }, body: { rotateSecret: true } });
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(webhook.secret);
    expect(rotated.body.secretRotatedAt).not.toBeNull();
    const test = await admin.call('testWebhook', { path: { webhookId: webhook.id as string } });
    expect([test.status, test.body.action, test.body.status]).toEqual([202, 'webhook.tested', 'pending']);
    const [request] = await endpoint.waitFor(1);
    for (const secret of [webhook.secret as string, rotated.body.secret as string]) {
      expect(() => new Webhook(secret).verify(request?.body ?? '', request?.headers as Record<string, string>)).not.toThrow();
    }
    expect(request?.headers['webhook-id']).toBe(test.body.id);
  });

  it('refuse private and plain-http endpoints unless the operator allows them', async () => {
    for (const url of ['http://10.0.0.1/x', 'https://169.254.169.254/latest/meta-data', 'https://[fd00::1]/x', 'https://192.168.1.1/x', 'ftp://example.com/x', 'https://user:pw@example.com/x']) {
      const refused = await admin.call('createWebhook', { body: { url } });
      expect([url, refused.status, refused.body.code]).toEqual([url, 400, 'WEBHOOK_URL_NOT_ALLOWED']);
    }
    const listed = await admin.call('createWebhook', { body: { url: 'http://127.0.0.1:9/x' } });
    expect(listed.status).toBe(201); // 127.0.0.0/8 is allowed on this server
  });

  it('switch off an endpoint that has failed for too long, and audit it', async () => {
    const endpoint = await receiver();
    endpoint.answer(500);
    const webhook = await register(endpoint.url, ['agent.created']);
    // As if it had been failing for longer than MANDATE_WEBHOOK_DISABLE_AFTER_HOURS (72).
    await server.mandate.db.ownerTransaction((sql) => sql.query(`UPDATE webhooks SET failing_since = now() - interval '73 hours' WHERE id = $1`, [webhook.id]));
    await createAgent(admin);
    await endpoint.waitFor(1);
    const deadline = Date.now() + 10_000;
    let current: Body;
    do {
      current = (await admin.call('getWebhook', { path: { webhookId: webhook.id as string } })).body;
    } while (current.enabled === true && Date.now() < deadline);
    expect(current).toMatchObject({ enabled: false, disabledReason: 'failing' });
    const events = await admin.call('listAuditEvents', { query: { action: 'webhook.disabled' } });
    expect(events.body.data.map((e: Body) => e.target.id)).toContain(webhook.id);
    const reenabled = await admin.call('updateWebhook', { path: { webhookId: webhook.id as string }, body: { enabled: true } });
    expect(reenabled.body).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
  });

  it('hold a switched-off endpoint\'s deliveries out of the queue, and send them once it is switched on', async () => {
    const endpoint = await receiver();
    // Each failure asks for a 1 s pause, so the deliveries are still pending when switched off.
    endpoint.answer({ status: 503, headers: { 'retry-after': '1' } });
    const webhook = await register(endpoint.url, ['agent.created']);
    const id = webhook.id as string;
    await createAgent(admin);
    await createAgent(admin);
    await endpoint.waitFor(2);
    const pending = () =>
      server.mandate.db.ownerTransaction(async (sql) => {
        const [row] = await sql.query<{ paused: number; all: number }>(
          `SELECT count(*) FILTER (WHERE paused)::int AS paused, count(*)::int AS "all" FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'pending'`,
          [id],
        );
        return row ?? { paused: -1, all: -1 };
      });
    expect((await admin.call('updateWebhook', { path: { webhookId: id }, body: { enabled: false } })).status).toBe(200);
    expect(await pending()).toEqual({ paused: 2, all: 2 });
    const sent = endpoint.received.length;
    await new Promise((resolve) => setTimeout(resolve, 2500)); // past their retry time
    expect(endpoint.received.length).toBe(sent);
    endpoint.answer(200);
    expect((await admin.call('updateWebhook', { path: { webhookId: id }, body: { enabled: true } })).status).toBe(200);
    expect((await pending()).paused).toBe(0);
    await delivery(id, (d) => d.status === 'succeeded');
    const deadline = Date.now() + 10_000;
    while ((await pending()).all > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await pending()).toEqual({ paused: 0, all: 0 });
  });

  it('are managed per organization and leave with their deliveries', async () => {
    const webhook = await register('https://hooks.example.com/mandate');
    const listed = await admin.call('listWebhooks');
    expect(listed.body.data.map((w: Body) => w.id)).toContain(webhook.id);
    const changed = await admin.call('updateWebhook', { path: { webhookId: webhook.id as string }, body: { events: ['credential.*'], description: 'SIEM', enabled: false } });
    expect(changed.body).toMatchObject({ events: ['credential.*'], description: 'SIEM', enabled: false });
    expect(changed.body.secret).toBeUndefined();
    const other = await createOrg(root);
    const foreign = await root.as(other.admin).call('getWebhook', { path: { webhookId: webhook.id as string } });
    expect([foreign.status, foreign.body.code]).toEqual([404, 'WEBHOOK_NOT_FOUND']);
    const reader = await root.as(org.reader).call('createWebhook', { body: { url: 'https://hooks.example.com/x' } });
    expect([reader.status, reader.body.code]).toEqual([403, 'INSUFFICIENT_SCOPE']);
    expect((await admin.call('deleteWebhook', { path: { webhookId: webhook.id as string } })).status).toBe(204);
    expect((await admin.call('getWebhook', { path: { webhookId: webhook.id as string } })).status).toBe(404);
  });
});

describe('webhooks without an allow-list', () => {
  it('refuse at delivery an address that creation would have refused (a name that now resolves privately)', async () => {
    const embedded = await startServer('embedded');
    try {
      const rootApi = new Api(embedded.baseUrl, embedded.bootstrapToken);
      const tenant = await createOrg(rootApi);
      const api = rootApi.as(tenant.admin);
      const endpoint = await receiver();
      const created = await api.call('createWebhook', { body: { url: 'https://hooks.example.com/x', events: ['webhook.tested'] } });
      // As a DNS answer can change after creation: the delivery must check the address itself.
      await embedded.mandate.db.ownerTransaction((sql) => sql.query('UPDATE webhooks SET url = $1 WHERE id = $2', [endpoint.url.replace('http:', 'https:'), created.body.id]));
      await api.call('testWebhook', { path: { webhookId: created.body.id as string } });
      const deadline = Date.now() + 10_000;
      let newest: Body;
      do {
        newest = (await api.call('listWebhookDeliveries', { path: { webhookId: created.body.id as string } })).body.data[0];
      } while (newest?.status !== 'failed' && Date.now() < deadline);
      expect(newest.attemptCount).toBe(1);
      expect(newest.attempts[0].error).toMatch(/127\.0\.0\.1/);
      expect(endpoint.received).toHaveLength(0);
    } finally {
      await embedded.close();
    }
  });
});
