/** The error codes of RFC 6749 §5.2, RFC 8707, RFC 7009, RFC 8628 §3.5 and RFC 9449, and Mandate's rate limit and quota refusals. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_token_type'
  | 'authorization_pending'
  | 'slow_down'
  | 'access_denied'
  | 'expired_token'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'too_many_requests'
  | 'quota_exceeded';

/** An OAuth endpoint failure; the HTTP layer answers it as `{ error, error_description }`. */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    description: string,
    readonly status: 400 | 401 | 403 | 429 = error === 'invalid_client' ? 401 : error === 'too_many_requests' ? 429 : 400,
    /** Members beside `error` and `error_description`, such as `quota`. */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

export const invalidRequest = (description: string): OAuthError => new OAuthError('invalid_request', description);
/** One message for every client authentication failure: wrong id and wrong secret look alike. */
export const invalidClient = (): OAuthError => new OAuthError('invalid_client', 'Client authentication failed.');
