/**
 * Workload identity federation against the real reference server, which is its own external
 * issuer (serve.mjs allows its loopback host): a workload agent's access token for a trust
 * policy's audience is the external token, and a client given only that token (in a file, a
 * function or the environment) acts as the policy's agent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuthenticationError, Mandate } from '../../src/index';
import { withEnv } from '../helpers/env';
import { type LiveServer, startLiveServer } from '../helpers/live-server';

const AUDIENCE = 'https://wif.example/aud';

let server: LiveServer;
let admin: Mandate;
let workload: Mandate;
let targetId: string;
let dir: string;

beforeAll(async () => {
  server = await startLiveServer();
  const instance = new Mandate({ baseURL: server.baseURL, apiToken: server.token });
  const org = await instance.orgs.create({ name: `federation-${Date.now()}` });
  const orgToken = await instance.adminTokens.create(org.id, { role: 'admin', label: 'federation-test' });
  admin = new Mandate({ baseURL: server.baseURL, apiToken: orgToken.token });
  const workloadAgent = await admin.agents.create({ name: 'wif-workload', agentType: 'autonomous', allowedScopes: ['agents:read'] });
  const credential = await admin.credentials.create(workloadAgent.id, { label: 'wif' });
  workload = new Mandate({ baseURL: server.baseURL, clientId: credential.clientId, clientSecret: credential.secret });
  const target = await admin.agents.create({ name: 'wif-target', agentType: 'autonomous', allowedScopes: ['agents:read'] });
  targetId = target.id;
  const { issuer } = await admin.oauth.openidConfiguration();
  await admin.trustPolicies.create({
    name: 'the workload becomes the target',
    issuer,
    audience: AUDIENCE,
    conditions: { sub: workloadAgent.id },
    agentId: targetId,
    scopes: ['agents:read'],
  });
  dir = mkdtempSync(path.join(tmpdir(), 'mandate-wif-live-'));
}, 60_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await server.stop();
});

/** The external token: the workload's access token, for the policy's audience or (refused) the issuer. */
async function workloadToken(resource?: string): Promise<string> {
  const response = await workload.oauth.issueToken({ grant_type: 'client_credentials', ...(resource === undefined ? {} : { resource }) });
  return response.access_token;
}

/** A fetch that keeps the bearer tokens sent to the API. */
function recordingBearers(): { fetch: typeof fetch; bearers: string[] } {
  const bearers: string[] = [];
  return {
    bearers,
    fetch: (input, init) => {
      const authorization = new Headers(init?.headers).get('authorization');
      if (authorization?.startsWith('Bearer ') === true) bearers.push(authorization.slice('Bearer '.length));
      return fetch(input, init);
    },
  };
}

it('a client with only a token file and the agent id acts as the policy’s agent; a refused token is an AuthenticationError', async () => {
  const file = path.join(dir, 'token');
  writeFileSync(file, `${await workloadToken(AUDIENCE)}\n`);
  const recording = recordingBearers();
  const client = new Mandate({ baseURL: server.baseURL, federatedTokenFile: file, clientId: targetId, fetch: recording.fetch });
  await expect(client.agents.get(targetId)).resolves.toMatchObject({ id: targetId });
  expect(recording.bearers).toHaveLength(1);
  const introspected = await admin.oauth.introspect({ token: recording.bearers[0] ?? '' });
  expect(introspected).toMatchObject({ active: true, sub: targetId, scope: 'agents:read' });

  // Its audience is the issuer, not the policy's.
  writeFileSync(file, await workloadToken());
  const refused = new Mandate({ baseURL: server.baseURL, federatedTokenFile: file, clientId: targetId });
  const failure = refused.agents.get(targetId);
  await expect(failure).rejects.toBeInstanceOf(AuthenticationError);
  await expect(failure).rejects.toMatchObject({ code: 'invalid_grant' });
});

it('without clientId, the one policy that accepts the token picks the agent; the token may come from a function', async () => {
  const token = await workloadToken(AUDIENCE);
  const recording = recordingBearers();
  const client = new Mandate({ baseURL: server.baseURL, federatedToken: () => token, fetch: recording.fetch });
  await expect(client.agents.get(targetId)).resolves.toMatchObject({ id: targetId });
  await expect(admin.oauth.introspect({ token: recording.bearers[0] ?? '' })).resolves.toMatchObject({ active: true, sub: targetId });
});

it('a client given no credential takes the token file from MANDATE_FEDERATED_TOKEN_FILE', async () => {
  const file = path.join(dir, 'token-from-env');
  writeFileSync(file, await workloadToken(AUDIENCE));
  await withEnv({ MANDATE_FEDERATED_TOKEN_FILE: file, MANDATE_CLIENT_ID: targetId }, async () => {
    const client = new Mandate({ baseURL: server.baseURL });
    await expect(client.agents.get(targetId)).resolves.toMatchObject({ id: targetId });
  });
});
