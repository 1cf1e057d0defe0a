import { afterAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import pino from 'pino';
import { type Mandate, createMandate } from '../../src/app';
import { loadConfig } from '../../src/config';
import { PGliteDatabase } from '../../src/store/database';
import { migrate, readMigrations } from '../../src/store/migrate';
import { TEST_KEY_ENCRYPTION_KEY, TEST_PEPPER, isolatedDatabaseUrl, requireEnv } from '../helpers/env';

const started: Mandate[] = [];
afterAll(async () => {
  await Promise.all(started.map((m) => m.close()));
});

describe('first start of several instances at once', () => {
  it('migrates once and creates exactly one instance-admin token', async () => {
    const databaseUrl = await isolatedDatabaseUrl('startup');
    const config = loadConfig({ DATABASE_URL: databaseUrl, REDIS_URL: requireEnv('TEST_REDIS_URL'), MANDATE_SECRET_PEPPER: TEST_PEPPER, MANDATE_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY });
    const instances = await Promise.all([1, 2, 3].map(() => createMandate(config, pino({ level: 'silent' }))));
    started.push(...instances);
    expect(instances.filter((m) => m.bootstrap.created)).toHaveLength(1);
    expect(instances.filter((m) => m.bootstrap.created && m.bootstrap.generatedToken !== null)).toHaveLength(1);

    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const tokens = await client.query('SELECT count(*)::int AS n FROM admin_tokens WHERE org_id IS NULL');
      expect(tokens.rows[0].n).toBe(1);
      const migrations = await client.query('SELECT version FROM schema_migrations ORDER BY version');
      expect(migrations.rows.map((r: { version: number }) => r.version)).toEqual(readMigrations().map((m) => m.version));
    } finally {
      await client.end();
    }
  });
});

describe('migration history', () => {
  it('is immutable: a changed, already-applied migration stops the start', async () => {
    const db = await PGliteDatabase.open(null);
    try {
      const [first] = readMigrations();
      if (first === undefined) throw new Error('no migrations');
      await migrate(db, [first]);
      await expect(migrate(db, [{ ...first, checksum: 'changed' }])).rejects.toThrow(/was changed after it was applied/);
    } finally {
      await db.close();
    }
  });
});
