import dns, { type LookupAddress } from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { type AttemptResult, MAX_RETRY_AFTER_MS, USER_AGENT, classify, parseRetryAfter, sendWebhook } from '../../src/workers/webhooks/sender';
import { parseAllowList } from '../../src/net/ssrf';

/** What a receiver saw of one request. */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  localAddress: string;
}

interface Receiver {
  /** http://127.0.0.1:<port> */
  origin: string;
  port: number;
  seen: Seen[];
  /** Connections the client has closed or the server has destroyed so far. */
  closed: () => number;
}

const servers: http.Server[] = [];

/** A real HTTP receiver on loopback; `respond` runs once the request body has arrived. */
async function receiver(respond: (response: http.ServerResponse, request: http.IncomingMessage) => void, host = '127.0.0.1'): Promise<Receiver> {
  const seen: Seen[] = [];
  let closed = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        localAddress: request.socket.localAddress ?? '',
      });
      respond(response, request);
    });
  });
  server.on('connection', (socket) => socket.on('close', () => (closed += 1)));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://${host}:${port}`, port, seen, closed: () => closed };
}

/** Waits (briefly) for something the other end of a socket does. */
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(check()).toBe(true);
}

afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => {
            resolve();
          });
        }),
    ),
  );
});

const loopback = parseAllowList('127.0.0.0/8');
const none = parseAllowList(undefined);
const body = JSON.stringify({ type: 'agent.created', data: { id: 'evt_1', name: 'Zoë 🤖' } });
const signed = { 'webhook-id': 'msg_1', 'webhook-timestamp': '1767225600', 'webhook-signature': 'v1,abc=' };

const send = (url: string, options: Partial<Parameters<typeof sendWebhook>[0]> = {}): Promise<AttemptResult> =>
  sendWebhook({ url, headers: signed, body, allow: loopback, timeoutMs: 2000, maxResponseBytes: 1024, ...options });

/** Fakes the resolver: `answers` gives each call's addresses in turn (the last one repeats). */
function fakeDns(answers: LookupAddress[][]): string[] {
  const hosts: string[] = [];
  const fake = (host: string, _options: unknown, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void): void => {
    const answer = answers[Math.min(hosts.length, answers.length - 1)] ?? [];
    hosts.push(host);
    process.nextTick(() => {
      callback(null, answer);
    });
  };
  jest.spyOn(dns, 'lookup').mockImplementation(fake as unknown as typeof dns.lookup);
  return hosts;
}

describe('sendWebhook', () => {
  it('POSTs the body with the signature headers, and records a 2xx with its body', async () => {
    const hook = await receiver((response) => {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('thanks');
    });
    const result = await send(`${hook.origin}/hooks/mandate?tenant=1`, { headers: { ...signed, 'User-Agent': 'not ours', 'Content-Type': 'text/plain' } });

    expect(result).toEqual({ status: 200, latencyMs: expect.any(Number), responseBody: 'thanks', error: null, retryAfterMs: null });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(classify(result)).toBe('succeeded');
    expect(hook.seen).toHaveLength(1);
    const [request] = hook.seen;
    expect(request).toMatchObject({ method: 'POST', url: '/hooks/mandate?tenant=1', body });
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'content-length': String(Buffer.byteLength(body)),
      ...signed,
    });
    expect(USER_AGENT).toBe('Mandate-Webhooks/1.0');
  });

  it('records a 500 as worth retrying', async () => {
    const hook = await receiver((response) => {
      response.writeHead(500).end('oops');
    });
    const result = await send(hook.origin);
    expect(result).toMatchObject({ status: 500, responseBody: 'oops', error: null, retryAfterMs: null });
    expect(classify(result)).toBe('retry');
  });

  it('reads Retry-After in seconds and as an HTTP date', async () => {
    const tooMany = await receiver((response) => {
      response.writeHead(429, { 'retry-after': '3' }).end();
    });
    const result = await send(tooMany.origin);
    expect(result).toMatchObject({ status: 429, retryAfterMs: 3000, responseBody: '', error: null });
    expect(classify(result)).toBe('retry');

    const unavailable = await receiver((response) => {
      response.writeHead(503, { 'retry-after': new Date(Date.now() + 60_000).toUTCString() }).end();
    });
    const later = await send(unavailable.origin);
    expect(later.retryAfterMs).toBeGreaterThan(55_000);
    expect(later.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('gives up after timeoutMs when the receiver does not answer, and closes the connection', async () => {
    const hook = await receiver(() => undefined);
    const result = await send(hook.origin, { timeoutMs: 300 });
    expect(result).toMatchObject({ status: null, responseBody: null, error: 'timeout', retryAfterMs: null });
    expect(result.latencyMs).toBeGreaterThanOrEqual(290);
    expect(result.latencyMs).toBeLessThan(2000);
    expect(classify(result)).toBe('retry');
    await eventually(() => hook.closed() === 1);
  });

  it('counts the whole response against the timeout, keeping the status and what was read', async () => {
    const hook = await receiver((response) => {
      response.writeHead(200, { 'content-length': '100' });
      response.write('partial');
    });
    const result = await send(hook.origin, { timeoutMs: 300 });
    expect(result).toMatchObject({ status: 200, responseBody: 'partial', error: 'timeout' });
    await eventually(() => hook.closed() === 1);
  });

  it('records a connection closed mid-response, keeping what was read', async () => {
    const hook = await receiver((response) => {
      response.writeHead(502, { 'content-length': '100' });
      response.write('half a', () => response.socket?.destroy());
    });
    const result = await send(hook.origin);
    expect(result).toMatchObject({ status: 502, responseBody: 'half a', error: 'connection closed mid-response' });
    expect(classify(result)).toBe('retry');
  });

  it('records a connection closed before any response as worth retrying', async () => {
    const hook = await receiver((_response, request) => request.socket.destroy());
    const result = await send(hook.origin);
    expect(result).toMatchObject({ status: null, responseBody: null, error: 'connection closed before a response' });
    expect(classify(result)).toBe('retry');
  });

  it('records a refused connection as worth retrying', async () => {
    const gone = await receiver(() => undefined);
    const server = servers.pop();
    await new Promise((resolve) => server?.close(resolve));
    const result = await send(gone.origin);
    expect(result).toMatchObject({ status: null, error: 'connection refused' });
    expect(classify(result)).toBe('retry');
  });

  it('does not follow a redirect: the attempt fails with its status and the target sees nothing', async () => {
    const target = await receiver((response) => {
      response.writeHead(200).end();
    });
    const hook = await receiver((response) => {
      response.writeHead(302, { location: `${target.origin}/elsewhere` }).end();
    });
    const result = await send(hook.origin);
    expect(result).toMatchObject({ status: 302, error: 'redirect not followed (302)' });
    expect(classify(result)).toBe('failed');
    expect(hook.seen).toHaveLength(1);
    expect(target.seen).toHaveLength(0);
  });

  it('stops reading at maxResponseBytes, keeps that much, and closes the connection', async () => {
    const hook = await receiver((response) => {
      response.writeHead(200);
      // An endless body: only closing the connection ends it.
      const timer = setInterval(() => {
        response.write('x'.repeat(16 * 1024));
      }, 5);
      response.on('close', () => {
        clearInterval(timer);
      });
    });
    const result = await send(hook.origin, { maxResponseBytes: 1000 });
    expect(result).toMatchObject({ status: 200, error: null });
    expect(result.responseBody).toBe('x'.repeat(1000));
    expect(classify(result)).toBe('succeeded');
    await eventually(() => hook.closed() === 1);
  });

  it('cuts a multi-byte character at the limit into a replacement character', async () => {
    const hook = await receiver((response) => {
      response.writeHead(400).end('é'.repeat(10)); // two bytes each
    });
    const result = await send(hook.origin, { maxResponseBytes: 5 });
    expect(result.responseBody).toBe('éé\ufffd');
    expect(classify(result)).toBe('failed');
  });

  describe('the SSRF guard', () => {
    it('refuses a loopback IP literal without the allow-list, naming the address, and never connects', async () => {
      const hook = await receiver((response) => {
        response.writeHead(200).end();
      });
      const result = await send(`https://127.0.0.1:${hook.port}/`, { allow: none });
      expect(result).toMatchObject({ status: null, responseBody: null, error: 'forbidden address 127.0.0.1: loopback (RFC 1122)' });
      expect(classify(result)).toBe('failed');
      expect(hook.seen).toHaveLength(0);
      expect(hook.closed()).toBe(0);
    });

    it('delivers to loopback when 127.0.0.0/8 is allow-listed (http included)', async () => {
      const hook = await receiver((response) => {
        response.writeHead(204).end();
      });
      const result = await send(hook.origin, { allow: parseAllowList('127.0.0.0/8') });
      expect(result).toMatchObject({ status: 204, error: null });
      expect(hook.seen).toHaveLength(1);
    });

    it('refuses http to a host that is not allow-listed', async () => {
      const hook = await receiver((response) => {
        response.writeHead(200).end();
      });
      const result = await send(hook.origin, { allow: none });
      expect(result.error).toMatch(/^invalid URL: https is required/);
      expect(classify(result)).toBe('failed');
      expect(hook.seen).toHaveLength(0);
    });

    it('refuses a host name that resolves to loopback, naming the address, and never connects', async () => {
      const hook = await receiver((response) => {
        response.writeHead(200).end();
      });
      const lookups = jest.spyOn(dns, 'lookup'); // after listen(), which resolves its host too
      const result = await send(`https://localhost:${hook.port}/`, { allow: none });
      expect(result.status).toBeNull();
      expect(result.error).toMatch(/^forbidden address (127\.0\.0\.1|::1) \(from localhost\): loopback/);
      expect(classify(result)).toBe('failed');
      expect(lookups).toHaveBeenCalledTimes(1);
      expect(hook.seen).toHaveLength(0);
      expect(hook.closed()).toBe(0);
    });

    it('delivers to an allow-listed host name, resolving it once', async () => {
      const hook = await receiver((response) => {
        response.writeHead(200).end('ok');
      });
      const lookups = jest.spyOn(dns, 'lookup'); // after listen(), which resolves its host too
      const result = await send(`http://localhost:${hook.port}/`, { allow: parseAllowList('localhost') });
      expect(result).toMatchObject({ status: 200, responseBody: 'ok', error: null });
      expect(lookups).toHaveBeenCalledTimes(1);
      expect(lookups.mock.calls[0]?.[0]).toBe('localhost');
      expect(hook.seen).toHaveLength(1);
    });

    it('connects to exactly the address it vetted: a second, different answer is never asked for', async () => {
      const hook = await receiver((response) => {
        response.writeHead(200).end();
      });
      // A rebinding resolver: the first answer is the receiver, any later one another address.
      const hosts = fakeDns([[{ address: '127.0.0.1', family: 4 }], [{ address: '127.0.0.2', family: 4 }]]);
      const result = await send(`http://rebind.test:${hook.port}/`, { allow: parseAllowList('rebind.test') });
      expect(result).toMatchObject({ status: 200, error: null });
      expect(hosts).toEqual(['rebind.test']);
      expect(hook.seen).toHaveLength(1);
      expect(hook.seen[0]?.localAddress).toBe('127.0.0.1');
      expect(hook.seen[0]?.headers.host).toBe(`rebind.test:${hook.port}`);
    });

    it('refuses a name when one of its addresses is forbidden', async () => {
      fakeDns([
        [
          { address: '93.184.215.14', family: 4 },
          { address: '169.254.169.254', family: 4 },
        ],
      ]);
      const result = await send('https://mixed.test/hook', { allow: none });
      expect(result.error).toMatch(/^forbidden address 169\.254\.169\.254 \(from mixed\.test\): link-local/);
      expect(classify(result)).toBe('failed');
    });

    it('records a name that does not resolve as worth retrying', async () => {
      jest.spyOn(dns, 'lookup').mockImplementation(((_host: string, _options: unknown, callback: (error: NodeJS.ErrnoException) => void) => {
        process.nextTick(() => {
          callback(Object.assign(new Error('getaddrinfo ENOTFOUND nx.test'), { code: 'ENOTFOUND' }));
        });
      }) as unknown as typeof dns.lookup);
      const result = await send('https://nx.test/hook', { allow: none });
      expect(result).toMatchObject({ status: null, error: 'host not found' });
      expect(classify(result)).toBe('retry');
    });
  });

  it('never throws: a bad URL or header is a failed attempt', async () => {
    const badUrl = await send('not a url');
    expect(badUrl).toMatchObject({ status: null, responseBody: null, error: 'invalid URL: not an absolute URL', retryAfterMs: null });
    expect(classify(badUrl)).toBe('failed');
    expect((await send('ftp://hooks.example.com/')).error).toMatch(/^invalid URL/);

    const hook = await receiver((response) => {
      response.writeHead(200).end();
    });
    const badHeader = await send(hook.origin, { headers: { 'webhook-id': 'msg\r\nx-injected: 1' } });
    expect(badHeader.error).toMatch(/^invalid request: /);
    expect(classify(badHeader)).toBe('failed');
    expect(hook.seen).toHaveLength(0);
  });
});

describe('classify', () => {
  const result = (status: number | null, error: string | null = null): AttemptResult => ({ status, latencyMs: 1, responseBody: null, error, retryAfterMs: null });

  it.each([
    [200, 'succeeded'],
    [201, 'succeeded'],
    [204, 'succeeded'],
    [299, 'succeeded'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
    [301, 'failed'],
    [302, 'failed'],
    [304, 'failed'],
    [307, 'failed'],
    [400, 'failed'],
    [401, 'failed'],
    [403, 'failed'],
    [404, 'failed'],
    [410, 'failed'],
    [413, 'failed'],
    [100, 'failed'],
  ])('status %d: %s', (status, outcome) => {
    expect(classify(result(status))).toBe(outcome);
  });

  it.each([
    ['timeout', 'retry'],
    ['connection refused', 'retry'],
    ['connection reset', 'retry'],
    ['host not found', 'retry'],
    ['TLS error: certificate has expired', 'retry'],
    ['forbidden address 10.0.0.1: private (RFC 1918)', 'failed'],
    ['invalid URL: https is required (http only for allow-listed hosts)', 'failed'],
    ['invalid request: Invalid character in header content', 'failed'],
  ])('no status, %s: %s', (error, outcome) => {
    expect(classify(result(null, error))).toBe(outcome);
  });

  it('goes by the status when a response arrived, even if it was cut short', () => {
    expect(classify(result(200, 'connection closed mid-response'))).toBe('succeeded');
    expect(classify(result(503, 'timeout'))).toBe('retry');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it.each([
    ['3', 3000],
    ['0', 0],
    [' 120 ', 120_000],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
    ['Wed, 31 Dec 2025 23:00:00 GMT', 0], // in the past: now
    ['Thursday, 01-Jan-26 00:00:10 GMT', 10_000], // obsolete RFC 850 form
    ['99999999', MAX_RETRY_AFTER_MS],
    ['Fri, 01 Jan 2027 00:00:00 GMT', MAX_RETRY_AFTER_MS],
  ])('%s: %d ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  it.each([undefined, '', 'soon', '3.5', '-1', '1e3', 'Thu, 99 Foo 2026'])('ignores %s', (value) => {
    expect(parseRetryAfter(value, now)).toBeNull();
  });
});
