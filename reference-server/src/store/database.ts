import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DataDirLock } from './data-dir-lock';
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

/**
 * The database did not answer within the configured time (a statement, a wait for a
 * connection, or an idle transaction). Requests answer 503 instead of hanging.
 */
export class DatabaseTimeoutError extends Error {
  constructor(what: string, options?: { cause: unknown }) {
    super(`The database did not answer in time (${what}).`, options);
    this.name = 'DatabaseTimeoutError';
  }
}

/**
 * Database work started while the same flow of control holds a transaction. The inner
 * work would wait for the outer transaction's connection (PGlite has one) or take a
 * second one from the pool, and the outer waits for the inner: a deadlock. Refused at once.
 */
export class NestedTransactionError extends Error {
  constructor() {
    super('Database work was started inside a transaction; pass that transaction\'s Sql instead.');
    this.name = 'NestedTransactionError';
  }
}

export interface DatabaseLimits {
  /** The longest a statement, a wait for a connection, or an idle transaction may take. */
  timeoutMs: number;
  /**
   * False lets commits return before their WAL reaches disk (PostgreSQL's
   * `synchronous_commit = off`): for writes whose loss in a crash is harmless, so that they
   * do not queue for the disk flushes of writes that must be durable.
   */
  synchronousCommit?: boolean;
}

export const DEFAULT_LIMITS: DatabaseLimits = { timeoutMs: 10_000 };

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
  /**
   * How long the oldest database call in flight has been running, in milliseconds (0 when
   * none is). Past the timeout this means the process is stuck: liveness reports it.
   */
  oldestCallMs(): number;
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
 * Which transaction, if any, the current flow of control is inside (see NestedTransactionError).
 * Following the flow costs every promise of the process something (Node 20 tracks async
 * context with promise hooks; the token endpoint ran about 15 % faster without them), so it
 * is switched on only while some transaction is open: then every flow inside one is
 * followed, and the hot paths, which make single calls and open none, mostly run without it.
 */
const heldTransaction = new AsyncLocalStorage<{ open: boolean }>();
let openTransactions = 0;

/** Marks the start of a transaction; pass its marker to `leaveTransaction` when it is over. */
function enterTransaction(): { open: boolean } {
  openTransactions += 1;
  return { open: true };
}

function leaveTransaction(marker: { open: boolean }): void {
  marker.open = false;
  openTransactions -= 1;
  // No flow is inside a transaction now; run() switches the tracking on again.
  if (openTransactions === 0) heldTransaction.disable();
}

function refuseNesting(): void {
  if (heldTransaction.getStore()?.open === true) throw new NestedTransactionError();
}

/**
 * What both stores share: tenant and owner transactions on top of one raw transaction
 * primitive, with every statement timed, nesting refused, and calls in flight tracked.
 */
abstract class TransactionalDatabase implements Database {
  abstract readonly kind: Database['kind'];
  private readonly callsInFlight = new Set<{ since: number }>();

  constructor(private readonly onQuery: QueryTimer) {}

  /** Runs `work` between BEGIN and COMMIT (ROLLBACK on error) on one connection. */
  protected abstract transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  protected abstract autocommit<Row>(text: string, params: readonly unknown[]): Promise<Row[]>;
  protected abstract advisoryLocked<T>(lockKey: number, work: () => Promise<T>): Promise<T>;
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;

  tenantTransaction<T>(context: TenantContext, work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.ownerTransaction(async (sql) => {
      await sql.query(CONTEXT_SQL, contextParams(context));
      return work(sql);
    });
  }

  ownerTransaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.tracked(async () => {
      const marker = enterTransaction();
      try {
        return await this.transaction((sql) => heldTransaction.run(marker, () => work(this.timed(sql))));
      } finally {
        leaveTransaction(marker);
      }
    });
  }

  callFunction<Row>(functionCall: string, params: readonly unknown[]): Promise<Row[]> {
    if (!FUNCTION_CALL.test(functionCall)) {
      throw new Error(`callFunction() only calls mandate_* functions: ${functionCall}`);
    }
    return this.tracked(async () => {
      const started = process.hrtime.bigint();
      try {
        return await this.autocommit<Row>(functionCall, params);
      } finally {
        this.onQuery(Number(process.hrtime.bigint() - started) / 1e9);
      }
    });
  }

  withAdvisoryLock<T>(lockKey: number, work: () => Promise<T>): Promise<T> {
    refuseNesting();
    return this.advisoryLocked(lockKey, work);
  }

  oldestCallMs(): number {
    let oldest = Infinity;
    for (const call of this.callsInFlight) oldest = Math.min(oldest, call.since);
    return oldest === Infinity ? 0 : Date.now() - oldest;
  }

  private async tracked<T>(run: () => Promise<T>): Promise<T> {
    refuseNesting();
    const call = { since: Date.now() };
    this.callsInFlight.add(call);
    try {
      return await run();
    } finally {
      this.callsInFlight.delete(call);
    }
  }

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

/**
 * Function calls run as named statements: each connection parses and plans one once, not on
 * every call of the hot paths. The texts are the few fixed ones FUNCTION_CALL admits; the
 * names are short, as PostgreSQL cuts longer ones at 63 bytes.
 */
const STATEMENT_NAMES = new Map<string, string>();
let statementGeneration = 0;
function statementName(text: string): string {
  let name = STATEMENT_NAMES.get(text);
  if (name === undefined) {
    name = `mandate_call_${statementGeneration}_${STATEMENT_NAMES.size + 1}`;
    STATEMENT_NAMES.set(text, name);
  }
  return name;
}
function renameStatements(): void {
  STATEMENT_NAMES.clear();
  statementGeneration += 1;
}

/** "cached plan must not change result type": a prepared call's function now returns other columns. */
function resultTypeChanged(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change result type');
}

/** SQLSTATEs and pg messages that mean "took too long" rather than "went wrong". */
const PG_TIMEOUT_CODES = new Set(['57014', '25P03']); // query_canceled (statement_timeout), idle_in_transaction_session_timeout
const POOL_TIMEOUT_MESSAGE = 'timeout exceeded when trying to connect';

function asTimeout(error: unknown): unknown {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code !== undefined && PG_TIMEOUT_CODES.has(code)) return new DatabaseTimeoutError(message ?? code, { cause: error });
  if (message === POOL_TIMEOUT_MESSAGE) return new DatabaseTimeoutError('no free connection in the pool', { cause: error });
  return error;
}

/** PostgreSQL through a `pg` connection pool. */
export class PostgresDatabase extends TransactionalDatabase {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;

  constructor(
    private readonly connectionString: string,
    poolSize: number,
    onQuery: QueryTimer = () => undefined,
    limits: DatabaseLimits = DEFAULT_LIMITS,
  ) {
    super(onQuery);
    this.pool = new pg.Pool({
      connectionString,
      max: poolSize,
      // Enforced by PostgreSQL itself, so a stuck statement or a transaction left open by its
      // caller is ended there and its connection comes back.
      statement_timeout: limits.timeoutMs,
      idle_in_transaction_session_timeout: limits.timeoutMs,
      connectionTimeoutMillis: limits.timeoutMs,
      ...(limits.synchronousCommit === false ? { options: '-c synchronous_commit=off' } : {}),
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', () => undefined);
  }

  /**
   * The lock lives on a connection of its own, outside the pool: `work` uses the pool, and
   * must not wait for the connection that holds the lock (a pool of one would deadlock).
   */
  protected async advisoryLocked<T>(lockKey: number, work: () => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('error', () => undefined); // a lost lock session ends with the work's own errors
    await client.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [lockKey]);
      return await work();
    } finally {
      await client.end();
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  protected async autocommit<Row>(text: string, params: readonly unknown[]): Promise<Row[]> {
    const call = async (): Promise<Row[]> => {
      try {
        return (await this.pool.query({ name: statementName(text), text, values: params as unknown[] })).rows as Row[];
      } catch (error) {
        throw asTimeout(error);
      }
    };
    try {
      return await call();
    } catch (error) {
      if (!resultTypeChanged(error)) throw error;
      // Another instance's migration replaced a function under this one's prepared calls
      // (a rolling upgrade): the call did not run, so name the statements afresh and retry.
      renameStatements();
      return call();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  protected async transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw asTimeout(error);
    }
    let broken = false;
    let lost: unknown;
    // PostgreSQL ends a session idle in a transaction too long; the client then emits
    // 'error', which must not crash the process. The connection is not reused.
    const onError = (error: unknown): void => {
      broken = true;
      lost ??= error; // the first says why; "Connection terminated" follows
    };
    client.on('error', onError);
    const sql: Sql = {
      async query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]> {
        return (await client.query(text, params as unknown[] | undefined)).rows as Row[];
      },
      async exec(script: string): Promise<void> {
        await client.query(script);
      },
    };
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
      // A session PostgreSQL ended says why in the error it emitted, not in the failed query's.
      throw asTimeout(lost ?? error);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}

/**
 * One connection's turns, first come first served. A caller that waits longer than the
 * timeout gives up with DatabaseTimeoutError instead of queueing forever behind a stuck turn.
 */
class Turns {
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly timeoutMs: number) {}

  async take<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.last;
    let release!: () => void;
    this.last = new Promise<void>((resolve) => {
      release = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    const ready = await Promise.race([
      previous.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => { resolve(false); }, this.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!ready) {
      // Those queued behind this caller still go in order, once the turn before it ends.
      void previous.then(release);
      throw new DatabaseTimeoutError('waited for the embedded database\'s connection');
    }
    try {
      return await work();
    } finally {
      release();
    }
  }
}

/**
 * The embedded default: PostgreSQL compiled to WebAssembly, persisted under a directory.
 * One connection, so every call takes its turn (see Turns).
 */
export class PGliteDatabase extends TransactionalDatabase {
  readonly kind = 'pglite' as const;
  private readonly turns: Turns;

  private constructor(
    private readonly db: PGlite,
    onQuery: QueryTimer,
    private readonly lock: DataDirLock | null,
    limits: DatabaseLimits,
  ) {
    super(onQuery);
    this.turns = new Turns(limits.timeoutMs);
  }

  /**
   * `dataDir` null keeps the database in memory (tests). A data directory is used by one
   * process at a time: PGlite has no locking of its own, and two writers would corrupt it.
   */
  static async open(dataDir: string | null, onQuery: QueryTimer = () => undefined, limits: DatabaseLimits = DEFAULT_LIMITS): Promise<PGliteDatabase> {
    if (dataDir === null) return new PGliteDatabase(await PGlite.create(), onQuery, null, limits);
    const location = path.join(dataDir, 'pgdata');
    mkdirSync(location, { recursive: true, mode: 0o700 });
    const lock = DataDirLock.acquire(dataDir);
    try {
      return new PGliteDatabase(await PGlite.create(location), onQuery, lock, limits);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /**
   * The whole database as PGlite's gzipped tar of its data directory. Taken in a turn of its
   * own, so no transaction is open while it is read, after a checkpoint, so it holds every
   * committed change in its data files: a consistent copy while the server keeps serving.
   */
  snapshot(): Promise<Uint8Array> {
    return this.turns.take(async () => {
      await this.db.exec('CHECKPOINT');
      return new Uint8Array(await (await this.db.dumpDataDir('gzip')).arrayBuffer());
    });
  }

  /**
   * Makes `dataDir` hold a snapshot's database. The directory must have none yet; on failure
   * what was written is removed again.
   */
  static async restore(dataDir: string, snapshot: Uint8Array): Promise<void> {
    const location = path.join(dataDir, 'pgdata');
    if (existsSync(location) && readdirSync(location).length > 0) throw new Error(`${location} already holds a database; restore into a new data directory.`);
    mkdirSync(location, { recursive: true, mode: 0o700 });
    const lock = DataDirLock.acquire(dataDir);
    try {
      const db = await PGlite.create(location, { loadDataDir: new Blob([snapshot]) });
      await db.close();
    } catch (error) {
      rmSync(location, { recursive: true, force: true });
      throw error;
    } finally {
      lock.release();
    }
  }

  /** A single connection cannot race itself; the lock is still taken for the same semantics. */
  protected async advisoryLocked<T>(lockKey: number, work: () => Promise<T>): Promise<T> {
    await this.autocommit('SELECT pg_advisory_lock($1)', [lockKey]);
    try {
      return await work();
    } finally {
      await this.autocommit('SELECT pg_advisory_unlock($1)', [lockKey]);
    }
  }

  async ping(): Promise<void> {
    await this.autocommit('SELECT 1', []);
  }

  protected autocommit<Row>(text: string, params: readonly unknown[]): Promise<Row[]> {
    return this.turns.take(async () => (await this.db.query<Row>(text, params as unknown[])).rows);
  }

  async close(): Promise<void> {
    try {
      await this.db.close();
    } finally {
      this.lock?.release();
    }
  }

  protected transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.turns.take(() =>
      this.db.transaction((tx) =>
        work({
          async query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]> {
            return (await tx.query<Row>(text, params as unknown[] | undefined)).rows;
          },
          async exec(script: string): Promise<void> {
            await tx.exec(script);
          },
        }),
      ),
    );
  }
}
