#!/usr/bin/env node
// Event-stream benchmark: many SSE subscribers on one reference-server process, while the
// token endpoint runs its usual load. Measures, for every subscriber and every event, the
// time from the event's commit (its `occurredAt`, stamped just before the commit, so the
// figure errs high) to its receipt, and checks that every subscriber got every event.
//
//   node bench/events.mjs [--subscribers=1000] [--duration=15] [--rate=20] [--connections=64] [--no-write]
//
// Exit status: 0 clean (the target is recorded, not enforced); 1 a subscriber missed or
// duplicated an event, or the token load saw errors; 2 the bench could not run.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { clean, load } from './lib/load.mjs';
import { describeBuild, describeMachine, resultFileName } from './lib/report.mjs';
import { SCENARIOS } from './lib/scenarios.mjs';
import { seed } from './lib/seed.mjs';
import { startServer } from './lib/server.mjs';
import { BENCH_DB, prepareServices } from './lib/services.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(BENCH_DIR, '..');
const TARGET_P99_MS = 100;

const { values: args } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '15' },
    rate: { type: 'string', default: '20' },
    connections: { type: 'string', default: '64' },
    'no-write': { type: 'boolean', default: false },
  },
});
const subscribers = Number(args.subscribers);
const duration = Number(args.duration);
const rate = Number(args.rate);
const connections = Number(args.connections);
const log = (message) => process.stderr.write(`[bench-events] ${message}\n`);
const percentile = (sorted, p) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
const round = (n) => Math.round(n * 100) / 100;

/** One subscriber: reads `agent.created` events and records each one's commit-to-receipt time. */
async function subscribe(baseUrl, token, onEvent) {
  // fetch's default agent sets no limit on connections per origin.
  const response = await fetch(`${baseUrl}/v1/events/stream?action=agent.created`, { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`subscribe answered ${response.status}`);
  const decoder = new TextDecoder();
  let buffer = '';
  const reading = (async () => {
    try {
      for await (const chunk of response.body) {
        const received = Date.now();
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message.split('\n').find((line) => line.startsWith('data: '));
          if (data !== undefined) onEvent(JSON.parse(data.slice(6)), received);
        }
      }
    } catch {
      // closed by the bench at the end
    }
  })();
  return { close: () => response.body.cancel().catch(() => undefined), reading };
}

async function main() {
  const machine = describeMachine(REPO_ROOT);
  const services = prepareServices(REPO_ROOT);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'mandate-bench-events-'));
  const server = await startServer({
    mainJs: path.join(REPO_ROOT, 'reference-server', 'dist', 'main.js'),
    workDir,
    databaseUrl: services.databaseUrl,
    redisUrl: services.redisUrl,
    poolSize: 10,
  });
  try {
    const tenant = await seed(server.baseUrl, server.bootstrapToken);
    log(`server ready; opening ${subscribers} subscribers`);
    const received = new Map(); // event id -> receipts
    const latencies = [];
    const streams = [];
    for (let i = 0; i < subscribers; i++) {
      streams.push(
        await subscribe(server.baseUrl, tenant.adminToken, (event, at) => {
          latencies.push(at - Date.parse(event.occurredAt));
          received.set(event.id, (received.get(event.id) ?? 0) + 1);
        }),
      );
    }
    log(`${subscribers} subscribers open; token load at ${connections} connections and ${rate} agents/s for ${duration} s`);
    let created = 0;
    const writer = setInterval(() => {
      created++;
      void fetch(`${server.baseUrl}/v1/agents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `stream-bench-${created}`, agentType: 'tool' }),
      });
    }, 1000 / rate);
    const tokens = await load({ baseUrl: server.baseUrl, scenario: SCENARIOS.issuance, tenant, connections, seconds: duration, serverPid: server.pid, database: BENCH_DB });
    clearInterval(writer);
    await new Promise((resolve) => setTimeout(resolve, 2000)); // the last events in flight
    for (const stream of streams) await stream.close();

    const sorted = [...latencies].sort((a, b) => a - b);
    const complete = [...received.values()].filter((count) => count === subscribers).length;
    const result = {
      schema: 1,
      kind: 'event-stream',
      date: new Date().toISOString(),
      machine,
      build: describeBuild(REPO_ROOT),
      subscribers,
      agentsCreated: created,
      eventsSeen: received.size,
      eventsDeliveredToEverySubscriber: complete,
      deliveries: latencies.length,
      commitToReceiptMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null },
      target: { p99Ms: TARGET_P99_MS, met: (percentile(sorted, 99) ?? Infinity) < TARGET_P99_MS },
      tokenLoad: { connections, requestsPerSecond: tokens.requestsPerSecond.mean, latencyMs: tokens.latencyMs, clean: clean(tokens), cpu: tokens.cpu },
    };
    const ok = result.tokenLoad.clean && received.size === created && complete === created && latencies.length === created * subscribers;
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `\n${subscribers} subscribers, ${created} events: p50 ${result.commitToReceiptMs.p50} ms, p99 ${result.commitToReceiptMs.p99} ms ` +
        `(target < ${TARGET_P99_MS} ms: ${result.target.met ? 'PASS' : 'MISS'}); every subscriber got every event: ${ok ? 'yes' : 'NO'}; ` +
        `token issuance meanwhile ${round(result.tokenLoad.requestsPerSecond)}/s\n`,
    );
    if (!args['no-write']) {
      const dir = path.join(BENCH_DIR, 'results', 'events');
      mkdirSync(dir, { recursive: true });
      const file = resultFileName(dir, new Date(result.date), machine.hostname); // never overwrites an earlier run
      writeFileSync(path.join(dir, file), `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(`Results: bench/results/events/${file}\n`);
    }
    return ok ? 0 : 1;
  } finally {
    await server.stop();
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
