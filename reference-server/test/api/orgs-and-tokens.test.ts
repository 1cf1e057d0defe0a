import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../helpers/api';
import { type OrgFixture, createAgent, createOrg, unique } from '../helpers/fixtures';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let root: Api;

beforeAll(async () => {
  server = await startServer('postgres');
  root = new Api(server.baseUrl, server.bootstrapToken);
});
afterAll(() => server.close());

describe('organizations', () => {
  it('creates, reads, updates and lists organizations', async () => {
    const created = await root.call('createOrg', { body: { name: 'Acme', metadata: { costCenter: 'rnd-42' } } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Acme', metadata: { costCenter: 'rnd-42' } });
    expect(created.body.id).toMatch(/^org_[0-9a-z]{26}$/);
    const orgId = created.body.id as string;

    const updated = await root.call('updateOrg', { path: { orgId }, body: { name: 'Acme EU' } });
    expect(updated.body).toMatchObject({ name: 'Acme EU', metadata: { costCenter: 'rnd-42' } });
    expect((await root.call('getOrg', { path: { orgId } })).body.name).toBe('Acme EU');

    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: { id: string }[]; nextCursor: string | null } } = await root.call('listOrgs', {
        query: cursor === null ? { limit: 2 } : { limit: 2, cursor },
      });
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      ids.push(...page.body.data.map((o) => o.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(ids).toContain(orgId);
    expect([...ids].sort()).toEqual(ids); // creation order, no duplicates across pages
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows an organization token only its own organization', async () => {
    const a = await createOrg(root);
    await createOrg(root);
    const list = await root.as(a.reader).call('listOrgs');
    expect(list.body.data.map((o: { id: string }) => o.id)).toEqual([a.orgId]);
  });

  it('lets only the instance admin create or delete organizations', async () => {
    const a = await createOrg(root);
    const create = await root.as(a.admin).call('createOrg', { body: { name: 'sneaky' } });
    expect(create.status).toBe(403);
    expect(create.body.code).toBe('INSTANCE_ADMIN_REQUIRED');
    const del = await root.as(a.admin).call('deleteOrg', { path: { orgId: a.orgId } });
    expect(del.status).toBe(403);
  });

  it('refuses to delete an organization with live agents, then deletes it and its tokens', async () => {
    const org = await createOrg(root);
    const agent = await createAgent(new Api(server.baseUrl, org.admin));
    const refused = await root.call('deleteOrg', { path: { orgId: org.orgId } });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('ORG_HAS_ACTIVE_AGENTS');

    await root.as(org.admin).call('decommissionAgent', { path: { agentId: agent.id } });
    expect((await root.call('deleteOrg', { path: { orgId: org.orgId } })).status).toBe(204);
    expect((await root.call('getOrg', { path: { orgId: org.orgId } })).body.code).toBe('ORG_NOT_FOUND');
    const stale = await root.as(org.admin).call('listAgents');
    expect(stale.status).toBe(401);
  });
});

describe('admin tokens', () => {
  let org: OrgFixture;
  beforeAll(async () => {
    org = await createOrg(root);
  });

  it('mints a token shown once, lists metadata only, and revokes it', async () => {
    const minted = await root.as(org.admin).call('createAdminToken', {
      path: { orgId: org.orgId },
      body: { role: 'reader', label: 'ci', expiresAt: new Date(Date.now() + 3600_000).toISOString() },
    });
    expect(minted.status).toBe(201);
    expect(minted.body.token).toMatch(/^mdt_pat_[A-Za-z0-9_-]{43}$/);
    expect(minted.body.prefix).toBe(minted.body.token.slice(0, 16));
    const token = minted.body.token as string;
    expect((await root.as(token).call('listAgents')).status).toBe(200);

    const list = await root.as(org.admin).call('listAdminTokens', { path: { orgId: org.orgId } });
    const listed = list.body.data.find((t: { id: string }) => t.id === minted.body.id);
    expect(listed).toMatchObject({ role: 'reader', label: 'ci', status: 'active' });
    expect(JSON.stringify(list.body)).not.toContain(token);

    const revoked = await root.as(org.admin).call('revokeAdminToken', { path: { orgId: org.orgId, tokenId: minted.body.id } });
    expect(revoked.body.status).toBe('revoked');
    const again = await root.as(org.admin).call('revokeAdminToken', { path: { orgId: org.orgId, tokenId: minted.body.id } });
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
    const refused = await root.as(token).call('listAgents');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('records when a token was last used', async () => {
    const minted = await root.as(org.admin).call('createAdminToken', { path: { orgId: org.orgId }, body: { role: 'reader', label: unique('used') } });
    const lastUsed = async (): Promise<string | null> => {
      const list = await root.as(org.admin).call('listAdminTokens', { path: { orgId: org.orgId }, query: { limit: 100 } });
      return list.body.data.find((t: { id: string }) => t.id === minted.body.id).lastUsedAt;
    };
    expect(await lastUsed()).toBeNull();
    await root.as(minted.body.token).call('listAgents');
    // Written off the request path, within about a second.
    const deadline = Date.now() + 5000;
    while ((await lastUsed()) === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await lastUsed()).not.toBeNull();
  });

  it('refuses an expiry in the past', async () => {
    const response = await root.as(org.admin).call('createAdminToken', {
      path: { orgId: org.orgId },
      body: { role: 'reader', label: 'old', expiresAt: '2020-01-01T00:00:00Z' },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors[0]).toMatchObject({ field: 'body.expiresAt', code: 'future' });
  });

  it('answers 401 without credentials, with a bare challenge', async () => {
    const response = await root.as(null).call('listOrgs');
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('AUTHENTICATION_REQUIRED');
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="mandate"');
  });

  it('refuses malformed and unknown tokens alike', async () => {
    for (const token of ['nonsense', `mdt_pat_${'A'.repeat(43)}`, `${org.admin}x`, org.admin.toLowerCase()]) {
      const response = await root.as(token).call('listOrgs');
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('INVALID_TOKEN');
    }
  });
});
