import type { EpochCache } from '../cache/epoch-cache';
import type { Authenticator } from './authenticate';
import type { Principal } from '../domain/principal';
import type { OrgPlans } from '../domain/quotas';
import type { SecretHasher } from '../domain/secrets';
import type { SigningKeys } from '../domain/signing-keys';
import type { TokenState } from '../domain/token-state';
import type { Metrics } from '../observability/metrics';
import type { AdminTokenCredentials } from '../store/admin-tokens';
import type { AuditRecord } from '../store/audit';
import type { Sql } from '../store/database';
import type { PageRequest } from '../store/page';
import { decodeCursor, encodeCursor } from './cursor';

/** What an authenticated operation handler receives: validated input and its transaction. */
export interface Call {
  sql: Sql;
  principal: Principal;
  /** The organization the call acts in (from the path, the token or the header). */
  orgId: string | null;
  path: Record<string, string>;
  query: Record<string, unknown>;
  /** The operation's declared headers that were sent (names in lower case), validated. */
  headers: Record<string, unknown>;
  /** The JSON body, already validated against the operation's schema. */
  body: unknown;
  /** The credential the caller authenticated with (for long-lived answers that re-check it). */
  authorization: string | undefined;
  /** Content negotiation: the best of `types` for the request's Accept header (the first without one), or false. */
  accepts: (...types: string[]) => string | false;
  services: {
    hasher: SecretHasher;
    metrics: Metrics;
    keys: SigningKeys;
    tokenState: TokenState;
    /** Told after a change that can invalidate admin tokens (revocation, org deletion). */
    adminTokens: EpochCache<AdminTokenCredentials>;
    /** The scopes of Mandate's own API (declared in the spec). */
    mandateScopes: ReadonlySet<string>;
    /** Re-checks a credential for answers that outlive their request (event streams). */
    authenticator: Authenticator;
    /** Organizations' plans and quotas. */
    plans: OrgPlans;
  };
}

/** A change a handler made, to be recorded on the audit trail in the same transaction. */
export interface AuditIntent {
  action: string;
  target: { type: string; id: string } | null;
  metadata?: Record<string, unknown>;
  /** The organization whose chain records it, when not the call's (e.g. a new organization; null: instance). */
  orgId?: string | null;
}

export interface Reply {
  status: number;
  body?: unknown;
  audit?: AuditIntent[];
  /** Runs after the transaction committed and before the answer (e.g. cache write-through). */
  afterCommit?: () => Promise<void>;
  /**
   * The body, computed after the reply's audit events were appended in the same transaction
   * (an answer about rows the append created, such as a webhook delivery in the outbox).
   */
  bodyAfterAudit?: (events: AuditRecord[]) => Promise<unknown>;
  /** Response headers, and the content type of a body that is a stream. */
  headers?: Record<string, string>;
  type?: string;
}

export type Handler = (call: Call) => Promise<Reply>;

/** The org a handler acts in; the router guarantees it for org-scoped operations. */
export function orgOf(call: Call): string {
  if (call.orgId === null) throw new Error('Operation needs an organization but none was resolved.');
  return call.orgId;
}

/** The `{agentId}` path parameter. */
export const agentIdOf = (call: Call): string => String(call.path.agentId);

/** Who asks for a credential or key of an agent: its scopes and which are Mandate's own (see requireGrantable). */
export const requesterOf = (call: Call) => ({ scopes: call.principal.scopes, mandateScopes: call.services.mandateScopes });

export function pageOf(call: Call, idPrefix: string): PageRequest {
  return { afterId: decodeCursor(call.query.cursor, idPrefix), limit: Number(call.query.limit ?? 20) };
}

export function pageReply<T>(page: { items: T[]; lastId: string | null }, toJson: (item: T) => unknown): Reply {
  return { status: 200, body: { data: page.items.map(toJson), nextCursor: encodeCursor(page.lastId) } };
}
