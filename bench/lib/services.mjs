// PostgreSQL and Redis for the bench: the repository's throwaway services on loopback,
// with a bench-only database (mandate_bench) and a bench-only Redis logical database,
// both emptied at the start of every run so earlier runs and the test suite leave no trace.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export const BENCH_DB = 'mandate_bench';
export const BENCH_REDIS_DB = 9;

function sh(command, args, options = {}) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options }).trim();
}

function pgArgs(url) {
  return ['-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username || 'postgres')];
}

function loopbackOnly(url, what) {
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new Error(`${what} is not on loopback (${url.hostname}); the bench only targets 127.0.0.1.`);
  }
}

/** True when both services already answer (then the bench leaves them running afterwards). */
function reachable(pgUrl, redisUrl) {
  try {
    sh('psql', [...pgArgs(pgUrl), '-d', 'postgres', '-Atc', 'SELECT 1']);
    sh('redis-cli', ['-h', redisUrl.hostname, '-p', redisUrl.port, 'ping']);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the services (scripts/services.sh up), recreates the bench database and flushes
 * the bench Redis database. Returns the URLs, the versions, and whether we started them.
 * Benches that may run beside another name their own database and Redis database.
 */
export function prepareServices(repoRoot, { database = BENCH_DB, redisDb = BENCH_REDIS_DB } = {}) {
  const script = path.join(repoRoot, 'scripts', 'services.sh');
  const printed = sh('bash', [script, 'env']);
  const env = Object.fromEntries([...printed.matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
  const testPg = new URL(env.TEST_DATABASE_URL);
  const testRedis = new URL(env.TEST_REDIS_URL);
  loopbackOnly(testPg, 'PostgreSQL');
  loopbackOnly(testRedis, 'Redis');
  const wasRunning = reachable(testPg, testRedis);
  const upOutput = sh('bash', [script, 'up'], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (!upOutput.includes('TEST_DATABASE_URL')) throw new Error(`scripts/services.sh up printed no connection variables:\n${upOutput}`);

  const admin = [...pgArgs(testPg), '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q'];
  sh('psql', [...admin, '-c', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`]);
  sh('psql', [...admin, '-c', `CREATE DATABASE ${database}`]);
  sh('redis-cli', ['-h', testRedis.hostname, '-p', testRedis.port, '-n', String(redisDb), 'flushdb']);

  const databaseUrl = new URL(testPg);
  databaseUrl.pathname = `/${database}`;
  const redisUrl = new URL(testRedis);
  redisUrl.pathname = `/${redisDb}`;

  const postgresVersion = sh('psql', [...pgArgs(testPg), '-d', database, '-Atc', 'SHOW server_version']);
  const redisInfo = sh('redis-cli', ['-h', testRedis.hostname, '-p', testRedis.port, 'info', 'server']);
  const redisVersion = /redis_version:(\S+)/.exec(redisInfo)?.[1] ?? 'unknown';

  return {
    database,
    databaseUrl: databaseUrl.toString(),
    redisUrl: redisUrl.toString(),
    postgresVersion,
    redisVersion,
    startedByBench: !wasRunning,
    stop() {
      sh('bash', [script, 'down']);
    },
  };
}
