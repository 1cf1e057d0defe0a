/**
 * Text PostgreSQL cannot store as sent: U+0000 (refused by text and jsonb) and lone UTF-16
 * surrogates (silently replaced when encoded).
 */
export const isUnstorable = (text: string): boolean => text.includes('\u0000') || !text.isWellFormed();

// eslint-disable-next-line no-control-regex -- NUL is exactly what this finds
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The text with each unstorable character written out as a visible `\uXXXX` escape. */
export function storableText(text: string): string {
  return isUnstorable(text) ? text.replace(UNSTORABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : text;
}

/** A JSON value with every string, keys included, made storable (server-built, so shallow). */
export function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, child]) => [storableText(key), storableJson(child)]));
}
