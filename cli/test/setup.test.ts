import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** What `make setup` runs to put `mandate` on the PATH, without root. */
const LINK = path.resolve(__dirname, '../scripts/link.sh');

const folders: string[] = [];
const tempFolder = (): string => {
  const folder = mkdtempSync(path.join(tmpdir(), 'mandate-link-'));
  folders.push(folder);
  return folder;
};
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

test('link.sh links the command into a user bin folder, where it runs', () => {
  const binDir = path.join(tempFolder(), 'bin');
  const out = execFileSync('bash', [LINK], { env: { ...process.env, MANDATE_BIN_DIR: binDir }, encoding: 'utf8' });
  expect(out).toContain(`linked ${binDir}/mandate`);
  const version = execFileSync('mandate', ['--version'], { env: { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ''}` }, encoding: 'utf8' });
  expect(version.trim()).toBe('0.1.0');
  // Running it again is harmless.
  expect(spawnSync('bash', [LINK], { env: { ...process.env, MANDATE_BIN_DIR: binDir } }).status).toBe(0);
});

test('link.sh leaves another program called mandate alone', () => {
  const binDir = tempFolder();
  writeFileSync(path.join(binDir, 'mandate'), '#!/bin/sh\necho other\n', { mode: 0o755 });
  const result = spawnSync('bash', [LINK], { env: { ...process.env, MANDATE_BIN_DIR: binDir }, encoding: 'utf8' });
  expect(result.status).toBe(0);
  expect(result.stderr).toContain('left as it is');
  expect(execFileSync(path.join(binDir, 'mandate'), { encoding: 'utf8' }).trim()).toBe('other');
});
