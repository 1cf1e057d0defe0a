/**
 * private_key_jwt (RFC 7523 §2.2): a client with clientId + privateKey authenticates at the
 * token, introspection and revocation endpoints with a fresh signed assertion per attempt,
 * whose audience is the issuer from discovery. Every assertion sent is verified with jose.
 */
import { generateKeyPairSync } from 'node:crypto';
import nock from 'nock';
import { Mandate, MandateError, type ClientOptions } from '../../src/index';
import { lowS } from '../../src/core/client-assertion';
import { isLowS } from '../../src/core/verify';
import { FakeClock } from '../helpers/fake-clock';
import { type KeyKind, type TestKey, generateTestKey } from '../helpers/keys';
import { withEnv } from '../helpers/env';
import { BASE, absent, agent, captureForms } from '../helpers/mock';

type Jose = typeof import('jose');
let jose: Jose;
beforeAll(async () => {
  jose = await import('jose');
});

/** Deliberately not the base URL: the assertion's audience must come from discovery. */
const ISSUER = 'https://auth.mandate.example';
const CLIENT_ID = 'agt_keybot';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const tokenReply = (token: string) => ({ access_token: token, token_type: 'Bearer', expires_in: 3600, scope: 'agents:read' });

const keys: Partial<Record<KeyKind, TestKey>> = {};
function key(alg: KeyKind): TestKey {
  keys[alg] ??= generateTestKey(alg);
  return keys[alg];
}

function keyClient(options: ClientOptions): { client: Mandate; clock: FakeClock; api: nock.Scope } {
  const clock = new FakeClock();
  const client = new Mandate({ baseURL: BASE, clientId: CLIENT_ID, clock, ...options });
  return { client, clock, api: nock(BASE) };
}

function discovery(api: nock.Scope, times = 1): void {
  api.get('/.well-known/oauth-authorization-server').times(times).reply(200, { issuer: ISSUER, token_endpoint: `${ISSUER}/oauth2/token` });
}

/** Verifies an assertion as the server would, and returns its header and claims. */
async function verifyAssertion(assertion: string, testKey: TestKey, clock: FakeClock) {
  const publicKey = await jose.importJWK(testKey.publicJwk, testKey.alg);
  const { payload, protectedHeader } = await jose.jwtVerify(assertion, publicKey, {
    algorithms: [testKey.alg],
    issuer: CLIENT_ID,
    subject: CLIENT_ID,
    audience: ISSUER,
    currentDate: new Date(clock.now()),
    requiredClaims: ['exp', 'iat', 'jti'],
  });
  expect(protectedHeader.typ).toBe('JWT');
  expect(payload.iat).toBe(Math.floor(clock.now() / 1000));
  expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(60);
  return { header: protectedHeader, claims: payload };
}

describe('private_key_jwt at the token endpoint', () => {
  it.each<[KeyKind, 'pem' | 'jwk']>([
    ['ES256', 'pem'],
    ['ES256', 'jwk'],
    ['EdDSA', 'pem'],
    ['EdDSA', 'jwk'],
    ['RS256', 'pem'],
    ['PS256', 'jwk'],
  ])('%s from a %s: a fresh verifiable assertion on every attempt, retries included', async (alg, form) => {
    const testKey = key(alg);
    const { client, clock, api } = keyClient({ privateKey: form === 'pem' ? testKey.pem : testKey.jwk });
    discovery(api);
    const forms = captureForms(api, '/oauth2/token', 2, (n) => (n === 0 ? [503, { error: 'temporarily_unavailable' }] : [200, tokenReply('at_key')]));
    api.get('/v1/agents/agt_keybot').matchHeader('authorization', 'Bearer at_key').reply(200, agent(CLIENT_ID));

    await client.agents.get(CLIENT_ID);

    expect(forms).toHaveLength(2);
    const thumbprint = await jose.calculateJwkThumbprint(testKey.publicJwk as Parameters<Jose['calculateJwkThumbprint']>[0], 'sha256');
    const jtis = [];
    for (const sent of forms) {
      expect(sent).toMatchObject({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_assertion_type: ASSERTION_TYPE });
      expect(sent).not.toHaveProperty('client_secret');
      const { header, claims } = await verifyAssertion(sent.client_assertion ?? '', testKey, clock);
      expect(header).toMatchObject({ alg, kid: thumbprint });
      jtis.push(claims.jti);
    }
    expect(new Set(jtis).size).toBe(2);
  });

  it('fetches the issuer once for the client’s life', async () => {
    const testKey = key('ES256');
    const { client, clock, api } = keyClient({ privateKey: testKey.pem });
    discovery(api, 1);
    const forms = captureForms(api, '/oauth2/token', 2, () => [200, tokenReply('at_key')]);
    for (const round of [0, 1]) {
      api.get('/v1/agents/agt_1').reply(200, agent('agt_1'));
      await client.agents.get('agt_1');
      await verifyAssertion(forms[round]?.client_assertion ?? '', testKey, clock);
      // Past the token's lifetime: the next call needs a new token, and a new assertion.
      clock.advance(3600_000);
    }
  });

  it('tries discovery again after it failed', async () => {
    const { client, api } = keyClient({ privateKey: key('EdDSA').jwk, maxRetries: 0 });
    api.get('/.well-known/oauth-authorization-server').reply(500, { code: 'INTERNAL' });
    await expect(client.agents.get('agt_1')).rejects.toMatchObject({ status: 500 });
    discovery(api);
    captureForms(api, '/oauth2/token', 1, () => [200, tokenReply('at_key')]);
    api.get('/v1/agents/agt_1').reply(200, agent('agt_1'));
    await client.agents.get('agt_1');
  });

  it('sends the keyId option, else the JWK’s own kid', async () => {
    const testKey = key('ES256');
    for (const [options, kid] of [
      [{ privateKey: testKey.pem, keyId: 'my-key-1' }, 'my-key-1'],
      [{ privateKey: { ...testKey.jwk, kid: 'jwk-kid' } }, 'jwk-kid'],
      [{ privateKey: JSON.stringify({ ...testKey.jwk, kid: 'jwk-kid' }), keyId: 'option-wins' }, 'option-wins'],
    ] as const) {
      const { client, clock, api } = keyClient(options);
      discovery(api);
      const forms = captureForms(api, '/oauth2/token', 1, () => [200, tokenReply('at_key')]);
      await client.oauth.issueToken({ grant_type: 'client_credentials' });
      const { header } = await verifyAssertion(forms[0]?.client_assertion ?? '', testKey, clock);
      expect(header.kid).toBe(kid);
    }
  });

  it('signs ES256 in low-S form, every time', async () => {
    const testKey = key('ES256');
    const { client, api } = keyClient({ privateKey: testKey.jwk });
    discovery(api);
    const forms = captureForms(api, '/oauth2/token', 40, () => [200, tokenReply('at_key')]);
    for (let i = 0; i < 40; i++) await client.oauth.issueToken({ grant_type: 'client_credentials' });
    for (const form of forms) {
      const signature = Buffer.from((form.client_assertion ?? '').split('.')[2] ?? '', 'base64url');
      expect(signature).toHaveLength(64);
      expect(isLowS(signature.subarray(32))).toBe(true);
    }
  });

  it('lowS turns a high-S signature into its low-S twin, which still verifies', async () => {
    const { subtle } = globalThis.crypto;
    const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const data = new TextEncoder().encode('message');
    let seenHigh = false;
    for (let i = 0; i < 64 && !seenHigh; i++) {
      const raw = new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, data));
      if (isLowS(raw.subarray(32))) {
        expect(lowS(raw)).toBe(raw);
        continue;
      }
      seenHigh = true;
      const fixed = lowS(raw);
      expect(isLowS(fixed.subarray(32))).toBe(true);
      expect(Buffer.from(fixed.subarray(0, 32))).toEqual(Buffer.from(raw.subarray(0, 32)));
      await expect(subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pair.publicKey, fixed, data)).resolves.toBe(true);
    }
    expect(seenHigh).toBe(true);
  });

  it('a refused assertion is the token request’s AuthenticationError', async () => {
    const { client, api } = keyClient({ privateKey: key('EdDSA').pem });
    discovery(api);
    captureForms(api, '/oauth2/token', 1, () => [401, { error: 'invalid_client', error_description: 'No registered key matches.' }]);
    await expect(client.agents.get('agt_1')).rejects.toMatchObject({ name: 'AuthenticationError', status: 401, code: 'invalid_client' });
  });

  it('a 401 on a call refreshes the token with a new assertion', async () => {
    const testKey = key('ES256');
    const { client, clock, api } = keyClient({ privateKey: testKey.pem });
    discovery(api);
    const forms = captureForms(api, '/oauth2/token', 2, (n) => [200, tokenReply(`at_${n}`)]);
    api.get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer at_0').reply(401, { code: 'INVALID_TOKEN' });
    api.get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer at_1').reply(200, agent('agt_1'));
    await client.agents.get('agt_1');
    const jtis = await Promise.all(forms.map(async (form) => (await verifyAssertion(form.client_assertion ?? '', testKey, clock)).claims.jti));
    expect(new Set(jtis).size).toBe(2);
  });
});

describe('private_key_jwt at introspection and revocation', () => {
  it('authenticates both with an assertion and no Basic header', async () => {
    const testKey = key('EdDSA');
    const { client, clock, api } = keyClient({ privateKey: testKey.jwk });
    discovery(api);
    const introspected = captureForms(api, '/oauth2/introspect', 1, () => [200, { active: false }]);
    const revoked = captureForms(api, '/oauth2/revoke', 1, () => [200, {}]);
    await expect(client.oauth.introspect({ token: 'at_other' })).resolves.toEqual({ active: false });
    await client.oauth.revoke({ token: 'at_other' });
    for (const form of [...introspected, ...revoked]) {
      expect(form).toMatchObject({ token: 'at_other', client_id: CLIENT_ID, client_assertion_type: ASSERTION_TYPE });
      await verifyAssertion(form.client_assertion ?? '', testKey, clock);
    }
  });

  it('leaves a form that already carries client authentication alone', async () => {
    const { client, api } = keyClient({ privateKey: key('EdDSA').jwk });
    const forms = captureForms(api, '/oauth2/revoke', 1, () => [200, {}]);
    await client.oauth.revoke({ token: 'at_other', client_id: 'agt_x', client_secret: 'mdt_sk_x' });
    expect(forms).toEqual([{ token: 'at_other', client_id: 'agt_x', client_secret: 'mdt_sk_x' }]);
  });
});

describe('private key configuration', () => {
  const build = (options: ClientOptions) => () => new Mandate({ baseURL: BASE, clock: new FakeClock(), ...options });

  it('refuses a secret and a key together', () => {
    expect(build({ clientId: CLIENT_ID, clientSecret: 'mdt_sk_x', privateKey: key('ES256').pem })).toThrow(/not both/);
  });

  it('refuses a key without a client id, and a keyId without a key', () => {
    expect(build({ privateKey: key('ES256').pem })).toThrow(/clientId together with clientSecret or privateKey/);
    expect(build({ clientId: CLIENT_ID, clientSecret: 'mdt_sk_x', keyId: 'k1' })).toThrow(/keyId/);
  });

  const ecJwk = () => key('ES256').jwk;
  const secretParts = () => [key('ES256').jwk.d ?? '', key('ES256').pem.split('\n')[1] ?? ''];
  it.each<[string, () => ClientOptions['privateKey'], RegExp]>([
    ['random text', () => 'not a key', /neither a PEM .* nor a JWK/],
    ['broken JSON', () => `{"kty":"EC","d":"${ecJwk().d ?? ''}"`, /not valid JSON/],
    ['a public JWK', () => key('ES256').publicJwk as ClientOptions['privateKey'], /public key/],
    ['a P-384 JWK', () => ({ ...ecJwk(), crv: 'P-384' }), /not supported/],
    ['an EC JWK with a short d', () => ({ ...ecJwk(), d: 'AAAA' }), /d must be 32 bytes/],
    ['an EC JWK with alg RS256', () => ({ ...ecJwk(), alg: 'RS256' }), /does not suit/],
    ['an RSA JWK without CRT members', () => ({ kty: 'RSA', n: key('RS256').jwk.n, e: 'AQAB', d: key('RS256').jwk.d }), /needs its p member/],
    ['a PKCS#1 PEM', () => '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----', /openssl pkcs8 -topk8/],
    ['an encrypted PEM', () => '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----', /encrypted/],
    ['a public-key PEM', () => '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----', /public key/],
    ['a truncated PKCS#8 PEM', () => key('ES256').pem.replace(/\n[^\n]+\n-----END/, '\n-----END'), /not a well-formed PKCS#8 key/],
    ['a 1024-bit RSA PEM', () => rsa1024Pem, /at least 2048 bits/],
  ])('names the problem with %s, without echoing the key', (_, privateKey, message) => {
    const attempt = build({ clientId: CLIENT_ID, privateKey: privateKey() });
    expect(attempt).toThrow(MandateError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      const text = (error as Error).message;
      expect(text).toMatch(/^The private key in privateKey cannot be used: /);
      for (const part of secretParts()) expect(text).not.toContain(part);
    }
  });

  it('a key WebCrypto cannot import fails the first token request with a clear error', async () => {
    // Well-formed, but x and y are not a point on P-256.
    const { client, api } = keyClient({ privateKey: { ...ecJwk(), x: key('ES256').jwk.y, y: key('ES256').jwk.x } });
    discovery(api);
    await expect(client.oauth.issueToken({ grant_type: 'client_credentials' })).rejects.toThrow(/private key \(ES256\) could not be imported/);
  });
});

describe('MANDATE_CLIENT_PRIVATE_KEY', () => {
  it('a client given no credential signs with the key from the environment (PEM newlines may be written as \\n)', async () => {
    const testKey = key('ES256');
    for (const pem of [testKey.pem, testKey.pem.replace(/\n/g, '\\n')]) {
      await withEnv({ MANDATE_CLIENT_ID: CLIENT_ID, MANDATE_CLIENT_PRIVATE_KEY: pem }, async () => {
        const clock = new FakeClock();
        const client = new Mandate({ baseURL: BASE, clock });
        const api = nock(BASE);
        discovery(api);
        const forms = captureForms(api, '/oauth2/token', 1, () => [200, tokenReply('at_env')]);
        api.get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer at_env').reply(200, agent('agt_1'));
        await client.agents.get('agt_1');
        await verifyAssertion(forms[0]?.client_assertion ?? '', testKey, clock);
      });
    }
  });

  it('an explicit credential option keeps the key variable out', async () => {
    await withEnv({ MANDATE_CLIENT_ID: CLIENT_ID, MANDATE_CLIENT_PRIVATE_KEY: key('ES256').pem }, async () => {
      const client = new Mandate({ baseURL: BASE, clock: new FakeClock(), apiToken: 'mdt_pat_explicit' });
      const api = nock(BASE);
      api.post('/oauth2/token', 'grant_type=client_credentials').matchHeader('authorization', absent).reply(401, { error: 'invalid_client' });
      await expect(client.oauth.issueToken({ grant_type: 'client_credentials' })).rejects.toMatchObject({ status: 401 });
    });
  });

  it('an explicit private key keeps MANDATE_CLIENT_SECRET and MANDATE_API_TOKEN out', async () => {
    const testKey = key('EdDSA');
    await withEnv({ MANDATE_CLIENT_SECRET: 'mdt_sk_env', MANDATE_API_TOKEN: 'mdt_pat_env' }, async () => {
      const { client, clock, api } = keyClient({ privateKey: testKey.pem });
      discovery(api);
      const forms = captureForms(api, '/oauth2/token', 1, () => [200, tokenReply('at_key')]);
      api.get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer at_key').reply(200, agent('agt_1'));
      await client.agents.get('agt_1');
      await verifyAssertion(forms[0]?.client_assertion ?? '', testKey, clock);
    });
  });

  it('a secret and a key both in the environment are a configuration error', async () => {
    const env = { MANDATE_CLIENT_ID: CLIENT_ID, MANDATE_CLIENT_SECRET: 'mdt_sk_env', MANDATE_CLIENT_PRIVATE_KEY: key('ES256').pem };
    await withEnv(env, () => {
      expect(() => new Mandate({ baseURL: BASE })).toThrow(/not both/);
      return Promise.resolve();
    });
  });

  it('a bad key in the environment names the variable', async () => {
    await withEnv({ MANDATE_CLIENT_ID: CLIENT_ID, MANDATE_CLIENT_PRIVATE_KEY: 'oops' }, () => {
      expect(() => new Mandate({ baseURL: BASE })).toThrow(/^The private key in MANDATE_CLIENT_PRIVATE_KEY cannot be used/);
      return Promise.resolve();
    });
  });
});

const rsa1024Pem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
