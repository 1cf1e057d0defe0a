#!/usr/bin/env node
// Soak: one reference-server process under a mixed load (token issuance, introspection and
// the authenticated list interleaved) for 10 minutes after a warm-up, sampled every 10 s:
// server RSS, heap, requests/s, p50/p99, errors and CPU. The verdict is whether RSS keeps
// rising once warmed up. See bench/README.md, "Soak".
//
//   node bench/soak.mjs [--minutes=10] [--warmup-seconds=60] [--window-seconds=10] [--connections=64]
//                       [--mix=issuance:50,introspection:40,list:10] [--pool=10] [--keep-services] [--no-write]
//
// Exit status: 0 clean and no upward RSS trend (or a run too short to tell); 1 errors,
// timeouts, non-2xx or wrong bodies, or an upward RSS trend; 2 the bench could not run;
// 3 it overran its time bound.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineBusyCores } from './lib/cpu.mjs';
import { boundRun, wholeNumber } from './lib/guard.mjs';
import { AUTOCANNON_VERSION, clean, load, REQUEST_TIMEOUT_SECONDS } from './lib/load.mjs';
import { describeBuild, describeMachine, saveResult } from './lib/report.mjs';
import { AGENTS, INTROSPECTED_TOKENS, sanityCheck, seed } from './lib/seed.mjs';
import { startServer } from './lib/server.mjs';
import { prepareServices } from './lib/services.mjs';
import { procStatus, rssSampler, sampleMemory } from './lib/soak/memory.mjs';
import { DEFAULT_MIX, mixedScenario, parseMix } from './lib/soak/mix.mjs';
import { windowLine, writeSoakReadme } from './lib/soak/report.mjs';
import { THRESHOLDS, trend } from './lib/soak/trend.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(BENCH_DIR, '..');
const RESULTS_DIR = path.join(BENCH_DIR, 'results', 'soak');
const MAIN_JS = path.join(REPO_ROOT, 'reference-server', 'dist', 'main.js');
// Its own database and Redis database, so it can run beside make bench and the other benches.
const DATABASE = 'mandate_bench_soak';
const REDIS_DB = 11;
const NOISE_CORES = 0.2;
/** As make bench: quotas on, at levels the load never reaches, so every token is counted. */
const UNREACHED_QUOTAS = { activeAgents: 1_000_000, tokensPerMonth: 1_000_000_000_000, apiCallsPerMinute: 100_000_000 };

const env = process.env;
const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: env.BENCH_SOAK_MINUTES ?? '10' },
    'warmup-seconds': { type: 'string', default: env.BENCH_SOAK_WARMUP_SECONDS ?? '60' },
    'window-seconds': { type: 'string', default: env.BENCH_SOAK_WINDOW_SECONDS ?? '10' },
    connections: { type: 'string', default: env.BENCH_SOAK_CONNECTIONS ?? '64' },
    mix: { type: 'string', default: env.BENCH_SOAK_MIX ?? DEFAULT_MIX },
    pool: { type: 'string', default: env.BENCH_SOAK_POOL ?? '10' },
    'keep-services': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: env.BENCH_SOAK_NO_WRITE === '1' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'usage: node bench/soak.mjs [--minutes=10] [--warmup-seconds=60] [--window-seconds=10] [--connections=64]\n' +
      `                           [--mix=${DEFAULT_MIX}] [--pool=10] [--keep-services] [--no-write]\n`,
  );
  process.exit(0);
}

const log = (message) => process.stderr.write(`[bench-soak] ${message}\n`);
// The numeric flags and their least value: each must be a whole number.
const LEAST = { minutes: 1, 'warmup-seconds': 0, 'window-seconds': 1, connections: 1, pool: 1 };
const [minutes, warmupSeconds, windowSeconds, connections, poolSize] = Object.entries(LEAST).map(([flag, least]) => wholeNumber(flag, args[flag], least));
let mix;
try {
  mix = parseMix(args.mix);
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}
const warmupWindows = Math.ceil(warmupSeconds / windowSeconds);
const measuredWindows = Math.ceil((minutes * 60) / windowSeconds);
// Set-up and teardown, then every window plus its gap (sampling, a new autocannon run).
const budgetSeconds = 180 + (warmupWindows + measuredWindows) * (windowSeconds + 5);

let server = null;
let services = null;
let workDir = null;

function stopServices() {
  if (services?.startedByBench && !args['keep-services']) {
    services.stop();
    log('PostgreSQL and Redis stopped (the bench had started them)');
  }
  services = null;
}
const stopWatchdog = boundRun({
  budgetSeconds,
  log,
  stop() {
    server?.kill();
    stopServices();
    if (workDir !== null) rmSync(workDir, { recursive: true, force: true });
  },
});
process.on('exit', () => server?.kill());

/**
 * One window: a load() run of `windowSeconds`, then the memory sample. `previousEnd` is when
 * the previous window's load stopped: the gap without load is from then to this one's start.
 */
async function measureWindow(index, scenario, tenant, previousEnd, soakStart) {
  const startedAt = Date.now();
  const rss = rssSampler(server.pid);
  const run = await load({ baseUrl: server.baseUrl, scenario, tenant, connections, seconds: windowSeconds, serverPid: server.pid, database: DATABASE });
  const endedAt = Date.now();
  const memory = await sampleMemory({ serverPid: server.pid, baseUrl: server.baseUrl, database: DATABASE, databaseUrl: services.databaseUrl, redisUrl: services.redisUrl, rss: rss.stop() });
  const window = {
    index,
    phase: index < warmupWindows ? 'warmup' : 'measured',
    atSeconds: Math.round((endedAt - soakStart) / 100) / 10,
    // Between two windows memory is sampled and autocannon restarted: no load then.
    gapMs: previousEnd === null ? null : startedAt - previousEnd,
    totalRequests: run.totalRequests,
    requestsPerSecond: run.requestsPerSecond.mean,
    latencyMs: run.latencyMs,
    errors: run.errors,
    timeouts: run.timeouts,
    non2xx: run.non2xx,
    mismatches: run.mismatches,
    answers: scenario.answers(),
    cpu: run.cpu,
    noisy: run.cpu !== null && run.cpu.other > NOISE_CORES,
    memory,
  };
  return { window, endedAt };
}

async function main() {
  const machine = describeMachine(REPO_ROOT);
  const build = describeBuild(REPO_ROOT);
  if (build.stale) log('WARNING: reference-server sources changed after dist/ was built; run "make build" (make bench-soak does)');
  log(`${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, commit ${machine.commitShort}`);
  log(`bounded to ${budgetSeconds} s: ${warmupWindows} warm-up + ${measuredWindows} measured windows of ${windowSeconds} s, ${connections} connections, mix ${args.mix}`);
  const busyBefore = await machineBusyCores(2000);
  if (busyBefore !== null && busyBefore > 0.25) log(`WARNING: the machine is already busy (${busyBefore} cores in use before the bench); numbers will be low`);

  services = prepareServices(REPO_ROOT, { database: DATABASE, redisDb: REDIS_DB });
  const serviceVersions = { postgres: services.postgresVersion, redis: services.redisVersion };
  log(`PostgreSQL ${services.postgresVersion} and Redis ${services.redisVersion}; fresh database ${DATABASE}, Redis db ${REDIS_DB} flushed`);
  workDir = mkdtempSync(path.join(os.tmpdir(), 'mandate-bench-soak-'));
  server = await startServer({ mainJs: MAIN_JS, workDir, databaseUrl: services.databaseUrl, redisUrl: services.redisUrl, poolSize });
  log(`server pid ${server.pid} ready at ${server.baseUrl}`);
  const tenant = await seed(server.baseUrl, server.bootstrapToken, { name: 'Bench Org (soak)', plan: 'pro', quotaOverrides: UNREACHED_QUOTAS });
  await sanityCheck(server.baseUrl, tenant);
  const atStart = await sampleMemory({ serverPid: server.pid, baseUrl: server.baseUrl, database: DATABASE, databaseUrl: services.databaseUrl, redisUrl: services.redisUrl });
  log(`seeded org ${tenant.orgId}; server RSS ${atStart.server.rssMiB} MiB before the load`);

  const scenario = mixedScenario(mix);
  const windows = [];
  const soakStart = Date.now();
  let previousEnd = null;
  for (let i = 0; i < warmupWindows + measuredWindows; i++) {
    const { window, endedAt } = await measureWindow(i, scenario, tenant, previousEnd, soakStart);
    previousEnd = endedAt;
    windows.push(window);
    log(windowLine(window));
    if (server.exited !== null) throw new Error(`the server exited during the load (${JSON.stringify(server.exited)}):\n${server.log()}`);
  }
  const hwmMiB = Math.round(((procStatus(server.pid)?.VmHWM ?? 0) / 2 ** 20) * 10) / 10;
  await sanityCheck(server.baseUrl, tenant);
  const serverLog = server.log();
  const serverSettings = server.settings;
  await server.stop();
  server = null;
  stopServices();

  const measured = windows.filter((w) => w.phase === 'measured');
  const result = {
    schema: 1,
    kind: 'soak',
    date: new Date().toISOString(),
    machine,
    build,
    versions: { node: machine.node, ...serviceVersions, autocannon: AUTOCANNON_VERSION },
    server: { process: 'one reference-server process (no cluster)', ...serverSettings },
    settings: {
      minutes,
      warmupSeconds,
      windowSeconds,
      connections,
      mix: mix.map((p) => ({ scenario: p.id, weight: p.weight })),
      cycle: scenario.order,
      poolSize,
      database: DATABASE,
      redisDb: REDIS_DB,
      pipelining: 1,
      requestTimeoutSeconds: REQUEST_TIMEOUT_SECONDS,
      generator: `autocannon ${AUTOCANNON_VERSION} (library), one run per window, in the bench process, on the same cores`,
    },
    seed: { agents: AGENTS, credentials: AGENTS, introspectedTokens: INTROSPECTED_TOKENS },
    machineBusyBeforeCores: busyBefore,
    beforeLoad: atStart,
    windows,
    serverHighWaterMarkMiB: hwmMiB,
    noisy: windows.some((w) => w.noisy),
    verdict: {
      clean: windows.every(clean),
      thresholds: THRESHOLDS,
      rss: trend(measured, (w) => w.memory.server.rssMiB),
      // Not part of the verdict: V8's heap moves with each collection; recorded to explain RSS.
      heapUsed: trend(measured, (w) => w.memory.server.heapUsedMiB),
    },
    serverWarnings: serverLog.split('\n').filter((line) => line.trim() !== '').slice(0, 20),
  };
  return result;
}

let exitCode = 0;
try {
  const result = await main();
  const { rss, heapUsed } = result.verdict;
  process.stdout.write(
    `\nserver RSS over the ${rss.windows} measured windows: slope ${rss.slopeMiBPerMinute} MiB/min, last third ${rss.lastThirdMeanMiB} vs first third ${rss.firstThirdMeanMiB} MiB (${rss.thirdsChangePercent} %) → ${rss.verdict.toUpperCase()}${rss.reason ? ` (${rss.reason})` : ''}\n` +
      `V8 heap used: slope ${heapUsed.slopeMiBPerMinute} MiB/min (${heapUsed.minMiB}-${heapUsed.maxMiB} MiB); server VmHWM ${result.serverHighWaterMarkMiB} MiB\n` +
      `errors/timeouts/non-2xx/wrong bodies: ${result.verdict.clean ? 'none' : 'SEEN — failing'}\n`,
  );
  if (result.noisy) process.stdout.write(`NOISY: other processes used more than ${NOISE_CORES} cores during some windows; rerun on a quiet machine.\n`);
  if (!args['no-write']) {
    const file = saveResult(RESULTS_DIR, result, writeSoakReadme);
    process.stdout.write(`Results: bench/results/soak/${file} and bench/results/soak/README.md\n`);
  }
  exitCode = !result.verdict.clean || rss.verdict === 'upward trend' ? 1 : 0;
  rmSync(workDir, { recursive: true, force: true });
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  if (workDir !== null) log(`server log and data kept in ${workDir}`);
  await server?.stop().catch(() => undefined);
  stopServices();
  exitCode = 2;
}
stopWatchdog();
process.exit(exitCode);
