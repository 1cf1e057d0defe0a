#!/usr/bin/env node
// Does a second server process pay for itself on this machine? One process at 64 connections
// against two processes on the same database and Redis with 32 connections each, in
// interleaved rounds (one, two, one, two, …). With --orgs=1 (the default) both serve one
// organization, so their audit writers append to one hash chain; with --orgs=2 each serves
// its own, which shows what the second process would give were an organization's appends
// kept with one writer. Prints one JSON line per round; writes nothing.
//
//   node bench/two-processes.mjs [issuance|introspection] [--rounds=3] [--duration=10] [--orgs=1|2]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { wholeNumber } from './lib/guard.mjs';
import { load } from './lib/load.mjs';
import { SCENARIOS } from './lib/scenarios.mjs';
import { seed } from './lib/seed.mjs';
import { startServer } from './lib/server.mjs';
import { prepareServices } from './lib/services.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    orgs: { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write('usage: node bench/two-processes.mjs [issuance|introspection] [--rounds=3] [--duration=10] [--orgs=1|2]\n');
  process.exit(0);
}
const scenario = SCENARIOS[positionals[0] ?? 'issuance'];
if (scenario === undefined) {
  process.stderr.write(`unknown scenario "${positionals[0]}" (try issuance or introspection)\n`);
  process.exit(2);
}
const rounds = wholeNumber('rounds', args.rounds);
const seconds = wholeNumber('duration', args.duration);
const orgs = wholeNumber('orgs', args.orgs);
if (orgs > 2) {
  process.stderr.write('--orgs must be 1 or 2\n');
  process.exit(2);
}

const services = prepareServices(REPO_ROOT, { database: 'mandate_bench_two', redisDb: 12 });
const workDir = mkdtempSync(path.join(os.tmpdir(), 'mandate-bench-two-'));
const start = (name, secrets) => {
  const dir = path.join(workDir, name);
  mkdirSync(dir);
  // Instances of one deployment share its issuer (by default each would name its own port).
  const env = { MANDATE_ISSUER: 'http://localhost:8080' };
  return startServer({ mainJs: path.join(REPO_ROOT, 'reference-server', 'dist', 'main.js'), workDir: dir, databaseUrl: services.databaseUrl, redisUrl: services.redisUrl, poolSize: 10, secrets, env });
};
const first = await start('a');
const second = await start('b', first.secrets);
try {
  const tenant = await seed(first.baseUrl, first.bootstrapToken);
  const secondTenant = orgs === 1 ? tenant : await seed(first.baseUrl, first.bootstrapToken, { name: 'Bench Org 2' });
  const run = (server, connections, duration, who = tenant) => load({ baseUrl: server.baseUrl, scenario, tenant: who, connections, seconds: duration });
  await Promise.all([run(first, 64, 3), run(second, 64, 3, secondTenant)]); // warm-up
  for (let round = 1; round <= rounds; round++) {
    const one = await run(first, 64, seconds);
    const two = await Promise.all([run(first, 32, seconds), run(second, 32, seconds, secondTenant)]);
    process.stdout.write(
      `${JSON.stringify({
        round,
        scenario: scenario.name,
        organizations: orgs,
        oneProcess: { requestsPerSecond: one.requestsPerSecond.mean, p99: one.latencyMs.p99 },
        twoProcesses: { requestsPerSecond: Math.round(two[0].requestsPerSecond.mean + two[1].requestsPerSecond.mean), p99: Math.max(two[0].latencyMs.p99, two[1].latencyMs.p99) },
        failures: [one, ...two].reduce((sum, r) => sum + r.errors + r.timeouts + r.non2xx + r.mismatches, 0),
      })}\n`,
    );
  }
} finally {
  await Promise.all([first.stop(), second.stop()]);
  if (services.startedByBench) services.stop();
  rmSync(workDir, { recursive: true, force: true });
}
