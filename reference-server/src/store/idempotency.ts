import type { Sql } from './database';

export interface StoredResponse {
  requestHash: string;
  status: number;
  body: unknown;
}

/** Keys are remembered for 24 hours, like the retry windows of the SDKs that send them. */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

export const idempotencyStore = {
  /**
   * Claims a key inside the request's transaction. A concurrent request with the same key
   * blocks on the primary key until this transaction ends, then sees its stored response;
   * if this transaction rolls back, the claim disappears with it.
   * Returns null when claimed, or the earlier response.
   */
  async claim(sql: Sql, principalId: string, key: string, requestHash: string): Promise<StoredResponse | null> {
    await sql.query(
      `DELETE FROM idempotency_keys WHERE principal_id = $1 AND idempotency_key = $2
         AND created_at < now() - make_interval(hours => ${IDEMPOTENCY_WINDOW_HOURS})`,
      [principalId, key],
    );
    const claimed = await sql.query(
      `INSERT INTO idempotency_keys (principal_id, idempotency_key, request_hash, response_status)
       VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING RETURNING 1`,
      [principalId, key, requestHash],
    );
    if (claimed.length === 1) return null;
    const [earlier] = await sql.query<StoredResponse>(
      `SELECT request_hash AS "requestHash", response_status AS status, response_body AS body
       FROM idempotency_keys WHERE principal_id = $1 AND idempotency_key = $2`,
      [principalId, key],
    );
    if (earlier === undefined) throw new Error('Idempotency key vanished between claim and read.');
    return earlier;
  },

  async complete(sql: Sql, principalId: string, key: string, status: number, body: unknown): Promise<void> {
    await sql.query(
      `UPDATE idempotency_keys SET response_status = $3, response_body = $4
       WHERE principal_id = $1 AND idempotency_key = $2`,
      [principalId, key, status, body === undefined ? null : JSON.stringify(body)],
    );
  },

  /** Forgets keys older than the window; run by the owner, across principals. */
  async prune(sql: Sql): Promise<number> {
    const rows = await sql.query(
      `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => ${IDEMPOTENCY_WINDOW_HOURS}) RETURNING 1`,
    );
    return rows.length;
  },
};
