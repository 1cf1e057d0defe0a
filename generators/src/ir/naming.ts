import type { Name } from './types';

/**
 * Splits an identifier of any casing into lower-case words: `auditEvents`, `AuditEvents`,
 * `audit_events` and `audit-events` all give ["audit", "events"]; `nextCursor` gives
 * ["next", "cursor"]; `client_id` gives ["client", "id"]. A capital run before a capital
 * followed by lower case splits there (`HTTPStatus` → http, status).
 */
export function words(identifier: string): Name {
  return identifier
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word.length > 0)
    .map((word) => word.toLowerCase());
}

/** Words whose capitalized form is not just an upper-case first letter. */
const SPELLINGS: Readonly<Record<string, string>> = { oauth: 'OAuth' };

const capitalize = (word: string): string => SPELLINGS[word] ?? word.charAt(0).toUpperCase() + word.slice(1);

export const camel = (name: Name): string => name.map((w, i) => (i === 0 ? w : capitalize(w))).join('');
export const pascal = (name: Name): string => name.map(capitalize).join('');
export const snake = (name: Name): string => name.join('_');
export const screamingSnake = (name: Name): string => name.join('_').toUpperCase();
export const kebab = (name: Name): string => name.join('-');
