import { createHmac, randomBytes } from 'node:crypto';

/**
 * Webhook signatures in the Standard Webhooks form (https://www.standardwebhooks.com), so
 * receivers can verify them with any of that project's libraries instead of ours.
 */

const SECRET_PREFIX = 'whsec_';
const SIGNATURE_VERSION = 'v1';
/** Strict base64 with padding: Buffer's decoder skips stray characters, which would hide a corrupt secret. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export type SignatureHeaders = Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>;

/** A new endpoint secret: `whsec_` and the standard base64 of 256 random bits. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The HMAC key inside a `whsec_` secret; throws on anything else, as a stored secret is never user input. */
function keyOf(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : '';
  if (encoded === '' || !BASE64.test(encoded)) throw new Error('A webhook secret must be whsec_ followed by base64.');
  return Buffer.from(encoded, 'base64');
}

/**
 * The three headers of one delivery. `secrets` lists the current secret first, then any
 * previous one still in its rotation grace period: a receiver that knows either accepts the
 * message, since verifiers look for any matching `v1,` entry. The timestamp is whole seconds
 * (rounded down, as verifiers do), and the body is signed exactly as it is sent.
 */
export function signatureHeaders(input: { id: string; timestamp: Date; body: string; secrets: string[] }): SignatureHeaders {
  const { id, timestamp, body, secrets } = input;
  const seconds = Math.floor(timestamp.getTime() / 1000);
  if (!Number.isFinite(seconds)) throw new Error('The webhook timestamp is not a valid date.');
  // A dot would let one signed string be split into another id, timestamp and body; a
  // space or line break would break the header.
  if (!/^[!-~]+$/.test(id) || id.includes('.')) throw new Error('A webhook id must be printable ASCII without spaces or dots.');
  if (secrets.length === 0) throw new Error('A webhook is signed with at least one secret.');

  const content = Buffer.from(`${id}.${seconds}.${body}`, 'utf8');
  const signatures = secrets.map((secret) => `${SIGNATURE_VERSION},${createHmac('sha256', keyOf(secret)).update(content).digest('base64')}`);
  return { 'webhook-id': id, 'webhook-timestamp': String(seconds), 'webhook-signature': signatures.join(' ') };
}
