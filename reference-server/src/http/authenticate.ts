import { type AccessTokens, actorsOf } from '../domain/access-tokens';
import type { AuditEntry, RequestInfo } from '../domain/audit';
import type { AuditWriter } from '../domain/audit-writer';
import { ApiError, unauthorized } from '../domain/errors';
import { DPOP_ALGS, type DpopVerifier, DpopRefused } from '../domain/dpop';
import type { Principal } from '../domain/principal';
import type { SecretHasher } from '../domain/secrets';
import type { TokenState } from '../domain/token-state';
import type { UseRecorder } from '../domain/use-recorder';
import type { EpochCache } from '../cache/epoch-cache';
import type { Metrics } from '../observability/metrics';
import type { Database } from '../store/database';
import { type AdminTokenCredentials, adminTokenStore } from '../store/admin-tokens';


/** What a DPoP proof of a request must match (RFC 9449 §4.3, §7). */
export interface ProofContext {
  /** The request's DPoP header, if any. */
  proof: string | undefined;
  method: string;
  /** The URL as the client addressed it (the issuer's origin and the path). */
  url: string;
}

export interface Authenticator {
  /**
   * The caller behind an Authorization header (`Bearer`, or `DPoP` with the request's proof
   * for a DPoP-bound token); every success and failure is audited.
   */
  authenticate(authorization: string | undefined, request: RequestInfo, proof: ProofContext): Promise<Principal>;
  /**
   * Whether a credential that authenticated earlier still would (not revoked or expired, its
   * agent still active), for answers that outlive their request. Not audited.
   */
  stillValid(authorization: string): Promise<boolean>;
}


/** A refusal, with what is known of the caller. */
class Refusal extends Error {
  constructor(
    readonly reason: string,
    readonly detail: string,
    readonly known: { orgId: string | null; type: AuditEntry['actor']['type']; id: string | null } = { orgId: null, type: 'anonymous', id: null },
  ) {
    super(detail);
  }
}

export interface AuthenticatorDeps {
  db: Database;
  /** Admin tokens' credentials by lookup; revocations and org deletions move its epoch. */
  adminTokens: EpochCache<AdminTokenCredentials>;
  /** Notes each admin token's use, for its lastUsedAt. */
  adminTokenUses: UseRecorder;
  hasher: SecretHasher;
  metrics: Metrics;
  roles: Map<string, Set<string>>;
  tokens: AccessTokens;
  tokenState: TokenState;
  audit: AuditWriter;
  issuer: string;
  dpop: DpopVerifier;
}

/**
 * Bearer authentication for the API: admin tokens (`mdt_pat_…`, keyed-hash compared) and
 * agents' access tokens (JWTs for this issuer as audience, whose agent is still active and
 * which were not revoked).
 */
export function bearerAuthenticator(deps: AuthenticatorDeps): Authenticator {
  async function adminToken(presented: string, recordUse = true): Promise<Principal> {
    // A malformed token still costs a lookup (of nothing), so it answers in the same time class.
    const lookup = deps.hasher.lookupOf('adminToken', presented) ?? '';
    const row = await deps.adminTokens.get(lookup, () => adminTokenStore.findForAuthentication(deps.db, lookup));
    // Verify even when nothing was found, so unknown and wrong tokens take the same time.
    const valid = deps.hasher.verify(presented, row === null ? null : row.secretHash);
    if (row === null || !valid) throw new Refusal('unknown', 'The bearer token is not a valid admin API token.');
    const known = { orgId: row.orgId, type: 'admin_token' as const, id: row.id };
    if (row.revokedAt !== null || row.orgDeleted) throw new Refusal('revoked', 'The bearer token has been revoked.', known);
    if (row.expiresAt !== null && row.expiresAt.getTime() <= Date.now()) throw new Refusal('expired', 'The bearer token has expired.', known);
    if (recordUse) deps.adminTokenUses.record(row.id);
    return { kind: 'admin_token', id: row.id, orgId: row.orgId, role: row.role, scopes: deps.roles.get(row.role) ?? new Set() };
  }

  /**
   * A DPoP-bound token needs the DPoP scheme and a proof by its key for this request; an
   * unbound token is a bearer token (RFC 9449 §7.1).
   */
  async function checkBinding(claims: { cnf?: { jkt: string }; sub: string; org: string }, scheme: string, presented: string, context: ProofContext | undefined): Promise<void> {
    const known = { orgId: claims.org, type: 'agent' as const, id: claims.sub };
    if (claims.cnf === undefined) {
      if (scheme === 'dpop') throw new Refusal('not_dpop_bound', 'This access token is not DPoP-bound: send it as "Authorization: Bearer <token>".', known);
      return;
    }
    if (scheme !== 'dpop') throw new Refusal('dpop_required', 'This access token is bound to a DPoP key: send it as "Authorization: DPoP <token>" with a DPoP proof.', known);
    if (context === undefined) return; // a later re-check of a connection whose proof was checked
    if (context.proof === undefined) throw new Refusal('dpop_proof_missing', 'Send a DPoP proof (the DPoP header) with the DPoP-bound token.', known);
    let jkt: string;
    try {
      jkt = await deps.dpop.verify(context.proof, { method: context.method, url: context.url, accessToken: presented });
    } catch (error) {
      if (error instanceof DpopRefused) throw new Refusal(error.nonce ? 'use_dpop_nonce' : 'invalid_dpop_proof', error.message, known);
      throw error;
    }
    if (jkt !== claims.cnf.jkt) throw new Refusal('invalid_dpop_proof', 'The DPoP proof is signed with another key than the token is bound to.', known);
  }

  async function agentToken(presented: string, scheme: string, context: ProofContext | undefined): Promise<Principal> {
    const claims = await deps.tokens.verify(presented, deps.issuer);
    if (claims === null) throw new Refusal('invalid_jwt', 'The bearer token is not a valid access token for this API.');
    await checkBinding(claims, scheme, presented, context);
    if (!(await deps.tokenState.isActive(claims))) {
      throw new Refusal('inactive', 'The access token was revoked, or its agent (or an agent acting for it) is not active.', { orgId: claims.org, type: 'agent', id: claims.sub });
    }
    const scopes = new Set(claims.scope.split(' ').filter((s) => s !== ''));
    return { kind: 'agent', id: claims.sub, orgId: claims.org, role: null, scopes, ...(claims.act === undefined ? {} : { actors: actorsOf(claims) }) };
  }

  /** The scheme (lower case) and the token of an Authorization header. */
  const credentialsOf = (authorization: string): { scheme: string; presented: string } => {
    const match = /^(Bearer|DPoP) +([^ ]+) *$/i.exec(authorization);
    return { scheme: match?.[1]?.toLowerCase() ?? '', presented: match?.[2] ?? '' };
  };
  const principalOf = (scheme: string, presented: string, context: ProofContext | undefined, recordUse = true): Promise<Principal> => {
    if (!presented.startsWith('mdt_pat_')) return agentToken(presented, scheme, context);
    if (scheme === 'dpop') return Promise.reject(new Refusal('not_dpop_bound', 'Admin API tokens are bearer tokens: send "Authorization: Bearer <token>".'));
    return adminToken(presented, recordUse);
  };

  return {
    async stillValid(authorization) {
      const { scheme, presented } = credentialsOf(authorization);
      try {
        await principalOf(scheme, presented, undefined, false);
        return true;
      } catch (error) {
        if (error instanceof Refusal) return false;
        throw error;
      }
    },
    async authenticate(authorization, request, context) {
      if (authorization === undefined || authorization.trim() === '') {
        deps.metrics.authFailures.inc({ reason: 'missing' });
        throw unauthorized('AUTHENTICATION_REQUIRED', 'Send an admin API token or an access token as "Authorization: Bearer <token>".', false);
      }
      const { scheme, presented } = credentialsOf(authorization);
      try {
        const principal = await principalOf(scheme, presented, context);
        await deps.audit.append({
          orgId: principal.orgId,
          action: 'auth.succeeded',
          outcome: 'success',
          actor: { type: principal.kind, id: principal.id },
          target: null,
          ...request,
          metadata: {
            method: principal.kind === 'agent' ? 'access_token' : 'admin_token',
            ...(principal.actors === undefined ? {} : { actingAgents: principal.actors }),
          },
        });
        return principal;
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        deps.metrics.authFailures.inc({ reason: error.reason });
        await deps.audit.append({
          orgId: error.known.orgId,
          action: 'auth.failed',
          outcome: 'failure',
          actor: { type: error.known.type, id: error.known.id },
          target: null,
          ...request,
          metadata: { method: scheme === 'dpop' ? 'dpop' : 'bearer', reason: error.reason },
        });
        if (error.reason === 'invalid_dpop_proof' || error.reason === 'use_dpop_nonce' || error.reason === 'dpop_proof_missing') throw dpopChallenge(error, deps.dpop);
        throw unauthorized('INVALID_TOKEN', error.detail, true);
      }
    },
  };
}

/** RFC 9449 §7.1: a DPoP challenge, with a fresh nonce when the server requires them. */
function dpopChallenge(error: Refusal, dpop: DpopVerifier): ApiError {
  const code = error.reason === 'use_dpop_nonce' ? 'use_dpop_nonce' : 'invalid_dpop_proof';
  const nonce = dpop.currentNonce();
  const headers: Record<string, string> = { 'WWW-Authenticate': `DPoP algs="${DPOP_ALGS.join(' ')}", error="${code}"` };
  if (nonce !== null) headers['DPoP-Nonce'] = nonce;
  return new ApiError(401, code === 'use_dpop_nonce' ? 'USE_DPOP_NONCE' : 'INVALID_DPOP_PROOF', 'Authentication failed', error.detail, [], headers);
}
