import { mkdirSync, openSync, writeSync, fsyncSync, closeSync } from 'node:fs';
import path from 'node:path';
import type { Database } from '../store/database';
import { auditStore } from '../store/audit';
import { idempotencyStore } from '../store/idempotency';
import { webhookOutbox } from '../store/webhook-outbox';

export interface ExportedSlice {
  chain: string;
  fromSequence: number;
  toSequence: number;
  file: string;
}

/** Writes lines to a new file and forces them to disk before returning. */
function writeDurably(file: string, lines: string[]): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, lines.join('\n') + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Retention: events older than the window are first exported (JSON lines, fsynced, one
 * file per chain slice) and only then deleted, moving the chain's anchor past them so the
 * remaining events still verify. Runs as the owner: the server's role cannot delete events.
 */
export async function pruneAuditTrail(db: Database, exportDir: string, retentionDays: number, now: Date = new Date()): Promise<ExportedSlice[]> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  const chains = await db.ownerTransaction((sql) => auditStore.chainsWithEventsBefore(sql, cutoff));
  const exported: ExportedSlice[] = [];
  for (const chain of chains) {
    const events = await db.ownerTransaction((sql) => auditStore.oldest(sql, chain, cutoff));
    const first = events[0];
    const last = events[events.length - 1];
    if (first === undefined || last === undefined) continue;
    mkdirSync(exportDir, { recursive: true, mode: 0o700 });
    const file = path.join(exportDir, `${chain}-${first.sequence}-${last.sequence}.jsonl`);
    writeDurably(file, events.map((event) => JSON.stringify(event)));
    await db.ownerTransaction((sql) => auditStore.prune(sql, chain, last.sequence, last.hash));
    exported.push({ chain, fromSequence: first.sequence, toSequence: last.sequence, file });
  }
  return exported;
}

/** Revocations of tokens that have expired anyway, and idempotency keys past their window. */
export async function pruneExpiredState(db: Database): Promise<void> {
  await db.ownerTransaction(async (sql) => {
    await sql.query(`DELETE FROM revoked_tokens WHERE expires_at < now() - interval '1 hour'`);
    await idempotencyStore.prune(sql);
    await webhookOutbox.pruneOrphans(sql);
  });
}
