import type { ApiError } from '../domain/errors';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** RFC 9457 problem document for an ApiError. */
export function problemBody(error: ApiError, instance: string, requestId: string): Record<string, unknown> {
  return {
    type: `https://mandate.dev/problems/${error.code.toLowerCase().replace(/_/g, '-')}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    instance,
    code: error.code,
    requestId,
    ...(error.errors.length > 0 ? { errors: error.errors } : {}),
    ...error.extensions,
  };
}
