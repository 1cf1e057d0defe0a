/**
 * Agent keys and private_key_jwt client authentication (RFC 7523 §2.2): registering public
 * keys, and every way an assertion can be wrong. Assertions are signed here with jose; the
 * standard clients (openid-client, oauth4webapi) are driven in oauth-interop.test.ts.
 */
import { type KeyObject, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api, type Body } from '../helpers/api';
import { type OrgFixture, createAgent, createOrg } from '../helpers/fixtures';
import { basic, claimsOf, postForm } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

type Jose = typeof import('jose');
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

let jose: Jose;
let server: TestServer;
let twin: TestServer;
let org: OrgFixture;
let admin: Api;

interface KeyPair {
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

function keyPair(kind: 'ec' | 'ed25519' | 'rsa', bits = 2048): KeyPair {
  const pair =
    kind === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : kind === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: bits })
        : generateKeyPairSync('ed25519');
  return { privateKey: pair.privateKey, jwk: pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown> };
}

interface AssertionOptions {
  alg?: string;
  kid?: string;
  iss?: string;
  sub?: string;
  aud?: string;
  expiresIn?: number;
  jti?: string | null;
}

/** A client assertion as RFC 7523 §3 describes it, signed with `key`. */
function assertion(key: KeyObject, agentId: string, options: AssertionOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new jose.SignJWT({})
    .setProtectedHeader({ alg: options.alg ?? 'ES256', ...(options.kid === undefined ? {} : { kid: options.kid }) })
    .setIssuer(options.iss ?? agentId)
    .setSubject(options.sub ?? agentId)
    .setAudience(options.aud ?? server.issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 60));
  if (options.jti !== null) jwt.setJti(options.jti ?? crypto.randomUUID());
  return jwt.sign(key);
}

function tokenRequest(clientAssertion: string, form: Record<string, string> = {}, target: TestServer = server) {
  return postForm(target.baseUrl, '/oauth2/token', { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: clientAssertion, ...form });
}

async function agentWithKey(kind: 'ec' | 'ed25519' | 'rsa' = 'ec', jwkExtras: Record<string, unknown> = {}): Promise<{ agent: Body; pair: KeyPair; key: Body }> {
  const agent = await createAgent(admin, { allowedScopes: ['agents:read'] });
  const pair = keyPair(kind);
  const key = await admin.call('addAgentKey', { path: { agentId: agent.id }, body: { jwk: { ...pair.jwk, ...jwkExtras }, label: 'test' } });
  expect(key.status).toBe(201);
  return { agent, pair, key: key.body };
}

beforeAll(async () => {
  jose = await import('jose');
  // Two instances on one PostgreSQL and Redis: a spent jti is spent on both.
  server = await startServer('postgres');
  twin = await startServer('postgres');
  org = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  admin = new Api(server.baseUrl, org.admin);
});
afterAll(async () => {
  await server.close();
  await twin.close();
});

describe('registering public keys', () => {
  it('stores the public members, the thumbprint as kid, and the algorithm of each kind of key', async () => {
    const agent = await createAgent(admin);
    const cases = [
      { pair: keyPair('ec'), alg: 'ES256' },
      { pair: keyPair('ed25519'), alg: 'EdDSA' },
      { pair: keyPair('rsa'), alg: 'RS256' },
    ];
    for (const { pair, alg } of cases) {
      const added = await admin.call('addAgentKey', { path: { agentId: agent.id }, body: { jwk: pair.jwk } });
      expect(added.status).toBe(201);
      const thumbprint = await jose.calculateJwkThumbprint(pair.jwk as import('jose').JWK, 'sha256');
      expect(added.body).toMatchObject({ agentId: agent.id, alg, thumbprint, kid: thumbprint, label: null, lastUsedAt: null });
      expect(added.body.jwk).toEqual({ ...pair.jwk, kid: thumbprint, alg, use: 'sig' });
    }
    const listed = await admin.call('listAgentKeys', { path: { agentId: agent.id } });
    expect(listed.body.data.map((k: Body) => k.alg)).toEqual(['ES256', 'EdDSA', 'RS256']);
    const audit = await admin.call('listAuditEvents', { query: { action: 'agent_key.added', agentId: agent.id } });
    expect(audit.status).toBe(200);
  });

  it('keeps a client kid and an RSA key’s PS256', async () => {
    const agent = await createAgent(admin);
    const added = await admin.call('addAgentKey', { path: { agentId: agent.id }, body: { jwk: { ...keyPair('rsa').jwk, kid: 'ci-2026', alg: 'PS256' } } });
    expect(added.body).toMatchObject({ kid: 'ci-2026', alg: 'PS256' });
  });

  it('refuses private keys, weak or broken keys, and algorithms that do not suit the key', async () => {
    const agent = await createAgent(admin);
    const add = (jwk: Record<string, unknown>) => admin.call('addAgentKey', { path: { agentId: agent.id }, body: { jwk } });
    const ec = keyPair('ec');
    const privateJwk = ec.privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
    const leaked = await add(privateJwk);
    expect(leaked.status).toBe(400);
    expect(leaked.body.code).toBe('PRIVATE_KEY_MATERIAL');
    expect(leaked.body.detail).toMatch(/\(d\)/);

    const cases: [Record<string, unknown>, RegExp][] = [
      [keyPair('rsa', 1024).jwk, /at least 2048 bits/],
      [{ ...ec.jwk, y: ec.jwk.x }, /not a valid EC P-256 public key/], // a point off the curve
      [{ ...ec.jwk, alg: 'RS256' }, /does not suit/],
      [{ kty: 'EC', crv: 'P-384', x: ec.jwk.x, y: ec.jwk.y }, /not supported/],
      [{ kty: 'OKP', crv: 'Ed25519' }, /needs its x member/],
    ];
    for (const [jwk, message] of cases) {
      const refused = await add(jwk);
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe('INVALID_JWK');
      expect(refused.body.detail).toMatch(message);
    }
    // What the schema already says (use, kty) is a validation error of that field.
    const encryption = await add({ ...ec.jwk, use: 'enc' });
    expect(encryption.body).toMatchObject({ code: 'VALIDATION_ERROR', errors: [expect.objectContaining({ field: 'body.jwk.use' })] });
    expect((await admin.call('listAgentKeys', { path: { agentId: agent.id } })).body.data).toEqual([]);
  });

  it('refuses the same key or kid twice, an eleventh key, and a decommissioned agent', async () => {
    const { agent, pair } = await agentWithKey('ec', { kid: 'one' });
    const again = await admin.call('addAgentKey', { path: { agentId: agent.id }, body: { jwk: pair.jwk } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('AGENT_KEY_EXISTS');
    const sameKid = await admin.call('addAgentKey', { path: { agentId: agent.id }, body: { jwk: { ...keyPair('ec').jwk, kid: 'one' } } });
    expect(sameKid.body.code).toBe('AGENT_KEY_EXISTS');
    for (let i = 1; i < 10; i++) expect((await admin.call('addAgentKey', { path: { agentId: agent.id }, body: { jwk: keyPair('ec').jwk } })).status).toBe(201);
    const eleventh = await admin.call('addAgentKey', { path: { agentId: agent.id }, body: { jwk: keyPair('ec').jwk } });
    expect(eleventh.status).toBe(409);
    expect(eleventh.body.code).toBe('TOO_MANY_AGENT_KEYS');

    const retired = await createAgent(admin);
    await admin.call('decommissionAgent', { path: { agentId: retired.id } });
    const refused = await admin.call('addAgentKey', { path: { agentId: retired.id }, body: { jwk: keyPair('ec').jwk } });
    expect(refused.body.code).toBe('AGENT_DECOMMISSIONED');
  });

  it('keeps keys within their organization, and a removed key is gone', async () => {
    const { agent, key } = await agentWithKey();
    const other = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
    const outsider = new Api(server.baseUrl, other.admin);
    expect((await outsider.call('listAgentKeys', { path: { agentId: agent.id } })).status).toBe(404);
    expect((await outsider.call('removeAgentKey', { path: { agentId: agent.id, keyId: key.id } })).status).toBe(404);
    expect((await new Api(server.baseUrl, org.reader).call('addAgentKey', { path: { agentId: agent.id }, body: { jwk: keyPair('ec').jwk } })).status).toBe(403);

    expect((await admin.call('removeAgentKey', { path: { agentId: agent.id, keyId: key.id } })).status).toBe(204);
    const again = await admin.call('removeAgentKey', { path: { agentId: agent.id, keyId: key.id } });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('AGENT_KEY_NOT_FOUND');
  });
});

describe('private_key_jwt at the token endpoint', () => {
  it('issues a token for an assertion signed with each kind of registered key', async () => {
    for (const [kind, alg, aud] of [
      ['ec', 'ES256', undefined],
      ['ed25519', 'EdDSA', 'token endpoint'],
      ['rsa', 'RS256', undefined],
    ] as const) {
      const { agent, pair, key } = await agentWithKey(kind);
      const audience = aud === undefined ? server.issuer : `${server.issuer}/oauth2/token`;
      const response = await tokenRequest(await assertion(pair.privateKey, agent.id, { alg, kid: key.kid, aud: audience }), { scope: 'agents:read' });
      expect(response.status).toBe(200);
      const token = response.body.access_token as string;
      expect(claimsOf(token)).toMatchObject({ sub: agent.id, client_id: agent.id, scope: 'agents:read' });
      expect((await new Api(server.baseUrl, token).call('getAgent', { path: { agentId: agent.id } })).status).toBe(200);
      const issued = await admin.call('listAuditEvents', { query: { action: 'token.issued', agentId: agent.id } });
      expect(issued.body.data[0].metadata).toMatchObject({ method: 'private_key_jwt', credentialId: key.id });
    }
  });

  it('accepts an Ed25519 key signing as the fully-specified Ed25519 algorithm (RFC 9864)', async () => {
    const { agent, pair } = await agentWithKey('ed25519');
    expect((await tokenRequest(await assertion(pair.privateKey, agent.id, { alg: 'Ed25519' }))).status).toBe(200);
  });

  it('finds the key without a kid header, and accepts client_id beside the assertion', async () => {
    const { agent, pair } = await agentWithKey('ec');
    expect((await tokenRequest(await assertion(pair.privateKey, agent.id), { client_id: agent.id })).status).toBe(200);
  });

  it('accepts each assertion once, on every instance', async () => {
    const { agent, pair } = await agentWithKey();
    const signed = await assertion(pair.privateKey, agent.id);
    expect((await tokenRequest(signed)).status).toBe(200);
    const replayed = await tokenRequest(signed, {}, twin);
    expect(replayed.status).toBe(401);
    expect(replayed.body).toMatchObject({ error: 'invalid_client', error_description: expect.stringMatching(/used before/) });
    expect((await tokenRequest(signed)).status).toBe(401);
  });

  it('refuses assertions that are wrong in any way', async () => {
    const { agent, pair, key } = await agentWithKey('ec', { kid: 'main' });
    const stranger = keyPair('ec');
    const forged = keyPair('ec');
    const cases: [string, Promise<string> | string, RegExp][] = [
      ['signed by another key with the same kid', assertion(forged.privateKey, agent.id, { kid: 'main' }), /signature/],
      ['signed by an unregistered key, no kid', assertion(stranger.privateKey, agent.id), /signature/],
      ['an unknown kid', assertion(pair.privateKey, agent.id, { kid: 'other' }), /No registered key/],
      ['another algorithm than the key’s', assertion(keyPair('rsa').privateKey, agent.id, { alg: 'RS256' }), /No registered key/],
      ['for another audience', assertion(pair.privateKey, agent.id, { aud: 'https://elsewhere.example' }), /aud/],
      ['sub other than iss', assertion(pair.privateKey, agent.id, { sub: 'agt_00000000000000000000000000' }), /sub/],
      ['expired', assertion(pair.privateKey, agent.id, { expiresIn: -120 }), /exp/],
      ['valid for too long', assertion(pair.privateKey, agent.id, { expiresIn: 3600 }), /at most 300 seconds/],
      ['without jti', assertion(pair.privateKey, agent.id, { jti: null }), /jti/],
      ['unsigned (alg none)', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: agent.id, sub: agent.id, aud: server.issuer, exp: Math.floor(Date.now() / 1000) + 60, jti: 'x' })).toString('base64url')}.AA`, /No registered key/],
      ['for an unknown agent', assertion(pair.privateKey, 'agt_00000000000000000000000000', { kid: 'main' }), /No registered key/],
    ];
    for (const [name, signed, message] of cases) {
      const response = await tokenRequest(await signed);
      expect({ name, status: response.status, error: response.body.error }).toEqual({ name, status: 401, error: 'invalid_client' });
      expect({ name, description: response.body.error_description }).toEqual({ name, description: expect.stringMatching(message) });
    }
    const mismatch = await tokenRequest(await assertion(pair.privateKey, agent.id), { client_id: 'agt_00000000000000000000000000' });
    expect(mismatch.body.error_description).toMatch(/client_id differs/);
    const failures = await admin.call('listAuditEvents', { query: { action: 'auth.failed', agentId: agent.id } });
    expect(failures.body.data[0].metadata).toMatchObject({ method: 'private_key_jwt', error: 'invalid_client' });

    // Still good afterwards: none of the refusals spent or locked anything.
    expect((await tokenRequest(await assertion(pair.privateKey, agent.id, { kid: key.kid }))).status).toBe(200);
  });

  it('refuses a removed key, and a suspended agent with unauthorized_client', async () => {
    const { agent, pair, key } = await agentWithKey();
    await admin.call('updateAgent', { path: { agentId: agent.id }, body: { status: 'suspended' } });
    const suspended = await tokenRequest(await assertion(pair.privateKey, agent.id));
    expect(suspended.body.error).toBe('unauthorized_client');
    await admin.call('updateAgent', { path: { agentId: agent.id }, body: { status: 'active' } });
    await admin.call('removeAgentKey', { path: { agentId: agent.id, keyId: key.id } });
    expect((await tokenRequest(await assertion(pair.privateKey, agent.id))).body.error).toBe('invalid_client');
  });

  it('takes one authentication method per request, and both assertion parameters', async () => {
    const { agent, pair } = await agentWithKey();
    const signed = await assertion(pair.privateKey, agent.id);
    const twoMethods = await postForm(
      server.baseUrl,
      '/oauth2/token',
      { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: signed },
      basic(agent.id as string, 'mdt_sk_x'),
    );
    expect(twoMethods.body.error).toBe('invalid_request');
    const half = await postForm(server.baseUrl, '/oauth2/token', { grant_type: 'client_credentials', client_assertion: signed });
    expect(half.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/go together/) });
    const wrongType = await tokenRequest(signed, { client_assertion_type: 'urn:example:saml' });
    expect(wrongType.status).toBe(400);
  });

  it('authenticates introspection and revocation callers too', async () => {
    const { agent, pair } = await agentWithKey();
    const token = (await tokenRequest(await assertion(pair.privateKey, agent.id))).body.access_token as string;
    const introspected = await postForm(server.baseUrl, '/oauth2/introspect', { token, client_assertion_type: JWT_BEARER, client_assertion: await assertion(pair.privateKey, agent.id) });
    expect(introspected.body).toMatchObject({ active: true, sub: agent.id });
    const revoked = await postForm(server.baseUrl, '/oauth2/revoke', { token, client_assertion_type: JWT_BEARER, client_assertion: await assertion(pair.privateKey, agent.id) });
    expect(revoked.status).toBe(200);
    expect((await new Api(server.baseUrl, token).call('getAgent', { path: { agentId: agent.id } })).status).toBe(401);
  });

  it('is advertised by discovery with the algorithms it accepts', async () => {
    const metadata = (await fetch(`${server.baseUrl}/.well-known/oauth-authorization-server`).then((r) => r.json())) as Record<string, unknown>;
    expect(metadata.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).toEqual(['ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256']);
    expect(metadata.introspection_endpoint_auth_methods_supported).toContain('private_key_jwt');
  });
});
