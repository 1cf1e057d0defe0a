import type { WebhookPayload } from '../generated/models.js';
import { MandateError } from './errors.js';
import { webCrypto } from './web-crypto.js';

/**
 * A delivery's headers: a fetch `Headers` (Fetch API servers, Deno, Bun, workers) or a plain
 * record such as Node's `req.headers`, whose names may be in any case.
 */
export type WebhookHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface WebhookVerifyOptions {
  /**
   * How far `webhook-timestamp` may be from now, in seconds, either way. Default 300. Older
   * deliveries are refused so that a captured one cannot be replayed later.
   */
  toleranceSeconds?: number;
  /** For tests: the current time, in milliseconds since the epoch (the client's `Clock` fits). */
  clock?: { now(): number };
}

export type WebhookVerificationFailure =
  | 'missing_header'
  | 'invalid_timestamp'
  | 'timestamp_out_of_tolerance'
  | 'invalid_signature'
  | 'invalid_payload';

/** A delivery that must not be trusted; `reason` says why. Answer it with a 4xx. */
export class WebhookVerificationError extends MandateError {
  override name = 'WebhookVerificationError';
  constructor(
    readonly reason: WebhookVerificationFailure,
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_TOLERANCE_SECONDS = 5 * 60;
const SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Verifies a webhook delivery (Standard Webhooks): the three `webhook-*` headers are present,
 * `webhook-timestamp` is within `toleranceSeconds` of now, and one `v1` signature of
 * `webhook-signature` is the HMAC-SHA256 of `<id>.<timestamp>.<body>` under one of the
 * secrets. Resolves to the parsed payload; rejects with a WebhookVerificationError.
 *
 * `payload` must be the body exactly as received: parsed and re-serialized JSON is not the
 * signed text. Pass several secrets while rotating; with or without the `whsec_` prefix. A
 * secret that is not base64 is a mistake in the receiver, not in the delivery: that throws a
 * plain MandateError, whatever the delivery.
 */
export async function verifyWebhook(
  payload: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  options: WebhookVerifyOptions = {},
): Promise<WebhookPayload> {
  const keys = decodeSecrets(secret);

  const id = requiredHeader(headers, 'webhook-id');
  const timestamp = requiredHeader(headers, 'webhook-timestamp');
  const signatures = requiredHeader(headers, 'webhook-signature');

  // Checked before any HMAC, so that stale or replayed deliveries cost nothing.
  if (!/^\d{1,15}$/.test(timestamp)) {
    throw new WebhookVerificationError('invalid_timestamp', 'webhook-timestamp is not an integer number of seconds');
  }
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  // Whole seconds, like the header, so that exactly `tolerance` away is still accepted.
  const now = Math.floor((options.clock?.now() ?? Date.now()) / 1000);
  if (Math.abs(now - Number(timestamp)) > tolerance) {
    throw new WebhookVerificationError('timestamp_out_of_tolerance', `webhook-timestamp is more than ${tolerance} s away from now`);
  }

  const body = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const prefix = new TextEncoder().encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);

  const received = v1Signatures(signatures);
  if (received.length > 0 && (await matchesAny(signed, received, keys))) return parsePayload(body);
  // Never say what the signature should have been: that would sign anything for anyone.
  throw new WebhookVerificationError('invalid_signature', 'No v1 signature in webhook-signature matches the secret');
}

function decodeSecrets(secret: string | readonly string[]): Uint8Array<ArrayBuffer>[] {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new MandateError('verifyWebhook needs at least one secret');
  return secrets.map((value, index) => {
    const trimmed = value.trim();
    const encoded = trimmed.startsWith(SECRET_PREFIX) ? trimmed.slice(SECRET_PREFIX.length) : trimmed;
    const key = BASE64.test(encoded) ? decodeBase64(encoded) : undefined;
    // The message names the secret by position only: it must never show up in a log.
    if (key === undefined || key.length === 0) throw new MandateError(`Webhook secret #${index + 1} is not whsec_ followed by base64`);
    return key;
  });
}

/** A header's value, trimmed; names match in any case, and repeated values are joined. */
function requiredHeader(headers: WebhookHeaders, name: string): string {
  let value: string | null | undefined;
  if (isHeaders(headers)) {
    value = headers.get(name);
  } else {
    const entry = Object.entries(headers).find(([key, found]) => key.toLowerCase() === name && found !== undefined)?.[1];
    value = typeof entry === 'string' || entry === undefined ? entry : entry.join(' ');
  }
  const trimmed = value?.trim();
  if (trimmed === undefined || trimmed === '') throw new WebhookVerificationError('missing_header', `The ${name} header is missing`);
  return trimmed;
}

/** By shape rather than `instanceof`: a framework may bring its own `Headers` class. */
function isHeaders(headers: WebhookHeaders): headers is Headers {
  return typeof (headers as { get?: unknown }).get === 'function';
}

/**
 * The `v1` signatures of a `webhook-signature` value, decoded; other versions are skipped.
 * Entries are space-separated; a trailing comma is dropped, as `Headers` and Node join a
 * repeated header with `, ` (base64 has no comma, so nothing real is lost).
 */
function v1Signatures(value: string): Uint8Array[] {
  const found: Uint8Array[] = [];
  for (const entry of value.split(/\s+/)) {
    const comma = entry.indexOf(',');
    if (comma === -1 || entry.slice(0, comma) !== 'v1') continue;
    const encoded = entry.slice(comma + 1).replace(/,+$/, '');
    const bytes = BASE64.test(encoded) ? decodeBase64(encoded) : undefined;
    if (bytes !== undefined) found.push(bytes);
  }
  return found;
}

async function matchesAny(signed: Uint8Array<ArrayBuffer>, received: Uint8Array[], keys: Uint8Array<ArrayBuffer>[]): Promise<boolean> {
  const subtle = (await webCrypto()).subtle;
  for (const key of keys) {
    const hmacKey = await subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const expected = new Uint8Array(await subtle.sign('HMAC', hmacKey, signed));
    if (received.some((signature) => constantTimeEqual(expected, signature))) return true;
  }
  return false;
}

/**
 * Compares every byte whatever the earlier ones were, so that the time taken does not tell
 * an attacker how much of a forged signature is right. Lengths are not secret (always 32).
 */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

/**
 * The envelope: a JSON object with `type` and `timestamp` strings and a `data` object, the
 * same rule in every Mandate SDK. `data`'s members are not checked (types are not checked at
 * run time here), and the object is kept whole: members this SDK version does not know stay.
 */
function parsePayload(body: Uint8Array): WebhookPayload {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw new WebhookVerificationError('invalid_payload', 'The body is not UTF-8 JSON');
  }
  if (!isObject(value) || typeof value.type !== 'string' || typeof value.timestamp !== 'string' || !isObject(value.data)) {
    throw new WebhookVerificationError('invalid_payload', 'The body is not a webhook envelope ({ type, timestamp, data })');
  }
  return value as unknown as WebhookPayload;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodeBase64(value: string): Uint8Array<ArrayBuffer> | undefined {
  let binary: string;
  try {
    binary = atob(value);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
