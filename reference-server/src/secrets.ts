import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config';

/** The two secrets that protect what the database holds: hashed client secrets, sealed private keys. */
export interface ServerSecrets {
  /** Keys the hashes of client secrets and admin tokens. */
  pepper: string;
  /** Seals signing keys and webhook secrets at rest. */
  keyEncryptionKey: Buffer;
}

const PEPPER_FILE = 'secret-pepper';
const KEY_ENCRYPTION_KEY_FILE = 'key-encryption-key';

/** The names of the embedded store's secret files, which live beside (never inside) its data. */
export const EMBEDDED_SECRET_FILES = [PEPPER_FILE, KEY_ENCRYPTION_KEY_FILE] as const;

function readSecretFile(dataDir: string, name: string): string | null {
  const file = path.join(dataDir, name);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
}

/**
 * On the embedded store, the pepper and the key-encryption key are generated once and kept
 * beside the data (mode 0600). With PostgreSQL the operator must provide them, so the
 * database and the keys that protect it live apart.
 */
function embeddedSecret(dataDir: string, name: string): string {
  const existing = readSecretFile(dataDir, name);
  if (existing !== null) return existing;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(path.join(dataDir, name), secret, { mode: 0o600, flag: 'wx' });
  return secret;
}

/** The server's secrets: the operator's, or the embedded store's own (made at first start). */
export function serverSecrets(config: Config): ServerSecrets {
  return {
    pepper: config.secretPepper ?? embeddedSecret(config.dataDir, PEPPER_FILE),
    keyEncryptionKey: config.keyEncryptionKey ?? Buffer.from(embeddedSecret(config.dataDir, KEY_ENCRYPTION_KEY_FILE), 'base64url'),
  };
}

/** The secrets as configured or already on disk, making none: null for each one that is not there. */
export function existingSecrets(config: Config): { pepper: string | null; keyEncryptionKey: Buffer | null } {
  const kek = readSecretFile(config.dataDir, KEY_ENCRYPTION_KEY_FILE);
  return {
    pepper: config.secretPepper ?? readSecretFile(config.dataDir, PEPPER_FILE),
    keyEncryptionKey: config.keyEncryptionKey ?? (kek === null ? null : Buffer.from(kek, 'base64url')),
  };
}
