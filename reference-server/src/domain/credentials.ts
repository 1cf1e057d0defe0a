import type { Sql } from '../store/database';
import { type CredentialRecord, credentialStore } from '../store/credentials';
import type { PageRequest } from '../store/page';
import { agentService, requireGrantable } from './agents';
import { conflict, fail, notFound } from './errors';
import { futureExpiry, lifecycleStatus } from './expiry';
import { newId } from './ids';
import type { SecretHasher } from './secrets';

/** Enough for overlapping rotations; more usually means secrets are being leaked or hoarded. */
export const MAX_ACTIVE_CREDENTIALS = 10;

export interface CredentialInput {
  label?: string;
  expiresAt?: string;
}

export interface IssuedCredential {
  record: CredentialRecord;
  secret: string;
}

const credentialNotFound = (id: string) => notFound('CREDENTIAL_NOT_FOUND', `No credential ${id} for this agent.`);

/** Who asks for a secret, and which scopes are Mandate's own (see requireGrantable). */
export interface SecretRequester {
  scopes: ReadonlySet<string>;
  mandateScopes: ReadonlySet<string>;
}

/**
 * The agent must be able to hold credentials (existing, not decommissioned), and the caller
 * must hold the agent's Mandate scopes: a secret lets its holder act as the agent.
 */
export async function requireIssuable(sql: Sql, orgId: string, agentId: string, requester: SecretRequester): Promise<void> {
  const agent = await agentService.get(sql, orgId, agentId, { forUpdate: true });
  requireGrantable(agent.allowedScopes, requester.scopes, requester.mandateScopes);
  if (agent.status === 'decommissioned') {
    throw conflict('AGENT_DECOMMISSIONED', `Agent ${agentId} is decommissioned and cannot hold credentials.`);
  }
}

export const credentialService = {
  async create(sql: Sql, hasher: SecretHasher, requester: SecretRequester, orgId: string, agentId: string, input: CredentialInput): Promise<IssuedCredential> {
    const expiresAt = futureExpiry(input.expiresAt, 'body.expiresAt');
    await requireIssuable(sql, orgId, agentId, requester);
    if ((await credentialStore.countActive(sql, orgId, agentId)) >= MAX_ACTIVE_CREDENTIALS) {
      throw conflict('CREDENTIAL_LIMIT_REACHED', `An agent can hold at most ${MAX_ACTIVE_CREDENTIALS} active credentials; revoke one first.`);
    }
    const secret = hasher.issue('clientSecret');
    const record = await credentialStore.insert(sql, {
      id: newId('cred'),
      orgId,
      agentId,
      label: input.label ?? null,
      lookup: secret.lookup,
      hash: secret.hash,
      expiresAt,
    });
    return { record, secret: secret.value };
  },

  async list(sql: Sql, orgId: string, agentId: string, page: PageRequest) {
    await agentService.get(sql, orgId, agentId);
    return credentialStore.list(sql, orgId, agentId, page);
  },

  async get(sql: Sql, orgId: string, agentId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<CredentialRecord> {
    await agentService.get(sql, orgId, agentId);
    return (await credentialStore.find(sql, orgId, agentId, id, options)) ?? fail(credentialNotFound(id));
  },

  /** New secret, same id; the old secret stops working when this commits. */
  async rotate(sql: Sql, hasher: SecretHasher, requester: SecretRequester, orgId: string, agentId: string, id: string): Promise<IssuedCredential> {
    await requireIssuable(sql, orgId, agentId, requester);
    const credential = (await credentialStore.find(sql, orgId, agentId, id, { forUpdate: true })) ?? fail(credentialNotFound(id));
    const status = lifecycleStatus(credential);
    if (status !== 'active') throw conflict('CREDENTIAL_NOT_ACTIVE', `Credential ${id} is ${status} and cannot be rotated.`);
    const secret = hasher.issue('clientSecret');
    const record = await credentialStore.replaceSecret(sql, orgId, id, secret);
    return { record, secret: secret.value };
  },

  /** Revokes unless already revoked; `changed` tells which. */
  async revoke(sql: Sql, orgId: string, agentId: string, id: string): Promise<{ credential: CredentialRecord; changed: boolean }> {
    const before = await this.get(sql, orgId, agentId, id, { forUpdate: true });
    if (before.revokedAt !== null) return { credential: before, changed: false };
    return { credential: await credentialStore.revoke(sql, orgId, id), changed: true };
  },
};
