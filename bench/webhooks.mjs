#!/usr/bin/env node
// Webhook benchmark: token issuance with and without a webhook subscribed to token.issued,
// and how fast the deliveries reach a fast loopback receiver (which answers 204 at once).
//
//   node bench/webhooks.mjs [--duration=15] [--connections=64] [--delivery=thread|inline] [--no-write]
//
// Exit status: 0 clean (targets are recorded, not enforced); 1 the load saw errors or a
// delivery was lost or duplicated; 2 the bench could not run.
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { clean, load } from './lib/load.mjs';
import { describeBuild, describeMachine } from './lib/report.mjs';
import { SCENARIOS } from './lib/scenarios.mjs';
import { seed } from './lib/seed.mjs';
import { startServer } from './lib/server.mjs';
import { BENCH_DB, prepareServices } from './lib/services.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(BENCH_DIR, '..');
const TARGETS = { deliveriesPerSecond: 2000, issuanceRatioWithWebhook: 0.8 };

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '64' },
    // Where the server makes deliveries: its own thread (the default on PostgreSQL) or the request thread.
    delivery: { type: 'string', default: 'thread' },
    'no-write': { type: 'boolean', default: false },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const log = (message) => process.stderr.write(`[bench-webhooks] ${message}\n`);
const round = (n) => Math.round(n * 10) / 10;

/** Answers every delivery with 204 and counts them by webhook-id. */
async function startReceiver() {
  const ids = new Map();
  const arrivals = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      ids.set(id, (ids.get(id) ?? 0) + 1);
      arrivals.push(Date.now());
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/hooks`, ids, arrivals, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function main() {
  const machine = describeMachine(REPO_ROOT);
  const services = prepareServices(REPO_ROOT);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'mandate-bench-webhooks-'));
  const receiver = await startReceiver();
  const server = await startServer({
    mainJs: path.join(REPO_ROOT, 'reference-server', 'dist', 'main.js'),
    workDir,
    databaseUrl: services.databaseUrl,
    redisUrl: services.redisUrl,
    poolSize: 10,
    env: { MANDATE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.0/8', MANDATE_WEBHOOK_DELIVERY: args.delivery },
  });
  try {
    const tenant = await seed(server.baseUrl, server.bootstrapToken);
    const run = () => load({ baseUrl: server.baseUrl, scenario: SCENARIOS.issuance, tenant, connections, seconds: duration, serverPid: server.pid, database: BENCH_DB });
    log(`token issuance without webhooks, ${connections} connections, ${duration} s`);
    await load({ baseUrl: server.baseUrl, scenario: SCENARIOS.issuance, tenant, connections, seconds: 3 }); // warm-up
    const without = await run();

    const created = await fetch(`${server.baseUrl}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, events: ['token.issued'] }),
    });
    if (created.status !== 201) throw new Error(`createWebhook answered ${created.status}: ${await created.text()}`);
    log(`token issuance with a webhook on token.issued, ${duration} s`);
    const started = Date.now();
    const withWebhook = await run();
    const issued = withWebhook.totalRequests;
    log(`waiting for ${issued} deliveries`);
    const deadline = Date.now() + 600_000;
    let seen = -1;
    // Drained: all expected arrived and nothing more came for a second.
    while ((receiver.ids.size < issued || receiver.ids.size !== seen) && Date.now() < deadline) {
      seen = receiver.ids.size;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const drained = Date.now();
    const duplicates = [...receiver.ids.values()].filter((count) => count > 1).length;
    const deliveriesPerSecond = receiver.arrivals.length / ((drained - started) / 1000);
    // Once the load stopped, the worker had the machine to itself: its own pace.
    const afterLoad = receiver.arrivals.filter((at) => at > started + duration * 1000);
    const drainPerSecond = afterLoad.length === 0 ? null : afterLoad.length / Math.max(0.001, (afterLoad.at(-1) - afterLoad[0]) / 1000);

    const result = {
      schema: 1,
      kind: 'webhooks',
      date: new Date().toISOString(),
      machine,
      build: describeBuild(REPO_ROOT),
      connections,
      durationSeconds: duration,
      delivery: args.delivery,
      issuance: {
        withoutWebhook: without.requestsPerSecond.mean,
        withWebhook: withWebhook.requestsPerSecond.mean,
        ratio: Math.round((withWebhook.requestsPerSecond.mean / without.requestsPerSecond.mean) * 1000) / 1000,
        clean: clean(without) && clean(withWebhook),
        // Busy cores of the server (all its threads), the load generator, PostgreSQL, Redis and the rest.
        cpuWithout: without.cpu,
        cpuWithWebhook: withWebhook.cpu,
      },
      deliveries: {
        expected: issued,
        received: receiver.ids.size,
        duplicates,
        secondsToDrain: round((drained - started) / 1000),
        perSecondOverall: round(deliveriesPerSecond),
        perSecondAfterLoad: drainPerSecond === null ? null : round(drainPerSecond),
      },
      targets: {
        deliveriesPerSecond: TARGETS.deliveriesPerSecond,
        deliveriesMet: (drainPerSecond ?? deliveriesPerSecond) >= TARGETS.deliveriesPerSecond,
        issuanceRatio: TARGETS.issuanceRatioWithWebhook,
        issuanceMet: withWebhook.requestsPerSecond.mean >= TARGETS.issuanceRatioWithWebhook * without.requestsPerSecond.mean,
      },
    };
    // autocannon counts the answers it waited for; requests still in flight when it stopped
    // were issued too, so at least that many deliveries must arrive.
    const ok = result.issuance.clean && receiver.ids.size >= issued && duplicates === 0;
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n\n`);
    process.stdout.write(
      `issuance ${result.issuance.withoutWebhook}/s without, ${result.issuance.withWebhook}/s with a token.issued webhook (ratio ${result.issuance.ratio}, target ≥ 0.8: ${result.targets.issuanceMet ? 'PASS' : 'MISS'}); ` +
        `${receiver.ids.size}/${issued} deliveries, ${duplicates} duplicated, ${result.deliveries.perSecondAfterLoad ?? result.deliveries.perSecondOverall}/s once the load stopped (target ≥ 2,000/s: ${result.targets.deliveriesMet ? 'PASS' : 'MISS'})\n`,
    );
    if (!args['no-write']) {
      const dir = path.join(BENCH_DIR, 'results', 'webhooks');
      mkdirSync(dir, { recursive: true });
      const file = `${result.date.slice(0, 16).replace(/[-:T]/g, '').replace(/^(\d{8})/, '$1-')}-${machine.hostname}.json`;
      writeFileSync(path.join(dir, file), `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(`Results: bench/results/webhooks/${file}\n`);
    }
    return ok ? 0 : 1;
  } finally {
    await server.stop();
    await receiver.close();
    if (services.startedByBench) services.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(2);
  },
);
