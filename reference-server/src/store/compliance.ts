import type { Sql } from './database';

const ids = async (sql: Sql, text: string, params: unknown[]): Promise<string[]> => (await sql.query<{ id: string }>(text, params)).map((row) => row.id);

/** A credential that can still be used: not revoked, not expired. */
const LIVE_CREDENTIAL = 'c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > now())';

/**
 * The queries behind the compliance report: each answers the ids of one finding, in id
 * order, within the organization (row-level security narrows them to it as well).
 */
export const complianceStore = {
  expiredCredentials: (sql: Sql, orgId: string) =>
    ids(sql, 'SELECT c.id FROM credentials c WHERE c.org_id = $1 AND c.revoked_at IS NULL AND c.expires_at <= now() ORDER BY c.id', [orgId]),

  expiringCredentials: (sql: Sql, orgId: string, withinDays: number) =>
    ids(sql, `SELECT c.id FROM credentials c WHERE c.org_id = $1 AND ${LIVE_CREDENTIAL} AND c.expires_at <= now() + make_interval(days => $2) ORDER BY c.id`, [orgId, withinDays]),

  credentialsOlderThan: (sql: Sql, orgId: string, days: number) =>
    ids(sql, `SELECT c.id FROM credentials c WHERE c.org_id = $1 AND ${LIVE_CREDENTIAL} AND c.created_at < now() - make_interval(days => $2) ORDER BY c.id`, [orgId, days]),

  suspendedAgentsWithLiveCredentials: (sql: Sql, orgId: string) =>
    ids(
      sql,
      `SELECT a.id FROM agents a WHERE a.org_id = $1 AND a.status = 'suspended'
         AND EXISTS (SELECT 1 FROM credentials c WHERE c.org_id = a.org_id AND c.agent_id = a.id AND ${LIVE_CREDENTIAL})
       ORDER BY a.id`,
      [orgId],
    ),

  agentsWithoutOwner: (sql: Sql, orgId: string) =>
    ids(sql, `SELECT id FROM agents WHERE org_id = $1 AND status <> 'decommissioned' AND (owner IS NULL OR btrim(owner) = '') ORDER BY id`, [orgId]),

  failingWebhooks: (sql: Sql, orgId: string) =>
    ids(sql, `SELECT id FROM webhooks WHERE org_id = $1 AND (failing_since IS NOT NULL OR disabled_reason = 'failing') ORDER BY id`, [orgId]),

  /** Live admin tokens not used (or, never used, not created) within `days`. */
  unusedAdminTokens: (sql: Sql, orgId: string, days: number) =>
    ids(
      sql,
      `SELECT id FROM admin_tokens WHERE org_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
         AND coalesce(last_used_at, created_at) < now() - make_interval(days => $2)
       ORDER BY id`,
      [orgId, days],
    ),

  /** The signing keys in use (active, not retired) created more than `days` ago. */
  signingKeysOlderThan: (sql: Sql, days: number) =>
    ids(sql, `SELECT kid AS id FROM signing_keys WHERE retired_at IS NULL AND activates_at <= now() AND created_at < now() - make_interval(days => $1) ORDER BY kid`, [days]),

  /** Tables holding organizations' rows (they have an org_id) that do not enforce row-level security. */
  tablesWithoutRowLevelSecurity: (sql: Sql) =>
    ids(
      sql,
      `SELECT c.relname AS id FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relrowsecurity
         AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped)
       ORDER BY c.relname`,
      [],
    ),
};
