import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import nock from 'nock';
import {
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  isOverflow,
  type Logger,
  Mandate,
  MandateError,
  PermissionDeniedError,
} from '../../src/index';
import { SseParser } from '../../src/core/sse';
import { FakeClock } from '../helpers/fake-clock';
import { absent, mockClient, problem } from '../helpers/mock';

const PATH = '/v1/events/stream';
const SSE = { 'content-type': 'text/event-stream', 'cache-control': 'no-store' };
const PROBLEM = { 'content-type': 'application/problem+json', 'x-request-id': 'req_connect' };

const evt = (n: number): string => `evt_${String(n).padStart(26, '0')}`;
const auditEvent = (n: number, action = 'agent.created') => ({
  id: evt(n),
  orgId: 'org_1',
  sequence: n,
  action,
  outcome: 'success',
  actor: { type: 'admin_token', id: 'tok_1' },
  target: { type: 'agent', id: 'agt_1' },
  ip: null,
  userAgent: null,
  requestId: null,
  occurredAt: '2026-11-22T12:00:00.000Z',
  metadata: {},
  prevHash: '0'.repeat(64),
  hash: '1'.repeat(64),
});
const message = (n: number, action = 'agent.created'): string => `id: ${evt(n)}\nevent: ${action}\ndata: ${JSON.stringify(auditEvent(n, action))}\n\n`;

/** The first `count` events; leaving the loop closes the stream. */
async function take<T>(stream: AsyncIterable<T>, count: number): Promise<T[]> {
  const events: T[] = [];
  if (count === 0) return events;
  for await (const event of stream) {
    events.push(event);
    if (events.length === count) break;
  }
  return events;
}

describe('the SSE parser', () => {
  const parse = (...chunks: string[]) => {
    const parser = new SseParser();
    return { messages: chunks.flatMap((chunk) => parser.feed(chunk)), parser };
  };

  it('joins data lines with \\n, defaults the event to message and keeps the last id', () => {
    const { messages } = parse('id: 1\ndata: first\ndata:\ndata:  third\n\nevent: custom\ndata: x\n\n');
    expect(messages).toEqual([
      { id: '1', event: 'message', data: 'first\n\n third' },
      { id: '1', event: 'custom', data: 'x' },
    ]);
  });

  it('splits lines on \\r\\n, \\r and \\n, even across chunks, and strips only one space', () => {
    const text = 'data:a\r\ndata: b\rdata:  c\n\r\nid:7\revent:e\rdata\r\r';
    const whole = parse(text).messages;
    expect(whole).toEqual([
      { id: '', event: 'message', data: 'a\nb\n c' },
      { id: '7', event: 'e', data: '' },
    ]);
    // Every cut, including between \r and \n, gives the same messages.
    for (let cut = 1; cut < text.length; cut++) expect(parse(text.slice(0, cut), text.slice(cut)).messages).toEqual(whole);
    expect(parse(...Array.from(text)).messages).toEqual(whole);
  });

  it('skips comments and unknown fields, and dispatches nothing without data', () => {
    const { messages, parser } = parse(': heartbeat\n\nid: 9\n\nevent: lonely\n\nfoo: bar\ndata: y\n\n');
    expect(messages).toEqual([{ id: '9', event: 'message', data: 'y' }]);
    expect(parser.lastEventId).toBe('9');
  });

  it('takes retry only when it is all digits, and drops an unfinished message', () => {
    expect(parse('retry: 1500\n\n').parser.retry).toBe(1500);
    expect(parse('retry: 1500\nretry: 2s\n\n').parser.retry).toBe(1500);
    expect(parse('data: never dispatched').messages).toEqual([]);
  });
});

describe('events.stream', () => {
  afterEach(() => {
    nock.abortPendingRequests();
  });

  it('connects with the stream headers and filters, and yields typed events', async () => {
    const { client, api } = mockClient({ organization: 'org_1', defaultHeaders: { 'x-team': 'blue' } });
    api
      .get(PATH)
      .query({ action: ['agent.*', 'credential.rotated'], outcome: 'success' })
      .matchHeader('accept', 'text/event-stream')
      .matchHeader('authorization', 'Bearer mdt_pat_test')
      .matchHeader('mandate-organization', 'org_1')
      .matchHeader('x-team', 'blue')
      .matchHeader('last-event-id', absent)
      .reply(200, `retry: 1000\n\n: heartbeat\n\n${message(1)}${message(2, 'agent.future_action')}`, SSE);
    const stream = client.events.stream({ action: ['agent.*', 'credential.rotated'], outcome: 'success' });
    const [first, second] = await take(stream, 2);
    expect(first).toEqual({ id: evt(1), event: 'agent.created', data: auditEvent(1) });
    // Typed as the audit event model; actions and enums the SDK does not know are kept.
    if (second === undefined || isOverflow(second)) throw new Error('expected an audit event');
    expect(second.data.action).toBe('agent.future_action');
    expect(second.data.sequence).toBe(2);
    expect(stream.lastEventId).toBe(evt(2));
    expect(stream.response?.status).toBe(200);
    expect(stream.response?.headers.get('cache-control')).toBe('no-store');
  });

  it('sends nothing until it is iterated', () => {
    const { client } = mockClient();
    client.events.stream().close(); // nock fails the test on any request
  });

  it('resumes after the server closes the stream: Last-Event-ID, after the retry: delay', async () => {
    const { client, clock, api } = mockClient();
    api.get(PATH).matchHeader('last-event-id', evt(1)).reply(200, `retry: 2500\n\n${message(2)}${message(3)}`, SSE);
    api.get(PATH).matchHeader('last-event-id', evt(3)).reply(200, message(4), SSE);
    const events = await take(client.events.stream({}, { lastEventId: evt(1) }), 3);
    expect(events.map((e) => e.id)).toEqual([evt(2), evt(3), evt(4)]);
    expect(clock.sleeps).toEqual([2500]);
  });

  it('waits 3 s by default, and yields the overflow message before resuming', async () => {
    const { client, clock, api } = mockClient();
    api.get(PATH).reply(200, `${message(1)}event: overflow\ndata: {"lastEventId":"${evt(1)}"}\n\n`, SSE);
    api.get(PATH).matchHeader('last-event-id', evt(1)).reply(200, message(2), SSE);
    const events = await take(client.events.stream(), 3);
    expect(events.map((e) => e.event)).toEqual(['agent.created', 'overflow', 'agent.created']);
    expect(events.map(isOverflow)).toEqual([false, true, false]);
    expect(events[1]?.data).toEqual({ lastEventId: evt(1) });
    expect(events[2]?.id).toBe(evt(2));
    expect(clock.sleeps).toEqual([3000]);
  });

  it.each([
    [400, 'INVALID_LAST_EVENT_ID', BadRequestError],
    [403, 'INSUFFICIENT_SCOPE', PermissionDeniedError],
  ])('a %i at connect is thrown from the loop as a typed error, not retried', async (status, code, ErrorClass) => {
    const { client, clock, api } = mockClient();
    api.get(PATH).once().reply(status, problem(status, code), PROBLEM);
    const error: unknown = await take(client.events.stream({}, { lastEventId: 'evt_gone' }), 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toMatchObject({ status, code, requestId: 'req_connect' });
    expect(clock.sleeps).toEqual([]);
  });

  it('a 4xx on a reconnect ends the stream with the error too', async () => {
    const { client, api } = mockClient();
    api.get(PATH).reply(200, message(1), SSE);
    api.get(PATH).matchHeader('last-event-id', evt(1)).reply(400, problem(400, 'INVALID_LAST_EVENT_ID'), PROBLEM);
    const seen: string[] = [];
    const loop = async (): Promise<void> => {
      for await (const event of client.events.stream()) seen.push(event.id);
    };
    await expect(loop()).rejects.toMatchObject({ status: 400, code: 'INVALID_LAST_EVENT_ID' });
    expect(seen).toEqual([evt(1)]);
  });

  const agentCredentials = { apiToken: undefined, clientId: 'agt_bot', clientSecret: 'mdt_sk_secret' };
  const token = (value: string) => ({ access_token: value, token_type: 'Bearer', expires_in: 3600 });

  it('with a managed token, a 401 refreshes the token and reconnects', async () => {
    const { client, clock, api } = mockClient(agentCredentials);
    api.post('/oauth2/token').reply(200, token('tok-old'));
    api.get(PATH).matchHeader('authorization', 'Bearer tok-old').reply(401, problem(401, 'INVALID_TOKEN'), PROBLEM);
    api.post('/oauth2/token').reply(200, token('tok-new'));
    api.get(PATH).matchHeader('authorization', 'Bearer tok-new').reply(200, message(1), SSE);
    await expect(take(client.events.stream(), 1)).resolves.toMatchObject([{ id: evt(1) }]);
    expect(clock.sleeps).toEqual([]);
  });

  it('refreshes once per connect: a second 401 in a row is an AuthenticationError', async () => {
    const { client, api } = mockClient(agentCredentials);
    api.post('/oauth2/token').times(2).reply(200, token('tok'));
    api.get(PATH).times(2).reply(401, problem(401, 'INVALID_TOKEN'), PROBLEM);
    await expect(take(client.events.stream(), 1)).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('counts failed connects in a row: more than maxRetries raises, with backoff from the retry delay', async () => {
    const { client, clock, api } = mockClient({ maxRetries: 2 });
    api.get(PATH).reply(503, problem(503, 'UNAVAILABLE'), PROBLEM);
    api.get(PATH).replyWithError('connect ECONNREFUSED');
    api.get(PATH).reply(500, problem(500, 'INTERNAL'), PROBLEM);
    await expect(take(client.events.stream(), 1)).rejects.toBeInstanceOf(InternalServerError);
    expect(clock.sleeps).toEqual([3000, 6000]);
  });

  it('a successful connect resets the count of failures', async () => {
    const { client, clock, api } = mockClient({ maxRetries: 1, clock: new FakeClock(undefined, 1) });
    api.get(PATH).reply(503, '');
    api.get(PATH).reply(200, message(1), SSE);
    api.get(PATH).replyWithError('socket hang up');
    api.get(PATH).reply(200, message(2), SSE);
    const events = await take(client.events.stream(), 2);
    expect(events.map((e) => e.id)).toEqual([evt(1), evt(2)]);
    // Failures wait the retry delay less the jitter (25 % here); the end of a stream waits it exactly.
    expect(clock.sleeps).toEqual([2250, 3000, 2250]);
  });

  it('reconnects when the open stream goes silent for longer than the timeout', async () => {
    const { client, clock, api } = mockClient({ timeout: 50 });
    const silent = new PassThrough();
    silent.write(message(1));
    api.get(PATH).reply(200, () => silent, SSE);
    api.get(PATH).matchHeader('last-event-id', evt(1)).reply(200, message(2), SSE);
    const events = await take(client.events.stream(), 2);
    expect(events.map((e) => e.id)).toEqual([evt(1), evt(2)]);
    expect(clock.sleeps).toEqual([3000]);
  });

  it('honours the signal and refuses a second reader', async () => {
    const { client, api } = mockClient();
    const body = new PassThrough();
    body.write(message(1));
    api.get(PATH).reply(200, () => body, SSE);
    const controller = new AbortController();
    const stream = client.events.stream(undefined, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    expect(() => stream[Symbol.asyncIterator]()).toThrow(MandateError);
    await expect(iterator.next()).resolves.toMatchObject({ value: { id: evt(1) } });
    const pending = iterator.next();
    controller.abort();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
  });

  it('close() between two events of one chunk yields no more', async () => {
    const { client, api } = mockClient();
    api.get(PATH).once().reply(200, message(1) + message(2), SSE);
    const stream = client.events.stream();
    const seen: string[] = [];
    for await (const event of stream) {
      seen.push(event.id);
      stream.close();
    }
    expect(seen).toEqual([evt(1)]);
  });

  it('honours Retry-After on a failed reconnect', async () => {
    const { client, clock, api } = mockClient();
    api.get(PATH).reply(503, problem(503, 'UNAVAILABLE'), { ...PROBLEM, 'retry-after': '7' });
    api.get(PATH).reply(200, message(1), SSE);
    await take(client.events.stream(), 1);
    expect(clock.sleeps).toEqual([7000]);
  });

  it('close() also ends the wait before a reconnect', async () => {
    // A clock whose sleep ends only when aborted, as the real one does on close().
    const sleep = (_ms: number, signal?: AbortSignal): Promise<void> =>
      new Promise((resolve) => {
        signal?.addEventListener('abort', () => {
          resolve();
        });
      });
    const clock = { now: () => 0, random: () => 0, sleep };
    const { client, api } = mockClient({ clock });
    api.get(PATH).once().reply(200, message(1), SSE);
    const stream = client.events.stream();
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    const pending = iterator.next(); // the body has ended: now waiting to reconnect
    await new Promise((resolve) => setTimeout(resolve, 20));
    stream.close();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
  });

  it('logs connects and reconnects, never the token or the events', async () => {
    const lines: string[] = [];
    const record = (text: string, ...details: unknown[]): void => {
      lines.push([text, ...details.map((d) => JSON.stringify(d))].join(' '));
    };
    const logger: Logger = { debug: record, info: record, warn: record, error: record };
    const { client, api } = mockClient({ logLevel: 'debug', logger });
    api.get(PATH).reply(200, message(1), { ...SSE, 'x-request-id': 'req_s1' });
    api.get(PATH).reply(200, message(2), SSE);
    await take(client.events.stream(), 2);
    const output = lines.join('\n');
    expect(output).toContain('GET /v1/events/stream -> 200');
    expect(output).toContain('"requestId":"req_s1"');
    expect(output).toContain('reconnecting GET /v1/events/stream in 3000 ms (the stream ended)');
    expect(output).not.toMatch(/mdt_pat_test|Bearer|agent\.created|org_1/);
  });
});

describe('events.stream against a real connection', () => {
  beforeAll(() => {
    nock.enableNetConnect('127.0.0.1');
  });
  afterAll(() => {
    nock.disableNetConnect();
  });

  it('close() ends a pending read and closes the connection', async () => {
    const seen: IncomingMessage[] = [];
    const server = createServer((request, response) => {
      seen.push(request);
      response.writeHead(200, SSE);
      response.write(message(1)); // and nothing more: the next read waits
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = new Mandate({ baseURL: `http://127.0.0.1:${port}`, apiToken: 'mdt_pat_test' });
      const stream = client.events.stream();
      const iterator = stream[Symbol.asyncIterator]();
      await expect(iterator.next()).resolves.toMatchObject({ value: { id: evt(1) } });
      const disconnected = new Promise((resolve) => seen[0]?.once('close', resolve));
      const pending = iterator.next();
      stream.close();
      await expect(pending).resolves.toEqual({ value: undefined, done: true });
      await disconnected; // the server saw the client go
      expect(seen).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
