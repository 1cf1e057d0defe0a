/**
 * DPoP (RFC 9449) on the client: proofs on every token request and on requests made with a
 * DPoP-bound managed token, a new proof per attempt, the nonce retry at the token endpoint and
 * at a resource, createDpopProof, and the dpop option's configuration errors. Every proof
 * sent is verified with jose against the key in its own header.
 */
import { createHash } from 'node:crypto';
import nock from 'nock';
import { Mandate, MandateError, type ClientOptions } from '../../src/index';
import { isLowS } from '../../src/core/verify';
import { FakeClock } from '../helpers/fake-clock';
import { type KeyKind, generateTestKey } from '../helpers/keys';
import { BASE, absent, agent } from '../helpers/mock';

type Jose = typeof import('jose');
let jose: Jose;
beforeAll(async () => {
  jose = await import('jose');
});

const secretClient = { clientId: 'agt_bot', clientSecret: 'mdt_sk_secret' };
const boundReply = (token: string) => ({ access_token: token, token_type: 'DPoP', expires_in: 3600, scope: 'agents:read' });
const bearerReply = (token: string) => ({ ...boundReply(token), token_type: 'Bearer' });
const ath = (token: string): string => createHash('sha256').update(token).digest('base64url');

function dpopClient(options: ClientOptions): { client: Mandate; clock: FakeClock; api: nock.Scope } {
  const clock = new FakeClock();
  return { client: new Mandate({ baseURL: BASE, clock, dpop: true, ...secretClient, ...options }), clock, api: nock(BASE) };
}

/** The headers of each request an interceptor answered. */
type Seen = Record<string, string | string[] | undefined>[];
function recording(interceptor: nock.Interceptor, times: number, reply: (n: number) => [number, object, Record<string, string>?]): Seen {
  const seen: Seen = [];
  interceptor.times(times).reply(function () {
    seen.push({ ...this.req.headers });
    const [status, body, headers] = reply(seen.length - 1);
    return [status, body, headers ?? {}];
  });
  return seen;
}

interface Proof {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** Verifies a proof with the public key in its header (as a server does) and returns it. */
async function verifyProof(proof: unknown, clock: FakeClock): Promise<Proof> {
  expect(typeof proof).toBe('string');
  const { payload, protectedHeader } = await jose.jwtVerify(proof as string, jose.EmbeddedJWK, { typ: 'dpop+jwt', currentDate: new Date(clock.now()) });
  expect(payload.iat).toBe(Math.floor(clock.now() / 1000));
  expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  return { header: protectedHeader as Record<string, unknown>, claims: payload as Record<string, unknown> };
}

describe('proofs at the token endpoint', () => {
  it('dpop: true signs ES256 with a public-only jwk, a new jti on every attempt', async () => {
    const { client, clock, api } = dpopClient({});
    const seen = recording(api.post('/oauth2/token', 'grant_type=client_credentials'), 2, (n) =>
      n === 0 ? [503, { error: 'temporarily_unavailable' }] : [200, boundReply('at_bound')],
    );
    api.get('/v1/agents/agt_1').reply(200, agent('agt_1'));
    await client.agents.get('agt_1');

    expect(seen).toHaveLength(2);
    const proofs = await Promise.all(seen.map((headers) => verifyProof(headers.dpop, clock)));
    for (const { header, claims } of proofs) {
      expect(header.alg).toBe('ES256');
      expect(Object.keys(header.jwk as object).sort()).toEqual(['crv', 'kty', 'x', 'y']);
      expect(claims).toMatchObject({ htm: 'POST', htu: `${BASE}/oauth2/token` });
      expect(claims).not.toHaveProperty('ath');
      expect(claims).not.toHaveProperty('nonce');
    }
    expect(proofs[0]?.claims.jti).not.toBe(proofs[1]?.claims.jti);
    // One key for the client's life.
    expect(proofs[0]?.header.jwk).toEqual(proofs[1]?.header.jwk);
    expect(seen[0]?.authorization).toMatch(/^Basic /);
  });

  it.each<[KeyKind, 'pem' | 'jwk']>([
    ['ES256', 'pem'],
    ['EdDSA', 'pem'],
    ['EdDSA', 'jwk'],
    ['RS256', 'jwk'],
    ['PS256', 'jwk'],
  ])('a %s key from a %s signs with its algorithm and the thumbprint of the given key', async (alg, form) => {
    const testKey = generateTestKey(alg);
    const { client, clock, api } = dpopClient({ dpop: form === 'pem' ? testKey.pem : testKey.jwk });
    const seen = recording(api.post('/oauth2/token'), 1, () => [200, boundReply('at_bound')]);
    await client.oauth.issueToken({ grant_type: 'client_credentials' });
    const { header } = await verifyProof(seen[0]?.dpop, clock);
    expect(header.alg).toBe(alg);
    expect(header.jwk).not.toHaveProperty('d');
    const expected = await jose.calculateJwkThumbprint(testKey.publicJwk as Parameters<Jose['calculateJwkThumbprint']>[0]);
    expect(await jose.calculateJwkThumbprint(header.jwk as Parameters<Jose['calculateJwkThumbprint']>[0])).toBe(expected);
  });

  it('delegate and a direct issueToken carry a proof; introspection and revocation none', async () => {
    const { client, clock, api } = dpopClient({});
    const seen = recording(api.post('/oauth2/token'), 2, () => [200, { ...boundReply('at_x'), issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' }]);
    api.post('/oauth2/introspect').matchHeader('dpop', absent).reply(200, { active: false });
    api.post('/oauth2/revoke').matchHeader('dpop', absent).reply(200);
    await client.delegate('at_subject');
    await client.oauth.issueToken({ grant_type: 'client_credentials' });
    await client.oauth.introspect({ token: 'at_x' });
    await client.oauth.revoke({ token: 'at_x' });
    for (const headers of seen) expect((await verifyProof(headers.dpop, clock)).claims.htm).toBe('POST');
  });

  it('signs ES256 proofs in low-S form, every time', async () => {
    const { client, api } = dpopClient({});
    const seen = recording(api.post('/oauth2/token'), 30, () => [200, boundReply('at_x')]);
    for (let i = 0; i < 30; i++) await client.oauth.issueToken({ grant_type: 'client_credentials' });
    for (const headers of seen) {
      const signature = Buffer.from(String(headers.dpop).split('.')[2] ?? '', 'base64url');
      expect(signature).toHaveLength(64);
      expect(isLowS(signature.subarray(32))).toBe(true);
    }
  });
});

describe('requests with a managed token', () => {
  it('a DPoP token goes as "DPoP <token>" with a proof naming it, htu without the query', async () => {
    const { client, clock, api } = dpopClient({});
    api.post('/oauth2/token').reply(200, boundReply('at_bound'));
    const seen = recording(api.get('/v1/agents').query({ limit: '5' }).matchHeader('authorization', 'DPoP at_bound'), 2, (n) =>
      n === 0 ? [503, { code: 'UNAVAILABLE' }] : [200, { data: [], nextCursor: null, hasNextPage: false }],
    );
    await client.agents.list({ limit: 5 });
    const proofs = await Promise.all(seen.map((headers) => verifyProof(headers.dpop, clock)));
    for (const { claims } of proofs) expect(claims).toMatchObject({ htm: 'GET', htu: `${BASE}/v1/agents`, ath: ath('at_bound') });
    expect(proofs[0]?.claims.jti).not.toBe(proofs[1]?.claims.jti);
  });

  it('a Bearer token (a server that did not bind it) goes as before, without a proof', async () => {
    const { client, api } = dpopClient({});
    api.post('/oauth2/token').matchHeader('dpop', /\./).reply(200, bearerReply('at_plain'));
    api.get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer at_plain').matchHeader('dpop', absent).reply(200, agent('agt_1'));
    await client.agents.get('agt_1');
  });

  it('an apiToken is a bearer token: no proof', async () => {
    const client = new Mandate({ baseURL: BASE, apiToken: 'mdt_pat_x', dpop: true, clock: new FakeClock() });
    nock(BASE).get('/v1/agents/agt_1').matchHeader('authorization', 'Bearer mdt_pat_x').matchHeader('dpop', absent).reply(200, agent('agt_1'));
    await client.agents.get('agt_1');
  });
});

describe('nonces', () => {
  const nonceRefusal = (nonce: string): [number, object, Record<string, string>] => [400, { error: 'use_dpop_nonce', error_description: 'nonce' }, { 'DPoP-Nonce': nonce }];

  it('the token endpoint’s use_dpop_nonce is answered at once with the nonce, not counted as a retry', async () => {
    const { client, clock, api } = dpopClient({ maxRetries: 0 });
    const seen = recording(api.post('/oauth2/token'), 2, (n) => (n === 0 ? nonceRefusal('n-1') : [200, boundReply('at_bound')]));
    await client.oauth.issueToken({ grant_type: 'client_credentials' });
    const [first, second] = await Promise.all(seen.map((headers) => verifyProof(headers.dpop, clock)));
    expect(first?.claims).not.toHaveProperty('nonce');
    expect(second?.claims.nonce).toBe('n-1');
    expect(clock.sleeps).toEqual([]);
  });

  it('only once per call: a second use_dpop_nonce is the error', async () => {
    const { client, api } = dpopClient({});
    recording(api.post('/oauth2/token'), 2, (n) => nonceRefusal(`n-${n}`));
    await expect(client.oauth.issueToken({ grant_type: 'client_credentials' })).rejects.toMatchObject({ status: 400, code: 'use_dpop_nonce' });
  });

  it('a resource’s 401 use_dpop_nonce challenge is answered once with the nonce, keeping the token', async () => {
    const { client, clock, api } = dpopClient({});
    api.post('/oauth2/token').once().reply(200, boundReply('at_bound'));
    const challenge = { 'WWW-Authenticate': 'DPoP algs="ES256 EdDSA RS256 PS256", error="use_dpop_nonce"', 'DPoP-Nonce': 'n-r' };
    const seen = recording(api.get('/v1/agents/agt_1').matchHeader('authorization', 'DPoP at_bound'), 2, (n) =>
      n === 0 ? [401, { code: 'USE_DPOP_NONCE' }, challenge] : [200, agent('agt_1')],
    );
    await client.agents.get('agt_1');
    const second = await verifyProof(seen[1]?.dpop, clock);
    expect(second.claims).toMatchObject({ nonce: 'n-r', ath: ath('at_bound') });
  });

  it('keeps the latest DPoP-Nonce of any response per origin, for later proofs and createDpopProof', async () => {
    const { client, clock, api } = dpopClient({});
    api.post('/oauth2/token').reply(200, boundReply('at_bound'), { 'DPoP-Nonce': 'n-ok' });
    const seen = recording(api.get('/v1/agents/agt_1'), 1, () => [404, { code: 'AGENT_NOT_FOUND', status: 404 }, { 'DPoP-Nonce': 'n-err' }]);
    await expect(client.agents.get('agt_1')).rejects.toMatchObject({ status: 404 });
    expect((await verifyProof(seen[0]?.dpop, clock)).claims.nonce).toBe('n-ok');
    const own = await verifyProof(await client.createDpopProof({ method: 'post', url: `${BASE}/anything?q=1#f` }), clock);
    expect(own.claims).toMatchObject({ htm: 'POST', htu: `${BASE}/anything`, nonce: 'n-err' });
    const elsewhere = await verifyProof(await client.createDpopProof({ method: 'GET', url: 'https://mcp.example/mcp', accessToken: 'at_bound' }), clock);
    expect(elsewhere.claims).toMatchObject({ htu: 'https://mcp.example/mcp', ath: ath('at_bound') });
    expect(elsewhere.claims).not.toHaveProperty('nonce');
  });
});

describe('configuration', () => {
  it('createDpopProof without a proof key is a configuration error', async () => {
    const client = new Mandate({ baseURL: BASE, apiToken: 'mdt_pat_x' });
    await expect(client.createDpopProof({ method: 'GET', url: 'https://mcp.example/mcp' })).rejects.toThrow(/dpop option/);
  });

  it.each<[string, () => ClientOptions['dpop']]>([
    ['a public JWK', () => generateTestKey('ES256').publicJwk as JsonWebKey],
    ['text that is no key', () => 'not a key'],
    ['an EC key on another curve', () => ({ kty: 'EC', crv: 'P-384', x: 'a', y: 'b', d: 'c' })],
    ['a public PEM', () => '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'],
  ])('%s is refused when the client is built, naming the dpop option', (_name, dpop) => {
    const build = () => new Mandate({ baseURL: BASE, ...secretClient, dpop: dpop() });
    expect(build).toThrow(MandateError);
    expect(build).toThrow(/^The private key in dpop cannot be used: /);
  });
});
