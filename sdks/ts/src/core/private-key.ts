import { DER_TAG, DerError, hex, integerBits, readDerElement, readDerSequence } from './der.js';

/** The JWS algorithms the server accepts for client assertions (RFC 7523 §2.2). */
export type AssertionAlgorithm = 'ES256' | 'EdDSA' | 'RS256' | 'PS256';

/** A private JSON Web Key (RFC 7517): EC P-256, OKP Ed25519 or RSA, with its private members. */
export interface PrivateJwk {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  n?: string;
  e?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
  kid?: string;
  /** `PS256` makes an RSA key sign with RSA-PSS; RS256 otherwise. */
  alg?: string;
  [member: string]: unknown;
}

/** A PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), a private JWK as JSON text, or a private JWK. */
export type PrivateKeyInput = string | PrivateJwk;

/** A private key whose shape has been checked, not yet imported into WebCrypto. */
export interface ParsedPrivateKey {
  alg: AssertionAlgorithm;
  material: { format: 'pkcs8'; der: Uint8Array<ArrayBuffer> } | { format: 'jwk'; jwk: JsonWebKey };
  /** The RFC 7638 members of the public key, when known without importing (a JWK). */
  publicJwk?: Record<string, string>;
  /** The JWK's own `kid`. */
  kid?: string;
}

/** Says what is wrong with a key, never what the key is: messages must not leak it. */
export class InvalidPrivateKey extends Error {}

const MIN_RSA_BITS = 2048;

/** PKCS#8 algorithm identifiers (hex of the OID's contents). */
const OID = {
  ecPublicKey: '2a8648ce3d0201',
  p256: '2a8648ce3d030107',
  ed25519: '2b6570',
  rsaEncryption: '2a864886f70d010101',
  rsaPss: '2a864886f70d01010a',
} as const;

/**
 * Checks a private key's form synchronously, so that a bad key fails when the client is built.
 * WebCrypto, which imports it later, is asynchronous everywhere.
 */
export function parsePrivateKey(input: PrivateKeyInput): ParsedPrivateKey {
  if (typeof input !== 'string') return parseJwk(input);
  const text = input.trim();
  if (text.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // JSON.parse quotes the text around the error, which is key material.
      throw new InvalidPrivateKey('it starts like a JWK but is not valid JSON');
    }
    return parseJwk(value);
  }
  if (text.includes('-----BEGIN ')) return parsePem(text);
  throw new InvalidPrivateKey('it is neither a PEM (-----BEGIN PRIVATE KEY-----) nor a JWK (JSON)');
}

function parsePem(text: string): ParsedPrivateKey {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  const label = match?.[1];
  if (match === null || label === undefined) throw new InvalidPrivateKey('the PEM has no matching END line');
  if (label === 'ENCRYPTED PRIVATE KEY') throw new InvalidPrivateKey('the PEM is encrypted; give the decrypted PKCS#8 key');
  if (label === 'EC PRIVATE KEY' || label === 'RSA PRIVATE KEY') {
    throw new InvalidPrivateKey(`the PEM is ${label}, not PKCS#8; convert it with \`openssl pkcs8 -topk8 -nocrypt\``);
  }
  if (label.includes('PUBLIC KEY') || label === 'CERTIFICATE') {
    throw new InvalidPrivateKey('the PEM holds a public key; the client signs with the private key');
  }
  if (label !== 'PRIVATE KEY') throw new InvalidPrivateKey(`a PEM labelled ${label} is not a PKCS#8 private key`);
  // Environment files often carry newlines as the two characters \n; base64 has no backslash.
  const body = (match[2] ?? '').replace(/\\[nr]/g, '').replace(/\s+/g, '');
  let der: Uint8Array<ArrayBuffer>;
  try {
    der = Uint8Array.from(atob(body), (char) => char.charCodeAt(0));
  } catch {
    throw new InvalidPrivateKey('the PEM body is not base64');
  }
  try {
    return { alg: pkcs8Algorithm(der), material: { format: 'pkcs8', der } };
  } catch (error) {
    if (error instanceof DerError) throw new InvalidPrivateKey('the PEM is not a well-formed PKCS#8 key');
    throw error;
  }
}

/** PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier, privateKey OCTET STRING, … } */
function pkcs8Algorithm(der: Uint8Array): AssertionAlgorithm {
  const [version, algorithm, privateKey] = readDerSequence(readDerElement(der, DER_TAG.sequence).value);
  if (version?.tag !== DER_TAG.integer || algorithm?.tag !== DER_TAG.sequence || privateKey?.tag !== DER_TAG.octetString) {
    throw new DerError('not PrivateKeyInfo');
  }
  const [oid, parameters] = readDerSequence(algorithm.value);
  if (oid?.tag !== DER_TAG.oid) throw new DerError('no algorithm');
  switch (hex(oid.value)) {
    case OID.ecPublicKey:
      if (parameters?.tag !== DER_TAG.oid || hex(parameters.value) !== OID.p256) throw new InvalidPrivateKey('EC keys must be on the P-256 curve');
      return 'ES256';
    case OID.ed25519:
      return 'EdDSA';
    case OID.rsaEncryption: {
      // RSAPrivateKey ::= SEQUENCE { version, modulus, … }
      const [, modulus] = readDerSequence(readDerElement(privateKey.value, DER_TAG.sequence).value);
      if (modulus?.tag !== DER_TAG.integer) throw new DerError('no modulus');
      checkRsaBits(integerBits(modulus.value));
      return 'RS256';
    }
    case OID.rsaPss:
      throw new InvalidPrivateKey('RSA-PSS-only (id-RSASSA-PSS) PEM keys are not supported; use an rsaEncryption key, or a JWK with alg PS256');
    default:
      throw new InvalidPrivateKey('the key type is not supported (EC P-256, Ed25519 or RSA)');
  }
}

function parseJwk(value: unknown): ParsedPrivateKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidPrivateKey('a JWK must be a JSON object');
  const jwk = value as Record<string, unknown>;
  const kid = typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : undefined;
  const kind = jwk.kty === 'RSA' ? 'RSA' : `${String(jwk.kty)} ${String(jwk.crv)}`;
  const shape = JWK_SHAPES[kind];
  if (shape === undefined) throw new InvalidPrivateKey(`a JWK of kty ${String(jwk.kty)} and crv ${String(jwk.crv)} is not supported (EC P-256, OKP Ed25519 or RSA)`);
  if (jwk.d === undefined) throw new InvalidPrivateKey('the JWK is a public key (no d); the client signs with the private key');
  const alg = jwk.alg ?? shape.algs[0];
  if (typeof alg !== 'string' || !shape.algs.includes(alg as AssertionAlgorithm)) throw new InvalidPrivateKey(`alg ${JSON.stringify(alg)} does not suit a ${kind} key (${shape.algs.join(' or ')})`);
  const members: Record<string, string> = { kty: String(jwk.kty) };
  for (const name of shape.members) {
    const member = jwk[name];
    if (typeof member !== 'string' || !/^[A-Za-z0-9_-]+$/.test(member)) throw new InvalidPrivateKey(`the ${kind} JWK needs its ${name} member (base64url)`);
    const size = shape.sizes?.[name];
    if (size !== undefined && base64UrlLength(member) !== size) throw new InvalidPrivateKey(`the ${kind} JWK's ${name} must be ${size} bytes`);
    members[name] = member;
  }
  if (kind === 'RSA') checkRsaBits(base64UrlLength(members.n ?? '') * 8);
  const publicJwk = Object.fromEntries(shape.thumbprintMembers.map((name) => [name, members[name] ?? '']));
  // Only the key's own members: WebCrypto rejects a JWK whose alg, use or key_ops disagree with the import.
  return { alg: alg as AssertionAlgorithm, material: { format: 'jwk', jwk: members }, publicJwk, ...(kid === undefined ? {} : { kid }) };
}

interface JwkShape {
  algs: readonly AssertionAlgorithm[];
  /** Every member WebCrypto needs to import the private key. */
  members: readonly string[];
  /** RFC 7638 §3.2: the public key's required members, in lexicographic order. */
  thumbprintMembers: readonly string[];
  /** Exact decoded sizes, where the curve fixes them. */
  sizes?: Record<string, number>;
}

const JWK_SHAPES: Record<string, JwkShape> = {
  'EC P-256': { algs: ['ES256'], members: ['crv', 'x', 'y', 'd'], thumbprintMembers: ['crv', 'kty', 'x', 'y'], sizes: { x: 32, y: 32, d: 32 } },
  'OKP Ed25519': { algs: ['EdDSA'], members: ['crv', 'x', 'd'], thumbprintMembers: ['crv', 'kty', 'x'], sizes: { x: 32, d: 32 } },
  // WebCrypto cannot import an RSA key without its CRT members.
  RSA: { algs: ['RS256', 'PS256'], members: ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'], thumbprintMembers: ['e', 'kty', 'n'] },
};

/** RFC 7638 members of a public key exported from WebCrypto (for PEM input). */
export function thumbprintMembers(jwk: JsonWebKey): Record<string, string> {
  const shape = jwk.kty === 'RSA' ? JWK_SHAPES.RSA : JWK_SHAPES[`${String(jwk.kty)} ${String(jwk.crv)}`];
  const source = jwk as Record<string, unknown>;
  return Object.fromEntries((shape?.thumbprintMembers ?? []).map((name) => [name, String(source[name])]));
}

function checkRsaBits(bits: number): void {
  // The server registers no smaller RSA key, so a smaller one could never authenticate.
  if (bits < MIN_RSA_BITS) throw new InvalidPrivateKey(`RSA keys need at least ${MIN_RSA_BITS} bits; this one has ${bits}`);
}

/** Decoded length of unpadded base64url text. */
function base64UrlLength(text: string): number {
  return Math.floor((text.length * 3) / 4);
}
