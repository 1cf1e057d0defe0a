/**
 * ProtectedResource: every row of the contract's refusal table (status, exact
 * WWW-Authenticate, body), the metadata document and path, and success handing over the
 * claims. Tokens come from a stand-in issuer on a local listener (its JWKS fetched for real);
 * DPoP proofs are made with jose, independently of the SDK's own signer.
 */
import { createHash } from 'node:crypto';
import { ProtectedResource, type ProtectedResourceOptions, type ResourceDecision } from '../../src/index';
import { type TestIssuer, startTestIssuer } from '../helpers/issuer';

type Jose = typeof import('jose');
let jose: Jose;
let issuer: TestIssuer;
beforeAll(async () => {
  jose = await import('jose');
  issuer = await startTestIssuer(jose);
});
afterAll(() => issuer.close());

const RESOURCE = 'https://api.example/mcp';
const M = 'https://api.example/.well-known/oauth-protected-resource/mcp';
const A = 'ES256 EdDSA RS256 PS256';
const ath = (token: string): string => createHash('sha256').update(token).digest('base64url');

const protect = (options: Partial<ProtectedResourceOptions> = {}) => new ProtectedResource({ resource: RESOURCE, issuer: issuer.issuer, scopes: ['tools:call'], ...options });
const token = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => issuer.token({ aud: RESOURCE, ...claims }, header);

interface ProofKey {
  privateKey: CryptoKey;
  jwk: Record<string, unknown>;
  jkt: string;
  alg: string;
}
async function proofKey(alg = 'ES256'): Promise<ProofKey> {
  const pair = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = await jose.exportJWK(pair.publicKey);
  return { privateKey: pair.privateKey, jwk: jwk as Record<string, unknown>, jkt: await jose.calculateJwkThumbprint(jwk), alg };
}

/** A DPoP proof for `GET https://api.example/mcp` naming `accessToken`, with any part replaced. */
function proof(key: ProofKey, accessToken: string, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, signWith?: CryptoKey): Promise<string> {
  const payload = { jti: crypto.randomUUID(), htm: 'GET', htu: RESOURCE, iat: Math.floor(Date.now() / 1000), ath: ath(accessToken), ...claims };
  const protectedHeader = { typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk, ...header } as Parameters<InstanceType<Jose['SignJWT']>['setProtectedHeader']>[0];
  return new jose.SignJWT(payload).setProtectedHeader(protectedHeader).sign(signWith ?? key.privateKey);
}

const get = (resource: ProtectedResource, headers: Record<string, string | string[] | undefined>, path = '/mcp?session=1') =>
  resource.authenticate({ method: 'GET', path, headers });

/** Asserts a refusal: status, the exact challenge, and the JSON body's error. */
function expectRefusal(decision: ResourceDecision, status: number, challenge: string, error: string): void {
  expect(decision).toMatchObject({ ok: false, status, headers: { 'www-authenticate': challenge, 'content-type': 'application/json' }, body: { error } });
  if (decision.ok) return;
  expect(Object.keys(decision.body).sort()).toEqual(['error', 'error_description']);
  expect(decision.body.error_description).toEqual(expect.stringMatching(/^[^"\\]+\.$/));
  if (error !== 'missing_token') expect(challenge).toContain(`error_description="${String(decision.body.error_description)}"`);
}

describe('metadata (RFC 9728)', () => {
  it('is served at the well-known path followed by the resource path, without authentication', async () => {
    const resource = protect({ resourceName: 'Tools', dpopRequired: true });
    expect(resource.metadataPath).toBe('/.well-known/oauth-protected-resource/mcp');
    const decision = await resource.authenticate({ method: 'GET', path: '/.well-known/oauth-protected-resource/mcp', headers: {} });
    expect(decision).toEqual({
      ok: false,
      status: 200,
      headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' },
      body: resource.metadata,
    });
    expect(JSON.stringify(resource.metadata)).toBe(
      JSON.stringify({
        resource: RESOURCE,
        authorization_servers: [issuer.issuer],
        scopes_supported: ['tools:call'],
        bearer_methods_supported: ['header'],
        dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'RS256', 'PS256'],
        dpop_bound_access_tokens_required: true,
        resource_name: 'Tools',
      }),
    );
  });

  it('leaves out scopes_supported and resource_name when not given; a resource at / has no path suffix', () => {
    for (const resourceUrl of ['https://api.example', 'https://api.example/']) {
      const resource = new ProtectedResource({ resource: resourceUrl, issuer: 'https://mandate.example' });
      expect(resource.metadataPath).toBe('/.well-known/oauth-protected-resource');
      expect(resource.metadata).toEqual({
        resource: resourceUrl,
        authorization_servers: ['https://mandate.example'],
        bearer_methods_supported: ['header'],
        dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'RS256', 'PS256'],
        dpop_bound_access_tokens_required: false,
      });
    }
  });

  it.each(['api.example/mcp', 'ftp://api.example/x', 'https://api.example/mcp?x=1', 'https://api.example/mcp#f', ''])('refuses the resource %j', (resourceUrl) => {
    expect(() => new ProtectedResource({ resource: resourceUrl, issuer: 'https://mandate.example' })).toThrow(/absolute http\(s\) URL/);
  });
});

describe('row 1: no token, or another scheme', () => {
  it.each<[string, Record<string, string | string[]>]>([
    ['no Authorization', {}],
    ['Basic', { Authorization: 'Basic YTpi' }],
    ['a scheme without a token', { authorization: 'Bearer' }],
    ['two Authorization headers', { authorization: ['Bearer a.b.c', 'Bearer d.e.f'] }],
  ])('%s: 401 Bearer challenge', async (_name, headers) => {
    expectRefusal(await get(protect(), headers), 401, `Bearer resource_metadata="${M}"`, 'missing_token');
  });

  it('with dpopRequired: a DPoP challenge with algs', async () => {
    expectRefusal(await get(protect({ dpopRequired: true }), {}), 401, `DPoP algs="${A}", resource_metadata="${M}"`, 'missing_token');
  });

  it('works with a fetch Headers object too', async () => {
    const decision = await protect().authenticate({ method: 'POST', path: '/mcp', headers: new Headers({ authorization: 'Token x' }) });
    expectRefusal(decision, 401, `Bearer resource_metadata="${M}"`, 'missing_token');
  });
});

describe('row 2: the token fails verification', () => {
  const cases: [string, () => Promise<string>, string][] = [
    ['malformed', () => Promise.resolve('not-a-jwt'), 'The access token is malformed.'],
    ['a bad signature', () => issuer.forgedToken({ aud: RESOURCE }), 'The access token signature does not verify.'],
    ['typ JWT', () => token({}, { typ: 'JWT' }), 'The token is not an access token (typ at+jwt).'],
    ['another issuer', () => token({ iss: 'https://other.example' }), 'The access token is from another issuer.'],
    ['expired', () => token({ exp: Math.floor(Date.now() / 1000) - 120 }), 'The access token has expired.'],
    ['not yet valid', () => token({ nbf: Math.floor(Date.now() / 1000) + 120 }), 'The access token is not valid yet.'],
    ['for another audience', () => token({ aud: 'https://other.example/mcp' }), 'The access token is not for this resource.'],
    ['for the issuer (the management API)', () => token({ aud: issuer.issuer }), 'The access token is not for this resource.'],
  ];
  it.each(cases)('%s, as Bearer', async (_name, make, description) => {
    const decision = await get(protect(), { authorization: `Bearer ${await make()}` });
    expectRefusal(decision, 401, `Bearer error="invalid_token", error_description="${description}", resource_metadata="${M}"`, 'invalid_token');
  });

  it('as DPoP, the challenge uses the DPoP scheme', async () => {
    const decision = await get(protect(), { authorization: `dpop ${await token({ aud: 'https://other.example/mcp' })}` });
    expectRefusal(decision, 401, `DPoP error="invalid_token", error_description="The access token is not for this resource.", resource_metadata="${M}"`, 'invalid_token');
  });

  it('an aud array containing the resource passes', async () => {
    const decision = await get(protect(), { authorization: `Bearer ${await token({ aud: ['https://other.example', RESOURCE] })}` });
    expect(decision.ok).toBe(true);
  });
});

describe('row 3: the token and the scheme disagree about binding', () => {
  const challenge = (description: string) => `DPoP algs="${A}", error="invalid_token", error_description="${description}", resource_metadata="${M}"`;

  it('a DPoP-bound token sent as Bearer', async () => {
    const key = await proofKey();
    const decision = await get(protect(), { authorization: `Bearer ${await token({ cnf: { jkt: key.jkt } })}` });
    expectRefusal(decision, 401, challenge('This access token is bound to a DPoP key: send it with the DPoP scheme and a proof.'), 'invalid_token');
  });

  it('a token without cnf sent as DPoP', async () => {
    const plain = await token();
    const decision = await get(protect(), { authorization: `DPoP ${plain}`, dpop: await proof(await proofKey(), plain) });
    expectRefusal(decision, 401, challenge('This access token is not bound to a DPoP key.'), 'invalid_token');
  });

  it('with dpopRequired, a token without cnf', async () => {
    const decision = await get(protect({ dpopRequired: true }), { authorization: `Bearer ${await token()}` });
    expectRefusal(decision, 401, challenge('This resource accepts only DPoP-bound access tokens.'), 'invalid_token');
  });
});

describe('row 4: the DPoP proof', () => {
  let key: ProofKey;
  let bound: string;
  beforeAll(async () => {
    key = await proofKey();
    bound = await token({ cnf: { jkt: key.jkt } });
  });
  const challenge = (description: string) => `DPoP algs="${A}", error="invalid_dpop_proof", error_description="${description}", resource_metadata="${M}"`;
  const send = (dpop: string | string[] | undefined, resource = protect(), method = 'GET') =>
    resource.authenticate({ method, path: '/mcp?session=1', headers: { Authorization: `DPoP ${bound}`, DPoP: dpop } });

  const cases: [string, () => Promise<string | string[] | undefined>, string][] = [
    ['no DPoP header', () => Promise.resolve(undefined), 'Send a DPoP proof in the DPoP header.'],
    ['two DPoP headers', async () => [await proof(key, bound), await proof(key, bound)], 'Send exactly one DPoP proof.'],
    ['two proofs joined by a comma', async () => `${await proof(key, bound)}, ${await proof(key, bound)}`, 'Send exactly one DPoP proof.'],
    ['not a JWT', () => Promise.resolve('abc.def'), 'The DPoP proof is not a JWT.'],
    ['typ JWT', () => proof(key, bound, {}, { typ: 'JWT' }), 'The DPoP proof must have typ dpop+jwt.'],
    ['alg HS256', async () => new jose.SignJWT({ jti: 'x' }).setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: key.jwk } as never).sign(new Uint8Array(32)), 'The DPoP proof is signed with an algorithm that is not accepted.'],
    ['no jwk', () => proof(key, bound, {}, { jwk: undefined }), 'The DPoP proof carries no public key (jwk).'],
    ['a private jwk', () => proof(key, bound, {}, { jwk: { ...key.jwk, d: 'AAAA' } }), 'The jwk of the DPoP proof must be a public key.'],
    ['signed by another key than its jwk', async () => proof(key, bound, {}, {}, (await proofKey()).privateKey), 'The DPoP proof signature does not verify with its jwk.'],
    ['htm POST for a GET', () => proof(key, bound, { htm: 'POST' }), 'The DPoP proof is for another method (htm).'],
    ['htu of another path', () => proof(key, bound, { htu: 'https://api.example/other' }), 'The DPoP proof is for another URL (htu).'],
    ['htu of another origin', () => proof(key, bound, { htu: 'http://api.example/mcp' }), 'The DPoP proof is for another URL (htu).'],
    ['iat 2 minutes ago', () => proof(key, bound, { iat: Math.floor(Date.now() / 1000) - 120 }), 'The DPoP proof must be made within 60 seconds of its use (iat).'],
    ['iat 2 minutes ahead', () => proof(key, bound, { iat: Math.floor(Date.now() / 1000) + 120 }), 'The DPoP proof must be made within 60 seconds of its use (iat).'],
    ['no ath', () => proof(key, bound, { ath: undefined }), 'The DPoP proof does not name this access token (ath).'],
    ['ath of another token', () => proof(key, bound, { ath: ath('another') }), 'The DPoP proof does not name this access token (ath).'],
    ['a key other than cnf.jkt', async () => proof(await proofKey(), bound), 'The DPoP proof is signed with another key than the token is bound to.'],
    ['no jti', () => proof(key, bound, { jti: undefined }), 'The DPoP proof has no jti.'],
  ];
  it.each(cases)('%s: 401 invalid_dpop_proof', async (_name, make, description) => {
    expectRefusal(await send(await make()), 401, challenge(description), 'invalid_dpop_proof');
  });

  it('a proof used twice: the second time refused', async () => {
    const resource = protect();
    const once = await proof(key, bound);
    expect((await send(once, resource)).ok).toBe(true);
    expectRefusal(await send(once, resource), 401, challenge('This DPoP proof was used before: make a new one for every request.'), 'invalid_dpop_proof');
  });

  it.each(['ES256', 'EdDSA', 'RS256', 'PS256'])('a good %s proof (htu with a query is compared without it) hands over the claims', async (alg) => {
    const algKey = await proofKey(alg);
    const algToken = await token({ cnf: { jkt: algKey.jkt } });
    const decision = await protect().authenticate({
      method: 'get',
      path: '/mcp?session=1',
      headers: { authorization: `DPoP ${algToken}`, dpop: await proof(algKey, algToken, { htu: `${RESOURCE}?other=2` }) },
    });
    expect(decision).toMatchObject({ ok: true, claims: { sub: 'agt_caller', cnf: { jkt: algKey.jkt } } });
  });

  it('Ed25519 as the proof alg is accepted like EdDSA', async () => {
    const edKey = await proofKey('EdDSA');
    const edToken = await token({ cnf: { jkt: edKey.jkt } });
    const decision = await protect().authenticate({ method: 'GET', path: '/mcp', headers: { authorization: `DPoP ${edToken}`, dpop: await proof(edKey, edToken, {}, { alg: 'Ed25519' }) } });
    expect(decision.ok).toBe(true);
  });
});

describe('row 5: scopes', () => {
  it('a token without a required scope: 403 with the scopes, in the scheme used', async () => {
    const resource = protect({ scopes: ['tools:call', 'tools:list'] });
    const description = 'The access token lacks a scope this resource requires.';
    const bearer = await get(resource, { authorization: `Bearer ${await token({ scope: 'tools:call agents:read' })}` });
    expectRefusal(bearer, 403, `Bearer error="insufficient_scope", error_description="${description}", scope="tools:call tools:list", resource_metadata="${M}"`, 'insufficient_scope');

    const key = await proofKey();
    const bound = await token({ scope: 'tools:list', cnf: { jkt: key.jkt } });
    const dpop = await get(resource, { authorization: `DPoP ${bound}`, dpop: await proof(key, bound) });
    expectRefusal(dpop, 403, `DPoP error="insufficient_scope", error_description="${description}", scope="tools:call tools:list", resource_metadata="${M}"`, 'insufficient_scope');
  });
});

describe('success', () => {
  it('hands over the verified claims of a Bearer token with every required scope', async () => {
    const decision = await get(protect(), { AUTHORIZATION: `bearer ${await token({ scope: 'agents:read tools:call' })}` });
    expect(decision).toMatchObject({ ok: true, claims: { iss: issuer.issuer, aud: RESOURCE, sub: 'agt_caller', scope: 'agents:read tools:call' } });
  });

  it('the clock option is the one tokens are checked against', async () => {
    const expired = await token({ exp: Math.floor(Date.now() / 1000) - 3600 });
    const past = protect({ clock: { now: () => Date.now() - 2 * 3600_000 } });
    // Expired by the system clock (row 2); by the given clock, two hours back, still valid.
    expect((await get(past, { authorization: `Bearer ${expired}` })).ok).toBe(true);
  });
});

describe('an issuer whose keys cannot be fetched', () => {
  it('answers 503 temporarily_unavailable with Retry-After and no challenge: the token may be good', async () => {
    const unreachable = protect({ jwksUri: 'http://127.0.0.1:1/jwks.json' });
    const decision = await get(unreachable, { authorization: `Bearer ${await token()}` });
    expect(decision).toMatchObject({ ok: false, status: 503, headers: { 'retry-after': '5' }, body: { error: 'temporarily_unavailable' } });
    if (!decision.ok) expect(decision.headers['www-authenticate']).toBeUndefined();
  });
});
