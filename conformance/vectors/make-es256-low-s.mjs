// Writes es256-low-s.json: the ES256 malleability vectors that every SDK's access-token
// verifier checks. Run once and committed; it was produced with
//
//   node conformance/vectors/make-es256-low-s.mjs > conformance/vectors/es256-low-s.json
//
// (Node 20, node:crypto only). Each run makes a new P-256 key, so a rerun gives a different
// file that tests the same things.
//
// An ECDSA signature (r, s) also verifies as (r, n - s), so a verifier that takes both lets
// anyone turn a real token into a second, different string that works as well. Mandate's
// verifiers accept only the low-S form, s <= n >> 1 (n is the order of P-256), and ES256
// signatures of exactly 64 bytes (raw r || s, RFC 7518 §3.4).
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = N >> 1n;
const ISSUER = 'https://mandate.example';
const AUDIENCE = 'https://api.example';
const KID = 'es256-low-s-vector';

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const hex32 = (value) => value.toString(16).padStart(64, '0');
const toBigInt = (bytes) => BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
const rawSignature = (r, s) => Buffer.from(hex32(r) + hex32(s), 'hex');

/** The DER (ASN.1 SEQUENCE of two INTEGERs) form of (r, s), as X.509 and TLS carry it. */
function derSignature(r, s) {
  const integer = (value) => {
    let bytes = Buffer.from(hex32(value), 'hex');
    while (bytes.length > 1 && bytes[0] === 0 && bytes[1] < 0x80) bytes = bytes.subarray(1);
    if (bytes[0] >= 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
  };
  const body = Buffer.concat([integer(r), integer(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'ES256', use: 'sig' };

const header = { alg: 'ES256', typ: 'at+jwt', kid: KID };
const claims = {
  iss: ISSUER,
  sub: 'agt_01kdwz0k3x1y5z9a2b6c4d8e0f',
  aud: AUDIENCE,
  client_id: 'agt_01kdwz0k3x1y5z9a2b6c4d8e0f',
  scope: 'agents:read audit:read',
  org: 'org_01kdwz0j8s2f6h4k9m3n7p5q1r',
  jti: 'es256-low-s-vector',
  iat: 1767225600, // 2026-01-01T00:00:00Z
  exp: 4102444800, // 2100-01-01T00:00:00Z, so verifiers on the real clock accept it
};
const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;

const signature = sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
const r = toBigInt(signature.subarray(0, 32));
const signedS = toBigInt(signature.subarray(32));
const lowS = signedS <= HALF_N ? signedS : N - signedS;
const highS = N - lowS;

// Plain ECDSA takes all three encodings: only the low-S rule and the 64-byte rule tell them apart.
const verifyKey = createPublicKey({ key: jwk, format: 'jwk' });
for (const [what, bytes, dsaEncoding] of [
  ['low-S', rawSignature(r, lowS), 'ieee-p1363'],
  ['high-S', rawSignature(r, highS), 'ieee-p1363'],
  ['DER', derSignature(r, lowS), 'der'],
]) {
  if (!verify('sha256', Buffer.from(signingInput), { key: verifyKey, dsaEncoding }, bytes)) {
    throw new Error(`the ${what} signature does not verify under plain ECDSA`);
  }
}
if (!(lowS <= HALF_N && highS > HALF_N)) throw new Error('low/high S out of order');

const vectors = {
  description:
    'ES256 low-S vectors for the access-token verifiers, made by make-es256-low-s.mjs (see its header). ' +
    'Serve `jwks` as the JWKS and verify each token with `issuer` and `audience`: `valid` tokens must verify, ' +
    'every other one must be refused with the SDK’s signature failure (TS invalid_signature, Python signature, ' +
    'Go ErrTokenSignature, Java BAD_SIGNATURE). All three signatures verify under plain ECDSA. ' +
    '`scalars` are S values (32 bytes, big-endian hex) with whether they are in low-S form (s <= n >> 1, ' +
    'n the order of P-256), for unit tests of the check itself.',
  issuer: ISSUER,
  audience: AUDIENCE,
  jwks: { keys: [jwk] },
  tokens: [
    { name: 'low-S signature', token: `${signingInput}.${b64url(rawSignature(r, lowS))}`, valid: true },
    { name: 'the same signature with s replaced by n - s (high-S)', token: `${signingInput}.${b64url(rawSignature(r, highS))}`, valid: false },
    { name: 'the low-S signature in DER form, not 64-byte r || s', token: `${signingInput}.${b64url(derSignature(r, lowS))}`, valid: false },
  ],
  scalars: [
    { name: 'one', s: hex32(1n), lowS: true },
    { name: 'the low-S signature’s s', s: hex32(lowS), lowS: true },
    { name: 'n >> 1, the largest low S', s: hex32(HALF_N), lowS: true },
    { name: '(n >> 1) + 1, the smallest high S', s: hex32(HALF_N + 1n), lowS: false },
    { name: 'the high-S signature’s s', s: hex32(highS), lowS: false },
    { name: 'n - 1', s: hex32(N - 1n), lowS: false },
  ],
};

process.stdout.write(`${JSON.stringify(vectors, null, 2)}\n`);
