interface Waiter<V> {
  resolve: (value: V | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the keys asked for during one event-loop turn and loads them with one call at its
 * end, each key once; every caller gets its own key's value (undefined: not found). Under
 * load the requests of a turn share one round trip instead of taking one each, and a lone
 * request waits only for the end of its turn. The load starts after every key of its turn
 * was asked for, so no caller is answered from a read older than its question. A failed
 * load fails every caller of its turn.
 */
export class TurnBatch<V> {
  private waiting = new Map<string, Waiter<V>[]>();

  constructor(private readonly load: (keys: string[]) => Promise<ReadonlyMap<string, V>>) {}

  get(key: string): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) {
        setImmediate(() => {
          this.send();
        });
      }
      const waiters = this.waiting.get(key);
      if (waiters === undefined) this.waiting.set(key, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
    });
  }

  private send(): void {
    const batch = this.waiting;
    this.waiting = new Map();
    // load() may throw before it returns a promise; both ways fail the turn's callers.
    Promise.resolve()
      .then(() => this.load([...batch.keys()]))
      .then(
        (values) => {
          for (const [key, waiters] of batch) for (const waiter of waiters) waiter.resolve(values.get(key));
        },
        (error: unknown) => {
          for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
        },
      );
  }
}
