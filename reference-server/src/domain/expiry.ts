import { validationError } from './errors';

/** Parses an optional future expiry from a request, or explains why it is refused. */
export function futureExpiry(value: string | undefined, field: string, now: Date = new Date()): Date | null {
  if (value === undefined) return null;
  const expiresAt = new Date(value);
  if (expiresAt.getTime() <= now.getTime()) {
    throw validationError([{ field, code: 'future', message: 'must be in the future' }]);
  }
  return expiresAt;
}

export type LifecycleStatus = 'active' | 'expired' | 'revoked';

export function lifecycleStatus(record: { revokedAt: Date | null; expiresAt: Date | null }, now: Date = new Date()): LifecycleStatus {
  if (record.revokedAt !== null) return 'revoked';
  if (record.expiresAt !== null && record.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}
