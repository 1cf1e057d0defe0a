import { createHash } from 'node:crypto';
import type { CryptoKey } from 'jose';
import type { Cache } from '../cache/cache';
import type { Database } from '../store/database';
import type { AgentKeyAlg } from './agent-keys';
import { type AuthenticatedClient, ClientAuthenticationFailed } from './clients';
import { jose } from './jose';
import { OAuthError } from './oauth-errors';
import type { UseRecorder } from './use-recorder';

/** RFC 7523 §2.2's value of client_assertion_type. */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * The algorithms an assertion may be signed with, as discovery advertises them. An Ed25519
 * key signs as `EdDSA` (RFC 8037) or as the fully-specified `Ed25519` (RFC 9864), which some
 * clients (oauth4webapi) send.
 */
export const ASSERTION_ALGS: readonly string[] = ['ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256'];

/** The header algorithms a registered key of `alg` verifies. */
export const headerAlgs = (alg: AgentKeyAlg): string[] => (alg === 'EdDSA' ? ['EdDSA', 'Ed25519'] : [alg]);

/** An assertion lives a few minutes at most, so its jti need only be remembered that long. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
/** Imported public keys kept; a full cache is emptied rather than managed. */
const MAX_IMPORTED_KEYS = 10_000;
/** Clock skew allowed between the agent and this server. */
export const LEEWAY_SECONDS = 30;

/**
 * RFC 7523 §3: an assertion expires within a few minutes, and its `jti` is spent in the
 * shared cache until then, so it works once on any instance. Returns why it is refused, or
 * null. `scope` is whose jti values these are (an agent, a key).
 */
export async function spendAssertion(cache: Cache, scope: string, exp: number, jti: string): Promise<string | null> {
  const now = Math.floor(Date.now() / 1000);
  if (exp > now + MAX_ASSERTION_LIFETIME_SECONDS + LEEWAY_SECONDS) {
    return `The assertion expires too late: exp may be at most ${MAX_ASSERTION_LIFETIME_SECONDS} seconds ahead.`;
  }
  const seen = `${scope}:${createHash('sha256').update(jti).digest('base64url')}`;
  if (!(await cache.setIfAbsent(seen, '1', Math.max(1, exp - now + LEEWAY_SECONDS)))) {
    return 'This assertion was used before (its jti is spent): sign a new one for every request.';
  }
  return null;
}

interface AgentKeyRow {
  key_id: string;
  org_id: string;
  agent_id: string;
  kid: string;
  alg: AgentKeyAlg;
  jwk: Record<string, string>;
  agent_status: string;
  allowed_scopes: string[];
  dpop_required: boolean;
}

const refused = (detail: string, known: { orgId: string | null; agentId: string | null } = { orgId: null, agentId: null }) =>
  new ClientAuthenticationFailed(new OAuthError('invalid_client', detail, 401), known);

/**
 * private_key_jwt (RFC 7523 §2.2, §3): the agent signs a short-lived JWT with a key it
 * registered. The assertion names the agent (`iss` = `sub`), this server (`aud`), expires
 * within five minutes and carries a `jti` used once: the shared cache remembers each one
 * until it expires, so a captured assertion cannot be replayed on any instance.
 */
export class ClientAssertionVerifier {
  private readonly audiences: string[];
  /** Imported keys by agent key id: a registered key never changes, only goes away. */
  private readonly imported = new Map<string, Promise<CryptoKey | Uint8Array>>();

  constructor(
    private readonly db: Database,
    private readonly cache: Cache,
    issuer: string,
    private readonly uses: UseRecorder,
  ) {
    // RFC 7523 §3: the issuer or the token endpoint's URL; introspection and revocation accept the same.
    this.audiences = [issuer, `${issuer}/oauth2/token`];
  }

  private importedKey(row: AgentKeyRow, importJWK: (jwk: Record<string, string>, alg: string) => Promise<CryptoKey | Uint8Array>): Promise<CryptoKey | Uint8Array> {
    let key = this.imported.get(row.key_id);
    if (key === undefined) {
      if (this.imported.size >= MAX_IMPORTED_KEYS) this.imported.clear();
      key = importJWK(row.jwk, row.alg);
      key.catch(() => {
        this.imported.delete(row.key_id); // a key that failed to import is tried again
      });
      this.imported.set(row.key_id, key);
    }
    return key;
  }

  async authenticate(assertion: string, clientId: string | undefined): Promise<AuthenticatedClient> {
    const { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } = await jose();
    let header: { alg?: string; kid?: string };
    let issuer: unknown;
    try {
      header = decodeProtectedHeader(assertion);
      issuer = decodeJwt(assertion).iss;
    } catch {
      throw refused('client_assertion is not a JWT.');
    }
    if (typeof issuer !== 'string' || issuer === '') throw refused('The assertion names no issuer (iss): it must be the agent id.');
    if (clientId !== undefined && clientId !== issuer) throw refused('client_id differs from the assertion’s iss.');

    const rows = await this.db.callFunction<AgentKeyRow>('SELECT * FROM mandate_find_agent_keys($1)', [issuer]);
    const known = rows[0] === undefined ? undefined : { orgId: rows[0].org_id, agentId: rows[0].agent_id };
    const candidates = rows.filter((row) => headerAlgs(row.alg).includes(header.alg ?? '') && (header.kid === undefined || row.kid === header.kid));
    if (candidates.length === 0) throw refused('No registered key of this agent matches the assertion’s alg and kid.', known);

    let verified: { row: AgentKeyRow; exp: number; jti: string } | undefined;
    let reason = 'The assertion’s signature does not verify.';
    for (const row of candidates) {
      try {
        const key = await this.importedKey(row, importJWK);
        const { payload } = await jwtVerify(assertion, key, {
          algorithms: headerAlgs(row.alg),
          issuer,
          subject: issuer,
          audience: this.audiences,
          clockTolerance: LEEWAY_SECONDS,
          requiredClaims: ['exp', 'jti'],
        });
        verified = { row, exp: payload.exp as number, jti: String(payload.jti) };
        break;
      } catch (error) {
        // A claim failure is the same for every candidate key: say which claim.
        if (error instanceof Error && 'claim' in error) reason = `The assertion is refused: ${error.message}.`;
      }
    }
    if (verified === undefined) throw refused(reason, known);

    const { row, exp, jti } = verified;
    // Only after the signature: nobody else can use up an agent's jti values.
    const spent = await spendAssertion(this.cache, `assertion-jti:${row.agent_id}`, exp, jti);
    if (spent !== null) throw refused(spent, known);
    if (row.agent_status !== 'active') {
      throw new ClientAuthenticationFailed(new OAuthError('unauthorized_client', `The agent is ${row.agent_status}.`), { orgId: row.org_id, agentId: row.agent_id });
    }
    this.uses.record(row.key_id);
    return { agentId: row.agent_id, orgId: row.org_id, credentialId: row.key_id, allowedScopes: row.allowed_scopes, method: 'private_key_jwt', dpopRequired: row.dpop_required };
  }
}
