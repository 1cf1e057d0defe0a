/** Plain-HTTP calls of the OAuth endpoints (form-encoded, RFC 6749), for tests. */
export interface OAuthResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export async function postForm(baseUrl: string, path: string, form: Record<string, string>, authorization?: string): Promise<OAuthResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (authorization !== undefined) headers.authorization = authorization;
  const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** A client_credentials token for an agent, with HTTP Basic authentication. */
export async function tokenFor(baseUrl: string, client: { clientId: string; secret: string }, form: Record<string, string> = {}): Promise<string> {
  const response = await postForm(baseUrl, '/oauth2/token', { grant_type: 'client_credentials', ...form }, basic(client.clientId, client.secret));
  if (response.status !== 200) throw new Error(`token request failed: ${JSON.stringify(response.body)}`);
  return response.body.access_token as string;
}

/** The decoded payload of a JWT, without verification (tests only). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}
