/**
 * Sender-constrained tokens (RFC 9449 DPoP): tokens bound to the client's key at the token
 * endpoint, proofs checked on every API call (method, URL, time, token hash, key, one use
 * across instances), bound tokens refused as bearer tokens, and server nonces.
 */
import { type KeyObject, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jose } from '../../src/domain/jose';
import { Api, type Body } from '../helpers/api';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { basic, claimsOf, postForm } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let org: OrgFixture;
let admin: Api;

beforeAll(async () => {
  server = await startServer('postgres');
  org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  admin = new Api(server.baseUrl, org.admin);
});
afterAll(() => server.close());

interface DpopKey {
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
  thumbprint: string;
}

async function dpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return { privateKey, jwk, thumbprint: await (await jose()).calculateJwkThumbprint(jwk as { kty: string }, 'sha256') };
}

interface ProofOptions {
  ath?: string;
  nonce?: string;
  iat?: number;
  jti?: string;
  signer?: KeyObject;
}

async function proof(key: DpopKey, htm: string, htu: string, options: ProofOptions = {}): Promise<string> {
  const { SignJWT } = await jose();
  const claims = { jti: options.jti ?? randomUUID(), htm, htu, iat: options.iat ?? Math.floor(Date.now() / 1000), ...(options.ath === undefined ? {} : { ath: options.ath }), ...(options.nonce === undefined ? {} : { nonce: options.nonce }) };
  return new SignJWT(claims).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk as never }).sign(options.signer ?? key.privateKey);
}

const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

async function client(target: TestServer = server): Promise<{ agent: Body; authorization: string }> {
  const agent = await createAgent(new Api(target.baseUrl, org.admin), { allowedScopes: ['agents:read'] });
  const credential = await new Api(target.baseUrl, org.admin).call('createCredential', { path: { agentId: agent.id } });
  return { agent, authorization: basic(agent.id as string, credential.body.secret as string) };
}

function tokenRequest(target: TestServer, authorization: string, dpop?: string) {
  return fetch(`${target.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization, ...(dpop === undefined ? {} : { dpop }) },
    body: 'grant_type=client_credentials',
  });
}

/** A DPoP-bound token for a new agent. */
async function boundToken(key: DpopKey, target: TestServer = server): Promise<{ agent: Body; token: string }> {
  const { agent, authorization } = await client(target);
  const response = await tokenRequest(target, authorization, await proof(key, 'POST', `${target.issuer}/oauth2/token`));
  const body = (await response.json()) as Body;
  if (response.status !== 200) throw new Error(JSON.stringify(body));
  return { agent, token: body.access_token as string };
}

function getAgent(target: TestServer, agentId: string, authorization: string, dpop?: string) {
  return fetch(`${target.baseUrl}/v1/agents/${agentId}`, { headers: { authorization, ...(dpop === undefined ? {} : { dpop }) } });
}

describe('the token endpoint', () => {
  it('binds a token to the key of the proof: token_type DPoP and cnf.jkt, shown by introspection', async () => {
    const key = await dpopKey();
    const { authorization } = await client();
    const response = await tokenRequest(server, authorization, await proof(key, 'POST', `${server.issuer}/oauth2/token`));
    const body = (await response.json()) as Body;
    expect(response.status).toBe(200);
    expect(body.token_type).toBe('DPoP');
    expect(claimsOf(body.access_token as string).cnf).toEqual({ jkt: key.thumbprint });
    const introspected = await postForm(server.baseUrl, '/oauth2/introspect', { token: body.access_token as string }, `Bearer ${org.admin}`);
    expect(introspected.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.thumbprint } });
    const metadata = (await (await fetch(`${server.baseUrl}/.well-known/oauth-authorization-server`)).json()) as Body;
    expect(metadata.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'EdDSA']));
  });

  it('refuses a proof for another method or URL, a stale one, and one used before', async () => {
    const key = await dpopKey();
    const { authorization } = await client();
    const url = `${server.issuer}/oauth2/token`;
    const reused = await proof(key, 'POST', url);
    expect((await tokenRequest(server, authorization, reused)).status).toBe(200);
    for (const bad of [reused, await proof(key, 'GET', url), await proof(key, 'POST', `${server.issuer}/oauth2/introspect`), await proof(key, 'POST', url, { iat: Math.floor(Date.now() / 1000) - 300 })]) {
      const response = await tokenRequest(server, authorization, bad);
      expect(response.status).toBe(400);
      expect(((await response.json()) as Body).error).toBe('invalid_dpop_proof');
    }
  });
});

describe('the API with a DPoP-bound token', () => {
  it('accepts it with the DPoP scheme and a fresh proof naming the token', async () => {
    const key = await dpopKey();
    const { agent, token } = await boundToken(key);
    const url = `${server.issuer}/v1/agents/${String(agent.id)}`;
    const ok = await getAgent(server, agent.id as string, `DPoP ${token}`, await proof(key, 'GET', url, { ath: ath(token) }));
    expect(ok.status).toBe(200);
  });

  it('refuses it as a bearer token, without a proof, and with a wrong, stale, replayed or foreign proof', async () => {
    const key = await dpopKey();
    const { agent, token } = await boundToken(key);
    const id = agent.id as string;
    const url = `${server.issuer}/v1/agents/${id}`;
    const good = await proof(key, 'GET', url, { ath: ath(token) });
    expect((await getAgent(server, id, `DPoP ${token}`, good)).status).toBe(200);
    const cases: Array<[string, string | undefined]> = [
      [`Bearer ${token}`, await proof(key, 'GET', url, { ath: ath(token) })],
      [`DPoP ${token}`, undefined],
      [`DPoP ${token}`, good], // replayed
      [`DPoP ${token}`, await proof(key, 'DELETE', url, { ath: ath(token) })],
      [`DPoP ${token}`, await proof(key, 'GET', `${server.issuer}/v1/agents`, { ath: ath(token) })],
      [`DPoP ${token}`, await proof(key, 'GET', url, { ath: ath(token), iat: Math.floor(Date.now() / 1000) - 300 })],
      [`DPoP ${token}`, await proof(key, 'GET', url)], // no ath
      [`DPoP ${token}`, await proof(await dpopKey(), 'GET', url, { ath: ath(token) })], // another key
    ];
    for (const [authorization, dpop] of cases) {
      const response = await getAgent(server, id, authorization, dpop);
      expect(response.status).toBe(401);
    }
    const noProof = await getAgent(server, id, `DPoP ${token}`);
    expect(noProof.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_dpop_proof"/);
  });

  it('refuses the DPoP scheme for a token that is not bound', async () => {
    const { agent, authorization } = await client();
    const token = ((await (await tokenRequest(server, authorization)).json()) as Body).access_token as string;
    const key = await dpopKey();
    const response = await getAgent(server, agent.id as string, `DPoP ${token}`, await proof(key, 'GET', `${server.issuer}/v1/agents/${String(agent.id)}`, { ath: ath(token) }));
    expect(response.status).toBe(401);
    expect((await getAgent(server, agent.id as string, `Bearer ${token}`)).status).toBe(200);
  });

  it('refuses a proof replayed at another instance', async () => {
    const other = await startServer('postgres');
    try {
      const key = await dpopKey();
      const { agent, token } = await boundToken(key);
      const once = await proof(key, 'GET', `${server.issuer}/v1/agents/${String(agent.id)}`, { ath: ath(token) });
      expect((await getAgent(server, agent.id as string, `DPoP ${token}`, once)).status).toBe(200);
      expect((await getAgent(other, agent.id as string, `DPoP ${token}`, once)).status).toBe(401);
      // The other instance accepts the token itself, with a proof of its own.
      const fresh = await proof(key, 'GET', `${server.issuer}/v1/agents/${String(agent.id)}`, { ath: ath(token) });
      expect((await getAgent(other, agent.id as string, `DPoP ${token}`, fresh)).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('server nonces (MANDATE_DPOP_NONCE=required)', () => {
  it('asks for the nonce with use_dpop_nonce, then accepts proofs that carry it', async () => {
    const noncing = await startServer('embedded', { MANDATE_DPOP_NONCE: 'required' });
    try {
      const nonceOrg = await createOrg(new Api(noncing.baseUrl, noncing.bootstrapToken));
      const agent = await createAgent(new Api(noncing.baseUrl, nonceOrg.admin), { allowedScopes: ['agents:read'] });
      const secret = (await new Api(noncing.baseUrl, nonceOrg.admin).call('createCredential', { path: { agentId: agent.id } })).body.secret as string;
      const authorization = basic(agent.id as string, secret);
      const key = await dpopKey();
      const tokenUrl = `${noncing.issuer}/oauth2/token`;

      const first = await tokenRequest(noncing, authorization, await proof(key, 'POST', tokenUrl));
      expect(first.status).toBe(400);
      expect(((await first.json()) as Body).error).toBe('use_dpop_nonce');
      const nonce = first.headers.get('dpop-nonce') ?? '';
      expect(nonce).not.toBe('');
      const second = await tokenRequest(noncing, authorization, await proof(key, 'POST', tokenUrl, { nonce }));
      expect(second.status).toBe(200);
      const token = ((await second.json()) as Body).access_token as string;

      const url = `${noncing.issuer}/v1/agents/${String(agent.id)}`;
      const without = await getAgent(noncing, agent.id as string, `DPoP ${token}`, await proof(key, 'GET', url, { ath: ath(token) }));
      expect(without.status).toBe(401);
      expect(without.headers.get('www-authenticate')).toContain('error="use_dpop_nonce"');
      const resourceNonce = without.headers.get('dpop-nonce') ?? '';
      expect((await getAgent(noncing, agent.id as string, `DPoP ${token}`, await proof(key, 'GET', url, { ath: ath(token), nonce: resourceNonce }))).status).toBe(200);
    } finally {
      await noncing.close();
    }
  });
});

describe('an agent that must use DPoP', () => {
  it('gets no token without a proof, and a bound one with it', async () => {
    const agent = await createAgent(admin, { allowedScopes: ['agents:read'], dpopRequired: true });
    expect(agent.dpopRequired).toBe(true);
    const secret = (await admin.call('createCredential', { path: { agentId: agent.id } })).body.secret as string;
    const authorization = basic(agent.id as string, secret);
    const refused = await tokenRequest(server, authorization);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as Body).error).toBe('invalid_dpop_proof');
    const key = await dpopKey();
    const bound = await tokenRequest(server, authorization, await proof(key, 'POST', `${server.issuer}/oauth2/token`));
    expect(((await bound.json()) as Body).token_type).toBe('DPoP');
    // Switched off, plain bearer tokens are issued again.
    await admin.call('updateAgent', { path: { agentId: agent.id }, body: { dpopRequired: false } });
    expect(((await (await tokenRequest(server, authorization)).json()) as Body).token_type).toBe('Bearer');
  });
});

describe('an organization that requires DPoP', () => {
  it('binds every agent’s tokens, whatever the agent’s own setting, and audits the change', async () => {
    const own = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
    const ownAdmin = new Api(server.baseUrl, own.admin);
    const agent = await createAgent(ownAdmin, { allowedScopes: ['agents:read'] });
    const secret = (await ownAdmin.call('createCredential', { path: { agentId: agent.id } })).body.secret as string;
    const authorization = basic(agent.id as string, secret);
    expect(((await (await tokenRequest(server, authorization)).json()) as Body).token_type).toBe('Bearer');

    const required = await ownAdmin.call('updateOrg', { path: { orgId: own.orgId }, body: { dpopRequired: true } });
    expect(required.body.dpopRequired).toBe(true);
    expect(agent.dpopRequired).toBe(false);
    const refused = await tokenRequest(server, authorization);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as Body).error).toBe('invalid_dpop_proof');
    const bound = await tokenRequest(server, authorization, await proof(await dpopKey(), 'POST', `${server.issuer}/oauth2/token`));
    expect(((await bound.json()) as Body).token_type).toBe('DPoP');

    await ownAdmin.call('updateOrg', { path: { orgId: own.orgId }, body: { dpopRequired: false } });
    expect(((await (await tokenRequest(server, authorization)).json()) as Body).token_type).toBe('Bearer');
    const changes = await ownAdmin.call('listAuditEvents', { query: { action: 'org.updated' } });
    expect((changes.body.data as Body[]).map((event) => event.metadata)).toEqual([
      { fields: ['dpopRequired'], dpopRequired: true },
      { fields: ['dpopRequired'], dpopRequired: false },
    ]);
  });
});

describe('the audit trail', () => {
  it('names the DPoP scheme in a refused authentication', async () => {
    const key = await dpopKey();
    const { agent, token } = await boundToken(key);
    await getAgent(server, agent.id as string, `DPoP ${token}`);
    const failed = await admin.call('listAuditEvents', { query: { action: 'auth.failed', agentId: agent.id } });
    expect((failed.body.data as Body[])[0]?.metadata).toMatchObject({ method: 'dpop', reason: 'dpop_proof_missing' });
  });
});
