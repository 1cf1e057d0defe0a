import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PLANS, type PlanSettings, parsePlanQuotas } from './domain/plans';
import type { SnapshotSchedule } from './workers/backups/scheduled-snapshots';
import { type AllowList, parseAllowList } from './net/ssrf';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export type SigningAlgorithm = 'ES256' | 'RS256' | 'EdDSA';
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'RS256', 'EdDSA'];

export interface Config {
  host: string;
  port: number;
  issuer: string;
  /** True when MANDATE_ISSUER is unset: the issuer is http://localhost:<the port listened on>. */
  issuerFromPort: boolean;
  databaseUrl: string | null;
  databasePoolSize: number;
  /** The longest a statement, a wait for a connection, or an idle transaction may take. */
  databaseTimeoutMs: number;
  /** A request still running after this long is logged as over its deadline. */
  requestDeadlineMs: number;
  redisUrl: string | null;
  dataDir: string;
  /** Preset instance-admin token; used only at first start. */
  bootstrapToken: string | null;
  /** Key for the HMAC of stored secrets. Null only on the embedded store (then kept in dataDir). */
  secretPepper: string | null;
  /** 32-byte key that encrypts signing keys at rest. Null only on the embedded store (then kept in dataDir). */
  keyEncryptionKey: Buffer | null;
  signingAlgorithm: SigningAlgorithm;
  accessTokenTtlSeconds: number;
  /** How long a new signing key is published before it signs, so verifiers learn it first. */
  keyActivationDelaySeconds: number;
  /** Whether introspection trusts the shared cache for revocations and agent status (see TokenState). */
  tokenStateCache: boolean;
  auditRetentionDays: number;
  /** Where audit events are exported before they are pruned. */
  auditExportDir: string;
  bodyLimitBytes: number;
  /** How long a request body may take to arrive. */
  bodyTimeoutMs: number;
  /** Hosts and CIDRs webhooks may reach although they are private (MANDATE_WEBHOOK_ALLOWED_HOSTS). */
  webhookAllowList: AllowList;
  webhookMaxAttempts: number;
  webhookRetryBaseMs: number;
  webhookDisableAfterHours: number;
  webhookTimeoutMs: number;
  /**
   * External issuers (workload identity federation, partners) reachable over plain http and
   * on private addresses (MANDATE_INSECURE_ISSUER_HOSTS): local tests and internal issuers.
   */
  insecureIssuerHosts: AllowList;
  /** Device authorization (RFC 8628): how long a request lasts, how often the agent polls, and requests a minute per address or agent. */
  device: { codeTtlSeconds: number; pollIntervalSeconds: number; requestsPerMinute: number };
  /** Whether DPoP proofs must carry a server nonce (RFC 9449 §8). */
  dpopNonce: 'off' | 'required';
  /** The compliance report's policy: ages past which credentials, signing keys and unused admin tokens are reported. */
  compliance: { credentialMaxAgeDays: number; signingKeyMaxAgeDays: number; adminTokenUnusedDays: number };
  /** Rate limits (requests a minute), shared by all instances through Redis. */
  rateLimits: RateLimitSettings;
  /** The plans' quotas, and the plan of a new organization. */
  plans: PlanSettings;
  /** Scheduled snapshots of the embedded store (MANDATE_BACKUP_DIR), or null. */
  backups: SnapshotSchedule | null;
  /** The most actors a delegation chain (token exchange) may have. */
  delegationMaxDepth: number;
  /** How long one event stream connection lasts before the client is made to resume. */
  eventStreamMaxSeconds: number;
  /** Where deliveries are made: a thread of their own (PostgreSQL), or the request thread. */
  webhookDelivery: 'thread' | 'inline' | 'off';
  logLevel: LogLevel;
  shutdownTimeoutMs: number;
  specPath: string;
}

export interface RateLimitSettings {
  /** False with MANDATE_RATE_LIMITS=off: no limit applies (the device limit included). */
  enabled: boolean;
  /** The token endpoint, per client id presented (authenticated or not). */
  tokenPerClient: number;
  /** The token endpoint, per client address. */
  tokenPerAddress: number;
  /** The management API, per admin token, and per agent for access tokens (new tokens do not reset it). */
  apiPerCaller: number;
  /** Dynamic client registration, per client address. */
  registrationPerAddress: number;
  /** The public directory (no authentication), per client address. */
  directoryPerAddress: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const BOOTSTRAP_TOKEN_PATTERN = /^mdt_pat_[A-Za-z0-9_-]{43}$/;
const DEFAULT_SPEC_PATH = path.resolve(__dirname, '../../spec/dist/openapi.json');

type Env = Record<string, string | undefined>;

/**
 * Reads the configuration from environment variables. Every secret may instead come from
 * a file named by `<NAME>_FILE` (Docker and Kubernetes secrets). All problems are collected
 * so an operator fixes them in one go.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const reader = new EnvReader(env, problems);

  const databaseUrl = reader.secret('DATABASE_URL');
  const secretPepper = reader.secret('MANDATE_SECRET_PEPPER');
  if (secretPepper !== null && secretPepper.length < 32) {
    problems.push('MANDATE_SECRET_PEPPER must be at least 32 characters of random data.');
  }
  if (databaseUrl !== null && secretPepper === null) {
    problems.push('MANDATE_SECRET_PEPPER (or MANDATE_SECRET_PEPPER_FILE) is required when DATABASE_URL is set.');
  }
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL.');
  }
  const keyEncryptionKey = parseKey(reader.secret('MANDATE_KEY_ENCRYPTION_KEY'), problems);
  if (databaseUrl !== null && keyEncryptionKey === null && !problems.some((p) => p.startsWith('MANDATE_KEY_ENCRYPTION_KEY'))) {
    problems.push('MANDATE_KEY_ENCRYPTION_KEY (or MANDATE_KEY_ENCRYPTION_KEY_FILE) is required when DATABASE_URL is set.');
  }
  const redisUrl = reader.secret('REDIS_URL');
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) {
    problems.push('REDIS_URL must be a redis:// or rediss:// URL.');
  }
  const bootstrapToken = reader.secret('MANDATE_BOOTSTRAP_TOKEN');
  if (bootstrapToken !== null && !BOOTSTRAP_TOKEN_PATTERN.test(bootstrapToken)) {
    problems.push('MANDATE_BOOTSTRAP_TOKEN must be "mdt_pat_" followed by 43 base64url characters (32 random bytes).');
  }

  const dataDir = path.resolve(reader.string('MANDATE_DATA_DIR', './.mandate-data'));
  const port = reader.integer('PORT', 8080, 0, 65535);
  const issuerFromPort = reader.isUnset('MANDATE_ISSUER');
  const config: Config = {
    host: reader.string('HOST', '0.0.0.0'),
    port,
    issuer: reader.issuer('MANDATE_ISSUER', localIssuer(port)),
    issuerFromPort,
    databaseUrl,
    databasePoolSize: reader.integer('DATABASE_POOL_SIZE', 10, 1, 200),
    databaseTimeoutMs: reader.integer('MANDATE_DB_TIMEOUT_MS', 10_000, 100, 600_000),
    requestDeadlineMs: reader.integer('MANDATE_REQUEST_DEADLINE_MS', 15_000, 100, 3_600_000),
    redisUrl,
    dataDir,
    bootstrapToken,
    secretPepper,
    keyEncryptionKey,
    signingAlgorithm: reader.oneOf('MANDATE_SIGNING_ALG', SIGNING_ALGORITHMS, 'ES256'),
    accessTokenTtlSeconds: reader.integer('MANDATE_ACCESS_TOKEN_TTL_SECONDS', 3600, 60, 86400),
    keyActivationDelaySeconds: reader.integer('MANDATE_KEY_ACTIVATION_DELAY_SECONDS', 120, 0, 86400),
    tokenStateCache: reader.oneOf('MANDATE_TOKEN_STATE_CACHE', ['on', 'off'] as const, 'on') === 'on',
    auditRetentionDays: reader.integer('MANDATE_AUDIT_RETENTION_DAYS', 90, 1, 3650),
    auditExportDir: path.resolve(reader.string('MANDATE_AUDIT_EXPORT_DIR', path.join(dataDir, 'audit-exports'))),
    bodyLimitBytes: reader.integer('MANDATE_BODY_LIMIT_BYTES', 65536, 1024, 10 * 1024 * 1024),
    bodyTimeoutMs: reader.integer('MANDATE_BODY_TIMEOUT_MS', 10_000, 100, 600_000),
    webhookAllowList: reader.allowList('MANDATE_WEBHOOK_ALLOWED_HOSTS'),
    insecureIssuerHosts: reader.allowList('MANDATE_INSECURE_ISSUER_HOSTS'),
    dpopNonce: reader.oneOf('MANDATE_DPOP_NONCE', ['off', 'required'] as const, 'off'),
    compliance: {
      credentialMaxAgeDays: reader.integer('MANDATE_CREDENTIAL_MAX_AGE_DAYS', 90, 1, 3650),
      signingKeyMaxAgeDays: reader.integer('MANDATE_SIGNING_KEY_MAX_AGE_DAYS', 90, 1, 3650),
      adminTokenUnusedDays: reader.integer('MANDATE_ADMIN_TOKEN_UNUSED_DAYS', 90, 1, 3650),
    },
    rateLimits: {
      enabled: reader.oneOf('MANDATE_RATE_LIMITS', ['on', 'off'] as const, 'on') === 'on',
      tokenPerClient: reader.integer('MANDATE_RATE_LIMIT_TOKEN_PER_CLIENT', 600, 1, 100_000_000),
      tokenPerAddress: reader.integer('MANDATE_RATE_LIMIT_TOKEN_PER_ADDRESS', 6000, 1, 100_000_000),
      apiPerCaller: reader.integer('MANDATE_RATE_LIMIT_API_PER_CALLER', 6000, 1, 100_000_000),
      registrationPerAddress: reader.integer('MANDATE_RATE_LIMIT_REGISTRATION_PER_ADDRESS', 60, 1, 100_000_000),
      directoryPerAddress: reader.integer('MANDATE_RATE_LIMIT_DIRECTORY_PER_ADDRESS', 600, 1, 100_000_000),
    },
    backups: backupSchedule(reader, databaseUrl, problems),
    plans: {
      defaultPlan: reader.oneOf('MANDATE_DEFAULT_PLAN', PLANS, 'enterprise'),
      quotas: parsePlanQuotas(reader.isUnset('MANDATE_PLAN_QUOTAS') ? null : reader.string('MANDATE_PLAN_QUOTAS', ''), problems),
    },
    device: {
      codeTtlSeconds: reader.integer('MANDATE_DEVICE_CODE_TTL_SECONDS', 600, 60, 86_400),
      pollIntervalSeconds: reader.integer('MANDATE_DEVICE_POLL_INTERVAL_SECONDS', 5, 1, 60),
      requestsPerMinute: reader.integer('MANDATE_DEVICE_REQUESTS_PER_MINUTE', 20, 1, 100_000),
    },
    webhookMaxAttempts: reader.integer('MANDATE_WEBHOOK_MAX_ATTEMPTS', 8, 1, 50),
    webhookRetryBaseMs: reader.integer('MANDATE_WEBHOOK_RETRY_BASE_MS', 30_000, 10, 3_600_000),
    webhookDisableAfterHours: reader.integer('MANDATE_WEBHOOK_DISABLE_AFTER_HOURS', 72, 1, 24 * 90),
    webhookTimeoutMs: reader.integer('MANDATE_WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
    eventStreamMaxSeconds: reader.integer('MANDATE_EVENT_STREAM_MAX_SECONDS', 3600, 1, 86_400),
    delegationMaxDepth: reader.integer('MANDATE_DELEGATION_MAX_DEPTH', 3, 1, 10),
    // PGlite lives in one thread, so the embedded store always delivers inline.
    webhookDelivery: databaseUrl === null ? 'inline' : reader.oneOf('MANDATE_WEBHOOK_DELIVERY', ['thread', 'inline', 'off'] as const, 'thread'),
    logLevel: reader.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    shutdownTimeoutMs: reader.integer('MANDATE_SHUTDOWN_TIMEOUT_MS', 10000, 0, 600000),
    specPath: reader.string('MANDATE_SPEC_PATH', DEFAULT_SPEC_PATH),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** MANDATE_BACKUP_DIR and its companions; snapshots are the embedded store's (PostgreSQL has pg_dump). */
function backupSchedule(reader: EnvReader, databaseUrl: string | null, problems: string[]): SnapshotSchedule | null {
  const intervalSeconds = reader.integer('MANDATE_BACKUP_INTERVAL_SECONDS', 3600, 1, 7 * 86_400);
  const keep = reader.integer('MANDATE_BACKUP_KEEP', 24, 1, 10_000);
  if (reader.isUnset('MANDATE_BACKUP_DIR')) return null;
  if (databaseUrl !== null) {
    problems.push('MANDATE_BACKUP_DIR takes snapshots of the embedded store; with DATABASE_URL, back PostgreSQL up with pg_dump (see docs/backups.md).');
    return null;
  }
  return { dir: path.resolve(reader.string('MANDATE_BACKUP_DIR', '')), intervalSeconds, keep };
}

/** The issuer of a server reached on this machine at `port`. */
export function localIssuer(port: number): string {
  return `http://localhost:${port}`;
}

/**
 * The configuration once the server listens: without MANDATE_ISSUER, the issuer names the
 * port actually bound (PORT=0 binds a free one), so discovery and `iss` point at this server.
 */
export function withListeningPort(config: Config, port: number): Config {
  return config.issuerFromPort ? { ...config, port, issuer: localIssuer(port) } : { ...config, port };
}

/** A 256-bit key given as 64 hex characters or 43–44 base64/base64url characters. */
function parseKey(value: string | null, problems: string[]): Buffer | null {
  if (value === null) return null;
  const key = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (key.length !== 32) {
    problems.push('MANDATE_KEY_ENCRYPTION_KEY must be 32 random bytes, as 64 hex or 44 base64 characters (openssl rand -base64 32).');
    return null;
  }
  return key;
}

class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  allowList(name: string): AllowList {
    try {
      return parseAllowList(this.raw(name));
    } catch (error) {
      this.problems.push(`${name}: ${(error as Error).message}`);
      return parseAllowList(undefined);
    }
  }

  isUnset(name: string): boolean {
    return this.raw(name) === undefined;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got "${value}").`);
      return fallback;
    }
    return parsed;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const match = allowed.find((candidate) => candidate === value);
    if (match === undefined) this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}").`);
    return match ?? fallback;
  }

  /** The issuer must be an https URL, or http on a loopback host for local use (RFC 8414 §2). */
  issuer(name: string, fallback: string): string {
    const value = this.raw(name) ?? fallback;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      this.problems.push(`${name} must be an absolute URL (got "${value}").`);
      return fallback;
    }
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
      this.problems.push(`${name} must use https (plain http is allowed only on localhost).`);
    }
    if (url.search !== '' || url.hash !== '') this.problems.push(`${name} must not have a query or fragment.`);
    return value.replace(/\/+$/, '');
  }

  /** A secret from `NAME`, or from the file named by `NAME_FILE`; not both. */
  secret(name: string): string | null {
    const direct = this.raw(name);
    const file = this.raw(`${name}_FILE`);
    if (direct !== undefined && file !== undefined) {
      this.problems.push(`Set ${name} or ${name}_FILE, not both.`);
      return null;
    }
    if (file === undefined) return direct ?? null;
    try {
      const content = readFileSync(file, 'utf8').trim();
      if (content === '') this.problems.push(`${name}_FILE names an empty file (${file}).`);
      return content === '' ? null : content;
    } catch (error) {
      this.problems.push(`${name}_FILE cannot be read (${file}): ${(error as NodeJS.ErrnoException).code ?? 'error'}.`);
      return null;
    }
  }
}
