import type { Cache } from '../cache/cache';
import { type AuditRecord, auditStore } from '../store/audit';
import type { Database } from '../store/database';

/** Published after a commit that extended a chain; the message is the chain's id. */
const CHAIN_MOVED = 'audit-chain-moved';
/** Pub/sub may lose a message (a Redis reconnect): followed chains are also read this often. */
const SAFETY_POLL_MS = 2000;
const PAGE = 500;

/** Which events a subscriber wants; every given condition must hold. */
export interface EventFilter {
  /** Exact actions (`agent.created`) or a resource's prefix (`agent.*`); empty: all. */
  actions: string[];
  agentId?: string;
  outcome?: string;
}

export function matches(filter: EventFilter, event: AuditRecord): boolean {
  if (filter.outcome !== undefined && event.outcome !== filter.outcome) return false;
  if (filter.agentId !== undefined) {
    const actor = event.actorType === 'agent' && event.actorId === filter.agentId;
    const target = event.targetType === 'agent' && event.targetId === filter.agentId;
    if (!actor && !target) return false;
  }
  if (filter.actions.length === 0) return true;
  return filter.actions.some((wanted) => (wanted.endsWith('.*') ? event.action.startsWith(wanted.slice(0, -1)) : event.action === wanted));
}

/** One follower of a chain. `send` gets every matching event after `after`, in order, once. */
export interface Follower {
  filter: EventFilter;
  send(event: AuditRecord): void;
  /** The feed stops (shutdown): the follower ends its stream. */
  end(): void;
}

interface Following {
  follower: Follower;
  /** The sequence of the last event this follower has been given (or skipped past). */
  after: number;
}

/**
 * One instance's reader of one chain, shared by all its followers there. It reads each new
 * event once and hands it to every follower, so a thousand subscribers cost one query per
 * commit. All its work runs in one queue: a joining follower's catch-up and the live reads
 * never interleave, so nobody sees a gap or a duplicate.
 */
class ChainReader {
  /** The last sequence read; null until the chain's head was read. */
  private cursor: number | null = null;
  private readonly followings = new Set<Following>();
  private queue: Promise<void> = Promise.resolve();
  private readPending = false;

  constructor(
    private readonly chain: string,
    private readonly read: (chain: string, after: number) => Promise<AuditRecord[]>,
    private readonly head: (chain: string) => Promise<number>,
    private readonly onError: (error: unknown) => void,
  ) {}

  get size(): number {
    return this.followings.size;
  }

  /** Adds a follower that has seen everything up to `after` (null: up to now). */
  join(follower: Follower, after: number): Following {
    // Listed at once (so endAll reaches it), but given nothing until its catch-up has run.
    const following: Following = { follower, after: Number.POSITIVE_INFINITY };
    this.followings.add(following);
    this.enqueue(async () => {
      if (!this.followings.has(following)) return; // left before it was caught up
      const cursor = await this.ensureCursor();
      following.after = after;
      // The durable log holds what it missed: read it up to where the live reads are.
      while (following.after < cursor && this.followings.has(following)) {
        const events = await this.read(this.chain, following.after);
        const missed = events.filter((event) => event.sequence <= cursor);
        for (const event of missed) this.give(following, event);
        if (missed.length < PAGE) following.after = cursor;
      }
    });
    return following;
  }

  leave(following: Following): void {
    this.followings.delete(following);
  }

  /** Reads what was committed since the last read; calls coalesce while one is queued. */
  poke(): void {
    if (this.readPending) return;
    this.readPending = true;
    this.enqueue(async () => {
      this.readPending = false;
      let cursor = await this.ensureCursor();
      for (;;) {
        const events = await this.read(this.chain, cursor);
        for (const event of events) {
          for (const following of this.followings) if (event.sequence > following.after) this.give(following, event);
          cursor = event.sequence;
        }
        this.cursor = cursor;
        if (events.length < PAGE) return;
      }
    });
  }

  endAll(): void {
    for (const following of this.followings) following.follower.end();
    this.followings.clear();
  }

  private give(following: Following, event: AuditRecord): void {
    following.after = event.sequence;
    if (matches(following.follower.filter, event)) following.follower.send(event);
  }

  private async ensureCursor(): Promise<number> {
    this.cursor ??= await this.head(this.chain);
    return this.cursor;
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch(this.onError);
  }
}

/**
 * Committed audit events, live: whoever commits events announces their chain, every
 * instance hears it over the cache's pub/sub (Redis, or in-process on the embedded store),
 * and each instance's reader of that chain reads the new events from the durable log.
 * Followers therefore see exactly what is committed, in chain order, whichever instance
 * committed it; nothing rides on the message itself but the chain's name.
 */
export class AuditFeed {
  private readonly readers = new Map<string, ChainReader>();
  private unsubscribe: (() => void) | null = null;
  private poll: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly cache: Cache,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Tells every instance that these chains moved. Never fails the caller: followers also poll. */
  announce(chains: Iterable<string>): void {
    for (const chain of new Set(chains)) {
      this.readers.get(chain)?.poke();
      this.cache.publish(CHAIN_MOVED, chain).catch(this.onError);
    }
  }

  /**
   * Follows an organization's chain after the event with sequence `after`.
   * Returns the function that stops following.
   */
  async follow(chain: string, after: number, follower: Follower): Promise<() => void> {
    if (this.closed) throw new Error('The audit feed is closed.');
    await this.listen();
    let reader = this.readers.get(chain);
    if (reader === undefined) {
      reader = new ChainReader(chain, (c, from) => this.readAfter(c, from), (c) => this.headOf(c), this.onError);
      this.readers.set(chain, reader);
    }
    const following = reader.join(follower, after);
    const joined = reader;
    return () => {
      joined.leave(following);
      if (joined.size === 0 && this.readers.get(chain) === joined) this.readers.delete(chain);
    };
  }

  get followers(): number {
    let count = 0;
    for (const reader of this.readers.values()) count += reader.size;
    return count;
  }

  /** Ends every follower (they reconnect elsewhere) and stops listening. */
  close(): void {
    this.closed = true;
    for (const reader of this.readers.values()) reader.endAll();
    this.readers.clear();
    this.unsubscribe?.();
    if (this.poll !== null) clearInterval(this.poll);
  }

  private async listen(): Promise<void> {
    if (this.unsubscribe !== null) return;
    this.unsubscribe = await this.cache.subscribe(CHAIN_MOVED, (chain) => this.readers.get(chain)?.poke());
    this.poll = setInterval(() => {
      for (const reader of this.readers.values()) reader.poke();
    }, SAFETY_POLL_MS);
    this.poll.unref();
  }

  private readAfter(chain: string, after: number): Promise<AuditRecord[]> {
    return this.db.tenantTransaction({ orgId: chain, instanceAdmin: false, principalId: 'audit-feed' }, (sql) => auditStore.slice(sql, chain, after, PAGE));
  }

  private async headOf(chain: string): Promise<number> {
    const head = await this.db.tenantTransaction({ orgId: chain, instanceAdmin: false, principalId: 'audit-feed' }, (sql) => auditStore.head(sql, chain));
    return head?.sequence ?? 0;
  }
}
