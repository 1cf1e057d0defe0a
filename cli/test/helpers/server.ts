import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The built reference server (`make build`). */
const SERVER_JS = path.resolve(__dirname, '../../../reference-server/dist/main.js');

export interface LiveServer {
  baseUrl: string;
  /** The instance-admin token the server was started with. */
  adminToken: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => { resolve(port); });
    });
  });
}

/**
 * A throwaway server on the embedded store (PGlite in a temporary folder), on a loopback
 * port, with a fresh instance-admin token. Rate limits stay on but out of reach, as the
 * 5,000-agent import would otherwise meet the per-caller limit; webhooks may target
 * loopback and fail after one attempt, so a delivery's outcome is known at once.
 */
export async function startServer(env: Record<string, string> = {}): Promise<LiveServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mandate-cli-test-'));
  const adminToken = `mdt_pat_${randomBytes(32).toString('base64url')}`;
  const child: ChildProcess = spawn(process.execPath, [SERVER_JS], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      MANDATE_ISSUER: `http://127.0.0.1:${port}`,
      MANDATE_DATA_DIR: dataDir,
      MANDATE_BOOTSTRAP_TOKEN: adminToken,
      MANDATE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1/32',
      MANDATE_WEBHOOK_MAX_ATTEMPTS: '1',
      MANDATE_RATE_LIMIT_API_PER_CALLER: '100000000',
      MANDATE_RATE_LIMIT_TOKEN_PER_CLIENT: '100000000',
      MANDATE_RATE_LIMIT_TOKEN_PER_ADDRESS: '100000000',
      MANDATE_DEVICE_REQUESTS_PER_MINUTE: '100000',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => { errors = (errors + chunk.toString()).slice(-4000); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`the server did not start in 60 s\n${errors}`)); }, 60_000);
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        if (line.includes('"mandate listening"')) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${String(code)} before listening\n${errors}`));
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    adminToken,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(force);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
