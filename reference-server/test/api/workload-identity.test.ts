/**
 * Workload identity federation against a real OIDC issuer on loopback: trust policies, the
 * JWT bearer grant (RFC 7523 §2.1) and token exchange of a JWT (RFC 8693), with tokens shaped
 * like GitHub Actions' and Kubernetes', and the attacks a policy must refuse.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IssuerKeys } from '../../src/domain/federation/issuer-keys';
import { parseAllowList } from '../../src/net/ssrf';
import { Api, type Body } from '../helpers/api';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { basic, claimsOf, postForm } from '../helpers/oauth';
import { type TestIssuer, githubActionsClaims, newSigningKey, startIssuer } from '../helpers/oidc-issuer';
import { type TestServer, startServer } from '../helpers/server';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const AUDIENCE = 'https://mandate.test';
const REPOSITORY = 'acme/deployer';

let server: TestServer;
let issuer: TestIssuer;
let org: OrgFixture;
let admin: Api;

beforeAll(async () => {
  issuer = await startIssuer();
  server = await startServer('postgres', { MANDATE_INSECURE_ISSUER_HOSTS: '127.0.0.1' });
  org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  admin = new Api(server.baseUrl, org.admin);
});
afterAll(async () => {
  await server.close();
  await issuer.close();
});

async function policyFor(agent: Body, overrides: Record<string, unknown> = {}): Promise<Body> {
  const response = await admin.call('createTrustPolicy', {
    body: {
      name: 'deploy from main',
      issuer: issuer.url,
      audience: AUDIENCE,
      conditions: { sub: `repo:${REPOSITORY}:ref:refs/heads/main`, repository: REPOSITORY },
      agentId: agent.id,
      scopes: ['agents:read'],
      ...overrides,
    },
  });
  if (response.status !== 201) throw new Error(`policy: ${JSON.stringify(response.body)}`);
  return response.body;
}

const bearerGrant = (assertion: string, form: Record<string, string> = {}, authorization?: string) =>
  postForm(server.baseUrl, '/oauth2/token', { grant_type: JWT_BEARER, assertion, ...form }, authorization);

/** A fresh agent and a policy for it, for tests that change either. */
async function agentWithPolicy(policy: Record<string, unknown> = {}, agent: Record<string, unknown> = {}): Promise<{ agent: Body; policy: Body }> {
  const created = await createAgent(admin, { allowedScopes: ['agents:read', 'audit:read'], ...agent });
  return { agent: created, policy: await policyFor(created, policy) };
}

describe('trust policies', () => {
  it('are created, read, listed, changed and deleted, each change audited', async () => {
    const { policy } = await agentWithPolicy({ description: 'CI deploys' });
    expect(policy).toMatchObject({ id: expect.stringMatching(/^trp_/), issuer: issuer.url, enabled: true, description: 'CI deploys', orgId: org.orgId });
    expect((await admin.call('getTrustPolicy', { path: { policyId: policy.id } })).body).toEqual(policy);
    const changed = await admin.call('updateTrustPolicy', { path: { policyId: policy.id }, body: { enabled: false } });
    expect(changed.body).toMatchObject({ enabled: false });
    const listed = await admin.call('listTrustPolicies', { query: { limit: 100 } });
    expect((listed.body.data as Body[]).map((p) => p.id)).toContain(policy.id);
    expect((await admin.call('deleteTrustPolicy', { path: { policyId: policy.id } })).status).toBe(204);
    expect((await admin.call('getTrustPolicy', { path: { policyId: policy.id } })).body.code).toBe('TRUST_POLICY_NOT_FOUND');
    for (const action of ['trust_policy.created', 'trust_policy.updated', 'trust_policy.deleted']) {
      const events = await admin.call('listAuditEvents', { query: { action, limit: 100 } });
      expect((events.body.data as Body[]).filter((e) => (e.target).id === policy.id)).toHaveLength(1);
    }
  });

  it('must have a subject condition that names something', async () => {
    const agent = await createAgent(admin, { allowedScopes: ['agents:read'] });
    const base = { name: 'p', issuer: issuer.url, audience: AUDIENCE, agentId: agent.id, scopes: ['agents:read'] };
    const noSub = await admin.call('createTrustPolicy', { body: { ...base, conditions: { repository: REPOSITORY } } });
    expect(noSub.status).toBe(400);
    expect(JSON.stringify(noSub.body.errors)).toContain('sub');
    const anything = await admin.call('createTrustPolicy', { body: { ...base, conditions: { sub: '**' } } });
    expect(anything.status).toBe(400);
    expect(anything.body.code).toBe('SUBJECT_CONDITION_REQUIRED');
  });

  it('refuse plain-http issuers not allowed by the operator, scopes the agent lacks, and decommissioned agents', async () => {
    const agent = await createAgent(admin, { allowedScopes: ['agents:read'] });
    const base = { name: 'p', audience: AUDIENCE, conditions: { sub: 'x' }, agentId: agent.id, scopes: ['agents:read'] };
    const insecure = await admin.call('createTrustPolicy', { body: { ...base, issuer: 'http://issuer.example.com' } });
    expect(insecure.body.code).toBe('ISSUER_NOT_ALLOWED');
    const wider = await admin.call('createTrustPolicy', { body: { ...base, issuer: issuer.url, scopes: ['audit:read'] } });
    expect(wider.body.code).toBe('SCOPE_NOT_ALLOWED');
    // Found by the fuzzer: many long scopes must not make the field error longer than its schema's 500 characters.
    const many = Array.from({ length: 40 }, (_, i) => `scope${i}:${'x'.repeat(90)}`);
    const manyWider = await admin.call('createTrustPolicy', { body: { ...base, issuer: issuer.url, scopes: many } });
    expect(manyWider.body.code).toBe('SCOPE_NOT_ALLOWED');
    expect((manyWider.body.errors as Body[])[0]?.message).toMatch(/and 37 more$/);
    expect(String((manyWider.body.errors as Body[])[0]?.message).length).toBeLessThanOrEqual(500);
    await admin.call('decommissionAgent', { path: { agentId: agent.id } });
    const gone = await admin.call('createTrustPolicy', { body: { ...base, issuer: issuer.url } });
    expect([gone.status, gone.body.code]).toEqual([409, 'AGENT_DECOMMISSIONED']);
  });
});

describe('the JWT bearer grant (RFC 7523 §2.1) with a GitHub Actions token', () => {
  it('issues the policy agent a token, with no client authentication, and audits the workload', async () => {
    const { agent, policy } = await agentWithPolicy();
    const response = await bearerGrant(await issuer.mint(githubActionsClaims(REPOSITORY, AUDIENCE)), { client_id: agent.id as string });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ token_type: 'Bearer', scope: 'agents:read' });
    const claims = claimsOf(response.body.access_token as string);
    expect(claims).toMatchObject({ sub: agent.id, client_id: agent.id, org: org.orgId, scope: 'agents:read' });
    // The token works on the API as the agent.
    expect((await new Api(server.baseUrl, response.body.access_token as string).call('getAgent', { path: { agentId: agent.id } })).status).toBe(200);

    const events = await admin.call('listAuditEvents', { query: { action: 'token.issued', agentId: agent.id, limit: 10 } });
    expect((events.body.data as Body[])[0]?.metadata).toMatchObject({
      method: 'trust_policy',
      grant: 'jwt-bearer',
      trustPolicyId: policy.id,
      issuer: issuer.url,
      externalSubject: `repo:${REPOSITORY}:ref:refs/heads/main`,
      jti: claims.jti,
    });
  });

  it('refuses another repository, with the unmet claims named and the refusal audited', async () => {
    const { agent, policy } = await agentWithPolicy();
    const response = await bearerGrant(await issuer.mint(githubActionsClaims('mallory/deployer', AUDIENCE)), { client_id: agent.id as string });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_grant');
    expect(response.body.error_description).toContain('repository, sub');
    expect(response.body.error_description).not.toContain(REPOSITORY); // the policy's values stay private
    const events = await admin.call('listAuditEvents', { query: { action: 'token.refused', agentId: agent.id, limit: 10 } });
    expect((events.body.data as Body[])[0]).toMatchObject({ outcome: 'failure', target: { type: 'trust_policy', id: policy.id }, metadata: { externalSubject: 'repo:mallory/deployer:ref:refs/heads/main' } });
  });

  it('refuses a branch the subject condition does not allow, and accepts one its glob does', async () => {
    const { agent } = await agentWithPolicy({ conditions: { sub: `repo:${REPOSITORY}:ref:refs/heads/release/*` } });
    const feature = await bearerGrant(await issuer.mint(githubActionsClaims(REPOSITORY, AUDIENCE, 'refs/heads/feature')), { client_id: agent.id as string });
    expect(feature.body.error).toBe('invalid_grant');
    const release = await bearerGrant(await issuer.mint(githubActionsClaims(REPOSITORY, AUDIENCE, 'refs/heads/release/1.2')), { client_id: agent.id as string });
    expect(release.status).toBe(200);
  });

  it('refuses a wrong audience, an expired token, a token from the future and one not yet valid', async () => {
    const { agent } = await agentWithPolicy();
    const form = { client_id: agent.id as string };
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ aud: 'https://elsewhere.test' }, 'audience'],
      [{ exp: now - 120, iat: now - 600, nbf: now - 600 }, 'expired'],
      [{ iat: now + 600, exp: now + 900 }, 'not_yet_valid'],
      [{ nbf: now + 600, exp: now + 900 }, 'not_yet_valid'],
    ];
    for (const [claims, reason] of cases) {
      const response = await bearerGrant(await issuer.mint({ ...githubActionsClaims(REPOSITORY, AUDIENCE), ...claims }), form);
      expect([response.status, response.body.error]).toEqual([400, 'invalid_grant']);
      expect(response.body.error_description).toContain(reason);
    }
  });

  it('refuses an unknown kid, alg none, HMAC, and a different key under the published kid', async () => {
    const { agent } = await agentWithPolicy();
    const form = { client_id: agent.id as string };
    const claims = githubActionsClaims(REPOSITORY, AUDIENCE);
    const impostor = newSigningKey('key-1');
    const unsigned = (header: Record<string, unknown>) =>
      `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: issuer.url, exp: Math.floor(Date.now() / 1000) + 300, ...claims })).toString('base64url')}.`;
    const forged = await issuer.mint(claims);
    const hmac = `${forged.split('.').slice(0, 2).join('.').replace(/^[^.]+/, Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'key-1' })).toString('base64url'))}.c2ln`;
    const cases: Array<[string, string]> = [
      [await issuer.mint(claims, { key: newSigningKey('key-unknown') }), 'unknown_key'],
      [unsigned({ alg: 'none' }), 'algorithm_not_allowed'],
      [hmac, 'algorithm_not_allowed'],
      [await issuer.mint(claims, { key: impostor }), 'bad_signature'],
    ];
    for (const [token, reason] of cases) {
      const response = await bearerGrant(token, form);
      expect([response.status, response.body.error]).toEqual([400, 'invalid_grant']);
      expect(response.body.error_description).toContain(reason);
    }
  });

  it('refuses an issuer no policy names, a disabled policy, a suspended agent and a wider scope', async () => {
    const { agent, policy } = await agentWithPolicy();
    const token = () => issuer.mint(githubActionsClaims(REPOSITORY, AUDIENCE));
    const form = { client_id: agent.id as string };
    expect((await bearerGrant(await issuer.mint({ ...githubActionsClaims(REPOSITORY, AUDIENCE), iss: 'https://unknown.test' }), form)).body.error_description).toContain('No trust policy');
    expect((await bearerGrant(await token(), { ...form, scope: 'audit:read' })).body.error).toBe('invalid_scope');

    await admin.call('updateAgent', { path: { agentId: agent.id }, body: { status: 'suspended' } });
    expect((await bearerGrant(await token(), form)).body.error_description).toContain('suspended');
    await admin.call('updateAgent', { path: { agentId: agent.id }, body: { status: 'active' } });
    expect((await bearerGrant(await token(), form)).status).toBe(200);

    await admin.call('updateTrustPolicy', { path: { policyId: policy.id }, body: { enabled: false } });
    expect((await bearerGrant(await token(), form)).body.error).toBe('invalid_grant');
  });

  it('asks for client_id when policies of several agents accept the same token', async () => {
    const conditions = { sub: 'repo:acme/shared:*' };
    const first = await agentWithPolicy({ conditions, audience: 'https://shared.test' });
    await agentWithPolicy({ conditions, audience: 'https://shared.test' });
    const token = () => issuer.mint(githubActionsClaims('acme/shared', 'https://shared.test'));
    const ambiguous = await bearerGrant(await token());
    expect(ambiguous.body.error_description).toContain('client_id');
    const chosen = await bearerGrant(await token(), { client_id: first.agent.id as string });
    expect(chosen.status).toBe(200);
    expect(claimsOf(chosen.body.access_token as string).sub).toBe(first.agent.id);
  });

  it('lets a client that authenticates anyway choose its own policy', async () => {
    const { agent } = await agentWithPolicy();
    const credential = await admin.call('createCredential', { path: { agentId: agent.id } });
    const response = await bearerGrant(await issuer.mint(githubActionsClaims(REPOSITORY, AUDIENCE)), {}, basic(agent.id as string, credential.body.secret as string));
    expect(response.status).toBe(200);
    const wrongSecret = await bearerGrant(await issuer.mint(githubActionsClaims(REPOSITORY, AUDIENCE)), {}, basic(agent.id as string, 'mdt_sk_wrong'));
    expect(wrongSecret.status).toBe(401);
  });
});

describe('a GitLab CI token', () => {
  it('is accepted for a protected branch of the project and refused for another project', async () => {
    const { agent } = await agentWithPolicy({
      audience: 'https://mandate.test/gitlab',
      conditions: { sub: 'project_path:acme/deployer:ref_type:branch:ref:main', namespace_path: 'acme', ref_protected: 'true' },
    });
    const gitlab = (project: string) =>
      issuer.mint({
        sub: `project_path:${project}:ref_type:branch:ref:main`,
        aud: 'https://mandate.test/gitlab',
        namespace_id: '72',
        namespace_path: project.split('/')[0],
        project_id: '2041',
        project_path: project,
        user_login: 'release-bot',
        pipeline_id: '918273',
        pipeline_source: 'push',
        job_id: '5521',
        ref: 'main',
        ref_type: 'branch',
        ref_protected: 'true',
        runner_environment: 'gitlab-hosted',
      });
    const accepted = await bearerGrant(await gitlab('acme/deployer'), { client_id: agent.id as string });
    expect(accepted.status).toBe(200);
    const refused = await bearerGrant(await gitlab('acme/other'), { client_id: agent.id as string });
    expect(refused.body).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('sub') });
  });
});

describe('token exchange of a JWT (RFC 8693)', () => {
  it('exchanges a Kubernetes service-account token, matching a nested claim', async () => {
    const { agent } = await agentWithPolicy({
      audience: 'mandate',
      conditions: { sub: 'system:serviceaccount:payments:*', 'kubernetes.io/namespace': 'payments' },
    });
    const k8s = (namespace: string) =>
      issuer.mint({ sub: `system:serviceaccount:${namespace}:worker`, aud: ['mandate', 'https://kubernetes.default.svc'], 'kubernetes.io': { namespace, serviceaccount: { name: 'worker', uid: 'c0ffee' } } });
    const exchange = async (namespace: string) =>
      postForm(server.baseUrl, '/oauth2/token', { grant_type: TOKEN_EXCHANGE, subject_token: await k8s(namespace), subject_token_type: JWT_TYPE, client_id: agent.id as string });
    const accepted = await exchange('payments');
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', scope: 'agents:read' });
    expect(claimsOf(accepted.body.access_token as string).sub).toBe(agent.id);
    expect((await exchange('billing')).body.error).toBe('invalid_grant');
  });
});

describe('the issuer key cache', () => {
  const allow = parseAllowList('127.0.0.1');

  it('fetches the JWK Set again for an unknown kid, so a rotation is picked up', async () => {
    const keys = new IssuerKeys(allow, { timeoutMs: 2000, maxBytes: 65536 }, { refreshMinIntervalMs: 0 });
    const before = issuer.jwksFetches;
    expect((await keys.candidates({ issuer: issuer.url }, 'key-1')).map((k) => k.kid)).toEqual(['key-1']);
    expect(await keys.candidates({ issuer: issuer.url }, 'key-1')).toHaveLength(1);
    expect(issuer.jwksFetches).toBe(before + 1); // cached
    const rotated = newSigningKey('key-2', 'ES256');
    issuer.keys.push(rotated);
    try {
      expect((await keys.candidates({ issuer: issuer.url }, 'key-2')).map((k) => k.kid)).toEqual(['key-2']);
      expect(issuer.jwksFetches).toBe(before + 2);
    } finally {
      issuer.keys.pop();
    }
  });

  it('fetches at most once per interval however many unknown kids arrive', async () => {
    const keys = new IssuerKeys(allow);
    const before = issuer.jwksFetches;
    for (let i = 0; i < 20; i++) expect(await keys.candidates({ issuer: issuer.url }, `made-up-${i}`)).toEqual([]);
    expect(issuer.jwksFetches).toBe(before + 1);
  });

  it('refuses plain http and loopback issuers unless the operator allows them', async () => {
    const keys = new IssuerKeys(parseAllowList(undefined));
    await expect(keys.candidates({ issuer: issuer.url }, 'key-1')).rejects.toThrow(/https/);
  });
});
