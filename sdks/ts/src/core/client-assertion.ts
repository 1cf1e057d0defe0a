import { MandateError } from './errors.js';
import { type AssertionAlgorithm, type ParsedPrivateKey, thumbprintMembers } from './private-key.js';
import { webCrypto } from './web-crypto.js';

/** RFC 7523 §2.2's value of `client_assertion_type`. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Well under the server's five-minute limit: an assertion is used at once, and only once. */
const LIFETIME_SECONDS = 60;

/** How WebCrypto imports and signs with each algorithm. */
const WEB_CRYPTO: Record<AssertionAlgorithm, { importAs: RsaHashedImportParams | EcKeyImportParams | Algorithm; signAs: EcdsaParams | RsaPssParams | Algorithm }> = {
  ES256: { importAs: { name: 'ECDSA', namedCurve: 'P-256' }, signAs: { name: 'ECDSA', hash: 'SHA-256' } },
  EdDSA: { importAs: { name: 'Ed25519' }, signAs: { name: 'Ed25519' } },
  RS256: { importAs: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, signAs: { name: 'RSASSA-PKCS1-v1_5' } },
  // RFC 7518 §3.5: the salt is as long as the hash.
  PS256: { importAs: { name: 'RSA-PSS', hash: 'SHA-256' }, signAs: { name: 'RSA-PSS', saltLength: 32 } },
};

/** The order n of P-256; ES256 signatures go out with s ≤ n / 2, which the server insists on. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

interface ImportedKey {
  key: CryptoKey;
  kid: string;
}

/**
 * Signs private_key_jwt client assertions for one agent. The key is imported into WebCrypto
 * on first use; every call to `sign` makes a new assertion with its own `jti`, because the
 * server accepts each one once.
 */
export class ClientAssertionSigner {
  private imported: Promise<ImportedKey> | undefined;

  constructor(
    readonly clientId: string,
    private readonly privateKey: ParsedPrivateKey,
    private readonly keyId: string | undefined,
    private readonly nowMs: () => number,
  ) {}

  /** A fresh assertion for `audience` (the server's issuer). */
  async sign(audience: string): Promise<string> {
    const { key, kid } = await this.key();
    const crypto = await webCrypto();
    const now = Math.floor(this.nowMs() / 1000);
    const header = { alg: this.privateKey.alg, typ: 'JWT', kid };
    const claims = { iss: this.clientId, sub: this.clientId, aud: audience, iat: now, exp: now + LIFETIME_SECONDS, jti: crypto.randomUUID() };
    const input = `${base64UrlJson(header)}.${base64UrlJson(claims)}`;
    const signed = new Uint8Array(await crypto.subtle.sign(WEB_CRYPTO[this.privateKey.alg].signAs, key, new TextEncoder().encode(input)));
    const signature = this.privateKey.alg === 'ES256' ? lowS(signed) : signed;
    return `${input}.${base64Url(signature)}`;
  }

  private key(): Promise<ImportedKey> {
    this.imported ??= this.importKey();
    return this.imported;
  }

  private async importKey(): Promise<ImportedKey> {
    const { alg, material, publicJwk, kid } = this.privateKey;
    const subtle = (await webCrypto()).subtle;
    const chosenKid = this.keyId ?? kid;
    // A PEM carries no public members to hash: export them once from the imported key.
    const needsExport = chosenKid === undefined && publicJwk === undefined;
    let key: CryptoKey;
    try {
      key =
        material.format === 'pkcs8'
          ? await subtle.importKey('pkcs8', material.der, WEB_CRYPTO[alg].importAs, needsExport, ['sign'])
          : await subtle.importKey('jwk', material.jwk, WEB_CRYPTO[alg].importAs, false, ['sign']);
    } catch {
      // WebCrypto's messages are generic; say which key failed, not what is in it.
      throw new MandateError(`The client's private key (${alg}) could not be imported: it is not a valid key of its type.`);
    }
    if (chosenKid !== undefined) return { key, kid: chosenKid };
    const members = publicJwk ?? thumbprintMembers(await subtle.exportKey('jwk', key));
    return { key, kid: await jwkThumbprint(members) };
  }
}

/** RFC 7638: SHA-256 over the required public members, in order, without whitespace. */
export async function jwkThumbprint(members: Record<string, string>): Promise<string> {
  const canonical = JSON.stringify(Object.fromEntries(Object.keys(members).sort().map((name) => [name, members[name]])));
  const digest = await (await webCrypto()).subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  return base64Url(new Uint8Array(digest));
}

/** Replaces s by n − s when s is in the upper half: the same signature, in the one form accepted. */
export function lowS(signature: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const s = toBigInt(signature.subarray(32));
  if (s <= P256_ORDER >> 1n) return signature;
  const out = new Uint8Array(64);
  out.set(signature.subarray(0, 32));
  let value = P256_ORDER - s;
  for (let i = 63; i >= 32; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

function toBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function base64UrlJson(value: object): string {
  return base64Url(new TextEncoder().encode(JSON.stringify(value)));
}

function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
