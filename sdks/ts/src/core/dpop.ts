import { MandateError } from './errors.js';
import { type SigningKey, importSigningKey, sha256Base64Url, signJws } from './jws.js';
import { InvalidPrivateKey, type PrivateJwk, parsePrivateKey, thumbprintMembers } from './private-key.js';
import { webCrypto } from './web-crypto.js';

/**
 * The `dpop` option: `true` for a key generated in memory when the client is built, or a
 * private key in the forms `privateKey` takes (PKCS#8 PEM, private JWK object or JSON text).
 */
export type DpopKeyInput = true | string | JsonWebKey | PrivateJwk;

/** What a proof is for: the request's method and URL, and the access token it carries, if any. */
export interface DpopProofTarget {
  method: string;
  url: string;
  /** Set on resource requests: the proof then names the token (`ath`). */
  accessToken?: string;
}

/**
 * Signs DPoP proofs (RFC 9449 §4) with one key for the client's life, and keeps the latest
 * `DPoP-Nonce` each origin sent (§8, §9) to put in later proofs to that origin.
 */
export class DpopProver {
  private readonly signing: Promise<SigningKey>;
  private readonly nonces = new Map<string, string>();

  private constructor(
    signing: Promise<SigningKey>,
    private readonly nowMs: () => number,
  ) {
    this.signing = signing;
    // A failure is reported by the first proof; until then it must not be an unhandled rejection.
    signing.catch(() => undefined);
  }

  /**
   * The prover for a `dpop` option, or undefined for none. A key that cannot be used is a
   * configuration error now, with rule 5's messages, naming the option.
   */
  static fromOption(input: DpopKeyInput | undefined | false, nowMs: () => number): DpopProver | undefined {
    if (input === undefined || input === false || input === '') return undefined;
    if (input === true) return new DpopProver(generateEs256Key(), nowMs);
    let parsed;
    try {
      parsed = parsePrivateKey(input as string | PrivateJwk);
    } catch (error) {
      if (error instanceof InvalidPrivateKey) throw new MandateError(`The private key in dpop cannot be used: ${error.message}.`);
      throw error;
    }
    return new DpopProver(importSigningKey(parsed, true, 'The dpop key'), nowMs);
  }

  /** A new proof for one HTTP request, with the nonce its origin last sent. */
  async proof(target: DpopProofTarget): Promise<string> {
    const signing = await this.signing;
    const url = new URL(target.url);
    const claims: Record<string, unknown> = {
      jti: (await webCrypto()).randomUUID(),
      htm: target.method.toUpperCase(),
      htu: `${url.origin}${url.pathname}`,
      iat: Math.floor(this.nowMs() / 1000),
    };
    if (target.accessToken !== undefined) claims.ath = await sha256Base64Url(target.accessToken);
    const nonce = this.nonces.get(url.origin);
    if (nonce !== undefined) claims.nonce = nonce;
    return signJws(signing, { typ: 'dpop+jwt', jwk: signing.publicJwk }, claims);
  }

  /** Keeps the response's `DPoP-Nonce`, if any, for later proofs to the origin of `url`. */
  rememberNonce(url: string, headers: Headers): void {
    const nonce = headers.get('dpop-nonce');
    if (nonce !== null && nonce !== '') this.nonces.set(new URL(url).origin, nonce);
  }
}

/** A fresh EC P-256 key; the private half never leaves WebCrypto. */
async function generateEs256Key(): Promise<SigningKey> {
  const subtle = (await webCrypto()).subtle;
  const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  return { alg: 'ES256', key: pair.privateKey, publicJwk: thumbprintMembers(await subtle.exportKey('jwk', pair.publicKey)) };
}

/**
 * Whether an answer asks for the request again with the nonce it carries: 400
 * `use_dpop_nonce` from the token endpoint (RFC 9449 §8), or a 401 DPoP challenge with
 * `error="use_dpop_nonce"` from a resource (§9).
 */
export function isNonceChallenge(tokenEndpoint: boolean, status: number, headers: Headers, text: string): boolean {
  if (tokenEndpoint && status === 400) {
    try {
      return (JSON.parse(text) as { error?: unknown } | null)?.error === 'use_dpop_nonce';
    } catch {
      return false;
    }
  }
  return status === 401 && /\berror\s*=\s*"?use_dpop_nonce\b/i.test(headers.get('www-authenticate') ?? '');
}
