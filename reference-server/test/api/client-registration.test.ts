/**
 * Dynamic client registration (RFC 7591) and its management (RFC 7592): agents registered
 * from client metadata with an initial access token, their secret or keys, the refusals the
 * RFC names, and the registration access token that reads, replaces and deletes them.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jose } from '../../src/domain/jose';
import { Api, type Body } from '../helpers/api';
import { type OrgFixture, createOrg, unique } from '../helpers/fixtures';
import { basic, claimsOf, postForm } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let org: OrgFixture;
let admin: Api;

beforeAll(async () => {
  server = await startServer('postgres');
  org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  admin = new Api(server.baseUrl, org.admin);
});
afterAll(() => server.close());

const register = (metadata: Record<string, unknown>, token = org.admin) => new Api(server.baseUrl, token).call('registerClient', { body: metadata });

function manage(method: 'GET' | 'PUT' | 'DELETE', clientId: string, token: string, body?: unknown): Promise<{ status: number; headers: Headers; body: Body }> {
  return fetch(`${server.baseUrl}/oauth2/register/${clientId}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).then(async (response) => {
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? {} : (JSON.parse(text)) };
  });
}

describe('registration (RFC 7591)', () => {
  it('creates an agent with a client secret from the metadata, shown once with the registration access token', async () => {
    const name = unique('dcr');
    const response = await register({ client_name: name, grant_types: ['client_credentials'], scope: 'agents:read', software_version: '2.1.0', contacts: ['ops@example.com'], logo_uri: 'https://example.com/ignored.png' });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toMatchObject({
      client_id: expect.stringMatching(/^agt_/),
      client_secret: expect.stringMatching(/^mdt_sk_/),
      client_secret_expires_at: 0,
      client_name: name,
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'agents:read',
      registration_access_token: expect.stringMatching(/^mdt_rat_/),
      registration_client_uri: `${server.issuer}/oauth2/register/${String(response.body.client_id)}`,
    });
    expect(response.body.logo_uri).toBeUndefined();
    const agent = await admin.call('getAgent', { path: { agentId: response.body.client_id } });
    expect(agent.body).toMatchObject({ name, allowedScopes: ['agents:read'], version: '2.1.0', owner: 'ops@example.com' });
    const token = await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, basic(response.body.client_id as string, response.body.client_secret as string));
    expect(claimsOf(token.body.access_token as string)).toMatchObject({ sub: response.body.client_id, scope: 'agents:read' });
  });

  it('registers the keys of a private_key_jwt client, which then authenticates with them', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'dcr-key-1' };
    const response = await register({ client_name: unique('dcr-key'), token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] }, scope: 'agents:read' });
    expect(response.status).toBe(201);
    expect(response.body.client_secret).toBeUndefined();
    expect((response.body.jwks as { keys: Body[] }).keys[0]).toMatchObject({ kid: 'dcr-key-1', kty: 'EC' });
    const clientId = response.body.client_id as string;
    const { SignJWT } = await jose();
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'dcr-key-1' }).setIssuer(clientId).setSubject(clientId).setAudience(server.issuer).setExpirationTime(now + 60).sign(privateKey);
    const token = await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    expect(token.status).toBe(200);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an authorization code client', { grant_types: ['authorization_code'] }, 'invalid_client_metadata'],
    ['redirect URIs', { redirect_uris: ['https://app.example.com/cb'] }, 'invalid_redirect_uri'],
    ['response types', { response_types: ['code'] }, 'invalid_client_metadata'],
    ['a JWK Set URI', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://example.com/jwks' }, 'invalid_client_metadata'],
    ['private_key_jwt without keys', { token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata'],
    ['a private key in jwks', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })] } }, 'invalid_client_metadata'],
    ['an unknown auth method', { token_endpoint_auth_method: 'tls_client_auth' }, 'invalid_client_metadata'],
    ['a malformed scope', { scope: 'Agents Read!' }, 'invalid_client_metadata'],
  ])('refuses %s as RFC 7591 §3.2.2 says, registering nothing', async (_name, metadata, error) => {
    const name = unique('refused');
    const response = await register({ client_name: name, ...metadata });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error, error_description: expect.any(String) });
    const agents = await admin.call('listAgents', { query: { q: name } });
    expect(agents.body.data).toEqual([]);
  });

  it('gives only the Mandate scopes the initial access token holds', async () => {
    const writer = (await admin.call('createAdminToken', { path: { orgId: org.orgId }, body: { role: 'writer', label: 'dcr' } })).body.token as string;
    const response = await register({ client_name: unique('dcr-escalate'), scope: 'orgs:admin' }, writer);
    expect([response.status, response.body.code]).toEqual([403, 'SCOPE_NOT_HELD']);
  });
});

describe('management (RFC 7592)', () => {
  async function registered(): Promise<Body> {
    const response = await register({ client_name: unique('dcr-managed'), scope: 'agents:read audit:read' });
    expect(response.status).toBe(201);
    return response.body;
  }

  it('reads the registration with its token, and answers every wrong token the same 401', async () => {
    const client = await registered();
    const read = await manage('GET', client.client_id as string, client.registration_access_token as string);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ client_id: client.client_id, scope: 'agents:read audit:read', registration_client_uri: client.registration_client_uri });
    expect(read.body.client_secret).toBeUndefined();
    const other = await registered();
    for (const [id, token] of [
      [client.client_id, 'mdt_rat_wrong'],
      [client.client_id, other.registration_access_token],
      ['agt_00000000000000000000000000', client.registration_access_token],
      [client.client_id, org.admin],
    ]) {
      const refused = await manage('GET', id as string, token as string);
      expect([refused.status, refused.body.error]).toEqual([401, 'invalid_token']);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    }
  });

  it('replaces the metadata, narrowing scopes but never widening them past the registration', async () => {
    const client = await registered();
    const [id, token] = [client.client_id as string, client.registration_access_token as string];
    const renamed = unique('dcr-renamed');
    const changed = await manage('PUT', id, token, { client_id: id, client_name: renamed, scope: 'agents:read' });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ client_name: renamed, scope: 'agents:read' });
    expect((await admin.call('getAgent', { path: { agentId: id } })).body.allowedScopes).toEqual(['agents:read']);
    const restored = await manage('PUT', id, token, { client_id: id, client_name: renamed, scope: 'agents:read audit:read' });
    expect(restored.body.scope).toBe('agents:read audit:read');

    const wider = await manage('PUT', id, token, { client_id: id, client_name: renamed, scope: 'agents:read orgs:admin' });
    expect([wider.status, wider.body.error]).toEqual([400, 'invalid_client_metadata']);
    const otherId = await manage('PUT', id, token, { client_id: 'agt_00000000000000000000000000', scope: 'agents:read' });
    expect(otherId.body.error).toBe('invalid_client_metadata');
    const method = await manage('PUT', id, token, { client_id: id, token_endpoint_auth_method: 'client_secret_post' });
    expect(method.body.error).toBe('invalid_client_metadata');
  });

  it('deletes the registration: the agent is decommissioned and its tokens stop at once', async () => {
    const client = await registered();
    const [id, token] = [client.client_id as string, client.registration_access_token as string];
    const access = await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials' }, basic(id, client.client_secret as string));
    expect((await manage('DELETE', id, token)).status).toBe(204);
    expect((await admin.call('getAgent', { path: { agentId: id } })).body.status).toBe('decommissioned');
    const introspected = await postForm(server.baseUrl, '/oauth2/introspect', { token: access.body.access_token as string }, `Bearer ${org.admin}`);
    expect(introspected.body).toEqual({ active: false });
    expect((await manage('GET', id, token)).status).toBe(401);
  });
});
