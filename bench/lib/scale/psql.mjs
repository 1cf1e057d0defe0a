// SQL against the scale bench's database through psql, as the services' superuser (the
// owner of the schema the server migrated): row-level security does not apply to it, so the
// bulk seeding writes the org id columns itself, as the server's role would under RLS.
import { spawnSync } from 'node:child_process';

/** A client for one database URL (postgres://user@127.0.0.1:port/db). */
export function psql(databaseUrl) {
  /**
   * Runs SQL (several statements allowed) in one transaction, committed or, with `rollback`,
   * rolled back (EXPLAIN ANALYZE of a write); returns what psql printed.
   */
  function run(sql, { timeoutMs = 30 * 60_000, rollback = false } = {}) {
    const result = spawnSync('psql', [databaseUrl, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-f', '-'], {
      input: `BEGIN;\n${sql};\n${rollback ? 'ROLLBACK' : 'COMMIT'};\n`,
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 256 * 2 ** 20,
    });
    if (result.error !== undefined) throw new Error(`psql failed to run: ${result.error.message}`);
    if (result.status !== 0) throw new Error(`psql exited ${result.status}: ${result.stderr.trim()}\nSQL: ${sql.slice(0, 800)}`);
    return result.stdout.trim();
  }

  /** The rows of one SELECT, as plain objects (json_agg does the typing). */
  function rows(select) {
    const text = run(`SELECT coalesce(json_agg(t), '[]') FROM (${select}) t`);
    return JSON.parse(text);
  }

  return { run, rows, one: (select) => rows(select)[0] };
}

/** A SQL string literal (single quotes doubled). */
export const literal = (text) => `'${String(text).replace(/'/g, "''")}'`;
