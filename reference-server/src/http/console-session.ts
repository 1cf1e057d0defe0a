import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import { ApiError, forbidden, unauthorized } from '../domain/errors';
import type { Principal } from '../domain/principal';
import type { Authenticator } from './authenticate';
import { type BodyLimits, parseJsonBody, readRawBody } from './body';
import { proofContext, requestInfo } from './router';

/**
 * The console's sessions, a backend for the browser: the operator signs in with an admin
 * token once; the server seals it (AES-256-GCM, under a key derived from the pepper, so
 * every instance can open it) into an httpOnly, SameSite=Strict cookie scoped to /console,
 * and `/console/api/…` calls the management API with it. The token never reaches script or
 * browser storage, every call is authenticated anew (a revoked token ends the session at
 * once), and the API itself keeps one way in: the Authorization header.
 *
 * Cross-site requests: SameSite=Strict keeps the cookie off them; besides, an unsafe method
 * needs the CSRF token (an HMAC of the cookie, which a page of another origin cannot read)
 * in X-CSRF-Token, and a request from another Origin is refused outright.
 */
export const SESSION_COOKIE = 'mandate_console';
const SESSION_PATH = '/console';
const API_PREFIX = '/console/api/';
const SESSION_SECONDS = 8 * 3600;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface ConsoleSessionDeps {
  authenticator: Authenticator;
  /** A key derived from the pepper (SecretHasher.derive), so every instance opens every session. */
  key: string;
  issuer: string;
  bodyLimits: BodyLimits;
}

interface Sealed {
  token: string;
  /** Seconds since the epoch when the session ends, whatever the cookie's Max-Age says. */
  exp: number;
}

const csrfRejected = (detail: string): ApiError => forbidden('CSRF_REJECTED', detail);
const noSession = (): ApiError => unauthorized('AUTHENTICATION_REQUIRED', 'No console session: sign in with an admin API token.', false);

export class ConsoleSessions {
  private readonly sealKey: Buffer;
  private readonly csrfKey: Buffer;

  constructor(private readonly deps: ConsoleSessionDeps) {
    this.sealKey = createHash('sha256').update(`seal:${deps.key}`).digest();
    this.csrfKey = createHash('sha256').update(`csrf:${deps.key}`).digest();
  }

  /** The session routes and the API passage, before the router. */
  middleware(): Middleware {
    // Not async: the API's other requests pass on without an extra promise.
    return (ctx: Context, next: Next) => {
      if (ctx.path === `${SESSION_PATH}/session`) return this.session(ctx);
      if (ctx.path.startsWith(API_PREFIX)) this.toApi(ctx);
      return next();
    };
  }

  private async session(ctx: Context): Promise<void> {
    if (ctx.method === 'POST') {
      this.requireSameOrigin(ctx);
      const body = parseJsonBody(await readRawBody(ctx.req, this.deps.bodyLimits), ctx.get('content-type')) as { token?: unknown } | undefined;
      const token = typeof body?.token === 'string' ? body.token.trim() : '';
      if (token === '') throw new ApiError(400, 'VALIDATION_ERROR', 'The request is invalid', 'token: an admin API token is required.');
      const principal = await this.deps.authenticator.authenticate(`Bearer ${token}`, requestInfo(ctx), proofContext(ctx, this.deps.issuer));
      if (principal.kind !== 'admin_token') throw unauthorized('INVALID_TOKEN', 'The console signs in with an admin API token, not an agent token.', true);
      const cookie = this.seal({ token, exp: Math.floor(Date.now() / 1000) + SESSION_SECONDS });
      ctx.cookies.set(SESSION_COOKIE, cookie, {
        path: SESSION_PATH,
        httpOnly: true,
        sameSite: 'strict',
        secure: this.deps.issuer.startsWith('https:'),
        maxAge: SESSION_SECONDS * 1000,
        overwrite: true,
      });
      ctx.set('Cache-Control', 'no-store');
      ctx.body = this.describe(cookie, principal);
    } else if (ctx.method === 'GET') {
      const { cookie, sealed } = this.current(ctx);
      const principal = await this.deps.authenticator.authenticate(`Bearer ${sealed.token}`, requestInfo(ctx), proofContext(ctx, this.deps.issuer));
      ctx.set('Cache-Control', 'no-store');
      ctx.body = this.describe(cookie, principal);
    } else if (ctx.method === 'DELETE') {
      this.requireSameOrigin(ctx);
      const { cookie } = this.current(ctx);
      this.requireCsrf(ctx, cookie);
      ctx.cookies.set(SESSION_COOKIE, '', { path: SESSION_PATH, httpOnly: true, sameSite: 'strict', maxAge: 0, overwrite: true });
      ctx.status = 204;
    } else {
      ctx.set('Allow', 'GET, POST, DELETE');
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed', `${ctx.method} is not allowed on ${ctx.path}.`);
    }
  }

  /** Turns `/console/api/v1/…` with a session into `/v1/…` with the session's token. */
  private toApi(ctx: Context): void {
    this.requireSameOrigin(ctx);
    const { cookie, sealed } = this.current(ctx);
    if (!SAFE_METHODS.has(ctx.method)) this.requireCsrf(ctx, cookie);
    ctx.path = `/${ctx.path.slice(API_PREFIX.length)}`;
    ctx.request.headers.authorization = `Bearer ${sealed.token}`;
  }

  private describe(cookie: string, principal: Principal) {
    return { csrfToken: this.csrfOf(cookie), principal: { id: principal.id, orgId: principal.orgId, role: principal.role } };
  }

  private current(ctx: Context): { cookie: string; sealed: Sealed } {
    const cookie = ctx.cookies.get(SESSION_COOKIE);
    const sealed = cookie === undefined ? null : this.open(cookie);
    if (cookie === undefined || sealed === null) throw noSession();
    return { cookie, sealed };
  }

  /** A browser names the page's origin on cross-origin requests and on every POST; another origin is refused. */
  private requireSameOrigin(ctx: Context): void {
    const origin = ctx.get('origin');
    if (origin !== '' && origin !== new URL(this.deps.issuer).origin && origin !== `${ctx.protocol}://${ctx.host}`) {
      throw csrfRejected(`A request from ${origin.slice(0, 100)} may not use a console session.`);
    }
  }

  private requireCsrf(ctx: Context, cookie: string): void {
    const sent = Buffer.from(ctx.get('x-csrf-token'));
    const expected = Buffer.from(this.csrfOf(cookie));
    if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
      throw csrfRejected('This request needs the session\'s CSRF token in X-CSRF-Token.');
    }
  }

  private csrfOf(cookie: string): string {
    return createHmac('sha256', this.csrfKey).update(cookie).digest('base64url');
  }

  private seal(session: Sealed): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(session), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The session inside a cookie, or null when it is not one of ours or has ended. */
  private open(cookie: string): Sealed | null {
    try {
      const raw = Buffer.from(cookie, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const session = JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as Partial<Sealed>;
      if (typeof session.token !== 'string' || typeof session.exp !== 'number' || session.exp <= Date.now() / 1000) return null;
      return { token: session.token, exp: session.exp };
    } catch {
      return null;
    }
  }
}
