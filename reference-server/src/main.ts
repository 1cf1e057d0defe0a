#!/usr/bin/env node
// `mandate-server`: runs the server (the default), mints an instance-admin token from the
// server's own data, or backs the embedded store up and restores it. Arguments are parsed
// with node:util's parseArgs: four commands and three flags do not justify a dependency.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase, secretHasher } from './app';
import { NotBootstrappedError, mintInstanceAdminToken } from './bootstrap';
import { type Config, ConfigError, loadConfig } from './config';
import { createLogger } from './observability/logger';
import { ListenError, serve } from './serve';
import { DataDirInUseError } from './store/data-dir-lock';
import { PGliteDatabase } from './store/database';
import { requestSnapshot } from './control/control-socket';
import { SnapshotError, packSnapshot, readSnapshot, requireSameSecrets } from './domain/snapshots';
import { existingSecrets, serverSecrets } from './secrets';
import { writeWhole } from './workers/backups/scheduled-snapshots';

const USAGE = `Usage:
  mandate-server [start]                          run the server (configured by environment variables)
  mandate-server admin-token create [--label L]   mint a new instance-admin token from the server's data
  mandate-server backup --to FILE                 write a snapshot of the embedded store (while it serves, too)
  mandate-server restore --from FILE              restore a snapshot into a new data directory (MANDATE_DATA_DIR)
  mandate-server --help

admin-token create reads the same DATABASE_URL, MANDATE_DATA_DIR and MANDATE_SECRET_PEPPER as the
server. On the embedded store, stop the server first: its data directory is used by one
process at a time. The token is printed once on standard output; the audit trail records
the event (admin_token.created on the instance chain).

backup asks the server running on MANDATE_DATA_DIR for a consistent snapshot, or reads the
data directory itself when no server runs. A snapshot holds hashed secrets and sealed keys,
never the pepper or the key-encryption key: restore needs the same ones (configured, or the
files secret-pepper and key-encryption-key copied into the new data directory), checks them
before it writes anything, and refuses a data directory that already holds a database.
PostgreSQL is backed up with pg_dump: see docs/backups.md.`;

class UsageError extends Error {}
class NoDataError extends Error {}

async function createAdminToken(config: Config, label: string): Promise<void> {
  if (config.databaseUrl === null && !existsSync(path.join(config.dataDir, 'pgdata'))) {
    throw new NoDataError(`No Mandate data in ${config.dataDir}. Set MANDATE_DATA_DIR to the server's data directory (make run keeps it in reference-server/.mandate-data).`);
  }
  const db = await openDatabase(config);
  try {
    const { tokenId, token } = await mintInstanceAdminToken(db, secretHasher(config), label);
    process.stderr.write(`Created instance-admin token ${tokenId} (recorded in the audit trail). It is shown only this once:\n`);
    process.stdout.write(`${token}\n`);
  } finally {
    await db.close();
  }
}

/** The embedded store only: PostgreSQL has its own tools. */
function requireEmbedded(config: Config, command: string): void {
  if (config.databaseUrl !== null) throw new UsageError(`${command} is for the embedded store; with DATABASE_URL, use pg_dump and pg_restore (see docs/backups.md).`);
}

async function backup(config: Config, to: string): Promise<void> {
  requireEmbedded(config, 'backup');
  const file = path.resolve(to);
  let snapshot = await requestSnapshot(config.dataDir);
  const source = snapshot === null ? 'its data directory (no server was running)' : 'the running server';
  if (snapshot === null) {
    if (!existsSync(path.join(config.dataDir, 'pgdata'))) throw new NoDataError(`No Mandate data in ${config.dataDir}. Set MANDATE_DATA_DIR to the server's data directory.`);
    const db = await PGliteDatabase.open(config.dataDir);
    try {
      snapshot = packSnapshot(await db.snapshot(), serverSecrets(config));
    } finally {
      await db.close();
    }
  }
  writeWhole(file, snapshot);
  process.stderr.write(`Snapshot of ${config.dataDir}, from ${source}, written to ${file} (${(snapshot.length / 1_048_576).toFixed(1)} MiB).\n`);
}

async function restore(config: Config, from: string): Promise<void> {
  requireEmbedded(config, 'restore');
  const existing = path.join(config.dataDir, 'pgdata');
  if (existsSync(existing) && readdirSync(existing).length > 0) throw new SnapshotError(`${config.dataDir} already holds a database; restore into a new data directory (MANDATE_DATA_DIR). Nothing was restored.`);
  const { manifest, data } = readSnapshot(readFileSync(from), from);
  requireSameSecrets(manifest, existingSecrets(config), config.dataDir);
  await PGliteDatabase.restore(config.dataDir, data);
  process.stderr.write(`Restored the snapshot of ${manifest.createdAt} into ${config.dataDir}. Start the server with MANDATE_DATA_DIR=${config.dataDir}.\n`);
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { label: { type: 'string' }, to: { type: 'string' }, from: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const command = positionals.join(' ');
  if (command !== 'admin-token create' && values.label !== undefined) throw new UsageError('--label belongs to admin-token create.');
  if (command !== 'backup' && values.to !== undefined) throw new UsageError('--to belongs to backup.');
  if (command !== 'restore' && values.from !== undefined) throw new UsageError('--from belongs to restore.');
  const config = loadConfig();
  if (command === '' || command === 'start') {
    await serve(config, createLogger(config.logLevel));
  } else if (command === 'admin-token create') {
    await createAdminToken(config, values.label ?? `instance-admin (minted ${new Date().toISOString().slice(0, 10)})`);
  } else if (command === 'backup') {
    if (values.to === undefined) throw new UsageError('backup needs --to FILE.');
    await backup(config, values.to);
  } else if (command === 'restore') {
    if (values.from === undefined) throw new UsageError('restore needs --from FILE.');
    await restore(config, values.from);
  } else {
    throw new UsageError(`Unknown command "${command}".`);
  }
}

run(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const plain =
    error instanceof ListenError || error instanceof DataDirInUseError || error instanceof NotBootstrappedError || error instanceof NoDataError || error instanceof SnapshotError;
  const message = error instanceof Error ? (plain ? error.message : (error.stack ?? error.message)) : String(error);
  process.stderr.write(`mandate-server: ${message}\n`);
  process.exit(1);
});
