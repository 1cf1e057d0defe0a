/**
 * actions/issue-token, run from its committed bundle as the runner runs it: the fake runner
 * hands out ID tokens of the loopback issuer, and a live reference server exchanges them
 * through a trust policy for an agent's access token.
 */
import type { Mandate } from '@mandate/sdk';
import { type FakeIdTokenService, expectMaskedFirst, runAction, startIdTokenService } from './helpers/github-runner';
import { type LiveServer, newOrganization, startLiveServer } from './helpers/live-server';
import { type TestIssuer, startIssuer } from './helpers/oidc-issuer';

let server: LiveServer;
let issuer: TestIssuer;
let idTokens: FakeIdTokenService;
let admin: Mandate;
let orgId: string;
let agentId: string;
let otherAgentId: string;
const CUSTOM_AUDIENCE = 'https://mandate.example/ci';

beforeAll(async () => {
  [server, issuer] = await Promise.all([startLiveServer(), startIssuer()]);
  idTokens = await startIdTokenService(issuer);
  ({ id: orgId, admin } = await newOrganization(server, 'issue-token'));
  const agent = await admin.agents.create({ name: 'deployer', agentType: 'workflow', allowedScopes: ['agents:read', 'audit:read'] });
  agentId = agent.id;
  const other = await admin.agents.create({ name: 'bystander', agentType: 'workflow', allowedScopes: ['agents:read'] });
  otherAgentId = other.id;
  const conditions = { sub: 'repo:acme/deployer:ref:refs/heads/main', repository: 'acme/deployer' };
  // The audience by default is Mandate's base URL; a second policy takes a chosen one.
  await admin.trustPolicies.create({ name: 'deploys from main', issuer: issuer.url, audience: server.baseURL, conditions, agentId, scopes: ['agents:read', 'audit:read'] });
  await admin.trustPolicies.create({ name: 'deploys, own audience', issuer: issuer.url, audience: CUSTOM_AUDIENCE, conditions, agentId, scopes: ['agents:read'] });
}, 90_000);

afterEach(() => {
  idTokens.repository = 'acme/deployer';
  idTokens.ref = 'refs/heads/main';
});

afterAll(async () => {
  await idTokens.close();
  await issuer.close();
  await server.stop();
});

const lastIdToken = () => idTokens.issued.at(-1) ?? '';

it('exchanges the job’s ID token for the agent’s token: outputs set, the token active for the agent, masked before any use', async () => {
  const run = await runAction('issue-token', { 'base-url': server.baseURL, 'agent-id': agentId }, { idTokens });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(idTokens.audiences.at(-1)).toBe(server.baseURL);

  const token = run.outputs['access-token'] ?? '';
  expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  expect(run.outputs.scope?.split(' ').sort()).toEqual(['agents:read', 'audit:read']);
  expect(Number(run.outputs['expires-in'])).toBeGreaterThan(60);
  expect(Date.parse(run.outputs['expires-at'] ?? '') - Date.now()).toBeGreaterThan(60_000);
  expect(run.exported).toEqual({});
  await expect(admin.oauth.introspect({ token })).resolves.toMatchObject({ active: true, sub: agentId, org: orgId, scope: run.outputs.scope });

  expectMaskedFirst(run, token);
  expectMaskedFirst(run, lastIdToken());
  expect(run.stdout).toContain(`Mandate issued an access token for the agent ${agentId} of the organization ${orgId}`);
});

it('with no output files, the token reaches stdout only after its mask command: as the output and the exported variable', async () => {
  const run = await runAction('issue-token', { 'base-url': `${server.baseURL}/`, 'agent-id': agentId, 'export-env': 'MANDATE_API_TOKEN' }, { idTokens, files: false });
  expect(run.code).toBe(0);
  const masked = /^::add-mask::(.+)$/m.exec(run.stdout.replace(`::add-mask::${lastIdToken()}\n`, ''));
  const token = masked?.[1] ?? '';
  expect(run.stdout).toContain(`::set-output name=access-token::${token}`);
  expect(run.stdout).toContain(`::set-env name=MANDATE_API_TOKEN::${token}`);
  expectMaskedFirst(run, token, ['::set-output name=access-token::', '::set-env name=MANDATE_API_TOKEN::']);
  await expect(admin.oauth.introspect({ token })).resolves.toMatchObject({ active: true, sub: agentId });
});

it('takes the audience, scope and resource asked for, and exports the token to the variable named', async () => {
  const resource = 'https://api.acme.example';
  const inputs = { 'base-url': server.baseURL, 'agent-id': agentId, audience: CUSTOM_AUDIENCE, scope: 'agents:read', resource, 'export-env': 'MANDATE_ACCESS_TOKEN', organization: orgId };
  const run = await runAction('issue-token', inputs, { idTokens });
  expect(run.code).toBe(0);
  expect(idTokens.audiences.at(-1)).toBe(CUSTOM_AUDIENCE);
  expect(run.outputs.scope).toBe('agents:read');
  const token = run.outputs['access-token'] ?? '';
  expect(run.exported).toEqual({ MANDATE_ACCESS_TOKEN: token });
  await expect(admin.oauth.introspect({ token })).resolves.toMatchObject({ active: true, sub: agentId, scope: 'agents:read', aud: resource });
  expectMaskedFirst(run, token);
});

describe('failures: exit code 1 and a message that says what to change, with no token in it', () => {
  it('no id-token permission: says to add it', async () => {
    const run = await runAction('issue-token', { 'base-url': server.baseURL, 'agent-id': agentId }, { idTokens: undefined });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::This job cannot request an OIDC ID token: ACTIONS_ID_TOKEN_REQUEST_URL is not set\. Add "permissions: id-token: write"/m);
    expect(run.outputs).toEqual({});
  });

  it('the runner refuses the ID token request', async () => {
    const wrongRequestToken = { ...idTokens, requestToken: 'not-the-request-token' };
    const run = await runAction('issue-token', { 'base-url': server.baseURL, 'agent-id': agentId }, { idTokens: wrongRequestToken });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::The runner gave no ID token for the audience http:\/\/127\.0\.0\.1:\d+: .*401/m);
  });

  it('a wrong audience: Mandate’s invalid_grant and description, and the token’s claims to compare with the policy', async () => {
    const run = await runAction('issue-token', { 'base-url': server.baseURL, 'agent-id': agentId, audience: 'https://elsewhere.example' }, { idTokens });
    expect(run.code).toBe(1);
    const error = /^::error::(.*)$/m.exec(run.stdout)?.[1] ?? '';
    expect(error).toContain(`Mandate refused to exchange the job's ID token for an access token of ${agentId}: invalid_grant. No trust policy of this issuer for agent ${agentId} accepts the token's audience (aud).`);
    expect(error).toContain(` The ID token has iss=${issuer.url} aud=https://elsewhere.example sub=repo:acme/deployer:ref:refs/heads/main: a trust policy of ${agentId} must name that issuer and audience, and its conditions must match these claims.`);
    expect(run.outputs).toEqual({});
    expectMaskedFirst(run, lastIdToken());
  });

  it('a workflow that the policy does not accept (another branch)', async () => {
    idTokens.ref = 'refs/heads/feature';
    const run = await runAction('issue-token', { 'base-url': server.baseURL, 'agent-id': agentId }, { idTokens });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::Mandate refused .*: invalid_grant\. No trust policy accepts this token: its claims do not meet the conditions on sub\. The ID token has /m);
    expect(run.stdout).toContain('sub=repo:acme/deployer:ref:refs/heads/feature');
  });

  it('an agent that no policy of the token names', async () => {
    const run = await runAction('issue-token', { 'base-url': server.baseURL, 'agent-id': otherAgentId }, { idTokens });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`: invalid_grant. No trust policy of this issuer for agent ${otherAgentId} accepts the token's audience (aud).`);
  });

  it('a scope beyond the policy’s: invalid_scope', async () => {
    const run = await runAction('issue-token', { 'base-url': server.baseURL, 'agent-id': agentId, scope: 'agents:write' }, { idTokens });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::Mandate refused to exchange the job's ID token for an access token of agt_\w+: invalid_scope\. \S/m);
  });

  it('another organization than the one required: the token is masked, not given out', async () => {
    const run = await runAction('issue-token', { 'base-url': server.baseURL, 'agent-id': agentId, organization: 'org_01jdx0k9m3q8r7s6t5v4w3x2y1' }, { idTokens });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`::error::The agent ${agentId} belongs to the organization ${orgId}, not to org_01jdx0k9m3q8r7s6t5v4w3x2y1 as the input organization requires.`);
    expect(run.outputs).toEqual({});
    const masks = [...run.stdout.matchAll(/^::add-mask::(.+)$/gm)].map((match) => match[1]);
    expect(masks).toHaveLength(2); // the ID token, then the access token
  });

  it('Mandate unreachable', async () => {
    const run = await runAction('issue-token', { 'base-url': 'http://127.0.0.1:9', 'agent-id': agentId }, { idTokens });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::Cannot reach Mandate at http:\/\/127\.0\.0\.1:9: /m);
  });

  it.each([
    [{ 'agent-id': 'agt_x' }, 'The input base-url is required'],
    [{ 'base-url': 'ftp://mandate.example', 'agent-id': 'agt_x' }, 'The input base-url must be an http or https URL, not ftp:.'],
    [{ 'base-url': 'https://mandate.example' }, 'The input agent-id is required'],
    [{ 'base-url': 'https://mandate.example', 'agent-id': 'agt_x', 'export-env': 'GITHUB_PATH' }, 'The input export-env may not name GITHUB_PATH'],
    [{ 'base-url': 'https://mandate.example', 'agent-id': 'agt_x', 'export-env': 'A-B' }, 'The input export-env must be an environment variable name'],
  ])('inputs %j: refused before anything is requested', async (inputs, message) => {
    const before = idTokens.audiences.length;
    const run = await runAction('issue-token', inputs, { idTokens });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`::error::${message}`);
    expect(idTokens.audiences).toHaveLength(before);
  });
});
