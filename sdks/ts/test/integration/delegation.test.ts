/**
 * Delegation against the real reference server: agent B exchanges agent A's token for one to
 * act for A (`client.delegate`), C exchanges B's delegated token in turn, the SDK's verifier
 * reads the act chain, and revoking the first delegation through `delegations.revoke` ends
 * every token made from it.
 */
import { BadRequestError, Mandate, actors } from '../../src/index';
import { generateTestKey } from '../helpers/keys';
import { type LiveServer, startLiveServer } from '../helpers/live-server';

let server: LiveServer;
let admin: Mandate;
let issuer: string;
interface TestAgent {
  id: string;
  /** A client with the agent's own id and secret. */
  client: Mandate;
}
const agents = {} as Record<'a' | 'b' | 'c', TestAgent>;

beforeAll(async () => {
  server = await startLiveServer();
  const instance = new Mandate({ baseURL: server.baseURL, apiToken: server.token });
  const org = await instance.orgs.create({ name: `delegation-${Date.now()}` });
  const orgToken = await instance.adminTokens.create(org.id, { role: 'admin', label: 'delegation-test' });
  admin = new Mandate({ baseURL: server.baseURL, apiToken: orgToken.token });
  issuer = (await admin.oauth.serverMetadata()).issuer;
  for (const name of ['a', 'b', 'c'] as const) {
    const agent = await admin.agents.create({ name: `agent-${name}`, agentType: 'autonomous', allowedScopes: ['agents:read'] });
    const credential = await admin.credentials.create(agent.id, { label: name });
    agents[name] = { id: agent.id, client: new Mandate({ baseURL: server.baseURL, clientId: credential.clientId, clientSecret: credential.secret }) };
  }
}, 60_000);
afterAll(() => server.stop());

const verify = (token: string) => admin.verifyAccessToken(token, { issuer, audience: issuer });

it('B acts for A, C acts for B acting for A, and revoking the first delegation ends both', async () => {
  const { a, b, c } = agents;
  const tokenA = await a.client.oauth.issueToken({ grant_type: 'client_credentials' });

  const forA = await b.client.delegate(tokenA.access_token);
  expect(forA).toMatchObject({ issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', scope: 'agents:read' });
  const claimsB = await verify(forA.access_token);
  expect(claimsB).toMatchObject({ sub: a.id, client_id: b.id, act: { sub: b.id } });
  expect(actors(claimsB)).toEqual([b.id]);
  expect(claimsB.delegation_id).toMatch(/^dlg_/);
  expect(claimsB.exp).toBeLessThanOrEqual((await verify(tokenA.access_token)).exp);

  // The delegated token is a bearer token like any other: B reads A as A.
  const asA = new Mandate({ baseURL: server.baseURL, apiToken: forA.access_token });
  await expect(asA.agents.get(a.id)).resolves.toMatchObject({ id: a.id });

  const forB = await c.client.delegate(forA.access_token, { scope: 'agents:read' });
  const claimsC = await verify(forB.access_token);
  expect(claimsC).toMatchObject({ sub: a.id, client_id: c.id, act: { sub: c.id, act: { sub: b.id } } });
  expect(actors(claimsC)).toEqual([c.id, b.id]);
  expect(claimsC.delegation_id).not.toBe(claimsB.delegation_id);

  const introspected = await admin.oauth.introspect({ token: forB.access_token });
  expect(introspected).toMatchObject({ active: true, sub: a.id, delegation_id: claimsC.delegation_id });
  expect(actors(introspected)).toEqual([c.id, b.id]);

  const listed = await admin.delegations.list({ subjectAgentId: a.id });
  expect(listed.data.map((d) => d.id)).toEqual(expect.arrayContaining([claimsB.delegation_id, claimsC.delegation_id]));

  const revoked = await admin.delegations.revoke(claimsB.delegation_id ?? '');
  expect(revoked).toMatchObject({ id: claimsB.delegation_id, status: 'revoked' });
  await expect(admin.oauth.introspect({ token: forB.access_token })).resolves.toEqual({ active: false });
  await expect(admin.oauth.introspect({ token: forA.access_token })).resolves.toEqual({ active: false });
  // A's own token is not a delegation and stays valid.
  await expect(admin.oauth.introspect({ token: tokenA.access_token })).resolves.toMatchObject({ active: true });
});

it('an actor that holds a private key delegates with private_key_jwt', async () => {
  const { a, b } = agents;
  const key = generateTestKey('EdDSA');
  await admin.agentKeys.add(b.id, { jwk: key.publicJwk, label: 'delegation' });
  const keyClient = new Mandate({ baseURL: server.baseURL, clientId: b.id, privateKey: key.jwk });
  const tokenA = await a.client.oauth.issueToken({ grant_type: 'client_credentials' });
  const forA = await keyClient.delegate(tokenA.access_token);
  expect(actors(await verify(forA.access_token))).toEqual([b.id]);
});

it('the server’s refusals are typed errors: a wider scope, and an agent already in the chain', async () => {
  const { a, b } = agents;
  const tokenA = await a.client.oauth.issueToken({ grant_type: 'client_credentials' });
  const wider = b.client.delegate(tokenA.access_token, { scope: 'agents:read agents:write' });
  await expect(wider).rejects.toBeInstanceOf(BadRequestError);
  await expect(wider).rejects.toMatchObject({ code: 'invalid_scope' });
  await expect(a.client.delegate(tokenA.access_token)).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
});

it('an admin-token client cannot delegate', async () => {
  const tokenA = await agents.a.client.oauth.issueToken({ grant_type: 'client_credentials' });
  await expect(admin.delegate(tokenA.access_token)).rejects.toThrow(/acting agent's own credentials/);
});
