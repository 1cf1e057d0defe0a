import type { Database } from '../store/database';
import { type ChainPosition, auditStore } from '../store/audit';
import { type AuditEntry, appendEvents, chainOf, sealAll } from './audit';

interface Pending {
  entry: AuditEntry;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Chains this writer remembers the head of; beyond that it forgets them all and reads again. */
const MAX_REMEMBERED_HEADS = 10_000;
/** Compare-and-set rounds for a chain that other writers keep moving, before taking its lock. */
const CAS_ATTEMPTS = 3;

/** SQLSTATE classes 22 (data exception) and 23 (integrity): the statement failed, nothing committed. */
function refusedForContent(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

/**
 * Group commit for the audit trail on hot paths (token issuance, authentication): each
 * caller waits until the transaction holding its event has committed, but one transaction
 * carries every event that arrived during the previous one. Nothing is fire-and-forget:
 * an operation is acknowledged only after its event is durable.
 *
 * A batch normally costs one round trip: the writer remembers where it left each chain's
 * head, seals the new events on it and appends them with a compare-and-set on the head.
 * A chain whose head moved meanwhile (another instance, or a request's own transaction) is
 * told where the head is now and sealed again on it; after a few lost races, or when its
 * head is unknown, it is appended the slow way, under the head's lock.
 */
export class AuditWriter {
  private queue: Pending[] = [];
  /** The running flush, if any; it drains the queue, including events added meanwhile. */
  private flushing: Promise<void> | null = null;
  private closed = false;
  private readonly heads = new Map<string, ChainPosition>();

  constructor(
    private readonly db: Database,
    /** Told which chains a committed batch extended (the live feed announces them). */
    private readonly onCommitted: (chains: string[]) => void = () => undefined,
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
    while (this.queue.length > 0) await this.write(this.queue.splice(0, this.maxBatch));
  }

  private async write(batch: Pending[]): Promise<void> {
    const byChain = new Map<string, Pending[]>();
    for (const pending of batch) {
      const chain = chainOf(pending.entry.orgId);
      const group = byChain.get(chain);
      if (group === undefined) byChain.set(chain, [pending]);
      else group.push(pending);
    }
    const settled = new Set<string>();
    let known = [...byChain.keys()].filter((chain) => this.heads.has(chain));
    for (let attempt = 0; attempt < CAS_ATTEMPTS && known.length > 0; attempt++) {
      try {
        const appended = await this.appendAfterKnownHeads(known, byChain);
        for (const chain of appended) {
          settled.add(chain);
          for (const pending of byChain.get(chain) ?? []) pending.resolve();
        }
        if (appended.length > 0) this.onCommitted(appended);
        // Those that lost the race now know the head that beat them, and try after it.
        known = known.filter((chain) => !settled.has(chain) && this.heads.has(chain));
      } catch (error) {
        for (const chain of known) this.heads.delete(chain);
        // Refused for its content, it surely did not commit: the lock path below retries it.
        if (refusedForContent(error)) break;
        // Whether it committed is unknown: these callers fail, and the heads are read again.
        for (const chain of known) {
          settled.add(chain);
          for (const pending of byChain.get(chain) ?? []) pending.reject(error);
        }
        known = [];
      }
    }
    const rest = [...byChain.keys()].filter((chain) => !settled.has(chain));
    if (rest.length > 0) await this.appendUnderLock(rest.flatMap((chain) => byChain.get(chain) ?? []));
  }

  /**
   * One call for every chain whose head is known; returns the chains it appended to. Every
   * chain's remembered head moves to where the call found or left it.
   */
  private async appendAfterKnownHeads(chains: string[], byChain: Map<string, Pending[]>): Promise<string[]> {
    const groups = chains.flatMap((chain) => {
      const after = this.heads.get(chain);
      return after === undefined ? [] : [{ chain, after, events: sealAll((byChain.get(chain) ?? []).map((p) => p.entry), chain, after) }];
    });
    const results = await auditStore.appendAfterHeads(this.db, groups);
    const appended: string[] = [];
    for (const chain of chains) {
      const result = results.get(chain);
      if (result?.appended === true) appended.push(chain);
      if (result?.head == null) this.heads.delete(chain);
      else this.heads.set(chain, result.head);
    }
    return appended;
  }

  /** Locks each chain's head, reads it and appends after it; remembers where it left each. */
  private async appendUnderLock(batch: Pending[]): Promise<void> {
    try {
      const entries = batch.map((p) => p.entry);
      const events = await this.db.tenantTransaction({ orgId: null, instanceAdmin: false, principalId: 'audit-writer' }, (sql) => appendEvents(sql, entries));
      if (this.heads.size >= MAX_REMEMBERED_HEADS) this.heads.clear();
      for (const event of events) this.heads.set(event.chain, { sequence: event.sequence, hash: event.hash });
      for (const pending of batch) pending.resolve();
      this.onCommitted([...new Set(events.map((event) => event.chain))]);
    } catch (error) {
      for (const pending of batch) this.heads.delete(chainOf(pending.entry.orgId));
      if (batch.length > 1 && refusedForContent(error)) {
        // One event the database refuses must not fail the others: each is tried alone.
        for (const pending of batch) await this.appendUnderLock([pending]);
        return;
      }
      for (const pending of batch) pending.reject(error);
    }
  }
}
