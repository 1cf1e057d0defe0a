import { newId } from './domain/ids';
import type { SecretHasher } from './domain/secrets';
import type { Database } from './store/database';
import { adminTokenStore } from './store/admin-tokens';

export type BootstrapResult =
  | { created: false }
  | { created: true; tokenId: string; generatedToken: string | null };

/**
 * Creates the instance-admin token on first start only: the preset token when the operator
 * gave one (automation), otherwise a generated one the caller prints once. Runs under the
 * schema advisory lock, and the instance_state row records that it happened, so restarts
 * and instances starting together never create a second one.
 */
export async function bootstrapInstanceAdmin(db: Database, hasher: SecretHasher, presetToken: string | null): Promise<BootstrapResult> {
  return db.ownerTransaction(async (sql) => {
    const [state] = await sql.query<{ bootstrappedAt: Date | null }>(
      'SELECT bootstrapped_at AS "bootstrappedAt" FROM instance_state FOR UPDATE',
    );
    if (state?.bootstrappedAt !== null) return { created: false };
    const secret = presetToken === null ? hasher.issue('adminToken') : hasher.describe('adminToken', presetToken);
    const token = await adminTokenStore.insert(sql, {
      id: newId('tok'),
      orgId: null,
      role: 'admin',
      label: 'instance-admin (bootstrap)',
      lookup: secret.lookup,
      hash: secret.hash,
      expiresAt: null,
    });
    await sql.query('UPDATE instance_state SET bootstrapped_at = now()');
    return { created: true, tokenId: token.id, generatedToken: presetToken === null ? secret.value : null };
  });
}
