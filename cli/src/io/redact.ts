/**
 * Secrets never reach stderr or a debug log. Two nets: values that look like Mandate secrets
 * or JWTs are masked wherever they appear in text, and fields whose name says "secret" are
 * masked in structured data (headers, JSON and form bodies), whatever their value looks like.
 */

const MASK = '[redacted]';

// Admin tokens, client secrets and registration tokens keep their public display prefix
// (the 8 characters after `mdt_xxx_` that the API itself shows) so a reader can tell which.
const MANDATE_SECRET = /\b(mdt_(?:pat|sk|rat)_[A-Za-z0-9_-]{0,8})[A-Za-z0-9_-]*/g;
const WEBHOOK_SECRET = /\bwhsec_[A-Za-z0-9+/=]+/g;
// Three base64url parts, the first a JSON header: an access token, an assertion, a proof.
const JWT = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

export function redactText(text: string): string {
  return text
    .replace(MANDATE_SECRET, (_match, prefix: string) => `${prefix}…${MASK}`)
    .replace(WEBHOOK_SECRET, `whsec_…${MASK}`)
    .replace(JWT, `eyJ…${MASK}`);
}

const SENSITIVE_NAME = /^(authorization|proxy-authorization|cookie|set-cookie|dpop|secret|client_secret|clientsecret|token|access_token|refresh_token|subject_token|actor_token|assertion|client_assertion|device_code|password|private_?key|d|p|q|dp|dq|qi|k)$/i;

export const isSensitiveName = (name: string): boolean => SENSITIVE_NAME.test(name);

/** A deep copy of JSON data with every sensitive field masked and every string scanned. */
export function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = isSensitiveName(key) ? MASK : redactValue(inner);
    return out;
  }
  return value;
}

/** Headers as a plain record, sensitive ones masked. */
export function redactHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = isSensitiveName(name) ? MASK : redactText(value);
  });
  return out;
}

/** A URL with sensitive query parameters (the event stream's `access_token`) masked. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    for (const name of [...parsed.searchParams.keys()]) if (isSensitiveName(name)) parsed.searchParams.set(name, MASK);
    return redactText(parsed.toString());
  } catch {
    return redactText(url);
  }
}

/** A request body as the debug log shows it: JSON and forms field by field, anything else by size. */
export function redactBody(body: string, contentType: string | null): string {
  if (contentType?.includes('application/json') === true) {
    try {
      return JSON.stringify(redactValue(JSON.parse(body)));
    } catch {
      return `<${body.length} bytes>`;
    }
  }
  if (contentType?.includes('application/x-www-form-urlencoded') === true) {
    const form = new URLSearchParams(body);
    const shown = new URLSearchParams();
    form.forEach((value, name) => {
      shown.append(name, isSensitiveName(name) ? MASK : redactText(value));
    });
    return shown.toString();
  }
  return `<${body.length} bytes>`;
}
