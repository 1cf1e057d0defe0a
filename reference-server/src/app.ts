import { mkdirSync } from 'node:fs';
import { serverSecrets } from './secrets';
import { ConsoleSessions } from './http/console-session';
import { consoleAssets } from './http/console-assets';
import { packSnapshot } from './domain/snapshots';
import { ScheduledSnapshots } from './workers/backups/scheduled-snapshots';
import Koa from 'koa';
import { Gauge } from 'prom-client';
import { bootstrapInstanceAdmin, type BootstrapResult } from './bootstrap';
import type { Cache } from './cache/cache';
import { EpochCache } from './cache/epoch-cache';
import { MemoryCache } from './cache/memory-cache';
import { RedisCache } from './cache/redis-cache';
import { RateLimits } from './http/rate-limits';
import { directoryHandlers } from './http/handlers/directory';
import { usageHandlers } from './http/handlers/usage';
import { MonthlyTokenQuota, OrgPlans } from './domain/quotas';
import { complianceHandlers } from './http/handlers/compliance';
import type { Config } from './config';
import { SecretHasher } from './domain/secrets';
import { AccessTokens } from './domain/access-tokens';
import type { AuditEntry } from './domain/audit';
import { AuditFeed } from './domain/audit-feed';
import { AuditWriter } from './domain/audit-writer';
import type { WebhookPolicy } from './domain/webhooks';
import { ClientAssertionVerifier } from './domain/client-assertions';
import { ClientAuthenticator } from './domain/clients';
import { KeyEncryption } from './domain/key-encryption';
import { pruneAuditTrail, pruneExpiredState } from './domain/maintenance';
import { SigningKeys } from './domain/signing-keys';
import { TokenState } from './domain/token-state';
import { bearerAuthenticator } from './http/authenticate';
import { auditHandlers, keyHandlers } from './http/handlers/keys-and-audit';
import { oauthHandlers } from './http/oauth';
import { apiReference } from './http/api-reference';
import { agentHandlers, agentScaffoldHandlers, credentialHandlers } from './http/handlers/agents';
import { agentKeyHandlers } from './http/handlers/agent-keys';
import { delegationHandlers } from './http/handlers/delegations';
import { EVENT_STREAM_DEFAULTS, eventHandlers } from './http/handlers/events';
import { identityHandlers } from './http/handlers/identity';
import { webhookHandlers } from './http/handlers/webhooks';
import { trustPolicyHandlers } from './http/handlers/trust-policies';
import { approvalHandlers } from './http/handlers/approvals';
import { clientRegistrationHandlers, registrationManagementHandlers } from './http/handlers/client-registration';
import { federationHandlers } from './http/handlers/federation';
import { IssuerKeys } from './domain/federation/issuer-keys';
import { DpopVerifier } from './domain/dpop';
import { webhookOutbox } from './store/webhook-outbox';
import { lastUseRecorders } from './domain/use-recorder';
import { DeliveryThread } from './workers/webhooks/delivery-thread';
import { type DeliveryMetrics, DeliveryWorker, deliverySettings } from './workers/webhooks/delivery-worker';
import { newWebhookSecret } from './workers/webhooks/signing';
import { checkOutboundUrl } from './net/ssrf';
import { orgHandlers } from './http/handlers/orgs';
import { serviceHandlers } from './http/handlers/service';
import { deadline, observe, problems, requestId, rootToDocs } from './http/middleware';
import { buildRouter } from './http/router';
import type { Logger } from './observability/logger';
import { Metrics } from './observability/metrics';
import { listOperations, loadSpec, roleScopes } from './spec/operations';
import { RequestValidator } from './spec/validator';
import type { AdminTokenCredentials } from './store/admin-tokens';
import { type Database, PGliteDatabase, PostgresDatabase, type QueryTimer } from './store/database';
import { SCHEMA_LOCK_KEY, migrate } from './store/migrate';

export interface Mandate {
  app: Koa;
  db: Database;
  cache: Cache;
  metrics: Metrics;
  keys: SigningKeys;
  bootstrap: BootstrapResult;
  /** On the embedded store, a snapshot file of the whole database (see domain/snapshots.ts); null on PostgreSQL. */
  snapshot: (() => Promise<Uint8Array>) | null;
  /** Ends every open event stream (their clients reconnect elsewhere); first step of a shutdown. */
  endStreams(): void;
  close(): Promise<void>;
}

/** MANDATE_WEBHOOK_DELIVERY=off: this instance only fills the outbox; others deliver it. */
const LEFT_TO_OTHER_INSTANCES = { start: () => undefined, poke: () => undefined, stop: () => Promise.resolve() };

const MAINTENANCE_LOCK_KEY = 0x6d616e65;
const MAINTENANCE_INTERVAL_MS = 3_600_000;
const CACHE_WARM_INTERVAL_MS = 30_000;
/** The longest an admin token's revocation can go unseen if its write to Redis was lost. */
const ADMIN_TOKEN_CACHE_TTL_MS = 30_000;

/** The configured store: PostgreSQL when DATABASE_URL is set, else PGlite in the data directory. */
export async function openDatabase(config: Config, onQuery?: QueryTimer): Promise<Database> {
  const limits = { timeoutMs: config.databaseTimeoutMs };
  if (config.databaseUrl !== null) return new PostgresDatabase(config.databaseUrl, config.databasePoolSize, onQuery, limits);
  return PGliteDatabase.open(config.dataDir, onQuery, limits);
}

/** The key under which secrets are hashed: the operator's, or the embedded store's own. */
export function secretHasher(config: Config): SecretHasher {
  return new SecretHasher(serverSecrets(config).pepper);
}

function openCache(config: Config, metrics: Metrics): Cache {
  if (config.redisUrl === null) return new MemoryCache();
  const cache = new RedisCache(config.redisUrl, (operation, seconds) => {
    metrics.cacheDuration.observe({ operation }, seconds);
  });
  cache.connect();
  return cache;
}

/** Queue depth and the oldest pending delivery's age: one query per scrape sets both. */
function watchOutbox(metrics: Metrics, read: () => Promise<{ depth: number; oldestSeconds: number }>): void {
  // Registered first, so its collect runs before the age gauge is written out.
  new Gauge({
    name: 'mandate_webhook_queue_depth',
    help: 'Webhook deliveries waiting for an attempt.',
    registers: [metrics.registry],
    async collect() {
      const queue = await read();
      this.set(queue.depth);
      oldest.set(queue.oldestSeconds);
    },
  });
  const oldest = new Gauge({
    name: 'mandate_webhook_oldest_pending_seconds',
    help: 'Age of the oldest webhook delivery still waiting.',
    registers: [metrics.registry],
  });
}

/** Opens the stores, migrates, bootstraps and builds the Koa app. Does not listen. */
export async function createMandate(config: Config, logger: Logger): Promise<Mandate> {
  const metrics = new Metrics();
  const { json, document } = loadSpec(config.specPath);
  // Served with this instance as its first server, so "try it" tools and generators reach it.
  const served = { ...(json as Record<string, unknown>), servers: [{ url: config.issuer, description: 'This Mandate server' }] };
  const documentJson = JSON.stringify(served);
  const reference = apiReference(document.info.title);
  const operations = listOperations(document);
  const db = await openDatabase(config, (seconds) => {
    metrics.dbQueryDuration.observe(seconds);
  });
  let cache: Cache | undefined;
  try {
    cache = openCache(config, metrics);
    const openedCache = cache;
    const secrets = serverSecrets(config);
    const hasher = new SecretHasher(secrets.pepper);
    const keyEncryption = new KeyEncryption(secrets.keyEncryptionKey);
    const keys = new SigningKeys(db, keyEncryption, {
      algorithm: config.signingAlgorithm,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
      activationDelaySeconds: config.keyActivationDelaySeconds,
    });
    const bootstrap = await db.withAdvisoryLock(SCHEMA_LOCK_KEY, async () => {
      const applied = await migrate(db);
      if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
      await keys.ensureOne();
      return bootstrapInstanceAdmin(db, hasher, config.bootstrapToken);
    });

    const tokenState = new TokenState(db, openedCache, config.tokenStateCache);
    const warm = (): void => {
      tokenState.warm().catch((error: unknown) => {
        logger.warn({ err: error }, 'token state cache not warmed; the database answers until it is');
      });
    };
    warm();
    const feed = new AuditFeed(db, openedCache, (error: unknown) => {
      logger.warn({ err: error }, 'audit feed: a read or announcement failed; followers catch up on the next one');
    });
    new Gauge({
      name: 'mandate_event_stream_followers',
      help: 'Open event streams on this instance.',
      registers: [metrics.registry],
      collect() {
        this.set(feed.followers);
      },
    });
    const audit = new AuditWriter(db, (chains) => {
      feed.announce(chains);
    });
    const webhookPolicy: WebhookPolicy = {
      newSecret: newWebhookSecret,
      seal: (secret, webhookId) => keyEncryption.encrypt(secret, webhookId),
      checkUrl: (url) => checkOutboundUrl(url, config.webhookAllowList),
      maxAttempts: config.webhookMaxAttempts,
    };
    const deliveryMetrics: DeliveryMetrics = {
      attempted(outcome, seconds) {
        metrics.webhookDeliveries.inc({ outcome });
        metrics.webhookAttemptDuration.observe(seconds);
      },
    };
    const recordAudit = (entry: AuditEntry): Promise<void> => audit.append(entry);
    const deliveries =
      config.webhookDelivery === 'off'
        ? LEFT_TO_OTHER_INSTANCES
        : config.webhookDelivery === 'thread'
          ? new DeliveryThread(recordAudit, deliveryMetrics, logger)
          : new DeliveryWorker(db, keyEncryption, deliverySettings(config), recordAudit, deliveryMetrics, logger);
    watchOutbox(metrics, () => db.ownerTransaction((sql) => webhookOutbox.queue(sql)));
    const plans = new OrgPlans(db, config.plans);
    const monthlyTokens = new MonthlyTokenQuota(db, plans);
    const tokens = new AccessTokens(keys, config.issuer, config.accessTokenTtlSeconds, monthlyTokens);
    const { roles, scopes } = roleScopes(document);
    const validator = new RequestValidator(document, operations);
    const bodyLimits = { bytes: config.bodyLimitBytes, timeoutMs: config.bodyTimeoutMs };
    const adminTokens = new EpochCache<AdminTokenCredentials>(openedCache, 'admin-tokens', {
      enabled: config.tokenStateCache,
      ttlMs: ADMIN_TOKEN_CACHE_TTL_MS,
      maxEntries: 10_000,
    });
    // Nonces are HMACs under a key every instance derives from the shared pepper.
    const dpop = new DpopVerifier(openedCache, config.dpopNonce === 'required' ? hasher.derive('dpop-nonce') : null);
    const lastUse = lastUseRecorders(db, (error) => {
      logger.warn({ err: error }, 'last-used times were not recorded');
    });
    const bearer = bearerAuthenticator({ db, adminTokens, adminTokenUses: lastUse.adminTokens, hasher, metrics, roles, tokens, tokenState, audit, issuer: config.issuer, dpop });
    const identity = identityHandlers(config.issuer, keys);
    const streams = { ...EVENT_STREAM_DEFAULTS, maxLifetimeMs: config.eventStreamMaxSeconds * 1000 };
    const issuerKeys = new IssuerKeys(config.insecureIssuerHosts);
    const rateLimits = new RateLimits(config.rateLimits, config.device.requestsPerMinute, openedCache, metrics, logger);
    const checkIssuerUrl = (url: string): string | null => checkOutboundUrl(url, config.insecureIssuerHosts);
    const router = buildRouter(
      operations,
      {
        ...orgHandlers,
        ...agentHandlers,
        ...agentScaffoldHandlers(config.issuer),
        ...credentialHandlers,
        ...agentKeyHandlers,
        ...delegationHandlers,
        ...identity.handlers,
        ...keyHandlers,
        ...auditHandlers,
        ...eventHandlers(feed, streams),
        ...webhookHandlers(webhookPolicy),
        ...trustPolicyHandlers({ checkIssuer: checkIssuerUrl }),
        ...approvalHandlers,
        ...usageHandlers,
        ...complianceHandlers({ policy: config.compliance, keyEncryptionKey: config.keyEncryptionKey === null ? 'embedded' : 'configured' }),
        ...clientRegistrationHandlers(config.issuer),
        ...federationHandlers(issuerKeys, checkIssuerUrl),
      },
      {
        ...identity.publicHandlers,
        ...directoryHandlers({ db, issuer: config.issuer, rateLimits }),
        ...registrationManagementHandlers({ db, hasher, tokenState, validator, bodyLimits, issuer: config.issuer, rateLimits }),
        ...serviceHandlers({ db, stuckAfterMs: 2 * config.databaseTimeoutMs, cache: openedCache, metrics, documentJson, docsPage: reference.page, issuer: config.issuer }),
        ...oauthHandlers({
          db,
          metrics,
          validator,
          issuer: config.issuer,
          bodyLimits,
          maxDelegationDepth: config.delegationMaxDepth,
          issuerKeys,
          clients: new ClientAuthenticator(db, lastUse.credentials, hasher),
          assertions: new ClientAssertionVerifier(db, openedCache, config.issuer, lastUse.agentKeys),
          bearer,
          tokens,
          tokenState,
          keys,
          audit,
          scopesSupported: [...scopes],
          cache: openedCache,
          device: config.device,
          dpop,
          rateLimits,
        }),
      },
      {
        db,
        onAuditCommitted: (chains) => {
          feed.announce(chains);
          // A management change may have queued deliveries; the hot paths' events wait for the poll.
          deliveries.poke();
        },
        authenticator: bearer,
        validator,
        bodyLimits,
        services: { hasher, metrics, keys, tokenState, adminTokens, mandateScopes: scopes, authenticator: bearer, plans },
        issuer: config.issuer,
        rateLimits,
      },
    );

    const maintain = (): void => {
      db.withAdvisoryLock(MAINTENANCE_LOCK_KEY, async () => {
        const exported = await pruneAuditTrail(db, config.auditExportDir, config.auditRetentionDays);
        if (exported.length > 0) logger.info({ exported }, 'audit events exported and pruned');
        await pruneExpiredState(db);
      }).catch((error: unknown) => {
        logger.error({ err: error }, 'maintenance failed');
      });
    };
    const timers = [setInterval(maintain, MAINTENANCE_INTERVAL_MS), setInterval(warm, CACHE_WARM_INTERVAL_MS)];
    const snapshot = db instanceof PGliteDatabase ? async () => packSnapshot(await db.snapshot(), secrets) : null;
    let scheduledSnapshots: ScheduledSnapshots | null = null;
    if (config.backups !== null && snapshot !== null) {
      mkdirSync(config.backups.dir, { recursive: true, mode: 0o700 });
      scheduledSnapshots = new ScheduledSnapshots(snapshot, config.backups, logger);
      scheduledSnapshots.start();
    }
    deliveries.start();
    monthlyTokens.start();
    for (const timer of timers) timer.unref();

    const app = new Koa({ proxy: false });
    app.silent = true; // errors are logged by the problems middleware, with request ids
    app.use(requestId());
    app.use(observe(logger, metrics));
    app.use(deadline(logger, config.requestDeadlineMs));
    app.use(problems(logger));
    app.use(rootToDocs());
    // The reference page's script: a file, not an operation of the spec, so not the router's.
    app.use(reference.assets);
    app.use(new ConsoleSessions({ authenticator: bearer, key: hasher.derive('console-session'), issuer: config.issuer, bodyLimits }).middleware());
    // The console's built files at /console/ (its /console/api and /console/session are the line above's).
    app.use(consoleAssets());
    app.use(router.middleware());

    return {
      app,
      db,
      cache: openedCache,
      metrics,
      keys,
      bootstrap,
      snapshot,
      endStreams() {
        feed.close();
      },
      async close() {
        for (const timer of timers) clearInterval(timer);
        feed.close();
        await deliveries.stop();
        await monthlyTokens.stop();
        await scheduledSnapshots?.stop();
        await audit.close();
        await lastUse.close();
        await Promise.allSettled([db.close(), openedCache.close()]);
      },
    };
  } catch (error) {
    await Promise.allSettled([db.close(), cache?.close()]);
    throw error;
  }
}
