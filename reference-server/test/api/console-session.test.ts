/**
 * The console's sessions: an admin token exchanged for a sealed, httpOnly, SameSite=Strict
 * cookie; the management API reached through /console/api with it; unsafe methods needing
 * the CSRF token; other origins refused; a revoked token ending the session at once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../helpers/api';
import { type OrgFixture, createAgent, createOrg, unique } from '../helpers/fixtures';
import { tokenFor } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let root: Api;
let org: OrgFixture;

beforeAll(async () => {
  server = await startServer('embedded');
  root = new Api(server.baseUrl, server.bootstrapToken);
  org = await createOrg(root);
});
afterAll(() => server.close());

interface Session {
  cookie: string;
  csrfToken: string;
}

async function signIn(token: string): Promise<{ status: number; setCookie: string; body: Record<string, unknown> }> {
  const response = await fetch(`${server.baseUrl}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  return { status: response.status, setCookie: response.headers.get('set-cookie') ?? '', body: (await response.json()) as Record<string, unknown> };
}

async function session(token: string): Promise<Session> {
  const signed = await signIn(token);
  expect(signed.status).toBe(200);
  return { cookie: signed.setCookie.split(';')[0] ?? '', csrfToken: signed.body.csrfToken as string };
}

const viaConsole = (path: string, s: Partial<Session>, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) =>
  fetch(`${server.baseUrl}/console/api${path}`, { ...init, headers: { ...(s.cookie === undefined ? {} : { cookie: s.cookie }), ...init.headers } });

describe('signing in', () => {
  it('exchanges an admin token for an httpOnly, SameSite=Strict cookie scoped to /console', async () => {
    const signed = await signIn(org.admin);
    expect(signed.status).toBe(200);
    expect(signed.setCookie).toMatch(/^mandate_console=[\w-]+; path=\/console; expires=[^;]+; samesite=strict; httponly$/);
    expect(signed.setCookie).not.toContain(org.admin);
    expect(signed.body).toEqual({ csrfToken: expect.any(String), principal: { id: expect.stringMatching(/^tok_/), orgId: org.orgId, role: 'admin' } });
  });

  it('refuses a wrong token, an agent token and an empty body', async () => {
    expect((await signIn('mdt_pat_wrongwrongwrongwrongwrongwrongwrongwrongwro')).status).toBe(401);
    const admin = new Api(server.baseUrl, org.admin);
    const agent = await createAgent(admin, { allowedScopes: ['agents:read'] });
    const credential = await admin.call('createCredential', { path: { agentId: agent.id } });
    const agentToken = await tokenFor(server.baseUrl, { clientId: agent.id as string, secret: credential.body.secret as string });
    const refused = await signIn(agentToken);
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toContain('admin API token');
    expect((await signIn('')).status).toBe(400);
  });

  it('reads the session back, and ends it on sign-out', async () => {
    const s = await session(org.reader);
    const current = await fetch(`${server.baseUrl}/console/session`, { headers: { cookie: s.cookie } });
    expect(await current.json()).toMatchObject({ csrfToken: s.csrfToken, principal: { role: 'reader' } });
    const out = await fetch(`${server.baseUrl}/console/session`, { method: 'DELETE', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^mandate_console=; path=\/console; expires=Thu, 01 Jan 1970/);
    expect((await fetch(`${server.baseUrl}/console/session`)).status).toBe(401);
  });
});

describe('the management API through the console', () => {
  it('answers with the session’s token, whatever Authorization the browser sends', async () => {
    const s = await session(org.admin);
    const list = await viaConsole('/v1/agents', s, { headers: { authorization: 'Bearer someone-else' } });
    expect(list.status).toBe(200);
    expect(await list.json()).toMatchObject({ data: expect.any(Array) });
    expect((await viaConsole('/v1/agents', {})).status).toBe(401);
    expect((await viaConsole('/v1/agents', { cookie: 'mandate_console=forged' })).status).toBe(401);
  });

  it('needs the CSRF token for a change, and refuses another origin', async () => {
    const s = await session(org.admin);
    const body = JSON.stringify({ name: unique('console'), agentType: 'tool' });
    const json = { 'content-type': 'application/json' };
    const withoutToken = await viaConsole('/v1/agents', s, { method: 'POST', body, headers: json });
    expect(withoutToken.status).toBe(403);
    expect(await withoutToken.json()).toMatchObject({ code: 'CSRF_REJECTED' });
    const wrongToken = await viaConsole('/v1/agents', s, { method: 'POST', body, headers: { ...json, 'x-csrf-token': 'x'.repeat(43) } });
    expect(wrongToken.status).toBe(403);
    const crossSite = await viaConsole('/v1/agents', s, { method: 'POST', body, headers: { ...json, 'x-csrf-token': s.csrfToken, origin: 'http://evil.example' } });
    expect(crossSite.status).toBe(403);
    const created = await viaConsole('/v1/agents', s, { method: 'POST', body, headers: { ...json, 'x-csrf-token': s.csrfToken, origin: server.baseUrl } });
    expect(created.status).toBe(201);
    const crossSiteSignIn = await fetch(`${server.baseUrl}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: JSON.stringify({ token: org.admin }) });
    expect(crossSiteSignIn.status).toBe(403);
  });

  it('ends at once when the admin token is revoked', async () => {
    const minted = await root.call('createAdminToken', { path: { orgId: org.orgId }, body: { role: 'reader', label: 'console-revoked' } });
    const s = await session(minted.body.token as string);
    expect((await viaConsole('/v1/agents', s)).status).toBe(200);
    await root.call('revokeAdminToken', { path: { orgId: org.orgId, tokenId: minted.body.id } });
    expect((await viaConsole('/v1/agents', s)).status).toBe(401);
  });

  it('lets an instance-admin session act in an organization it names', async () => {
    const s = await session(server.bootstrapToken);
    const list = await viaConsole('/v1/agents', s, { headers: { 'mandate-organization': org.orgId } });
    expect(list.status).toBe(200);
  });
});
