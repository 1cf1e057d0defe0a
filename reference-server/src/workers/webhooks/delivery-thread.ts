import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AuditEntry } from '../../domain/audit';
import type { Logger } from '../../observability/logger';
import type { DeliveryMetrics } from './delivery-worker';

const RESTART_DELAY_MS = 1000;

/** Messages between the server and its delivery thread. */
export type ToThread = 'poke' | 'stop';
export type Outcome = 'succeeded' | 'retry' | 'failed' | 'dead';
export type FromThread =
  /** Attempts since the last report, batched: one message per report, not per attempt. */
  | { kind: 'attempts'; attempts: [Outcome, number][] }
  | { kind: 'audit'; entry: AuditEntry };

/**
 * The delivery worker in a thread of its own, on PostgreSQL deployments: signing, sending
 * and parsing answers then use a core the request thread does not, so a busy webhook does
 * not slow token issuance down as much. It reads the same configuration from the same
 * environment; audit events and metrics come back as messages.
 */
export class DeliveryThread {
  private worker: Worker | null = null;
  private stopped: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly audit: (entry: AuditEntry) => Promise<void>,
    private readonly metrics: DeliveryMetrics,
    private readonly logger: Logger,
    /** The thread's script (tests run a stand-in). */
    private readonly entry = path.join(__dirname, 'delivery-thread-main.js'),
  ) {}

  start(): void {
    const worker = new Worker(this.entry);
    worker.on('message', (message: FromThread) => {
      if (message.kind === 'attempts') {
        for (const [outcome, seconds] of message.attempts) this.metrics.attempted(outcome, seconds);
      } else {
        this.audit(message.entry).catch((error: unknown) => {
          this.logger.error({ err: error }, 'an audit event of the delivery thread was not recorded');
        });
      }
    });
    worker.on('error', (error) => {
      this.logger.error({ err: error }, 'the webhook delivery thread failed');
    });
    this.stopped = new Promise((resolve) => {
      worker.once('exit', (code) => {
        resolve();
        // The outbox is durable, so a thread that died loses nothing: start another.
        if (!this.stopping) {
          this.logger.error({ code }, 'the webhook delivery thread exited; starting another');
          setTimeout(() => {
            if (!this.stopping) this.start();
          }, RESTART_DELAY_MS).unref();
        }
      });
    });
    this.worker = worker;
  }

  poke(): void {
    this.worker?.postMessage('poke' satisfies ToThread);
  }

  /** Lets the deliveries in flight finish, then ends the thread. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.worker?.postMessage('stop' satisfies ToThread);
    await this.stopped;
  }
}
