import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../helpers/api';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { basic, postForm, tokenFor } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

/**
 * Two instances on one database but with caches of their own (in-process here), the way
 * regions with a Redis each are deployed. REDIS_URL='' selects the in-process cache.
 */
let regionA: TestServer;
let trusting: TestServer;
let careful: TestServer;
let org: OrgFixture;

beforeAll(async () => {
  regionA = await startServer('postgres', { REDIS_URL: '' });
  trusting = await startServer('postgres', { REDIS_URL: '' });
  careful = await startServer('postgres', { REDIS_URL: '', MANDATE_TOKEN_STATE_CACHE: 'off' });
  org = await createOrg(new Api(regionA.baseUrl, regionA.bootstrapToken));
});
afterAll(async () => {
  await Promise.all([regionA.close(), trusting.close(), careful.close()]);
});

describe('token state across instances that do not share a cache', () => {
  it('is right only when the cache is not trusted (MANDATE_TOKEN_STATE_CACHE=off)', async () => {
    const api = new Api(regionA.baseUrl, org.admin);
    const agent = await createAgent(api, { allowedScopes: ['agents:read'] });
    const credential = await api.call('createCredential', { path: { agentId: agent.id } });
    const client = { clientId: agent.id as string, secret: credential.body.secret as string };
    const token = await tokenFor(regionA.baseUrl, client);
    const activeAt = async (server: TestServer) =>
      (await postForm(server.baseUrl, '/oauth2/introspect', { token }, `Bearer ${org.admin}`)).body.active;

    expect(await activeAt(trusting)).toBe(true); // caches "active" in that instance
    expect(await activeAt(careful)).toBe(true);
    await postForm(regionA.baseUrl, '/oauth2/revoke', { token }, basic(client.clientId, client.secret));

    expect(await activeAt(regionA)).toBe(false);
    expect(await activeAt(careful)).toBe(false);
    // The trusting instance still answers from its own cache: why multi-region turns it off.
    expect(await activeAt(trusting)).toBe(true);
  });
});
