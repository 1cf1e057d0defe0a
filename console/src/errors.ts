import { APIConnectionError, APIError, MandateError } from '@mandate/sdk';

/** A sentence for a person, from whatever a call threw. */
export function describeError(error: unknown): string {
  if (error instanceof APIError) {
    const body = error.body as { detail?: unknown; error_description?: unknown } | null | undefined;
    const detail = typeof body?.detail === 'string' ? body.detail : typeof body?.error_description === 'string' ? body.error_description : undefined;
    const code = error.code === undefined ? '' : ` (${error.code})`;
    return `${detail ?? `The server answered ${error.status}.`}${code}`;
  }
  if (error instanceof APIConnectionError) return 'The server could not be reached. Check the connection and try again.';
  if (error instanceof MandateError) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}
