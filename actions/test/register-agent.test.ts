/**
 * actions/register-agent, run from its committed bundle as the runner runs it. The registrar
 * agent's trust policy accepts the fake runner's ID tokens and grants agents:read and
 * agents:write; the action registers agents by name, once.
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
let registrarId: string;
let readerId: string;

beforeAll(async () => {
  [server, issuer] = await Promise.all([startLiveServer(), startIssuer()]);
  idTokens = await startIdTokenService(issuer);
  ({ id: orgId, admin } = await newOrganization(server, 'register-agent'));
  const conditions = { sub: 'repo:acme/deployer:ref:refs/heads/main' };
  const registrar = await admin.agents.create({ name: 'registrar', agentType: 'workflow', allowedScopes: ['agents:read', 'agents:write', 'tools:call'] });
  registrarId = registrar.id;
  await admin.trustPolicies.create({ name: 'registers agents', issuer: issuer.url, audience: server.baseURL, conditions, agentId: registrarId, scopes: ['agents:read', 'agents:write'] });
  const reader = await admin.agents.create({ name: 'reader', agentType: 'workflow', allowedScopes: ['agents:read'] });
  readerId = reader.id;
  await admin.trustPolicies.create({ name: 'reads agents', issuer: issuer.url, audience: server.baseURL, conditions, agentId: readerId, scopes: ['agents:read'] });
}, 90_000);

afterAll(async () => {
  await idTokens.close();
  await issuer.close();
  await server.stop();
});

const registration = (name: string, more: Record<string, string> = {}) => ({
  'base-url': server.baseURL,
  'registrar-agent-id': registrarId,
  name,
  description: 'Answers support tickets.',
  'agent-type': 'assistant',
  'allowed-scopes': 'tools:call',
  owner: 'support@acme.example',
  'deployment-env': 'production',
  ...more,
});

it('creates the agent with the job’s own identity, then finds the same agent on a re-run', async () => {
  const first = await runAction('register-agent', registration('support-bot'), { idTokens });
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(first.outputs).toEqual({ 'agent-id': expect.stringMatching(/^agt_\w{26}$/) as unknown, created: 'true', status: 'active' });
  const agentId = first.outputs['agent-id'] ?? '';
  await expect(admin.agents.get(agentId)).resolves.toMatchObject({
    name: 'support-bot',
    orgId,
    description: 'Answers support tickets.',
    agentType: 'assistant',
    allowedScopes: ['tools:call'],
    owner: 'support@acme.example',
    deploymentEnv: 'production',
  });
  expect(first.stdout).toContain(`Registered the agent "support-bot" as ${agentId} in the organization ${orgId}.`);
  // The registrar's token, exchanged for the ID token, is masked; neither is printed.
  const masks = [...first.stdout.matchAll(/^::add-mask::(.+)$/gm)].map((match) => match[1] ?? '');
  expect(masks).toHaveLength(2);
  for (const secret of masks) expectMaskedFirst(first, secret);

  const again = await runAction('register-agent', registration('support-bot'), { idTokens });
  expect(again.code).toBe(0);
  expect(again.outputs).toEqual({ 'agent-id': agentId, created: 'false', status: 'active' });
  expect(again.stdout).toContain(`The agent "support-bot" is already registered as ${agentId} (active) in the organization ${orgId}; it is left as it is.`);
  expect(again.stdout).not.toContain('::warning::');
  const named = [];
  for await (const agent of admin.agents.list({ q: 'support-bot' })) named.push(agent.id);
  expect(named).toEqual([agentId]);
});

it('an existing agent that differs from the inputs is returned unchanged, with a warning naming the differences', async () => {
  const created = await runAction('register-agent', registration('triage-bot'), { idTokens });
  const agentId = created.outputs['agent-id'] ?? '';
  const run = await runAction('register-agent', registration('triage-bot', { description: 'Sorts tickets.', 'allowed-scopes': 'tools:call agents:read' }), { idTokens });
  expect(run.code).toBe(0);
  expect(run.outputs).toEqual({ 'agent-id': agentId, created: 'false', status: 'active' });
  expect(run.stdout).toContain(
    `::warning::The agent ${agentId} differs from the inputs in description (input "Sorts tickets.", agent "Answers support tickets."); allowed-scopes (input "agents:read tools:call", agent "tools:call"). This action does not change an existing agent: update it in Mandate if the inputs are right.`,
  );
  await expect(admin.agents.get(agentId)).resolves.toMatchObject({ description: 'Answers support tickets.', allowedScopes: ['tools:call'] });
});

it('a suspended agent is returned with a warning; a decommissioned one does not count, and a new agent takes the name', async () => {
  const first = await runAction('register-agent', registration('nightly-bot'), { idTokens });
  const firstId = first.outputs['agent-id'] ?? '';
  await admin.agents.update(firstId, { status: 'suspended' });
  const suspended = await runAction('register-agent', registration('nightly-bot'), { idTokens });
  expect(suspended.outputs).toEqual({ 'agent-id': firstId, created: 'false', status: 'suspended' });
  expect(suspended.stdout).toContain(`::warning::The agent ${firstId} is suspended: it cannot obtain tokens until it is active again.`);

  await admin.agents.decommission(firstId);
  const replaced = await runAction('register-agent', registration('nightly-bot'), { idTokens });
  expect(replaced.code).toBe(0);
  expect(replaced.outputs.created).toBe('true');
  expect(replaced.outputs['agent-id']).not.toBe(firstId);
});

it('takes an access token instead (the output of issue-token), and masks it again', async () => {
  const issued = await runAction('issue-token', { 'base-url': server.baseURL, 'agent-id': registrarId }, { idTokens });
  const token = issued.outputs['access-token'] ?? '';
  const run = await runAction('register-agent', { 'base-url': server.baseURL, 'access-token': token, name: 'from-token-bot', organization: orgId }, { idTokens: undefined });
  expect(run.code).toBe(0);
  expect(run.outputs.created).toBe('true');
  await expect(admin.agents.get(run.outputs['agent-id'] ?? '')).resolves.toMatchObject({ name: 'from-token-bot', agentType: 'autonomous', allowedScopes: [] });
  expectMaskedFirst(run, token);
});

it('two jobs registering the same name at once get the same agent', async () => {
  const runs = await Promise.all([1, 2, 3].map(() => runAction('register-agent', registration('racing-bot'), { idTokens })));
  expect(runs.map((run) => run.code)).toEqual([0, 0, 0]);
  expect(new Set(runs.map((run) => run.outputs['agent-id'])).size).toBe(1);
  expect(runs.filter((run) => run.outputs.created === 'true')).toHaveLength(1);
});

describe('failures: exit code 1 and a clear message', () => {
  it('neither a registrar nor an access token', async () => {
    const run = await runAction('register-agent', { 'base-url': server.baseURL, name: 'x-bot' }, { idTokens });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('::error::Give either the input registrar-agent-id');
  });

  it('no id-token permission', async () => {
    const run = await runAction('register-agent', registration('x-bot'), { idTokens: undefined });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Add "permissions: id-token: write"');
  });

  it('a registrar whose policy does not grant agents:write', async () => {
    const run = await runAction('register-agent', registration('x-bot', { 'registrar-agent-id': readerId }), { idTokens });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^::error::Mandate refused to exchange the job's ID token for an access token of ${readerId}: invalid_scope\\. `, 'm'));
  });

  it('a registrar token without agents:write (given as access-token)', async () => {
    const issued = await runAction('issue-token', { 'base-url': server.baseURL, 'agent-id': readerId }, { idTokens });
    const run = await runAction('register-agent', { 'base-url': server.baseURL, 'access-token': issued.outputs['access-token'] ?? '', name: 'x-bot' }, { idTokens: undefined });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::Mandate refused to register the agent: 403 INSUFFICIENT_SCOPE /m);
  });

  it('allowed scopes of Mandate’s API that the registrar does not hold', async () => {
    const run = await runAction('register-agent', registration('x-bot', { 'allowed-scopes': 'audit:read' }), { idTokens });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::Mandate refused to register the agent: 403 SCOPE_NOT_HELD /m);
  });

  it('a workflow that the registrar’s policy does not accept', async () => {
    idTokens.repository = 'acme/other';
    try {
      const run = await runAction('register-agent', registration('x-bot'), { idTokens });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`: invalid_grant. No trust policy accepts this token: its claims do not meet the conditions on sub. The ID token has iss=${issuer.url}`);
    } finally {
      idTokens.repository = 'acme/deployer';
    }
  });
});
