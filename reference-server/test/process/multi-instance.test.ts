import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api, type Body } from '../helpers/api';
import { TEST_BOOTSTRAP_TOKEN, TEST_KEY_ENCRYPTION_KEY, TEST_PEPPER, isolatedDatabaseUrl, requireEnv } from '../helpers/env';
import { createAgent, createOrg } from '../helpers/fixtures';
import { basic, postForm, tokenFor } from '../helpers/oauth';
import { type ServerProcess, startProcess } from '../helpers/process';
import { Receiver } from '../helpers/receiver';
import { SseClient } from '../helpers/sse';

let env: Record<string, string>;
const running: ServerProcess[] = [];

beforeAll(async () => {
  env = {
    DATABASE_URL: await isolatedDatabaseUrl('processes'),
    REDIS_URL: requireEnv('TEST_REDIS_URL'),
    MANDATE_SECRET_PEPPER: TEST_PEPPER,
    MANDATE_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    MANDATE_BOOTSTRAP_TOKEN: TEST_BOOTSTRAP_TOKEN,
    // Instances behind one address share one issuer; by default each would name its own port.
    MANDATE_ISSUER: 'http://localhost:8080',
    MANDATE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.0/8',
    MANDATE_WEBHOOK_RETRY_BASE_MS: '100',
    // A short attempt timeout keeps claims short: a killed instance's deliveries come back sooner.
    MANDATE_WEBHOOK_TIMEOUT_MS: '1000',
  };
});
afterAll(async () => {
  for (const server of running) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  await Promise.all(running.map((server) => server.exited));
});

/** An agent allowed agents:read, and its client credentials. */
async function agentWithSecret(api: Api): Promise<{ agent: Body; client: { clientId: string; secret: string } }> {
  const agent = await createAgent(api, { allowedScopes: ['agents:read'] });
  const credential = await api.call('createCredential', { path: { agentId: agent.id } });
  return { agent, client: { clientId: agent.id as string, secret: credential.body.secret as string } };
}

async function start(): Promise<ServerProcess> {
  const server = startProcess(env);
  running.push(server);
  await server.ready();
  return server;
}

describe('two server processes sharing PostgreSQL and Redis', () => {
  let one: ServerProcess;
  let two: ServerProcess;
  beforeAll(async () => {
    [one, two] = await Promise.all([start(), start()]);
  }, 60_000);

  it("see each other's revocations and suspensions at once", async () => {
    const org = await createOrg(new Api(one.baseUrl(), TEST_BOOTSTRAP_TOKEN));
    const viaOne = new Api(one.baseUrl(), org.admin);
    const { agent, client } = await agentWithSecret(viaOne);
    const introspectAtTwo = async (token: string) =>
      (await postForm(two.baseUrl(), '/oauth2/introspect', { token }, `Bearer ${org.admin}`)).body.active;

    const revokedToken = await tokenFor(one.baseUrl(), client);
    expect(await introspectAtTwo(revokedToken)).toBe(true); // also fills instance two's view
    await postForm(one.baseUrl(), '/oauth2/revoke', { token: revokedToken }, basic(client.clientId, client.secret));
    expect(await introspectAtTwo(revokedToken)).toBe(false);

    const token = await tokenFor(two.baseUrl(), client);
    expect(await introspectAtTwo(token)).toBe(true);
    await viaOne.call('updateAgent', { path: { agentId: agent.id }, body: { status: 'suspended' } });
    expect(await introspectAtTwo(token)).toBe(false);
    expect((await new Api(two.baseUrl(), token).call('listAgents')).status).toBe(401);
  }, 120_000);

  it("see each other's admin-token revocations and organization deletions at once", async () => {
    const root = new Api(one.baseUrl(), TEST_BOOTSTRAP_TOKEN);
    const org = await createOrg(root);
    const listAtTwo = async (adminToken: string) => (await new Api(two.baseUrl(), adminToken).call('listAgents')).status;

    // Each instance has just accepted the tokens, so each has them in memory.
    expect(await listAtTwo(org.reader)).toBe(200);
    expect(await listAtTwo(org.writer)).toBe(200);
    const tokens = await new Api(one.baseUrl(), org.admin).call('listAdminTokens', { path: { orgId: org.orgId } });
    const reader = tokens.body.data.find((t: { role: string }) => t.role === 'reader');
    await root.call('revokeAdminToken', { path: { orgId: org.orgId, tokenId: reader.id } });
    expect(await listAtTwo(org.reader)).toBe(401);
    expect(await listAtTwo(org.writer)).toBe(200);

    expect((await root.call('deleteOrg', { path: { orgId: org.orgId } })).status).toBe(204);
    expect(await listAtTwo(org.writer)).toBe(401);
  }, 120_000);

  it('stream to a subscriber of one the events committed through the other', async () => {
    const org = await createOrg(new Api(one.baseUrl(), TEST_BOOTSTRAP_TOKEN));
    const stream = await SseClient.open(`${two.baseUrl()}/v1/events/stream?action=agent.*`, { authorization: `Bearer ${org.reader}` });
    try {
      const viaOne = new Api(one.baseUrl(), org.admin);
      const created = await createAgent(viaOne);
      await viaOne.call('updateAgent', { path: { agentId: created.id as string }, body: { status: 'suspended' } });
      const received = await stream.next(2, 10_000);
      expect(received.map((event) => [event.event, (JSON.parse(event.data) as { target: { id: string } }).target.id])).toEqual([
        ['agent.created', created.id],
        ['agent.suspended', created.id],
      ]);
    } finally {
      stream.close();
    }
  }, 60_000);

  it('deliver each webhook once between them: SKIP LOCKED claims, no duplicate attempts', async () => {
    const org = await createOrg(new Api(one.baseUrl(), TEST_BOOTSTRAP_TOKEN));
    const endpoint = await Receiver.start();
    try {
      await new Api(one.baseUrl(), org.admin).call('createWebhook', { body: { url: endpoint.url, events: ['agent.created'] } });
      const created = 40;
      // Writes through both instances, so both workers find due deliveries.
      await Promise.all(Array.from({ length: created }, (_, i) => createAgent(new Api((i % 2 === 0 ? one : two).baseUrl(), org.admin))));
      const requests = await endpoint.waitFor(created, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // a duplicate would arrive meanwhile
      expect(endpoint.received).toHaveLength(created);
      expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(created);
    } finally {
      await endpoint.close();
    }
  }, 60_000);

  it('make deliveries on a thread of lower priority than the requests (nice 10)', () => {
    // Linux lists a process's threads under /proc/<pid>/task; field 19 of stat is the nice value.
    const niceOf = (pid: number, tid: string): number => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const pid = one.child.pid ?? 0;
    const threads = readdirSync(`/proc/${pid}/task`);
    expect(niceOf(pid, String(pid))).toBe(0);
    expect(threads.filter((tid) => niceOf(pid, tid) === 10)).toHaveLength(1);
  });

  it('keep one intact audit chain while both append to it at once', async () => {
    const org = await createOrg(new Api(one.baseUrl(), TEST_BOOTSTRAP_TOKEN));
    const viaOne = new Api(one.baseUrl(), org.admin);
    const { client } = await agentWithSecret(viaOne);

    // Group commits from both processes, and requests' own transactions, on one chain.
    const rounds = 4;
    for (let round = 0; round < rounds; round++) {
      await Promise.all([
        ...Array.from({ length: 20 }, (_, i) => tokenFor((i % 2 === 0 ? one : two).baseUrl(), client)),
        createAgent(new Api(two.baseUrl(), org.admin)),
      ]);
    }
    const verified = await new Api(two.baseUrl(), org.admin).call('verifyAuditChain');
    expect(verified.body).toMatchObject({ intact: true, firstBrokenEventId: null });
    const issued = await viaOne.call('listAuditEvents', { query: { action: 'token.issued', limit: 100 } });
    expect(issued.body.data).toHaveLength(rounds * 20);
  }, 120_000);
});

describe('durability of the audit trail', () => {
  it('delivers every committed event after a crash, and none for a write that rolled back', async () => {
    const server = await start();
    const org = await createOrg(new Api(server.baseUrl(), TEST_BOOTSTRAP_TOKEN));
    const api = new Api(server.baseUrl(), org.admin);
    const endpoint = await Receiver.start();
    const url = endpoint.url;
    await endpoint.close(); // the receiver is down while the events are committed
    await api.call('createWebhook', { body: { url, events: ['agent.created'] } });
    const agents = await Promise.all(Array.from({ length: 20 }, () => createAgent(api)));
    const refused = await api.call('createAgent', { body: { name: agents[0]?.name as string, agentType: 'tool' } });
    expect(refused.status).toBe(409); // rolled back: no event, so no delivery
    server.child.kill('SIGKILL');
    expect(await server.exited).toBeNull();

    const restarted = await start();
    const back = await Receiver.start(Number(new URL(url).port));
    try {
      const received = await back.waitFor(agents.length, 60_000);
      const delivered = new Set(received.map((r) => (JSON.parse(r.body) as { data: { target: { id: string } } }).data.target.id));
      expect(delivered).toEqual(new Set(agents.map((a) => a.id as string)));
      expect(restarted.child.exitCode).toBeNull();
    } finally {
      await back.close();
    }
  }, 120_000);

  it('keeps every acknowledged token.issued event when the process is killed right after answering', async () => {
    const server = await start();
    const org = await createOrg(new Api(server.baseUrl(), TEST_BOOTSTRAP_TOKEN));
    const api = new Api(server.baseUrl(), org.admin);
    const { client } = await agentWithSecret(api);

    // Concurrent requests share group commits; every one answered must be on disk.
    const issued = 60;
    const tokens = await Promise.all(Array.from({ length: issued }, () => tokenFor(server.baseUrl(), client)));
    server.child.kill('SIGKILL');
    expect(await server.exited).toBeNull(); // killed, no graceful shutdown
    expect(new Set(tokens).size).toBe(issued);

    const restarted = await start();
    const after = new Api(restarted.baseUrl(), org.admin);
    const events: { action: string; metadata: { jti: string } }[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: typeof events; nextCursor: string | null } } = await after.call('listAuditEvents', {
        query: { action: 'token.issued', limit: 100, ...(cursor === null ? {} : { cursor }) },
      });
      events.push(...page.body.data);
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    const jtis = new Set(tokens.map((t) => (JSON.parse(Buffer.from(t.split('.')[1] ?? '', 'base64url').toString()) as { jti: string }).jti));
    expect(events).toHaveLength(issued);
    expect(new Set(events.map((e) => e.metadata.jti))).toEqual(jtis);
    expect((await after.call('verifyAuditChain')).body.intact).toBe(true);
  }, 120_000);
});
