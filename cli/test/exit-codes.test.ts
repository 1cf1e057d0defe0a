import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { json, loginEnv, mandate, mandateAsync, sandbox, type Sandbox } from './helpers/cli.js';
import { type LiveServer, startServer } from './helpers/server.js';

/** Each exit status of the documented scheme, provoked for real. */
let server: LiveServer;
let box: Sandbox;
let orgId: string;

beforeAll(async () => {
  server = await startServer();
  const admin = sandbox(loginEnv(server.baseUrl, server.adminToken));
  orgId = json<{ id: string }>(admin, ['orgs', 'create', '--name', 'exit-codes-org']).id;
  box = sandbox(loginEnv(server.baseUrl, server.adminToken, orgId));
});

afterAll(async () => {
  await server.stop();
});

test('0: done, and --help and --version are successes', () => {
  expect(mandate(box, ['agents', 'list']).code).toBe(0);
  expect(mandate(box, ['--help']).code).toBe(0);
  expect(mandate(box, ['agents', 'create', '--help']).code).toBe(0);
  expect(mandate(box, ['--version'])).toMatchObject({ code: 0, stdout: '0.1.0\n' });
});

test('1: the API refused the request (409, 400), with its code, detail and request id', () => {
  json(box, ['agents', 'create', 'taken', '--type', 'tool']);
  const conflict = mandate(box, ['agents', 'create', 'taken', '--type', 'tool']);
  expect(conflict.code).toBe(1);
  expect(conflict.stderr).toMatch(/error: AGENT_NAME_TAKEN \(409\) An agent named "taken" already exists/);
  expect(conflict.stderr).toMatch(/request id: req_[0-9a-f]+/);
  const invalid = mandate(box, ['agents', 'create', 'x'.repeat(300), '--type', 'tool', '-o', 'json']);
  expect(invalid.code).toBe(1);
  const report = (JSON.parse(invalid.stderr) as { error: { status: number; code: string; requestId: string; errors: { field: string }[] } }).error;
  expect(report).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
  expect(report.requestId).toMatch(/^req_/);
  expect(report.errors.map((e) => e.field)).toContain('body.name');
});

test('2: usage errors, before anything is sent', () => {
  for (const args of [
    ['agents', 'lst'],
    ['agents'],
    ['agents', 'list', '--output', 'xml'],
    ['agents', 'list', '--limit', 'many'],
    ['agents', 'list', '--status', 'sleeping'],
    ['agents', 'create', 'no-type'],
    ['agents', 'get'],
    ['agents', 'create', 'bot', '--type', 'tool', '--metadata', '[1]'],
    ['agents', 'import', '/nonexistent.csv'],
    ['completion', 'tcsh'],
  ]) {
    const result = mandate(box, args);
    expect({ args, code: result.code }).toEqual({ args, code: 2 });
    expect(result.stderr).not.toBe('');
  }
  // A wrong base URL is a configuration error too.
  expect(mandate(box, ['agents', 'list', '--base-url', 'not a url']).code).toBe(2);
});

test('3: no credential, a refused one (401) and an insufficient one (403)', () => {
  const none = mandate(sandbox({ MANDATE_BASE_URL: server.baseUrl }), ['agents', 'list']);
  expect(none.code).toBe(3);
  expect(none.stderr).toContain('mandate login');
  const refused = mandate(sandbox(loginEnv(server.baseUrl, `mdt_pat_${'C'.repeat(43)}`)), ['agents', 'list']);
  expect(refused.code).toBe(3);
  expect(refused.stderr).toContain('(401)');
  const reader = json<{ token: string }>(box, ['orgs', 'tokens', 'create', orgId, '--role', 'reader', '--label', 'exit-3']);
  const forbidden = mandate(sandbox(loginEnv(server.baseUrl, reader.token)), ['agents', 'create', 'not-allowed', '--type', 'tool']);
  expect(forbidden.code).toBe(3);
  expect(forbidden.stderr).toContain('(403)');
});

test('4: not found', () => {
  const missing = mandate(box, ['agents', 'get', 'agt_00000000000000000000000000']);
  expect(missing.code).toBe(4);
  expect(missing.stderr).toContain('AGENT_NOT_FOUND (404)');
  expect(mandate(box, ['credentials', 'list', 'agt_00000000000000000000000000']).code).toBe(4);
});

describe('5: server errors and an unreachable server', () => {
  let broken: Server;
  let brokenUrl: string;
  beforeAll(async () => {
    // A server that fails every request as a real one might: a 503 problem document.
    broken = createServer((_request, response) => {
      response.writeHead(503, { 'content-type': 'application/problem+json', 'x-request-id': 'req_broken', 'retry-after': '0' });
      response.end(JSON.stringify({ type: 'https://mandate.dev/problems/unavailable', title: 'Unavailable', status: 503, code: 'UNAVAILABLE', detail: 'The database is down.' }));
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    brokenUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => broken.close(resolve));
  });

  test('5xx', async () => {
    // Asynchronous: the broken server answers from this very process.
    const result = await mandateAsync(box, ['agents', 'list', '--base-url', brokenUrl]);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('UNAVAILABLE (503) The database is down.');
    expect(result.stderr).toContain('request id: req_broken');
  });

  test('connection refused', () => {
    const result = mandate(box, ['agents', 'list', '--base-url', 'http://127.0.0.1:9']);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('Is the server running');
  });
});

test('6: finished with failures (an import row, a token that does not verify)', () => {
  const file = path.join(box.home, 'one-bad.jsonl');
  writeFileSync(file, '{"name":"fine-1","agentType":"tool"}\n{"name":"bad-type","agentType":"spaceship"}\nnot json\n');
  const result = mandate(box, ['agents', 'import', file, '-o', 'json']);
  expect(result.code).toBe(6);
  const summary = JSON.parse(result.stdout) as { created: number; failed: number; failures: { line: number; code: string }[] };
  expect(summary).toMatchObject({ created: 1, failed: 2 });
  expect(summary.failures.map((f) => [f.line, f.code])).toEqual([[2, 'VALIDATION_ERROR'], [3, 'INVALID_ROW']]);
  const forged = `eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Im5vbmUifQ.${Buffer.from(JSON.stringify({ sub: 'agt_x', iss: server.baseUrl })).toString('base64url')}.${'A'.repeat(86)}`;
  expect(mandate(box, ['tokens', 'decode', forged]).code).toBe(6);
});
