#!/usr/bin/env node
// `mandate-server`: runs the server (the default), or mints an instance-admin token from the
// server's own data. Arguments are parsed with node:util's parseArgs: two commands and one
// flag do not justify a dependency.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase, secretHasher } from './app';
import { NotBootstrappedError, mintInstanceAdminToken } from './bootstrap';
import { type Config, ConfigError, loadConfig } from './config';
import { createLogger } from './observability/logger';
import { ListenError, serve } from './serve';
import { DataDirInUseError } from './store/data-dir-lock';

const USAGE = `Usage:
  mandate-server [start]                          run the server (configured by environment variables)
  mandate-server admin-token create [--label L]   mint a new instance-admin token from the server's data
  mandate-server --help

admin-token create reads the same DATABASE_URL, MANDATE_DATA_DIR and MANDATE_SECRET_PEPPER as the
server. On the embedded store, stop the server first: its data directory is used by one
process at a time. The token is printed once on standard output; the audit trail records
the event (admin_token.created on the instance chain).`;

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

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { label: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const command = positionals.join(' ');
  if (command !== 'admin-token create' && values.label !== undefined) throw new UsageError('--label belongs to admin-token create.');
  const config = loadConfig();
  if (command === '' || command === 'start') {
    await serve(config, createLogger(config.logLevel));
  } else if (command === 'admin-token create') {
    await createAdminToken(config, values.label ?? `instance-admin (minted ${new Date().toISOString().slice(0, 10)})`);
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
  const plain = error instanceof ListenError || error instanceof DataDirInUseError || error instanceof NotBootstrappedError || error instanceof NoDataError;
  const message = error instanceof Error ? (plain ? error.message : (error.stack ?? error.message)) : String(error);
  process.stderr.write(`mandate-server: ${message}\n`);
  process.exit(1);
});
