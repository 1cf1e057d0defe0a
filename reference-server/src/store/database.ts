import { mkdirSync } from 'node:fs';
import { DataDirLock } from './data-dir-lock';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** One SQL statement's runner, bound to a connection or transaction. */
export interface Sql {
  query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/**
 * Who a transaction acts for. Row-level security policies read these settings, so a query
 * that forgets its WHERE clause still cannot see another organization's rows.
 */
export interface TenantContext {
  /** The organization the caller acts in; null when it acts in none (e.g. listing orgs). */
  orgId: string | null;
  /** True only for instance-admin calls on the organizations table. */
  instanceAdmin: boolean;
  /** The authenticated principal (admin token id); scopes idempotency keys. */
  principalId: string;
}

/** `SELECT * FROM mandate_name()` or `…($1, $2)`: the only shape callFunction() runs. */
export const FUNCTION_CALL = /^SELECT \* FROM mandate_[a-z_]+\((\$\d+(, \$\d+)*)?\)$/;

/** The unprivileged role every request runs as; created by the first migration. */
export const APP_ROLE = 'mandate_app';

export type QueryTimer = (seconds: number) => void;

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction as the unprivileged app role, under row-level security. */
  tenantTransaction<T>(context: TenantContext, work: (sql: Sql) => Promise<T>): Promise<T>;
  /** Runs `work` in one transaction as the owner (migrations, bootstrap, maintenance). */
  ownerTransaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  /**
   * One call of a `mandate_*` SECURITY DEFINER function, in autocommit: the statement is its
   * own transaction. Such a function decides itself which rows it reads or writes
   * (authentication, token state, appending to an audit chain after a known head), so it
   * needs no tenant context; skipping the explicit transaction keeps hot paths to one
   * round trip.
   */
  callFunction<Row>(functionCall: string, params: readonly unknown[]): Promise<Row[]>;
  /** Holds a session-level advisory lock while `work` runs, so instances take turns. */
  withAdvisoryLock<T>(lockKey: number, work: () => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const CONTEXT_SQL = `SELECT set_config('role', '${APP_ROLE}', true),
  set_config('mandate.org_id', $1, true),
  set_config('mandate.instance_admin', $2, true),
  set_config('mandate.principal_id', $3, true)`;

function contextParams(context: TenantContext): string[] {
  return [context.orgId ?? '', context.instanceAdmin ? 'on' : 'off', context.principalId];
}

/**
 * What both stores share: tenant and owner transactions on top of one raw transaction
 * primitive, with every statement timed.
 */
abstract class TransactionalDatabase implements Database {
  abstract readonly kind: Database['kind'];

  constructor(private readonly onQuery: QueryTimer) {}

  /** Runs `work` between BEGIN and COMMIT (ROLLBACK on error) on one connection. */
  protected abstract transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  abstract withAdvisoryLock<T>(lockKey: number, work: () => Promise<T>): Promise<T>;
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;

  tenantTransaction<T>(context: TenantContext, work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.ownerTransaction(async (sql) => {
      await sql.query(CONTEXT_SQL, contextParams(context));
      return work(sql);
    });
  }

  ownerTransaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.transaction((sql) => work(this.timed(sql)));
  }

  callFunction<Row>(functionCall: string, params: readonly unknown[]): Promise<Row[]> {
    if (!FUNCTION_CALL.test(functionCall)) {
      throw new Error(`callFunction() only calls mandate_* functions: ${functionCall}`);
    }
    const started = process.hrtime.bigint();
    return this.autocommit<Row>(functionCall, params).finally(() => {
      this.onQuery(Number(process.hrtime.bigint() - started) / 1e9);
    });
  }

  protected abstract autocommit<Row>(text: string, params: readonly unknown[]): Promise<Row[]>;

  private timed(sql: Sql): Sql {
    return {
      query: async <Row>(text: string, params?: readonly unknown[]): Promise<Row[]> => {
        const started = process.hrtime.bigint();
        try {
          return await sql.query<Row>(text, params);
        } finally {
          this.onQuery(Number(process.hrtime.bigint() - started) / 1e9);
        }
      },
      exec: (script) => sql.exec(script),
    };
  }
}

/** PostgreSQL through a `pg` connection pool. */
export class PostgresDatabase extends TransactionalDatabase {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;

  constructor(connectionString: string, poolSize: number, onQuery: QueryTimer = () => undefined) {
    super(onQuery);
    this.pool = new pg.Pool({ connectionString, max: poolSize });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', () => undefined);
  }

  async withAdvisoryLock<T>(lockKey: number, work: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [lockKey]);
      try {
        return await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [lockKey]);
      }
    } finally {
      client.release();
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  protected async autocommit<Row>(text: string, params: readonly unknown[]): Promise<Row[]> {
    return (await this.pool.query(text, params as unknown[])).rows as Row[];
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  protected async transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const sql: Sql = {
      async query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]> {
        return (await client.query(text, params as unknown[] | undefined)).rows as Row[];
      },
      async exec(script: string): Promise<void> {
        await client.query(script);
      },
    };
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(sql);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is unusable; do not return it to the pool
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

/**
 * The embedded default: PostgreSQL compiled to WebAssembly, persisted under a directory.
 * One connection, so transactions run one at a time (PGlite queues them).
 */
export class PGliteDatabase extends TransactionalDatabase {
  readonly kind = 'pglite' as const;

  private constructor(
    private readonly db: PGlite,
    onQuery: QueryTimer,
    private readonly lock: DataDirLock | null,
  ) {
    super(onQuery);
  }

  /**
   * `dataDir` null keeps the database in memory (tests). A data directory is used by one
   * process at a time: PGlite has no locking of its own, and two writers would corrupt it.
   */
  static async open(dataDir: string | null, onQuery: QueryTimer = () => undefined): Promise<PGliteDatabase> {
    if (dataDir === null) return new PGliteDatabase(await PGlite.create(), onQuery, null);
    const location = path.join(dataDir, 'pgdata');
    mkdirSync(location, { recursive: true, mode: 0o700 });
    const lock = DataDirLock.acquire(dataDir);
    try {
      return new PGliteDatabase(await PGlite.create(location), onQuery, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** A single connection cannot race itself; the lock is still taken for the same semantics. */
  async withAdvisoryLock<T>(lockKey: number, work: () => Promise<T>): Promise<T> {
    await this.db.query('SELECT pg_advisory_lock($1)', [lockKey]);
    try {
      return await work();
    } finally {
      await this.db.query('SELECT pg_advisory_unlock($1)', [lockKey]);
    }
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  protected async autocommit<Row>(text: string, params: readonly unknown[]): Promise<Row[]> {
    return (await this.db.query<Row>(text, params as unknown[])).rows;
  }

  async close(): Promise<void> {
    try {
      await this.db.close();
    } finally {
      this.lock?.release();
    }
  }

  protected transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) =>
      work({
        async query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]> {
          return (await tx.query<Row>(text, params as unknown[] | undefined)).rows;
        },
        async exec(script: string): Promise<void> {
          await tx.exec(script);
        },
      }),
    );
  }
}
