#!/usr/bin/env node
// Scale benchmark: the same two calls at 10³, 10⁵ and 10⁶ agents in one organization. The
// organization and its admin token come from the API; the agents (one client-secret
// credential each) are added in bulk SQL, step by step, and every request of the load picks
// a uniformly random agent (issuance) or token (introspection). See bench/README.md.
//
//   node bench/scale.mjs [--sizes=1000,100000,1000000] [--duration=15] [--warmup=3] [--connections=64]
//                        [--tokens=2000] [--pool=10] [--keep-services] [--no-write]
//
// Exit status: 0 clean (the 20 % goal is recorded, not enforced); 1 errors, timeouts, non-2xx
// or wrong bodies; 2 the bench could not run (seeding or its check failed, …); 3 it overran its bound.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineBusyCores } from './lib/cpu.mjs';
import { boundRun, wholeNumber } from './lib/guard.mjs';
import { AUTOCANNON_VERSION, clean, load, REQUEST_TIMEOUT_SECONDS } from './lib/load.mjs';
import { describeBuild, describeMachine, saveResult } from './lib/report.mjs';
import { AGENTS, issueToken, SCOPE, seed } from './lib/seed.mjs';
import { startServer } from './lib/server.mjs';
import { prepareServices } from './lib/services.mjs';
import { checkShape, population } from './lib/scale/bulk.mjs';
import { counterDeltas, explainTokenPath, introspectionScenario, issuanceScenario, sampleTokens, tableCounters, tableSizes } from './lib/scale/measure.mjs';
import { psql } from './lib/scale/psql.mjs';
import { compare, scaleTable, writeScaleReadme } from './lib/scale/report.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(BENCH_DIR, '..');
const RESULTS_DIR = path.join(BENCH_DIR, 'results', 'scale');
const DATABASE = 'mandate_bench_scale';
const REDIS_DB = 10;
const NOISE_CORES = 0.2;
/** The goal: at the largest size, throughput and p99 within 20 % of the smallest size's. */
const GOAL = 0.2;

const env = process.env;
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: env.BENCH_SCALE_SIZES ?? '1000,100000,1000000' },
    duration: { type: 'string', default: env.BENCH_SCALE_DURATION ?? '15' },
    warmup: { type: 'string', default: env.BENCH_SCALE_WARMUP ?? '3' },
    connections: { type: 'string', default: env.BENCH_SCALE_CONNECTIONS ?? '64' },
    tokens: { type: 'string', default: env.BENCH_SCALE_TOKENS ?? '2000' },
    pool: { type: 'string', default: env.BENCH_SCALE_POOL ?? '10' },
    'keep-services': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write('usage: node bench/scale.mjs [--sizes=1000,100000,1000000] [--duration=15] [--warmup=3] [--connections=64]\n' +
    '                            [--tokens=2000] [--pool=10] [--keep-services] [--no-write]\n');
  process.exit(0);
}

const duration = wholeNumber('duration', args.duration);
const warmup = wholeNumber('warmup', args.warmup);
const connections = wholeNumber('connections', args.connections);
const tokenCount = wholeNumber('tokens', args.tokens);
const poolSize = wholeNumber('pool', args.pool);
const sizes = args.sizes.split(',').map((s) => wholeNumber('sizes', s.trim().replace(/_/g, '')));
if (sizes.some((n, i) => n <= AGENTS || (i > 0 && n <= sizes[i - 1]))) {
  process.stderr.write(`--sizes must rise, each above ${AGENTS} (the agents made through the API)\n`);
  process.exit(2);
}

// Bounded: set-up, then per size its seeding (generously 1 ms per added agent: about 4 min
// for 10⁶ here), the token sample, two warm-ups and measurements, and the size queries.
const seedingBound = (added) => 30 + added / 1000;
const budgetSeconds = 120 + sizes.reduce((sum, n, i) => sum + seedingBound(n - (sizes[i - 1] ?? 0)) + tokenCount / 100 + 2 * (warmup + duration + 10) + 30, 0);

const log = (message) => process.stderr.write(`[bench-scale] ${message}\n`);
let server = null;
let services = null;
let workDir = null;
const stopServices = () => {
  if (services?.startedByBench && !args['keep-services']) services.stop();
};

const stopWatchdog = boundRun({
  budgetSeconds,
  log,
  stop() {
    server?.kill();
    stopServices();
  },
});
process.on('exit', () => server?.kill());

/** Adds agents in bulk until there are `size`, then refreshes the planner's statistics. */
function grow(db, pop, size) {
  const step = pop.growSql(size);
  const started = Date.now();
  db.run(step.sql);
  const inserted = (Date.now() - started) / 1000;
  db.run('ANALYZE agents; ANALYZE credentials');
  step.commit();
  return { added: step.added, insertSeconds: round(inserted), analyzeSeconds: round((Date.now() - started) / 1000 - inserted) };
}

/** Fails loudly unless the rows are what the API writes, the count is right, and a random bulk agent gets a token. */
async function verify(db, pop, size) {
  const j = pop.apiAgents + Math.floor(Math.random() * (size - pop.apiAgents));
  checkShape(db, pop, j - pop.apiAgents);
  const counts = db.one(`SELECT (SELECT count(*) FROM agents WHERE org_id = '${pop.orgId}') AS agents, (SELECT count(*) FROM credentials WHERE org_id = '${pop.orgId}') AS credentials`);
  if (counts.agents !== size || counts.credentials !== size) throw new Error(`expected ${size} agents and credentials, found ${counts.agents} and ${counts.credentials}`);
  const issued = await issueToken(server.baseUrl, pop.credential(j)).catch((error) => {
    throw new Error(`seeded agent #${j} (${pop.credential(j).clientId}) could not get a token: ${error.message}`);
  });
  if (typeof issued.access_token !== 'string' || issued.scope !== SCOPE) throw new Error(`unexpected token response for seeded agent #${j}: ${JSON.stringify(issued)}`);
  return { agentIndex: j, clientId: pop.credential(j).clientId, ...counts };
}

const round = (n) => Math.round(n * 10) / 10;

/** Warm-up, then the measured run with the tables' counters read around it. */
async function measure(db, scenario, tenantLike) {
  const common = { baseUrl: server.baseUrl, scenario, tenant: tenantLike, connections };
  const warm = await load({ ...common, seconds: warmup });
  const before = tableCounters(db);
  const run = await load({ ...common, seconds: duration, serverPid: server.pid, database: DATABASE });
  await new Promise((resolve) => setTimeout(resolve, 1500)); // let the backends publish their counters
  run.tables = counterDeltas(before, tableCounters(db), run.totalRequests);
  run.warmup = { seconds: warmup, requestsPerSecond: warm.requestsPerSecond.mean, errors: warm.errors, timeouts: warm.timeouts, non2xx: warm.non2xx, mismatches: warm.mismatches };
  run.noisy = run.cpu !== null && run.cpu.other > NOISE_CORES;
  run.clean = clean(run) && clean(run.warmup);
  log(`  ${scenario.name}: ${run.requestsPerSecond.mean} req/s, p50 ${run.latencyMs.p50} / p90 ${run.latencyMs.p90} / p99 ${run.latencyMs.p99} ms, errors ${run.errors}, non-2xx ${run.non2xx}, wrong body ${run.mismatches}${run.noisy ? `, NOISY (${run.cpu.other} cores used by others)` : ''}`);
  if (server.exited !== null) throw new Error(`the server exited during the load (${JSON.stringify(server.exited)}):\n${server.log()}`);
  return run;
}

/** Keys and memory of the bench's Redis database (rate-limit and "last used" keys grow with the agents used). */
function redisState(redisUrl) {
  const cli = (...a) => execFileSync('redis-cli', ['-u', redisUrl, ...a], { encoding: 'utf8' }).trim();
  return { keys: Number(cli('dbsize')), usedMemoryBytes: Number(/used_memory:(\d+)/.exec(cli('info', 'memory'))?.[1] ?? NaN) };
}

async function main() {
  const machine = describeMachine(REPO_ROOT);
  const build = describeBuild(REPO_ROOT);
  if (build.stale) log('WARNING: reference-server sources changed after dist/ was built; run "make build" (make bench-scale does)');
  log(`${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, commit ${machine.commitShort}`);
  log(`sizes ${sizes.join(', ')}; ${connections} connections, ${warmup} s warm-up + ${duration} s per call; bounded to ${Math.round(budgetSeconds)} s`);
  const busyBefore = await machineBusyCores(2000);
  if (busyBefore !== null && busyBefore > 0.25) log(`WARNING: the machine is already busy (${busyBefore} cores in use before the bench); numbers will be low`);

  services = prepareServices(REPO_ROOT, { database: DATABASE, redisDb: REDIS_DB });
  log(`PostgreSQL ${services.postgresVersion} and Redis ${services.redisVersion}; fresh database ${DATABASE}, Redis db ${REDIS_DB} flushed`);
  workDir = mkdtempSync(path.join(os.tmpdir(), 'mandate-bench-scale-'));
  server = await startServer({ mainJs: path.join(REPO_ROOT, 'reference-server', 'dist', 'main.js'), workDir, databaseUrl: services.databaseUrl, redisUrl: services.redisUrl, poolSize });
  log(`server pid ${server.pid} ready at ${server.baseUrl}`);

  // Pro plan, quotas on and never reached (as make bench), so every token is counted.
  const quotaOverrides = { activeAgents: 10 * sizes.at(-1), tokensPerMonth: 1_000_000_000_000, apiCallsPerMinute: 100_000_000 };
  const tenant = await seed(server.baseUrl, server.bootstrapToken, { name: 'Scale Org', plan: 'pro', quotaOverrides });
  const db = psql(services.databaseUrl);
  const pop = population({ orgId: tenant.orgId, pepper: server.secrets.pepper, apiCredentials: tenant.credentials });
  log(`org ${tenant.orgId}: ${AGENTS} agents through the API`);

  const results = [];
  for (const size of sizes) {
    log(`growing to ${size.toLocaleString('en-US')} agents in bulk SQL`);
    const seeding = size > pop.size ? grow(db, pop, size) : { added: 0, insertSeconds: 0, analyzeSeconds: 0 };
    log(`  +${seeding.added.toLocaleString('en-US')} agents and credentials in ${seeding.insertSeconds} s, ANALYZE ${seeding.analyzeSeconds} s`);
    const verified = await verify(db, pop, size);
    log(`  checked: ${verified.agents} agents, ${verified.credentials} credentials; seeded agent #${verified.agentIndex} got a token`);
    const sample = await sampleTokens(server.baseUrl, pop, tokenCount);
    log(`  ${tokenCount} tokens issued to ${sample.distinctAgents} random agents for introspection`);
    const issuance = await measure(db, issuanceScenario(pop), tenant);
    const introspection = await measure(db, introspectionScenario(sample.tokens, tenant.adminToken), tenant);
    results.push({
      agents: size,
      seeding,
      verified,
      introspectedTokens: { count: tokenCount, distinctAgents: sample.distinctAgents },
      issuance,
      introspection,
      ...tableSizes(db),
      plans: explainTokenPath(db, pop, pop.apiAgents + Math.floor(Math.random() * (size - pop.apiAgents))),
      redis: redisState(services.redisUrl),
    });
  }
  const serverLog = server.log();
  const settings = server.settings;
  await server.stop();
  server = null;
  stopServices();

  const comparison = compare(results, GOAL);
  return {
    schema: 1,
    kind: 'scale',
    date: new Date().toISOString(),
    machine,
    build,
    versions: { node: machine.node, postgres: services.postgresVersion, redis: services.redisVersion, autocannon: AUTOCANNON_VERSION },
    server: { process: 'one reference-server process (no cluster)', ...settings },
    load: {
      generator: `autocannon ${AUTOCANNON_VERSION} (library), in the bench process, on the same machine and cores`,
      connections,
      warmupSeconds: warmup,
      durationSeconds: duration,
      pipelining: 1,
      requestTimeoutSeconds: REQUEST_TIMEOUT_SECONDS,
      spread: 'every request picks a uniformly random agent of the whole organization (issuance) or a uniformly random token of the sample (introspection)',
    },
    seedingMethod: {
      api: `organization (pro plan, quotas never reached), admin token, ${AGENTS} agents with a credential and a key each`,
      bulk: 'the other agents and their credentials by INSERT … SELECT generate_series (one statement per table and step, one transaction), then ANALYZE; secrets derived from a per-run seed and the agent index, their HMAC-SHA256 under the pepper computed by PostgreSQL (built-in sha256, no extension); no audit events for the seeded agents',
      database: DATABASE,
      redisDb: REDIS_DB,
    },
    machineBusyBeforeCores: busyBefore,
    noisy: results.some((r) => r.issuance.noisy || r.introspection.noisy),
    sizes: results,
    comparison,
    verdict: { clean: results.every((r) => r.issuance.clean && r.introspection.clean), goal: comparison.goal },
    serverWarnings: serverLog.split('\n').filter((line) => line.trim() !== '').slice(0, 20),
  };
}

let exitCode = 0;
try {
  const result = await main();
  process.stdout.write(`\n${scaleTable(result)}\n\n`);
  process.stdout.write(`errors/timeouts/non-2xx/wrong bodies: ${result.verdict.clean ? 'none' : 'SEEN — failing'}\n`);
  if (result.noisy) process.stdout.write(`NOISY: other processes used more than ${NOISE_CORES} cores during some runs; rerun on a quiet machine.\n`);
  if (!args['no-write']) {
    const file = saveResult(RESULTS_DIR, result, writeScaleReadme);
    process.stdout.write(`Results: bench/results/scale/${file} and bench/results/scale/README.md\n`);
  }
  exitCode = result.verdict.clean ? 0 : 1;
  rmSync(workDir, { recursive: true, force: true });
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  if (workDir !== null) log(`server log and data kept in ${workDir}`);
  if (server !== null) await server.stop().catch(() => undefined);
  stopServices();
  exitCode = 2;
}
stopWatchdog();
process.exit(exitCode);
