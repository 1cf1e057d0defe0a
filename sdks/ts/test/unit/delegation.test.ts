/**
 * Delegation: `client.delegate()` (RFC 8693 token exchange at the token endpoint, with the
 * client's own agent authentication) and the verifier's `act` / `delegation_id` claims.
 */
import nock from 'nock';
import { BadRequestError, Mandate, MandateError, TokenVerificationError, actors, type AccessTokenClaims } from '../../src/index';
import { JwksCache, MAX_ACT_DEPTH, verifyJwt } from '../../src/core/verify';
import { FakeClock } from '../helpers/fake-clock';
import { generateTestKey } from '../helpers/keys';
import { BASE, captureForms, mockClient } from '../helpers/mock';

type Jose = typeof import('jose');
let jose: Jose;
beforeAll(async () => {
  jose = await import('jose');
});

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ISSUER = 'https://auth.mandate.example';
const SUBJECT_TOKEN = 'eyJ.subject-token-of-agt_a.sig';
const basic = `Basic ${Buffer.from('agt_b:mdt_sk_b').toString('base64')}`;
const exchanged = { access_token: 'eyJ.delegated.sig', issued_token_type: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 900, scope: 'agents:read' };

describe('client.delegate', () => {
  it('exchanges the subject token with client_secret_basic and returns the typed token response', async () => {
    const { client, api } = mockClient({ apiToken: undefined, clientId: 'agt_b', clientSecret: 'mdt_sk_b', scope: 'agents:read agents:write' });
    const forms = captureForms(api, '/oauth2/token', 1, () => [200, exchanged], basic);
    const token = await client.delegate(SUBJECT_TOKEN, { scope: 'agents:read', resource: 'https://inventory.example' });
    expect(token).toEqual(exchanged);
    expect(token.issued_token_type).toBe(ACCESS_TOKEN);
    // Exactly these fields: the client's own `scope` option is for client credentials, not this.
    expect(forms).toEqual([
      {
        grant_type: TOKEN_EXCHANGE,
        subject_token: SUBJECT_TOKEN,
        subject_token_type: ACCESS_TOKEN,
        scope: 'agents:read',
        resource: 'https://inventory.example',
      },
    ]);
  });

  it('leaves scope and resource out when not given (the server then keeps all the subject token’s scopes)', async () => {
    const { client, api } = mockClient({ apiToken: undefined, clientId: 'agt_b', clientSecret: 'mdt_sk_b' });
    const forms = captureForms(api, '/oauth2/token', 1, () => [200, exchanged], basic);
    const { data, response } = await client.delegate(SUBJECT_TOKEN).withResponse();
    expect(data.access_token).toBe('eyJ.delegated.sig');
    expect(response.status).toBe(200);
    expect(forms).toEqual([{ grant_type: TOKEN_EXCHANGE, subject_token: SUBJECT_TOKEN, subject_token_type: ACCESS_TOKEN }]);
  });

  it('with a private key: a fresh private_key_jwt assertion per attempt, no Authorization header', async () => {
    const testKey = generateTestKey('ES256');
    const clock = new FakeClock();
    const client = new Mandate({ baseURL: BASE, clientId: 'agt_b', privateKey: testKey.pem, clock });
    const api = nock(BASE);
    api.get('/.well-known/oauth-authorization-server').reply(200, { issuer: ISSUER });
    const forms = captureForms(api, '/oauth2/token', 2, (n) => (n === 0 ? [503, { error: 'temporarily_unavailable' }] : [200, exchanged]));
    await expect(client.delegate(SUBJECT_TOKEN, { scope: 'agents:read' })).resolves.toEqual(exchanged);

    const publicKey = await jose.importJWK(testKey.publicJwk, 'ES256');
    const jtis: unknown[] = [];
    for (const form of forms) {
      expect(form).toMatchObject({
        grant_type: TOKEN_EXCHANGE,
        subject_token: SUBJECT_TOKEN,
        subject_token_type: ACCESS_TOKEN,
        scope: 'agents:read',
        client_id: 'agt_b',
        client_assertion_type: ASSERTION_TYPE,
      });
      const { payload } = await jose.jwtVerify(form.client_assertion ?? '', publicKey, {
        issuer: 'agt_b',
        subject: 'agt_b',
        audience: ISSUER,
        currentDate: new Date(clock.now()),
      });
      jtis.push(payload.jti);
    }
    expect(new Set(jtis).size).toBe(2);
  });

  it('maps the server’s refusal (invalid_scope) to BadRequestError', async () => {
    const { client, api } = mockClient({ apiToken: undefined, clientId: 'agt_b', clientSecret: 'mdt_sk_b' });
    api.post('/oauth2/token').reply(400, { error: 'invalid_scope', error_description: 'wider than the subject token' }, { 'content-type': 'application/json' });
    const failure = client.delegate(SUBJECT_TOKEN, { scope: 'orgs:admin' });
    await expect(failure).rejects.toBeInstanceOf(BadRequestError);
    await expect(failure).rejects.toMatchObject({ status: 400, code: 'invalid_scope' });
  });

  it.each<[string, ConstructorParameters<typeof Mandate>[0]]>([
    ['an admin-token client', { apiToken: 'mdt_pat_test' }],
    ['a client with no credential', { apiToken: '' }],
  ])('%s refuses with a configuration error and sends nothing', async (_name, options) => {
    const { client } = mockClient(options);
    const failure = client.delegate(SUBJECT_TOKEN);
    await expect(failure).rejects.toBeInstanceOf(MandateError);
    await expect(failure).rejects.toThrow(/needs the acting agent's own credentials/);
    await expect(failure).rejects.not.toHaveProperty('status');
  });

  it('refuses an empty subject token before sending anything', async () => {
    const { client } = mockClient({ apiToken: undefined, clientId: 'agt_b', clientSecret: 'mdt_sk_b' });
    await expect(client.delegate('')).rejects.toThrow(/empty/);
  });
});

describe('the act and delegation_id claims', () => {
  const AUDIENCE = 'https://api.example';
  let privateKey: CryptoKey;
  let jwks: JwksCache;
  beforeAll(async () => {
    const pair = await jose.generateKeyPair('EdDSA', { extractable: true });
    privateKey = pair.privateKey;
    const jwk = { ...(await jose.exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
    jwks = new JwksCache(`${ISSUER}/.well-known/jwks.json`, () => Promise.resolve(Response.json({ keys: [jwk] })), new FakeClock(Date.now()));
  });

  const now = () => Math.floor(Date.now() / 1000);
  const base = () => ({ iss: ISSUER, sub: 'agt_a', aud: AUDIENCE, client_id: 'agt_c', scope: 'agents:read', org: 'org_1', jti: 'j1', iat: now(), exp: now() + 600 });
  const sign = (extra: Record<string, unknown>) =>
    new jose.SignJWT({ ...base(), ...extra }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' }).sign(privateKey);
  const verify = async (extra: Record<string, unknown>): Promise<AccessTokenClaims> => verifyJwt(await sign(extra), { issuer: ISSUER, audience: AUDIENCE }, jwks, new FakeClock(Date.now()));
  const refusal = async (extra: Record<string, unknown>): Promise<TokenVerificationError> => {
    const failure: unknown = await verify(extra).catch((error: unknown) => error);
    if (!(failure instanceof TokenVerificationError)) throw new Error(`expected a TokenVerificationError, got ${String(failure)}`);
    return failure;
  };
  /** `{ sub: agt_1, act: { sub: agt_2, … } }`, `depth` actors deep. */
  const chain = (depth: number): Record<string, unknown> | undefined =>
    depth === 0 ? undefined : { sub: `agt_${depth}`, ...(depth > 1 ? { act: chain(depth - 1) } : {}) };

  it('types a delegated token’s act chain and delegation_id; actors() lists the nearest actor first', async () => {
    const claims = await verify({ act: { sub: 'agt_c', act: { sub: 'agt_b' } }, delegation_id: 'dlg_01' });
    expect(claims.act).toEqual({ sub: 'agt_c', act: { sub: 'agt_b' } });
    expect(claims.act?.act?.sub).toBe('agt_b');
    expect(claims.delegation_id).toBe('dlg_01');
    expect(actors(claims)).toEqual(['agt_c', 'agt_b']);
  });

  it('a token that is not delegated has no act and no actors', async () => {
    const claims = await verify({});
    expect(claims.act).toBeUndefined();
    expect(claims.delegation_id).toBeUndefined();
    expect(actors(claims)).toEqual([]);
  });

  it(`accepts ${MAX_ACT_DEPTH} nested actors and refuses ${MAX_ACT_DEPTH + 1}`, async () => {
    const claims = await verify({ act: chain(MAX_ACT_DEPTH) });
    expect(actors(claims)).toHaveLength(MAX_ACT_DEPTH);
    expect(actors(claims)[0]).toBe(`agt_${MAX_ACT_DEPTH}`);
    const failure = await refusal({ act: chain(MAX_ACT_DEPTH + 1) });
    expect(failure.reason).toBe('malformed');
    expect(failure.message).toMatch(/more than 10/);
  });

  it.each<[string, unknown]>([
    ['a string', 'agt_b'],
    ['null', null],
    ['an array', [{ sub: 'agt_b' }]],
    ['an object without sub', { client_id: 'agt_b' }],
    ['an object with a numeric sub', { sub: 42 }],
    ['an object with an empty sub', { sub: '' }],
    ['an object whose nested act is a string', { sub: 'agt_c', act: 'agt_b' }],
    ['an object whose nested act has no sub', { sub: 'agt_c', act: { act: { sub: 'agt_a' } } }],
  ])('refuses an act that is %s as malformed', async (_what, act) => {
    const failure = await refusal({ act });
    expect(failure.reason).toBe('malformed');
    expect(failure.message).toMatch(/act claim/);
  });

  it('refuses a delegation_id that is not a string', async () => {
    expect((await refusal({ act: { sub: 'agt_b' }, delegation_id: 7 })).reason).toBe('malformed');
  });

  it('actors() also reads an introspection result', () => {
    expect(actors({ act: { sub: 'agt_c', act: { sub: 'agt_b' } } })).toEqual(['agt_c', 'agt_b']);
    expect(actors({})).toEqual([]);
  });
});
