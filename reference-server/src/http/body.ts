import type { IncomingMessage } from 'node:http';
import { ApiError, type FieldProblem, badRequest, validationError } from '../domain/errors';
import { isUnstorable } from '../domain/text';

/** How much of a request body is read, and for how long. */
export interface BodyLimits {
  bytes: number;
  /** A body that has not fully arrived by then is refused (a client that stalls holds a socket). */
  timeoutMs: number;
}

/** How deep JSON bodies may nest; the spec's bodies need five levels. */
export const MAX_JSON_DEPTH = 32;

// The rest of a refused body is never read, so the connection cannot be reused.
const CLOSE = { Connection: 'close' };

export const payloadTooLarge = (limit: number): ApiError =>
  new ApiError(413, 'PAYLOAD_TOO_LARGE', 'Request body too large', `The body exceeds ${limit} bytes.`, [], CLOSE);

const bodyTimeout = (timeoutMs: number): ApiError =>
  new ApiError(408, 'BODY_TIMEOUT', 'Request body too slow', `The body did not arrive within ${timeoutMs / 1000} s.`, [], CLOSE);

const unsupportedMediaType = (): ApiError =>
  new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Send the body as application/json.');

/**
 * Reads the raw body, refusing it as soon as it passes the size limit or the deadline.
 * The request is left open rather than destroyed, so the refusal can still be answered.
 */
export function readRawBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limits.bytes) return Promise.reject(payloadTooLarge(limits.bytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: Error | null): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', finish);
      if (error === null) resolve(Buffer.concat(chunks));
      else reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limits.bytes) finish(payloadTooLarge(limits.bytes));
      else chunks.push(chunk);
    };
    const onEnd = (): void => { finish(null); };
    const timer = setTimeout(() => { finish(bodyTimeout(limits.timeoutMs)); }, limits.timeoutMs);
    req.on('data', onData).on('end', onEnd).on('error', finish);
  });
}

/**
 * Whether JSON text nests arrays and objects deeper than `limit`, found by counting
 * brackets outside strings: checked before parsing, so no later walk can overflow the stack.
 */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
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
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw badRequest('JSON_TOO_DEEP', `The body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep.`);
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

export const unstorableProblem = (field: string): FieldProblem => ({ field, code: 'characters', message: 'must not contain NUL characters or lone surrogates' });

/** Every string PostgreSQL could not store (see isUnstorable) in a parsed body (whose depth is already bounded), with its place. */
function unstorableStrings(value: unknown, field: string): FieldProblem[] {
  if (typeof value === 'string') return isUnstorable(value) ? [unstorableProblem(field)] : [];
  if (typeof value !== 'object' || value === null) return [];
  const entries = Array.isArray(value) ? value.map((item, index) => [String(index), item] as const) : Object.entries(value);
  return entries.flatMap(([key, child]) =>
    isUnstorable(key)
      ? [{ field: `${field}.${key.toWellFormed().replaceAll('\u0000', '?')}`, code: 'characters', message: 'key must not contain NUL characters or lone surrogates' }]
      : unstorableStrings(child, `${field}.${key}`),
  );
}
