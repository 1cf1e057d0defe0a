// The delivery thread's entry point (see delivery-thread.ts).
import { parentPort } from 'node:worker_threads';
import { loadConfig } from '../../config';
import { KeyEncryption } from '../../domain/key-encryption';
import { createLogger } from '../../observability/logger';
import { PostgresDatabase } from '../../store/database';
import type { FromThread, Outcome, ToThread } from './delivery-thread';
import { DeliveryWorker, deliverySettings } from './delivery-worker';

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
// Two connections: one claims and records while the other reads a batch's events.
const db = new PostgresDatabase(config.databaseUrl, 2, undefined, { timeoutMs: config.databaseTimeoutMs });
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
  createLogger(config.logLevel).child({ thread: 'webhook-delivery' }),
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
