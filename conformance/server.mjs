// Starts a throwaway reference server on the embedded default (PGlite in a temporary
// folder, a random loopback port, a fresh instance-admin token) for the conformance
// runners: run.mjs here, and every SDK's harness through serve.mjs. The fuzzing driver
// (fuzz/run.mjs) passes extra environment (PostgreSQL and Redis) and a log file.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const STARTUP_TIMEOUT_MS = 60_000;
export const DEFAULT_SERVER = resolve(dirname(fileURLToPath(import.meta.url)), '../reference-server/dist/main.js');

/** A loopback port free right now, so the issuer can name the port before the server binds it. */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

/**
 * `env` is added to (and overrides) the server's environment below; `logFile`, when given,
 * receives everything the server writes on stdout and stderr.
 */
export async function startServer(serverJs = DEFAULT_SERVER, { env = {}, logFile } = {}) {
  const chosenPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'mandate-conformance-'));
  const token = `mdt_pat_${randomBytes(32).toString('base64url')}`; // 43 chars
  const child = spawn(process.execPath, [serverJs], {
    env: {
      PATH: process.env.PATH,
      PORT: String(chosenPort),
      HOST: '127.0.0.1',
      // Truthful discovery metadata and `iss` for this instance, as OAuth client libraries check.
      MANDATE_ISSUER: `http://127.0.0.1:${chosenPort}`,
      MANDATE_DATA_DIR: dataDir,
      MANDATE_BOOTSTRAP_TOKEN: token,
      // The webhook scenario's endpoint is a closed loopback port: allowed, and each delivery
      // fails fast and for good after one attempt, so its outcome is known.
      MANDATE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1/32',
      // The federation scenario trusts this server itself as an external OIDC issuer.
      MANDATE_INSECURE_ISSUER_HOSTS: '127.0.0.1',
      MANDATE_WEBHOOK_MAX_ATTEMPTS: '1',
      // `mandate listening` is logged at info; warn would hide the port.
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (logFile) {
    const log = createWriteStream(logFile, { flags: 'a' });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.once('close', () => log.end());
  }
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const port = await new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${STARTUP_TIMEOUT_MS / 1000}s\n${stderr}`)), STARTUP_TIMEOUT_MS);
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const rec = JSON.parse(line);
          if (rec.msg === 'mandate listening' && Number.isInteger(rec.port)) {
            clearTimeout(timer);
            resolvePort(rec.port);
          }
        } catch {
          /* not a JSON log line */
        }
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening\n${stderr}`));
    });
  });
  child.stdout.resume(); // keep draining
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { baseUrl: `http://127.0.0.1:${port}`, token, stop, child };
}

