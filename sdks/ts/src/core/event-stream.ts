import { APIConnectionError, APIError, APITimeoutError, MandateError } from './errors.js';
import type { Log } from './log.js';
import type { Clock } from './options.js';
import { backoff, isRetryableStatus, retryAfter } from './retry.js';
import { type SseMessage, SseParser } from './sse.js';

/** One event: its id, its type (`agent.created`, …) and its parsed data. */
export interface StreamEvent<T> {
  id: string;
  event: string;
  data: T;
}

/**
 * The server's last message to a subscriber that fell behind. The stream then reconnects by
 * itself and resumes after the last event yielded, so nothing is lost; the message is
 * yielded so that a consumer can tell. Its data is not the model: check with `isOverflow`.
 */
export interface OverflowEvent {
  id: string;
  event: 'overflow';
  data: { lastEventId: string };
}

/**
 * Tells the overflow message from the events (`event` is any string, so comparing it does
 * not narrow the type): `if (isOverflow(event)) continue;` leaves `event.data` typed.
 */
export function isOverflow(event: StreamEvent<unknown>): event is OverflowEvent {
  return event.event === 'overflow';
}

/** What the client gives a stream: one connection attempt, and its settings. */
export interface StreamConnector {
  /** `GET /v1/events/stream`, for logs. */
  readonly name: string;
  /**
   * Sends one authenticated request (refreshing a managed token once on a 401). Resolves with
   * an open event stream; rejects with an APIError for an error status, an APIConnectionError
   * when there is no response.
   */
  connect(lastEventId: string | undefined, signal: AbortSignal): Promise<Response>;
  readonly clock: Clock;
  readonly log: Log;
  readonly maxRetries: number;
  /** The longest wait for the response, and for any data (heartbeats included) after it. */
  readonly timeout: number;
}

/** Until the server says otherwise with `retry:`, as EventSource does. */
const DEFAULT_RETRY_MS = 3_000;
/** The most the backoff grows to between failed reconnects (unless `retry:` asks for more). */
const MAX_BACKOFF_MS = 30_000;

/**
 * A live stream of server-sent events: `for await (const event of stream)`. It connects when
 * iteration starts, reconnects when the server ends the stream or the connection drops
 * (resuming with `Last-Event-ID` after the last event yielded), and ends when `close()` is
 * called, the loop is left, or the request's `signal` aborts. Errors the caller must act on
 * (a 4xx, or more than `maxRetries` failed attempts in a row) are thrown from the loop.
 */
export class EventStream<T> implements AsyncIterable<StreamEvent<T> | OverflowEvent> {
  private readonly closer = new AbortController();
  private lastId: string | undefined;
  private retryMs = DEFAULT_RETRY_MS;
  private iterated = false;
  private connected: { status: number; headers: Headers } | undefined;

  constructor(
    private readonly connector: StreamConnector,
    options: { lastEventId?: string | undefined; signal?: AbortSignal | undefined } = {},
  ) {
    this.lastId = options.lastEventId;
    const { signal } = options;
    if (signal?.aborted === true) this.close();
    signal?.addEventListener(
      'abort',
      () => {
        this.close();
      },
      { once: true, signal: this.closer.signal },
    );
  }

  /** The id of the last event received: pass it as `lastEventId` to resume elsewhere. */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /** Status and headers of the current (or last) connection, e.g. its `x-request-id`. */
  get response(): { status: number; headers: Headers } | undefined {
    return this.connected;
  }

  /** Closes the connection and ends iteration; safe to call at any time, more than once. */
  close(): void {
    this.closer.abort();
  }

  // A method, not a getter: the answer changes across awaits, which a getter's narrowing hides.
  private isClosed(): boolean {
    return this.closer.signal.aborted;
  }

  [Symbol.asyncIterator](): AsyncGenerator<StreamEvent<T> | OverflowEvent, void, undefined> {
    // Two loops would split the events between them: each event is delivered once.
    if (this.iterated) throw new MandateError('This event stream is already being read; open another with stream().');
    this.iterated = true;
    return this.events();
  }

  private async *events(): AsyncGenerator<StreamEvent<T> | OverflowEvent, void, undefined> {
    const { clock, log, maxRetries, name } = this.connector;
    let failures = 0;
    let delay: number | undefined;
    try {
      for (;;) {
        if (delay !== undefined) await clock.sleep(delay, this.closer.signal);
        if (this.isClosed()) return;
        const connection = new Connection(this.closer.signal, this.connector.timeout);
        try {
          let response: Response;
          try {
            response = await connection.within(this.connector.connect(this.lastId, connection.signal));
          } catch (error) {
            if (this.isClosed()) return;
            if (!isTransient(error)) throw error;
            failures += 1;
            if (failures > maxRetries) throw error;
            const fromServer = error instanceof APIError ? retryAfter(error.headers, clock.now()) : undefined;
            const maxBackoff = Math.max(MAX_BACKOFF_MS, this.retryMs);
            delay = fromServer ?? backoff(failures - 1, this.retryMs, maxBackoff, () => clock.random());
            log.debug(`reconnecting ${name} in ${Math.round(delay)} ms (${reason(error)}; retry ${failures} of ${maxRetries})`);
            continue;
          }
          failures = 0;
          this.connected = { status: response.status, headers: response.headers };
          yield* this.read(response, connection);
          if (this.isClosed()) return;
          delay = this.retryMs;
          log.debug(`reconnecting ${name} in ${delay} ms (the stream ended)`);
        } finally {
          connection.end();
        }
      }
    } finally {
      this.close();
    }
  }

  /** Yields the events of one connection until its body ends, drops or goes silent. */
  private async *read(response: Response, connection: Connection): AsyncGenerator<StreamEvent<T> | OverflowEvent, void, undefined> {
    if (response.body === null) return;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser(this.lastId ?? '');
    try {
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await connection.within(reader.read());
        } catch (error) {
          if (!this.isClosed()) this.connector.log.debug(`${this.connector.name} dropped (${reason(error)})`);
          return;
        }
        if (chunk.done) return;
        const messages = parser.feed(decoder.decode(chunk.value, { stream: true }));
        this.retryMs = parser.retry ?? this.retryMs;
        for (const message of messages) {
          if (this.isClosed()) return; // closed by the consumer between two events of one chunk
          const event = this.typed(message);
          this.lastId = orUndefined(message.id);
          yield event;
        }
        // As EventSource does: a blank line after only `id:` moves the resume point too.
        this.lastId = orUndefined(parser.lastEventId);
      }
    } finally {
      // Cancelling the body is what releases the connection in every fetch implementation.
      reader.cancel().catch(() => undefined);
    }
  }

  private typed(message: SseMessage): StreamEvent<T> | OverflowEvent {
    try {
      // Overflow's data is its own small object; every other event's is the model T.
      return { id: message.id, event: message.event, data: JSON.parse(message.data) as T };
    } catch {
      // The data itself stays out of the message: it is the organization's audit trail.
      throw new MandateError(`The server sent a ${message.event} event (id ${message.id || 'none'}) whose data is not JSON.`);
    }
  }
}

/** One connection attempt: aborted by close(), by its end, or when the server stays silent too long. */
class Connection {
  private readonly controller = new AbortController();

  constructor(
    closer: AbortSignal,
    private readonly timeout: number,
  ) {
    const abort = (): void => {
      this.controller.abort(closer.reason);
    };
    if (closer.aborted) abort();
    closer.addEventListener('abort', abort, { once: true, signal: this.controller.signal });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** `work`'s result, unless the timeout passes first or the connection is aborted. */
  async within<R>(work: Promise<R>): Promise<R> {
    const timer = setTimeout(() => {
      this.controller.abort(new APITimeoutError(`Nothing received within ${this.timeout} ms`));
    }, this.timeout);
    try {
      return await raceAbort(work, this.controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  end(): void {
    this.controller.abort();
  }
}

/** Some fetch implementations do not fail a pending body read on abort: do it here. */
function raceAbort<R>(work: Promise<R>, signal: AbortSignal): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error);
    };
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort);
    });
  });
}

/** Worth another attempt: no response, a timeout, or a status that the SDK retries elsewhere too. */
function isTransient(error: unknown): boolean {
  return error instanceof APIConnectionError || (error instanceof APIError && isRetryableStatus(error.status));
}

const orUndefined = (id: string): string | undefined => (id === '' ? undefined : id);

function reason(error: unknown): string {
  if (error instanceof APIError) return `status ${error.status}`;
  return error instanceof Error ? error.message : String(error);
}
