import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../helpers/api';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { basic, claimsOf, headerOf, postForm, tokenFor } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let org: OrgFixture;
let api: Api;

/** A fresh agent with one credential. */
async function agentWithSecret(allowedScopes = ['agents:read', 'audit:read', 'custom:thing']) {
  const agent = await createAgent(api, { allowedScopes });
  const credential = await api.call('createCredential', { path: { agentId: agent.id } });
  return { agent, clientId: credential.body.clientId as string, secret: credential.body.secret as string, credentialId: credential.body.id as string };
}

const introspect = (token: string, by = org.admin) => postForm(server.baseUrl, '/oauth2/introspect', { token }, `Bearer ${by}`);

beforeAll(async () => {
  server = await startServer('postgres');
  org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  api = new Api(server.baseUrl, org.admin);
});
afterAll(() => server.close());

describe('token endpoint', () => {
  it('issues an RFC 9068 access token with client_secret_basic', async () => {
    const client = await agentWithSecret();
    const response = await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, basic(client.clientId, client.secret));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'agents:read audit:read custom:thing' });
    const token = response.body.access_token as string;
    expect(headerOf(token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(headerOf(token).kid).toMatch(/^key_/);
    const claims = claimsOf(token);
    expect(claims).toMatchObject({ iss: 'http://localhost:8080', sub: client.clientId, aud: 'http://localhost:8080', client_id: client.clientId, org: org.orgId });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(3600);
    expect(claims.jti).toEqual(expect.any(String));
  });

  it('accepts client_secret_post, narrows scopes and sets the audience from resource', async () => {
    const client = await agentWithSecret();
    const response = await postForm(server.baseUrl, '/oauth2/token', {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.secret,
      scope: 'custom:thing',
      resource: 'https://api.acme.example',
    });
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('custom:thing');
    expect(claimsOf(response.body.access_token as string)).toMatchObject({ scope: 'custom:thing', aud: 'https://api.acme.example' });
  });

  it('answers wrong client ids and wrong secrets identically', async () => {
    const client = await agentWithSecret();
    const other = await agentWithSecret();
    const attempts = [
      basic(client.clientId, other.secret), // another agent's valid secret
      basic('agt_00000000000000000000000000', client.secret),
      basic(client.clientId, `${client.secret.slice(0, -1)}x`),
      basic(client.clientId, 'mdt_sk_short'),
    ];
    for (const authorization of attempts) {
      const response = await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, authorization);
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
      expect(response.headers.get('www-authenticate')).toBe('Basic realm="mandate"');
    }
  });

  it('tells a suspended agent with a correct secret that it is suspended, and refuses revoked or expired credentials', async () => {
    const client = await agentWithSecret();
    await api.call('updateAgent', { path: { agentId: client.clientId }, body: { status: 'suspended' } });
    const suspended = await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, basic(client.clientId, client.secret));
    expect(suspended.status).toBe(400);
    expect(suspended.body.error).toBe('unauthorized_client');

    const revoked = await agentWithSecret();
    await api.call('revokeCredential', { path: { agentId: revoked.clientId, credentialId: revoked.credentialId } });
    const refused = await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, basic(revoked.clientId, revoked.secret));
    expect(refused.body.error).toBe('invalid_client');
  });

  it('refuses scopes outside the agent allowance, other grants and bad resources', async () => {
    const client = await agentWithSecret();
    const auth = basic(client.clientId, client.secret);
    const cases: [Record<string, string>, string][] = [
      [{ grant_type: 'client_credentials', scope: 'agents:read orgs:admin' }, 'invalid_scope'],
      [{ grant_type: 'authorization_code', code: 'x' }, 'unsupported_grant_type'],
      [{ scope: 'agents:read' }, 'invalid_request'],
      [{ grant_type: 'client_credentials', resource: 'not a uri' }, 'invalid_target'],
      [{ grant_type: 'client_credentials', resource: 'https://api.example/#frag' }, 'invalid_target'],
    ];
    for (const [form, error] of cases) {
      const response = await postForm(server.baseUrl, '/oauth2/token', form, auth);
      expect([response.status, response.body.error]).toEqual([400, error]);
    }
    const twice = await fetch(`${server.baseUrl}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
      body: 'grant_type=client_credentials&scope=a&scope=b',
    });
    expect(((await twice.json()) as { error: string }).error).toBe('invalid_request');
    const json = await fetch(`${server.baseUrl}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: '{}' });
    expect(json.status).toBe(415);
  });

  it('refuses two client authentication methods at once', async () => {
    const client = await agentWithSecret();
    const response = await postForm(
      server.baseUrl,
      '/oauth2/token',
      { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret },
      basic(client.clientId, client.secret),
    );
    expect(response.body.error).toBe('invalid_request');
  });
});

describe('introspection and revocation', () => {
  it('reports an active token with its claims, and inactive once revoked (idempotently)', async () => {
    const client = await agentWithSecret();
    const token = await tokenFor(server.baseUrl, client);
    const active = await introspect(token);
    expect(active.headers.get('cache-control')).toBe('no-store');
    expect(active.body).toMatchObject({ active: true, sub: client.clientId, client_id: client.clientId, org: org.orgId, token_type: 'Bearer' });

    for (let i = 0; i < 2; i++) {
      const revoked = await postForm(server.baseUrl, '/oauth2/revoke', { token, token_type_hint: 'access_token' }, basic(client.clientId, client.secret));
      expect(revoked.status).toBe(200);
    }
    expect((await introspect(token)).body).toEqual({ active: false });
    const garbage = await postForm(server.baseUrl, '/oauth2/revoke', { token: 'not-a-token' }, basic(client.clientId, client.secret));
    expect(garbage.status).toBe(200);
  });

  it("does not let an agent revoke another agent's token", async () => {
    const owner = await agentWithSecret();
    const other = await agentWithSecret();
    const token = await tokenFor(server.baseUrl, owner);
    expect((await postForm(server.baseUrl, '/oauth2/revoke', { token }, basic(other.clientId, other.secret))).status).toBe(200);
    expect((await introspect(token)).body.active).toBe(true);
  });

  it('makes tokens inactive at once when the agent is suspended, and again when reactivated; forever when decommissioned', async () => {
    const client = await agentWithSecret();
    const token = await tokenFor(server.baseUrl, client);
    await api.call('updateAgent', { path: { agentId: client.clientId }, body: { status: 'suspended' } });
    expect((await introspect(token)).body.active).toBe(false);
    await api.call('updateAgent', { path: { agentId: client.clientId }, body: { status: 'active' } });
    expect((await introspect(token)).body.active).toBe(true);
    await api.call('decommissionAgent', { path: { agentId: client.clientId } });
    expect((await introspect(token)).body.active).toBe(false);
  });

  it("answers inactive for garbage, and for another organization's token", async () => {
    expect((await introspect('garbage')).body).toEqual({ active: false });
    const client = await agentWithSecret();
    const token = await tokenFor(server.baseUrl, client);
    const stranger = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
    expect((await introspect(token, stranger.admin)).body).toEqual({ active: false });
    expect((await introspect(token, server.bootstrapToken)).body.active).toBe(true);
  });

  it('lets an agent introspect with its own credentials, and refuses callers without the scope', async () => {
    const client = await agentWithSecret();
    const token = await tokenFor(server.baseUrl, client);
    const asClient = await postForm(server.baseUrl, '/oauth2/introspect', { token }, basic(client.clientId, client.secret));
    expect(asClient.body.active).toBe(true);
    const reader = await postForm(server.baseUrl, '/oauth2/introspect', { token }, `Bearer ${org.reader}`);
    expect(reader.body.error).toBe('unauthorized_client');
    const nobody = await postForm(server.baseUrl, '/oauth2/introspect', { token });
    expect([nobody.status, nobody.body.error]).toEqual([401, 'invalid_client']);
  });
});

describe('agents calling the API with their access tokens', () => {
  it('act in their own organization within the token scopes', async () => {
    const client = await agentWithSecret(['agents:read']);
    const token = await tokenFor(server.baseUrl, client);
    const list = await new Api(server.baseUrl, token).call('listAgents');
    expect(list.status).toBe(200);
    expect(list.body.data.some((a: { id: string }) => a.id === client.clientId)).toBe(true);
    const write = await new Api(server.baseUrl, token).call('createAgent', { body: { name: 'by-agent', agentType: 'tool' } });
    expect(write.body.code).toBe('INSUFFICIENT_SCOPE');
  });

  it('are refused once revoked, or when minted for another audience', async () => {
    const client = await agentWithSecret(['agents:read']);
    const elsewhere = await tokenFor(server.baseUrl, client, { resource: 'https://api.acme.example' });
    expect((await new Api(server.baseUrl, elsewhere).call('listAgents')).status).toBe(401);
    const token = await tokenFor(server.baseUrl, client);
    await postForm(server.baseUrl, '/oauth2/revoke', { token }, basic(client.clientId, client.secret));
    expect((await new Api(server.baseUrl, token).call('listAgents')).status).toBe(401);
  });
});

describe('discovery', () => {
  it('publishes truthful RFC 8414 metadata at both locations', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const operationId = path.includes('openid') ? 'getOpenIdConfiguration' : 'getAuthorizationServerMetadata';
      const metadata = await new Api(server.baseUrl).call(operationId);
      expect(metadata.body).toMatchObject({
        issuer: 'http://localhost:8080',
        token_endpoint: 'http://localhost:8080/oauth2/token',
        grant_types_supported: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:device_code'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256'],
        response_types_supported: [],
      });
      expect(metadata.body.authorization_endpoint).toBeUndefined();
      expect(metadata.body.id_token_signing_alg_values_supported).toBeUndefined();
    }
  });

  it('serves the JWK Set with cache headers and public keys only', async () => {
    const jwks = await new Api(server.baseUrl).call('getJwks');
    expect(jwks.headers.get('cache-control')).toBe('public, max-age=60');
    expect(jwks.body.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of jwks.body.keys) {
      expect(key).toMatchObject({ use: 'sig', alg: 'ES256', kty: 'EC', crv: 'P-256' });
      expect(key.d).toBeUndefined();
    }
  });
});
