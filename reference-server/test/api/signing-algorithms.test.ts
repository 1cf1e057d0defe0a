import { afterAll, describe, expect, it } from '@jest/globals';
import { Api } from '../helpers/api';
import { isolatedDatabaseUrl } from '../helpers/env';
import { createAgent, createOrg } from '../helpers/fixtures';
import { headerOf, postForm, tokenFor } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe.each(['ES256', 'RS256', 'EdDSA'])('tokens signed with %s', (alg) => {
  it('verify against the published JWK Set and introspect as active', async () => {
    const server = await startServer('postgres', { DATABASE_URL: await isolatedDatabaseUrl(`alg_${alg.toLowerCase()}`), MANDATE_SIGNING_ALG: alg });
    servers.push(server);
    const org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
    const api = new Api(server.baseUrl, org.admin);
    const agent = await createAgent(api, { allowedScopes: ['agents:read'] });
    const credential = await api.call('createCredential', { path: { agentId: agent.id } });
    const token = await tokenFor(server.baseUrl, { clientId: agent.id, secret: credential.body.secret });
    expect(headerOf(token)).toMatchObject({ alg, typ: 'at+jwt' });

    const jose = await import('jose');
    const jwks = jose.createLocalJWKSet((await api.call('getJwks')).body);
    const { payload } = await jose.jwtVerify(token, jwks, { issuer: 'http://localhost:8080', audience: 'http://localhost:8080', typ: 'at+jwt' });
    expect(payload.sub).toBe(agent.id);
    const introspection = await postForm(server.baseUrl, '/oauth2/introspect', { token }, `Bearer ${org.admin}`);
    expect(introspection.body.active).toBe(true);
  });
});
