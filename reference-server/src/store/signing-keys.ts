import type { JWK } from 'jose';
import type { Sql } from './database';

export interface SigningKeyRecord {
  kid: string;
  alg: 'ES256' | 'RS256' | 'EdDSA';
  publicJwk: JWK;
  privateKeyEncrypted: Buffer;
  createdAt: Date;
  activatesAt: Date;
  retiredAt: Date | null;
  publishedUntil: Date | null;
}

const COLUMNS = `kid, alg, public_jwk AS "publicJwk", private_key_encrypted AS "privateKeyEncrypted", created_at AS "createdAt",
  activates_at AS "activatesAt", retired_at AS "retiredAt", published_until AS "publishedUntil"`;

export const signingKeyStore = {
  /** Every key still published, newest first. */
  async published(sql: Sql): Promise<SigningKeyRecord[]> {
    return sql.query<SigningKeyRecord>(
      `SELECT ${COLUMNS} FROM signing_keys WHERE published_until IS NULL OR published_until > now() ORDER BY activates_at DESC, kid DESC`,
    );
  },

  /** Serializes rotations across instances for the rest of the transaction. */
  async lockForRotation(sql: Sql): Promise<void> {
    await sql.query('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE');
  },

  /** Retires every key not yet retired when the next key activates, keeping it published for its tokens' lifetime. */
  async retireAllAt(sql: Sql, retiredAt: Date, publishedUntil: Date): Promise<void> {
    await sql.query('UPDATE signing_keys SET retired_at = $1, published_until = $2 WHERE retired_at IS NULL', [retiredAt, publishedUntil]);
  },

  async insert(sql: Sql, key: Omit<SigningKeyRecord, 'createdAt' | 'retiredAt' | 'publishedUntil'>): Promise<SigningKeyRecord> {
    const [row] = await sql.query<SigningKeyRecord>(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_encrypted, activates_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [key.kid, key.alg, JSON.stringify(key.publicJwk), key.privateKeyEncrypted, key.activatesAt],
    );
    return row as SigningKeyRecord;
  },
};
