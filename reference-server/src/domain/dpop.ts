import { createHash, createHmac } from 'node:crypto';
import type { Cache } from '../cache/cache';
import { jose } from './jose';

/** The algorithms a DPoP proof may be signed with (asymmetric only), as discovery says. */
export const DPOP_ALGS: readonly string[] = ['ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256'];

/** How far a proof's `iat` may be from this server's clock. */
const IAT_WINDOW_SECONDS = 60;
/** A server nonce is good for this window and the one before it. */
const NONCE_WINDOW_MS = 5 * 60_000;

/** Why a proof is refused; `nonce` when it should be sent again with the current nonce. */
export class DpopRefused extends Error {
  constructor(
    message: string,
    readonly nonce = false,
  ) {
    super(message);
    this.name = 'DpopRefused';
  }
}

export interface ProofTarget {
  /** The request's method and URL (without query or fragment), as `htm` and `htu` must say. */
  method: string;
  url: string;
  /** For a resource request: the access token the proof must name (`ath`). */
  accessToken?: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

/**
 * DPoP (RFC 9449): checks proofs of possession and keeps their `jti`s spent in the shared
 * cache, so a proof works once on any instance. Server nonces, when required, are HMACs of
 * the time window under a key all instances share, so any instance accepts another's.
 */
export class DpopVerifier {
  /** Null when nonces are not required. */
  private readonly nonceKey: Buffer | null;

  constructor(
    private readonly cache: Cache,
    /** Shared by every instance (derived from the secret pepper); null: nonces are not required. */
    nonceSecret: string | null,
  ) {
    this.nonceKey = nonceSecret === null ? null : createHmac('sha256', nonceSecret).update('mandate dpop nonce').digest();
  }

  /** The nonce to hand out now (RFC 9449 §8), or null when nonces are not required. */
  currentNonce(): string | null {
    return this.nonceFor(Math.floor(Date.now() / NONCE_WINDOW_MS));
  }

  private nonceFor(window: number): string | null {
    return this.nonceKey === null ? null : createHmac('sha256', this.nonceKey).update(String(window)).digest('base64url');
  }

  /** Verifies a proof for `target`; returns the thumbprint (`jkt`) of its key. */
  async verify(proof: string, target: ProofTarget): Promise<string> {
    const { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify } = await jose();
    let header: { typ?: unknown; alg?: unknown; jwk?: unknown };
    try {
      header = decodeProtectedHeader(proof);
    } catch {
      throw new DpopRefused('The DPoP proof is not a signed JWT.');
    }
    if (header.typ !== 'dpop+jwt') throw new DpopRefused('The DPoP proof must have typ dpop+jwt.');
    if (typeof header.alg !== 'string' || !DPOP_ALGS.includes(header.alg)) throw new DpopRefused(`DPoP proofs are signed with one of ${DPOP_ALGS.join(', ')}.`);
    const jwk = header.jwk;
    if (typeof jwk !== 'object' || jwk === null || 'd' in jwk || 'k' in jwk) throw new DpopRefused('The DPoP proof must carry its public key (jwk), and nothing private.');

    let claims: { jti?: unknown; htm?: unknown; htu?: unknown; iat?: unknown; ath?: unknown; nonce?: unknown };
    try {
      ({ payload: claims } = await jwtVerify(proof, await importJWK(jwk as Record<string, string>, header.alg), { typ: 'dpop+jwt', algorithms: [header.alg] }));
    } catch {
      throw new DpopRefused('The DPoP proof’s signature does not verify with its jwk.');
    }
    if (typeof claims.jti !== 'string' || claims.jti === '' || claims.jti.length > 200) throw new DpopRefused('The DPoP proof needs a jti.');
    if (claims.htm !== target.method) throw new DpopRefused(`The DPoP proof is for another method (htm must be ${target.method}).`);
    if (typeof claims.htu !== 'string' || stripped(claims.htu) !== target.url) throw new DpopRefused(`The DPoP proof is for another URL (htu must be ${target.url}).`);
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.iat !== 'number' || Math.abs(claims.iat - now) > IAT_WINDOW_SECONDS) throw new DpopRefused(`The DPoP proof's iat must be within ${IAT_WINDOW_SECONDS} seconds of now.`);
    if (target.accessToken !== undefined && claims.ath !== sha256(target.accessToken)) throw new DpopRefused('The DPoP proof must name the access token (ath: its SHA-256, base64url).');
    const window = Math.floor(Date.now() / NONCE_WINDOW_MS);
    if (this.nonceKey !== null && claims.nonce !== this.nonceFor(window) && claims.nonce !== this.nonceFor(window - 1)) {
      throw new DpopRefused('Send the proof again with the nonce of the DPoP-Nonce header.', true);
    }
    const jkt = await calculateJwkThumbprint(jwk as { kty: string }, 'sha256');
    // Spent only once everything else holds; kept for as long as its iat is acceptable.
    if (!(await this.cache.setIfAbsent(`dpop-jti:${jkt}:${sha256(claims.jti)}`, '1', 2 * IAT_WINDOW_SECONDS + 5))) throw new DpopRefused('This DPoP proof was used before: make a new one for every request.');
    return jkt;
  }
}

/** A URL without its query and fragment, as `htu` is compared (RFC 9449 §4.3). */
function stripped(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '';
  }
}
