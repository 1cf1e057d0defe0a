import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Api } from '../helpers/api';
import { createAgent, createOrg, unique } from '../helpers/fixtures';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let api: Api;
let other: Api;

beforeAll(async () => {
  server = await startServer('postgres');
  const root = new Api(server.baseUrl, server.bootstrapToken);
  const org = await createOrg(root);
  api = new Api(server.baseUrl, org.admin);
  other = new Api(server.baseUrl, org.writer);
});
afterAll(() => server.close());

const withKey = (key: string) => ({ 'Idempotency-Key': key });

describe('Idempotency-Key', () => {
  it('replays the first response and creates one record', async () => {
    const key = randomUUID();
    const body = { name: unique('idem'), agentType: 'tool' };
    const first = await api.call('createAgent', { body, headers: withKey(key) });
    const second = await api.call('createAgent', { body, headers: withKey(key) });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const list = await api.call('listAgents', { query: { q: body.name } });
    expect(list.body.data).toHaveLength(1);
  });

  it('acts once under concurrent retries', async () => {
    const key = randomUUID();
    const agent = await createAgent(api);
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => api.call('createCredential', { path: { agentId: agent.id }, headers: withKey(key) })),
    );
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(new Set(responses.map((r) => r.body.secret)).size).toBe(1);
    const list = await api.call('listCredentials', { path: { agentId: agent.id } });
    expect(list.body.data).toHaveLength(1);
  });

  it('refuses the same key with a different request', async () => {
    const key = randomUUID();
    await api.call('createAgent', { body: { name: unique('a'), agentType: 'tool' }, headers: withKey(key) });
    const reused = await api.call('createAgent', { body: { name: unique('b'), agentType: 'tool' }, headers: withKey(key) });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('compares bodies as parsed JSON: key order and whitespace do not make another request', async () => {
    const key = randomUUID();
    const name = unique('json');
    const first = await api.call('createAgent', { rawBody: `{"name":"${name}","agentType":"tool"}`, headers: { ...withKey(key), 'content-type': 'application/json' } });
    const retry = await api.call('createAgent', {
      rawBody: `{ "agentType" : "tool",\n  "name" : "${name}" }`,
      headers: { ...withKey(key), 'content-type': 'application/json' },
    });
    expect(first.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.id).toBe(first.body.id);
  });

  it('refuses a key reused on another operation', async () => {
    const key = randomUUID();
    const agent = await createAgent(api);
    expect((await api.call('createCredential', { path: { agentId: agent.id }, headers: withKey(key) })).status).toBe(201);
    const elsewhere = await api.call('createWebhook', { body: { url: 'https://example.com/hook', events: ['agent.*'] }, headers: withKey(key) });
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('does not store failures, so a corrected retry with the same key succeeds', async () => {
    const key = randomUUID();
    const name = unique('taken');
    await createAgent(api, { name });
    const clash = await api.call('createAgent', { body: { name, agentType: 'tool' }, headers: withKey(key) });
    expect(clash.status).toBe(409);
    const again = await api.call('createAgent', { body: { name, agentType: 'tool' }, headers: withKey(key) });
    expect(again.status).toBe(409);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
  });

  it('scopes keys to the caller', async () => {
    const key = randomUUID();
    const body = { name: unique('mine'), agentType: 'tool' };
    const mine = await api.call('createAgent', { body, headers: withKey(key) });
    const theirs = await other.call('createAgent', { body: { ...body, name: unique('theirs') }, headers: withKey(key) });
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(mine.body.id);
  });

  it('replays deletes and status-only responses too', async () => {
    const key = randomUUID();
    const agent = await createAgent(api);
    const first = await api.call('decommissionAgent', { path: { agentId: agent.id }, headers: withKey(key) });
    const second = await api.call('decommissionAgent', { path: { agentId: agent.id }, headers: withKey(key) });
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
  });
});
