/** True when `error` is PostgreSQL's unique violation on the named constraint or index. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, constraint: name, message } = error as { code?: string; constraint?: string; message?: string };
  // pg exposes the constraint name; PGlite only puts it in the message.
  return code === '23505' && (name === constraint || (message ?? '').includes(`"${constraint}"`));
}
