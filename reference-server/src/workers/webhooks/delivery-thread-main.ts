// The delivery thread's entry point (see delivery-thread.ts).
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import { loadConfig } from '../../config';
import { KeyEncryption } from '../../domain/key-encryption';
import { createLogger } from '../../observability/logger';
import { PostgresDatabase } from '../../store/database';
import type { FromThread, Outcome, ToThread } from './delivery-thread';
import { DeliveryWorker, deliverySettings } from './delivery-worker';

/**
 * Deliveries are background work: when the cores are busy, requests come first and the
 * queue drains as room allows (at nice 10 the thread still gets about a tenth of a busy
 * core, so it never stops). Linux applies a nice value to the calling thread alone.
 */
const DELIVERY_THREAD_NICE = 10;

const port = parentPort;
if (port === null) throw new Error('delivery-thread-main runs in a worker thread');
const config = loadConfig();
if (config.databaseUrl === null || config.keyEncryptionKey === null) throw new Error('the delivery thread needs DATABASE_URL and MANDATE_KEY_ENCRYPTION_KEY');
const send = (message: FromThread): void => {
  port.postMessage(message);
};
// Metrics go to the request thread a few times a second, not once per attempt.
const REPORT_MS = 250;
let attempts: [Outcome, number][] = [];
const report = (): void => {
  if (attempts.length === 0) return;
  send({ kind: 'attempts', attempts });
  attempts = [];
};
setInterval(report, REPORT_MS).unref();
// Two connections: one claims and records while the other reads a batch's events. Their
// commits need not wait for the disk: a claim or an attempt's record lost in a crash only
// means the delivery is sent again, with the same webhook-id, which at-least-once allows.
const db = new PostgresDatabase(config.databaseUrl, 2, undefined, { timeoutMs: config.databaseTimeoutMs, synchronousCommit: false });
const logger = createLogger(config.logLevel).child({ thread: 'webhook-delivery' });
try {
  os.setPriority(DELIVERY_THREAD_NICE);
} catch (error) {
  logger.warn({ err: error }, 'the delivery thread keeps the normal priority');
}
const worker = new DeliveryWorker(
  db,
  new KeyEncryption(config.keyEncryptionKey),
  deliverySettings(config),
  (entry) => {
    send({ kind: 'audit', entry });
    return Promise.resolve();
  },
  {
    attempted(outcome, seconds) {
      attempts.push([outcome, seconds]);
    },
  },
  logger,
);
worker.start();
port.on('message', (message: ToThread) => {
  if (message === 'poke') worker.poke();
  else {
    void worker
      .stop()
      .then(() => db.close())
      .finally(() => {
        report();
        port.close();
      });
  }
});
