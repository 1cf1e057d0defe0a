import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { DataDirInUseError, DataDirLock } from '../../src/store/data-dir-lock';

let dir: string;
const lockFile = (): string => path.join(dir, 'lock');
const writeOwner = (pid: number, host = hostname()): void => {
  writeFileSync(lockFile(), JSON.stringify({ pid, host }));
};

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the embedded data directory lock', () => {
  it('is held while open and released on close', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mandate-lock-'));
    const lock = DataDirLock.acquire(dir);
    expect(existsSync(lockFile())).toBe(true);
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
  });

  it('refuses a directory that a live process on this host holds', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mandate-lock-'));
    writeOwner(process.ppid); // the test runner's parent: alive
    expect(() => DataDirLock.acquire(dir)).toThrow(DataDirInUseError);
    expect(() => DataDirLock.acquire(dir)).toThrow(`in use by process ${process.ppid}`);
  });

  it('takes over the lock of a process that is gone', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mandate-lock-'));
    const exited = spawnSync(process.execPath, ['-e', '0']).pid; // has exited by now
    writeOwner(exited);
    DataDirLock.acquire(dir).release();
    writeFileSync(lockFile(), 'half-writ');
    DataDirLock.acquire(dir).release();
  });

  it('refuses a lock from another host, whose processes it cannot see', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mandate-lock-'));
    writeOwner(1, 'another-container');
    expect(() => DataDirLock.acquire(dir)).toThrow(/on host another-container .* delete .*lock/);
  });
});
