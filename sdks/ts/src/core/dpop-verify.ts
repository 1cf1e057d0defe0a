import { JWS_ALGORITHMS, jwkThumbprint, sha256Base64Url } from './jws.js';
import { type AssertionAlgorithm, thumbprintMembers } from './private-key.js';
import { decodeBase64Url, decodeJson } from './verify.js';
import { webCrypto } from './web-crypto.js';

/** The proof algorithms a protected resource accepts, as its metadata and challenges say. */
export const DPOP_ALGORITHMS: readonly AssertionAlgorithm[] = ['ES256', 'EdDSA', 'RS256', 'PS256'];

/** How far a proof's `iat` may be from now, either way. */
const IAT_WINDOW_SECONDS = 60;
/**
 * How many `jti`s are remembered at most. Each is kept until its proof's `iat` is out of the
 * window (a replay is refused by `iat` after that), so this is a sustained 8,000 proofs a
 * second before the oldest are forgotten early.
 */
const JTI_MEMORY_SIZE = 1_000_000;
/** Imported verification keys, by thumbprint: a client signs all its proofs with one key. */
const KEY_CACHE_SIZE = 1_000;

/** Why a proof is refused: a short sentence for `error_description` (no `"` or `\`). */
export class InvalidDpopProof extends Error {}

/** What the proof of one request must match (RFC 9449 §4.3, §7.1). */
export interface ExpectedProof {
  method: string;
  /** The resource's origin and the request's path, without query. */
  url: string;
  accessToken: string;
  /** The token's `cnf.jkt`. */
  jkt: string;
}

/**
 * Checks DPoP proofs sent to a resource server, and remembers their `jti`s while their `iat`
 * is acceptable (in memory, at most JTI_MEMORY_SIZE of them) so a proof cannot be replayed.
 */
export class DpopProofChecker {
  /** `jkt:jti` → when it may be forgotten (ms). */
  private readonly seen = new Map<string, number>();
  private readonly keys = new Map<string, CryptoKey>();

  constructor(private readonly nowMs: () => number) {}

  /** Throws InvalidDpopProof unless `proofs` (the DPoP header's values) is one good proof. */
  async check(proofs: readonly string[], expected: ExpectedProof): Promise<void> {
    if (proofs.length !== 1) throw new InvalidDpopProof(proofs.length === 0 ? 'Send a DPoP proof in the DPoP header.' : 'Send exactly one DPoP proof.');
    const proof = proofs[0] ?? '';
    const parts = proof.split('.');
    if (parts.length !== 3) throw new InvalidDpopProof('The DPoP proof is not a JWT.');
    const [encodedHeader, encodedClaims, encodedSignature] = parts as [string, string, string];
    const header = decode(encodedHeader);
    if (header.typ !== 'dpop+jwt') throw new InvalidDpopProof('The DPoP proof must have typ dpop+jwt.');
    const alg = header.alg === 'Ed25519' ? 'EdDSA' : header.alg;
    if (typeof alg !== 'string' || !DPOP_ALGORITHMS.includes(alg as AssertionAlgorithm)) throw new InvalidDpopProof('The DPoP proof is signed with an algorithm that is not accepted.');
    const jwk = publicJwk(header.jwk);
    // The key must be the token's before anything costly is done with it.
    if ((await jwkThumbprint(thumbprintMembers(jwk))) !== expected.jkt) throw new InvalidDpopProof('The DPoP proof is signed with another key than the token is bound to.');
    await this.checkSignature(alg as AssertionAlgorithm, jwk, expected.jkt, `${encodedHeader}.${encodedClaims}`, encodedSignature);

    const claims = decode(encodedClaims);
    if (claims.htm !== expected.method.toUpperCase()) throw new InvalidDpopProof('The DPoP proof is for another method (htm).');
    if (typeof claims.htu !== 'string' || withoutQuery(claims.htu) !== expected.url) throw new InvalidDpopProof('The DPoP proof is for another URL (htu).');
    const now = this.nowMs();
    if (typeof claims.iat !== 'number' || Math.abs(claims.iat - now / 1000) > IAT_WINDOW_SECONDS) {
      throw new InvalidDpopProof(`The DPoP proof must be made within ${IAT_WINDOW_SECONDS} seconds of its use (iat).`);
    }
    if (claims.ath !== (await sha256Base64Url(expected.accessToken))) throw new InvalidDpopProof('The DPoP proof does not name this access token (ath).');
    if (typeof claims.jti !== 'string' || claims.jti === '') throw new InvalidDpopProof('The DPoP proof has no jti.');
    if (!this.spend(`${expected.jkt}:${claims.jti}`, now, (claims.iat + IAT_WINDOW_SECONDS) * 1000)) throw new InvalidDpopProof('This DPoP proof was used before: make a new one for every request.');
  }

  /** Records a jti until `forgetAt`; false if it is remembered already. */
  private spend(key: string, now: number, forgetAt: number): boolean {
    // Insertion order is nearly expiry order (iat is within a window of now): drop from the front.
    for (const [old, expires] of this.seen) {
      if (expires > now && this.seen.size < JTI_MEMORY_SIZE) break;
      this.seen.delete(old);
    }
    const expires = this.seen.get(key);
    if (expires !== undefined && expires > now) return false;
    this.seen.set(key, forgetAt);
    return true;
  }

  private async checkSignature(alg: AssertionAlgorithm, jwk: JsonWebKey, jkt: string, input: string, encodedSignature: string): Promise<void> {
    const subtle = (await webCrypto()).subtle;
    const { importAs, signAs } = JWS_ALGORITHMS[alg];
    let valid = false;
    try {
      const cacheKey = `${alg}:${jkt}`;
      let key = this.keys.get(cacheKey);
      if (key === undefined) {
        const { kty, crv, x, y, n, e } = jwk;
        const members = Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, member]) => member !== undefined));
        key = await subtle.importKey('jwk', members, importAs, false, ['verify']);
        if (this.keys.size >= KEY_CACHE_SIZE) this.keys.delete(this.keys.keys().next().value ?? '');
        this.keys.set(cacheKey, key);
      }
      valid = await subtle.verify(signAs, key, decodeBase64Url(encodedSignature), new TextEncoder().encode(input));
    } catch {
      valid = false;
    }
    if (!valid) throw new InvalidDpopProof('The DPoP proof signature does not verify with its jwk.');
  }
}

function decode(part: string): Record<string, unknown> {
  try {
    return decodeJson(part, 'DPoP proof');
  } catch {
    throw new InvalidDpopProof('The DPoP proof is not a JWT.');
  }
}

/** The header's `jwk`: a public key of a supported type, nothing private. */
function publicJwk(value: unknown): JsonWebKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidDpopProof('The DPoP proof carries no public key (jwk).');
  const jwk = value as Record<string, unknown>;
  if (['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((name) => name in jwk)) throw new InvalidDpopProof('The jwk of the DPoP proof must be a public key.');
  return jwk as JsonWebKey;
}

/** RFC 9449 §4.3: `htu` is compared without its query and fragment. */
function withoutQuery(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '';
  }
}
