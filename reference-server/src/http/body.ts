import type { IncomingMessage } from 'node:http';
import { ApiError, type FieldProblem, badRequest, validationError } from '../domain/errors';

export const payloadTooLarge = (limit: number): ApiError =>
  new ApiError(413, 'PAYLOAD_TOO_LARGE', 'Request body too large', `The body exceeds ${limit} bytes.`);

const unsupportedMediaType = (): ApiError =>
  new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Send the body as application/json.');

/** Reads the raw body, refusing it as soon as it passes `limit` bytes. */
export async function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw payloadTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.destroy();
      throw payloadTooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const isJson = (contentType: string | undefined): boolean => {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
};

/** Parses a JSON body; `undefined` when the request has none. */
export function parseJsonBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  if (!isJson(contentType)) throw unsupportedMediaType();
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw badRequest('INVALID_JSON', 'The body is not valid UTF-8.');
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest('INVALID_JSON', `The body is not valid JSON: ${(error as Error).message}`);
  }
  const unstorable = unstorableStrings(body, 'body');
  if (unstorable.length > 0) throw validationError(unstorable);
  return body;
}

/**
 * Strings PostgreSQL cannot store as sent: U+0000 (refused by text and jsonb) and lone
 * UTF-16 surrogates (silently replaced when encoded). Refused up front, with their place.
 */
function unstorableStrings(value: unknown, field: string): FieldProblem[] {
  const bad = (text: string): boolean => text.includes('\u0000') || !text.isWellFormed();
  if (typeof value === 'string') {
    return bad(value) ? [{ field, code: 'characters', message: 'must not contain NUL characters or lone surrogates' }] : [];
  }
  if (typeof value !== 'object' || value === null) return [];
  const entries = Array.isArray(value) ? value.map((item, index) => [String(index), item] as const) : Object.entries(value);
  return entries.flatMap(([key, child]) =>
    bad(key)
      ? [{ field: `${field}.${key.toWellFormed().replaceAll('\u0000', '?')}`, code: 'characters', message: 'key must not contain NUL characters or lone surrogates' }]
      : unstorableStrings(child, `${field}.${key}`),
  );
}
