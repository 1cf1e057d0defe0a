import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { startProcess } from '../helpers/process';
import { SseClient } from '../helpers/sse';

const dataDir = mkdtempSync(path.join(tmpdir(), 'mandate-process-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the server process on the embedded default', () => {
  it('prints a generated instance-admin token once, and never creates a second one', async () => {
    const env = { MANDATE_DATA_DIR: dataDir };
    const first = startProcess(env);
    await first.ready();
    const token = /mdt_pat_[A-Za-z0-9_-]{43}/.exec(first.stderr())?.[0];
    expect(token).toBeDefined();
    expect(first.stdout()).not.toContain(token); // not in the structured log
    const response = await fetch(`${first.baseUrl()}/v1/orgs`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = startProcess(env);
    await second.ready();
    expect(second.stderr()).not.toMatch(/mdt_pat_/);
    expect(second.stdout()).not.toContain('instance-admin token created');
    const again = await fetch(`${second.baseUrl()}/v1/orgs`, { headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120000);

  it('finishes a request in flight on SIGTERM before exiting', async () => {
    const token = `mdt_pat_${'s'.repeat(43)}`;
    const server = startProcess({ MANDATE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'mandate-drain-')), MANDATE_BOOTSTRAP_TOKEN: token });
    await server.ready();
    // Half a body is on the wire when SIGTERM arrives; the rest follows after it.
    const body = JSON.stringify({ name: 'drained' });
    const response = new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.port(), method: 'POST', path: '/v1/orgs', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 5));
      setTimeout(() => {
        server.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(5)), 300);
      }, 300);
    });
    expect(await response).toBe(201);
    expect(await server.exited).toBe(0);
    expect(server.stdout()).toContain('SIGTERM received');
  }, 120000);

  it('ends open event streams on SIGTERM instead of waiting for them', async () => {
    const token = `mdt_pat_${'e'.repeat(43)}`;
    // A drain deadline far beyond the test's own: only ending the streams lets it exit in time.
    const server = startProcess({ MANDATE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'mandate-streams-')), MANDATE_BOOTSTRAP_TOKEN: token, MANDATE_SHUTDOWN_TIMEOUT_MS: '600000' });
    await server.ready();
    const org = (await (await fetch(`${server.baseUrl()}/v1/orgs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"name":"streams"}' })).json()) as { id: string };
    const stream = await SseClient.open(`${server.baseUrl()}/v1/events/stream`, { authorization: `Bearer ${token}`, 'mandate-organization': org.id });
    server.child.kill('SIGTERM');
    await stream.ended;
    expect(await server.exited).toBe(0);
  }, 30000);

  it('refuses to start on bad configuration, naming every problem', async () => {
    const bad = startProcess({ PORT: 'eighty', MANDATE_ISSUER: 'http://example.com', DATABASE_URL: 'mysql://x', MANDATE_BOOTSTRAP_TOKEN: 'secret' });
    expect(await bad.exited).toBe(2);
    const message = bad.stderr();
    for (const name of ['PORT', 'MANDATE_ISSUER', 'DATABASE_URL', 'MANDATE_SECRET_PEPPER', 'MANDATE_BOOTSTRAP_TOKEN']) expect(message).toContain(name);
    expect(message).not.toContain('secret"'); // the rejected secret value itself is not echoed
  });
});
