import { type ParsedPrivateKey } from './private-key.js';
import { type SigningKey, importSigningKey, jwkThumbprint, signJws } from './jws.js';
import { webCrypto } from './web-crypto.js';

export { jwkThumbprint, lowS } from './jws.js';

/** RFC 7523 §2.2's value of `client_assertion_type`. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Well under the server's five-minute limit: an assertion is used at once, and only once. */
const LIFETIME_SECONDS = 60;

interface ImportedKey {
  signing: SigningKey;
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
    const { signing, kid } = await this.key();
    const now = Math.floor(this.nowMs() / 1000);
    const jti = (await webCrypto()).randomUUID();
    const claims = { iss: this.clientId, sub: this.clientId, aud: audience, iat: now, exp: now + LIFETIME_SECONDS, jti };
    return signJws(signing, { typ: 'JWT', kid }, claims);
  }

  private key(): Promise<ImportedKey> {
    this.imported ??= this.importKey();
    return this.imported;
  }

  private async importKey(): Promise<ImportedKey> {
    const chosenKid = this.keyId ?? this.privateKey.kid;
    // Without a kid, the default is the public key's thumbprint, which needs its members.
    const signing = await importSigningKey(this.privateKey, chosenKid === undefined, "The client's private key");
    if (chosenKid !== undefined) return { signing, kid: chosenKid };
    return { signing, kid: await jwkThumbprint(signing.publicJwk ?? {}) };
  }
}
