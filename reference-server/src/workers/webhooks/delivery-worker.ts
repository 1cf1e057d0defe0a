import type { Config } from '../../config';
import { type AuditEntry, systemEvent } from '../../domain/audit';
import type { KeyEncryption } from '../../domain/key-encryption';
import { auditJson } from '../../http/representations';
import type { Logger } from '../../observability/logger';
import type { Database } from '../../store/database';
import { type AuditRecord, auditStore } from '../../store/audit';
import { type AttemptOutcome, type ClaimedDelivery, webhookOutbox } from '../../store/webhook-outbox';
import { webhookStore } from '../../store/webhooks';
import { type AttemptResult, classify, sendWebhook } from './sender';
import { signatureHeaders } from './signing';
import type { AllowList } from '../../net/ssrf';

/** What the worker reports; the server's Prometheus metrics, or a thread's messages to them. */
export interface DeliveryMetrics {
  attempted(outcome: 'succeeded' | 'retry' | 'failed' | 'dead', seconds: number): void;
}

export interface DeliverySettings {
  allow: AllowList;
  /** Attempts before a delivery is dead-lettered (unless a manual retry allowed more). */
  maxAttempts: number;
  /** The wait after the first failed attempt; each later one is four times longer. */
  retryBaseMs: number;
  /** An endpoint that has failed for this long is switched off. */
  disableAfterMs: number;
  timeoutMs: number;
}

/** The worker's settings, from the server's configuration. */
export function deliverySettings(config: Config): DeliverySettings {
  return {
    allow: config.webhookAllowList,
    maxAttempts: config.webhookMaxAttempts,
    retryBaseMs: config.webhookRetryBaseMs,
    disableAfterMs: config.webhookDisableAfterHours * 3_600_000,
    timeoutMs: config.webhookTimeoutMs,
  };
}

/**
 * Deliveries claimed, sent and recorded together. Each batch costs a few statements whatever
 * its size, and every attempt's timeout runs from the batch's start (queueing for a socket
 * included), so a batch ends within the timeout and its claims cannot lapse.
 */
const BATCH = 500;
const IDLE_POLL_MS = 1000;
const MAX_RETRY_DELAY_MS = 12 * 3600 * 1000;
const MAX_RESPONSE_BYTES = 1024;

/** The wait before attempt `attempt + 1`, with up to 25 % jitter; a later Retry-After wins. */
export function retryDelayMs(attempt: number, baseMs: number, retryAfterMs: number | null, random = Math.random): number {
  const computed = Math.min(baseMs * 4 ** (attempt - 1), MAX_RETRY_DELAY_MS) * (1 - 0.25 * random());
  return Math.round(Math.max(computed, Math.min(retryAfterMs ?? 0, MAX_RETRY_DELAY_MS)));
}

/**
 * Sends the outbox: claims due deliveries, signs and POSTs each one, records the attempt,
 * and schedules the next or gives up. At least once: a worker that dies mid-delivery leaves
 * a claim that lapses, and the delivery is sent again with the same webhook-id.
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private again = false;
  /** The earliest retry this worker scheduled in the current round, to wake for it. */
  private soonest = Number.POSITIVE_INFINITY;

  constructor(
    private readonly db: Database,
    private readonly keys: KeyEncryption,
    private readonly settings: DeliverySettings,
    private readonly audit: (entry: AuditEntry) => Promise<void>,
    private readonly metrics: DeliveryMetrics,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** Something may be due now (a commit queued deliveries): look without waiting for the poll. */
  poke(): void {
    if (this.stopped) return;
    if (this.running !== null) this.again = true;
    else this.schedule(0);
  }

  /** Stops claiming, and waits for the deliveries in flight (bounded by their timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.running;
  }

  /**
   * How long a claim holds: longer than an attempt can take (its timeout, plus the database
   * writes around it), short enough that a crashed worker's deliveries are soon sent again.
   */
  private leaseSeconds(): number {
    return Math.ceil(this.settings.timeoutMs / 1000) * 2 + 10;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.soonest = Number.POSITIVE_INFINITY;
      this.running = this.round().finally(() => {
        this.running = null;
        const more = this.again;
        this.again = false;
        this.schedule(more ? 0 : Math.max(0, Math.min(IDLE_POLL_MS, this.soonest - Date.now())));
      });
    }, ms);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    try {
      for (;;) {
        const claimed = await this.db.ownerTransaction((sql) => webhookOutbox.claim(sql, BATCH, this.leaseSeconds()));
        if (claimed.length > 0) await this.deliverBatch(claimed);
        if (claimed.length < BATCH || this.stopped) return;
      }
    } catch (error) {
      this.logger.error({ err: error }, 'webhook delivery round failed; retrying on the next poll');
    }
  }

  /**
   * One claimed batch: its events and secrets read in one transaction, the attempts sent
   * together, and their results recorded in one more. The database costs a few round trips
   * per batch, not per delivery.
   */
  private async deliverBatch(claimed: ClaimedDelivery[]): Promise<void> {
    const started = new Date();
    const { events, secrets } = await this.db.ownerTransaction(async (sql) => ({
      events: new Map((await auditStore.byIds(sql, [...new Set(claimed.map((d) => d.eventId))])).map((event) => [event.id, event])),
      secrets: await webhookOutbox.secrets(sql, [...new Set(claimed.map((d) => d.webhookId))]),
    }));
    const keys = new Map([...secrets].map(([id, sealed]) => [id, sealed.map((secret) => this.keys.decrypt(secret, id))]));
    const outcomes = await Promise.all(claimed.map((delivery) => this.attempt(delivery, events.get(delivery.eventId), keys.get(delivery.webhookId), started)));
    const switchedOff = await this.db.ownerTransaction(async (sql) => {
      // An endpoint that answered once in this batch is not failing.
      const byWebhook = new Map<string, boolean>();
      for (const { delivery, succeeded } of outcomes) byWebhook.set(delivery.webhookId, (byWebhook.get(delivery.webhookId) ?? false) || succeeded);
      // Webhooks first, in id order, then their deliveries: the order in which deleting a
      // webhook locks them too, so the worker and a request never wait for each other.
      const off: ClaimedDelivery[] = [];
      for (const webhookId of [...byWebhook.keys()].sort()) {
        if (await webhookOutbox.endpointOutcome(sql, webhookId, byWebhook.get(webhookId) === true, this.settings.disableAfterMs)) {
          const delivery = outcomes.find((o) => o.delivery.webhookId === webhookId)?.delivery;
          if (delivery !== undefined) off.push(delivery);
        }
      }
      await webhookOutbox.recordMany(sql, outcomes);
      for (const { orgId, webhookId } of off) await webhookStore.pauseDeliveries(sql, orgId, webhookId, true);
      return off;
    });
    for (const delivery of switchedOff) await this.recordSwitchedOff(delivery);
  }

  /** Signs and sends one attempt, and decides what comes next. */
  private async attempt(delivery: ClaimedDelivery, event: AuditRecord | undefined, secrets: string[] | undefined, at: Date): Promise<AttemptOutcome> {
    let result: AttemptResult;
    let verdict: ReturnType<typeof classify>;
    if (event === undefined || secrets === undefined) {
      const error = event === undefined ? 'the audit event is gone (pruned after its retention)' : 'the webhook is gone';
      result = { status: null, latencyMs: 0, responseBody: null, error, retryAfterMs: null };
      verdict = 'failed';
    } else {
      const body = JSON.stringify({ type: event.action, timestamp: event.occurredAt.toISOString(), data: auditJson(event) });
      const headers = signatureHeaders({ id: delivery.id, timestamp: at, body, secrets });
      result = await sendWebhook({ url: delivery.url, headers, body, allow: this.settings.allow, timeoutMs: this.settings.timeoutMs, maxResponseBytes: MAX_RESPONSE_BYTES });
      verdict = classify(result);
    }
    const attemptNumber = delivery.attemptCount + 1;
    const givesUp = verdict === 'failed' || (verdict === 'retry' && attemptNumber >= (delivery.attemptsAllowed ?? this.settings.maxAttempts));
    const status = verdict === 'succeeded' ? 'succeeded' : givesUp ? 'failed' : 'pending';
    const next = status === 'pending' ? new Date(Date.now() + retryDelayMs(attemptNumber, this.settings.retryBaseMs, result.retryAfterMs)) : null;
    if (next !== null) this.soonest = Math.min(this.soonest, next.getTime());
    this.metrics.attempted(verdict === 'retry' && givesUp ? 'dead' : verdict, result.latencyMs / 1000);
    return {
      delivery,
      attempt: { at: at.toISOString(), status: result.status, latencyMs: result.latencyMs, error: result.error, responseBody: result.responseBody },
      status,
      next,
      succeeded: verdict === 'succeeded',
    };
  }

  private async recordSwitchedOff(delivery: ClaimedDelivery): Promise<void> {
    this.logger.warn({ webhookId: delivery.webhookId }, 'webhook switched off after failing for too long');
    const metadata = { reason: 'failing', disableAfterHours: this.settings.disableAfterMs / 3_600_000 };
    await this.audit(systemEvent(delivery.orgId, 'webhook.disabled', 'webhook-delivery', { type: 'webhook', id: delivery.webhookId }, metadata));
  }
}
