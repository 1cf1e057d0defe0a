/** Every error the SDK throws is a MandateError. */
export class MandateError extends Error {
  override name = 'MandateError';
}

/** The server answered with an error status. `code` is the problem `code` or the OAuth `error`. */
export class APIError extends MandateError {
  override name = 'APIError';
  readonly status: number;
  readonly code: string | undefined;
  readonly requestId: string | undefined;
  readonly headers: Headers;
  /** The parsed JSON body (a problem document or an OAuth error), or the raw text. */
  readonly body: unknown;

  constructor(status: number, body: unknown, headers: Headers) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
    this.headers = headers;
    this.code = field(body, 'code') ?? field(body, 'error');
    this.requestId = headers.get('x-request-id') ?? field(body, 'requestId');
  }
}

/** 400, 413, 415 and 422: the request is malformed, too large, of the wrong type, or a reused idempotency key. */
export class BadRequestError extends APIError {
  override name = 'BadRequestError';
}
/** 401: no, or a wrong, credential. */
export class AuthenticationError extends APIError {
  override name = 'AuthenticationError';
}
/** 403: the credential lacks a scope or may not touch this resource. */
export class PermissionDeniedError extends APIError {
  override name = 'PermissionDeniedError';
}
export class NotFoundError extends APIError {
  override name = 'NotFoundError';
}
export class ConflictError extends APIError {
  override name = 'ConflictError';
}
export class RateLimitError extends APIError {
  override name = 'RateLimitError';
}
/** 5xx. */
export class InternalServerError extends APIError {
  override name = 'InternalServerError';
}

/** No HTTP response: the connection failed or was reset. */
export class APIConnectionError extends MandateError {
  override name = 'APIConnectionError';
}

/** No HTTP response within the timeout. */
export class APITimeoutError extends APIConnectionError {
  override name = 'APITimeoutError';
}

const BY_STATUS: Record<number, new (status: number, body: unknown, headers: Headers) => APIError> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: BadRequestError,
  415: BadRequestError,
  422: BadRequestError,
  429: RateLimitError,
};

export function errorFor(status: number, body: unknown, headers: Headers): APIError {
  const ErrorClass = BY_STATUS[status] ?? (status >= 500 ? InternalServerError : APIError);
  return new ErrorClass(status, body, headers);
}

function field(body: unknown, key: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

function describe(status: number, body: unknown): string {
  const code = field(body, 'code') ?? field(body, 'error');
  const detail = field(body, 'detail') ?? field(body, 'error_description') ?? field(body, 'title');
  // Status 0: the SDK refused before sending anything (e.g. an unreadable federated token file).
  return [status === 0 ? undefined : String(status), code, detail].filter((part) => part !== undefined).join(' ');
}
