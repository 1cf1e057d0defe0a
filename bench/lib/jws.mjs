// The JWTs the bench signs itself, with node:crypto: client assertions and DPoP proofs.
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';

const base64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A compact JWS signed with an EC P-256 key (ES256, r||s form). */
function es256(header, claims, privateKey) {
  const input = `${base64url(header)}.${base64url(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** A private_key_jwt assertion (RFC 7523 §2.2). */
export function clientAssertion(credential, audience, now) {
  const claims = { iss: credential.clientId, sub: credential.clientId, aud: audience, iat: now, exp: now + 240, jti: randomUUID() };
  return es256({ alg: 'ES256', typ: 'JWT', kid: credential.kid }, claims, credential.privateKey);
}

/**
 * A fresh proof-of-possession key and a signer of DPoP proofs with it (RFC 9449 §4.2);
 * `ath` only for a request that carries the access token.
 */
export function dpopSigner() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } };
  return (htm, htu, now, ath) => es256(header, { jti: randomUUID(), htm, htu, iat: now, ...(ath === undefined ? {} : { ath }) }, privateKey);
}
