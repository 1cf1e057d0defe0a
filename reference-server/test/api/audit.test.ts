import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { type AuditEntry, sealAll } from '../../src/domain/audit';
import { AuditWriter } from '../../src/domain/audit-writer';
import { pruneAuditTrail } from '../../src/domain/maintenance';
import { auditStore } from '../../src/store/audit';
import { Api, type Body } from '../helpers/api';
import { isolatedDatabaseUrl } from '../helpers/env';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { basic, postForm } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let db: pg.Client;
let root: Api;

beforeAll(async () => {
  // A database of its own: these tests tamper with and prune the trail.
  const databaseUrl = await isolatedDatabaseUrl('audit');
  server = await startServer('postgres', { DATABASE_URL: databaseUrl });
  root = new Api(server.baseUrl, server.bootstrapToken);
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await server.close();
});

async function allEvents(api: Api, query: Record<string, string> = {}): Promise<Body[]> {
  const events: Body[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { data: Body[]; nextCursor: string | null } } = await api.call('listAuditEvents', {
      query: { limit: 100, ...query, ...(cursor === null ? {} : { cursor }) },
    });
    events.push(...page.body.data);
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  return events;
}

describe('audit events', () => {
  let org: OrgFixture;
  let api: Api;
  beforeAll(async () => {
    org = await createOrg(root);
    api = new Api(server.baseUrl, org.admin);
  });

  it('record every change with actor, action, outcome, target, IP, user agent, request id and time', async () => {
    const before = Date.now();
    const created = await api.call('createAgent', {
      body: { name: 'audited', agentType: 'tool' },
      headers: { 'user-agent': 'audit-test/1.0', 'x-request-id': 'req-audit-1' },
    });
    const events = await allEvents(api, { action: 'agent.created' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      orgId: org.orgId,
      action: 'agent.created',
      outcome: 'success',
      actor: { type: 'admin_token' },
      target: { type: 'agent', id: created.body.id },
      ip: expect.stringMatching(/127\.0\.0\.1/),
      userAgent: 'audit-test/1.0',
      requestId: 'req-audit-1',
    });
    expect(Date.parse(events[0].occurredAt)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('follow the lifecycle of an agent and its credentials, and every authentication', async () => {
    const agent = await createAgent(api, { allowedScopes: ['agents:read'] });
    const credential = await api.call('createCredential', { path: { agentId: agent.id } });
    await api.call('rotateCredential', { path: { agentId: agent.id, credentialId: credential.body.id } });
    const fresh = await api.call('createCredential', { path: { agentId: agent.id } });
    const auth = basic(agent.id, fresh.body.secret);
    await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, auth);
    await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials', scope: 'orgs:admin' }, auth);
    await api.call('updateAgent', { path: { agentId: agent.id }, body: { status: 'suspended' } });
    await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, auth);
    await api.call('updateAgent', { path: { agentId: agent.id }, body: { status: 'active' } });
    await api.call('decommissionAgent', { path: { agentId: agent.id } });

    const actions = (await allEvents(api, { agentId: agent.id })).map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual([
      'agent.created:success',
      'token.issued:success',
      'token.refused:failure',
      'agent.suspended:success',
      'auth.failed:failure',
      'agent.reactivated:success',
      'agent.decommissioned:success',
    ]);
    const credentialActions = (await allEvents(api)).filter((e) => e.metadata.agentId === agent.id).map((e) => e.action);
    expect(credentialActions).toEqual(['credential.created', 'credential.rotated', 'credential.created']);
  });

  it('record admin-token authentication, successful and failed', async () => {
    const minted = await api.call('createAdminToken', { path: { orgId: org.orgId }, body: { role: 'reader', label: 'soon-revoked' } });
    await root.as(minted.body.token).call('listAgents');
    await api.call('revokeAdminToken', { path: { orgId: org.orgId, tokenId: minted.body.id } });
    await root.as(minted.body.token).call('listAgents');
    const byToken = (await allEvents(api)).filter((e) => e.actor.id === minted.body.id).map((e) => `${e.action}:${e.outcome}`);
    expect(byToken).toEqual(['auth.succeeded:success', 'auth.failed:failure']);
  });

  it('filter by outcome and time, and page in order', async () => {
    const failures = await allEvents(api, { outcome: 'failure' });
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((e) => e.outcome === 'failure')).toBe(true);
    const all = await allEvents(api);
    expect(all.map((e) => e.sequence)).toEqual(all.map((_, i) => i + 1));
    const future = await allEvents(api, { since: new Date(Date.now() + 60_000).toISOString() });
    expect(future).toEqual([]);
    const one = await api.call('getAuditEvent', { path: { eventId: all[0].id } });
    expect(one.body).toEqual(all[0]);
  });

  it('cannot be listed across organizations', async () => {
    const other = await createOrg(root);
    const mine = await allEvents(api);
    const foreign = await new Api(server.baseUrl, other.admin).call('getAuditEvent', { path: { eventId: mine[0].id } });
    expect(foreign.status).toBe(404);
  });
});

describe('the hash chain', () => {
  it('verifies intact, then reports the first changed event', async () => {
    const org = await createOrg(root);
    const api = new Api(server.baseUrl, org.admin);
    for (let i = 0; i < 3; i++) await createAgent(api);
    const intact = await api.call('verifyAuditChain');
    expect(intact.body).toMatchObject({ intact: true, firstBrokenEventId: null });
    expect(intact.body.eventsChecked).toBeGreaterThanOrEqual(4);

    const events = await allEvents(api);
    const victim = events[2];
    await db.query(`UPDATE audit_events SET metadata = '{"name":"forged"}' WHERE id = $1`, [victim.id]);
    expect(events.map((event) => event.id)).toContain(intact.body.lastVerifiedEventId);
    const tampered = await api.call('verifyAuditChain');
    expect(tampered.body).toMatchObject({ intact: false, firstBrokenEventId: victim.id, reason: "hash does not match the event's content", lastVerifiedEventId: events[1].id });
  });

  it('reports a removed event', async () => {
    const org = await createOrg(root);
    const api = new Api(server.baseUrl, org.admin);
    for (let i = 0; i < 3; i++) await createAgent(api);
    const events = await allEvents(api);
    await db.query('DELETE FROM audit_events WHERE id = $1', [events[1].id]);
    const result = await api.call('verifyAuditChain');
    expect(result.body).toMatchObject({ intact: false, firstBrokenEventId: events[2].id });
  });

  it("is append-only for the server's own database role", async () => {
    await db.query('BEGIN');
    try {
      await db.query('SET LOCAL ROLE mandate_app');
      await expect(db.query(`UPDATE audit_events SET action = 'x'`)).rejects.toThrow(/permission denied/);
    } finally {
      await db.query('ROLLBACK');
    }
    await db.query('BEGIN');
    try {
      await db.query('SET LOCAL ROLE mandate_app');
      await expect(db.query('DELETE FROM audit_events')).rejects.toThrow(/permission denied/);
    } finally {
      await db.query('ROLLBACK');
    }
  });
});

describe('group commit after a known head', () => {
  const entry = (action: string, orgId: string): AuditEntry => ({
    orgId, action, outcome: 'success', actor: { type: 'system', id: null }, target: null, ip: null, userAgent: null, requestId: null,
  });
  const testActions = async (api: Api): Promise<string[]> =>
    (await allEvents(api)).map((e) => e.action as string).filter((action) => action.startsWith('test.'));

  it('appends only while the head is where the writer left it, and never breaks the chain', async () => {
    const org = await createOrg(root);
    const api = new Api(server.baseUrl, org.admin);
    await createAgent(api);
    const chain = org.orgId;
    const head = async (): Promise<{ sequence: number; hash: string }> =>
      (await db.query('SELECT sequence::float8 AS sequence, hash FROM audit_chain_heads WHERE chain = $1', [chain])).rows[0];
    const append = (after: { sequence: number; hash: string }, events: ReturnType<typeof sealAll>) =>
      auditStore.appendAfterHeads(server.mandate.db, [{ chain, after, events }]);

    const at = await head();
    const behind = { sequence: at.sequence - 1, hash: at.hash };
    // Refused, and told where the head really is.
    expect(await append(behind, sealAll([entry('test.stale', chain)], chain, behind))).toEqual(new Map([[chain, { appended: false, head: at }]]));

    const events = sealAll([entry('test.first', chain), entry('test.second', chain)], chain, at);
    const [first, second] = events;
    if (first === undefined || second === undefined) throw new Error('two events expected');
    await expect(append(at, [first, { ...second, prevHash: at.hash }])).rejects.toThrow(/do not continue/);
    await expect(append(at, [first, { ...second, sequence: second.sequence + 1 }])).rejects.toThrow(/do not continue/);
    await expect(append(at, sealAll([entry('test.elsewhere', 'org_elsewhere')], chain, at))).rejects.toThrow(/do not continue/);
    expect(await head()).toEqual(at);

    expect(await append(at, events)).toEqual(new Map([[chain, { appended: true, head: { sequence: at.sequence + 2, hash: second.hash } }]]));
    expect(await head()).toEqual({ sequence: at.sequence + 2, hash: second.hash });
    expect(await testActions(api)).toEqual(['test.first', 'test.second']);
    expect((await api.call('verifyAuditChain')).body).toMatchObject({ intact: true });
  });

  it('one event the database refuses fails alone, never the rest of its batch', async () => {
    const org = await createOrg(root);
    const api = new Api(server.baseUrl, org.admin);
    const writer = new AuditWriter(server.mandate.db);
    try {
      await writer.append(entry('test.warm_up', org.orgId)); // the writer now knows the head
      const refused = { ...entry('test.refused', org.orgId), outcome: 'neither' } as unknown as AuditEntry; // fails a CHECK
      const results = await Promise.allSettled([
        writer.append(entry('test.before', org.orgId)),
        writer.append(refused),
        writer.append(entry('test.after', org.orgId)),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    } finally {
      await writer.close();
    }
    expect(await testActions(api)).toEqual(['test.warm_up', 'test.before', 'test.after']);
    expect((await api.call('verifyAuditChain')).body).toMatchObject({ intact: true });
  });

  it('a writer that lost the race seals its events again on the head that beat it, without taking the lock', async () => {
    const org = await createOrg(root);
    const api = new Api(server.baseUrl, org.admin);
    const store = server.mandate.db;
    const [one, two] = [new AuditWriter(store), new AuditWriter(store)];
    await one.append(entry('test.one', org.orgId));
    await two.append(entry('test.two', org.orgId)); // moves the head writer one remembers
    const compareAndSet = jest.spyOn(auditStore, 'appendAfterHeads');
    const underLock = jest.spyOn(store, 'tenantTransaction');
    try {
      await one.append(entry('test.three', org.orgId));
      expect(compareAndSet).toHaveBeenCalledTimes(2);
      const outcomes = await Promise.all(compareAndSet.mock.results.map(async (r) => (await (r.value as ReturnType<typeof auditStore.appendAfterHeads>)).get(org.orgId)));
      expect(outcomes).toEqual([expect.objectContaining({ appended: false }), expect.objectContaining({ appended: true })]);
      expect(underLock).not.toHaveBeenCalled();
    } finally {
      compareAndSet.mockRestore();
      underLock.mockRestore();
      await Promise.all([one.close(), two.close()]);
    }
    expect(await testActions(api)).toEqual(['test.one', 'test.two', 'test.three']);
    expect((await api.call('verifyAuditChain')).body).toMatchObject({ intact: true });
  });
});

describe('retention', () => {
  it('exports events past the window before pruning them, and the rest still verifies', async () => {
    const org = await createOrg(root);
    const api = new Api(server.baseUrl, org.admin);
    for (let i = 0; i < 3; i++) await createAgent(api);
    const before = await allEvents(api);
    // Age the first three events of this organization's chain past a 90-day window (this
    // rewrites their content, so their hashes no longer match; they are about to go anyway).
    await db.query(`UPDATE audit_events SET occurred_at = occurred_at - interval '120 days' WHERE chain = $1 AND sequence <= 3`, [org.orgId]);
    const dir = mkdtempSync(path.join(tmpdir(), 'audit-export-'));
    const exported = await pruneAuditTrail(server.mandate.db, dir, 90);
    const slice = exported.find((e) => e.chain === org.orgId);
    expect(slice).toMatchObject({ fromSequence: 1, toSequence: 3 });
    const lines = readFileSync(slice?.file ?? '', 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((e) => e.id)).toEqual(before.slice(0, 3).map((e) => e.id));

    // Listing records its own authentications, so newer events follow the survivors.
    const after = await allEvents(api);
    expect(after.slice(0, before.length - 3).map((e) => e.id)).toEqual(before.slice(3).map((e) => e.id));
    // The chain verifies from the anchor the pruning left.
    const result = await api.call('verifyAuditChain');
    expect(result.body.intact).toBe(true);
    expect(result.body.eventsChecked).toBeGreaterThanOrEqual(after.length); // plus its own authentication
  });
});
