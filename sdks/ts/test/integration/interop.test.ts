/**
 * Interoperability: a token that a standard OAuth client (oauth4webapi, unmodified) gets
 * from the server through discovery passes the SDK's verifyAccessToken, and one meant for
 * another API does not. And a key registered through the SDK serves oauth4webapi's
 * private_key_jwt as well as the SDK's own.
 */
import { Mandate, TokenVerificationError, verifyAccessToken } from '../../src/index';
import { generateTestKey } from '../helpers/keys';
import { type LiveServer, startLiveServer } from '../helpers/live-server';

const AUDIENCE = 'https://inventory.example';
let server: LiveServer;
let agentCredential: { clientId: string; secret: string };
let admin: Mandate;
let organization: string;

beforeAll(async () => {
  server = await startLiveServer();
  admin = new Mandate({ baseURL: server.baseURL, apiToken: server.token });
  const org = await admin.orgs.create({ name: `interop-${Date.now()}` });
  organization = org.id;
  const agent = await admin.agents.create({ name: 'interop-bot', agentType: 'autonomous', allowedScopes: ['agents:read'] }, { organization: org.id });
  const credential = await admin.credentials.create(agent.id, { label: 'interop' }, { organization: org.id });
  agentCredential = { clientId: credential.clientId, secret: credential.secret };
}, 60_000);
afterAll(() => server.stop());

/* eslint-disable @typescript-eslint/no-deprecated -- the test server is plain HTTP on loopback, which is what allowInsecureRequests is for */
async function tokenFromOauth4webapi(resource: string): Promise<string> {
  const oauth = await import('oauth4webapi');
  const issuer = new URL(server.baseURL);
  const discovery = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true });
  const as = await oauth.processDiscoveryResponse(issuer, discovery);
  const client = { client_id: agentCredential.clientId };
  const response = await oauth.clientCredentialsGrantRequest(
    as,
    client,
    oauth.ClientSecretBasic(agentCredential.secret),
    new URLSearchParams({ scope: 'agents:read', resource }),
    { [oauth.allowInsecureRequests]: true },
  );
  const result = await oauth.processClientCredentialsResponse(as, client, response);
  return result.access_token;
}
/* eslint-enable @typescript-eslint/no-deprecated */

it('verifies a token that oauth4webapi obtained by discovery and client credentials', async () => {
  const token = await tokenFromOauth4webapi(AUDIENCE);
  const claims = await verifyAccessToken(token, { issuer: server.baseURL, audience: AUDIENCE });
  expect(claims).toMatchObject({ iss: server.baseURL, sub: agentCredential.clientId, client_id: agentCredential.clientId, aud: AUDIENCE, scope: 'agents:read' });
  const client = new Mandate({ baseURL: server.baseURL });
  await expect(client.verifyAccessToken(token, { issuer: server.baseURL, audience: AUDIENCE })).resolves.toMatchObject({ jti: claims.jti });
});

it('refuses that client’s token for another audience', async () => {
  const token = await tokenFromOauth4webapi('https://billing.example');
  await expect(verifyAccessToken(token, { issuer: server.baseURL, audience: AUDIENCE })).rejects.toEqual(expect.any(TokenVerificationError));
  await expect(verifyAccessToken(token, { issuer: server.baseURL, audience: AUDIENCE })).rejects.toMatchObject({ reason: 'invalid_audience' });
});

/* eslint-disable @typescript-eslint/no-deprecated -- plain HTTP on loopback, as above */
it('a key registered through the SDK authenticates oauth4webapi’s private_key_jwt, and the SDK’s', async () => {
  // RS256: oauth4webapi names Ed25519 keys' algorithm Ed25519, which the server does not take (it takes EdDSA).
  const testKey = generateTestKey('RS256');
  const registered = await admin.agentKeys.add(agentCredential.clientId, { jwk: testKey.publicJwk, label: 'interop' }, { organization });

  const oauth = await import('oauth4webapi');
  const issuer = new URL(server.baseURL);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));
  expect(as.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
  const key = await crypto.subtle.importKey('jwk', testKey.jwk as JsonWebKey, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
  const client = { client_id: agentCredential.clientId };
  const response = await oauth.clientCredentialsGrantRequest(
    as,
    client,
    oauth.PrivateKeyJwt({ key, kid: registered.kid }),
    new URLSearchParams({ scope: 'agents:read', resource: AUDIENCE }),
    { [oauth.allowInsecureRequests]: true },
  );
  const { access_token: token } = await oauth.processClientCredentialsResponse(as, client, response);
  await expect(verifyAccessToken(token, { issuer: server.baseURL, audience: AUDIENCE })).resolves.toMatchObject({ sub: agentCredential.clientId });

  const sdk = new Mandate({ baseURL: server.baseURL, clientId: agentCredential.clientId, privateKey: testKey.pem });
  await expect(sdk.agents.get(agentCredential.clientId)).resolves.toMatchObject({ id: agentCredential.clientId });
});
/* eslint-enable @typescript-eslint/no-deprecated */
