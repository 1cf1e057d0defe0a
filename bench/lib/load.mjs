// One autocannon run (library use), reduced to the figures the results record.
import { createRequire } from 'node:module';
import autocannon from 'autocannon';
import { cpuMeter } from './cpu.mjs';

export const AUTOCANNON_VERSION = createRequire(import.meta.url)('autocannon/package.json').version;
export const REQUEST_TIMEOUT_SECONDS = 10;

const round = (n, digits = 2) => (typeof n === 'number' && Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : null);

/**
 * @param {object} o
 * @param {string} o.baseUrl
 * @param {object} o.scenario    one of SCENARIOS
 * @param {object} o.tenant      what seed() returned
 * @param {number} o.connections
 * @param {number} o.seconds
 * @param {number} [o.serverPid] to measure the server's CPU use
 * @param {string} [o.database]  the bench database (its PostgreSQL backends are measured)
 */
export async function load({ baseUrl, scenario, tenant, connections, seconds, serverPid, database }) {
  const meter = serverPid === undefined ? null : cpuMeter(serverPid, database);
  const result = await autocannon({
    url: baseUrl,
    connections,
    pipelining: 1,
    duration: seconds,
    timeout: REQUEST_TIMEOUT_SECONDS,
    requests: scenario.requests(tenant, seconds),
    verifyBody: scenario.verifyBody,
  });
  const cpu = meter?.end() ?? null;
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count]));
  return {
    connections,
    durationSeconds: round(result.duration, 1),
    totalRequests: result.requests.total,
    requestsPerSecond: {
      mean: round(result.requests.average, 1),
      stddev: round(result.requests.stddev, 1),
      min: result.requests.min,
      max: result.requests.max,
    },
    latencyMs: {
      mean: round(result.latency.mean),
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    mismatches: result.mismatches ?? 0,
    statusCodes,
    cpu,
  };
}

/** Zero errors, zero timeouts, zero non-2xx, zero bodies that were not the expected answer. */
export const clean = (run) => run.errors === 0 && run.timeouts === 0 && run.non2xx === 0 && run.mismatches === 0;
