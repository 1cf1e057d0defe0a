import { createHmac } from 'node:crypto';
import nock from 'nock';
import { TokenVerificationError, verifyAccessToken } from '../../src/index';
import { mockClient } from '../helpers/mock';

type Jose = typeof import('jose');
let jose: Jose;
const ISSUER = 'http://mandate.test';
const AUDIENCE = 'https://api.example';
const keys: Record<string, { privateKey: CryptoKey; jwk: Record<string, unknown> }> = {};

beforeAll(async () => {
  jose = await import('jose');
  for (const alg of ['ES256', 'RS256', 'EdDSA']) {
    const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
    keys[alg] = { privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid: `key_${alg}`, alg, use: 'sig' } };
  }
});

function serveJwks(times = 1): nock.Scope {
  return nock(ISSUER)
    .get('/.well-known/jwks.json')
    .times(times)
    .reply(200, { keys: Object.values(keys).map((k) => k.jwk) });
}

const now = () => Math.floor(Date.now() / 1000);
const claims = () => ({ iss: ISSUER, sub: 'agt_1', aud: AUDIENCE, client_id: 'agt_1', scope: 'agents:read', org: 'org_1', jti: 'j1', iat: now(), exp: now() + 600 });

async function sign(alg: string, payload: Record<string, unknown> = claims(), header: Record<string, unknown> = {}): Promise<string> {
  const key = keys[alg];
  if (key === undefined) throw new Error(alg);
  return new jose.SignJWT(payload).setProtectedHeader({ alg, typ: 'at+jwt', kid: `key_${alg}`, ...header }).sign(key.privateKey);
}

async function reason(token: string, options: { issuer?: string; audience?: string } = {}): Promise<string> {
  const failure: unknown = await verifyAccessToken(token, { issuer: ISSUER, audience: AUDIENCE, jwksUrl: `${ISSUER}/.well-known/jwks.json`, ...options }).catch((e: unknown) => e);
  if (!(failure instanceof TokenVerificationError)) throw new Error(`expected a TokenVerificationError, got ${String(failure)}`);
  return failure.reason;
}

describe('verifyAccessToken', () => {
  beforeAll(() => serveJwks()); // the module-level cache fetches once for the whole file

  it.each(['ES256', 'RS256', 'EdDSA'])('accepts a %s token and returns its claims', async (alg) => {
    await expect(verifyAccessToken(await sign(alg), { issuer: ISSUER, audience: AUDIENCE })).resolves.toMatchObject({
      sub: 'agt_1',
      org: 'org_1',
      scope: 'agents:read',
    });
  });

  it('accepts an audience array that includes ours', async () => {
    await expect(verifyAccessToken(await sign('ES256', { ...claims(), aud: ['x', AUDIENCE] }), { issuer: ISSUER, audience: AUDIENCE })).resolves.toBeDefined();
  });

  it('refuses alg none and HS256 signed with the public key', async () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'none', typ: 'at+jwt', kid: 'key_ES256' })}.${encode(claims())}.`;
    expect(await reason(unsigned)).toBe('unsupported_algorithm');
    const head = `${encode({ alg: 'HS256', typ: 'at+jwt', kid: 'key_ES256' })}.${encode(claims())}`;
    const mac = createHmac('sha256', JSON.stringify(keys.ES256?.jwk)).update(head).digest('base64url');
    expect(await reason(`${head}.${mac}`)).toBe('unsupported_algorithm');
  });

  it('refuses a token whose alg is not the one its key was published for', async () => {
    expect(await reason(await sign('ES256', claims(), { kid: 'key_RS256' }))).toBe('unsupported_algorithm');
  });

  it('refuses a tampered payload and a foreign signature', async () => {
    const [head, , signature] = (await sign('ES256')).split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims(), scope: 'orgs:admin' })).toString('base64url');
    expect(await reason(`${head}.${forged}.${signature}`)).toBe('invalid_signature');
    const other = await jose.generateKeyPair('ES256');
    const foreign = await new jose.SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'key_ES256' }).sign(other.privateKey);
    expect(await reason(foreign)).toBe('invalid_signature');
  });

  it('refuses the wrong typ, issuer and audience', async () => {
    expect(await reason(await sign('ES256', claims(), { typ: 'JWT' }))).toBe('invalid_type');
    expect(await reason(await sign('ES256'), { issuer: 'http://other' })).toBe('invalid_issuer');
    expect(await reason(await sign('ES256'), { audience: 'https://other' })).toBe('invalid_audience');
  });

  it('refuses expired and not-yet-valid tokens beyond 30 s of leeway', async () => {
    expect(await reason(await sign('ES256', { ...claims(), exp: now() - 31 }))).toBe('expired');
    await expect(verifyAccessToken(await sign('ES256', { ...claims(), exp: now() - 10 }), { issuer: ISSUER, audience: AUDIENCE })).resolves.toBeDefined();
    expect(await reason(await sign('ES256', { ...claims(), nbf: now() + 120 }))).toBe('not_yet_valid');
  });

  it('refuses garbage and tokens missing required claims', async () => {
    expect(await reason('not.a.jwt')).toBe('malformed');
    expect(await reason('onlyone')).toBe('malformed');
    const { jti: _omitted, ...withoutJti } = claims();
    expect(await reason(await sign('ES256', withoutJti))).toBe('missing_claim');
  });
});

describe('the client’s JWKS cache', () => {
  it('fetches again for an unknown kid, at most every 30 s', async () => {
    const { client, clock } = mockClient({ baseURL: ISSUER });
    const token = await sign('ES256');
    const unknownKid = await sign('ES256', claims(), { kid: 'key_new' });
    serveJwks();
    await expect(client.verifyAccessToken(token, { issuer: ISSUER, audience: AUDIENCE })).resolves.toBeDefined();
    await expect(client.verifyAccessToken(unknownKid, { issuer: ISSUER, audience: AUDIENCE })).rejects.toMatchObject({ reason: 'unknown_key' });
    clock.advance(31_000);
    serveJwks();
    await expect(client.verifyAccessToken(unknownKid, { issuer: ISSUER, audience: AUDIENCE })).rejects.toMatchObject({ reason: 'unknown_key' });
  });
});
