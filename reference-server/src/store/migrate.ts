import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from './database';

export const MIGRATIONS_DIR = path.resolve(__dirname, '../../migrations');
/** Advisory lock key for schema changes and first-start bootstrap ("mandate" in ASCII, truncated). */
export const SCHEMA_LOCK_KEY = 0x6d616e64;

interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Reads `NNNN_name.sql` files in version order. */
export function readMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const sql = readFileSync(path.join(dir, file), 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.slice(5, -4),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

/**
 * Applies pending migrations, each in its own transaction. The caller holds the schema
 * advisory lock, so instances starting together apply each migration exactly once.
 * An applied migration whose file has since changed stops the boot: history is immutable.
 */
export async function migrate(db: Database, migrations: Migration[] = readMigrations()): Promise<number[]> {
  await db.ownerTransaction((sql) =>
    sql.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`),
  );
  const applied = await db.ownerTransaction((sql) =>
    sql.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations'),
  );
  const appliedChecksums = new Map(applied.map((row) => [row.version, row.checksum]));
  const newlyApplied: number[] = [];
  for (const migration of migrations) {
    const checksum = appliedChecksums.get(migration.version);
    if (checksum !== undefined) {
      if (checksum !== migration.checksum) {
        throw new Error(`Migration ${migration.version} (${migration.name}) was changed after it was applied.`);
      }
      continue;
    }
    await db.ownerTransaction(async (sql) => {
      // Rebuilding a large table may take longer than a request's statement is allowed to.
      await sql.exec('SET LOCAL statement_timeout = 0');
      await sql.exec(migration.sql);
      await sql.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
    });
    newlyApplied.push(migration.version);
  }
  return newlyApplied;
}
