/**
 * Plans, quotas and usage: an organization's plan and overrides, each quota refusing the
 * request over it with QUOTA_EXCEEDED (and nothing before), and usage figures equal to the
 * operations actually performed, read back by a second instance on the same database.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api, type Body } from '../helpers/api';
import { createAgent, unique } from '../helpers/fixtures';
import { basic, postForm, tokenFor } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let root: Api;

beforeAll(async () => {
  server = await startServer('postgres', { MANDATE_PLAN_QUOTAS: JSON.stringify({ free: { activeAgents: 3 } }) });
  root = new Api(server.baseUrl, server.bootstrapToken);
});
afterAll(() => server.close());

/** An organization on `plan` with `quotaOverrides`, and its admin token. */
async function orgOn(plan: string | undefined, quotaOverrides?: Record<string, number | null>): Promise<{ org: Body; api: Api }> {
  const created = await root.call('createOrg', { body: { name: unique('org'), ...(plan === undefined ? {} : { plan }), ...(quotaOverrides === undefined ? {} : { quotaOverrides }) } });
  expect(created.status).toBe(201);
  const token = await root.call('createAdminToken', { path: { orgId: created.body.id }, body: { role: 'admin', label: 'quota-test' } });
  return { org: created.body, api: new Api(server.baseUrl, token.body.token as string) };
}

/** An agent of the organization that can get tokens, and its client id and secret. */
async function agentWithSecret(api: Api): Promise<{ clientId: string; secret: string }> {
  const agent = await createAgent(api, { allowedScopes: ['agents:read'] });
  const credential = await api.call('createCredential', { path: { agentId: agent.id } });
  return { clientId: credential.body.clientId as string, secret: credential.body.secret as string };
}

const nextMonth = (): string => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
};

describe('plans', () => {
  it('puts a new organization on the default plan, enterprise, with no quota', async () => {
    const { org } = await orgOn(undefined);
    expect(org).toMatchObject({ plan: 'enterprise', quotas: { activeAgents: null, tokensPerMonth: null, apiCallsPerMinute: null }, quotaOverrides: {} });
  });

  it('applies the configured plan quotas and then the organization’s overrides', async () => {
    const { org } = await orgOn('free', { tokensPerMonth: 50, apiCallsPerMinute: null });
    // MANDATE_PLAN_QUOTAS changed free's activeAgents to 3; the rest are the defaults.
    expect(org).toMatchObject({ plan: 'free', quotas: { activeAgents: 3, tokensPerMonth: 50, apiCallsPerMinute: null }, quotaOverrides: { tokensPerMonth: 50, apiCallsPerMinute: null } });
    const pro = await root.call('updateOrg', { path: { orgId: org.id }, body: { plan: 'pro', quotaOverrides: {} } });
    expect(pro.body).toMatchObject({ plan: 'pro', quotas: { activeAgents: 1000, tokensPerMonth: 10_000_000, apiCallsPerMinute: 6000 }, quotaOverrides: {} });
  });

  it('lets only the instance administrator change a plan or quotas, and audits the change', async () => {
    const { org, api } = await orgOn('free');
    for (const body of [{ plan: 'enterprise' }, { quotaOverrides: { activeAgents: null } }]) {
      const refused = await api.call('updateOrg', { path: { orgId: org.id }, body });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('FORBIDDEN');
    }
    expect((await api.call('updateOrg', { path: { orgId: org.id }, body: { name: unique('renamed') } })).status).toBe(200);
    expect((await root.call('updateOrg', { path: { orgId: org.id }, body: { plan: 'pro' } })).body.plan).toBe('pro');
    const events = await api.call('listAuditEvents', { query: { action: 'org.updated' } });
    expect(events.body.data.map((e: Body) => e.metadata)).toContainEqual({ fields: ['plan'], plan: 'pro' });
  });

  it('refuses an unknown plan or a quota that is not a whole number', async () => {
    expect((await root.call('createOrg', { body: { name: unique('org'), plan: 'gold' } })).status).toBe(400);
    expect((await root.call('createOrg', { body: { name: unique('org'), quotaOverrides: { activeAgents: -1 } } })).status).toBe(400);
    expect((await root.call('createOrg', { body: { name: unique('org'), quotaOverrides: { seats: 3 } } })).status).toBe(400);
  });
});

describe('the activeAgents quota', () => {
  it('refuses the N+1th agent until one is decommissioned; suspended agents count', async () => {
    const { api } = await orgOn('free'); // 3 active agents
    const agents = [await createAgent(api), await createAgent(api), await createAgent(api)];
    await api.call('updateAgent', { path: { agentId: agents[0].id }, body: { status: 'suspended' } });
    const refused = await api.call('createAgent', { body: { name: unique('agent'), agentType: 'tool' } });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: { name: 'activeAgents', limit: 3, resetAt: null } });
    // Dynamic client registration creates agents too.
    const registration = await fetch(`${server.baseUrl}/oauth2/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: unique('dcr'), grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' }),
    });
    expect(registration.status).toBe(403);
    expect(((await registration.json()) as Body).code).toBe('QUOTA_EXCEEDED');
    expect((await api.call('decommissionAgent', { path: { agentId: agents[1].id } })).status).toBe(200);
    expect((await api.call('createAgent', { body: { name: unique('agent'), agentType: 'tool' } })).status).toBe(201);
  });

  it('lets only as many concurrent registrations through as there are places', async () => {
    const { api } = await orgOn('free', { activeAgents: 2 });
    const answers = await Promise.all(Array.from({ length: 6 }, () => api.call('createAgent', { body: { name: unique('agent'), agentType: 'tool' } })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 403, 403, 403, 403]);
  });
});

describe('the tokensPerMonth quota', () => {
  it('refuses the token over the month’s quota with quota_exceeded, every grant alike', async () => {
    const { api } = await orgOn('pro', { tokensPerMonth: 3 });
    const client = await agentWithSecret(api);
    for (let i = 0; i < 3; i++) await tokenFor(server.baseUrl, client);
    const refused = await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, basic(client.clientId, client.secret));
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      error: 'quota_exceeded',
      error_description: 'The organization has issued its 3 tokens for this month.',
      quota: { name: 'tokensPerMonth', limit: 3, resetAt: nextMonth() },
    });
    // A second agent of the same organization shares the quota.
    const other = await agentWithSecret(api);
    expect((await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, basic(other.clientId, other.secret))).status).toBe(403);
  });

  it('counts the tokens another instance issued', async () => {
    const { org, api } = await orgOn('pro', { tokensPerMonth: 4 });
    const client = await agentWithSecret(api);
    const second = await startServer('postgres');
    try {
      for (let i = 0; i < 3; i++) await tokenFor(second.baseUrl, client);
      await tokenFor(server.baseUrl, client);
      expect((await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, basic(client.clientId, client.secret))).status).toBe(403);
      // Each instance reads what the others recorded once a second.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect((await postForm(second.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, basic(client.clientId, client.secret))).status).toBe(403);
    } finally {
      await second.close();
    }
    expect(org.quotas.tokensPerMonth).toBe(4);
  });
});

describe('the apiCallsPerMinute quota', () => {
  it('paces all the organization’s callers together and refuses with QUOTA_EXCEEDED and Retry-After', async () => {
    const { org, api } = await orgOn('pro', { apiCallsPerMinute: 4 });
    const client = await agentWithSecret(api); // 2 calls
    const agentApi = api.as(await tokenFor(server.baseUrl, client));
    expect((await api.call('listAgents')).status).toBe(200);
    expect((await agentApi.call('listAgents')).status).toBe(200);
    const refused = await agentApi.call('listAgents');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: { name: 'apiCallsPerMinute', limit: 4 } });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(Date.parse(refused.body.quota.resetAt) - Date.now()).toBeLessThanOrEqual(retryAfter * 1000);
    expect(refused.headers.get('ratelimit-policy')).toContain('"org-api";q=4;w=60');
    // The instance administrator is on no organization's plan.
    expect((await root.call('listAgents', { headers: { 'mandate-organization': org.id } })).status).toBe(200);
  });
});

describe('usage', () => {
  it('reports per day exactly what was done, and a second instance reads the same', async () => {
    const { org, api } = await orgOn('pro');
    const client = await agentWithSecret(api); // 2 API calls
    const decommissioned = await createAgent(api); // 1
    await api.call('decommissionAgent', { path: { agentId: decommissioned.id } }); // 1
    for (let i = 0; i < 5; i++) await tokenFor(server.baseUrl, client);
    for (let i = 0; i < 2; i++) await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, basic(client.clientId, 'wrong'));
    const agentApi = api.as(await tokenFor(server.baseUrl, client)); // the 6th token
    await agentApi.call('getAgent', { path: { agentId: client.clientId } }); // 1
    const revoked = await root.call('createAdminToken', { path: { orgId: org.id }, body: { role: 'reader', label: 'soon revoked' } });
    await root.call('revokeAdminToken', { path: { orgId: org.id, tokenId: revoked.body.id } });
    expect((await api.as(revoked.body.token as string).call('listAgents')).status).toBe(401);

    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const expected = { date: today, tokensIssued: 6, activeAgents: 1, apiCalls: 6, failedAuthentications: 3 };
    const usage = await api.call('getUsage', { query: { from: yesterday, to: today } }); // the 6th call
    expect(usage.status).toBe(200);
    expect(usage.body).toMatchObject({ orgId: org.id, plan: 'pro', from: yesterday, to: today, currentMonth: { tokensIssued: 6, apiCalls: 6, failedAuthentications: 3, activeAgents: 1, resetAt: nextMonth() } });
    expect(usage.body.days).toEqual([{ date: yesterday, tokensIssued: 0, activeAgents: 0, apiCalls: 0, failedAuthentications: 0 }, expected]);

    const second = await startServer('postgres');
    try {
      const again = await new Api(second.baseUrl, api.token).call('getUsage'); // the 7th
      expect(again.body.days.at(-1)).toEqual({ ...expected, apiCalls: 7 });
      expect(again.body.from).toBe(`${today.slice(0, 8)}01`);
    } finally {
      await second.close();
    }
  });

  it('refuses a period that ends before it starts or spans more than 366 days', async () => {
    const { api } = await orgOn(undefined);
    const backwards = await api.call('getUsage', { query: { from: '2026-12-02', to: '2026-12-01' } });
    expect(backwards.status).toBe(400);
    expect(backwards.body.code).toBe('INVALID_PERIOD');
    expect((await api.call('getUsage', { query: { from: '2025-01-01', to: '2026-01-02' } })).status).toBe(400);
    expect((await api.call('getUsage', { query: { from: '2026-13-01' } })).status).toBe(400);
    expect((await api.call('getUsage', { query: { from: '2025-01-01', to: '2026-01-01' } })).body.days).toHaveLength(366);
  });
});

describe('the instance administrator', () => {
  it('registers agents in an organization within its quota, naming it by header', async () => {
    const { org } = await orgOn('free', { activeAgents: 1 });
    const headers = { 'mandate-organization': org.id };
    expect((await root.call('createAgent', { headers, body: { name: unique('agent'), agentType: 'tool' } })).status).toBe(201);
    const refused = await root.call('createAgent', { headers, body: { name: unique('agent'), agentType: 'tool' } });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('QUOTA_EXCEEDED');
  });
});
