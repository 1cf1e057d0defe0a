import type { Command } from 'commander';
import type { ListWebhookDeliveriesParamsStatus, Webhook, WebhookDelivery, WebhookUpdate } from '@mandate/sdk';
import type { Context } from '../context.js';
import type { Column } from '../io/output.js';
import { collectItems, confirmAction, defined, limitOption, choice, orNull, pageSize, positiveInt, run, splitList, yesOption } from './common.js';

const DELIVERY_STATUSES: readonly ListWebhookDeliveriesParamsStatus[] = ['pending', 'succeeded', 'failed'];

const webhookColumns: Column<Webhook>[] = [
  { header: 'ID', value: (w) => w.id },
  { header: 'URL', value: (w) => w.url },
  { header: 'EVENTS', value: (w) => w.events },
  { header: 'ENABLED', value: (w) => String(w.enabled), status: true },
  { header: 'FAILING SINCE', value: (w) => w.failingSince },
  { header: 'DESCRIPTION', value: (w) => w.description },
];

const deliveryColumns: Column<WebhookDelivery>[] = [
  { header: 'ID', value: (d) => d.id },
  { header: 'ACTION', value: (d) => d.action },
  { header: 'STATUS', value: (d) => d.status, status: true },
  { header: 'ATTEMPTS', value: (d) => d.attemptCount },
  { header: 'CREATED', value: (d) => d.createdAt },
  { header: 'DELIVERED', value: (d) => d.deliveredAt },
  { header: 'NEXT ATTEMPT', value: (d) => d.nextAttemptAt },
];

/** A response that carries a new signing secret: shown once, with a reminder at a terminal. */
function showWithSecret(ctx: Context, webhook: object & { secret?: string }): void {
  if (webhook.secret !== undefined && ctx.out.format === 'table') ctx.out.warn('The signing secret is shown only now: give it to the receiver.');
  ctx.out.object(webhook, ['enabled', 'status']);
}

interface WebhookFields {
  url?: string;
  events?: string;
  description?: string;
  enabled?: boolean;
}

export function registerWebhooks(program: Command): void {
  const webhooks = program.command('webhooks').description('endpoints that receive audit events, signed; and their deliveries');

  webhooks
    .command('list')
    .description('list webhook endpoints (without secrets)')
    .option(...limitOption, positiveInt('--limit'))
    .action(run<{ limit?: number }>(async (ctx, opts) => {
      ctx.out.list(await collectItems(ctx.client().webhooks.list({ limit: pageSize(opts.limit) }), opts.limit), webhookColumns);
    }));

  webhooks
    .command('get')
    .description('show a webhook endpoint and its state')
    .argument('<webhookId>', 'webhook id (whk_…)')
    .action(run(async (ctx, _opts, [webhookId = '']) => {
      ctx.out.object(await ctx.client().webhooks.get(webhookId), ['enabled']);
    }));

  webhooks
    .command('create')
    .description('register an endpoint; its signing secret is printed this once')
    .requiredOption('--url <url>', 'the HTTPS endpoint')
    .option('--events <patterns>', 'event patterns, comma-separated (agent.*, credential.rotated; default all)')
    .option('--description <text>', 'what it is for')
    .option('--disabled', 'register it switched off')
    .action(run<WebhookFields & { url: string; disabled?: boolean }>(async (ctx, opts) => {
      const created = await ctx.client().webhooks.create({
        url: opts.url,
        ...defined({ events: opts.events === undefined ? undefined : splitList(opts.events), description: opts.description, enabled: opts.disabled === true ? false : undefined }),
      });
      showWithSecret(ctx, created);
    }));

  webhooks
    .command('update')
    .description('change an endpoint: only the fields given')
    .argument('<webhookId>', 'webhook id')
    .option('--url <url>', 'the HTTPS endpoint')
    .option('--events <patterns>', 'event patterns, comma-separated (replaces the old)')
    .option('--description <text>', 'what it is for ("" clears it)')
    .option('--enable', 'switch it on')
    .option('--disable', 'switch it off')
    .action(run<WebhookFields & { enable?: boolean; disable?: boolean }>(async (ctx, opts, [webhookId = '']) => {
      const body: WebhookUpdate = defined({
        url: opts.url,
        events: opts.events === undefined ? undefined : splitList(opts.events),
        description: opts.description === undefined ? undefined : orNull(opts.description),
        enabled: opts.enable === true ? true : opts.disable === true ? false : undefined,
      });
      showWithSecret(ctx, await ctx.client().webhooks.update(webhookId, body));
    }));

  webhooks
    .command('rotate-secret')
    .description('new signing secret, printed this once; the previous one keeps signing for 24 hours')
    .argument('<webhookId>', 'webhook id')
    .action(run(async (ctx, _opts, [webhookId = '']) => {
      showWithSecret(ctx, await ctx.client().webhooks.update(webhookId, { rotateSecret: true }));
    }));

  webhooks
    .command('delete')
    .description('delete an endpoint, its pending deliveries and its history')
    .argument('<webhookId>', 'webhook id')
    .option(...yesOption)
    .action(run<{ yes?: boolean }>(async (ctx, opts, [webhookId = '']) => {
      await confirmAction(ctx, `Delete webhook ${webhookId}`, opts.yes);
      await ctx.client().webhooks.delete(webhookId);
      ctx.out.success(`Deleted webhook ${webhookId}.`);
    }));

  webhooks
    .command('test')
    .description('send a webhook.tested event to this endpoint alone; prints the queued delivery')
    .argument('<webhookId>', 'webhook id')
    .action(run(async (ctx, _opts, [webhookId = '']) => {
      ctx.out.object(await ctx.client().webhooks.test(webhookId));
    }));

  const deliveries = webhooks.command('deliveries').description("an endpoint's deliveries and their attempts");
  deliveries
    .command('list')
    .description("list an endpoint's deliveries, newest first")
    .argument('<webhookId>', 'webhook id')
    .addOption(choice('--status <status>', DELIVERY_STATUSES.join(', '), DELIVERY_STATUSES))
    .option(...limitOption, positiveInt('--limit'))
    .action(run<{ status?: ListWebhookDeliveriesParamsStatus; limit?: number }>(async (ctx, opts, [webhookId = '']) => {
      const params = defined({ status: opts.status, limit: pageSize(opts.limit) });
      ctx.out.list(await collectItems(ctx.client().webhooks.listDeliveries(webhookId, params), opts.limit), deliveryColumns);
    }));
  deliveries
    .command('retry')
    .description('send a delivery again now (same webhook-id)')
    .argument('<webhookId>', 'webhook id')
    .argument('<deliveryId>', 'delivery id')
    .action(run(async (ctx, _opts, [webhookId = '', deliveryId = '']) => {
      ctx.out.object(await ctx.client().webhooks.retryDelivery(webhookId, deliveryId));
    }));
}
