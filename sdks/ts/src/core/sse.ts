/** One message of a `text/event-stream`, as dispatched by a blank line. */
export interface SseMessage {
  /** The stream's last event id when the message was dispatched ('' when none). */
  id: string;
  /** The `event:` field, `message` when absent. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
}

/**
 * An incremental `text/event-stream` parser following the WHATWG HTML rules: give it text as
 * it arrives, in chunks of any size, and it returns the messages that blank lines complete.
 */
export class SseParser {
  /** The last event id as of the last dispatch: where a reconnect resumes. */
  lastEventId: string;
  /** The reconnection delay the server asked for with `retry:`, in ms. */
  retry: number | undefined;
  private idBuffer: string;
  private eventType = '';
  private data: string[] = [];
  private partialLine = '';
  /** The last chunk ended in `\r`: a `\n` starting the next one belongs to that line end. */
  private pendingCR = false;

  constructor(lastEventId = '') {
    this.lastEventId = lastEventId;
    this.idBuffer = lastEventId;
  }

  feed(chunk: string): SseMessage[] {
    if (chunk === '') return [];
    const text = this.partialLine + (this.pendingCR && chunk.startsWith('\n') ? chunk.slice(1) : chunk);
    this.pendingCR = false;
    const messages: SseMessage[] = [];
    const lineEnd = /\r\n|\r|\n/g;
    let start = 0;
    for (let end = lineEnd.exec(text); end !== null; end = lineEnd.exec(text)) {
      if (end[0] === '\r' && lineEnd.lastIndex === text.length) this.pendingCR = true;
      const message = this.line(text.slice(start, end.index));
      if (message !== undefined) messages.push(message);
      start = lineEnd.lastIndex;
    }
    this.partialLine = text.slice(start);
    return messages;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined; // a comment, e.g. the server's heartbeat
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.idBuffer = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default: // unknown fields are ignored
    }
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    this.lastEventId = this.idBuffer;
    const { data, eventType } = this;
    this.data = [];
    this.eventType = '';
    // A message without data (only an id, or only an event name) is not an event.
    if (data.length === 0) return undefined;
    return { id: this.lastEventId, event: eventType === '' ? 'message' : eventType, data: data.join('\n') };
  }
}
