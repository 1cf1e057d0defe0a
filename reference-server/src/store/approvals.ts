import type { Sql } from './database';
import { type PageRequest, pageParams, toPage } from './page';

export type ApprovalStatus = 'pending' | 'approved' | 'denied';

export interface ApprovalRecord {
  id: string;
  orgId: string;
  kind: 'registration' | 'authentication';
  status: ApprovalStatus;
  agentId: string | null;
  name: string;
  keyThumbprint: string | null;
  publicJwk: Record<string, string> | null;
  userCode: string;
  requestedScopes: string[];
  grantedScopes: string[] | null;
  impersonationSuspected: boolean;
  impersonationReason: string | null;
  decidedBy: string | null;
  denialReason: string | null;
  ip: string | null;
  userAgent: string | null;
  createdAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
}

export type NewApproval = Omit<ApprovalRecord, 'createdAt' | 'decidedAt' | 'grantedScopes' | 'decidedBy' | 'denialReason'> & {
  deviceCodeHash: string;
  pollIntervalSeconds: number;
  /** Set for a request approved as it is made (a trusted agent's). */
  grantedScopes: string[] | null;
  decidedBy: string | null;
};

const COLUMNS = `id, org_id AS "orgId", kind, status, agent_id AS "agentId", name, key_thumbprint AS "keyThumbprint",
  public_jwk AS "publicJwk", user_code AS "userCode", requested_scopes AS "requestedScopes", granted_scopes AS "grantedScopes",
  impersonation_suspected AS "impersonationSuspected", impersonation_reason AS "impersonationReason", decided_by AS "decidedBy",
  denial_reason AS "denialReason", ip, user_agent AS "userAgent", created_at AS "createdAt", expires_at AS "expiresAt",
  decided_at AS "decidedAt"`;

/** Where a list of requests stands: `expired` are pending ones past their time. */
const STATUS_FILTER: Record<string, string> = {
  pending: "status = 'pending' AND expires_at > now()",
  expired: "status = 'pending' AND expires_at <= now()",
  approved: "status = 'approved'",
  denied: "status = 'denied'",
};

export const approvalStore = {
  /** Null when another request has the same user code (the caller draws another). */
  async insert(sql: Sql, approval: NewApproval): Promise<ApprovalRecord | null> {
    const [row] = await sql.query<ApprovalRecord>(
      `INSERT INTO approvals (id, org_id, kind, status, agent_id, name, key_thumbprint, public_jwk, user_code, device_code_hash,
         requested_scopes, granted_scopes, impersonation_suspected, impersonation_reason, poll_interval_seconds, decided_at, decided_by,
         ip, user_agent, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, CASE WHEN $4 = 'pending' THEN NULL ELSE now() END, $16, $17, $18, $19)
       ON CONFLICT (user_code) DO NOTHING RETURNING ${COLUMNS}`,
      [
        approval.id, approval.orgId, approval.kind, approval.status, approval.agentId, approval.name, approval.keyThumbprint,
        approval.publicJwk === null ? null : JSON.stringify(approval.publicJwk), approval.userCode, approval.deviceCodeHash,
        approval.requestedScopes, approval.grantedScopes, approval.impersonationSuspected, approval.impersonationReason,
        approval.pollIntervalSeconds, approval.decidedBy, approval.ip, approval.userAgent, approval.expiresAt,
      ],
    );
    return row ?? null;
  },

  async find(sql: Sql, orgId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<ApprovalRecord | null> {
    const lock = options.forUpdate === true ? ' FOR UPDATE' : '';
    const [row] = await sql.query<ApprovalRecord>(`SELECT ${COLUMNS} FROM approvals WHERE org_id = $1 AND id = $2${lock}`, [orgId, id]);
    return row ?? null;
  },

  async list(sql: Sql, orgId: string, filter: { status: string; userCode?: string }, page: PageRequest): Promise<{ items: ApprovalRecord[]; lastId: string | null }> {
    const { after, fetch } = pageParams(page);
    const where = filter.userCode === undefined ? (STATUS_FILTER[filter.status] ?? 'false') : 'user_code = $4';
    const params: unknown[] = [orgId, after, fetch, ...(filter.userCode === undefined ? [] : [filter.userCode])];
    const rows = await sql.query<ApprovalRecord>(`SELECT ${COLUMNS} FROM approvals WHERE org_id = $1 AND id > $2 AND ${where} ORDER BY id LIMIT $3`, params);
    return toPage(rows, page);
  },

  async decide(
    sql: Sql,
    orgId: string,
    id: string,
    decision: { status: 'approved' | 'denied'; decidedBy: string; agentId?: string; grantedScopes?: string[]; denialReason?: string | null },
  ): Promise<ApprovalRecord> {
    const [row] = await sql.query<ApprovalRecord>(
      `UPDATE approvals SET status = $3, decided_by = $4, decided_at = now(), agent_id = coalesce($5, agent_id),
         granted_scopes = $6, denial_reason = $7
       WHERE org_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [orgId, id, decision.status, decision.decidedBy, decision.agentId ?? null, decision.grantedScopes ?? null, decision.denialReason ?? null],
    );
    return row as ApprovalRecord;
  },

  /** Spends an approved request's device code; false when another poll spent it first. */
  async markTokenIssued(sql: Sql, orgId: string, id: string): Promise<boolean> {
    const rows = await sql.query(`UPDATE approvals SET token_issued_at = now() WHERE org_id = $1 AND id = $2 AND token_issued_at IS NULL RETURNING id`, [orgId, id]);
    return rows.length > 0;
  },
};
