import type { JWTPayload } from 'jose';
import { FetchFailed } from '../../net/fetch-json';
import { jose } from '../jose';
import type { IssuerKeys, KeySource } from './issuer-keys';

/** Why an external token is refused; the codes of FederationRefusal in the spec. */
export type RefusalCode =
  | 'malformed'
  | 'unknown_issuer'
  | 'algorithm_not_allowed'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'audience_mismatch'
  | 'keys_unavailable';

export class TokenRefused extends Error {
  override name = 'TokenRefused';
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
  }
}

/** Asymmetric algorithms only: `none` and HMAC (whose key would be public) never verify. */
export const EXTERNAL_ALGORITHMS: readonly string[] = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

/** Clock skew allowed between an external issuer and this server. */
export const LEEWAY_SECONDS = 60;

export interface UnverifiedToken {
  issuer: string;
  alg: string;
  kid: string | undefined;
}

/** What a token says about itself, before anything is checked. */
export async function inspect(token: string): Promise<UnverifiedToken> {
  const { decodeJwt, decodeProtectedHeader } = await jose();
  let header: { alg?: unknown; kid?: unknown };
  let issuer: unknown;
  try {
    header = decodeProtectedHeader(token);
    issuer = decodeJwt(token).iss;
  } catch {
    throw new TokenRefused('malformed', 'The token is not a signed JWT (compact JWS with a JSON claims set).');
  }
  if (typeof issuer !== 'string' || issuer === '') throw new TokenRefused('malformed', 'The token names no issuer (iss).');
  if (typeof header.alg !== 'string') throw new TokenRefused('malformed', 'The token header names no algorithm.');
  return { issuer, alg: header.alg, kid: typeof header.kid === 'string' ? header.kid : undefined };
}

/** A jose error's code and, for a failed claim check, the claim. */
const joseFailure = (error: unknown): { code?: string; claim?: string } => (typeof error === 'object' && error !== null ? (error as { code?: string; claim?: string }) : {});

function refusalOf(error: unknown, audience: string | undefined): TokenRefused {
  const { code, claim } = joseFailure(error);
  if (code === 'ERR_JWT_EXPIRED') return new TokenRefused('expired', 'The token has expired (exp).');
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'nbf') return new TokenRefused('not_yet_valid', 'The token is not valid yet (nbf).');
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'aud') return new TokenRefused('audience_mismatch', `The token's audience (aud) does not include ${String(audience)}.`);
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return new TokenRefused('malformed', `The token's ${String(claim)} claim is missing or invalid.`);
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return new TokenRefused('bad_signature', 'The signature does not verify with the issuer’s key.');
  return new TokenRefused('malformed', 'The token cannot be verified (malformed header, claims or key).');
}

export interface Expectations {
  source: KeySource;
  /** The exact `iss` required. */
  issuer: string;
  algorithms: readonly string[];
  /** A value `aud` must contain, when given. */
  audience?: string;
}

/**
 * Verifies a JWT of an external issuer with its published keys: an allowed asymmetric
 * algorithm, a signature by a key of the issuer's current JWK Set (trying each key that
 * fits the `kid`), `exp` required, `nbf` and `iat` within the leeway, and the audience.
 * Throws TokenRefused with the reason.
 */
export async function verifyExternalToken(token: string, keys: IssuerKeys, expect: Expectations): Promise<JWTPayload> {
  const { importJWK, jwtVerify } = await jose();
  const { alg, kid } = await inspect(token);
  if (!expect.algorithms.includes(alg)) throw new TokenRefused('algorithm_not_allowed', `Tokens signed with ${alg.slice(0, 20)} are not accepted (${expect.algorithms.join(', ')}).`);

  let candidates;
  try {
    candidates = await keys.candidates(expect.source, kid);
  } catch (error) {
    if (error instanceof FetchFailed) throw new TokenRefused('keys_unavailable', `The issuer's keys cannot be fetched: ${error.message.slice(0, 300)}`);
    throw error;
  }
  if (candidates.length === 0) throw new TokenRefused('unknown_key', kid === undefined ? 'The issuer publishes no signing key.' : `The issuer publishes no key with kid ${kid.slice(0, 100)}.`);

  let refusal: TokenRefused | undefined;
  for (const jwk of candidates) {
    let key;
    try {
      key = await importJWK(jwk, alg);
    } catch {
      continue; // a key of another type or curve cannot have made this signature
    }
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: [alg],
        issuer: expect.issuer,
        ...(expect.audience === undefined ? {} : { audience: expect.audience }),
        clockTolerance: LEEWAY_SECONDS,
        requiredClaims: ['exp'],
      });
      if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + LEEWAY_SECONDS) throw new TokenRefused('not_yet_valid', 'The token was issued in the future (iat).');
      return payload;
    } catch (error) {
      refusal = error instanceof TokenRefused ? error : refusalOf(error, expect.audience);
      // A claim failure is the same with every key: only a bad signature tries the next one.
      if (refusal.code !== 'bad_signature') throw refusal;
    }
  }
  throw refusal ?? new TokenRefused('unknown_key', `No key of the issuer suits ${alg}.`);
}
