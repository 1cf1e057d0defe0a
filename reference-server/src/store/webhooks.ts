import type { Sql } from './database';
import { Conditions } from './conditions';
import { type PageRequest, pageParams, toPage } from './page';

export interface WebhookRecord {
  id: string;
  orgId: string;
  url: string;
  events: string[];
  enabled: boolean;
  description: string | null;
  disabledReason: 'failing' | null;
  failingSince: Date | null;
  secretRotatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface AttemptRecord {
  at: string;
  status: number | null;
  latencyMs: number;
  error: string | null;
  responseBody: string | null;
}

export interface DeliveryRecord {
  id: string;
  orgId: string;
  webhookId: string;
  eventId: string;
  action: string;
  status: 'pending' | 'succeeded' | 'failed';
  attemptCount: number;
  attemptsAllowed: number | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  deliveredAt: Date | null;
  attempts: AttemptRecord[];
}

const COLUMNS = `id, org_id AS "orgId", url, events, enabled, description, disabled_reason AS "disabledReason",
  failing_since AS "failingSince", secret_rotated_at AS "secretRotatedAt", created_at AS "createdAt", updated_at AS "updatedAt"`;

const DELIVERY_COLUMNS = `id, org_id AS "orgId", webhook_id AS "webhookId", event_id AS "eventId", action, status,
  attempt_count AS "attemptCount", attempts_allowed AS "attemptsAllowed", next_attempt_at AS "nextAttemptAt",
  created_at AS "createdAt", delivered_at AS "deliveredAt", attempts`;

/** The fields a caller may change; each given one is set (null clears `description`). */
export interface WebhookChanges {
  url?: string;
  events?: string[];
  enabled?: boolean;
  description?: string | null;
}

export const webhookStore = {
  async insert(
    sql: Sql,
    webhook: { id: string; orgId: string; url: string; events: string[]; enabled: boolean; description: string | null; secretSealed: Buffer },
  ): Promise<WebhookRecord> {
    const [row] = await sql.query<WebhookRecord>(
      `INSERT INTO webhooks (id, org_id, url, events, enabled, description, secret_sealed)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [webhook.id, webhook.orgId, webhook.url, webhook.events, webhook.enabled, webhook.description, webhook.secretSealed],
    );
    return row as WebhookRecord;
  },

  async find(sql: Sql, orgId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<WebhookRecord | null> {
    const [row] = await sql.query<WebhookRecord>(
      `SELECT ${COLUMNS} FROM webhooks WHERE org_id = $1 AND id = $2${options.forUpdate === true ? ' FOR NO KEY UPDATE' : ''}`,
      [orgId, id],
    );
    return row ?? null;
  },

  async list(sql: Sql, orgId: string, page: PageRequest): Promise<{ items: WebhookRecord[]; lastId: string | null }> {
    const { after, fetch } = pageParams(page);
    const rows = await sql.query<WebhookRecord>(`SELECT ${COLUMNS} FROM webhooks WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`, [orgId, after, fetch]);
    return toPage(rows, page);
  },

  async update(sql: Sql, orgId: string, id: string, changes: WebhookChanges): Promise<WebhookRecord> {
    const sets = new Conditions();
    const assignments: string[] = ['updated_at = now()'];
    if (changes.url !== undefined) assignments.push(`url = ${sets.param(changes.url)}`);
    if (changes.events !== undefined) assignments.push(`events = ${sets.param(changes.events)}`);
    if (changes.description !== undefined) assignments.push(`description = ${sets.param(changes.description)}`);
    if (changes.enabled !== undefined) {
      assignments.push(`enabled = ${sets.param(changes.enabled)}`);
      // Switching an endpoint back on forgets why it was off.
      if (changes.enabled) assignments.push('disabled_reason = NULL', 'failing_since = NULL');
    }
    const [row] = await sql.query<WebhookRecord>(
      `UPDATE webhooks SET ${assignments.join(', ')} WHERE org_id = ${sets.param(orgId)} AND id = ${sets.param(id)} RETURNING ${COLUMNS}`,
      sets.params,
    );
    return row as WebhookRecord;
  },

  /** The new secret signs from now on; the one it replaces keeps signing until `graceUntil`. */
  async rotateSecret(sql: Sql, orgId: string, id: string, secretSealed: Buffer, graceUntil: Date): Promise<WebhookRecord> {
    const [row] = await sql.query<WebhookRecord>(
      `UPDATE webhooks SET previous_secret_sealed = secret_sealed, previous_secret_until = $3, secret_sealed = $4,
         secret_rotated_at = now(), updated_at = now()
       WHERE org_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [orgId, id, graceUntil, secretSealed],
    );
    return row as WebhookRecord;
  },

  /**
   * Pauses the pending deliveries of an endpoint being switched off, or resumes them when it
   * is switched on again (migration 0017). Tests are never paused.
   */
  async pauseDeliveries(sql: Sql, orgId: string, id: string, paused: boolean): Promise<void> {
    await sql.query(
      `UPDATE webhook_deliveries SET paused = $3
       WHERE org_id = $1 AND webhook_id = $2 AND status = 'pending' AND paused <> $3 AND action <> 'webhook.tested'`,
      [orgId, id, paused],
    );
  },

  /** The webhook and its deliveries (no foreign key cascades: see migration 0006). */
  async delete(sql: Sql, orgId: string, id: string): Promise<void> {
    await sql.query('DELETE FROM webhook_deliveries WHERE org_id = $1 AND webhook_id = $2', [orgId, id]);
    await sql.query('DELETE FROM webhooks WHERE org_id = $1 AND id = $2', [orgId, id]);
  },

  /** Newest first: the cursor is the last id of the previous page. */
  async deliveries(sql: Sql, orgId: string, webhookId: string, status: string | undefined, page: PageRequest): Promise<{ items: DeliveryRecord[]; lastId: string | null }> {
    const where = new Conditions().add('org_id = ?', orgId).add('webhook_id = ?', webhookId).addIf('status = ?', status).addIf('id < ?', page.afterId ?? undefined);
    const rows = await sql.query<DeliveryRecord>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE ${where.sql()} ORDER BY id DESC LIMIT ${where.param(pageParams(page).fetch)}`,
      where.params,
    );
    return toPage(rows, page);
  },

  async delivery(sql: Sql, orgId: string, webhookId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<DeliveryRecord | null> {
    const [row] = await sql.query<DeliveryRecord>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = $1 AND webhook_id = $2 AND id = $3${options.forUpdate === true ? ' FOR NO KEY UPDATE' : ''}`,
      [orgId, webhookId, id],
    );
    return row ?? null;
  },

  async deliveryForEvent(sql: Sql, orgId: string, webhookId: string, eventId: string): Promise<DeliveryRecord | null> {
    const [row] = await sql.query<DeliveryRecord>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = $1 AND webhook_id = $2 AND event_id = $3`,
      [orgId, webhookId, eventId],
    );
    return row ?? null;
  },

  /** Queues a delivery to be tried now, until it has made `attemptsAllowed` attempts in all. */
  async requeue(sql: Sql, webhookId: string, id: string, attemptsAllowed: number): Promise<DeliveryRecord> {
    const [row] = await sql.query<DeliveryRecord>(
      `UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = now(), attempts_allowed = $3, claimed_until = NULL,
         paused = d.action <> 'webhook.tested' AND NOT coalesce((SELECT w.enabled FROM webhooks w WHERE w.id = d.webhook_id), true)
       WHERE d.webhook_id = $1 AND d.id = $2 RETURNING ${DELIVERY_COLUMNS}`,
      [webhookId, id, attemptsAllowed],
    );
    return row as DeliveryRecord;
  },
};
