import { createHmac } from 'node:crypto';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import type { ServerSecrets } from '../secrets';

/**
 * A snapshot of the embedded store: PGlite's tar of its data directory, with a manifest
 * that names the secrets it needs. It holds what the database holds - hashed client secrets
 * and sealed private keys - and never the pepper or the key-encryption key themselves, only
 * their fingerprints, so a restore can say which key it needs before it touches anything.
 */
export interface SnapshotManifest {
  format: typeof FORMAT;
  version: 1;
  createdAt: string;
  /** Fingerprints (a keyed hash of a fixed text, not the key) of the secrets the data needs. */
  fingerprints: { keyEncryptionKey: string; pepper: string };
}

const FORMAT = 'mandate-embedded-snapshot';
const MANIFEST_ENTRY = 'manifest.json';
const DATA_ENTRY = 'pgdata.tar.gz';

/** A file that is not a snapshot, or a restore that would not work; the message says why. */
export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

export function fingerprint(secret: Buffer | string): string {
  return createHmac('sha256', secret).update('mandate snapshot fingerprint v1').digest('hex').slice(0, 16);
}

/** The snapshot file: a zip of the manifest and the (already gzipped) data, stored as is. */
export function packSnapshot(data: Uint8Array, secrets: ServerSecrets, now: Date = new Date()): Uint8Array {
  const manifest: SnapshotManifest = {
    format: FORMAT,
    version: 1,
    createdAt: now.toISOString(),
    fingerprints: { keyEncryptionKey: fingerprint(secrets.keyEncryptionKey), pepper: fingerprint(secrets.pepper) },
  };
  return zipSync({ [MANIFEST_ENTRY]: [strToU8(JSON.stringify(manifest, null, 2)), { level: 6 }], [DATA_ENTRY]: [data, { level: 0 }] });
}

export function readSnapshot(file: Uint8Array, name: string): { manifest: SnapshotManifest; data: Uint8Array } {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(file);
  } catch {
    throw new SnapshotError(`${name} is not a Mandate snapshot (not a zip file).`);
  }
  const manifestBytes = entries[MANIFEST_ENTRY];
  const data = entries[DATA_ENTRY];
  let manifest: Partial<SnapshotManifest> = {};
  try {
    manifest = manifestBytes === undefined ? {} : (JSON.parse(strFromU8(manifestBytes)) as Partial<SnapshotManifest>);
  } catch {
    // reported below
  }
  if (manifest.format !== FORMAT || data === undefined || typeof manifest.fingerprints?.keyEncryptionKey !== 'string' || typeof manifest.fingerprints.pepper !== 'string') {
    throw new SnapshotError(`${name} is not a Mandate snapshot (no manifest of format ${FORMAT}).`);
  }
  if (manifest.version !== 1) throw new SnapshotError(`${name} is a snapshot of version ${String(manifest.version)}, which this server does not read; restore it with the Mandate version that made it.`);
  return { manifest: manifest as SnapshotManifest, data };
}

const HOW_TO_GIVE = {
  keyEncryptionKey: (dataDir: string) => `set MANDATE_KEY_ENCRYPTION_KEY (or _FILE) to it, or copy the file key-encryption-key of the original data directory into ${dataDir}`,
  pepper: (dataDir: string) => `set MANDATE_SECRET_PEPPER (or _FILE) to it, or copy the file secret-pepper of the original data directory into ${dataDir}`,
};
const LABEL = { keyEncryptionKey: 'key-encryption key', pepper: 'secret pepper' };

/**
 * Refuses a restore whose data this server could not use: sealed keys need the same
 * key-encryption key, hashed secrets the same pepper. Checked before anything is written.
 */
export function requireSameSecrets(manifest: SnapshotManifest, present: { pepper: string | null; keyEncryptionKey: Buffer | null }, dataDir: string): void {
  const problems: string[] = [];
  for (const name of ['keyEncryptionKey', 'pepper'] as const) {
    const needed = manifest.fingerprints[name];
    const secret = present[name];
    if (secret === null) {
      problems.push(`The snapshot needs the ${LABEL[name]} it was taken with (fingerprint ${needed}), and none is configured: ${HOW_TO_GIVE[name](dataDir)}.`);
    } else if (fingerprint(secret) !== needed) {
      problems.push(`The snapshot needs the ${LABEL[name]} with fingerprint ${needed}; the one configured has fingerprint ${fingerprint(secret)}. ${HOW_TO_GIVE[name](dataDir).replace(/^./, (c) => c.toUpperCase())}.`);
    }
  }
  if (problems.length > 0) throw new SnapshotError(`${problems.join('\n')}\nNothing was restored.`);
}
