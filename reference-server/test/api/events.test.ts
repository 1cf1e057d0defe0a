import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { AuditFeed } from '../../src/domain/audit-feed';
import pino from 'pino';
import { Api } from '../helpers/api';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { tokenFor } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';
import { SseClient, type SseEvent } from '../helpers/sse';

let server: TestServer;
let root: Api;
let org: OrgFixture;
let admin: Api;
const logLines: string[] = [];
const open: SseClient[] = [];

beforeAll(async () => {
  const logs = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  server = await startServer('postgres', {}, pino({ level: 'info' }, logs));
  root = new Api(server.baseUrl, server.bootstrapToken);
  org = await createOrg(root);
  admin = root.as(org.admin);
});
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});
afterAll(() => server.close());

const streamUrl = (query = ''): string => `${server.baseUrl}/v1/events/stream${query}`;

async function subscribe(query = '', headers: Record<string, string> = { authorization: `Bearer ${org.reader}` }): Promise<SseClient> {
  const client = await SseClient.open(streamUrl(query), headers);
  open.push(client);
  return client;
}

const data = (event: SseEvent): Record<string, unknown> => JSON.parse(event.data) as Record<string, unknown>;

async function eventIdOf(action: string, agentId: string): Promise<string> {
  const page = await admin.call('listAuditEvents', { query: { action, agentId } });
  return page.body.data[0].id as string;
}

describe('the event stream', () => {
  it('sends each committed event once, as the audit API shows it', async () => {
    const stream = await subscribe('?action=agent.created');
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.response.headers.get('cache-control')).toBe('no-store');
    const agent = await createAgent(admin);
    const [event] = await stream.next(1);
    expect(event?.event).toBe('agent.created');
    const stored = await admin.call('getAuditEvent', { path: { eventId: event?.id ?? '' } });
    expect(data(event as SseEvent)).toEqual(stored.body);
    expect(stored.body.target).toEqual({ type: 'agent', id: agent.id });
    expect(stream.retry).toBe(3000);
  });

  it('filters by action prefix, agent and outcome', async () => {
    const agent = await createAgent(admin);
    const other = await createAgent(admin);
    const byPrefix = await subscribe(`?action=agent.*&agentId=${agent.id as string}`);
    const failures = await subscribe('?outcome=failure&action=auth.failed');
    await admin.call('updateAgent', { path: { agentId: other.id as string }, body: { description: 'not this one' } });
    await admin.call('updateAgent', { path: { agentId: agent.id as string }, body: { description: 'this one' } });
    await admin.call('updateAgent', { path: { agentId: agent.id as string }, body: { status: 'suspended' } });
    expect((await byPrefix.next(2)).map((e) => [e.event, (data(e).target as { id: string }).id])).toEqual([
      ['agent.updated', agent.id],
      ['agent.suspended', agent.id],
    ]);
    // An organization's token that was revoked still names the organization when it fails.
    const doomed = await root.call('createAdminToken', { path: { orgId: org.orgId }, body: { role: 'reader', label: 'doomed' } });
    await root.call('revokeAdminToken', { path: { orgId: org.orgId, tokenId: doomed.body.id as string } });
    await admin.as(doomed.body.token as string).call('listAgents');
    const [failure] = await failures.next(1);
    expect(data(failure as SseEvent)).toMatchObject({ action: 'auth.failed', outcome: 'failure' });
  });

  it('resumes after Last-Event-ID with exactly the missed events, in order, then goes on live', async () => {
    const first = await createAgent(admin);
    const seen = await eventIdOf('agent.created', first.id as string);
    const missed = [await createAgent(admin), await createAgent(admin), await createAgent(admin)];
    const resumed = await subscribe('?action=agent.created', { authorization: `Bearer ${org.reader}`, 'last-event-id': seen });
    const replayed = await resumed.next(3);
    expect(replayed.map((e) => (data(e).target as { id: string }).id)).toEqual(missed.map((a) => a.id));
    const sequences = replayed.map((e) => data(e).sequence as number);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    const live = await createAgent(admin);
    const [next] = await resumed.next(1);
    expect((data(next as SseEvent).target as { id: string }).id).toBe(live.id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(resumed.events).toHaveLength(4); // no duplicate of a replayed event
  });

  it('sends an event committed right after the response arrived, however late following starts', async () => {
    // Following starts once the request's transaction committed, after the response went out;
    // delayed here, as a busy machine would, the stream must still start where the response did.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- applied below with the feed as `this`
    const follow = AuditFeed.prototype.follow;
    const delayed = jest.spyOn(AuditFeed.prototype, 'follow').mockImplementation(async function (this: AuditFeed, ...args) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return follow.apply(this, args);
    });
    try {
      const stream = await subscribe('?action=agent.created');
      const agent = await createAgent(admin);
      const [event] = await stream.next(1);
      expect((data(event as SseEvent).target as { id: string }).id).toBe(agent.id);
    } finally {
      delayed.mockRestore();
    }
  });

  it('refuses an unknown or foreign Last-Event-ID', async () => {
    const unknown = await root.as(org.reader).call('streamEvents', { headers: { 'last-event-id': 'evt_00000000000000000000000000' } });
    expect([unknown.status, unknown.body.code]).toEqual([400, 'INVALID_LAST_EVENT_ID']);
    const otherOrg = await createOrg(root);
    const foreignAgent = await createAgent(root.as(otherOrg.admin));
    const foreign = await root.as(otherOrg.admin).call('listAuditEvents', { query: { agentId: foreignAgent.id as string } });
    const answer = await root.as(org.reader).call('streamEvents', { headers: { 'last-event-id': foreign.body.data[0].id as string } });
    expect([answer.status, answer.body.code]).toEqual([400, 'INVALID_LAST_EVENT_ID']);
  });

  it('needs audit:read, and an instance admin names the organization', async () => {
    const agent = await createAgent(admin, { allowedScopes: ['agents:read'] });
    const credential = await admin.call('createCredential', { path: { agentId: agent.id as string } });
    const token = await tokenFor(server.baseUrl, { clientId: credential.body.clientId as string, secret: credential.body.secret as string });
    const denied = await root.as(token).call('streamEvents');
    expect([denied.status, denied.body.code]).toEqual([403, 'INSUFFICIENT_SCOPE']);
    const unnamed = await root.call('streamEvents');
    expect([unnamed.status, unnamed.body.code]).toEqual([400, 'ORGANIZATION_REQUIRED']);
    const named = await subscribe('', { authorization: `Bearer ${server.bootstrapToken}`, 'mandate-organization': org.orgId });
    await createAgent(admin);
    expect((await named.next(1))[0]?.event).toBeDefined();
  });

  it('accepts the token as access_token for EventSource, on this operation only, and never logs it', async () => {
    const stream = await subscribe(`?access_token=${org.reader}&action=agent.created`, {});
    await createAgent(admin);
    expect((await stream.next(1))[0]?.event).toBe('agent.created');
    const both = await fetch(streamUrl(`?access_token=${org.reader}`), { headers: { authorization: `Bearer ${org.reader}` } });
    expect([both.status, ((await both.json()) as { code: string }).code]).toEqual([400, 'INVALID_REQUEST']);
    const elsewhere = await fetch(`${server.baseUrl}/v1/agents?access_token=${org.reader}`);
    expect(elsewhere.status).toBe(401); // not a credential anywhere else
    expect(logLines.join('')).not.toContain(org.reader);
    expect(logLines.join('')).toContain('/v1/events/stream');
  });

  it('ends open streams at shutdown, so the server can stop', async () => {
    const stream = await subscribe();
    server.mandate.endStreams();
    await stream.ended;
    expect(stream.events.every((e) => e.event !== 'overflow')).toBe(true);
    await expect(SseClient.open(streamUrl(), { authorization: `Bearer ${org.reader}` })).rejects.toThrow();
  });
});

describe('an event stream connection with a short lifetime (MANDATE_EVENT_STREAM_MAX_SECONDS=1)', () => {
  let short: TestServer;
  beforeAll(async () => {
    short = await startServer('embedded', { MANDATE_EVENT_STREAM_MAX_SECONDS: '1' });
  });
  afterAll(() => short.close());

  it('ends after that long with no final message; resuming misses nothing', async () => {
    const otherOrg = await createOrg(new Api(short.baseUrl, short.bootstrapToken));
    const otherAdmin = new Api(short.baseUrl, short.bootstrapToken).as(otherOrg.admin);
    const headers = { authorization: `Bearer ${otherOrg.reader}` };
    const url = `${short.baseUrl}/v1/events/stream?action=agent.created`;
    const opened = Date.now();
    const first = await SseClient.open(url, headers);
    open.push(first);
    const before = await createAgent(otherAdmin);
    const [seen] = await first.next(1);
    await first.ended;
    const lasted = Date.now() - opened;
    expect(lasted).toBeGreaterThanOrEqual(900);
    expect(lasted).toBeLessThan(5000);
    expect(first.events.map((e) => e.event)).toEqual(['agent.created']);
    expect((data(seen as SseEvent).target as { id: string }).id).toBe(before.id);

    const missed = await createAgent(otherAdmin);
    const resumed = await SseClient.open(url, { ...headers, 'last-event-id': (seen as SseEvent).id ?? '' });
    open.push(resumed);
    const [replayed] = await resumed.next(1);
    expect((data(replayed as SseEvent).target as { id: string }).id).toBe(missed.id);
  });
});
