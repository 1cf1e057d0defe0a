import { isUnstorable } from './text';
import type { Database } from '../store/database';
import { TurnBatch } from '../store/turn-batch';
import { OAuthError, invalidClient } from './oauth-errors';
import type { SecretHasher } from './secrets';
import type { UseRecorder } from './use-recorder';

/** An agent that proved its identity with one of its credentials or keys. */
export interface AuthenticatedClient {
  agentId: string;
  orgId: string;
  /** The credential (`cred_…`) or agent key (`akey_…`) it proved itself with. */
  credentialId: string;
  allowedScopes: string[];
  method: 'client_secret' | 'private_key_jwt';
  /** Whether the agent's tokens must be DPoP-bound. */
  dpopRequired: boolean;
}

interface CredentialRow {
  matched_lookup: string;
  credential_id: string;
  org_id: string;
  agent_id: string;
  secret_hash: Uint8Array;
  expires_at: Date | null;
  revoked_at: Date | null;
  agent_status: string;
  allowed_scopes: string[];
  dpop_required: boolean;
}

/** Thrown with what is known about a failed attempt, for the audit trail. */
export class ClientAuthenticationFailed extends OAuthError {
  constructor(
    base: OAuthError,
    readonly known: { orgId: string | null; agentId: string | null },
  ) {
    super(base.error, base.message, base.status);
  }
}


/**
 * client_secret_basic / client_secret_post (RFC 6749 §2.3.1). The secret's public part
 * finds the credential; its keyed hash is compared in constant time; an unknown client id,
 * a wrong secret, an expired or a revoked credential all fail the same way, after the same
 * work. Only with a correct secret does a suspended agent learn that it is suspended.
 */
export class ClientAuthenticator {
  /** The token requests of one event-loop turn look their credentials up in one call. */
  private readonly credentials: TurnBatch<CredentialRow>;

  constructor(
    private readonly db: Database,
    private readonly uses: UseRecorder,
    private readonly hasher: SecretHasher,
  ) {
    this.credentials = new TurnBatch(async (lookups) => {
      const rows = await db.callFunction<CredentialRow>('SELECT * FROM mandate_find_client_credentials($1)', [lookups]);
      return new Map(rows.map((row) => [row.matched_lookup, row]));
    });
  }

  async authenticate(clientId: string, secret: string): Promise<AuthenticatedClient> {
    // A malformed secret still costs a lookup (of nothing), so it answers in the same time class.
    const row = await this.credentials.get(this.hasher.lookupOf('clientSecret', secret) ?? '');
    const matches = this.hasher.verify(secret, row === undefined ? null : Buffer.from(row.secret_hash));
    const now = Date.now();
    if (
      row === undefined ||
      !matches ||
      row.agent_id !== clientId ||
      row.revoked_at !== null ||
      (row.expires_at !== null && row.expires_at.getTime() <= now)
    ) {
      // Every failure looks the client id up, known or not, so the answer's timing tells nothing
      // (an id PostgreSQL cannot store is no agent's).
      const [agent] = await this.db.callFunction<{ org_id: string | null }>('SELECT * FROM mandate_org_of_agent($1)', [isUnstorable(clientId) ? '' : clientId]);
      const orgId = agent?.org_id ?? null;
      throw new ClientAuthenticationFailed(invalidClient(), { orgId, agentId: orgId === null ? null : clientId });
    }
    if (row.agent_status !== 'active') {
      throw new ClientAuthenticationFailed(new OAuthError('unauthorized_client', `The agent is ${row.agent_status}.`), {
        orgId: row.org_id,
        agentId: row.agent_id,
      });
    }
    this.uses.record(row.credential_id);
    return { agentId: row.agent_id, orgId: row.org_id, credentialId: row.credential_id, allowedScopes: row.allowed_scopes, method: 'client_secret', dpopRequired: row.dpop_required };
  }
}
