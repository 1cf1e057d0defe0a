import { generateKeyPairSync } from 'node:crypto';
import type { PrivateJwk, PublicJwkInput } from '../../src/index';

export type KeyKind = 'ES256' | 'EdDSA' | 'RS256' | 'PS256';

export interface TestKey {
  alg: KeyKind;
  /** PKCS#8 PEM of the private key. */
  pem: string;
  /** The private key as a JWK (PS256 keys say so in `alg`). */
  jwk: PrivateJwk;
  /** The public key as a JWK, to register or to verify with. */
  publicJwk: PublicJwkInput;
}

/** A fresh key pair of the kind `alg` signs with, in every form the tests need. */
export function generateTestKey(alg: KeyKind): TestKey {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const jwk = pair.privateKey.export({ format: 'jwk' }) as PrivateJwk;
  const publicJwk = pair.publicKey.export({ format: 'jwk' }) as PublicJwkInput;
  if (alg === 'PS256') return { alg, pem, jwk: { ...jwk, alg }, publicJwk: { ...publicJwk, alg } };
  return { alg, pem, jwk, publicJwk };
}
