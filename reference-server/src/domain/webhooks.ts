import type { Sql } from '../store/database';
import { type DeliveryRecord, type WebhookChanges, type WebhookRecord, webhookStore } from '../store/webhooks';
import { badRequest, conflict, fail, notFound } from './errors';
import { newId } from './ids';

/** How long the secret a rotation replaces keeps signing beside the new one. */
export const ROTATION_GRACE_MS = 24 * 3600 * 1000;

/** What the webhook rules need from the rest of the server. */
export interface WebhookPolicy {
  /** A new `whsec_…` secret. */
  newSecret(): string;
  /** Encrypts a secret at rest, bound to its webhook. */
  seal(secret: string, webhookId: string): Buffer;
  /** Why this URL may not receive deliveries, or null. */
  checkUrl(url: string): string | null;
  /** Attempts a delivery makes before it is dead-lettered. */
  maxAttempts: number;
}

export interface WebhookInput extends WebhookChanges {
  rotateSecret?: true;
}

const missing = (id: string) => notFound('WEBHOOK_NOT_FOUND', `No webhook ${id} in this organization.`);

function requireAllowedUrl(policy: WebhookPolicy, url: string | undefined): void {
  if (url === undefined) return;
  const problem = policy.checkUrl(url);
  if (problem !== null) throw badRequest('WEBHOOK_URL_NOT_ALLOWED', problem);
}

export const webhookService = {
  async create(sql: Sql, orgId: string, input: WebhookChanges & { url: string }, policy: WebhookPolicy): Promise<{ webhook: WebhookRecord; secret: string }> {
    requireAllowedUrl(policy, input.url);
    const id = newId('whk');
    const secret = policy.newSecret();
    const webhook = await webhookStore.insert(sql, {
      id,
      orgId,
      url: input.url,
      events: input.events ?? [],
      enabled: input.enabled ?? true,
      description: input.description ?? null,
      secretSealed: policy.seal(secret, id),
    });
    return { webhook, secret };
  },

  async get(sql: Sql, orgId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<WebhookRecord> {
    return (await webhookStore.find(sql, orgId, id, options)) ?? fail(missing(id));
  },

  /** Applies the changes; returns the new secret when the input asked for a rotation. */
  async update(sql: Sql, orgId: string, id: string, input: WebhookInput, policy: WebhookPolicy): Promise<{ webhook: WebhookRecord; secret: string | null }> {
    const before = await webhookService.get(sql, orgId, id, { forUpdate: true });
    requireAllowedUrl(policy, input.url);
    const { rotateSecret, ...changes } = input;
    let webhook = await webhookStore.update(sql, orgId, id, changes);
    if (webhook.enabled !== before.enabled) await webhookStore.pauseDeliveries(sql, orgId, id, !webhook.enabled);
    if (rotateSecret !== true) return { webhook, secret: null };
    const secret = policy.newSecret();
    webhook = await webhookStore.rotateSecret(sql, orgId, id, policy.seal(secret, id), new Date(Date.now() + ROTATION_GRACE_MS));
    return { webhook, secret };
  },

  async delete(sql: Sql, orgId: string, id: string): Promise<void> {
    await webhookService.get(sql, orgId, id, { forUpdate: true });
    await webhookStore.delete(sql, orgId, id);
  },

  /** One more round of attempts for a delivery that is not already waiting for one. */
  async retry(sql: Sql, orgId: string, webhookId: string, deliveryId: string, policy: WebhookPolicy): Promise<DeliveryRecord> {
    await webhookService.get(sql, orgId, webhookId);
    const delivery =
      (await webhookStore.delivery(sql, orgId, webhookId, deliveryId, { forUpdate: true })) ??
      fail(notFound('DELIVERY_NOT_FOUND', `No delivery ${deliveryId} of webhook ${webhookId}.`));
    if (delivery.status === 'pending') throw conflict('DELIVERY_PENDING', `Delivery ${deliveryId} is already waiting for its next attempt.`);
    return webhookStore.requeue(sql, webhookId, deliveryId, delivery.attemptCount + policy.maxAttempts);
  },
};
