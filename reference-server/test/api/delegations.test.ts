/**
 * Delegation between agents by token exchange (RFC 8693): the act chain, narrowing scopes
 * and lifetimes, the chain's depth, organizations, the record of delegations, and revocation
 * (directly, down the chain, and by suspending an agent of the chain).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Api, type Body } from '../helpers/api';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { basic, claimsOf, postForm, tokenFor } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const SCOPES = ['agents:read', 'audit:read'];

let server: TestServer;
let org: OrgFixture;
let admin: Api;

interface Client {
  agent: Body;
  clientId: string;
  secret: string;
}

async function agentClient(api: Api = admin, scopes: string[] = SCOPES): Promise<Client> {
  const agent = await createAgent(api, { allowedScopes: scopes });
  const credential = await api.call('createCredential', { path: { agentId: agent.id } });
  return { agent, clientId: agent.id as string, secret: credential.body.secret as string };
}

/** The actor exchanges `subjectToken` for a token to act for its subject. */
function exchange(actor: Client, subjectToken: string, form: Record<string, string> = {}) {
  return postForm(
    server.baseUrl,
    '/oauth2/token',
    { grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN, ...form },
    basic(actor.clientId, actor.secret),
  );
}

async function exchanged(actor: Client, subjectToken: string, form: Record<string, string> = {}): Promise<string> {
  const response = await exchange(actor, subjectToken, form);
  if (response.status !== 200) throw new Error(`exchange failed: ${JSON.stringify(response.body)}`);
  return response.body.access_token as string;
}

async function introspect(token: string): Promise<Record<string, unknown>> {
  return (await postForm(server.baseUrl, '/oauth2/introspect', { token }, `Bearer ${org.admin}`)).body;
}

beforeAll(async () => {
  server = await startServer('postgres');
  org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  admin = new Api(server.baseUrl, org.admin);
});
afterAll(() => server.close());

describe('token exchange (RFC 8693)', () => {
  it('issues the actor a token for the subject, whose act names the actor, nested along the chain', async () => {
    const [a, b, c] = [await agentClient(), await agentClient(), await agentClient()];
    const tokenA = await tokenFor(server.baseUrl, a);
    const response = await exchange(b, tokenA);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ issued_token_type: ACCESS_TOKEN, token_type: 'Bearer', scope: SCOPES.join(' ') });
    const tokenAB = response.body.access_token as string;
    const ab = claimsOf(tokenAB);
    expect(ab).toMatchObject({ sub: a.clientId, client_id: b.clientId, act: { sub: b.clientId }, org: org.orgId });
    expect(ab.delegation_id).toMatch(/^dlg_/);
    expect(ab.exp as number).toBeLessThanOrEqual(claimsOf(tokenA).exp as number);

    const tokenABC = await exchanged(c, tokenAB, { scope: 'agents:read' });
    const abc = claimsOf(tokenABC);
    expect(abc).toMatchObject({ sub: a.clientId, client_id: c.clientId, act: { sub: c.clientId, act: { sub: b.clientId } }, scope: 'agents:read' });
    expect(abc.exp as number).toBeLessThanOrEqual(ab.exp as number);

    // Introspection reports the chain; the API treats the token as the subject's.
    expect(await introspect(tokenABC)).toMatchObject({ active: true, sub: a.clientId, client_id: c.clientId, act: abc.act, delegation_id: abc.delegation_id });
    expect((await new Api(server.baseUrl, tokenABC).call('getAgent', { path: { agentId: a.clientId } })).status).toBe(200);
    const succeeded = await admin.call('listAuditEvents', { query: { action: 'auth.succeeded', agentId: a.clientId, limit: 100 } });
    expect(succeeded.body.data.some((e: Body) => JSON.stringify(e.metadata.actingAgents) === JSON.stringify([c.clientId, b.clientId]))).toBe(true);

    // Each exchange is a delegation, recorded with both agents and its parent.
    const byC = await admin.call('listDelegations', { query: { actorAgentId: c.clientId } });
    expect(byC.body.data).toEqual([
      expect.objectContaining({ id: abc.delegation_id, subjectAgentId: a.clientId, actorAgentId: c.clientId, parentDelegationId: ab.delegation_id, depth: 2, scope: 'agents:read', status: 'active', revokedAt: null }),
    ]);
    const created = await admin.call('listAuditEvents', { query: { action: 'delegation.created', agentId: c.clientId } });
    expect(created.body.data[0]).toMatchObject({ actor: { type: 'agent', id: c.clientId }, target: { type: 'delegation', id: abc.delegation_id } });
    expect(created.body.data[0].metadata).toMatchObject({ subjectAgentId: a.clientId, actorAgentId: c.clientId, actingAgents: [c.clientId, b.clientId] });
  });

  it('exchanges after the signing-key cache has gone stale (its reload is no transaction inside the exchange’s)', async () => {
    const [a, b] = [await agentClient(), await agentClient()];
    const tokenA = await tokenFor(server.baseUrl, a);
    expect((await exchange(b, tokenA)).status).toBe(200); // the server now remembers tokenA as verified
    const realNow = Date.now.bind(Date);
    const later = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 11_000); // past the key cache's 10 s
    try {
      expect((await exchange(b, tokenA)).status).toBe(200);
    } finally {
      later.mockRestore();
    }
  });

  it('accepts the actor’s own token as actor_token, and refuses another agent’s', async () => {
    const [a, b, other] = [await agentClient(), await agentClient(), await agentClient()];
    const tokenA = await tokenFor(server.baseUrl, a);
    expect((await exchange(b, tokenA, { actor_token: await tokenFor(server.baseUrl, b), actor_token_type: ACCESS_TOKEN })).status).toBe(200);
    const wrongActor = await exchange(b, tokenA, { actor_token: await tokenFor(server.baseUrl, other), actor_token_type: ACCESS_TOKEN });
    expect(wrongActor.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/actor_token must be a token of the authenticated agent/) });
    const half = await exchange(b, tokenA, { actor_token: await tokenFor(server.baseUrl, b) });
    expect(half.body.error_description).toMatch(/go together/);
  });

  it('only narrows: scopes beyond the subject token’s are refused, and the lifetime never exceeds it', async () => {
    const [a, b] = [await agentClient(), await agentClient()];
    const narrow = await tokenFor(server.baseUrl, a, { scope: 'agents:read' });
    const widening = await exchange(b, narrow, { scope: 'agents:read audit:read' });
    expect(widening.status).toBe(400);
    expect(widening.body).toMatchObject({ error: 'invalid_scope', error_description: expect.stringMatching(/audit:read/) });
    const issued = claimsOf(await exchanged(b, narrow));
    expect(issued.scope).toBe('agents:read');
    expect(issued.exp as number).toBeLessThanOrEqual(claimsOf(narrow).exp as number);
  });

  it('refuses chains longer than MANDATE_DELEGATION_MAX_DEPTH (3), cycles, and self-delegation', async () => {
    const [a, b, c, d, e] = [await agentClient(), await agentClient(), await agentClient(), await agentClient(), await agentClient()];
    const tokenA = await tokenFor(server.baseUrl, a);
    const abcd = await exchanged(d, await exchanged(c, await exchanged(b, tokenA)));
    const tooDeep = await exchange(e, abcd);
    expect(tooDeep.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/at most 3 actors/) });
    expect((await exchange(b, abcd)).body.error_description).toMatch(/already in this delegation chain/);
    expect((await exchange(a, tokenA)).body.error_description).toMatch(/already in this delegation chain/);
  });

  it('keeps delegation within one organization, and refuses invalid subject tokens', async () => {
    const a = await agentClient();
    const stranger = await agentClient(new Api(server.baseUrl, (await createOrg(new Api(server.baseUrl, server.bootstrapToken))).admin));
    const tokenA = await tokenFor(server.baseUrl, a);
    expect((await exchange(stranger, tokenA)).body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/another organization/) });
    expect((await exchange(stranger, `${tokenA.slice(0, -4)}AAAA`)).body.error_description).toMatch(/not a valid/);
    const missingType = await postForm(server.baseUrl, '/oauth2/token', { grant_type: TOKEN_EXCHANGE, subject_token: tokenA }, basic(a.clientId, a.secret));
    expect(missingType.body.error_description).toMatch(/subject_token_type is required/);
    const refusals = await admin.call('listAuditEvents', { query: { action: 'token.refused', agentId: a.clientId } });
    expect(refusals.status).toBe(200);
  });
});

describe('revoking delegations', () => {
  it('makes the delegation’s tokens and those of every delegation made from it inactive at once', async () => {
    const [a, b, c] = [await agentClient(), await agentClient(), await agentClient()];
    const tokenAB = await exchanged(b, await tokenFor(server.baseUrl, a));
    const tokenABC = await exchanged(c, tokenAB);
    const dlgAB = claimsOf(tokenAB).delegation_id as string;
    const revoked = await admin.call('revokeDelegation', { path: { delegationId: dlgAB } });
    expect(revoked.body).toMatchObject({ id: dlgAB, status: 'revoked' });
    expect(await introspect(tokenAB)).toEqual({ active: false });
    expect(await introspect(tokenABC)).toEqual({ active: false });
    expect((await new Api(server.baseUrl, tokenABC).call('getAgent', { path: { agentId: a.clientId } })).status).toBe(401);
    // Nothing more can be made from it, and the record shows both revoked.
    expect((await exchange(await agentClient(), tokenABC)).body.error).toBe('invalid_request');
    const listed = await admin.call('listDelegations', { query: { subjectAgentId: a.clientId, active: 'false' } });
    expect(listed.body.data.map((d: Body) => d.status)).toEqual(['revoked', 'revoked']);
    const events = await admin.call('listAuditEvents', { query: { action: 'delegation.revoked' } });
    expect(events.body.data.filter((e: Body) => [dlgAB, claimsOf(tokenABC).delegation_id].includes(e.target.id))).toHaveLength(2);
    // Again: nothing changes.
    expect((await admin.call('revokeDelegation', { path: { delegationId: dlgAB } })).status).toBe(200);
    expect((await admin.call('revokeDelegation', { path: { delegationId: 'dlg_00000000000000000000000000' } })).body.code).toBe('DELEGATION_NOT_FOUND');
  });

  it('makes tokens inactive while any agent of the chain is suspended', async () => {
    const [a, b, c] = [await agentClient(), await agentClient(), await agentClient()];
    const tokenABC = await exchanged(c, await exchanged(b, await tokenFor(server.baseUrl, a)));
    await admin.call('updateAgent', { path: { agentId: b.clientId }, body: { status: 'suspended' } });
    expect(await introspect(tokenABC)).toEqual({ active: false });
    await admin.call('updateAgent', { path: { agentId: b.clientId }, body: { status: 'active' } });
    expect(await introspect(tokenABC)).toMatchObject({ active: true });
  });

  it('never leaves a delegation made from a revoked one active, however the two requests race', async () => {
    for (let round = 0; round < 8; round++) {
      const [a, b, c] = [await agentClient(), await agentClient(), await agentClient()];
      const tokenAB = await exchanged(b, await tokenFor(server.baseUrl, a));
      const dlgAB = claimsOf(tokenAB).delegation_id as string;
      const [, made] = await Promise.all([admin.call('revokeDelegation', { path: { delegationId: dlgAB } }), exchange(c, tokenAB)]);
      if (made.status === 200) {
        // The exchange committed first: the revocation found its delegation and revoked it too.
        expect(await introspect(made.body.access_token as string)).toEqual({ active: false });
        const child = await admin.call('listDelegations', { query: { actorAgentId: c.clientId } });
        expect(child.body.data.map((d: Body) => [d.parentDelegationId, d.status])).toEqual([[dlgAB, 'revoked']]);
      } else {
        expect(made.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('revoked') });
        expect((await admin.call('listDelegations', { query: { actorAgentId: c.clientId } })).body.data).toEqual([]);
      }
    }
  });

  it('is refused by the database when its event would record a delegation made from a revoked one', async () => {
    const [a, b, c] = [await agentClient(), await agentClient(), await agentClient()];
    const dlgAB = claimsOf(await exchanged(b, await tokenFor(server.baseUrl, a))).delegation_id as string;
    await admin.call('revokeDelegation', { path: { delegationId: dlgAB } });
    // The event as the exchange would append it after its own check passed (migration 0010's trigger).
    const metadata = { subjectAgentId: a.clientId, actorAgentId: c.clientId, parentDelegationId: dlgAB, depth: 2, scope: 'agents:read', jti: 'j', exp: 4102444800 };
    const insert = server.mandate.db.ownerTransaction((sql) =>
      sql.query(
        `INSERT INTO audit_events (id, chain, org_id, sequence, action, outcome, actor_type, actor_id, target_type, target_id, occurred_at, metadata, prev_hash, hash)
         VALUES ($1, $2, $2, 999999999, 'delegation.created', 'success', 'agent', $3, 'delegation', $4, now(), $5, 'x', 'y')`,
        [`evt_${'0'.repeat(26)}`, org.orgId, c.clientId, `dlg_${'0'.repeat(26)}`, JSON.stringify(metadata)],
      ),
    );
    await expect(insert).rejects.toMatchObject({ code: '23M01' });
    expect((await admin.call('listDelegations', { query: { actorAgentId: c.clientId } })).body.data).toEqual([]);
  });

  it('is advertised: discovery lists the token exchange grant', async () => {
    const metadata = (await fetch(`${server.baseUrl}/.well-known/oauth-authorization-server`).then((r) => r.json())) as Record<string, unknown>;
    expect(metadata.grant_types_supported).toEqual(['client_credentials', TOKEN_EXCHANGE, 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:device_code']);
  });
});
