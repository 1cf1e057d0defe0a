import { badRequest } from '../domain/errors';

/**
 * Cursors are opaque to clients: the last id of the page, versioned and base64url-encoded,
 * so the encoding can change without breaking stored cursors' validation.
 */
export function encodeCursor(lastId: string | null): string | null {
  return lastId === null ? null : Buffer.from(`v1:${lastId}`).toString('base64url');
}

export function decodeCursor(cursor: unknown, idPrefix: string): string | null {
  if (cursor === undefined) return null;
  const text = Buffer.from(typeof cursor === 'string' ? cursor : '', 'base64url').toString('utf8');
  const id = text.startsWith('v1:') ? text.slice(3) : '';
  if (!new RegExp(`^${idPrefix}_[0-9a-z]{26}$`).test(id)) {
    throw badRequest('INVALID_CURSOR', 'The cursor is not one this list returned.', [
      { field: 'query.cursor', code: 'cursor', message: 'is not a valid cursor for this list' },
    ]);
  }
  return id;
}
