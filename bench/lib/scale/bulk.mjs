// Grows the bench organization's agents in bulk SQL, each with one client-secret credential,
// row for row what the API writes (src/store/agents.ts, credentials.ts and the migrations):
// the same columns and defaults, ids of the server's shape, the secret's public lookup and
// its HMAC-SHA256 under the server's pepper. Secrets are derived from a per-run seed and the
// agent's index, so the load generator recomputes any agent's credentials without a list.
//
// The HMAC is computed by PostgreSQL's built-in sha256() (no extension needed): with the
// pepper's inner and outer pads precomputed here, HMAC(k, m) = sha256(k^opad || sha256(k^ipad || m)).
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { basicAuth } from '../seed.mjs';
import { literal } from './psql.mjs';

// The server's id alphabet (src/domain/ids.ts): Crockford base32, lower case.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** Base32 digits of the agent index in every id: 32^6 > 10^9 agents. */
const INDEX_DIGITS = 6;
const CLIENT_SECRET_PREFIX = 'mdt_sk_';
const LOOKUP_LENGTH = 16;
const SHA256_BLOCK = 64;
/** What the API's agents of the bench get, and what it writes when a field is not given. */
export const AGENT_DEFAULTS = { agentType: 'tool', deploymentEnv: 'development', trustLevel: 'unknown', scope: 'agents:read' };

/** The 10-character millisecond time of the server's ids (ULID layout). */
function idTime(ms) {
  let time = '';
  for (let i = 0, rest = ms; i < 10; i++, rest = Math.floor(rest / 32)) time = ALPHABET[rest % 32] + time;
  return time;
}

function base32(n, digits) {
  let text = '';
  for (let i = 0, rest = n; i < digits; i++, rest = Math.floor(rest / 32)) text = ALPHABET[rest % 32] + text;
  return text;
}

/** The same base32 digits computed by PostgreSQL for the bigint expression `i`. */
function base32Sql(i, digits) {
  const parts = [];
  for (let d = digits - 1; d >= 0; d--) parts.push(`substr('${ALPHABET}', ((${i} >> ${5 * d}) & 31)::int + 1, 1)`);
  return parts.join(' || ');
}

/** The pepper's HMAC pads (RFC 2104), as bytea literals. */
function hmacPads(pepper) {
  let key = Buffer.from(pepper, 'utf8');
  if (key.length > SHA256_BLOCK) key = createHash('sha256').update(key).digest();
  const padded = Buffer.concat([key, Buffer.alloc(SHA256_BLOCK - key.length)]);
  const xor = (byte) => `'\\x${Buffer.from(padded.map((b) => b ^ byte)).toString('hex')}'::bytea`;
  return { inner: xor(0x36), outer: xor(0x5c) };
}

/**
 * The seeded population: the API's agents (index 0 … apiCredentials.length − 1) followed by
 * the bulk ones. `credential(j)` gives any agent's client id and secret.
 */
export function population({ orgId, pepper, apiCredentials }) {
  const seed = randomBytes(16).toString('hex');
  // Every bulk id carries the time the population was made, then zeros and the index: unique,
  // of the server's pattern, and sorted in creation order like the API's ids.
  const idPrefix = `${idTime(Date.now())}${'0'.repeat(16 - INDEX_DIGITS)}`;
  const secretMaterial = (i) => `mandate-bench-scale:${seed}:${i}`;
  const api = apiCredentials.length;
  let size = api;

  const bulkAgentId = (i) => `agt_${idPrefix}${base32(i, INDEX_DIGITS)}`;
  const bulkSecret = (i) => CLIENT_SECRET_PREFIX + createHash('sha256').update(secretMaterial(i)).digest('base64url');
  const credential = (j) => (j < api ? apiCredentials[j] : { clientId: bulkAgentId(j - api), secret: bulkSecret(j - api) });

  return {
    orgId,
    get size() {
      return size;
    },
    apiAgents: api,
    credential,
    /** The Basic authorization of a uniformly random agent of the whole population. */
    randomBasic: () => {
      const { clientId, secret } = credential(Math.floor(Math.random() * size));
      return basicAuth(clientId, secret);
    },
    /** The stored hash the server computes for a secret, to check a seeded row against. */
    expectedHash: (secret) => createHmac('sha256', Buffer.from(pepper, 'utf8')).update(secret).digest('hex'),
    /** SQL that adds agents (and credentials) until the population has `target` agents. */
    growSql(target) {
      const from = size - api;
      const to = target - api;
      if (to <= from) return null;
      const i = 'g.i';
      const tail = `'${idPrefix}' || ${base32Sql(i, INDEX_DIGITS)}`;
      const { inner, outer } = hmacPads(pepper);
      const series = `generate_series(${from}::bigint, ${to - 1}::bigint) AS g(i)`;
      const body = `rtrim(translate(encode(sha256(convert_to(${literal(`mandate-bench-scale:${seed}:`)} || ${i}, 'UTF8')), 'base64'), '+/', '-_'), '=')`;
      return {
        added: to - from,
        commit: () => {
          size = target;
        },
        sql: `
INSERT INTO agents (id, org_id, name, description, agent_type, version, capabilities, owner,
  deployment_env, allowed_scopes, metadata, trust_level, dpop_required, public, status)
SELECT 'agt_' || ${tail}, ${literal(orgId)}, 'scale-agent-' || lpad(${i}::text, 7, '0'), NULL, ${literal(AGENT_DEFAULTS.agentType)}, NULL, '{}', NULL,
  ${literal(AGENT_DEFAULTS.deploymentEnv)}, ARRAY[${literal(AGENT_DEFAULTS.scope)}], '{}', ${literal(AGENT_DEFAULTS.trustLevel)}, false, false, 'active'
FROM ${series};

INSERT INTO credentials (id, org_id, agent_id, label, lookup, secret_hash, expires_at)
SELECT 'cred_' || ${tail}, ${literal(orgId)}, 'agt_' || ${tail}, NULL, left(s.body, ${LOOKUP_LENGTH}),
  sha256(${outer} || sha256(${inner} || convert_to(${literal(CLIENT_SECRET_PREFIX)} || s.body, 'UTF8'))), NULL
FROM ${series}, LATERAL (SELECT ${body} AS body) s;
`,
      };
    },
  };
}

/** Columns whose values may differ between an API-made row and a bulk one; any other difference is a seeding bug. */
const MAY_DIFFER = {
  agents: new Set(['id', 'name', 'created_at', 'updated_at']),
  credentials: new Set(['id', 'agent_id', 'lookup', 'secret_hash', 'created_at', 'last_used_at']),
};

/**
 * Compares a row the API wrote with a bulk row, column by column (a column the server gains
 * later and the seeding does not fill shows up here), and checks the stored hash against the
 * server's HMAC of the secret.
 */
export function checkShape(db, pop, bulkIndex) {
  const api = pop.credential(0);
  const bulk = pop.credential(pop.apiAgents + bulkIndex);
  const problems = [];
  for (const [table, key] of [['agents', 'id'], ['credentials', 'agent_id']]) {
    const rows = db.rows(`SELECT to_jsonb(t) AS row FROM ${table} t WHERE ${key} IN (${literal(api.clientId)}, ${literal(bulk.clientId)}) ORDER BY ${key} = ${literal(bulk.clientId)}`);
    if (rows.length !== 2) {
      problems.push(`${table}: expected the API's row and the bulk row, found ${rows.length}`);
      continue;
    }
    const [made, seeded] = rows.map((r) => r.row);
    const columns = new Set([...Object.keys(made), ...Object.keys(seeded)]);
    for (const column of columns) {
      if (MAY_DIFFER[table].has(column)) continue;
      if (JSON.stringify(made[column]) !== JSON.stringify(seeded[column])) problems.push(`${table}.${column}: API ${JSON.stringify(made[column])}, bulk ${JSON.stringify(seeded[column])}`);
    }
    if (table === 'credentials') {
      const stored = String(seeded.secret_hash).replace(/^\\x/, '');
      if (stored !== pop.expectedHash(bulk.secret)) problems.push('credentials.secret_hash is not the HMAC-SHA256 of the secret under the pepper');
      if (seeded.lookup !== bulk.secret.slice(CLIENT_SECRET_PREFIX.length, CLIENT_SECRET_PREFIX.length + LOOKUP_LENGTH)) problems.push('credentials.lookup is not the secret\'s lookup part');
    }
  }
  if (problems.length > 0) throw new Error(`the bulk rows differ from what the API writes:\n  ${problems.join('\n  ')}`);
}
