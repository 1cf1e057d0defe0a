import { MandateError } from './errors.js';
import { type Clock, systemClock } from './options.js';
import { webCrypto } from './web-crypto.js';

export interface VerifyOptions {
  /** The Mandate server's issuer identifier (its `iss`, e.g. `https://mandate.example.com`). */
  issuer: string;
  /** Your API's identifier: the `resource` the agent asked for, which is the token's `aud`. */
  audience: string;
  /** Defaults to `<issuer>/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Allowed clock difference for `exp` and `nbf`, in seconds. Default 30. */
  clockToleranceSeconds?: number;
}

/**
 * RFC 8693 §4.1 `act`: the agent acting for the token's subject, and, nested in its own
 * `act`, the agent that acted for that one in turn (the nearest actor outermost).
 */
export interface ActClaim {
  /** The acting agent's id. */
  sub: string;
  /** The previous actor of the delegation chain, if any. */
  act?: ActClaim;
  [claim: string]: unknown;
}

/** How deeply `act` may nest before the verifier refuses the token (the server allows 3 actors by default). */
export const MAX_ACT_DEPTH = 10;

/** RFC 9068 access-token claims, as Mandate issues them. */
export interface AccessTokenClaims {
  iss: string;
  /** The agent's id. */
  sub: string;
  aud: string | string[];
  client_id: string;
  /** Space-separated scopes. */
  scope: string;
  /** The agent's organization. */
  org: string;
  jti: string;
  iat: number;
  exp: number;
  nbf?: number;
  /** Set on a delegated token (token exchange): who acts for `sub`. See `actors(claims)`. */
  act?: ActClaim;
  /** The delegation that issued this token (`dlg_…`); revoke it with `delegations.revoke`. */
  delegation_id?: string;
  [claim: string]: unknown;
}

/**
 * The agents acting for the token's subject, nearest first: `["agt_C", "agt_B"]` when C acts
 * for B who acts for `sub`; `[]` for a token that is not delegated. Takes verified claims or
 * an introspection result.
 */
export function actors(claims: { act?: { sub: string; act?: object } | null | undefined }): string[] {
  const chain: string[] = [];
  let current: unknown = claims.act;
  while (chain.length < MAX_ACT_DEPTH && isObject(current) && typeof current.sub === 'string') {
    chain.push(current.sub);
    current = current.act;
  }
  return chain;
}

export type VerificationFailure =
  | 'malformed'
  | 'unsupported_algorithm'
  | 'invalid_type'
  | 'unknown_key'
  | 'invalid_signature'
  | 'invalid_issuer'
  | 'invalid_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'missing_claim'
  | 'jwks_unavailable';

export class TokenVerificationError extends MandateError {
  override name = 'TokenVerificationError';
  constructor(
    readonly reason: VerificationFailure,
    message: string,
  ) {
    super(message);
  }
}

interface Jwk {
  kty: string;
  kid?: string;
  alg?: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

/** The algorithms Mandate signs with, and how WebCrypto verifies each. */
const ALGORITHMS: Record<string, { importAs: EcKeyImportParams | RsaHashedImportParams | Algorithm; verifyAs: EcdsaParams | Algorithm }> = {
  ES256: { importAs: { name: 'ECDSA', namedCurve: 'P-256' }, verifyAs: { name: 'ECDSA', hash: 'SHA-256' } },
  RS256: { importAs: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verifyAs: { name: 'RSASSA-PKCS1-v1_5' } },
  EdDSA: { importAs: { name: 'Ed25519' }, verifyAs: { name: 'Ed25519' } },
};

/** Half the order n of P-256. ES256 signatures must be in low-S form, s ≤ n >> 1. */
const P256_HALF_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n >> 1n;

const MIN_REFETCH_INTERVAL_MS = 30_000;
const MAX_AGE_MS = 10 * 60_000;

/**
 * A server's signing keys. Fetched on first use, kept for ten minutes, and fetched again
 * when a token names a key not yet seen (a rotation) — at most every 30 seconds, so
 * tokens with made-up key ids cannot turn into a flood of requests.
 */
export class JwksCache {
  private keys = new Map<string, { jwk: Jwk; key: Promise<CryptoKey> }>();
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;

  constructor(
    readonly url: string,
    private readonly fetchFn: (url: string) => Promise<Response>,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  async key(kid: string): Promise<{ jwk: Jwk; key: Promise<CryptoKey> }> {
    const age = this.clock.now() - this.fetchedAt;
    if (age > MAX_AGE_MS || (!this.keys.has(kid) && age > MIN_REFETCH_INTERVAL_MS)) await this.refresh();
    const found = this.keys.get(kid);
    if (found === undefined) throw new TokenVerificationError('unknown_key', `No key ${kid} in ${this.url}`);
    return found;
  }

  private refresh(): Promise<void> {
    this.inFlight ??= this.load().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async load(): Promise<void> {
    let body: unknown;
    try {
      const response = await this.fetchFn(this.url);
      if (!response.ok) throw new Error(`status ${response.status}`);
      body = await response.json();
    } catch (error) {
      throw new TokenVerificationError('jwks_unavailable', `Could not load ${this.url}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const jwks = (body as { keys?: unknown }).keys;
    if (!Array.isArray(jwks)) throw new TokenVerificationError('jwks_unavailable', `${this.url} is not a JWK set`);
    const subtle = (await webCrypto()).subtle;
    const keys = new Map<string, { jwk: Jwk; key: Promise<CryptoKey> }>();
    for (const jwk of jwks as Jwk[]) {
      const algorithm = jwk.alg === undefined ? undefined : ALGORITHMS[jwk.alg];
      if (jwk.kid === undefined || algorithm === undefined) continue;
      const key = subtle.importKey('jwk', publicMembers(jwk), algorithm.importAs, false, ['verify']);
      key.catch(() => undefined); // a bad key fails the tokens that name it, not the whole set
      keys.set(jwk.kid, { jwk, key });
    }
    this.keys = keys;
    this.fetchedAt = this.clock.now();
  }
}

function publicMembers(jwk: Jwk): JsonWebKey {
  const { kty, crv, x, y, n, e } = jwk;
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, value]) => value !== undefined));
}

const defaultCaches = new Map<string, JwksCache>();

/**
 * Verifies an agent's access token (RFC 9068) for a resource server: the signature against
 * the issuer's JWKS, the `typ` header, the algorithm (ES256, RS256 or EdDSA, and the one
 * the key was published for), `iss`, `aud`, `exp` and `nbf`. Resolves to the claims;
 * rejects with a TokenVerificationError saying why.
 */
export function verifyAccessToken(token: string, options: VerifyOptions): Promise<AccessTokenClaims> {
  const url = options.jwksUrl ?? `${options.issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;
  let cache = defaultCaches.get(url);
  if (cache === undefined) {
    cache = new JwksCache(url, (target) => globalThis.fetch(target), systemClock);
    defaultCaches.set(url, cache);
  }
  return verifyJwt(token, options, cache, systemClock);
}

export async function verifyJwt(token: string, options: VerifyOptions, jwks: JwksCache, clock: Pick<Clock, 'now'>): Promise<AccessTokenClaims> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new TokenVerificationError('malformed', 'A JWT has three dot-separated parts');
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = decodeJson(encodedHeader, 'header');
  const alg = header.alg;
  if (typeof alg !== 'string' || ALGORITHMS[alg] === undefined) {
    throw new TokenVerificationError('unsupported_algorithm', `Algorithm ${String(alg)} is not accepted`);
  }
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : undefined;
  if (typ !== 'at+jwt' && typ !== 'application/at+jwt') {
    throw new TokenVerificationError('invalid_type', `typ must be at+jwt, got ${String(header.typ)}`);
  }
  if (typeof header.kid !== 'string') throw new TokenVerificationError('malformed', 'The header has no kid');

  const { jwk, key } = await jwks.key(header.kid);
  if (jwk.alg !== alg) throw new TokenVerificationError('unsupported_algorithm', `Key ${header.kid} is for ${String(jwk.alg)}, not ${alg}`);
  const signature = decodeBase64Url(encodedSignature);
  if (alg === 'ES256') checkEs256Signature(signature);
  const subtle = (await webCrypto()).subtle;
  const valid = await key
    .then((cryptoKey) =>
      subtle.verify(ALGORITHMS[alg]?.verifyAs ?? alg, cryptoKey, signature, new TextEncoder().encode(`${encodedHeader}.${encodedPayload}`)),
    )
    .catch(() => false);
  if (!valid) throw new TokenVerificationError('invalid_signature', 'The signature does not verify');

  const claims = decodeJson(encodedPayload, 'payload');
  checkClaims(claims, options, clock.now() / 1000);
  return claims as AccessTokenClaims;
}

/**
 * An ES256 signature must be 64 bytes of r ‖ s (RFC 7518 §3.4) with s ≤ n >> 1. ECDSA also
 * accepts (r, n − s), which would make a second token string out of every real one.
 */
function checkEs256Signature(signature: Uint8Array): void {
  if (signature.length !== 64) throw new TokenVerificationError('invalid_signature', 'An ES256 signature is 64 bytes (r ‖ s)');
  if (!isLowS(signature.subarray(32))) throw new TokenVerificationError('invalid_signature', 'The ES256 signature is not in low-S form');
}

/** Whether the big-endian S of an ES256 signature is at most n >> 1 (n the order of P-256). */
export function isLowS(s: Uint8Array): boolean {
  let value = 0n;
  for (const byte of s) value = (value << 8n) | BigInt(byte);
  return value <= P256_HALF_ORDER;
}

function checkClaims(claims: Record<string, unknown>, options: VerifyOptions, now: number): void {
  for (const name of ['iss', 'sub', 'client_id', 'jti']) {
    if (typeof claims[name] !== 'string') throw new TokenVerificationError('missing_claim', `The ${name} claim is missing`);
  }
  for (const name of ['exp', 'iat']) {
    if (typeof claims[name] !== 'number') throw new TokenVerificationError('missing_claim', `The ${name} claim is missing`);
  }
  if (claims.iss !== options.issuer) throw new TokenVerificationError('invalid_issuer', `Issuer ${String(claims.iss)} is not ${options.issuer}`);
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(options.audience)) {
    throw new TokenVerificationError('invalid_audience', `The token is not for ${options.audience}`);
  }
  if (claims.act !== undefined) checkAct(claims.act);
  if (claims.delegation_id !== undefined && typeof claims.delegation_id !== 'string') {
    throw new TokenVerificationError('malformed', 'The delegation_id claim is not a string');
  }
  const tolerance = options.clockToleranceSeconds ?? 30;
  if (now - tolerance >= (claims.exp as number)) throw new TokenVerificationError('expired', 'The token has expired');
  if (typeof claims.nbf === 'number' && now + tolerance < claims.nbf) {
    throw new TokenVerificationError('not_yet_valid', 'The token is not valid yet');
  }
}

/** `act` and each `act` nested in it: an object with a non-empty string `sub`, at most MAX_ACT_DEPTH deep. */
function checkAct(act: unknown): void {
  let current = act;
  for (let depth = 1; current !== undefined; depth++) {
    if (depth > MAX_ACT_DEPTH) throw new TokenVerificationError('malformed', `The act claim nests more than ${MAX_ACT_DEPTH} actors`);
    if (!isObject(current)) throw new TokenVerificationError('malformed', 'The act claim (or one nested in it) is not a JSON object');
    if (typeof current.sub !== 'string' || current.sub === '') {
      throw new TokenVerificationError('malformed', 'The act claim (or one nested in it) has no sub string');
    }
    current = current.act;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(decodeBase64Url(part)));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new TokenVerificationError('malformed', `The ${what} is not a base64url JSON object`);
}

export function decodeBase64Url(value: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(value)) throw new TokenVerificationError('malformed', 'Not base64url');
  let binary: string;
  try {
    binary = atob(value.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    throw new TokenVerificationError('malformed', 'Not base64url');
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
