#!/usr/bin/env node
// Webhook benchmark: token issuance with and without a webhook subscribed to token.issued,
// and how fast the deliveries reach a fast loopback receiver (which answers 204 at once).
//
//   node bench/webhooks.mjs [--duration=10] [--rounds=9] [--connections=64] [--delivery=thread|inline|off] [--receiver-nice=0] [--no-write]
//
// --delivery=off measures what filling the outbox costs the hot path alone: the server
// queues every delivery and sends none (as an API-only instance beside delivering ones).
//
// Exit status: 0 clean (targets are recorded, not enforced); 1 the load saw errors or a
// delivery was lost or duplicated; 2 the bench could not run.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { clean, load } from './lib/load.mjs';
import { describeBuild, describeMachine, resultFileName } from './lib/report.mjs';
import { SCENARIOS } from './lib/scenarios.mjs';
import { startReceiver } from './lib/receiver.mjs';
import { seed } from './lib/seed.mjs';
import { startServer } from './lib/server.mjs';
import { wholeNumber } from './lib/guard.mjs';
import { median, medianInterval } from './lib/stats.mjs';
import { BENCH_DB, prepareServices } from './lib/services.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(BENCH_DIR, '..');
const TARGETS = { deliveriesPerSecond: 2000, issuanceRatioWithWebhook: 0.8 };

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    // Nine rounds bound the median ratio to within a few points (a 96 % interval: the 2nd and 8th smallest).
    rounds: { type: 'string', default: '9' },
    connections: { type: 'string', default: '64' },
    // Where the server makes deliveries: its own thread (the default on PostgreSQL) or the request thread.
    delivery: { type: 'string', default: 'thread' },
    // The loopback receiver stands in for an endpoint on another machine, but shares this one's
    // cores: at 0 it takes an equal share of them (the conservative default); at 10 it takes
    // mostly idle time, closer to a remote receiver. The difference is the receiver's own cost.
    'receiver-nice': { type: 'string', default: '0' },
    'no-write': { type: 'boolean', default: false },
  },
});
const duration = wholeNumber('duration', args.duration);
const rounds = wholeNumber('rounds', args.rounds);
const connections = wholeNumber('connections', args.connections);
const receiverNice = Math.min(wholeNumber('receiver-nice', args['receiver-nice'], 0), 19);
const log = (message) => process.stderr.write(`[bench-webhooks] ${message}\n`);
const round = (n) => Math.round(n * 10) / 10;

/** Until every expected delivery arrived and nothing more came for a second (10 min at most). */
async function drained(receiver, expected) {
  const deadline = Date.now() + 600_000;
  let seen = -1;
  while ((receiver.ids.size < expected || receiver.ids.size !== seen) && Date.now() < deadline) {
    seen = receiver.ids.size;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function main() {
  const machine = describeMachine(REPO_ROOT);
  const services = prepareServices(REPO_ROOT);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'mandate-bench-webhooks-'));
  const receiver = await startReceiver({ nice: receiverNice });
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
    const call = async (method, url, body) => {
      const response = await fetch(`${server.baseUrl}${url}`, {
        method,
        headers: { authorization: `Bearer ${tenant.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${await response.text()}`);
      return response.json();
    };
    await load({ baseUrl: server.baseUrl, scenario: SCENARIOS.issuance, tenant, connections, seconds: 3 }); // warm-up
    const webhook = await call('POST', '/v1/webhooks', { url: receiver.url, events: ['token.issued'] });
    const subscribe = (enabled) => call('PATCH', `/v1/webhooks/${webhook.id}`, { enabled });
    const delivering = args.delivery !== 'off';

    // Rounds alternate without and with the subscription, so the machine's drift (large on a
    // shared VM) hits both sides; each round's deliveries drain before the next starts.
    const withouts = [];
    const withs = [];
    let issued = 0;
    let started = 0;
    let loadEnded = 0;
    for (let r = 1; r <= rounds; r++) {
      await subscribe(false);
      log(`round ${r}/${rounds}: token issuance without a subscribed webhook, ${connections} connections, ${duration} s`);
      withouts.push(await run());
      await subscribe(true);
      log(`round ${r}/${rounds}: token issuance with a webhook on token.issued, ${duration} s`);
      started = Date.now();
      const withWebhook = await run();
      loadEnded = Date.now();
      withs.push(withWebhook);
      issued += withWebhook.totalRequests;
      if (delivering) {
        log(`waiting for ${issued} deliveries`);
        await drained(receiver, issued);
      }
    }
    const drainedAt = Date.now();
    const duplicates = [...receiver.ids.values()].filter((count) => count > 1).length;
    // The last round's deliveries once its load stopped: the worker's own pace.
    const afterLoad = receiver.arrivals.filter((at) => at > loadEnded);
    const drainPerSecond = afterLoad.length < 2 ? null : afterLoad.length / Math.max(0.001, (afterLoad.at(-1) - afterLoad[0]) / 1000);
    const deliveriesPerSecond = receiver.arrivals.filter((at) => at >= started).length / ((drainedAt - started) / 1000);
    const rate = (runs) => round(median(runs.map((r) => r.requestsPerSecond.mean)));
    const ratios = withs.map((w, i) => w.requestsPerSecond.mean / withouts[i].requestsPerSecond.mean);
    const ratio = Math.round(median(ratios) * 1000) / 1000;
    const interval = medianInterval(ratios);

    const result = {
      schema: 1,
      kind: 'webhooks',
      date: new Date().toISOString(),
      machine,
      build: describeBuild(REPO_ROOT),
      connections,
      durationSeconds: duration,
      delivery: args.delivery,
      receiverNice,
      rounds,
      issuance: {
        // Medians over the rounds; the ratio is the median of each round's own ratio.
        withoutWebhook: rate(withouts),
        withWebhook: rate(withs),
        ratio,
        ratioPerRound: ratios.map((r) => Math.round(r * 1000) / 1000),
        // Where the median ratio lies, whatever the rounds' distribution (null under six rounds).
        ratioInterval: interval === null ? null : { low: Math.round(interval.low * 1000) / 1000, high: Math.round(interval.high * 1000) / 1000, coverage: interval.coverage },
        roundsBelowTarget: ratios.filter((r) => r < TARGETS.issuanceRatioWithWebhook).length,
        clean: [...withouts, ...withs].every(clean),
        // Busy cores of the server (all its threads), the load generator, PostgreSQL, Redis and the rest.
        cpuWithout: withouts.map((r) => r.cpu),
        cpuWithWebhook: withs.map((r) => r.cpu),
      },
      deliveries: !delivering ? null : {
        expected: issued,
        received: receiver.ids.size,
        duplicates,
        secondsToDrainLastRound: round((drainedAt - started) / 1000),
        perSecondLastRound: round(deliveriesPerSecond),
        perSecondAfterLoad: drainPerSecond === null ? null : round(drainPerSecond),
      },
      targets: {
        deliveriesPerSecond: TARGETS.deliveriesPerSecond,
        deliveriesMet: delivering ? (drainPerSecond ?? deliveriesPerSecond) >= TARGETS.deliveriesPerSecond : null,
        issuanceRatio: TARGETS.issuanceRatioWithWebhook,
        issuanceMet: ratio >= TARGETS.issuanceRatioWithWebhook,
        // Met beyond the rounds' noise: the whole interval of the median is at or above the target.
        issuanceMetBeyondNoise: interval === null ? null : interval.low >= TARGETS.issuanceRatioWithWebhook,
      },
    };
    // autocannon counts the answers it waited for; requests still in flight when it stopped
    // were issued too, so at least that many deliveries must arrive.
    const ok = result.issuance.clean && (!delivering || (receiver.ids.size >= issued && duplicates === 0));
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n\n`);
    process.stdout.write(
      `issuance ${result.issuance.withoutWebhook}/s without, ${result.issuance.withWebhook}/s with a token.issued webhook (median of ${rounds} rounds' ratios ${result.issuance.ratio}: ${result.issuance.ratioPerRound.join(', ')}` +
        (interval === null ? '' : `; ${Math.round(interval.coverage * 100)} % interval of the median ${result.issuance.ratioInterval.low}–${result.issuance.ratioInterval.high}`) +
        `; target ≥ 0.8: ${result.targets.issuanceMet ? (result.targets.issuanceMetBeyondNoise === false ? 'PASS at the median, not beyond the noise' : 'PASS') : 'MISS'}); ` +
        (delivering
          ? `${receiver.ids.size}/${issued} deliveries, ${duplicates} duplicated, ${result.deliveries.perSecondAfterLoad ?? result.deliveries.perSecondLastRound}/s once the load stopped (target ≥ 2,000/s: ${result.targets.deliveriesMet ? 'PASS' : 'MISS'})\n`
          : `${issued} deliveries queued, none sent (--delivery=off)\n`),
    );
    if (!args['no-write']) {
      const dir = path.join(BENCH_DIR, 'results', 'webhooks');
      mkdirSync(dir, { recursive: true });
      const file = resultFileName(dir, new Date(result.date), machine.hostname); // never overwrites an earlier run
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
