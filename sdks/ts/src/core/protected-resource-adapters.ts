/**
 * ProtectedResource for Koa, Express/Connect and fetch-style handlers. The frameworks are
 * described by the few members used (no dependency on them): any app whose context, request
 * and response have these members can use the middleware.
 */
import type { HeaderSource, ProtectedResource, ResourceDecision } from './protected-resource.js';
import type { AccessTokenClaims } from './verify.js';

/** The part of Koa's context the middleware uses. */
export interface KoaContextLike {
  method: string;
  url: string;
  /** Before any mounting rewrote `url`: the path the client requested (and proved). */
  originalUrl?: string;
  headers: HeaderSource;
  /** Node's request: its raw headers tell a header sent twice. */
  req?: { rawHeaders?: string[] };
  status: number;
  body: unknown;
  set(field: string, value: string): void;
  state: Record<string, unknown>;
}
export type KoaMiddleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void>;

/** The part of an Express (or Connect, or plain Node) request the middleware uses. */
export interface ExpressRequestLike {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers: HeaderSource;
  rawHeaders?: string[];
  /** Set to the verified claims. */
  mandate?: AccessTokenClaims;
}
/** The part of an Express (or Node) response the middleware uses. */
export interface ExpressResponseLike {
  statusCode: number;
  /** Express's per-response locals; created when absent (Connect). */
  locals?: Record<string, unknown>;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}
export type ExpressMiddleware = (req: ExpressRequestLike, res: ExpressResponseLike, next: (error?: unknown) => void) => void;

export type FetchHandler = (request: Request, claims: AccessTokenClaims) => Response | Promise<Response>;

export function koaAdapter(resource: ProtectedResource): KoaMiddleware {
  return async (ctx, next) => {
    const headers = fromRawHeaders(ctx.req?.rawHeaders) ?? ctx.headers;
    const decision = await resource.authenticate({ method: ctx.method, path: ctx.originalUrl ?? ctx.url, headers });
    if (!decision.ok) {
      ctx.status = decision.status;
      for (const [name, value] of Object.entries(decision.headers)) ctx.set(name, value);
      ctx.body = decision.body;
      return;
    }
    ctx.state.mandate = decision.claims;
    await next();
  };
}

export function expressAdapter(resource: ProtectedResource): ExpressMiddleware {
  return (req, res, next) => {
    const headers = fromRawHeaders(req.rawHeaders) ?? req.headers;
    resource.authenticate({ method: req.method ?? 'GET', path: req.originalUrl ?? req.url ?? '/', headers }).then(
      (decision) => {
        if (!decision.ok) {
          send(res, decision);
          return;
        }
        res.locals ??= {};
        res.locals.mandate = decision.claims;
        req.mandate = decision.claims;
        next();
      },
      (error: unknown) => {
        next(error);
      },
    );
  };
}

export function fetchAdapter(resource: ProtectedResource, handler: FetchHandler): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const decision = await resource.authenticate({ method: request.method, path: `${url.pathname}${url.search}`, headers: request.headers });
    if (decision.ok) return handler(request, decision.claims);
    return new Response(JSON.stringify(decision.body), { status: decision.status, headers: decision.headers });
  };
}

function send(res: ExpressResponseLike, decision: Extract<ResourceDecision, { ok: false }>): void {
  res.statusCode = decision.status;
  for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
  res.end(JSON.stringify(decision.body));
}

/** Node's raw headers as name → every value, so that a header sent twice is seen twice. */
function fromRawHeaders(raw: string[] | undefined): Record<string, string[]> | undefined {
  if (raw === undefined) return undefined;
  const headers: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    (headers[name] ??= []).push(raw[i + 1] ?? '');
  }
  return headers;
}
