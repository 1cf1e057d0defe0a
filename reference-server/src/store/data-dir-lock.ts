import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

interface Owner {
  pid: number;
  host: string;
}

export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';

  constructor(dataDir: string, owner: Owner, lockFile: string) {
    super(
      owner.host === hostname()
        ? `The data directory ${dataDir} is in use by process ${owner.pid} (a running Mandate server?). Stop it first, or set MANDATE_DATA_DIR to another directory.`
        : `The data directory ${dataDir} is in use by process ${owner.pid} on host ${owner.host} (another container?). Stop that server first; if it is gone already, delete ${lockFile}.`,
    );
  }
}

/** True when a process with this id runs here (EPERM: it runs, as another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): Owner | null {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as Partial<Owner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? { pid: owner.pid, host: owner.host } : null;
  } catch {
    return null; // unreadable or half-written: treated as stale
  }
}

/**
 * A lock file naming its owner's process and host. A lock whose process has gone (a crash,
 * a restarted container, which is PID 1 again) is taken over; a live owner, or one on
 * another host (a second container on a shared volume, which this host cannot see), refuses
 * the second opener.
 */
export class DataDirLock {
  private constructor(private readonly file: string) {}

  static acquire(dataDir: string): DataDirLock {
    const file = path.join(dataDir, 'lock');
    const me: Owner = { pid: process.pid, host: hostname() };
    for (;;) {
      try {
        writeFileSync(file, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
        return new DataDirLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = readOwner(file);
      if (owner !== null && owner.host !== me.host) throw new DataDirInUseError(dataDir, owner, file);
      if (owner !== null && owner.pid !== me.pid && isRunning(owner.pid)) throw new DataDirInUseError(dataDir, owner, file);
      unlinkSync(file); // stale: its process is gone
    }
  }

  release(): void {
    try {
      unlinkSync(this.file);
    } catch {
      // already gone: nothing to release
    }
  }
}
