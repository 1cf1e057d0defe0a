import { type KeyObject, createPrivateKey } from 'node:crypto';
import type { CryptoKey, JWK } from 'jose';
import type { SigningAlgorithm } from '../config';
import type { Database, Sql } from '../store/database';
import { type SigningKeyRecord, signingKeyStore } from '../store/signing-keys';
import { type ApiError, conflict } from './errors';
import { newId } from './ids';
import { jose } from './jose';
import type { KeyEncryption } from './key-encryption';

export type KeyStatus = 'pending' | 'active' | 'retired';

/** Verifiers' clocks may run a little ahead or behind; keys stay published this much longer. */
const CLOCK_SKEW_MS = 60_000;
const RELOAD_INTERVAL_MS = 10_000;
/** An unknown kid triggers at most one reload per second. */
const UNKNOWN_KID_RELOAD_MS = 1_000;
/** The JWK Set's `maxItems` in the spec: verifiers may refuse a longer set. */
export const MAX_PUBLISHED_KEYS = 20;

export function keyStatus(key: Pick<SigningKeyRecord, 'activatesAt' | 'retiredAt'>, now: Date = new Date()): KeyStatus {
  if (key.activatesAt.getTime() > now.getTime()) return 'pending';
  if (key.retiredAt !== null && key.retiredAt.getTime() <= now.getTime()) return 'retired';
  return 'active';
}

/** Retired keys stay published until their last token expires; until then no more fit. */
function tooManyKeys(published: SigningKeyRecord[]): ApiError {
  const until = published.map((k) => k.publishedUntil?.getTime() ?? Infinity).reduce((a, b) => Math.min(a, b), Infinity);
  const when = until === Infinity ? 'once a rotation retires one' : `after ${new Date(until).toISOString()}, when the oldest retired key is withdrawn`;
  return conflict('TOO_MANY_SIGNING_KEYS', `${published.length} signing keys are published, the most a JWK Set may hold (${MAX_PUBLISHED_KEYS}). Rotate again ${when}.`);
}

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  /** A node:crypto key: signing through it costs a third of WebCrypto's. */
  privateKey: KeyObject;
}

export interface KeySettings {
  algorithm: SigningAlgorithm;
  accessTokenTtlSeconds: number;
  activationDelaySeconds: number;
}

/**
 * The token-signing keys. Which key signs follows from the keys' times alone, and a new
 * key is published `activationDelaySeconds` before it signs, so every instance (each
 * reloading every few seconds) and every verifier caching the JWK Set learns it first.
 */
export class SigningKeys {
  private keys: SigningKeyRecord[] = [];
  private publishedAlgorithms: SigningAlgorithm[] = [];
  private readonly privateKeys = new Map<string, KeyObject>();
  private readonly publicKeys = new Map<string, Promise<CryptoKey>>();
  private loadedAt = 0;
  private lastUnknownKidReload = 0;

  constructor(
    private readonly db: Database,
    private readonly encryption: KeyEncryption,
    private readonly settings: KeySettings,
  ) {}

  /** Creates the first key when there is none (first start, under the schema lock). */
  async ensureOne(): Promise<void> {
    await this.reload();
    if (this.keys.length > 0) return;
    await this.db.ownerTransaction((sql) => this.create(sql, new Date()));
    await this.reload();
  }

  /** Publishes a new key now, signing from `now + activationDelay`; earlier keys retire then. */
  async rotate(sql: Sql): Promise<SigningKeyRecord> {
    await signingKeyStore.lockForRotation(sql);
    const published = await signingKeyStore.published(sql);
    if (published.length >= MAX_PUBLISHED_KEYS) throw tooManyKeys(published);
    const activatesAt = new Date(Date.now() + this.settings.activationDelaySeconds * 1000);
    const publishedUntil = new Date(activatesAt.getTime() + this.settings.accessTokenTtlSeconds * 1000 + CLOCK_SKEW_MS);
    await signingKeyStore.retireAllAt(sql, activatesAt, publishedUntil);
    return this.create(sql, activatesAt);
  }

  /** The key that signs now. */
  async current(): Promise<SigningKey> {
    await this.refreshIfStale();
    const now = new Date();
    const key = this.keys.find((k) => keyStatus(k, now) === 'active');
    if (key === undefined) throw new Error('No active signing key.');
    return { kid: key.kid, alg: key.alg, privateKey: this.privateKeyOf(key) };
  }

  /** The public key for a kid still published, or null (after one reload for a new kid). */
  async verificationKey(kid: string): Promise<{ key: CryptoKey; alg: SigningAlgorithm } | null> {
    await this.refreshIfStale();
    let record = this.keys.find((k) => k.kid === kid);
    if (record === undefined && Date.now() - this.lastUnknownKidReload > UNKNOWN_KID_RELOAD_MS) {
      this.lastUnknownKidReload = Date.now();
      await this.reload();
      record = this.keys.find((k) => k.kid === kid);
    }
    if (record === undefined) return null;
    let key = this.publicKeys.get(kid);
    if (key === undefined) {
      key = jose().then(({ importJWK }) => importJWK(record.publicJwk, record.alg) as Promise<CryptoKey>);
      this.publicKeys.set(kid, key);
    }
    return { key: await key, alg: record.alg };
  }

  /** Whether a kid is still published, as of the last reload (no reload here). */
  isPublished(kid: string): boolean {
    return this.keys.some((k) => k.kid === kid);
  }

  /** Every published key, newest first. */
  async published(): Promise<SigningKeyRecord[]> {
    await this.refreshIfStale();
    return this.keys;
  }

  /** The algorithms of the keys still published: the only ones a token may use. */
  algorithms(): SigningAlgorithm[] {
    return this.publishedAlgorithms;
  }

  async reload(): Promise<void> {
    this.keys = await this.db.tenantTransaction({ orgId: null, instanceAdmin: false, principalId: 'signing-keys' }, (sql) =>
      signingKeyStore.published(sql),
    );
    this.publishedAlgorithms = [...new Set(this.keys.map((k) => k.alg))];
    this.loadedAt = Date.now();
  }

  private async refreshIfStale(): Promise<void> {
    if (Date.now() - this.loadedAt > RELOAD_INTERVAL_MS) await this.reload();
  }

  private async create(sql: Sql, activatesAt: Date): Promise<SigningKeyRecord> {
    const { exportJWK, generateKeyPair } = await jose();
    const alg = this.settings.algorithm;
    const kid = newId('key');
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
    const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const privateJwk = JSON.stringify(await exportJWK(privateKey));
    return signingKeyStore.insert(sql, { kid, alg, publicJwk, privateKeyEncrypted: this.encryption.encrypt(privateJwk, kid), activatesAt });
  }

  private privateKeyOf(record: SigningKeyRecord): KeyObject {
    let key = this.privateKeys.get(record.kid);
    if (key === undefined) {
      const jwk = JSON.parse(this.encryption.decrypt(Buffer.from(record.privateKeyEncrypted), record.kid)) as JWK & { kty: string };
      key = createPrivateKey({ key: jwk, format: 'jwk' });
      this.privateKeys.set(record.kid, key);
    }
    return key;
  }
}
