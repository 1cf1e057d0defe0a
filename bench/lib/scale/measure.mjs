// What the scale bench measures at each size: the two calls under a uniformly random spread
// of agents (autocannon's setupRequest picks a new agent or token for every request, so no
// small hot set stays in the server's memories or PostgreSQL's buffers), the tables' and
// indexes' sizes, what the load did to each table (scans, block reads), and the plans of
// the lookups on the token path.
import { issueToken, SCOPE } from '../seed.mjs';
import { literal } from './psql.mjs';

const FORM = 'application/x-www-form-urlencoded';
/** The tables that grow with agents or with traffic (the tokens themselves are JWTs: no table but revocations). */
export const TABLES = ['agents', 'credentials', 'audit_events', 'audit_chain_heads', 'revoked_tokens', 'usage_daily', 'agent_keys'];

/** Token issuance, client_secret_basic, a uniformly random agent of the whole population per request. */
export function issuanceScenario(pop) {
  return {
    name: 'Token issuance (random agent)',
    verifyBody: (body) => body.includes('"access_token":"'),
    requests: () => [
      {
        method: 'POST',
        path: '/oauth2/token',
        body: `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}`,
        setupRequest: (request) => ({ ...request, headers: { 'content-type': FORM, authorization: pop.randomBasic() } }),
      },
    ],
  };
}

/** Introspection of a random token of the sample per request, as the org admin (Bearer). */
export function introspectionScenario(tokens, adminToken) {
  const bodies = tokens.map((token) => `token=${encodeURIComponent(token)}`);
  const headers = { 'content-type': FORM, authorization: `Bearer ${adminToken}` };
  return {
    name: 'Introspection (random token)',
    verifyBody: (body) => body.includes('"active":true'),
    requests: () => [{ method: 'POST', path: '/oauth2/introspect', headers, body: bodies[0], setupRequest: (request) => ({ ...request, body: bodies[Math.floor(Math.random() * bodies.length)] }) }],
  };
}

/** Tokens of `count` agents drawn uniformly (with replacement) from the whole population, issued through the API. */
export async function sampleTokens(baseUrl, pop, count, parallel = 16) {
  const tokens = new Array(count);
  const agents = new Set();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const slot = next++;
      const j = Math.floor(Math.random() * pop.size);
      agents.add(j);
      tokens[slot] = (await issueToken(baseUrl, pop.credential(j))).access_token;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { tokens, distinctAgents: agents.size };
}

/** Heap, index and total size of each table (bytes), its live rows, and each of its indexes. */
export function tableSizes(db) {
  const names = TABLES.map(literal).join(', ');
  const tables = db.rows(`
    SELECT s.relname AS table, s.n_live_tup::bigint AS rows, pg_relation_size(s.relid) AS heap,
           pg_indexes_size(s.relid) AS indexes, pg_total_relation_size(s.relid) AS total
    FROM pg_stat_user_tables s WHERE s.relname IN (${names}) ORDER BY s.relname`);
  const indexes = db.rows(`
    SELECT i.relname AS table, i.indexrelname AS index, pg_relation_size(i.indexrelid) AS bytes
    FROM pg_stat_user_indexes i WHERE i.relname IN (${names}) ORDER BY i.relname, i.indexrelname`);
  return { tables, indexes };
}

/** Cumulative per-table counters (scans, writes, block hits and reads) of the bench database. */
export function tableCounters(db) {
  return db.rows(`
    SELECT s.relname AS table, s.seq_scan, s.seq_tup_read, coalesce(s.idx_scan, 0) AS idx_scan,
           s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd,
           io.heap_blks_read, io.heap_blks_hit, coalesce(io.idx_blks_read, 0) AS idx_blks_read, coalesce(io.idx_blks_hit, 0) AS idx_blks_hit
    FROM pg_stat_user_tables s JOIN pg_statio_user_tables io USING (relid)`);
}

/**
 * What one measured run did to each table, per 1,000 requests: a figure that grows with the
 * size (sequential scans, rows read, blocks read from outside shared_buffers, updates) is
 * the lead to follow. PostgreSQL publishes a backend's counters about once a second, so the
 * edges of a run are approximate.
 */
export function counterDeltas(before, after, requests) {
  const earlier = new Map(before.map((row) => [row.table, row]));
  const per1000 = (n) => Math.round((n * 1000 * 100) / Math.max(1, requests)) / 100;
  const out = [];
  for (const row of after) {
    const base = earlier.get(row.table);
    if (base === undefined) continue;
    const delta = Object.fromEntries(Object.keys(row).filter((k) => k !== 'table').map((k) => [k, Number(row[k]) - Number(base[k])]));
    if (Object.values(delta).every((v) => v === 0)) continue;
    out.push({ table: row.table, per1000Requests: Object.fromEntries(Object.entries(delta).map(([k, v]) => [k, per1000(v)])) });
  }
  return out.sort((a, b) => a.table.localeCompare(b.table));
}

/** Node types, time and buffers of one EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) result. */
function planSummary(json) {
  const [{ Plan: plan, 'Planning Time': planningMs, 'Execution Time': executionMs }] = JSON.parse(json);
  const nodes = [];
  const walk = (node) => {
    nodes.push([node['Node Type'], node['Index Name'] ?? node['Relation Name']].filter(Boolean).join(' '));
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(plan);
  return { nodes, planningMs, executionMs, sharedHit: plan['Shared Hit Blocks'], sharedRead: plan['Shared Read Blocks'] };
}

/**
 * The plans of the token path's lookups for one agent: the credential lookup of every
 * issuance (mandate_find_client_credentials' query, which looks up one event-loop turn's
 * credentials at once, here for one), the "last used" write
 * (mandate_touch_credentials', batched once a second, here for one id and rolled back) and introspection's agent status
 * (mandate_token_state's). An index scan on each, whatever the size, is what keeps them flat.
 */
export function explainTokenPath(db, pop, j) {
  const { clientId, secret } = pop.credential(j);
  const lookup = literal(secret.slice('mdt_sk_'.length, 'mdt_sk_'.length + 16));
  const { id: credentialId } = db.one(`SELECT id FROM credentials WHERE lookup = ${lookup}`);
  const explain = (query) => planSummary(db.run(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query}`, { rollback: true }));
  return {
    agentIndex: j,
    credentialLookup: explain(`SELECT c.id, c.org_id, c.agent_id, c.secret_hash, c.expires_at, c.revoked_at, a.status, a.allowed_scopes, a.dpop_required OR o.dpop_required
      FROM credentials c JOIN agents a ON a.org_id = c.org_id AND a.id = c.agent_id JOIN orgs o ON o.id = c.org_id WHERE c.lookup = ANY (ARRAY[${lookup}])`),
    touchCredential: explain(`UPDATE credentials SET last_used_at = now() WHERE id = ANY (ARRAY[${literal(credentialId)}])
      AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`),
    agentStatus: explain(`SELECT (SELECT a.status FROM agents a WHERE a.id = ${literal(clientId)}), EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = 'none')`),
  };
}
