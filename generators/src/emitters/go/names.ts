import { words } from '../../ir/naming';
import type { Name } from '../../ir/types';

/**
 * Go spellings of words that Go writes as initialisms (Effective Go, "MixedCaps"): `orgId`
 * becomes `OrgID`, `jwks_uri` `JWKSURI`, the `oauth` resource `OAuth`.
 */
const INITIALISMS: Record<string, string> = {
  api: 'API',
  dsa: 'DSA',
  html: 'HTML',
  http: 'HTTP',
  https: 'HTTPS',
  id: 'ID',
  ip: 'IP',
  json: 'JSON',
  jti: 'JTI',
  jwk: 'JWK',
  jwks: 'JWKS',
  jwt: 'JWT',
  oauth: 'OAuth',
  openapi: 'OpenAPI',
  openid: 'OpenID',
  sql: 'SQL',
  ttl: 'TTL',
  uri: 'URI',
  url: 'URL',
  uuid: 'UUID',
};

const GO_KEYWORDS = new Set([
  'break', 'case', 'chan', 'const', 'continue', 'default', 'defer', 'else', 'fallthrough', 'for', 'func', 'go',
  'goto', 'if', 'import', 'interface', 'map', 'package', 'range', 'return', 'select', 'struct', 'switch', 'type', 'var',
]);

const exportedWord = (word: string): string => INITIALISMS[word] ?? word.charAt(0).toUpperCase() + word.slice(1);

/** An exported identifier: `["client", "id"]` → `ClientID`. */
export function exported(name: Name): string {
  const id = name.map(exportedWord).join('');
  if (id === '') return 'X';
  return /^[0-9]/.test(id) ? `X${id}` : id;
}

/** An unexported identifier (parameters): `["agent", "id"]` → `agentID`; keywords get a `_`. */
export function unexported(name: Name): string {
  const [first = 'x', ...rest] = name;
  const id = first + rest.map(exportedWord).join('');
  const safe = /^[0-9]/.test(id) ? `x${id}` : id;
  return GO_KEYWORDS.has(safe) ? `${safe}_` : safe;
}

/** A model's Go name from its PascalCase IR name: `AgentId` → `AgentID`, `JwkSet` → `JWKSet`. */
export const typeName = (modelName: string): string => exported(words(modelName));

/**
 * An enum constant's suffix: all-caps words keep their spelling (`ES256`, `RSA`), other values
 * are re-cased by words (`client_credentials` → `ClientCredentials`, `EdDSA` → `EdDSA`).
 */
export function enumValueName(value: string): string {
  if (/^[A-Z][A-Z0-9]*$/.test(value)) return value;
  const id = words(value).map(exportedWord).join('');
  return id === '' ? 'Empty' : id;
}

/** A Go string literal (JSON string syntax is valid Go for the characters the spec uses). */
export const goString = (value: string): string => JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
