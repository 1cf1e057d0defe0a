import { DPOP_ALGORITHMS, DpopProofChecker, InvalidDpopProof } from './dpop-verify.js';
import { MandateError } from './errors.js';
import type { Clock } from './options.js';
import { type ExpressMiddleware, type FetchHandler, type KoaMiddleware, expressAdapter, fetchAdapter, koaAdapter } from './protected-resource-adapters.js';
import { type AccessTokenClaims, JwksCache, TokenVerificationError, type VerificationFailure, verifyJwt } from './verify.js';

export interface ProtectedResourceOptions {
  /** The resource identifier (RFC 8707): an absolute http(s) URL without query or fragment, which a token's `aud` must contain. */
  resource: string;
  /** The Mandate server's issuer: tokens must be from it, and the metadata names it as the authorization server. */
  issuer: string;
  /** Default `<issuer>/.well-known/jwks.json`. */
  jwksUri?: string;
  /** Scopes every token must have; also the metadata's `scopes_supported`. */
  scopes?: string[];
  /** Accept only DPoP-bound tokens (RFC 9449). Default false. */
  dpopRequired?: boolean;
  /** A name for people, in the metadata (`resource_name`). */
  resourceName?: string;
  /** The clock of token and proof checks (`now()` in milliseconds); for tests. */
  clock?: Pick<Clock, 'now'>;
}

/**
 * Request headers, looked up case-insensitively: a fetch `Headers`, or a plain object such as
 * Node's `IncomingHttpHeaders` (a header sent more than once may be an array).
 */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export interface ResourceRequest {
  method: string;
  /** The request's path as received, which may include a query string. */
  path: string;
  headers: HeaderSource;
}

/**
 * The outcome of `authenticate`: the verified claims, for the protected handler; or a response
 * to send instead of calling it (a refusal, or the metadata document, which answers `GET` of
 * `metadataPath`). `body` is JSON.
 */
export type ResourceDecision =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; status: number; headers: Record<string, string>; body: Record<string, unknown> };

/** RFC 9728 §3: the metadata path is this, followed by the resource's path. */
const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** Fixed sentences per verification failure: the error's own message may quote the token's contents. */
const INVALID_TOKEN: Record<Exclude<VerificationFailure, 'jwks_unavailable'>, string> = {
  malformed: 'The access token is malformed.',
  unsupported_algorithm: 'The access token is signed with an algorithm that is not accepted.',
  invalid_type: 'The token is not an access token (typ at+jwt).',
  unknown_key: 'The access token is signed by an unknown key.',
  invalid_signature: 'The access token signature does not verify.',
  invalid_issuer: 'The access token is from another issuer.',
  invalid_audience: 'The access token is not for this resource.',
  expired: 'The access token has expired.',
  not_yet_valid: 'The access token is not valid yet.',
  missing_claim: 'The access token lacks a required claim.',
};

type Scheme = 'Bearer' | 'DPoP';

/**
 * Lets an HTTP service (an MCP server, an API) accept Mandate access tokens (RFC 6750, RFC
 * 8707, RFC 9449, RFC 9728): it publishes the resource's metadata, verifies each request's
 * token (signature, issuer, audience = `resource`, lifetime), its DPoP proof when the token is
 * bound to a key, and the required scopes, and answers refusals with the standard challenges.
 * Use `authenticate` from any server, or the `koa()`, `express()` and `fetch()` adapters.
 */
export class ProtectedResource {
  readonly resource: string;
  /** Where the metadata is served: `/.well-known/oauth-protected-resource` + the resource's path. */
  readonly metadataPath: string;
  /** The RFC 9728 metadata document. */
  readonly metadata: Record<string, unknown>;
  private readonly issuer: string;
  private readonly scopes: readonly string[];
  private readonly dpopRequired: boolean;
  private readonly origin: string;
  /** The metadata's absolute URL, named by every challenge. */
  private readonly metadataUrl: string;
  private readonly jwks: JwksCache;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly proofs: DpopProofChecker;

  constructor(options: ProtectedResourceOptions) {
    const url = resourceUrl(options.resource);
    if (typeof options.issuer !== 'string' || options.issuer === '') throw new MandateError('ProtectedResource needs the issuer of the tokens it accepts.');
    this.resource = options.resource;
    this.issuer = options.issuer;
    this.scopes = options.scopes ?? [];
    for (const scope of this.scopes) {
      if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)) throw new MandateError(`The scope ${JSON.stringify(scope)} is not a valid OAuth scope token.`);
    }
    this.dpopRequired = options.dpopRequired ?? false;
    this.origin = url.origin;
    this.metadataPath = url.pathname === '/' ? WELL_KNOWN : `${WELL_KNOWN}${url.pathname}`;
    this.metadataUrl = `${this.origin}${this.metadataPath}`;
    this.metadata = {
      resource: this.resource,
      authorization_servers: [this.issuer],
      ...(this.scopes.length > 0 ? { scopes_supported: [...this.scopes] } : {}),
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
      dpop_bound_access_tokens_required: this.dpopRequired,
      ...(options.resourceName === undefined ? {} : { resource_name: options.resourceName }),
    };
    this.clock = options.clock ?? { now: () => Date.now() };
    const jwksUri = options.jwksUri ?? `${this.issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;
    this.jwks = new JwksCache(jwksUri, (target) => globalThis.fetch(target), this.clock);
    this.proofs = new DpopProofChecker(() => this.clock.now());
  }

  /**
   * Decides one request: `{ ok: true, claims }` to call the protected handler with, or the
   * status, headers and JSON body to answer instead (a refusal, or the metadata document).
   */
  async authenticate(request: ResourceRequest): Promise<ResourceDecision> {
    const path = request.path.replace(/[?#].*$/, '') || '/';
    if (request.method.toUpperCase() === 'GET' && path === this.metadataPath) {
      return { ok: false, status: 200, headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' }, body: this.metadata };
    }
    const authorization = headerValues(request.headers, 'authorization');
    const presented = authorization.length === 1 ? /^(Bearer|DPoP)(?:[ \t]+(.*))?$/i.exec(authorization[0] ?? '') : null;
    const token = presented?.[2]?.trim() ?? '';
    if (presented === null || token === '') {
      const challenge = this.dpopRequired ? this.challenge('DPoP', [['algs', DPOP_ALGORITHMS.join(' ')]]) : this.challenge('Bearer', []);
      return this.refuse(401, challenge, 'missing_token', 'Send an access token in the Authorization header.');
    }
    const scheme: Scheme = presented[1]?.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';

    let claims: AccessTokenClaims;
    try {
      if (/[\s,]/.test(token)) throw new TokenVerificationError('malformed', 'whitespace in the token');
      claims = await verifyJwt(token, { issuer: this.issuer, audience: this.resource }, this.jwks, this.clock);
    } catch (error) {
      if (!(error instanceof TokenVerificationError)) throw error;
      if (error.reason === 'jwks_unavailable') {
        // Not the token's fault: a refusal here would make clients throw good tokens away.
        return { ok: false, status: 503, headers: { 'content-type': 'application/json', 'retry-after': '5' }, body: { error: 'temporarily_unavailable', error_description: 'The issuer keys cannot be loaded; try again shortly.' } };
      }
      return this.invalid(scheme, 'invalid_token', INVALID_TOKEN[error.reason]);
    }

    const cnf = claims.cnf;
    const jkt = typeof cnf === 'object' && cnf !== null && typeof (cnf as { jkt?: unknown }).jkt === 'string' ? (cnf as { jkt: string }).jkt : undefined;
    if (jkt !== undefined && scheme === 'Bearer') return this.invalidDpop('invalid_token', 'This access token is bound to a DPoP key: send it with the DPoP scheme and a proof.');
    if (jkt === undefined && scheme === 'DPoP') return this.invalidDpop('invalid_token', 'This access token is not bound to a DPoP key.');
    if (jkt === undefined && this.dpopRequired) return this.invalidDpop('invalid_token', 'This resource accepts only DPoP-bound access tokens.');
    if (jkt !== undefined) {
      try {
        await this.proofs.check(headerValues(request.headers, 'dpop'), { method: request.method, url: `${this.origin}${path}`, accessToken: token, jkt });
      } catch (error) {
        if (error instanceof InvalidDpopProof) return this.invalidDpop('invalid_dpop_proof', error.message);
        throw error;
      }
    }

    const granted = new Set(typeof claims.scope === 'string' ? claims.scope.split(' ') : []);
    if (this.scopes.some((scope) => !granted.has(scope))) {
      const challenge = this.challenge(scheme, [
        ['error', 'insufficient_scope'],
        ['error_description', 'The access token lacks a scope this resource requires.'],
        ['scope', this.scopes.join(' ')],
      ]);
      return this.refuse(403, challenge, 'insufficient_scope', 'The access token lacks a scope this resource requires.');
    }
    return { ok: true, claims };
  }

  /** Koa middleware: claims in `ctx.state.mandate`; serves the metadata path itself. */
  koa(): KoaMiddleware {
    return koaAdapter(this);
  }

  /** Express / Connect middleware: claims in `res.locals.mandate` and `req.mandate`; serves the metadata path itself. */
  express(): ExpressMiddleware {
    return expressAdapter(this);
  }

  /** Wraps a fetch-style handler, which gets `(request, claims)`; serves the metadata path itself. */
  fetch(handler: FetchHandler): (request: Request) => Promise<Response> {
    return fetchAdapter(this, handler);
  }

  private invalid(scheme: Scheme, error: string, description: string): ResourceDecision {
    return this.refuse(401, this.challenge(scheme, [['error', error], ['error_description', description]]), error, description);
  }

  private invalidDpop(error: string, description: string): ResourceDecision {
    const challenge = this.challenge('DPoP', [['algs', DPOP_ALGORITHMS.join(' ')], ['error', error], ['error_description', description]]);
    return this.refuse(401, challenge, error, description);
  }

  /** RFC 9728 §5.1: every challenge names the metadata, last. */
  private challenge(scheme: Scheme, params: [string, string][]): string {
    return `${scheme} ${[...params, ['resource_metadata', this.metadataUrl]].map(([name, value]) => `${name}="${value}"`).join(', ')}`;
  }

  private refuse(status: number, challenge: string, error: string, description: string): ResourceDecision {
    return {
      ok: false,
      status,
      headers: { 'www-authenticate': challenge, 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: { error, error_description: description },
    };
  }
}

function resourceUrl(resource: unknown): URL {
  let url: URL | undefined;
  try {
    url = typeof resource === 'string' ? new URL(resource) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '' || /[?#]/.test(String(resource))) {
    throw new MandateError('ProtectedResource needs resource: an absolute http(s) URL without query or fragment.');
  }
  return url;
}

/**
 * Every value of a header, however the source spells its name. Values sent more than once
 * arrive as an array or joined with commas; neither a token nor a proof contains a comma.
 */
export function headerValues(source: HeaderSource, name: string): string[] {
  let raw: (string | undefined)[];
  if (source instanceof Headers) {
    raw = [source.get(name) ?? undefined];
  } else {
    raw = Object.entries(source)
      .filter(([key]) => key.toLowerCase() === name)
      .flatMap(([, value]) => (Array.isArray(value) ? value : [value]));
  }
  return raw.flatMap((value) => (value === undefined ? [] : value.split(','))).map((value) => value.trim()).filter((value) => value !== '');
}
