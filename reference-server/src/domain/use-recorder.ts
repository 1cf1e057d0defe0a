import type { Database } from '../store/database';

const INTERVAL_MS = 60_000;
const MAX_REMEMBERED = 10_000;
const FLUSH_MS = 1000;

/**
 * "Last used" bookkeeping, at most once a minute per token, credential or key, and off the
 * request path: a request only notes the id, and once a second every noted id is written in
 * one statement, which leaves alone the rows another instance touched within the minute.
 * Awaiting a commit per request for it made the token endpoint as slow as the disk once the
 * ids in use outnumbered what one instance remembers (bench/results/scale). A crash loses at
 * most a second of notes.
 */
export class UseRecorder {
  private readonly recent = new Map<string, number>();
  private noted = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    /** Sets "last used" on the given ids unless set within the minute; ids sorted, so concurrent writers lock in one order. */
    private readonly write: (ids: string[]) => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  record(id: string, now: number = Date.now()): void {
    const last = this.recent.get(id);
    if (last !== undefined && now - last < INTERVAL_MS) return;
    if (this.recent.size >= MAX_REMEMBERED) this.recent.clear();
    this.recent.set(id, now);
    this.noted.add(id);
    if (this.timer === null) {
      this.timer = setInterval(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Writes the ids noted so far; resolves once they are written (or the write failed and was reported). */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (this.noted.size === 0) return;
      const ids = [...this.noted].sort();
      this.noted = new Set();
      await this.write(ids).catch(this.onError);
    });
    return this.writing;
  }

  /** The last write, on the way down. */
  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}

/** The server's three "last used" columns, each with its recorder. */
export interface LastUse {
  credentials: UseRecorder;
  agentKeys: UseRecorder;
  adminTokens: UseRecorder;
  close(): Promise<void>;
}

export function lastUseRecorders(db: Database, onError: (error: unknown) => void): LastUse {
  const recorder = (fn: string): UseRecorder => new UseRecorder((ids) => db.callFunction(`SELECT * FROM ${fn}($1)`, [ids]), onError);
  const recorders = {
    credentials: recorder('mandate_touch_credentials'),
    agentKeys: recorder('mandate_touch_agent_keys'),
    adminTokens: recorder('mandate_touch_admin_tokens'),
  };
  return {
    ...recorders,
    async close() {
      await Promise.all(Object.values(recorders).map((uses) => uses.close()));
    },
  };
}
