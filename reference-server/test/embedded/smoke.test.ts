import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../helpers/api';
import { createOrg } from '../helpers/fixtures';
import { basic, postForm, tokenFor } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

/** The smoke subset on the embedded default: PGlite and the in-process cache. */
let server: TestServer;
let root: Api;

beforeAll(async () => {
  server = await startServer('embedded');
  root = new Api(server.baseUrl, server.bootstrapToken);
}, 60000);
afterAll(() => server.close());

describe('embedded default', () => {
  it('is ready on PGlite and the in-process cache', async () => {
    expect(server.mandate.db.kind).toBe('pglite');
    expect(server.mandate.cache.kind).toBe('memory');
    expect((await root.call('getReadiness')).status).toBe(200);
  });

  it('runs the agent lifecycle end to end', async () => {
    const org = await createOrg(root);
    const api = new Api(server.baseUrl, org.admin);
    const agent = await api.call('createAgent', { body: { name: 'smoke', agentType: 'workflow', allowedScopes: ['agents:read'] } });
    expect(agent.status).toBe(201);
    const credential = await api.call('createCredential', { path: { agentId: agent.body.id }, body: { label: 'ci' } });
    expect(credential.body.secret).toMatch(/^mdt_sk_/);
    const rotated = await api.call('rotateCredential', { path: { agentId: agent.body.id, credentialId: credential.body.id } });
    expect(rotated.body.secret).not.toBe(credential.body.secret);
    expect((await api.call('updateAgent', { path: { agentId: agent.body.id }, body: { status: 'suspended' } })).body.status).toBe('suspended');
    const gone = await api.call('decommissionAgent', { path: { agentId: agent.body.id } });
    expect(gone.body.status).toBe('decommissioned');
    const creds = await api.call('listCredentials', { path: { agentId: agent.body.id } });
    expect(creds.body.data.map((c: { status: string }) => c.status)).toEqual(['revoked']);
  });

  it('keeps tenants apart and enforces roles', async () => {
    const a = await createOrg(root);
    const b = await createOrg(root);
    const bAgent = await new Api(server.baseUrl, b.admin).call('createAgent', { body: { name: 'b-agent', agentType: 'tool' } });
    const peek = await root.as(a.admin).call('getAgent', { path: { agentId: bAgent.body.id } });
    expect(peek.status).toBe(404);
    const write = await root.as(a.reader).call('createAgent', { body: { name: 'nope', agentType: 'tool' } });
    expect(write.body.code).toBe('INSUFFICIENT_SCOPE');
  });

  it('issues, introspects and revokes tokens on the embedded store', async () => {
    const org = await createOrg(root);
    const api = new Api(server.baseUrl, org.admin);
    const agent = await api.call('createAgent', { body: { name: 'token-smoke', agentType: 'tool', allowedScopes: ['agents:read'] } });
    const credential = await api.call('createCredential', { path: { agentId: agent.body.id } });
    const client = { clientId: agent.body.id as string, secret: credential.body.secret as string };
    const token = await tokenFor(server.baseUrl, client);
    const introspect = async () => (await postForm(server.baseUrl, '/oauth2/introspect', { token }, `Bearer ${org.admin}`)).body.active;
    expect(await introspect()).toBe(true);
    expect((await new Api(server.baseUrl, token).call('listAgents')).status).toBe(200);
    await postForm(server.baseUrl, '/oauth2/revoke', { token }, basic(client.clientId, client.secret));
    expect(await introspect()).toBe(false);
    const chain = await api.call('verifyAuditChain');
    expect(chain.body.intact).toBe(true);
  });

  it('replays an idempotent request', async () => {
    const org = await createOrg(root);
    const api = new Api(server.baseUrl, org.admin);
    const headers = { 'Idempotency-Key': 'embedded-1' };
    const first = await api.call('createAgent', { body: { name: 'once', agentType: 'tool' }, headers });
    const second = await api.call('createAgent', { body: { name: 'once', agentType: 'tool' }, headers });
    expect(second.body.id).toBe(first.body.id);
  });
});
