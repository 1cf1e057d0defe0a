import type { Sql } from '../store/database';
import { type AdminRole, type AdminTokenRecord, adminTokenStore } from '../store/admin-tokens';
import type { PageRequest } from '../store/page';
import { fail, notFound } from './errors';
import { futureExpiry } from './expiry';
import { newId } from './ids';
import type { SecretHasher } from './secrets';

export interface AdminTokenInput {
  role: AdminRole;
  label: string;
  expiresAt?: string;
}

export const adminTokenService = {
  /** Mints a token; its value is returned once and only its keyed hash is stored. */
  async create(sql: Sql, hasher: SecretHasher, orgId: string, input: AdminTokenInput): Promise<{ record: AdminTokenRecord; token: string }> {
    const expiresAt = futureExpiry(input.expiresAt, 'body.expiresAt');
    const secret = hasher.issue('adminToken');
    const record = await adminTokenStore.insert(sql, {
      id: newId('tok'),
      orgId,
      role: input.role,
      label: input.label,
      lookup: secret.lookup,
      hash: secret.hash,
      expiresAt,
    });
    return { record, token: secret.value };
  },

  list(sql: Sql, orgId: string, page: PageRequest) {
    return adminTokenStore.list(sql, orgId, page);
  },

  /** Revokes unless already revoked; `changed` tells which. */
  async revoke(sql: Sql, orgId: string, tokenId: string): Promise<{ token: AdminTokenRecord; changed: boolean }> {
    const before =
      (await adminTokenStore.find(sql, orgId, tokenId)) ?? fail(notFound('ADMIN_TOKEN_NOT_FOUND', `No admin token ${tokenId} in this organization.`));
    if (before.revokedAt !== null) return { token: before, changed: false };
    return { token: await adminTokenStore.revoke(sql, orgId, tokenId), changed: true };
  },
};
