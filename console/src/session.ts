// The console's session with the server (reference-server/src/http/console-session.ts). These
// three calls are the only HTTP the console writes by hand: they are the console's own
// endpoints, not part of the API in spec/. The admin token goes to the server once, in the
// sign-in request body; what comes back is an httpOnly cookie (which scripts cannot read)
// and a CSRF token that lives in memory only. Nothing is written to browser storage.

export type Role = 'admin' | 'writer' | 'reader';

export interface Principal {
  id: string;
  /** null for an instance administrator, who picks an organization to act in. */
  orgId: string | null;
  role: Role;
}

export interface Session {
  csrfToken: string;
  principal: Principal;
}

const SESSION_PATH = '/console/session';

export class SessionError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

/** The session of this browser's cookie, or null when there is none (or it expired). */
export async function currentSession(): Promise<Session | null> {
  const response = await fetch(SESSION_PATH, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (response.status === 401) return null;
  if (!response.ok) throw new SessionError(await problemDetail(response), response.status);
  return parseSession(await response.json());
}

/** Exchanges an admin API token for a session cookie. */
export async function signIn(token: string): Promise<Session> {
  const response = await fetch(SESSION_PATH, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (!response.ok) throw new SessionError(await problemDetail(response), response.status);
  return parseSession(await response.json());
}

export async function signOut(csrfToken: string): Promise<void> {
  const response = await fetch(SESSION_PATH, { method: 'DELETE', credentials: 'same-origin', headers: { 'x-csrf-token': csrfToken } });
  // 401: the session had already ended, which is what signing out wants.
  if (!response.ok && response.status !== 401) throw new SessionError(await problemDetail(response), response.status);
}

function parseSession(body: unknown): Session {
  const value = body as Partial<Session> | null;
  const principal = value?.principal;
  if (typeof value?.csrfToken !== 'string' || principal === undefined || typeof principal.id !== 'string') {
    throw new SessionError('The server answered the sign-in with an unexpected body.', 500);
  }
  return { csrfToken: value.csrfToken, principal: { id: principal.id, orgId: principal.orgId ?? null, role: principal.role } };
}

/** The problem document's detail (RFC 9457), else the status line. */
async function problemDetail(response: Response): Promise<string> {
  try {
    const problem = (await response.json()) as { detail?: unknown; title?: unknown };
    if (typeof problem.detail === 'string') return problem.detail;
    if (typeof problem.title === 'string') return problem.title;
  } catch {
    // Not JSON: the status says enough.
  }
  return `The server answered ${response.status} ${response.statusText}`.trim();
}
