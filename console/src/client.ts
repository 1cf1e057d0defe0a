import { Mandate } from '@mandate/sdk';

/** Where the server forwards the management API for a console session (cookie authenticated). */
export const API_BASE = '/console/api';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The fetch the SDK uses in the console: the session cookie authenticates (same origin only),
 * every unsafe method carries the CSRF token, and no Authorization header leaves the browser.
 */
export function consoleFetch(csrfToken: string, onSessionEnded: () => void): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.delete('authorization');
    const method = (init?.method ?? 'GET').toUpperCase();
    if (!SAFE_METHODS.has(method)) headers.set('x-csrf-token', csrfToken);
    const response = await fetch(input, { ...init, headers, credentials: 'same-origin' });
    // The cookie expired or was revoked: back to the sign-in page.
    if (response.status === 401) onSessionEnded();
    return response;
  };
}

/**
 * An SDK client for one session. It has no credential of its own (`apiToken: ''`): the cookie
 * is the credential. `organization` is the one an instance administrator picked.
 */
export function consoleClient(csrfToken: string, organization: string | undefined, onSessionEnded: () => void): Mandate {
  return new Mandate({
    baseURL: `${window.location.origin}${API_BASE}`,
    apiToken: '',
    organization,
    fetch: consoleFetch(csrfToken, onSessionEnded),
    // A person is waiting: one quick retry, then say what went wrong.
    maxRetries: 1,
    timeout: 30_000,
    logLevel: 'off',
  });
}
