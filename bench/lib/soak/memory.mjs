// What the soak samples between windows: memory of the server (from /proc and from its own
// /metrics), of PostgreSQL's backends for the soak database and of Redis, and how much data
// the run has left in each store. Every reader returns null rather than failing the run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { byCommand } from '../cpu.mjs';

const MIB = 2 ** 20;
const mib = (bytes) => (bytes === null || bytes === undefined ? null : Math.round((bytes / MIB) * 10) / 10);

/** Fields of /proc/<pid>/status in bytes (VmRSS, VmHWM, RssAnon, …); null when the process is gone. */
export function procStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Object.fromEntries([...text.matchAll(/^(\w+):\s+(\d+) kB$/gm)].map((m) => [m[1], Number(m[2]) * 1024]));
  } catch {
    return null;
  }
}

/**
 * Samples the VmRSS of `pid` every `everyMs` while a window runs: one reading lands anywhere
 * on V8's collection sawtooth (tens of MiB here), the window's mean much less so.
 * `stop()` returns the mean, least and most, in MiB.
 */
export function rssSampler(pid, everyMs = 1000) {
  const readings = [];
  const read = () => {
    const rss = procStatus(pid)?.VmRSS;
    if (rss !== undefined) readings.push(rss);
  };
  const timer = setInterval(read, everyMs);
  return {
    stop() {
      clearInterval(timer);
      read();
      if (readings.length === 0) return { meanMiB: null, minMiB: null, maxMiB: null, samples: 0 };
      return { meanMiB: mib(readings.reduce((a, b) => a + b, 0) / readings.length), minMiB: mib(Math.min(...readings)), maxMiB: mib(Math.max(...readings)), samples: readings.length };
    },
  };
}

/**
 * The private memory (RssAnon) of the PostgreSQL backends serving `database`, summed: their
 * VmRSS would count the shared buffers once per backend.
 */
function postgresBackends(database) {
  const pids = byCommand('postgres', (cmdline) => cmdline.startsWith(`postgres: `) && cmdline.split(' ')[2] === database);
  let total = 0;
  for (const pid of pids.keys()) total += procStatus(pid)?.RssAnon ?? 0;
  return { backends: pids.size, rssAnonMiB: mib(total) };
}

/** VmRSS of redis-server (one process, shared by every Redis database on it). */
function redisRss() {
  const [pid] = byCommand('redis-server').keys();
  return pid === undefined ? null : mib(procStatus(pid)?.VmRSS);
}

// prom-client's default metrics, under the server's `mandate_` prefix (observability/metrics.ts).
const GAUGES = {
  heapUsedMiB: 'mandate_nodejs_heap_size_used_bytes',
  heapTotalMiB: 'mandate_nodejs_heap_size_total_bytes',
  externalMiB: 'mandate_nodejs_external_memory_bytes',
};

/** The V8 heap and event loop figures of the server's public GET /metrics (same port). */
export async function serverMetrics(baseUrl) {
  try {
    const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) return null;
    const text = await response.text();
    const value = (name) => {
      const m = new RegExp(`^${name} (\\S+)`, 'm').exec(text);
      return m === null ? null : Number(m[1]);
    };
    const out = Object.fromEntries(Object.entries(GAUGES).map(([key, name]) => [key, mib(value(name))]));
    const lag = value('mandate_nodejs_eventloop_lag_p99_seconds');
    out.eventLoopLagP99Ms = lag === null ? null : Math.round(lag * 1e4) / 10;
    return out;
  } catch {
    return null;
  }
}

function quiet(command, args) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

/** The soak database's size and the number of keys in the soak's Redis database: what the run has stored. */
function storeSizes(databaseUrl, redisUrl) {
  const bytes = quiet('psql', [databaseUrl, '-Atc', 'SELECT pg_database_size(current_database())']);
  const keys = quiet('redis-cli', ['-u', redisUrl, 'dbsize']);
  return { postgresDatabaseMiB: bytes === null ? null : mib(Number(bytes)), redisKeys: keys === null ? null : Number(keys) };
}

/**
 * One sample: server RSS now (and its high-water mark), heap, and the stores' memory and
 * sizes; `rss` (a stopped rssSampler's figures) is the RSS over the window, when there was one.
 */
export async function sampleMemory({ serverPid, baseUrl, database, databaseUrl, redisUrl, rss }) {
  const status = procStatus(serverPid);
  return {
    server: { rssMiB: rss?.meanMiB ?? mib(status?.VmRSS), rssNowMiB: mib(status?.VmRSS), ...(rss === undefined ? {} : { rssWindowMinMiB: rss.minMiB, rssWindowMaxMiB: rss.maxMiB, rssSamples: rss.samples }), hwmMiB: mib(status?.VmHWM), ...(await serverMetrics(baseUrl)) },
    postgres: postgresBackends(database),
    redisRssMiB: redisRss(),
    ...storeSizes(databaseUrl, redisUrl),
  };
}
