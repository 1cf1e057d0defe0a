import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { type Mandate, createMandate } from '../../src/app';
import { loadConfig } from '../../src/config';
import { TEST_BOOTSTRAP_TOKEN, TEST_KEY_ENCRYPTION_KEY, TEST_PEPPER, requireEnv } from './env';

export interface TestServer {
  baseUrl: string;
  /** The issuer the instance was configured with (not its loopback address). */
  issuer: string;
  mandate: Mandate;
  bootstrapToken: string;
  close(): Promise<void>;
}

/**
 * A real server on a loopback port: PostgreSQL + Redis ("postgres"), or PGlite in a fresh
 * directory + the in-process cache ("embedded").
 */
/** Rate limits on, at rates no test reaches. */
export const UNREACHED_RATE_LIMITS = {
  MANDATE_RATE_LIMIT_TOKEN_PER_CLIENT: '100000000',
  MANDATE_RATE_LIMIT_TOKEN_PER_ADDRESS: '100000000',
  MANDATE_RATE_LIMIT_API_PER_CALLER: '100000000',
  MANDATE_RATE_LIMIT_REGISTRATION_PER_ADDRESS: '100000000',
  MANDATE_RATE_LIMIT_DIRECTORY_PER_ADDRESS: '100000000',
};

export async function startServer(store: 'postgres' | 'embedded', env: Record<string, string> = {}, logger: Logger = pino({ level: 'silent' })): Promise<TestServer> {
  const dataDir = store === 'embedded' ? mkdtempSync(path.join(tmpdir(), 'mandate-test-')) : null;
  const config = loadConfig({
    MANDATE_BOOTSTRAP_TOKEN: TEST_BOOTSTRAP_TOKEN,
    // Every test server shares one client address and one Redis: per-address (and per-caller)
    // limits would be spent across suites. The limits stay on, so every request goes through
    // the limiter; the rate-limit tests set their own.
    MANDATE_DEVICE_REQUESTS_PER_MINUTE: '100000',
    ...UNREACHED_RATE_LIMITS,
    ...(store === 'postgres'
      ? {
          DATABASE_URL: requireEnv('TEST_DATABASE_URL'),
          REDIS_URL: requireEnv('TEST_REDIS_URL'),
          MANDATE_SECRET_PEPPER: TEST_PEPPER,
          MANDATE_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
          // Jest runs the TypeScript sources, and a worker thread needs built JavaScript: the
          // delivery thread is exercised by the process tests, which run dist/main.js.
          MANDATE_WEBHOOK_DELIVERY: 'inline',
        }
      : { MANDATE_DATA_DIR: dataDir ?? '' }),
    ...env,
  });
  const mandate = await createMandate(config, logger);
  const handle = mandate.app.callback();
  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    issuer: config.issuer,
    mandate,
    bootstrapToken: TEST_BOOTSTRAP_TOKEN,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
      await mandate.close();
      if (dataDir !== null) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
