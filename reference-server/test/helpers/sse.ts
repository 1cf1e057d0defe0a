/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

/**
 * A minimal EventSource for tests: it keeps every event and comment it reads, and lets a
 * test wait for the next ones. No reconnection: tests reconnect explicitly.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retry: number | null = null;
  /** Resolves when the server ends the stream (or the client closes it). */
  readonly ended: Promise<void>;
  private waiters: (() => void)[] = [];
  private taken = 0;

  private constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {
    this.ended = this.read().finally(() => {
      this.wake();
    });
  }

  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const controller = new AbortController();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    if (response.status !== 200) throw new Error(`stream answered ${response.status}: ${await response.text()}`);
    return new SseClient(response, controller);
  }

  /** The next `count` events after those already taken; fails after `timeoutMs`. */
  async next(count: number, timeoutMs = 5000): Promise<SseEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < this.taken + count) {
      if (Date.now() > deadline) throw new Error(`${this.events.length - this.taken} of ${count} events after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    const events = this.events.slice(this.taken, this.taken + count);
    this.taken += count;
    return events;
  }

  close(): void {
    this.controller.abort();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private async read(): Promise<void> {
    if (this.response.body === null) return;
    const decoder = new TextDecoder();
    let buffer = '';
    let data: string[] = [];
    let event = 'message';
    let id: string | null = null;
    try {
      for await (const chunk of this.response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        const lines = buffer.split(/\r\n|\r|\n/);
        buffer = lines.pop() ?? '';
        for (const line of lines) {
          if (line === '') {
            if (data.length > 0) this.events.push({ id, event, data: data.join('\n') });
            data = [];
            event = 'message';
            this.wake();
          } else if (line.startsWith(':')) {
            this.comments.push(line.slice(1).trim());
          } else {
            const colon = line.indexOf(':');
            const name = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (name === 'data') data.push(value);
            else if (name === 'event') event = value;
            else if (name === 'id') id = value;
            else if (name === 'retry') this.retry = Number(value);
          }
        }
      }
    } catch (error) {
      if (!this.controller.signal.aborted) throw error;
    }
  }
}
