// Starts one reference-server process on 127.0.0.1 (PostgreSQL + Redis), waits until it is
// ready, and stops it again. The server's output goes to a log file, shown on failure.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const HOST = '127.0.0.1';

/** The server's rate limits, per minute, far above what one machine's load generator sends. */
export const UNREACHED_RATE_LIMITS = {
  // BENCH_RATE_LIMITS=off measures without them, to see what the limiter costs.
  MANDATE_RATE_LIMITS: process.env.BENCH_RATE_LIMITS ?? 'on',
  MANDATE_RATE_LIMIT_TOKEN_PER_CLIENT: '100000000',
  MANDATE_RATE_LIMIT_TOKEN_PER_ADDRESS: '100000000',
  MANDATE_RATE_LIMIT_API_PER_CALLER: '100000000',
};

/** A free loopback port (asked of the kernel, then released for the server to take). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param {object} options
 * @param {string} options.mainJs       reference-server/dist/main.js
 * @param {string} options.workDir      a scratch directory (log, data dir, profiles)
 * @param {string} options.databaseUrl
 * @param {string} options.redisUrl
 * @param {number} options.poolSize     DATABASE_POOL_SIZE
 * @param {string[]} [options.nodeArgs] e.g. ['--cpu-prof', '--cpu-prof-dir=…']
 * @param {Record<string, string>} [options.env] further settings, e.g. MANDATE_WEBHOOK_ALLOWED_HOSTS
 * @param {object} [options.secrets]    another server's `secrets`, for a second instance of the same deployment
 */
export async function startServer({ mainJs, workDir, databaseUrl, redisUrl, poolSize, nodeArgs = [], env: extraEnv = {}, secrets: shared }) {
  if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: run "make build" first.`);
  const port = await freePort();
  // Instances of one deployment share its pepper and key-encryption key (and the first one's bootstrap token is everyone's).
  const secrets = shared ?? {
    pepper: randomBytes(32).toString('base64url'),
    keyEncryptionKey: randomBytes(32).toString('hex'),
    bootstrapToken: `mdt_pat_${randomBytes(32).toString('base64url')}`,
  };
  const { bootstrapToken } = secrets;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST,
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    DATABASE_POOL_SIZE: String(poolSize),
    MANDATE_SECRET_PEPPER: secrets.pepper,
    MANDATE_KEY_ENCRYPTION_KEY: secrets.keyEncryptionKey,
    MANDATE_BOOTSTRAP_TOKEN: bootstrapToken,
    MANDATE_DATA_DIR: path.join(workDir, 'data'),
    LOG_LEVEL: 'warn',
    // Rate limits stay on, so every request pays for its checks (a GCRA step in Redis per
    // policy), at rates the load never reaches.
    ...UNREACHED_RATE_LIMITS,
    ...extraEnv,
  };
  const logFile = path.join(workDir, 'server.log');
  const logFd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, mainJs], { env, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited = null;
  const exit = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  const baseUrl = `http://${HOST}:${port}`;
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

  const server = {
    baseUrl,
    port,
    pid: child.pid,
    bootstrapToken,
    secrets,
    settings: { DATABASE_POOL_SIZE: poolSize, LOG_LEVEL: 'warn', NODE_ENV: 'production', MANDATE_SIGNING_ALG: 'ES256 (default)', ...UNREACHED_RATE_LIMITS, nodeArgs },
    log,
    logFile,
    get exited() {
      return exited;
    },
    /** SIGTERM (the server drains and exits, writing a CPU profile if asked), SIGKILL after `graceMs`. */
    async stop(graceMs = 20000) {
      if (exited !== null) return exited;
      child.kill('SIGTERM');
      const timer = sleep(graceMs).then(() => 'timeout');
      if ((await Promise.race([exit, timer])) === 'timeout') {
        child.kill('SIGKILL');
        await exit;
      }
      return exited;
    },
    /** Synchronous last resort (process 'exit' handlers). */
    kill() {
      if (exited === null) {
        try {
          child.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };

  const deadline = Date.now() + 60000;
  for (;;) {
    if (exited !== null) throw new Error(`The server exited during start-up (${JSON.stringify(exited)}). Its log:\n${log()}`);
    try {
      const response = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop(2000);
      throw new Error(`The server was not ready within 60 s. Its log:\n${log()}`);
    }
    await sleep(100);
  }
  return server;
}

/**
 * Starts the bench's resource server (resource-server.mjs) for `issuer`, and returns where
 * it listens; `kill()` stops it.
 */
export async function startResourceServer(script, issuer, scope) {
  const child = spawn(process.execPath, [script, issuer, scope], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`the resource server exited with ${code}`)));
  });
  const { baseUrl, resource } = JSON.parse(line);
  return { baseUrl, resource, pid: child.pid, kill: () => child.kill('SIGTERM') };
}
