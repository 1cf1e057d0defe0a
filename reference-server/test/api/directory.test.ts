/**
 * The public directory: listed, active agents of every organization, for anyone, with
 * nothing their organizations keep private; search, capability filter, pagination, the
 * public agent card, and the per-address rate limit.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api, type Body } from '../helpers/api';
import { createAgent, createOrg, unique } from '../helpers/fixtures';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let admin: Api;
let otherAdmin: Api;
/** Every agent of this suite has this in its name, so other suites' agents never interfere. */
const tag = unique('dir').replace(/[^a-z0-9-]/g, '-');
const agents: Record<string, Body> = {};

const anonymous = (path: string) => fetch(`${server.baseUrl}${path}`).then(async (response) => ({ status: response.status, headers: response.headers, body: (await response.json()) as Body }));
const search = (query: Record<string, string> = {}) => anonymous(`/v1/directory/agents?${new URLSearchParams({ q: tag, ...query }).toString()}`);
const names = (body: Body) => (body.data as Body[]).map((entry) => entry.name as string);

beforeAll(async () => {
  server = await startServer('postgres');
  const root = new Api(server.baseUrl, server.bootstrapToken);
  const org = await createOrg(root);
  admin = new Api(server.baseUrl, org.admin);
  otherAdmin = new Api(server.baseUrl, (await createOrg(root)).admin);
  const secretive = { owner: 'ops@acme.example', metadata: { costCenter: 'rnd-42', url: 'https://bot.acme.example' }, allowedScopes: ['agents:read'] };
  agents.listed = await createAgent(admin, { name: `${tag}-listed`, description: 'Reconciles INVOICES nightly.', capabilities: ['invoices-read', 'ledger-write'], public: true, ...secretive });
  agents.private = await createAgent(admin, { name: `${tag}-private`, capabilities: ['invoices-read'], ...secretive });
  agents.suspended = await createAgent(admin, { name: `${tag}-suspended`, capabilities: ['invoices-read'], public: true, ...secretive });
  await admin.call('updateAgent', { path: { agentId: agents.suspended.id }, body: { status: 'suspended' } });
  agents.decommissioned = await createAgent(admin, { name: `${tag}-decommissioned`, public: true });
  await admin.call('decommissionAgent', { path: { agentId: agents.decommissioned.id } });
  agents.elsewhere = await createAgent(otherAdmin, { name: `${tag}-elsewhere`, capabilities: ['search'], public: true });
});
afterAll(() => server.close());

describe('listing', () => {
  it('shows the listed, active agents of every organization, and nothing private', async () => {
    const answer = await search();
    expect(answer.status).toBe(200);
    expect(names(answer.body)).toEqual([`${tag}-listed`, `${tag}-elsewhere`]);
    const [entry] = answer.body.data as Body[];
    expect(Object.keys(entry).sort()).toEqual(['agentCardUrl', 'capabilities', 'description', 'did', 'id', 'name', 'organizationName']);
    expect(entry).toEqual({
      id: agents.listed.id,
      name: `${tag}-listed`,
      description: 'Reconciles INVOICES nightly.',
      capabilities: ['invoices-read', 'ledger-write'],
      organizationName: expect.stringMatching(/^org-/),
      did: `did:web:localhost%3A8080:agents:${String(agents.listed.id)}`,
      agentCardUrl: `${server.issuer}/v1/directory/agents/${String(agents.listed.id)}/card`,
    });
    expect(JSON.stringify(answer.body)).not.toMatch(/ops@acme|rnd-42|agents:read|orgId/);
  });

  it('searches names and descriptions without regard to case, and filters by capability', async () => {
    expect(names((await search({ q: `${tag.toUpperCase()}-LISTED` })).body)).toEqual([`${tag}-listed`]);
    expect(names((await anonymous(`/v1/directory/agents?q=${encodeURIComponent('invoices nightly')}&limit=100`)).body)).toContain(`${tag}-listed`);
    expect(names((await search({ capability: 'search' })).body)).toEqual([`${tag}-elsewhere`]);
    expect(names((await search({ capability: 'invoices' })).body)).toEqual([]); // exact, not a prefix
  });

  it('pages with cursors', async () => {
    const first = await search({ limit: '1' });
    expect(names(first.body)).toEqual([`${tag}-listed`]);
    const second = await search({ limit: '1', cursor: first.body.nextCursor as string });
    expect(names(second.body)).toEqual([`${tag}-elsewhere`]);
    expect(second.body.nextCursor).toBeNull();
    expect((await search({ cursor: 'forged' })).body.code).toBe('INVALID_CURSOR');
  });

  it('follows changes: an agent made private, or public, leaves or joins at once', async () => {
    await otherAdmin.call('updateAgent', { path: { agentId: agents.elsewhere.id }, body: { public: false } });
    expect(names((await search()).body)).toEqual([`${tag}-listed`]);
    await otherAdmin.call('updateAgent', { path: { agentId: agents.elsewhere.id }, body: { public: true } });
    expect(names((await search()).body)).toEqual([`${tag}-listed`, `${tag}-elsewhere`]);
  });

  it('is rate-limited per client address, and says so in its headers', async () => {
    const answer = await search();
    expect(answer.headers.get('ratelimit-policy')).toBe('"directory-address";q=100000000;w=60');
  });
});

describe('one agent', () => {
  it('is shown when listed and active, and is the same 404 otherwise', async () => {
    const listed = await anonymous(`/v1/directory/agents/${String(agents.listed.id)}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual((await search()).body.data[0]);
    for (const hidden of ['private', 'suspended', 'decommissioned']) {
      const answer = await anonymous(`/v1/directory/agents/${String(agents[hidden]?.id)}`);
      expect({ hidden, status: answer.status, code: answer.body.code }).toEqual({ hidden, status: 404, code: 'AGENT_NOT_FOUND' });
    }
    expect((await anonymous('/v1/directory/agents/agt_00000000000000000000000000')).status).toBe(404);
    expect((await anonymous('/v1/directory/agents/not-an-id')).body.code).toBe('VALIDATION_ERROR');
  });

  it('has a public agent card, and none when it is not listed', async () => {
    const card = await anonymous(`/v1/directory/agents/${String(agents.listed.id)}/card`);
    expect(card.status).toBe(200);
    expect(card.body).toMatchObject({ name: `${tag}-listed`, url: 'https://bot.acme.example/', skills: [{ id: 'invoices-read' }, { id: 'ledger-write' }] });
    expect((await anonymous(`/v1/directory/agents/${String(agents.private.id)}/card`)).status).toBe(404);
  });
});
