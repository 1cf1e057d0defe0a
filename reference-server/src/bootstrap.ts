import { newId } from './domain/ids';
import { appendEvents, systemEvent } from './domain/audit';
import type { IssuedSecret, SecretHasher } from './domain/secrets';
import type { Database, Sql } from './store/database';
import { adminTokenStore } from './store/admin-tokens';

export type BootstrapResult =
  | { created: false }
  | { created: true; tokenId: string; generatedToken: string | null };

export class NotBootstrappedError extends Error {
  constructor() {
    super('This instance has not been started yet: start the server once, and it creates the first instance-admin token itself.');
    this.name = 'NotBootstrappedError';
  }
}

async function bootstrappedAt(sql: Sql): Promise<Date | null> {
  const [state] = await sql.query<{ bootstrappedAt: Date | null }>('SELECT bootstrapped_at AS "bootstrappedAt" FROM instance_state FOR UPDATE');
  return state?.bootstrappedAt ?? null;
}

function insertInstanceAdmin(sql: Sql, secret: Pick<IssuedSecret, 'lookup' | 'hash'>, label: string) {
  return adminTokenStore.insert(sql, { id: newId('tok'), orgId: null, role: 'admin', label, lookup: secret.lookup, hash: secret.hash, expiresAt: null });
}

/**
 * Creates the instance-admin token on first start only: the preset token when the operator
 * gave one (automation), otherwise a generated one the caller prints once. Runs under the
 * schema advisory lock, and the instance_state row records that it happened, so restarts
 * and instances starting together never create a second one.
 */
export async function bootstrapInstanceAdmin(db: Database, hasher: SecretHasher, presetToken: string | null): Promise<BootstrapResult> {
  return db.ownerTransaction(async (sql) => {
    if ((await bootstrappedAt(sql)) !== null) return { created: false };
    const secret = presetToken === null ? hasher.issue('adminToken') : hasher.describe('adminToken', presetToken);
    const token = await insertInstanceAdmin(sql, secret, 'instance-admin (bootstrap)');
    await sql.query('UPDATE instance_state SET bootstrapped_at = now()');
    return { created: true, tokenId: token.id, generatedToken: presetToken === null ? secret.value : null };
  });
}

/**
 * A further instance-admin token, minted from the server's own data for an operator who
 * lost the first one. The token and its audit event commit together on the instance chain.
 */
export async function mintInstanceAdminToken(db: Database, hasher: SecretHasher, label: string): Promise<{ tokenId: string; token: string }> {
  return db.ownerTransaction(async (sql) => {
    if ((await bootstrappedAt(sql)) === null) throw new NotBootstrappedError();
    const secret = hasher.issue('adminToken');
    const record = await insertInstanceAdmin(sql, secret, label);
    const metadata = { role: record.role, label: record.label, via: 'command line' };
    await appendEvents(sql, [systemEvent(null, 'admin_token.created', 'mandate-server admin-token create', { type: 'admin_token', id: record.id }, metadata)]);
    return { tokenId: record.id, token: secret.value };
  });
}
