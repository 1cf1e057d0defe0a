import type { Sql } from './database';

/**
 * One organization's usage of one UTC day. The counters are kept by migration 0016's trigger
 * on the audit events; active agents come from the agents' own timestamps.
 */
export type UsageCounters = Pick<UsageDay, 'tokensIssued' | 'apiCalls' | 'failedAuthentications'>;

export interface UsageDay {
  date: string;
  tokensIssued: number;
  activeAgents: number;
  apiCalls: number;
  failedAuthentications: number;
}

export const usageStore = {
  /** Each organization's counters from `from` (a month's first day) to the end of that month; none for an organization without use. */
  async monthTotals(sql: Sql, orgIds: string[], from: string): Promise<Map<string, UsageCounters>> {
    const rows = await sql.query<UsageCounters & { orgId: string }>(
      `SELECT org_id AS "orgId", sum(tokens_issued)::float8 AS "tokensIssued", sum(api_calls)::float8 AS "apiCalls",
              sum(failed_authentications)::float8 AS "failedAuthentications"
       FROM usage_daily WHERE org_id = ANY($1) AND day >= $2::date AND day < ($2::date + interval '1 month')
       GROUP BY org_id`,
      [orgIds, from],
    );
    return new Map(rows.map(({ orgId, ...counters }) => [orgId, counters]));
  },

  /**
   * Every day from `from` to `to`: the counters (zero for a day without a row) and the agents
   * registered and not decommissioned at the day's end, from the agents' own timestamps.
   */
  async days(sql: Sql, orgId: string, from: string, to: string): Promise<UsageDay[]> {
    return sql.query<UsageDay>(
      `WITH days AS (SELECT d::date AS day FROM generate_series($2::date, $3::date, interval '1 day') AS d),
       changes AS (
         SELECT (created_at AT TIME ZONE 'UTC')::date AS day, 1 AS delta FROM agents WHERE org_id = $1
         UNION ALL
         SELECT (decommissioned_at AT TIME ZONE 'UTC')::date, -1 FROM agents WHERE org_id = $1 AND decommissioned_at IS NOT NULL),
       earlier AS (SELECT coalesce(sum(delta), 0) AS agents FROM changes WHERE day < $2::date),
       per_day AS (SELECT day, sum(delta) AS delta FROM changes WHERE day BETWEEN $2::date AND $3::date GROUP BY day)
       SELECT to_char(days.day, 'YYYY-MM-DD') AS date,
         coalesce(u.tokens_issued, 0)::float8 AS "tokensIssued",
         coalesce(u.api_calls, 0)::float8 AS "apiCalls",
         coalesce(u.failed_authentications, 0)::float8 AS "failedAuthentications",
         (earlier.agents + sum(coalesce(per_day.delta, 0)) OVER (ORDER BY days.day))::float8 AS "activeAgents"
       FROM days CROSS JOIN earlier
       LEFT JOIN per_day ON per_day.day = days.day
       LEFT JOIN usage_daily u ON u.org_id = $1 AND u.day = days.day
       ORDER BY days.day`,
      [orgId, from, to],
    );
  },
};
