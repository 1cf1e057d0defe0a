import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from '../helpers/api';
import { createAgent, createOrg } from '../helpers/fixtures';
import { rawRequest } from '../helpers/raw-request';
import { type TestServer, startServer } from '../helpers/server';

let server: TestServer;
let api: Api;

beforeAll(async () => {
  server = await startServer('postgres');
  api = new Api(server.baseUrl, null);
});
afterAll(() => server.close());

describe('service endpoints', () => {
  it('answers liveness and readiness with both dependencies up', async () => {
    expect((await api.call('getHealth')).body).toEqual({ status: 'ok' });
    const ready = await api.call('getReadiness');
    expect(ready.body).toMatchObject({ status: 'ready', checks: { database: { status: 'up' }, cache: { status: 'up' } } });
    expect(ready.status).toBe(200);
  });

  it('serves the bundled spec with this instance as its server', async () => {
    const served = await api.call('getOpenApiDocument');
    const onDisk = JSON.parse(readFileSync(path.resolve(__dirname, '../../../spec/dist/openapi.json'), 'utf8')) as Record<string, unknown>;
    expect(served.body).toEqual({ ...onDisk, servers: [{ url: server.issuer, description: 'This Mandate server' }] });
  });

  it('exposes Prometheus metrics that count what happened', async () => {
    const root = new Api(server.baseUrl, server.bootstrapToken);
    const org = await createOrg(root);
    await createAgent(new Api(server.baseUrl, org.admin));
    await root.as('mdt_pat_wrong').call('listOrgs');
    const metrics = (await api.call('getMetrics')).text;
    expect(metrics).toMatch(/mandate_http_requests_total\{operation="createAgent",method="POST",status="201"\} [1-9]/);
    expect(metrics).toMatch(/mandate_http_request_duration_seconds_bucket\{le="\+Inf",operation="createAgent",method="POST"\} [1-9]/);
    expect(metrics).toMatch(/mandate_agents_registered_total [1-9]/);
    expect(metrics).toMatch(/mandate_tokens_issued_total \d+/);
    expect(metrics).toMatch(/mandate_auth_failures_total\{reason="unknown"\} [1-9]/);
    expect(metrics).toMatch(/mandate_db_query_duration_seconds_count [1-9]/);
    expect(metrics).toMatch(/mandate_cache_operation_duration_seconds_count\{operation="[a-z]+"\} [1-9]/);
  });

  it('answers unknown paths and methods with problems, and echoes a valid X-Request-Id', async () => {
    const missing = await fetch(`${server.baseUrl}/v1/nothing`, { headers: { 'x-request-id': 'trace-123' } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-request-id')).toBe('trace-123');
    expect(((await missing.json()) as { code: string }).code).toBe('ROUTE_NOT_FOUND');
    // node:http, since fetch refuses to send TRACE.
    for (const method of ['PUT', 'TRACE', 'QUERY', 'PROPFIND']) {
      const answer = await rawRequest(`${server.baseUrl}/v1/agents`, { method });
      const wrongMethod = { status: answer.status, allow: answer.headers.allow, body: answer.body.toString() };
      expect(wrongMethod).toMatchObject({ status: 405, allow: 'HEAD, GET, POST' });
      expect((JSON.parse(wrongMethod.body) as { code: string }).code).toBe('METHOD_NOT_ALLOWED');
    }
    const bad = await fetch(`${server.baseUrl}/health`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{24}$/);
  });

  it('sends a browser that opens the server root to the API reference', async () => {
    const root = await fetch(`${server.baseUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/docs');
    const post = await fetch(`${server.baseUrl}/`, { method: 'POST', redirect: 'manual' });
    expect(post.status).toBe(404);
  });
});

describe('readiness with the cache down', () => {
  let broken: TestServer;
  beforeAll(async () => {
    broken = await startServer('postgres', { REDIS_URL: 'redis://127.0.0.1:1' }).catch((error: unknown) => {
      throw new Error(`a server must start even while Redis is down: ${String(error)}`);
    });
  });
  afterAll(() => broken.close());

  it('reports 503 and names the cache, while liveness stays 200', async () => {
    const probe = new Api(broken.baseUrl, null);
    const ready = await probe.call('getReadiness');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'unavailable', checks: { database: { status: 'up' }, cache: { status: 'down' } } });
    expect((await probe.call('getHealth')).status).toBe(200);
  });

  it('still serves authenticated calls: last-used bookkeeping is skipped, not fatal', async () => {
    const list = await new Api(broken.baseUrl, broken.bootstrapToken).call('listOrgs');
    expect(list.status).toBe(200);
  });
});
