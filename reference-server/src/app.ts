import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Koa from 'koa';
import { bootstrapInstanceAdmin, type BootstrapResult } from './bootstrap';
import type { Cache } from './cache/cache';
import { MemoryCache } from './cache/memory-cache';
import { RedisCache } from './cache/redis-cache';
import type { Config } from './config';
import { SecretHasher } from './domain/secrets';
import { adminTokenAuthenticator } from './http/authenticate';
import { type OpenApiDocument as ReferenceDocument, renderApiReference } from './http/docs-page';
import { agentHandlers, credentialHandlers } from './http/handlers/agents';
import { orgHandlers } from './http/handlers/orgs';
import { serviceHandlers } from './http/handlers/service';
import { observe, problems, requestId } from './http/middleware';
import { buildRouter } from './http/router';
import type { Logger } from './observability/logger';
import { Metrics } from './observability/metrics';
import { listOperations, loadSpec, roleScopes } from './spec/operations';
import { RequestValidator } from './spec/validator';
import { type Database, PGliteDatabase, PostgresDatabase } from './store/database';
import { SCHEMA_LOCK_KEY, migrate } from './store/migrate';

export interface Mandate {
  app: Koa;
  db: Database;
  cache: Cache;
  metrics: Metrics;
  bootstrap: BootstrapResult;
  close(): Promise<void>;
}

/**
 * On the embedded store, a pepper is generated once and kept beside the data (mode 0600).
 * With PostgreSQL the operator must provide one, so database and pepper live apart.
 */
function embeddedPepper(dataDir: string): string {
  const file = path.join(dataDir, 'secret-pepper');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pepper = randomBytes(32).toString('base64url');
  writeFileSync(file, pepper, { mode: 0o600, flag: 'wx' });
  return pepper;
}

async function openDatabase(config: Config, metrics: Metrics): Promise<Database> {
  const onQuery = (seconds: number): void => {
    metrics.dbQueryDuration.observe(seconds);
  };
  if (config.databaseUrl !== null) return new PostgresDatabase(config.databaseUrl, config.databasePoolSize, onQuery);
  return PGliteDatabase.open(config.dataDir, onQuery);
}

function openCache(config: Config, metrics: Metrics): Cache {
  if (config.redisUrl === null) return new MemoryCache();
  const cache = new RedisCache(config.redisUrl, (operation, seconds) => {
    metrics.cacheDuration.observe({ operation }, seconds);
  });
  cache.connect();
  return cache;
}

/** Opens the stores, migrates, bootstraps and builds the Koa app. Does not listen. */
export async function createMandate(config: Config, logger: Logger): Promise<Mandate> {
  const metrics = new Metrics();
  const { text: documentJson, document } = loadSpec(config.specPath);
  const operations = listOperations(document);
  const db = await openDatabase(config, metrics);
  let cache: Cache | undefined;
  try {
    cache = openCache(config, metrics);
    const hasher = new SecretHasher(config.secretPepper ?? embeddedPepper(config.dataDir));
    const bootstrap = await db.withAdvisoryLock(SCHEMA_LOCK_KEY, async () => {
      const applied = await migrate(db);
      if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
      return bootstrapInstanceAdmin(db, hasher, config.bootstrapToken);
    });

    const { roles } = roleScopes(document);
    const router = buildRouter(
      operations,
      { ...orgHandlers, ...agentHandlers, ...credentialHandlers },
      serviceHandlers({ db, cache, metrics, documentJson, docsPage: renderApiReference(JSON.parse(documentJson) as ReferenceDocument) }),
      {
        db,
        authenticator: adminTokenAuthenticator({ db, cache, hasher, metrics, roles }),
        validator: new RequestValidator(document, operations),
        bodyLimitBytes: config.bodyLimitBytes,
        services: { hasher, metrics },
      },
    );

    const app = new Koa({ proxy: false });
    app.silent = true; // errors are logged by the problems middleware, with request ids
    app.use(requestId());
    app.use(observe(logger, metrics));
    app.use(problems(logger));
    app.use(router.routes());
    app.use(router.allowedMethods());

    const openedCache = cache;
    return {
      app,
      db,
      cache: openedCache,
      metrics,
      bootstrap,
      async close() {
        await Promise.allSettled([db.close(), openedCache.close()]);
      },
    };
  } catch (error) {
    await Promise.allSettled([db.close(), cache?.close()]);
    throw error;
  }
}
