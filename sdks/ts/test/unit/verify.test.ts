import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { isLowS, JwksCache, verifyJwt } from '../../src/core/verify';
import { systemClock } from '../../src/core/options';
import { TokenVerificationError, verifyAccessToken } from '../../src/index';
import { REPO_ROOT } from '../helpers/live-server';
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

const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The ES256 token with its signature's s replaced by n − s when above n/2, as Mandate signs: verifiers accept only low S. */
function toLowS(token: string): string {
  const [head, payload, encoded] = token.split('.') as [string, string, string];
  const signature = Buffer.from(encoded, 'base64url');
  const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
  if (s <= P256_ORDER >> 1n) return token;
  const low = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return `${head}.${payload}.${Buffer.concat([signature.subarray(0, 32), low]).toString('base64url')}`;
}

async function sign(alg: string, payload: Record<string, unknown> = claims(), header: Record<string, unknown> = {}): Promise<string> {
  const key = keys[alg];
  if (key === undefined) throw new Error(alg);
  const token = await new jose.SignJWT(payload).setProtectedHeader({ alg, typ: 'at+jwt', kid: `key_${alg}`, ...header }).sign(key.privateKey);
  return alg === 'ES256' ? toLowS(token) : token;
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

interface LowSVectors {
  issuer: string;
  audience: string;
  jwks: { keys: unknown[] };
  tokens: { name: string; token: string; valid: boolean }[];
  scalars: { name: string; s: string; lowS: boolean }[];
}

/** The vectors every SDK checks, read from the repository as the conformance runner reads scenarios. */
const lowS = JSON.parse(readFileSync(path.join(REPO_ROOT, 'conformance/vectors/es256-low-s.json'), 'utf8')) as LowSVectors;

describe('the shared ES256 low-S vectors', () => {
  const options = { issuer: lowS.issuer, audience: lowS.audience };
  const verify = (token: string) => {
    const jwks = new JwksCache('https://vectors.test/jwks.json', () => Promise.resolve(new Response(JSON.stringify(lowS.jwks))), systemClock);
    return verifyJwt(token, options, jwks, systemClock);
  };

  it('has tokens of both kinds', () => {
    expect(lowS.tokens.filter((v) => v.valid).length).toBeGreaterThan(0);
    expect(lowS.tokens.filter((v) => !v.valid).length).toBeGreaterThan(0);
  });

  it.each(lowS.tokens.filter((v) => v.valid).map((v) => [v.name, v.token] as const))('verifies: %s', async (_name, token) => {
    await expect(verify(token)).resolves.toMatchObject({ iss: lowS.issuer, aud: lowS.audience });
  });

  it.each(lowS.tokens.filter((v) => !v.valid).map((v) => [v.name, v.token] as const))('refuses: %s', async (_name, token) => {
    const failure: unknown = await verify(token).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TokenVerificationError);
    expect((failure as TokenVerificationError).reason).toBe('invalid_signature');
  });

  it.each(lowS.scalars.map((v) => [v.name, v] as const))('tells low from high S: %s', (_name, { s, lowS: expected }) => {
    expect(isLowS(Buffer.from(s, 'hex'))).toBe(expected);
  });
});
