import { PassThrough } from 'node:stream';

export interface SseOptions {
  /** Sent once as `retry:`: how long a client waits before reconnecting, in ms. */
  retryMs: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs: number;
  /** Bytes waiting for a slow reader beyond which it is sent `overflow` and cut off. */
  maxBufferedBytes: number;
  /** Asked at each heartbeat; false ends the stream (a revoked or expired credential). */
  stillAllowed: () => Promise<boolean>;
  /**
   * The stream ends after this long, and the client resumes with `Last-Event-ID`, perhaps on
   * another instance: long-lived subscribers spread over instances added since they connected.
   */
  maxLifetimeMs: number;
}

/** One line of an SSE field must not contain a line break; JSON never does unescaped. */
const field = (name: string, value: string): string => `${name}: ${value}\n`;

/**
 * A Server-Sent Events response body (WHATWG HTML §9.2). It never buffers without bound:
 * a reader that falls `maxBufferedBytes` behind gets a final `overflow` event naming the
 * last event it was sent, and the stream ends; the client resumes from that id.
 */
export class SseStream {
  readonly body = new PassThrough();
  private lastId: string | null = null;
  private ended = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly lifetime: NodeJS.Timeout;
  private readonly onEnd: (() => void)[] = [];

  constructor(private readonly options: SseOptions) {
    this.body.write(field('retry', String(options.retryMs)) + '\n');
    this.heartbeat = setInterval(() => {
      this.beat();
    }, options.heartbeatMs);
    this.heartbeat.unref();
    this.lifetime = setTimeout(() => {
      this.end();
    }, options.maxLifetimeMs);
    this.lifetime.unref();
    // The client left, or Koa destroyed the body after a socket error.
    this.body.once('close', () => {
      this.end();
    });
  }

  /** Runs once when the stream ends, whatever ended it. */
  whenEnded(callback: () => void): void {
    if (this.ended) callback();
    else this.onEnd.push(callback);
  }

  send(id: string, event: string, data: unknown): void {
    if (this.ended) return;
    if (this.buffered() > this.options.maxBufferedBytes) {
      this.finish('overflow', { lastEventId: this.lastId });
      return;
    }
    this.body.write(field('id', id) + field('event', event) + field('data', JSON.stringify(data)) + '\n');
    this.lastId = id;
  }

  /** Ends the stream (at shutdown, or at its lifetime's end); the client reconnects and resumes. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.lifetime);
    if (!this.body.destroyed) this.body.end();
    for (const callback of this.onEnd.splice(0)) callback();
  }

  private finish(event: string, data: unknown): void {
    this.body.write(field('event', event) + field('data', JSON.stringify(data)) + '\n');
    this.end();
  }

  private buffered(): number {
    return this.body.writableLength + this.body.readableLength;
  }

  private beat(): void {
    this.options.stillAllowed().then(
      (allowed) => {
        if (!allowed) this.finish('unauthorized', { lastEventId: this.lastId });
        else if (!this.ended) this.body.write(': heartbeat\n\n');
      },
      () => {
        this.end(); // cannot tell: fail closed, the client reconnects and authenticates again
      },
    );
  }
}
