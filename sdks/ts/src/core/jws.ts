import { MandateError } from './errors.js';
import { type AssertionAlgorithm, type ParsedPrivateKey, thumbprintMembers } from './private-key.js';
import { webCrypto } from './web-crypto.js';

/** How WebCrypto imports, signs and verifies with each algorithm. */
export const JWS_ALGORITHMS: Record<AssertionAlgorithm, { importAs: RsaHashedImportParams | EcKeyImportParams | Algorithm; signAs: EcdsaParams | RsaPssParams | Algorithm }> = {
  ES256: { importAs: { name: 'ECDSA', namedCurve: 'P-256' }, signAs: { name: 'ECDSA', hash: 'SHA-256' } },
  EdDSA: { importAs: { name: 'Ed25519' }, signAs: { name: 'Ed25519' } },
  RS256: { importAs: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, signAs: { name: 'RSASSA-PKCS1-v1_5' } },
  // RFC 7518 §3.5: the salt is as long as the hash.
  PS256: { importAs: { name: 'RSA-PSS', hash: 'SHA-256' }, signAs: { name: 'RSA-PSS', saltLength: 32 } },
};

/** The order n of P-256; ES256 signatures go out with s ≤ n / 2, which the server insists on. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** A private key imported for signing, with its public members when they were asked for. */
export interface SigningKey {
  alg: AssertionAlgorithm;
  key: CryptoKey;
  /** The RFC 7638 members of the public key (its public JWK), when `withPublic` was set. */
  publicJwk?: Record<string, string>;
}

/**
 * Imports a checked private key into WebCrypto. `withPublic` also works out the public key's
 * members, which a PEM does not carry: the key is then imported extractable, once, to export them.
 * `owner` names the key in the error message (never its contents).
 */
export async function importSigningKey(parsed: ParsedPrivateKey, withPublic: boolean, owner: string): Promise<SigningKey> {
  const { alg, material, publicJwk } = parsed;
  const subtle = (await webCrypto()).subtle;
  const needsExport = withPublic && publicJwk === undefined;
  let key: CryptoKey;
  try {
    key =
      material.format === 'pkcs8'
        ? await subtle.importKey('pkcs8', material.der, JWS_ALGORITHMS[alg].importAs, needsExport, ['sign'])
        : await subtle.importKey('jwk', material.jwk, JWS_ALGORITHMS[alg].importAs, false, ['sign']);
  } catch {
    // WebCrypto's messages are generic; say which key failed, not what is in it.
    throw new MandateError(`${owner} (${alg}) could not be imported: it is not a valid key of its type.`);
  }
  if (!withPublic) return { alg, key };
  return { alg, key, publicJwk: publicJwk ?? thumbprintMembers(await subtle.exportKey('jwk', key)) };
}

/** A compact JWS of `claims` under `header` (to which `alg` is added first). ES256 goes out low-S. */
export async function signJws(signing: SigningKey, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  const input = `${base64UrlJson({ alg: signing.alg, ...header })}.${base64UrlJson(claims)}`;
  const crypto = await webCrypto();
  const signed = new Uint8Array(await crypto.subtle.sign(JWS_ALGORITHMS[signing.alg].signAs, signing.key, new TextEncoder().encode(input)));
  const signature = signing.alg === 'ES256' ? lowS(signed) : signed;
  return `${input}.${base64Url(signature)}`;
}

/** RFC 7638: SHA-256 over the required public members, in order, without whitespace. */
export async function jwkThumbprint(members: Record<string, string>): Promise<string> {
  const canonical = JSON.stringify(Object.fromEntries(Object.keys(members).sort().map((name) => [name, members[name]])));
  return sha256Base64Url(canonical);
}

/** base64url(SHA-256(text)): a JWK thumbprint's and DPoP `ath`'s encoding. */
export async function sha256Base64Url(text: string): Promise<string> {
  const digest = await (await webCrypto()).subtle.digest('SHA-256', new TextEncoder().encode(text));
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

export function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
