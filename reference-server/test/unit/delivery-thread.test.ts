import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import type { AuditEntry } from '../../src/domain/audit';
import { DeliveryThread } from '../../src/workers/webhooks/delivery-thread';

const dir = mkdtempSync(path.join(tmpdir(), 'mandate-thread-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A stand-in for the delivery thread: reports once, then dies (or waits for 'stop'). */
function script(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `const { parentPort } = require('node:worker_threads');\n${body}\n`);
  return file;
}

const entry = (action: string): AuditEntry =>
  ({ orgId: null, action, outcome: 'success', actor: { type: 'system', id: 'test' }, target: null, ip: null, userAgent: null, requestId: null }) as AuditEntry;

describe('the delivery thread', () => {
  it('is replaced when it dies, since the outbox keeps its work', async () => {
    const audited: string[] = [];
    const dying = script('dying.js', `parentPort.postMessage({ kind: 'audit', entry: ${JSON.stringify(entry('thread.started'))} });\nsetTimeout(() => process.exit(3), 20);`);
    const thread = new DeliveryThread((e) => (audited.push(e.action), Promise.resolve()), { attempted: () => undefined }, pino({ level: 'silent' }), dying);
    thread.start();
    const deadline = Date.now() + 10_000;
    while (audited.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await thread.stop();
    expect(audited.length).toBeGreaterThanOrEqual(2); // it started again after dying
  }, 15_000);

  it('passes the thread’s metrics and audit events on, and stops when asked', async () => {
    const attempts: [string, number][] = [];
    const audited: string[] = [];
    const steady = script(
      'steady.js',
      `parentPort.postMessage({ kind: 'attempts', attempts: [['succeeded', 0.01], ['retry', 0.02]] });
parentPort.postMessage({ kind: 'audit', entry: ${JSON.stringify(entry('webhook.disabled'))} });
parentPort.on('message', (m) => { if (m === 'stop') parentPort.close(); });`,
    );
    const thread = new DeliveryThread(
      (e) => (audited.push(e.action), Promise.resolve()),
      { attempted: (outcome, seconds) => attempts.push([outcome, seconds]) },
      pino({ level: 'silent' }),
      steady,
    );
    thread.start();
    const deadline = Date.now() + 10_000;
    while (audited.length < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await thread.stop();
    expect(attempts).toEqual([
      ['succeeded', 0.01],
      ['retry', 0.02],
    ]);
    expect(audited).toEqual(['webhook.disabled']);
  }, 15_000);
});
