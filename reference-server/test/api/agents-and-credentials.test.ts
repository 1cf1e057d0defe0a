import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../helpers/api';
import { createAgent, createOrg, unique } from '../helpers/fixtures';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let api: Api;

beforeAll(async () => {
  server = await startServer('postgres');
  const org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  api = new Api(server.baseUrl, org.admin);
});
afterAll(() => server.close());

describe('agents', () => {
  it('registers an agent with every field', async () => {
    const body = {
      name: unique('billing-bot'),
      description: 'Reconciles invoices. 請求書 ✓',
      agentType: 'autonomous',
      version: '1.4.0',
      capabilities: ['invoices-read', 'ledger-write'],
      owner: 'payments@acme.example',
      deploymentEnv: 'production',
      allowedScopes: ['agents:read', 'invoices:read'],
      metadata: { team: 'payments' },
    };
    const created = await api.call('createAgent', { body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...body, status: 'active', suspendedAt: null, decommissionedAt: null });
    expect((await api.call('getAgent', { path: { agentId: created.body.id } })).body).toEqual(created.body);
  });

  it('keeps names unique among live agents, and frees a decommissioned name', async () => {
    const name = unique('dup');
    const first = await createAgent(api, { name });
    const clash = await api.call('createAgent', { body: { name, agentType: 'tool' } });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('AGENT_NAME_TAKEN');
    const other = await createAgent(api);
    const renamed = await api.call('updateAgent', { path: { agentId: other.id }, body: { name } });
    expect(renamed.body.code).toBe('AGENT_NAME_TAKEN');
    await api.call('decommissionAgent', { path: { agentId: first.id } });
    expect((await api.call('createAgent', { body: { name, agentType: 'tool' } })).status).toBe(201);
  });

  it('suspends, reactivates and clears nullable fields', async () => {
    const agent = await createAgent(api, { owner: 'someone', version: '1' });
    const suspended = await api.call('updateAgent', { path: { agentId: agent.id }, body: { status: 'suspended', owner: null } });
    expect(suspended.body).toMatchObject({ status: 'suspended', owner: null, version: '1' });
    expect(suspended.body.suspendedAt).not.toBeNull();
    const active = await api.call('updateAgent', { path: { agentId: agent.id }, body: { status: 'active' } });
    expect(active.body).toMatchObject({ status: 'active', suspendedAt: null });
  });

  it('decommissions for good: credentials revoked, no further changes, idempotent', async () => {
    const agent = await createAgent(api);
    const creds = [];
    for (let i = 0; i < 3; i++) creds.push((await api.call('createCredential', { path: { agentId: agent.id } })).body);
    const gone = await api.call('decommissionAgent', { path: { agentId: agent.id } });
    expect(gone.body.status).toBe('decommissioned');
    const list = await api.call('listCredentials', { path: { agentId: agent.id } });
    expect(list.body.data).toHaveLength(3);
    for (const credential of list.body.data) {
      expect(credential.status).toBe('revoked');
      expect(credential.revokedAt).not.toBeNull();
    }
    const again = await api.call('decommissionAgent', { path: { agentId: agent.id } });
    expect(again.body.decommissionedAt).toBe(gone.body.decommissionedAt);
    const change = await api.call('updateAgent', { path: { agentId: agent.id }, body: { status: 'active' } });
    expect(change.body.code).toBe('AGENT_DECOMMISSIONED');
    const credential = await api.call('createCredential', { path: { agentId: agent.id } });
    expect(credential.body.code).toBe('AGENT_DECOMMISSIONED');
    const rotate = await api.call('rotateCredential', { path: { agentId: agent.id, credentialId: creds[0].id } });
    expect(rotate.status).toBe(409);
  });

  it('filters and pages the list', async () => {
    const tag = unique('filter');
    for (const [i, env] of ['staging', 'production', 'production'].entries()) {
      await createAgent(api, { name: `${tag}-${i}`, deploymentEnv: env, owner: tag, agentType: i === 0 ? 'workflow' : 'tool' });
    }
    const byOwner = await api.call('listAgents', { query: { owner: tag } });
    expect(byOwner.body.data).toHaveLength(3);
    const prod = await api.call('listAgents', { query: { owner: tag, deploymentEnv: 'production' } });
    expect(prod.body.data).toHaveLength(2);
    const workflow = await api.call('listAgents', { query: { q: tag.toUpperCase(), agentType: 'workflow' } });
    expect(workflow.body.data.map((a: { name: string }) => a.name)).toEqual([`${tag}-0`]);
    const wildcard = await api.call('listAgents', { query: { q: '%' } });
    expect(wildcard.body.data).toHaveLength(0);

    const first = await api.call('listAgents', { query: { owner: tag, limit: 2 } });
    expect(first.body.data).toHaveLength(2);
    const second = await api.call('listAgents', { query: { owner: tag, limit: 2, cursor: first.body.nextCursor } });
    expect(second.body.data).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    expect(second.body.data[0].id > first.body.data[1].id).toBe(true);
  });
});

describe('credentials', () => {
  it('issues a secret once, lists metadata only, and allows several active at once', async () => {
    const agent = await createAgent(api);
    const a = await api.call('createCredential', { path: { agentId: agent.id }, body: { label: 'primary' } });
    const b = await api.call('createCredential', { path: { agentId: agent.id } });
    expect(a.status).toBe(201);
    expect(a.body.secret).toMatch(/^mdt_sk_[A-Za-z0-9_-]{43}$/);
    expect(a.body).toMatchObject({ clientId: agent.id, agentId: agent.id, label: 'primary', status: 'active' });
    expect(a.body.secret).not.toBe(b.body.secret);
    const list = await api.call('listCredentials', { path: { agentId: agent.id } });
    expect(list.body.data.map((c: { status: string }) => c.status)).toEqual(['active', 'active']);
    expect(list.text).not.toContain(a.body.secret);
    expect(list.text).not.toContain(b.body.secret);
    const one = await api.call('getCredential', { path: { agentId: agent.id, credentialId: a.body.id } });
    expect(one.body.secret).toBeUndefined();
  });

  it('rotates to a new secret under the same id', async () => {
    const agent = await createAgent(api);
    const original = await api.call('createCredential', { path: { agentId: agent.id } });
    const rotated = await api.call('rotateCredential', { path: { agentId: agent.id, credentialId: original.body.id } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.id).toBe(original.body.id);
    expect(rotated.body.secret).not.toBe(original.body.secret);
    expect(rotated.body.rotatedAt).not.toBeNull();
    expect(rotated.body.prefix).toBe(rotated.body.secret.slice(0, 15));
  });

  it('revokes idempotently and refuses to rotate a revoked credential', async () => {
    const agent = await createAgent(api);
    const credential = await api.call('createCredential', { path: { agentId: agent.id } });
    const path = { agentId: agent.id, credentialId: credential.body.id };
    const revoked = await api.call('revokeCredential', { path });
    expect(revoked.body.status).toBe('revoked');
    expect((await api.call('revokeCredential', { path })).body.revokedAt).toBe(revoked.body.revokedAt);
    const rotate = await api.call('rotateCredential', { path });
    expect(rotate.body.code).toBe('CREDENTIAL_NOT_ACTIVE');
  });

  it('takes an expiry and caps active credentials per agent', async () => {
    const agent = await createAgent(api);
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const first = await api.call('createCredential', { path: { agentId: agent.id }, body: { expiresAt } });
    expect(first.body.expiresAt).toBe(expiresAt);
    for (let i = 1; i < 10; i++) expect((await api.call('createCredential', { path: { agentId: agent.id } })).status).toBe(201);
    const over = await api.call('createCredential', { path: { agentId: agent.id } });
    expect(over.status).toBe(409);
    expect(over.body.code).toBe('CREDENTIAL_LIMIT_REACHED');
  });

  it('answers 404 for an unknown agent or credential', async () => {
    const agent = await createAgent(api);
    const unknownAgent = await api.call('listCredentials', { path: { agentId: 'agt_00000000000000000000000000' } });
    expect(unknownAgent.body.code).toBe('AGENT_NOT_FOUND');
    const unknownCredential = await api.call('getCredential', { path: { agentId: agent.id, credentialId: 'cred_00000000000000000000000000' } });
    expect(unknownCredential.body.code).toBe('CREDENTIAL_NOT_FOUND');
  });
});
