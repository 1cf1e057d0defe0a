import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../helpers/api';
import { type OrgFixture, createOrg } from '../helpers/fixtures';
import { type Ids, instanceOperations, protectedOperations, requestFor, resourcesOf, roles } from '../helpers/requests';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let root: Api;
let a: OrgFixture;
let b: OrgFixture;
let bIds: Ids;
let aIds: Ids;
/** Data of B that only B's callers may see. */
let bSecrets: string[];

beforeAll(async () => {
  server = await startServer('postgres');
  root = new Api(server.baseUrl, server.bootstrapToken);
  a = await createOrg(root);
  b = await createOrg(root);
  aIds = await resourcesOf(new Api(server.baseUrl, a.admin), a.orgId);
  bIds = await resourcesOf(new Api(server.baseUrl, b.admin), b.orgId);
  const bApi = new Api(server.baseUrl, b.admin);
  const agent = await bApi.call('getAgent', { path: { agentId: bIds.agentId } });
  const credential = await bApi.call('getCredential', { path: { agentId: bIds.agentId, credentialId: bIds.credentialId } });
  const org = await bApi.call('getOrg', { path: { orgId: b.orgId } });
  bSecrets = [agent.body.name, credential.body.prefix, org.body.name];
});
afterAll(() => server.close());

/** Operations aimed at a resource of a specific organization (all but list/create orgs and the instance-wide ones). */
const targeted = protectedOperations.filter(
  (o) => o.operationId !== 'listOrgs' && o.operationId !== 'createOrg' && !instanceOperations.includes(o),
);

describe("a token of organization A aimed at organization B's resources", () => {
  it.each(targeted.map((o) => o.operationId))('%s answers 404 and reveals nothing', async (operationId) => {
    const namingB = requestFor(operationId, bIds);
    // Either name B's organization, or use B's ids while acting in A's own organization.
    const insideA = { ...namingB, headers: {} };
    const namesResource = Object.keys(namingB.path ?? {}).length > 0;
    for (const attempt of namesResource ? [namingB, insideA] : [namingB]) {
      const response = await root.as(a.admin).call(operationId, attempt);
      expect(response.status).toBe(404);
      expect(response.body.code).toMatch(/_NOT_FOUND$/);
      for (const secret of bSecrets) expect(response.text).not.toContain(secret);
    }
  });

  it("leaves B's records untouched afterwards", async () => {
    const bApi = new Api(server.baseUrl, b.admin);
    expect((await bApi.call('getAgent', { path: { agentId: bIds.agentId } })).body.status).toBe('active');
    expect((await bApi.call('getCredential', { path: { agentId: bIds.agentId, credentialId: bIds.credentialId } })).body.status).toBe('active');
    expect((await bApi.call('getOrg', { path: { orgId: b.orgId } })).status).toBe(200);
    expect((await root.as(b.reader).call('listAgents')).status).toBe(200);
  });

  it("never lists B's organization", async () => {
    const list = await root.as(a.admin).call('listOrgs', { query: { limit: 100 } });
    expect(list.body.data.map((o: { id: string }) => o.id)).toEqual([a.orgId]);
  });
});

describe('instance-wide operations', () => {
  it.each(instanceOperations.map((o) => o.operationId))('%s is refused to an organization admin token', async (operationId) => {
    const response = await root.as(a.admin).call(operationId, requestFor(operationId, aIds));
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('INSTANCE_ADMIN_REQUIRED');
  });
});

describe('roles', () => {
  // Changes, and reads that need more than a reader holds (verifying a token is a read).
  const reader = roles.get('reader') ?? new Set<string>();
  const writes = protectedOperations.filter((o) => (o.requiredScopes ?? []).some((scope) => !reader.has(scope)));
  it('leaves no change to a reader', () => {
    expect(protectedOperations.filter((o) => o.method !== 'get' && !writes.includes(o)).map((o) => o.operationId)).toEqual(['verifyFederatedToken']);
  });
  it.each(writes.map((o) => o.operationId))('a reader token cannot call %s', async (operationId) => {
    const response = await root.as(a.reader).call(operationId, requestFor(operationId, aIds));
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('INSUFFICIENT_SCOPE');
  });

  const adminOnly = protectedOperations.filter((o) => o.requiredScopes?.includes('orgs:admin'));
  it.each(adminOnly.map((o) => o.operationId))('a writer token cannot call %s', async (operationId) => {
    const response = await root.as(a.writer).call(operationId, requestFor(operationId, aIds));
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('INSUFFICIENT_SCOPE');
  });

  it('a reader token can read', async () => {
    for (const operationId of ['listAgents', 'getAgent', 'listCredentials', 'getCredential', 'getOrg', 'listOrgs']) {
      expect((await root.as(a.reader).call(operationId, requestFor(operationId, aIds))).status).toBe(200);
    }
  });
});

describe('revoked and expired admin tokens', () => {
  let revoked: string;
  let expired: string;

  beforeAll(async () => {
    const mint = (body: Record<string, unknown>) => root.as(a.admin).call('createAdminToken', { path: { orgId: a.orgId }, body });
    const toRevoke = await mint({ role: 'admin', label: 'to-revoke' });
    await root.as(a.admin).call('revokeAdminToken', { path: { orgId: a.orgId, tokenId: toRevoke.body.id } });
    revoked = toRevoke.body.token;
    const soon = await mint({ role: 'admin', label: 'short-lived', expiresAt: new Date(Date.now() + 1500).toISOString() });
    expired = soon.body.token;
    await new Promise((resolve) => setTimeout(resolve, 1600));
  });

  it.each(protectedOperations.map((o) => o.operationId))('%s refuses them with 401', async (operationId) => {
    for (const token of [revoked, expired]) {
      const response = await root.as(token).call(operationId, requestFor(operationId, aIds));
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('INVALID_TOKEN');
    }
  });
});

describe('scopes given to agents', () => {
  it("cannot exceed the caller's own: a writer cannot make an agent that mints admin tokens", async () => {
    const writer = root.as(a.writer);
    const escalation = await writer.call('createAgent', { body: { name: 'escalator', agentType: 'tool', allowedScopes: ['agents:read', 'orgs:admin'] } });
    expect(escalation.status).toBe(403);
    expect(escalation.body.code).toBe('SCOPE_NOT_HELD');
    expect(escalation.body.detail).toContain('orgs:admin');

    const allowed = await writer.call('createAgent', { body: { name: 'modest', agentType: 'tool', allowedScopes: ['agents:write', 'invoices:read'] } });
    expect(allowed.status).toBe(201);
    const widen = await writer.call('updateAgent', { path: { agentId: allowed.body.id }, body: { allowedScopes: ['keys:admin'] } });
    expect(widen.body.code).toBe('SCOPE_NOT_HELD');
    const byAdmin = await root.as(a.admin).call('updateAgent', { path: { agentId: allowed.body.id }, body: { allowedScopes: ['orgs:admin'] } });
    expect(byAdmin.status).toBe(200);
  });
});

describe('secrets of powerful agents', () => {
  it("cannot be issued by a caller who lacks the agent's scopes", async () => {
    const powerful = await root.as(a.admin).call('createAgent', { body: { name: 'powerful', agentType: 'tool', allowedScopes: ['orgs:admin'] } });
    const byWriter = await root.as(a.writer).call('createCredential', { path: { agentId: powerful.body.id } });
    expect(byWriter.body.code).toBe('SCOPE_NOT_HELD');
    const byAdmin = await root.as(a.admin).call('createCredential', { path: { agentId: powerful.body.id } });
    expect(byAdmin.status).toBe(201);
    const rotation = await root.as(a.writer).call('rotateCredential', { path: { agentId: powerful.body.id, credentialId: byAdmin.body.id } });
    expect(rotation.body.code).toBe('SCOPE_NOT_HELD');
  });
});
