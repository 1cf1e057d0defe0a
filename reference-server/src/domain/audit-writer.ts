import type { Database } from '../store/database';
import { type AuditEntry, appendEvents, chainOf } from './audit';

interface Pending {
  entry: AuditEntry;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for the audit trail on hot paths (token issuance, authentication): each
 * caller waits until the transaction holding its event has committed, but one transaction
 * carries every event that arrived during the previous one. Nothing is fire-and-forget:
 * an operation is acknowledged only after its event is durable.
 */
export class AuditWriter {
  private queue: Pending[] = [];
  /** The running flush, if any; it drains the queue, including events added meanwhile. */
  private flushing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly maxBatch = 500,
  ) {}

  /** Resolves once the event is committed; rejects if its batch failed. */
  append(entry: AuditEntry): Promise<void> {
    if (this.closed) return Promise.reject(new Error('The audit writer is closed.'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      if (this.flushing === null) this.startFlush();
    });
  }

  /** Waits for everything queued so far, then refuses new events. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing !== null) await this.flushing;
  }

  /** An event queued after a flush's last batch, but before it finished, starts the next one. */
  private startFlush(): void {
    this.flushing = this.flush().finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.startFlush();
    });
  }

  private async flush(): Promise<void> {
    // Let the requests of this event-loop turn join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      // Grouping by chain locks each chain head once per batch.
      const ordered = [...batch].sort((a, b) => (chainOf(a.entry.orgId) < chainOf(b.entry.orgId) ? -1 : 1));
      try {
        await this.db.tenantTransaction({ orgId: null, instanceAdmin: false, principalId: 'audit-writer' }, (sql) =>
          appendEvents(sql, ordered.map((p) => p.entry)),
        );
        for (const pending of batch) pending.resolve();
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
  }
}
