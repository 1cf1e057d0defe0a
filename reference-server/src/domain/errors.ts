/** A field-level validation problem, as reported in a problem document's `errors`. */
export interface FieldProblem {
  field: string;
  code: string;
  message: string;
}

/**
 * An error with a stable code that the HTTP layer renders as RFC 9457 problem+json.
 * Domain code throws these; it never deals with HTTP itself.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly errors: FieldProblem[] = [],
    readonly headers: Record<string, string> = {},
    /** Extension members of the problem document (RFC 9457 §3.2), such as `quota`. */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export const notFound = (code: string, detail: string): ApiError => new ApiError(404, code, 'Not found', detail);

export const conflict = (code: string, detail: string): ApiError =>
  new ApiError(409, code, 'Conflict with the current state', detail);

export const forbidden = (code: string, detail: string): ApiError => new ApiError(403, code, 'Not permitted', detail);

export const badRequest = (code: string, detail: string, errors: FieldProblem[] = []): ApiError =>
  new ApiError(400, code, 'The request is invalid', detail, errors);

export const validationError = (errors: FieldProblem[]): ApiError =>
  badRequest(
    'VALIDATION_ERROR',
    errors.length === 1 && errors[0] ? `${errors[0].field} ${errors[0].message}` : `${errors.length} fields are invalid.`,
    errors,
  );

/** 401 with an RFC 6750 §3 challenge; no error code when no credentials were sent at all. */
export const unauthorized = (code: string, detail: string, credentialsSent: boolean): ApiError =>
  new ApiError(401, code, 'Authentication failed', detail, [], {
    'WWW-Authenticate': credentialsSent ? 'Bearer realm="mandate", error="invalid_token"' : 'Bearer realm="mandate"',
  });

/** Throws in expression position: `(await find()) ?? fail(notFound(…))`. */
export function fail(error: ApiError): never {
  throw error;
}
