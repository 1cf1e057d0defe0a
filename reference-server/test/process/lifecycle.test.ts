import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';

/** The real entry point, as `npm start` runs it: node dist/main.js (built by `npm run build`). */
const MAIN = path.resolve(__dirname, '../../dist/main.js');
const dataDir = mkdtempSync(path.join(tmpdir(), 'mandate-process-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(env: Record<string, string>): Running {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { resolve(code); }));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const listening = (r: Running) => () => r.stdout().includes('mandate listening');
const portOf = (r: Running): number => Number(/"port":(\d+)/.exec(r.stdout())?.[1]);

describe('the server process on the embedded default', () => {
  it('prints a generated instance-admin token once, and never creates a second one', async () => {
    const env = { MANDATE_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' };
    const first = run(env);
    await waitFor(listening(first), 'first start');
    const token = /mdt_pat_[A-Za-z0-9_-]{43}/.exec(first.stderr())?.[0];
    expect(token).toBeDefined();
    expect(first.stdout()).not.toContain(token); // not in the structured log
    const response = await fetch(`http://127.0.0.1:${portOf(first)}/v1/orgs`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = run(env);
    await waitFor(listening(second), 'restart');
    expect(second.stderr()).not.toMatch(/mdt_pat_/);
    expect(second.stdout()).not.toContain('instance-admin token created');
    const again = await fetch(`http://127.0.0.1:${portOf(second)}/v1/orgs`, { headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120000);

  it('finishes a request in flight on SIGTERM before exiting', async () => {
    const token = `mdt_pat_${'s'.repeat(43)}`;
    const server = run({ MANDATE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'mandate-drain-')), MANDATE_BOOTSTRAP_TOKEN: token, PORT: '0', HOST: '127.0.0.1' });
    await waitFor(listening(server), 'start');
    // Half a body is on the wire when SIGTERM arrives; the rest follows after it.
    const body = JSON.stringify({ name: 'drained' });
    const response = new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: portOf(server), method: 'POST', path: '/v1/orgs', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': body.length } },
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

  it('refuses to start on bad configuration, naming every problem', async () => {
    const bad = run({ PORT: 'eighty', MANDATE_ISSUER: 'http://example.com', DATABASE_URL: 'mysql://x', MANDATE_BOOTSTRAP_TOKEN: 'secret' });
    expect(await bad.exited).toBe(2);
    const message = bad.stderr();
    for (const name of ['PORT', 'MANDATE_ISSUER', 'DATABASE_URL', 'MANDATE_SECRET_PEPPER', 'MANDATE_BOOTSTRAP_TOKEN']) expect(message).toContain(name);
    expect(message).not.toContain('secret"'); // the rejected secret value itself is not echoed
  });
});
