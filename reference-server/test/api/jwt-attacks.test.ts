/**
 * JWT attacks on Mandate's access tokens (RFC 8725 threats, RFC 9068 §4 checks). Every forged
 * or damaged token must be refused by both consumers of tokens in the server:
 *   - introspection (RFC 7662) answers `{ "active": false }`, asked by the instance administrator
 *     (sees every organization, so the org filter cannot mask a forgery) and by the agent itself;
 *   - bearer authentication of the management API (`GET /v1/agents`) answers 401 INVALID_TOKEN.
 * A positive control shows the same harness reports a genuine token as accepted, so the
 * rejections are not an artefact of the setup (e.g. a broken introspection caller).
 *
 * Forged tokens keep the genuine agent as `sub` (and so pass the server's revocation and agent
 * status lookup): if a signature check were bypassed, nothing else would hide it.
 *
 * Tokens are assembled by hand (WebCrypto / HMAC over `header.payload`), so headers can carry
 * anything an attacker might send, including non-string `kid`s. Three kinds of signers:
 *   - attacker keys generated here (a real attacker's position);
 *   - a second Mandate instance with its own database and key, same issuer name;
 *   - white-box: the genuine server key, decrypted from the test database with the test-only
 *     key-encryption key. No attacker has it; it is used to prove that the claim and header
 *     checks (exp, nbf, iss, aud, typ, required claims, crit) are actually enforced, which
 *     tokens signed by other keys cannot show (they already fail on the signature).
 *
 * jose is ES modules only: loaded with import() (see jest.config.js).
 */
import { createHmac, createPublicKey, webcrypto } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { KeyEncryption } from '../../src/domain/key-encryption';
import { signingKeyStore } from '../../src/store/signing-keys';
import { Api, type Body } from '../helpers/api';
import { TEST_KEY_ENCRYPTION_KEY, isolatedDatabaseUrl } from '../helpers/env';
import { createAgent, createOrg } from '../helpers/fixtures';
import { basic, tokenFor } from '../helpers/oauth';
import { type TestServer, startServer } from '../helpers/server';

type Jose = typeof import('jose');
type JWK = import('jose').JWK;
type Json = Record<string, unknown>;
type CryptoKey = webcrypto.CryptoKey;

/** The test servers' issuer: the configured default (the random port is not known in advance). */
const ISSUER = 'http://localhost:8080';
const SCOPES = ['agents:read', 'tokens:introspect'];
const FORM = 'application/x-www-form-urlencoded';
/** Order of the P-256 group, for the (r, n − s) twin of an ECDSA signature. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' } as const;

let jose: Jose;
let server: TestServer;
let peer: TestServer;
/** A third instance configured for RS256, where HMAC confusion is the classic attack. */
let rsa: TestServer;
let agentId: string;
let secret: string;
let otherAgentId: string;
let orgId: string;
let otherOrgId: string;
/** A genuine token of `agentId`, never revoked in this file. */
let genuine: string;
let genuineHeader: Json;
let genuinePayload: Json;
let kid: string;
let serverPublicJwk: JWK;
/** The genuine signing key (white-box, see above). */
let serverPrivateKey: CryptoKey;
let attacker: { privateKey: CryptoKey; publicJwk: JWK };

// ---------------------------------------------------------------------------------------------
// Token assembly

const b64u = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64url');
const segment = (value: unknown): string => b64u(JSON.stringify(value));
const parts = (token: string): [string, string, string] => {
  const [h = '', p = '', s = ''] = token.split('.');
  return [h, p, s];
};

/** Signs as the server does: r‖s with a low S (of a signature's two twins, the one accepted). */
async function signEs256(header: Json, payload: Json, key: CryptoKey): Promise<string> {
  const input = `${segment(header)}.${segment(payload)}`;
  const signature = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, Buffer.from(input));
  const token = `${input}.${b64u(new Uint8Array(signature))}`;
  return isHighS(token) ? highSTwin(token) : token;
}

function signHmac(header: Json, payload: Json, secretBytes: Uint8Array | string, hash = 'sha256'): string {
  const input = `${segment(header)}.${segment(payload)}`;
  return `${input}.${b64u(createHmac(hash, secretBytes).update(input).digest())}`;
}

/** An attacker-side token: genuine claims (plus overrides), any header, signed by `key`. */
function forgeEs256(header: Json, claims: Json = {}, key: CryptoKey = attacker.privateKey): Promise<string> {
  return signEs256({ typ: 'at+jwt', ...header }, { ...genuinePayload, ...claims }, key);
}

/** A token signed by the genuine server key, with a fresh jti (white-box only). */
function signedByServer(claims: Json = {}, header: Json = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signEs256(
    { alg: 'ES256', kid, typ: 'at+jwt', ...header },
    { ...genuinePayload, iat: now, exp: now + 600, jti: webcrypto.randomUUID(), ...claims },
    serverPrivateKey,
  );
}

/** `claims` without the named ones. */
function without(claims: Json, name: string): Json {
  return Object.fromEntries(Object.entries(claims).filter(([key]) => key !== name));
}

/** DER (ASN.1 SEQUENCE of two INTEGERs) form of a raw r‖s ECDSA signature. */
function derSignature(raw: Buffer): Buffer {
  const integer = (bytes: Buffer): Buffer => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    let value = bytes.subarray(start);
    if (((value[0] ?? 0) & 0x80) !== 0) value = Buffer.concat([Buffer.from([0]), value]);
    return Buffer.concat([Buffer.from([0x02, value.length]), value]);
  };
  const body = Buffer.concat([integer(raw.subarray(0, 32)), integer(raw.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** The other valid ECDSA signature of the same message: (r, n − s). */
const sOf = (token: string): bigint => BigInt(`0x${Buffer.from(parts(token)[2], 'base64url').subarray(32).toString('hex')}`);
const isHighS = (token: string): boolean => sOf(token) > P256_N >> 1n;

/** The same signature with s replaced by n − s: valid ECDSA too (signatures are malleable). */
function highSTwin(token: string): string {
  const [h, p, s] = parts(token);
  const raw = Buffer.from(s, 'base64url');
  const twin = P256_N - BigInt(`0x${raw.subarray(32).toString('hex')}`);
  return `${h}.${p}.${b64u(Buffer.concat([raw.subarray(0, 32), Buffer.from(twin.toString(16).padStart(64, '0'), 'hex')]))}`;
}

/**
 * HS256/384/512 tokens whose HMAC secret is the public key `jwk` in every byte form a confused
 * verifier might use (the RFC 8725 §2.1 algorithm-confusion attack).
 */
function hmacConfusionTokens(jwk: JWK, header: Json, payload: Json): Record<string, string> {
  const publicKey = createPublicKey({ key: { ...jwk }, format: 'jwk' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const secrets: Record<string, Uint8Array | string> = {
    'JWK as published': JSON.stringify(jwk),
    'JWK Set document': JSON.stringify({ keys: [jwk] }),
    'SPKI PEM': pem,
    'SPKI PEM without final newline': pem.trimEnd(),
    'SPKI DER': publicKey.export({ type: 'spki', format: 'der' }),
  };
  if (jwk.kty === 'EC') {
    const { crv, kty, x, y } = jwk;
    secrets['JWK, minimal members'] = JSON.stringify({ crv, kty, x, y });
    secrets['raw EC point'] = Buffer.concat([Buffer.from([4]), Buffer.from(x ?? '', 'base64url'), Buffer.from(y ?? '', 'base64url')]);
  } else {
    const { e, kty, n } = jwk;
    secrets['JWK, minimal members'] = JSON.stringify({ e, kty, n });
    secrets['PKCS#1 PEM'] = publicKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    secrets['PKCS#1 DER'] = publicKey.export({ type: 'pkcs1', format: 'der' });
    secrets['modulus bytes'] = Buffer.from(n ?? '', 'base64url');
  }
  const tokens: Record<string, string> = {};
  for (const [form, key] of Object.entries(secrets)) {
    for (const [alg, hash] of [['HS256', 'sha256'], ['HS384', 'sha384'], ['HS512', 'sha512']] as const) {
      tokens[`${alg} / ${form}`] = signHmac({ ...header, alg }, payload, key, hash);
    }
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// What the server makes of a token

function postForm(target: TestServer, path: string, form: Record<string, string>, authorization: string): Promise<Response> {
  return fetch(target.baseUrl + path, { method: 'POST', headers: { 'content-type': FORM, authorization }, body: new URLSearchParams(form) });
}

async function introspect(token: string, authorization: string, target: TestServer = server): Promise<unknown> {
  const response = await postForm(target, '/oauth2/introspect', { token }, authorization);
  const text = await response.text();
  return response.status === 200 ? JSON.parse(text) : `HTTP ${response.status}: ${text}`;
}

interface Outcome {
  /** Introspection by the instance administrator (every organization visible). */
  instanceAdmin: unknown;
  /** Introspection by the agent with its client credentials. */
  agent: unknown;
  /** `GET /v1/agents` with the token as bearer: status, problem code, challenge. */
  bearer: string;
}

const REJECTED: Outcome = {
  instanceAdmin: { active: false },
  agent: { active: false },
  bearer: '401 INVALID_TOKEN Bearer realm="mandate", error="invalid_token"',
};
const ACCEPTED: Outcome = {
  instanceAdmin: expect.objectContaining({ active: true }),
  agent: expect.objectContaining({ active: true }),
  bearer: '200',
};

/** A server to attack, and its agent's client authentication (for introspection as the agent). */
interface Target {
  server: TestServer;
  agentAuth: string;
}
const main = (): Target => ({ server, agentAuth: basic(agentId, secret) });

async function outcome(token: string, { server: target, agentAuth }: Target = main()): Promise<Outcome> {
  const response = await new Api(target.baseUrl, token).call('listAgents');
  const body: Body = response.body;
  const challenge = response.headers.get('www-authenticate');
  return {
    instanceAdmin: await introspect(token, `Bearer ${target.bootstrapToken}`, target),
    agent: await introspect(token, agentAuth, target),
    bearer: [String(response.status), response.status === 200 ? null : body.code, challenge].filter((x) => x !== null).join(' '),
  };
}

/** Every token of `tokens` (named variants) must be refused by all three checks. */
async function expectAllRejected(tokens: Record<string, string>, target: Target = main()): Promise<void> {
  const outcomes: Record<string, Outcome> = {};
  for (const [name, token] of Object.entries(tokens)) outcomes[name] = await outcome(token, target);
  expect(outcomes).toEqual(Object.fromEntries(Object.keys(tokens).map((name) => [name, REJECTED])));
}

async function agentWithCredential(target: TestServer, scopes: string[]): Promise<{ orgId: string; agentId: string; secret: string }> {
  const org = await createOrg(new Api(target.baseUrl, target.bootstrapToken));
  const admin = new Api(target.baseUrl, org.admin);
  const agent = await createAgent(admin, { allowedScopes: scopes });
  const credential = await admin.call('createCredential', { path: { agentId: agent.id } });
  return { orgId: org.orgId, agentId: agent.id as string, secret: credential.body.secret as string };
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  jose = await import('jose');
  server = await startServer('postgres');
  // A second instance: own database, so its own signing key; same (default) issuer name.
  peer = await startServer('postgres', { DATABASE_URL: await isolatedDatabaseUrl('jwt_attacks_peer') });
  rsa = await startServer('postgres', { DATABASE_URL: await isolatedDatabaseUrl('jwt_attacks_rsa'), MANDATE_SIGNING_ALG: 'RS256' });

  ({ orgId, agentId, secret } = await agentWithCredential(server, SCOPES));
  // Another organization with a more privileged agent: targets for impersonation by tampering.
  const otherOrg = await createOrg(new Api(server.baseUrl, server.bootstrapToken));
  otherOrgId = otherOrg.orgId;
  otherAgentId = (await createAgent(new Api(server.baseUrl, otherOrg.admin), { allowedScopes: ['agents:read', 'agents:write', 'tokens:introspect'] })).id as string;

  genuine = await tokenFor(server.baseUrl, { clientId: agentId, secret }, { scope: SCOPES.join(' ') });
  genuineHeader = { ...jose.decodeProtectedHeader(genuine) };
  genuinePayload = { ...jose.decodeJwt(genuine) };
  kid = genuineHeader.kid as string;

  const jwks: Body = await (await fetch(`${server.baseUrl}/.well-known/jwks.json`)).json();
  serverPublicJwk = jwks.keys.find((k: JWK) => k.kid === kid);

  // White-box: the genuine private key, decrypted as the server does (test KEK from helpers/env).
  const records = await server.mandate.db.tenantTransaction({ orgId: null, instanceAdmin: false, principalId: 'jwt-attacks-test' }, (sql) =>
    signingKeyStore.published(sql),
  );
  const record = records.find((r) => r.kid === kid);
  if (record === undefined) throw new Error(`signing key ${kid} not found`);
  const privateJwk = JSON.parse(new KeyEncryption(Buffer.from(TEST_KEY_ENCRYPTION_KEY, 'hex')).decrypt(Buffer.from(record.privateKeyEncrypted), kid)) as webcrypto.JsonWebKey;
  serverPrivateKey = await webcrypto.subtle.importKey('jwk', privateJwk, ECDSA, false, ['sign']);

  const pair = await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify']);
  attacker = { privateKey: pair.privateKey, publicJwk: (await webcrypto.subtle.exportKey('jwk', pair.publicKey)) as JWK };
});
afterAll(async () => {
  await Promise.allSettled([server.close(), peer.close(), rsa.close()]);
});

describe('controls', () => {
  it('the harness reports a genuine token as accepted by all three checks', async () => {
    expect(genuineHeader).toEqual({ alg: 'ES256', kid, typ: 'at+jwt' });
    expect(genuinePayload).toMatchObject({ iss: ISSUER, aud: ISSUER, sub: agentId, org: orgId });
    expect(await outcome(genuine)).toEqual(ACCEPTED);
  });

  it('a token the test signs with the server key (white-box signer) is accepted, so its rejections below are about the claims', async () => {
    expect(await outcome(await signedByServer())).toEqual(ACCEPTED);
    // RFC 9068 §4: "application/at+jwt" is the same type.
    expect(await outcome(await signedByServer({}, { typ: 'application/at+jwt' }))).toEqual(ACCEPTED);
  });

  it('the harness reports a revoked token as rejected', async () => {
    const token = await tokenFor(server.baseUrl, { clientId: agentId, secret });
    expect((await postForm(server, '/oauth2/revoke', { token }, basic(agentId, secret))).status).toBe(200);
    expect(await outcome(token)).toEqual(REJECTED);
  });
});

describe('unsigned and algorithm-confusion tokens', () => {
  it('refuses alg "none" in any spelling, with or without a signature', async () => {
    const [, p, s] = parts(genuine);
    const tokens: Record<string, string> = {};
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const h = segment({ ...genuineHeader, alg });
      tokens[`${alg}, empty signature`] = `${h}.${p}.`;
      tokens[`${alg}, original signature`] = `${h}.${p}.${s}`;
      tokens[`${alg}, no kid`] = `${segment({ alg, typ: 'at+jwt' })}.${p}.`;
      tokens[`${alg}, widened scope`] = `${h}.${segment({ ...genuinePayload, scope: 'agents:read agents:write orgs:admin keys:admin' })}.`;
    }
    tokens['two segments only'] = `${segment({ alg: 'none' })}.${p}`;
    await expectAllRejected(tokens);
  });

  it('refuses HS256/384/512 signed with the server\'s public key as the HMAC secret', async () => {
    await expectAllRejected(hmacConfusionTokens(serverPublicJwk, genuineHeader, { ...genuinePayload, scope: 'agents:read agents:write' }));
  });

  it('refuses the genuine signature under another alg header', async () => {
    const [, p, s] = parts(genuine);
    const tokens: Record<string, string> = {};
    for (const alg of ['ES384', 'ES512', 'RS256', 'PS256', 'EdDSA', 'Ed25519', 'ES256K', 'HS256', '', 'es256']) {
      tokens[alg === '' ? '(empty alg)' : alg] = `${segment({ ...genuineHeader, alg })}.${p}.${s}`;
    }
    tokens['alg missing'] = `${segment({ kid, typ: 'at+jwt' })}.${p}.${s}`;
    tokens['alg as array'] = `${segment({ ...genuineHeader, alg: ['ES256'] })}.${p}.${s}`;
    await expectAllRejected(tokens);
  });
});

describe('key selection', () => {
  it('refuses attacker-signed tokens with an unknown, missing or genuine kid', async () => {
    await expectAllRejected({
      'unknown kid': await forgeEs256({ alg: 'ES256', kid: 'key_attacker' }),
      'no kid': await forgeEs256({ alg: 'ES256' }),
      'genuine kid, attacker key': await forgeEs256({ alg: 'ES256', kid }),
      'genuine kid, attacker key, widened scope': await forgeEs256({ alg: 'ES256', kid }, { scope: 'agents:read agents:write orgs:admin keys:admin' }),
    });
  });

  it('refuses kid injection: path traversal, SQL, NUL, near-misses, oversized and non-string kids', async () => {
    const kids: Record<string, unknown> = {
      traversal: '../../../../../../../dev/null',
      'absolute path': '/dev/null',
      'traversal to the key file': '../.mandate-data/key-encryption-key',
      'SQL tautology': "' OR '1'='1",
      'SQL on the genuine kid': `${kid}' OR '1'='1' -- `,
      'SQL union': "x' UNION SELECT 'key_x', 'ES256', '{}'::jsonb -- ",
      'NUL after the genuine kid': `${kid}\u0000`,
      'genuine kid + space': `${kid} `,
      'genuine kid upper-cased': kid.toUpperCase(),
      'genuine kid prefix': kid.slice(0, -1),
      'URL': 'http://127.0.0.1:1/jwks.json',
      oversized: 'k'.repeat(4000),
      empty: '',
      number: 1,
      array: [kid],
      'operator object': { $ne: null },
      null: null,
      boolean: true,
    };
    const tokens: Record<string, string> = {};
    for (const [name, value] of Object.entries(kids)) tokens[name] = await forgeEs256({ alg: 'ES256', kid: value });
    await expectAllRejected(tokens);
    // The server's JWK Set is unchanged by any of it.
    const jwks: Body = await (await fetch(`${server.baseUrl}/.well-known/jwks.json`)).json();
    expect(jwks.keys.map((k: JWK) => k.kid)).toContain(kid);
    expect(jwks.keys.every((k: JWK) => k.x !== attacker.publicJwk.x)).toBe(true);
  });

  describe('header-supplied keys (jwk, jku, x5u, x5c)', () => {
    let attackerSite: Server;
    let attackerUrl: string;
    const requestsSeen: string[] = [];

    beforeAll(async () => {
      // The attacker's web server: publishes the attacker key, and records who asks for it.
      attackerSite = createServer((req, res) => {
        requestsSeen.push(`${req.method ?? ''} ${req.url ?? ''}`);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: [{ ...attacker.publicJwk, kid: 'key_attacker', alg: 'ES256', use: 'sig' }, { ...attacker.publicJwk, kid, alg: 'ES256', use: 'sig' }] }));
      });
      await new Promise<void>((resolve) => attackerSite.listen(0, '127.0.0.1', resolve));
      attackerUrl = `http://127.0.0.1:${(attackerSite.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      attackerSite.closeAllConnections();
      await new Promise<void>((resolve) => attackerSite.close(() => { resolve(); }));
    });

    it('ignores keys and key URLs in the header, and never fetches them', async () => {
      const embedded = { ...attacker.publicJwk, alg: 'ES256' };
      await expectAllRejected({
        'jwk, no kid': await forgeEs256({ alg: 'ES256', jwk: embedded }),
        'jwk, its own kid': await forgeEs256({ alg: 'ES256', jwk: { ...embedded, kid: 'key_attacker' }, kid: 'key_attacker' }),
        'jwk, genuine kid': await forgeEs256({ alg: 'ES256', jwk: { ...embedded, kid }, kid }),
        'jwk as HMAC key (kty oct)': signHmac({ alg: 'HS256', typ: 'at+jwt', jwk: { kty: 'oct', k: b64u('attacker') } }, genuinePayload, 'attacker'),
        'jku, attacker kid': await forgeEs256({ alg: 'ES256', jku: `${attackerUrl}/jwks.json`, kid: 'key_attacker' }),
        'jku, genuine kid': await forgeEs256({ alg: 'ES256', jku: `${attackerUrl}/jwks.json`, kid }),
        'jku with the issuer as userinfo': await forgeEs256({ alg: 'ES256', jku: `${ISSUER}@${new URL(attackerUrl).host}/jwks.json`, kid }),
        'x5u, genuine kid': await forgeEs256({ alg: 'ES256', x5u: `${attackerUrl}/cert.pem`, kid }),
        'x5c (junk chain), genuine kid': await forgeEs256({ alg: 'ES256', x5c: [b64u('not a certificate')], kid }),
      });
      expect(requestsSeen).toEqual([]);
    });
  });

  it('refuses a token of another Mandate instance (same issuer name, its own key)', async () => {
    const other = await agentWithCredential(peer, SCOPES);
    const foreign = await tokenFor(peer.baseUrl, { clientId: other.agentId, secret: other.secret });
    // It is a perfectly good token, for the instance that issued it…
    expect(await outcome(foreign, { server: peer, agentAuth: basic(other.agentId, other.secret) })).toEqual(ACCEPTED);
    expect(jose.decodeJwt(foreign)).toMatchObject({ iss: ISSUER, aud: ISSUER });
    // …with claims for an agent of ours, re-signed by the peer's key? The peer cannot sign for
    // us, so take its genuine signature and, separately, swap in our kid.
    const [fh, fp, fs] = parts(foreign);
    const peerKid = jose.decodeProtectedHeader(foreign).kid;
    expect(peerKid).not.toBe(kid);
    await expectAllRejected({
      'peer token as issued': foreign,
      'peer token relabelled with our kid': `${segment({ ...jose.decodeProtectedHeader(foreign), kid })}.${fp}.${fs}`,
      'our claims under the peer header and signature': `${fh}.${parts(genuine)[1]}.${fs}`,
    });
  });
});

describe('tampering with a genuine token', () => {
  it('refuses any change to the payload under the original signature', async () => {
    const [h, , s] = parts(genuine);
    const tampered = (changes: Json): string => `${h}.${segment({ ...genuinePayload, ...changes })}.${s}`;
    const year = 365 * 86400;
    await expectAllRejected({
      'scope widened': tampered({ scope: 'agents:read agents:write credentials:write orgs:admin keys:admin tokens:introspect' }),
      'sub → another organization\'s agent': tampered({ sub: otherAgentId, client_id: otherAgentId, org: otherOrgId }),
      'org → another organization': tampered({ org: otherOrgId }),
      'exp + 1 year': tampered({ exp: (genuinePayload.exp as number) + year }),
      'aud changed': tampered({ aud: 'https://elsewhere.example' }),
      'jti changed (evade revocation)': tampered({ jti: webcrypto.randomUUID() }),
      'same claims, re-serialized (key order)': `${h}.${segment(Object.fromEntries(Object.entries(genuinePayload).reverse()))}.${s}`,
      'same claims, whitespace in JSON': `${h}.${b64u(JSON.stringify(genuinePayload, null, 1))}.${s}`,
    });
  });

  it('refuses a changed header under the original signature', async () => {
    const [, p, s] = parts(genuine);
    await expectAllRejected({
      'typ removed': `${segment({ alg: 'ES256', kid })}.${p}.${s}`,
      'typ JWT': `${segment({ ...genuineHeader, typ: 'JWT' })}.${p}.${s}`,
      'extra member': `${segment({ ...genuineHeader, cty: 'JWT' })}.${p}.${s}`,
    });
  });

  it('refuses damaged ES256 signatures', async () => {
    const [h, p, s] = parts(genuine);
    const raw = Buffer.from(s, 'base64url');
    expect(raw.length).toBe(64);
    const other = parts(await tokenFor(server.baseUrl, { clientId: agentId, secret }))[2];
    const flipped = Buffer.from(raw);
    flipped[10] = (flipped[10] ?? 0) ^ 0x01;
    await expectAllRejected({
      'last byte dropped': `${h}.${p}.${b64u(raw.subarray(0, 63))}`,
      'half the signature': `${h}.${p}.${b64u(raw.subarray(0, 32))}`,
      'last character dropped': `${h}.${p}.${s.slice(0, -1)}`,
      'extra byte appended': `${h}.${p}.${b64u(Buffer.concat([raw, Buffer.from([0])]))}`,
      'one bit flipped': `${h}.${p}.${b64u(flipped)}`,
      'empty signature': `${h}.${p}.`,
      'all zeros (r = s = 0)': `${h}.${p}.${b64u(Buffer.alloc(64))}`,
      's = n (≡ 0)': `${h}.${p}.${b64u(Buffer.concat([raw.subarray(0, 32), Buffer.from(P256_N.toString(16), 'hex')]))}`,
      'DER-encoded signature': `${h}.${p}.${b64u(derSignature(raw))}`,
      'signature of another genuine token': `${h}.${p}.${other}`,
    });
  });

  it('issues only low-S ES256 signatures, and refuses the high-S twin of each', async () => {
    // ECDSA signatures are malleable: (r, n − s) verifies as well as (r, s). Accepting both
    // would give one token two texts, and verified tokens are remembered by their text.
    const tokens = await Promise.all(Array.from({ length: 16 }, () => tokenFor(server.baseUrl, { clientId: agentId, secret })));
    expect(tokens.filter(isHighS)).toEqual([]);
    for (const token of tokens.slice(0, 4)) {
      expect(await outcome(token)).toEqual(ACCEPTED);
      await expectAllRejected({ 'high-S twin': highSTwin(token) });
    }
  });

  it('keeps a revoked token revoked under every other encoding of its signature', async () => {
    // Base64url padding is tolerated by decoders, so one token has more than one spelling.
    // Revocation must follow the token (its jti), not its spelling.
    const token = await tokenFor(server.baseUrl, { clientId: agentId, secret });
    const [h, p, s] = parts(token);
    const spellings = { 'padded signature': `${h}.${p}.${s}==` };
    // Precondition: before revocation every spelling is accepted, so their rejection below is
    // the revocation's doing.
    for (const spelling of Object.values(spellings)) expect(await outcome(spelling)).toEqual(ACCEPTED);
    expect((await postForm(server, '/oauth2/revoke', { token }, basic(agentId, secret))).status).toBe(200);
    await expectAllRejected({ original: token, ...spellings });
  });
});

describe('claims, with the genuine key (white-box: the checks themselves)', () => {
  const now = (): number => Math.floor(Date.now() / 1000);

  it('refuses expired and not-yet-valid tokens', async () => {
    await expectAllRejected({
      'expired an hour ago': await signedByServer({ iat: now() - 7200, exp: now() - 3600 }),
      'expired a second ago': await signedByServer({ iat: now() - 600, exp: now() - 1 }),
      'exp now': await signedByServer({ exp: now() }),
      'nbf in an hour': await signedByServer({ nbf: now() + 3600 }),
      'exp as a string': await signedByServer({ exp: String(now() + 600) }),
    });
  });

  it('refuses a wrong issuer and a wrong type', async () => {
    await expectAllRejected({
      'iss of another server': await signedByServer({ iss: 'https://evil.example' }),
      'iss with trailing slash': await signedByServer({ iss: `${ISSUER}/` }),
      'iss missing': await signedByServer({ iss: undefined }), // JSON.stringify drops it
      'typ JWT': await signedByServer({}, { typ: 'JWT' }),
      'typ absent': await signedByServer({}, { typ: undefined }),
      'typ application/jwt': await signedByServer({}, { typ: 'application/jwt' }),
      'typ id_token-like (JWT, with nonce)': await signedByServer({ nonce: 'n' }, { typ: 'JWT' }),
      'unknown crit extension': await signedByServer({}, { crit: ['x-mandate-test'], 'x-mandate-test': true }),
    });
  });

  it('refuses tokens missing a required claim', async () => {
    const tokens: Record<string, string> = {};
    for (const claim of ['sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope', 'org']) {
      const base = { ...genuinePayload, iat: now(), exp: now() + 600, jti: webcrypto.randomUUID() };
      tokens[`no ${claim}`] = await signEs256({ alg: 'ES256', kid, typ: 'at+jwt' }, without(base, claim), serverPrivateKey);
    }
    tokens['scope not a string'] = await signedByServer({ scope: ['agents:read'] });
    await expectAllRejected(tokens);
  });

  it('refuses another audience on the API, while introspection reports it for the resource server to check', async () => {
    const token = await signedByServer({ aud: 'https://elsewhere.example' });
    const result = await outcome(token);
    // Introspection does not judge the audience (RFC 7662 §4: the resource server does); it must report it.
    expect(result).toEqual({
      ...REJECTED,
      instanceAdmin: expect.objectContaining({ active: true, aud: 'https://elsewhere.example' }),
      agent: expect.objectContaining({ active: true, aud: 'https://elsewhere.example' }),
    });
  });

  it('refuses a genuine token once it has expired (real expiry, clock moved forward)', async () => {
    const token = await tokenFor(server.baseUrl, { clientId: agentId, secret });
    const { exp } = jose.decodeJwt(token);
    if (exp === undefined) throw new Error('no exp');
    // Only Date is faked (every timer stays real, so pg, Redis and HTTP keep working); the
    // server runs in this process, so its jose sees the moved clock.
    const at = async (epochSeconds: number): Promise<Outcome> => {
      jest.useFakeTimers({
        now: epochSeconds * 1000,
        doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
      });
      try {
        return await outcome(token);
      } finally {
        jest.useRealTimers();
      }
    };
    expect(await at(exp - 5)).toEqual(ACCEPTED);
    expect(await at(exp + 1)).toEqual(REJECTED);
    expect(await outcome(token)).toEqual(ACCEPTED); // and back in the present
  });
});

describe('an instance signing with RS256', () => {
  let target: Target;
  let token: string;
  let header: Json;
  let payload: Json;
  let publicJwk: JWK;

  beforeAll(async () => {
    const agent = await agentWithCredential(rsa, SCOPES);
    target = { server: rsa, agentAuth: basic(agent.agentId, agent.secret) };
    token = await tokenFor(rsa.baseUrl, { clientId: agent.agentId, secret: agent.secret });
    header = { ...jose.decodeProtectedHeader(token) };
    payload = { ...jose.decodeJwt(token) };
    const jwks: Body = await (await fetch(`${rsa.baseUrl}/.well-known/jwks.json`)).json();
    publicJwk = jwks.keys.find((k: JWK) => k.kid === header.kid);
  });

  it('accepts its genuine token (control)', async () => {
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(publicJwk).toMatchObject({ kty: 'RSA', alg: 'RS256' });
    expect(await outcome(token, target)).toEqual(ACCEPTED);
  });

  it('refuses HS256/384/512 signed with its RSA public key as the HMAC secret', async () => {
    await expectAllRejected(hmacConfusionTokens(publicJwk, header, { ...payload, scope: 'agents:read agents:write' }), target);
  });

  it('refuses alg none, a relabelled signature, tampering and a damaged signature', async () => {
    const [h, p, sig] = parts(token);
    const raw = Buffer.from(sig, 'base64url');
    await expectAllRejected(
      {
        'alg none': `${segment({ ...header, alg: 'none' })}.${p}.`,
        'PS256 header on the RS256 signature': `${segment({ ...header, alg: 'PS256' })}.${p}.${sig}`,
        'RS512 header on the RS256 signature': `${segment({ ...header, alg: 'RS512' })}.${p}.${sig}`,
        'ES256 header (main instance\'s alg)': `${segment({ ...header, alg: 'ES256' })}.${p}.${sig}`,
        'scope widened': `${h}.${segment({ ...payload, scope: 'agents:read agents:write orgs:admin' })}.${sig}`,
        'signature truncated': `${h}.${p}.${b64u(raw.subarray(0, raw.length - 1))}`,
        'signature of a token of the ES256 instance': `${h}.${p}.${parts(genuine)[2]}`,
      },
      target,
    );
  });
});

describe('garbage', () => {
  it('refuses malformed tokens', async () => {
    const [h, p, s] = parts(genuine);
    await expectAllRejected({
      'a word': 'nonsense',
      'one dot': 'a.b',
      'three empty segments': '..',
      'three junk segments': 'a.b.c',
      'header only': `${h}..`,
      'header not JSON': `${b64u('not json')}.${p}.${s}`,
      'header JSON array': `${segment([genuineHeader])}.${p}.${s}`,
      'payload JSON array (attacker-signed)': await signEs256({ alg: 'ES256', kid, typ: 'at+jwt' }, [genuinePayload] as unknown as Json, attacker.privateKey),
      'payload not JSON (attacker-signed)': `${segment(genuineHeader)}.${b64u('not json')}.${s}`,
      'four segments': `${genuine}.${s}`,
      'JWE shape (five segments)': `${segment({ alg: 'dir', enc: 'A256GCM', kid })}..${b64u('iv')}.${p}.${b64u('tag')}`,
      'genuine with a trailing dot': `${genuine}.`,
      'genuine with a leading dot': `.${genuine}`,
      'genuine twice': `${genuine}${genuine}`,
      'base64url with invalid characters': `${h}.${p}.${s.replace(/.$/, '!')}`,
      'huge token (12 kB)': `${h}.${b64u('x'.repeat(9000))}.${s}`,
      'admin-token prefix on a JWT': `mdt_pat_${genuine}`,
    });
  });

  it('refuses an empty token: introspection as invalid_request, the API as unauthenticated', async () => {
    const response = await postForm(server, '/oauth2/introspect', { token: '' }, `Bearer ${server.bootstrapToken}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
    for (const authorization of ['Bearer', 'Bearer ', 'Bearer  ', `Bearer ${genuine} extra`, `Basic ${genuine}`, genuine]) {
      const result = await new Api(server.baseUrl, null).call('listAgents', { headers: { authorization } });
      expect({ authorization, status: result.status, code: result.body.code }).toEqual({ authorization, status: 401, code: 'INVALID_TOKEN' });
    }
  });
});
