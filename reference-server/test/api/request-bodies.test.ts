import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type TestServer, startServer } from '../helpers/server';

const BODY_TIMEOUT_MS = 500;
let server: TestServer;

beforeAll(async () => {
  server = await startServer('embedded', { MANDATE_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS) });
});
afterAll(() => server.close());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  elapsedMs: number;
}

/**
 * A chunked POST whose body the client keeps writing (`endless`) or stops writing
 * (`stalled`) without ever ending it: the answer must come anyway.
 */
function sendUnendingBody(path: string, contentType: string, mode: 'endless' | 'stalled'): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const url = new URL(path, server.baseUrl);
    const req = request(url, { method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${server.bootstrapToken}`, 'transfer-encoding': 'chunked' } });
    let writer: NodeJS.Timeout | undefined;
    req.on('response', (res) => {
      clearInterval(writer);
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Record<string, unknown>, elapsedMs: Date.now() - started });
      });
    });
    req.on('error', reject);
    req.write(contentType === 'application/json' ? '{"name":"' : 'grant_type=');
    if (mode === 'endless') {
      writer = setInterval(() => req.write('x'.repeat(16_384)), 5);
    }
  });
}

describe('request bodies that do not end', () => {
  it.each([
    ['/v1/orgs', 'application/json'],
    ['/oauth2/token', 'application/x-www-form-urlencoded'],
  ])('answers 413 with a problem, then closes, when a chunked body to %s passes the limit', async (path, contentType) => {
    const answer = await sendUnendingBody(path, contentType, 'endless');
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(answer.headers.connection).toBe('close');
  });

  it.each([
    ['/v1/orgs', 'application/json'],
    ['/oauth2/token', 'application/x-www-form-urlencoded'],
  ])('answers 408 with a problem when a body to %s stops arriving', async (path, contentType) => {
    const answer = await sendUnendingBody(path, contentType, 'stalled');
    expect(answer.status).toBe(408);
    expect(answer.body).toMatchObject({ code: 'BODY_TIMEOUT' });
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50);
    expect(answer.elapsedMs).toBeLessThan(BODY_TIMEOUT_MS * 10);
  });

  it('keeps serving afterwards', async () => {
    const response = await fetch(`${server.baseUrl}/v1/orgs`, { headers: { authorization: `Bearer ${server.bootstrapToken}` } });
    expect(response.status).toBe(200);
  });
});
