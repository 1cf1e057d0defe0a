#!/usr/bin/env node
// Mandate load benchmark: one reference-server process on PostgreSQL + Redis (loopback),
// a fresh bench database, autocannon on the same machine. See bench/README.md.
//
//   node bench/run.mjs                         all scenarios, results in bench/results/
//   node bench/run.mjs --profile=issuance      one scenario under `node --cpu-prof`, summary printed
//
// Exit status: 0 clean (targets are recorded, not enforced); 1 errors, timeouts, non-2xx or
// wrong bodies; 2 the bench could not run; 3 it overran its time bound.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AUTOCANNON_VERSION, clean, load, REQUEST_TIMEOUT_SECONDS } from './lib/load.mjs';
import { writeFlamegraph } from './lib/flamegraph.mjs';
import { summarise, summaryMarkdown } from './lib/profile.mjs';
import { describeBuild, describeMachine, resultFileName, stdoutTable, writeResultsReadme } from './lib/report.mjs';
import { SCENARIOS } from './lib/scenarios.mjs';
import { AGENTS, INTROSPECTED_TOKENS, SCOPE, sanityCheck, seed, seedResource } from './lib/seed.mjs';
import { startResourceServer, startServer } from './lib/server.mjs';
import { BENCH_DB, prepareServices } from './lib/services.mjs';
import { machineBusyCores } from './lib/cpu.mjs';
import { boundRun, wholeNumber } from './lib/guard.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(BENCH_DIR, '..');
const RESULTS_DIR = path.join(BENCH_DIR, 'results');
const PROFILES_DIR = path.join(BENCH_DIR, 'profiles');
const MAIN_JS = path.join(REPO_ROOT, 'reference-server', 'dist', 'main.js');

const env = process.env;
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: env.BENCH_DURATION ?? '15' },
    warmup: { type: 'string', default: env.BENCH_WARMUP ?? '3' },
    connections: { type: 'string', default: env.BENCH_CONNECTIONS ?? '32,64,128' },
    scenarios: { type: 'string', default: env.BENCH_SCENARIOS ?? Object.keys(SCENARIOS).filter((id) => !SCENARIOS[id].optional).join(',') },
    pool: { type: 'string', default: env.BENCH_DB_POOL_SIZE ?? '10' },
    profile: { type: 'string', default: env.BENCH_PROFILE ?? '' },
    'keep-services': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'usage: node bench/run.mjs [--duration=15] [--warmup=3] [--connections=32,64,128] [--scenarios=issuance,issuance-private-key-jwt,token-exchange,introspection,list[,health]]\n' +
      '                          [--pool=10] [--profile=SCENARIO] [--keep-services] [--no-write]\n',
  );
  process.exit(0);
}

const duration = wholeNumber('duration', args.duration);
const warmup = wholeNumber('warmup', args.warmup);
const poolSize = wholeNumber('pool', args.pool);
let levels = args.connections.split(',').map((c) => wholeNumber('connections', c.trim()));
let scenarioIds = args.scenarios.split(',').map((s) => s.trim());
const profiling = args.profile !== '';
if (profiling) {
  scenarioIds = [args.profile];
  levels = levels.slice(0, 1); // one level: the profile is of one steady load
}
for (const id of scenarioIds) {
  if (SCENARIOS[id] === undefined) {
    process.stderr.write(`unknown scenario "${id}" (known: ${Object.keys(SCENARIOS).join(', ')})\n`);
    process.exit(2);
  }
}

// The whole run is bounded: set-up, every warm-up and measurement, and teardown.
// Each run's requests are built before it (assertions and DPoP proofs are signed then): up to 10 s more per run.
const budgetSeconds = 120 + scenarioIds.length * levels.length * (warmup + duration + 5) + 10 * levels.length * scenarioIds.length;

const NOISE_CORES = 0.2;
/** The bench organization's quota overrides: on, and never reached. */
const UNREACHED_QUOTAS = { activeAgents: 1_000_000, tokensPerMonth: 1_000_000_000_000, apiCallsPerMinute: 100_000_000 };
const log = (message) => process.stderr.write(`[bench] ${message}\n`);
let server = null;
/** A second server process on the same database, without rate limits, for the limits-off scenario. */
let unlimitedServer = null;
let resourceServer = null;
let services = null;
let workDir = null;

async function teardown() {
  resourceServer?.kill();
  resourceServer = null;
  await unlimitedServer?.stop();
  unlimitedServer = null;
  if (server !== null) {
    const exited = await server.stop();
    log(`server stopped (${exited?.signal ?? `exit ${exited?.code}`})`);
    server = null;
  }
  if (services?.startedByBench && !args['keep-services']) {
    services.stop();
    log('PostgreSQL and Redis stopped (the bench had started them)');
    services = null;
  }
}

const stopWatchdog = boundRun({
  budgetSeconds,
  log,
  stop() {
    server?.kill();
    unlimitedServer?.kill();
    resourceServer?.kill();
    if (services?.startedByBench && !args['keep-services']) services.stop();
    if (workDir !== null) rmSync(workDir, { recursive: true, force: true });
  },
});
process.on('exit', () => {
  server?.kill();
  unlimitedServer?.kill();
  resourceServer?.kill();
});

async function main() {
  const machine = describeMachine(REPO_ROOT);
  const build = describeBuild(REPO_ROOT);
  if (build.stale) log('WARNING: reference-server sources changed after dist/ was built; run "make build" (make bench does)');
  log(`${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, commit ${machine.commitShort}`);
  log(`bounded to ${budgetSeconds} s; ${scenarioIds.length} scenario(s) × connections [${levels.join(', ')}] × (${warmup} s warm-up + ${duration} s)`);

  // Other work on the machine takes cores from the server: measure it, warn, and record it.
  const busyBefore = await machineBusyCores(2000);
  if (busyBefore !== null && busyBefore > 0.25) log(`WARNING: the machine is already busy (${busyBefore} cores in use before the bench); numbers will be low`);
  services = prepareServices(REPO_ROOT);
  const serviceVersions = { postgres: services.postgresVersion, redis: services.redisVersion };
  log(`PostgreSQL ${serviceVersions.postgres} and Redis ${serviceVersions.redis} on loopback; fresh database mandate_bench, Redis db 9 flushed`);

  workDir = mkdtempSync(path.join(os.tmpdir(), 'mandate-bench-'));
  const profileDir = path.join(workDir, 'profile');
  server = await startServer({
    mainJs: MAIN_JS,
    workDir,
    databaseUrl: services.databaseUrl,
    redisUrl: services.redisUrl,
    poolSize,
    nodeArgs: profiling ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  });
  log(`server pid ${server.pid} ready at ${server.baseUrl}`);

  // Quotas on, like rate limits, at levels the load never reaches: every token is counted against them.
  const tenant = await seed(server.baseUrl, server.bootstrapToken, { name: 'Bench Org', plan: 'pro', quotaOverrides: UNREACHED_QUOTAS });
  await sanityCheck(server.baseUrl, tenant);
  log(`seeded org ${tenant.orgId} (pro plan): ${AGENTS} agents with a credential each, ${INTROSPECTED_TOKENS} access tokens`);
  const targets = { server, tenant };
  if (scenarioIds.some((id) => SCENARIOS[id].on === 'unlimited')) {
    const unlimitedDir = path.join(workDir, 'unlimited');
    mkdirSync(unlimitedDir);
    unlimitedServer = await startServer({ mainJs: MAIN_JS, workDir: unlimitedDir, databaseUrl: services.databaseUrl, redisUrl: services.redisUrl, poolSize, env: { MANDATE_RATE_LIMITS: 'off' }, secrets: server.secrets });
    const unlimitedTenant = await seed(unlimitedServer.baseUrl, unlimitedServer.bootstrapToken, { name: 'Bench Org (limits off)', plan: 'enterprise' });
    targets.unlimited = { server: unlimitedServer, tenant: unlimitedTenant };
    log(`second server pid ${unlimitedServer.pid} without rate limits, org ${unlimitedTenant.orgId} on the enterprise plan`);
  }
  if (scenarioIds.some((id) => SCENARIOS[id].on === 'resource')) {
    resourceServer = await startResourceServer(path.join(BENCH_DIR, 'lib', 'resource-server.mjs'), tenant.issuer, SCOPE);
    tenant.resource = await seedResource(server.baseUrl, tenant, resourceServer.resource);
    log(`resource server pid ${resourceServer.pid} at ${resourceServer.resource}, ${INTROSPECTED_TOKENS} bearer and ${INTROSPECTED_TOKENS} DPoP-bound tokens for it`);
  }

  const scenarios = [];
  for (const id of scenarioIds) {
    const scenario = SCENARIOS[id];
    const runs = [];
    const target = scenario.on === 'resource' ? resourceServer : scenario.on === 'unlimited' ? targets.unlimited.server : server;
    const loadTenant = scenario.on === 'unlimited' ? targets.unlimited.tenant : tenant;
    for (const connections of levels) {
      log(`${scenario.name}: ${connections} connections, warm-up ${warmup} s`);
      const warm = await load({ baseUrl: target.baseUrl, scenario, tenant: loadTenant, connections, seconds: warmup });
      log(`${scenario.name}: ${connections} connections, measuring ${duration} s`);
      const run = await load({ baseUrl: target.baseUrl, scenario, tenant: loadTenant, connections, seconds: duration, serverPid: target.pid, database: BENCH_DB });
      run.warmup = { seconds: warmup, requestsPerSecond: warm.requestsPerSecond.mean, errors: warm.errors, timeouts: warm.timeouts, non2xx: warm.non2xx, mismatches: warm.mismatches };
      // Another job using the cores during the measurement makes the figure a low estimate.
      run.noisy = run.cpu !== null && run.cpu.other > NOISE_CORES;
      runs.push(run);
      log(`  ${run.requestsPerSecond.mean} req/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, errors ${run.errors}, non-2xx ${run.non2xx}${run.noisy ? `, NOISY: ${run.cpu.other} cores used by other processes` : ''}`);
      if (server.exited !== null) throw new Error(`the server exited during the load (${JSON.stringify(server.exited)}):\n${server.log()}`);
    }
    // The best level: the most requests/s among the clean runs (any run if none was clean).
    const candidates = runs.some(clean) ? runs.filter(clean) : runs;
    const best = candidates.reduce((a, b) => (b.requestsPerSecond.mean > a.requestsPerSecond.mean ? b : a));
    const allClean = runs.every((r) => clean(r) && clean(r.warmup));
    scenarios.push({
      id,
      name: scenario.name,
      call: scenario.call,
      detail: scenario.detail,
      target: scenario.target,
      targetMet: scenario.target === null ? null : allClean && best.requestsPerSecond.mean >= scenario.target,
      clean: allClean,
      best: { connections: best.connections, requestsPerSecond: best.requestsPerSecond, latencyMs: best.latencyMs },
      runs,
    });
  }
  // Scenarios measured against another (private_key_jwt and token exchange against client_secret issuance).
  for (const s of scenarios) {
    const relativeTo = SCENARIOS[s.id].relativeTo;
    const base = relativeTo === undefined ? undefined : scenarios.find((b) => b.id === relativeTo.scenario);
    if (base === undefined) continue;
    const ratio = Math.round((s.best.requestsPerSecond.mean / base.best.requestsPerSecond.mean) * 1000) / 1000;
    s.relative = { to: base.id, ratio, atLeast: relativeTo.atLeast, met: s.clean && base.clean && ratio >= relativeTo.atLeast };
  }
  await sanityCheck(server.baseUrl, tenant);
  const serverLog = server.log();
  const serverSettings = server.settings;
  await teardown();

  const date = new Date();
  const result = {
    schema: 1,
    date: date.toISOString(),
    machine,
    build,
    versions: { node: machine.node, ...serviceVersions, autocannon: AUTOCANNON_VERSION },
    server: { process: 'one reference-server process (no cluster)', ...serverSettings },
    load: {
      generator: `autocannon ${AUTOCANNON_VERSION} (library), in one thread of the bench process, on the same machine and cores`,
      target: '127.0.0.1',
      durationSeconds: duration,
      warmupSeconds: warmup,
      connectionLevels: levels,
      pipelining: 1,
      requestTimeoutSeconds: REQUEST_TIMEOUT_SECONDS,
    },
    seed: { agents: AGENTS, credentials: AGENTS, introspectedTokens: INTROSPECTED_TOKENS },
    machineBusyBeforeCores: busyBefore,
    noisy: scenarios.some((s) => s.runs.some((r) => r.noisy)),
    scenarios,
    verdict: {
      clean: scenarios.every((s) => s.clean),
      targets: scenarios.filter((s) => s.target !== null).map((s) => ({ scenario: s.id, target: s.target, best: s.best.requestsPerSecond.mean, met: s.targetMet })),
      relative: scenarios.filter((s) => s.relative !== undefined).map((s) => ({ scenario: s.id, ...s.relative })),
    },
    serverWarnings: serverLog.split('\n').filter((line) => line.trim() !== '').slice(0, 20),
  };
  return result;
}

let exitCode = 0;
try {
  const result = await main();

  process.stdout.write(`\n${stdoutTable(result)}\n\n`);
  process.stdout.write(`CPU: average busy cores of the server / load generator / PostgreSQL / Redis / everything else; * = best level; ! = noisy (other > ${NOISE_CORES}).\n`);
  for (const t of result.verdict.targets) {
    process.stdout.write(`target ${t.scenario}: ${t.best.toLocaleString('en-US')} req/s vs ≥ ${t.target.toLocaleString('en-US')} → ${t.met ? 'PASS' : 'MISS'}\n`);
  }
  for (const r of result.verdict.relative) {
    process.stdout.write(`target ${r.scenario}: ${r.ratio} × ${r.to} vs ≥ ${r.atLeast} → ${r.met ? 'PASS' : 'MISS'}\n`);
  }
  process.stdout.write(`errors/timeouts/non-2xx/wrong bodies: ${result.verdict.clean ? 'none' : 'SEEN — failing'}\n`);
  if (result.noisy) process.stdout.write(`NOISY: other processes used more than ${NOISE_CORES} cores during some runs (column "other"); rerun on a quiet machine.\n`);

  if (profiling) {
    const files = readdirSync(path.join(workDir, 'profile')).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length === 0) throw new Error('the server wrote no CPU profile');
    mkdirSync(PROFILES_DIR, { recursive: true });
    const stamp = result.date.replace(/[:.]/g, '').slice(0, 15);
    const target = path.join(PROFILES_DIR, `${stamp}-${scenarioIds[0]}.cpuprofile`);
    renameSync(path.join(workDir, 'profile', files[0]), target);
    const summary = summarise(JSON.parse(readFileSync(target, 'utf8')), 10);
    const markdown = summaryMarkdown(summary, `CPU profile of the server: ${SCENARIOS[scenarioIds[0]].name}, ${levels[0]} connections, ${duration} s (commit ${result.machine.commitShort})`);
    writeFileSync(target.replace(/\.cpuprofile$/, '.md'), markdown);
    process.stdout.write(`\n${markdown}\nProfile: ${path.relative(REPO_ROOT, target)} (open in Chrome DevTools or speedscope); summary beside it.\n`);
    // The flame graph beside it; a missing tool (no cargo) costs the picture, not the profile.
    try {
      const svg = writeFlamegraph(target, target.replace(/\.cpuprofile$/, '.svg'), { title: `${SCENARIOS[scenarioIds[0]].name}, ${levels[0]} connections, ${duration} s (commit ${result.machine.commitShort})`, log });
      process.stdout.write(`Flame graph: ${path.relative(REPO_ROOT, svg)} (open in a browser: click to zoom, Ctrl-F to search).\n`);
    } catch (error) {
      log(`no flame graph: ${error.message}`);
    }
  } else if (!args['no-write']) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = resultFileName(RESULTS_DIR, new Date(result.date), result.machine.hostname);
    writeFileSync(path.join(RESULTS_DIR, file), `${JSON.stringify(result, null, 2)}\n`);
    writeResultsReadme(RESULTS_DIR);
    process.stdout.write(`\nResults: bench/results/${file} and bench/results/README.md\n`);
  }
  exitCode = result.verdict.clean ? 0 : 1;
  rmSync(workDir, { recursive: true, force: true });
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  if (workDir !== null) log(`server log and data kept in ${workDir}`);
  await teardown().catch(() => undefined);
  exitCode = 2;
}
stopWatchdog();
process.exit(exitCode);
