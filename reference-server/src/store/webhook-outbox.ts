import type { Sql } from './database';
import type { AttemptRecord } from './webhooks';

/** A delivery a worker has claimed, with what it needs to send it. */
export interface ClaimedDelivery {
  id: string;
  orgId: string;
  webhookId: string;
  eventId: string;
  attemptCount: number;
  attemptsAllowed: number | null;
  url: string;
}

/** What one attempt decided for its delivery. */
export interface AttemptOutcome {
  delivery: ClaimedDelivery;
  attempt: AttemptRecord;
  /** `pending` with `next` set: try again then; otherwise done. */
  status: 'pending' | 'succeeded' | 'failed';
  next: Date | null;
  succeeded: boolean;
}

/** The last attempts kept on a delivery; older ones are dropped from its history. */
const ATTEMPTS_KEPT = 100;

/**
 * The delivery worker's queries. They run as the schema owner, across organizations: the
 * worker serves every tenant, and each statement names the rows it touches by id.
 */
export const webhookOutbox = {
  /**
   * Claims due deliveries for `leaseSeconds`. SKIP LOCKED lets several instances claim at
   * once without taking the same row; a claim that lapses (a crashed worker) is due again.
   * Deliveries of switched-off endpoints wait, except tests.
   */
  async claim(sql: Sql, limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
    // The due index in order, never a bitmap scan and a sort: the statistics of a queue are
    // always stale (analysed empty, read full), and a bitmap scan revisits every dead entry of
    // the deliveries sent since the last vacuum on each claim, where an ordered scan marks them
    // dead once and skips them after. Local to this transaction.
    await sql.query("SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)");
    // The locked rows are updated by their physical address (ctid): held locked by this
    // statement, they cannot move before the update, and a second lookup by key is saved.
    return sql.query<ClaimedDelivery>(
      `UPDATE webhook_deliveries d SET claimed_until = now() + make_interval(secs => $2)
       FROM (
         SELECT q.ctid AS row, qw.url FROM webhook_deliveries q JOIN webhooks qw ON qw.id = q.webhook_id
         WHERE q.status = 'pending' AND NOT q.paused AND q.next_attempt_at <= now()
           AND (q.claimed_until IS NULL OR q.claimed_until < now())
           AND (qw.enabled OR q.action = 'webhook.tested')
         ORDER BY q.next_attempt_at LIMIT $1
         FOR UPDATE OF q SKIP LOCKED) c
       WHERE d.ctid = c.row
       RETURNING d.id, d.org_id AS "orgId", d.webhook_id AS "webhookId", d.event_id AS "eventId",
         d.attempt_count AS "attemptCount", d.attempts_allowed AS "attemptsAllowed", c.url`,
      [limit, leaseSeconds],
    );
  },

  /** Each endpoint's sealed secrets: the current one, then the previous one inside its grace period. */
  async secrets(sql: Sql, webhookIds: string[]): Promise<Map<string, Buffer[]>> {
    const rows = await sql.query<{ id: string; secretSealed: Buffer; previousSecretSealed: Buffer | null }>(
      `SELECT id, secret_sealed AS "secretSealed",
              CASE WHEN previous_secret_until > now() THEN previous_secret_sealed END AS "previousSecretSealed"
       FROM webhooks WHERE id = ANY($1)`,
      [webhookIds],
    );
    return new Map(rows.map((row) => [row.id, row.previousSecretSealed === null ? [row.secretSealed] : [row.secretSealed, row.previousSecretSealed]]));
  },

  /** Records a batch of attempts in one statement, keeping each delivery's last attempts. */
  async recordMany(sql: Sql, outcomes: AttemptOutcome[]): Promise<void> {
    const rows = outcomes.map((o) => ({ webhook_id: o.delivery.webhookId, id: o.delivery.id, attempt: o.attempt, status: o.status, next: o.next?.toISOString() ?? null }));
    await sql.query(
      `UPDATE webhook_deliveries d SET
         attempt_count = d.attempt_count + 1,
         -- Appending is the common case; only a history already at its limit is trimmed.
         attempts = CASE WHEN jsonb_array_length(d.attempts) < $2 THEN d.attempts || jsonb_build_array(v.attempt)
                    ELSE (SELECT jsonb_agg(a ORDER BY n)
                          FROM jsonb_array_elements(d.attempts || jsonb_build_array(v.attempt)) WITH ORDINALITY AS t(a, n)
                          WHERE n > jsonb_array_length(d.attempts) + 1 - $2) END,
         status = v.status, next_attempt_at = v.next, claimed_until = NULL,
         -- A retry for an endpoint switched off meanwhile waits with its other deliveries.
         paused = v.status = 'pending' AND d.action <> 'webhook.tested' AND NOT coalesce((SELECT w.enabled FROM webhooks w WHERE w.id = d.webhook_id), true),
         delivered_at = CASE WHEN v.status = 'succeeded' THEN now() ELSE d.delivered_at END
       FROM jsonb_to_recordset($1::jsonb) AS v(webhook_id text, id text, attempt jsonb, status text, next timestamptz)
       WHERE d.webhook_id = v.webhook_id AND d.id = v.id`,
      [JSON.stringify(rows), ATTEMPTS_KEPT],
    );
  },

  /**
   * Tracks how long an endpoint has failed. Returns true when this failure switched it off
   * (it had failed for longer than `disableAfterMs`).
   */
  async endpointOutcome(sql: Sql, webhookId: string, succeeded: boolean, disableAfterMs: number): Promise<boolean> {
    if (succeeded) {
      await sql.query('UPDATE webhooks SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL', [webhookId]);
      return false;
    }
    // SET reads the row as it was; `before` keeps that, so RETURNING can tell a change.
    const [row] = await sql.query<{ disabled: boolean }>(
      `WITH before AS (SELECT enabled FROM webhooks WHERE id = $1 FOR NO KEY UPDATE)
       UPDATE webhooks w SET
         failing_since = coalesce(w.failing_since, now()),
         enabled = w.enabled AND NOT coalesce(w.failing_since < now() - make_interval(secs => $2), false),
         disabled_reason = CASE WHEN w.enabled AND w.failing_since < now() - make_interval(secs => $2) THEN 'failing' ELSE w.disabled_reason END,
         updated_at = now()
       FROM before WHERE w.id = $1
       RETURNING (before.enabled AND NOT w.enabled) AS disabled`,
      [webhookId, disableAfterMs / 1000],
    );
    return row?.disabled ?? false;
  },

  /**
   * Deliveries of deleted webhooks: a delete that raced the outbox trigger can leave a few,
   * all pending (so the partial index on pending rows finds them).
   */
  async pruneOrphans(sql: Sql): Promise<void> {
    await sql.query(`DELETE FROM webhook_deliveries d WHERE d.status = 'pending' AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id)`);
  },

  /** Pending deliveries, and the age of the oldest, for the metrics. */
  async queue(sql: Sql): Promise<{ depth: number; oldestSeconds: number }> {
    const [row] = await sql.query<{ depth: number; oldestSeconds: number | null }>(
      `SELECT count(*)::int AS depth, extract(epoch FROM now() - min(created_at))::float8 AS "oldestSeconds"
       FROM webhook_deliveries WHERE status = 'pending'`,
    );
    return { depth: row?.depth ?? 0, oldestSeconds: row?.oldestSeconds ?? 0 };
  },
};
