/**
 * DPoP against the real reference server with nonces required (MANDATE_DPOP_NONCE=required):
 * a client with `dpop: true` gets DPoP-bound tokens whose `cnf.jkt` is its key's thumbprint,
 * answers the server's nonce challenges by itself, and calls the management API with them;
 * the same token sent as a bearer token is refused.
 */
import { AuthenticationError, Mandate } from '../../src/index';
import { generateTestKey } from '../helpers/keys';
import { type LiveServer, startLiveServer } from '../helpers/live-server';

type Jose = typeof import('jose');
let jose: Jose;
let server: LiveServer;
let admin: Mandate;
let agent: { id: string; clientId: string; secret: string };

beforeAll(async () => {
  jose = await import('jose');
  server = await startLiveServer({ env: { MANDATE_DPOP_NONCE: 'required' } });
  const instance = new Mandate({ baseURL: server.baseURL, apiToken: server.token });
  const org = await instance.orgs.create({ name: `dpop-${Date.now()}` });
  const orgToken = await instance.adminTokens.create(org.id, { role: 'admin', label: 'dpop-test' });
  admin = new Mandate({ baseURL: server.baseURL, apiToken: orgToken.token });
  const created = await admin.agents.create({ name: 'dpop-bot', agentType: 'autonomous', allowedScopes: ['agents:read'] });
  const credential = await admin.credentials.create(created.id, { label: 'dpop' });
  agent = { id: created.id, clientId: credential.clientId, secret: credential.secret };
}, 60_000);
afterAll(() => server.stop());

const agentClient = (dpop: NonNullable<ConstructorParameters<typeof Mandate>[0]>['dpop']): Mandate =>
  new Mandate({ baseURL: server.baseURL, clientId: agent.clientId, clientSecret: agent.secret, dpop, maxRetries: 0 });

/** The RFC 7638 thumbprint of the key a client proves with, read from one of its proofs. */
async function keyThumbprint(client: Mandate): Promise<string> {
  const proof = await client.createDpopProof({ method: 'GET', url: `${server.baseURL}/` });
  const { jwk } = jose.decodeProtectedHeader(proof);
  return jose.calculateJwkThumbprint(jwk as Parameters<Jose['calculateJwkThumbprint']>[0]);
}

it('dpop: true gets a DPoP token bound to its key (nonce challenge answered) and calls the API with it', async () => {
  const client = agentClient(true);
  const issued = await client.oauth.issueToken({ grant_type: 'client_credentials', scope: 'agents:read' });
  expect(issued.token_type).toBe('DPoP');
  const introspected = await admin.oauth.introspect({ token: issued.access_token });
  expect(introspected).toMatchObject({ active: true, sub: agent.id, cnf: { jkt: await keyThumbprint(client) } });

  // The managed token: bound too, sent as DPoP with a proof per request (nonce included).
  await expect(client.agents.get(agent.id)).resolves.toMatchObject({ id: agent.id });
  const page = await client.agents.list({ limit: 1 });
  expect(page.data.length).toBe(1);

  // A DPoP-bound token is no bearer token.
  const asBearer = new Mandate({ baseURL: server.baseURL, apiToken: issued.access_token, maxRetries: 0 });
  await expect(asBearer.agents.get(agent.id)).rejects.toBeInstanceOf(AuthenticationError);
});

it('a given Ed25519 key binds the token to that key', async () => {
  const key = generateTestKey('EdDSA');
  const client = agentClient(key.jwk);
  const issued = await client.oauth.issueToken({ grant_type: 'client_credentials' });
  expect(issued.token_type).toBe('DPoP');
  const expected = await jose.calculateJwkThumbprint(key.publicJwk as Parameters<Jose['calculateJwkThumbprint']>[0]);
  await expect(admin.oauth.introspect({ token: issued.access_token })).resolves.toMatchObject({ cnf: { jkt: expected } });
  await expect(client.agents.get(agent.id)).resolves.toMatchObject({ id: agent.id });
});
