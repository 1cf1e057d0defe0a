import { type WebhookInput, type WebhookPolicy, webhookService } from '../../domain/webhooks';
import { webhookStore } from '../../store/webhooks';
import { type Call, type Handler, orgOf, pageOf, pageReply } from '../handler';
import { deliveryJson, webhookJson } from '../representations';

const target = (id: string) => ({ type: 'webhook', id });
const webhookIdOf = (call: Call): string => String(call.path.webhookId);

/** The Webhooks tag: endpoints, their deliveries, tests and retries. */
export function webhookHandlers(policy: WebhookPolicy): Record<string, Handler> {
  return {
    async createWebhook(call) {
      const input = call.body as WebhookInput & { url: string };
      const { webhook, secret } = await webhookService.create(call.sql, orgOf(call), input, policy);
      return {
        status: 201,
        body: { ...webhookJson(webhook), secret },
        audit: [{ action: 'webhook.created', target: target(webhook.id), metadata: { url: webhook.url, events: webhook.events } }],
      };
    },
    async listWebhooks(call) {
      return pageReply(await webhookStore.list(call.sql, orgOf(call), pageOf(call, 'whk')), webhookJson);
    },
    async getWebhook(call) {
      return { status: 200, body: webhookJson(await webhookService.get(call.sql, orgOf(call), webhookIdOf(call))) };
    },
    async updateWebhook(call) {
      const input = call.body as WebhookInput;
      const { webhook, secret } = await webhookService.update(call.sql, orgOf(call), webhookIdOf(call), input, policy);
      const fields = Object.keys(input).filter((field) => field !== 'rotateSecret');
      return {
        status: 200,
        body: secret === null ? webhookJson(webhook) : { ...webhookJson(webhook), secret },
        audit: [
          ...(fields.length > 0 ? [{ action: 'webhook.updated', target: target(webhook.id), metadata: { fields } }] : []),
          ...(secret === null ? [] : [{ action: 'webhook.secret_rotated', target: target(webhook.id) }]),
        ],
      };
    },
    async deleteWebhook(call) {
      const id = webhookIdOf(call);
      await webhookService.delete(call.sql, orgOf(call), id);
      return { status: 204, audit: [{ action: 'webhook.deleted', target: target(id) }] };
    },
    async listWebhookDeliveries(call) {
      const orgId = orgOf(call);
      const id = webhookIdOf(call);
      await webhookService.get(call.sql, orgId, id);
      return pageReply(await webhookStore.deliveries(call.sql, orgId, id, call.query.status as string | undefined, pageOf(call, 'whd')), deliveryJson);
    },
    async testWebhook(call) {
      const orgId = orgOf(call);
      const id = webhookIdOf(call);
      await webhookService.get(call.sql, orgId, id);
      return {
        status: 202,
        audit: [{ action: 'webhook.tested', target: target(id) }],
        // The outbox trigger queued the delivery with the event: answer with it.
        bodyAfterAudit: async (events) => {
          const tested = events.find((event) => event.action === 'webhook.tested');
          const delivery = tested === undefined ? null : await webhookStore.deliveryForEvent(call.sql, orgId, id, tested.id);
          if (delivery === null) throw new Error('The webhook.tested event queued no delivery.');
          return deliveryJson(delivery);
        },
      };
    },
    async retryWebhookDelivery(call) {
      const delivery = await webhookService.retry(call.sql, orgOf(call), webhookIdOf(call), String(call.path.deliveryId), policy);
      return { status: 202, body: deliveryJson(delivery), audit: [{ action: 'webhook.delivery_retried', target: target(delivery.webhookId), metadata: { deliveryId: delivery.id } }] };
    },
  };
}
