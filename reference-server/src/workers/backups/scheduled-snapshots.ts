import { readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../observability/logger';

export interface SnapshotSchedule {
  dir: string;
  intervalSeconds: number;
  /** How many snapshots are kept; older ones are deleted after each new one. */
  keep: number;
}

const NAME = /^mandate-\d{8}T\d{6}Z\.snapshot$/;

/** `mandate-20261207T101500Z.snapshot`: names sort in time order. */
export const snapshotName = (at: Date): string => `mandate-${at.toISOString().replace(/[-:]/g, '').slice(0, 15)}Z.snapshot`;

/** Writes a file so that it is either whole or absent: a crash mid-write leaves no half snapshot. */
export function writeWhole(file: string, bytes: Uint8Array): void {
  const partial = `${file}.partial`;
  writeFileSync(partial, bytes, { mode: 0o600 });
  renameSync(partial, file);
}

/**
 * The embedded store's scheduled snapshots (MANDATE_BACKUP_DIR): one every interval, the
 * newest `keep` kept. A failed snapshot is logged and the next one is tried on time.
 */
export class ScheduledSnapshots {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly take: () => Promise<Uint8Array>,
    private readonly schedule: SnapshotSchedule,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.once().finally(() => {
        this.running = null;
      });
    }, this.schedule.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the schedule and waits for a snapshot being written. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async once(): Promise<void> {
    try {
      const bytes = await this.take();
      const file = path.join(this.schedule.dir, snapshotName(new Date()));
      writeWhole(file, bytes);
      const old = readdirSync(this.schedule.dir).filter((name) => NAME.test(name)).sort().slice(0, -this.schedule.keep);
      for (const name of old) rmSync(path.join(this.schedule.dir, name), { force: true });
      this.logger.info({ file, bytes: bytes.length, deleted: old.length }, 'scheduled snapshot written');
    } catch (error) {
      this.logger.error({ err: error }, 'scheduled snapshot failed; the next one is tried on schedule');
    }
  }
}
