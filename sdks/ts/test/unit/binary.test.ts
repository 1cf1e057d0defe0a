import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APITimeoutError, Mandate, NotFoundError } from '../../src/index';
import { FakeClock } from '../helpers/fake-clock';

/**
 * Binary responses (`agents.scaffold`, application/zip) over a real loopback socket, so the
 * bytes cross an actual HTTP transport: every byte value, including sequences that are not
 * UTF-8, must come back as sent.
 */

/** A zip's local-file magic, then every byte value once, then bytes that are not UTF-8. */
const ZIP = new Uint8Array([0x50, 0x4b, 0x03, 0x04, ...Array.from({ length: 256 }, (_, i) => i), 0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0x00]);

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

let server: Server;
let baseURL: string;
let handler: Handler;
let seen: Seen[];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => {
    server.close((error) => {
      if (error) reject(error);
      else resolve();
    });
  });
});

beforeEach(() => {
  seen = [];
});

const zipReply: Handler = (_req, res) => {
  res.writeHead(200, {
    'content-type': 'application/zip',
    'content-disposition': 'attachment; filename="bot-go.zip"',
    'x-request-id': 'req_zip',
  });
  res.end(Buffer.from(ZIP));
};

function client(clock = new FakeClock()): Mandate {
  return new Mandate({ baseURL, apiToken: 'mdt_pat_test', organization: 'org_1', clock, maxRetries: 2 });
}

describe('binary responses', () => {
  it('resolves to the bytes exactly as sent, and asks for the media type by name', async () => {
    handler = zipReply;
    const bytes = await client().agents.scaffold('agt_1', { language: 'go' });
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(Array.from(bytes)).toEqual(Array.from(ZIP));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/v1/agents/agt_1/scaffold?language=go' });
    expect(seen[0]?.headers).toMatchObject({ accept: 'application/zip', authorization: 'Bearer mdt_pat_test', 'mandate-organization': 'org_1' });
  });

  it('gives the raw response beside the bytes', async () => {
    handler = zipReply;
    const { data, response } = await client().agents.scaffold('agt_1', { language: 'python' }).withResponse();
    expect(Array.from(data)).toEqual(Array.from(ZIP));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="bot-go.zip"');
    expect(response.headers.get('x-request-id')).toBe('req_zip');
  });

  it('turns a problem document into the typed error, with its code and request id', async () => {
    handler = (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/problem+json', 'x-request-id': 'req_404' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Not found', status: 404, code: 'AGENT_NOT_FOUND', requestId: 'req_404' }));
    };
    const error: unknown = await client().agents.scaffold('agt_nope', { language: 'java' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'AGENT_NOT_FOUND', requestId: 'req_404' });
    expect(seen[0]?.headers.accept).toBe('application/zip');
  });

  it('retries as any call does, with the same Accept, and returns the bytes of the success', async () => {
    let calls = 0;
    handler = (req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' });
        res.end(JSON.stringify({ title: 'Unavailable', status: 503, code: 'UNAVAILABLE' }));
        return;
      }
      zipReply(req, res);
    };
    const clock = new FakeClock();
    const bytes = await client(clock).agents.scaffold('agt_1', { language: 'typescript' });
    expect(Array.from(bytes)).toEqual(Array.from(ZIP));
    expect(clock.sleeps).toEqual([1000]);
    expect(seen.map((s) => s.headers.accept)).toEqual(['application/zip', 'application/zip']);
  });

  it('times out like any call', async () => {
    handler = (req, res) => {
      setTimeout(() => {
        zipReply(req, res);
      }, 500);
    };
    const slow = new Mandate({ baseURL, apiToken: 'mdt_pat_test', clock: new FakeClock(), maxRetries: 0, timeout: 50 });
    await expect(slow.agents.scaffold('agt_1', { language: 'go' })).rejects.toBeInstanceOf(APITimeoutError);
  });
});
