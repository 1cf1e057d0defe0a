/**
 * private_key_jwt against the real reference server: an agent registers public keys through
 * the SDK (`agentKeys.add`), and a client built with its id and private key gets tokens,
 * calls the API, introspects and revokes, and is refused once the key is removed.
 */
import { AuthenticationError, Mandate } from '../../src/index';
import { type KeyKind, type TestKey, generateTestKey } from '../helpers/keys';
import { type LiveServer, startLiveServer } from '../helpers/live-server';

let server: LiveServer;
let admin: Mandate;
let agentId: string;

beforeAll(async () => {
  server = await startLiveServer();
  const instance = new Mandate({ baseURL: server.baseURL, apiToken: server.token });
  const org = await instance.orgs.create({ name: `keys-${Date.now()}` });
  const orgToken = await instance.adminTokens.create(org.id, { role: 'admin', label: 'keys-test' });
  admin = new Mandate({ baseURL: server.baseURL, apiToken: orgToken.token });
  const agent = await admin.agents.create({ name: 'key-bot', agentType: 'autonomous', allowedScopes: ['agents:read'] });
  agentId = agent.id;
}, 60_000);
afterAll(() => server.stop());

/** Registers the public half of a new key; returns the key and the server's record of it. */
async function registerKey(alg: KeyKind, kid?: string): Promise<{ testKey: TestKey; id: string; kid: string }> {
  const testKey = generateTestKey(alg);
  const jwk = { ...testKey.publicJwk, ...(kid === undefined ? {} : { kid }) };
  const added = await admin.agentKeys.add(agentId, { jwk, label: `test ${alg}` });
  expect(added.alg).toBe(alg);
  return { testKey, id: added.id, kid: added.kid };
}

describe.each<[KeyKind, 'pem' | 'jwk', string | undefined]>([
  ['ES256', 'pem', undefined],
  ['EdDSA', 'jwk', undefined],
  ['PS256', 'jwk', 'rsa-pss-key-1'],
])('%s key from a %s', (alg, form, ownKid) => {
  let registered: Awaited<ReturnType<typeof registerKey>>;
  const clientFor = (): Mandate =>
    new Mandate({
      baseURL: server.baseURL,
      clientId: agentId,
      privateKey: form === 'pem' ? registered.testKey.pem : { ...registered.testKey.jwk, ...(ownKid === undefined ? {} : { kid: ownKid }) },
    });

  beforeAll(async () => {
    registered = await registerKey(alg, ownKid);
    if (ownKid !== undefined) expect(registered.kid).toBe(ownKid);
  });

  it('gets a token by private_key_jwt and calls the API with it; a second token request works too', async () => {
    const client = clientFor();
    await expect(client.agents.get(agentId)).resolves.toMatchObject({ id: agentId });
    // Each assertion's jti is spent on first use: this one must be new.
    const second = await client.oauth.issueToken({ grant_type: 'client_credentials', scope: 'agents:read' });
    expect(second).toMatchObject({ token_type: 'Bearer', scope: 'agents:read' });
    const claims = await client.verifyAccessToken(second.access_token, { issuer: server.baseURL, audience: server.baseURL });
    expect(claims).toMatchObject({ sub: agentId, client_id: agentId });
  });

  it('introspects and revokes its own token with an assertion', async () => {
    const client = clientFor();
    const { access_token: token } = await client.oauth.issueToken({ grant_type: 'client_credentials' });
    await expect(client.oauth.introspect({ token })).resolves.toMatchObject({ active: true, client_id: agentId });
    await client.oauth.revoke({ token });
    await expect(client.oauth.introspect({ token })).resolves.toMatchObject({ active: false });
  });
});

it('a retried token request signs a new assertion (the server refuses a replayed jti)', async () => {
  const { testKey } = await registerKey('ES256');
  let tokenRequests = 0;
  // The first token request reaches the server and is accepted, but its answer is "lost": the
  // retry would be refused as a replay if it carried the same assertion.
  const losingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const url = input instanceof Request ? input.url : input.toString();
    if (url.endsWith('/oauth2/token') && tokenRequests++ === 0) {
      expect(response.status).toBe(200);
      return new Response('{"error":"temporarily_unavailable"}', { status: 503, headers: { 'content-type': 'application/json' } });
    }
    return response;
  };
  const client = new Mandate({ baseURL: server.baseURL, clientId: agentId, privateKey: testKey.jwk, fetch: losingFetch });
  await expect(client.agents.get(agentId)).resolves.toMatchObject({ id: agentId });
  expect(tokenRequests).toBe(2);
});

it('after the key is removed, the token request fails with AuthenticationError', async () => {
  const { testKey, id } = await registerKey('EdDSA');
  await new Mandate({ baseURL: server.baseURL, clientId: agentId, privateKey: testKey.pem }).agents.get(agentId);
  await admin.agentKeys.remove(agentId, id);
  const client = new Mandate({ baseURL: server.baseURL, clientId: agentId, privateKey: testKey.pem });
  const failure = client.agents.get(agentId);
  await expect(failure).rejects.toBeInstanceOf(AuthenticationError);
  await expect(failure).rejects.toMatchObject({ status: 401, code: 'invalid_client' });
});
