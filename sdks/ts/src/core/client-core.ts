import type { TokenResponse, TokenTypeUri } from '../generated/models.js';
import { APIPromise, type RawResponse } from './api-promise.js';
import { JWT_BEARER_ASSERTION_TYPE } from './client-assertion.js';
import { type ClientAuthentication, clientAuthentication } from './client-auth.js';
import { APIConnectionError, APITimeoutError, AuthenticationError, BadRequestError, MandateError, errorFor } from './errors.js';
import { type DpopProofTarget, DpopProver, isNonceChallenge } from './dpop.js';
import { EventStream } from './event-stream.js';
import { type FederatedWorkload, JWT_BEARER_GRANT, federatedWorkload } from './federated-token.js';
import { Log } from './log.js';
import { type ClientOptions, type Clock, type RequestOptions, type StreamOptions, readEnv, resolveCredentials, systemClock } from './options.js';
import { Page, type PageBody, PagePromise } from './pagination.js';
import { isRetryableStatus, retryDelay } from './retry.js';
import { type IssuedToken, TokenManager } from './token-manager.js';
import { type AccessTokenClaims, JwksCache, type VerifyOptions, verifyJwt } from './verify.js';
import { webCrypto } from './web-crypto.js';

export type AuthMode = 'bearer' | 'clientBasic' | 'none';

/** One operation of the spec, as the generated resources describe it to the core. */
export interface OperationSpec {
  readonly operationId: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly auth: readonly AuthMode[];
  readonly params?: 'query' | 'json' | 'form';
  readonly response: 'json' | 'text' | 'binary' | 'empty' | 'eventStream';
  /** The one media type a binary response comes in, sent as `Accept` (default JSON). */
  readonly accept?: string;
  readonly idempotent: boolean;
  readonly organizationHeader: boolean;
  /** The operation accepts `Last-Event-ID` (event streams). */
  readonly resumable: boolean;
}

/** Facts about the API that the generated client passes to the core. */
export interface ApiDescription {
  readonly version: string;
  readonly defaultBaseURL: string;
  /** The client-credentials token endpoint, which the token manager calls. */
  readonly tokenOperation: OperationSpec;
}

/** RFC 8693 token exchange, by which an agent obtains a token to act for another. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3: the type of the subject token given and of the token issued. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface DelegateParams {
  /** Space-separated scopes, a subset of the subject token's; default all of them. */
  scope?: string;
  /** The API the token is for (RFC 8707), its `aud`; default the issuer. */
  resource?: string;
}

/** The token response of a token exchange: a token for the subject, with this agent as its actor. */
export type DelegatedToken = TokenResponse & { issued_token_type: TokenTypeUri };

export interface Call {
  path?: Record<string, string>;
  params?: object | undefined;
  options?: RequestOptions | undefined;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RETRIES = 2;

interface Authorization {
  header?: string;
  /** Set when the header carries the token manager's token, which a 401 may invalidate. */
  managedToken?: string;
  /** Client authentication in the form body (private_key_jwt): merged into this attempt's body. */
  form?: Record<string, string>;
  /** This attempt's DPoP proof (RFC 9449), sent as the `DPoP` header. */
  dpop?: string;
}

/** RFC 8414 discovery, where the issuer (the assertions' audience) is published. */
const AUTHORIZATION_SERVER_METADATA: OperationSpec = {
  operationId: 'getAuthorizationServerMetadata',
  method: 'GET',
  path: '/.well-known/oauth-authorization-server',
  auth: ['none'],
  response: 'json',
  idempotent: false,
  organizationHeader: false,
  resumable: false,
};

/**
 * Sends operations: builds the request from an OperationSpec, authenticates, retries, maps
 * errors and parses the response. Generated resource classes are thin calls into it.
 */
export class MandateCore {
  readonly baseURL: string;
  private readonly apiToken: string | undefined;
  private readonly clientAuth: ClientAuthentication | undefined;
  private readonly workload: FederatedWorkload | undefined;
  private readonly scope: string | undefined;
  private readonly organization: string | undefined;
  private readonly maxRetries: number;
  private readonly timeout: number;
  private readonly defaultHeaders: Record<string, string>;
  private readonly customFetch: typeof fetch | undefined;
  private readonly clock: Clock;
  private readonly log: Log;
  private readonly tokens: TokenManager | undefined;
  private readonly jwks: JwksCache;
  /** The proof key of the `dpop` option, which binds this client's access tokens to it. */
  private readonly dpop: DpopProver | undefined;
  /** The server's issuer, fetched once when the first assertion needs it. */
  private issuer: Promise<string> | undefined;

  constructor(options: ClientOptions, private readonly api: ApiDescription) {
    this.baseURL = (options.baseURL ?? readEnv('MANDATE_BASE_URL') ?? api.defaultBaseURL).replace(/\/+$/, '');
    const credentials = resolveCredentials(options);
    this.clock = options.clock ?? systemClock;
    this.workload = federatedWorkload(credentials);
    const keyId = options.keyId === '' ? undefined : options.keyId;
    this.clientAuth = clientAuthentication(credentials, keyId, () => this.clock.now());
    this.dpop = DpopProver.fromOption(options.dpop, () => this.clock.now());
    this.apiToken = credentials.apiToken;
    this.scope = options.scope ?? readEnv('MANDATE_SCOPE');
    this.organization = options.organization ?? readEnv('MANDATE_ORGANIZATION');
    this.maxRetries = nonNegative('maxRetries', options.maxRetries ?? DEFAULT_MAX_RETRIES);
    this.timeout = nonNegative('timeout', options.timeout ?? DEFAULT_TIMEOUT_MS);
    this.defaultHeaders = options.defaultHeaders ?? {};
    this.customFetch = options.fetch;
    this.log = new Log(options.logger ?? console, options.logLevel);
    this.tokens =
      this.clientAuth === undefined && this.workload === undefined
        ? undefined
        : new TokenManager(() => this.issueManagedToken(), () => this.clock.now());
    this.jwks = new JwksCache(`${this.baseURL}/.well-known/jwks.json`, (url) => this.fetchFn()(url), this.clock);
  }

  /** Verifies an agent's access token against this server's JWKS (see verifyAccessToken). */
  verifyAccessToken(token: string, options: Omit<VerifyOptions, 'jwksUrl'>): Promise<AccessTokenClaims> {
    return verifyJwt(token, options, this.jwks, this.clock);
  }

  /**
   * Delegation (RFC 8693 token exchange): this client's agent (the actor) exchanges another
   * agent's access token (the subject token) for a token to act for that agent. The new token's
   * `sub` is the subject, its `act` names this agent (nesting the subject token's own `act`), its
   * scopes are `scope` or all the subject token's, and it expires no later than the subject
   * token. The request authenticates as every token request does (client secret or
   * `private_key_jwt`). A client without an agent's client id and secret or key (an admin-token
   * client) rejects with a MandateError without sending anything.
   */
  delegate(subjectToken: string, params: DelegateParams = {}, options?: RequestOptions): APIPromise<DelegatedToken> {
    return new APIPromise(async () => {
      if (this.clientAuth === undefined) {
        throw new MandateError(
          'delegate() needs the acting agent\'s own credentials: build the client with clientId and clientSecret or privateKey (or MANDATE_CLIENT_ID with MANDATE_CLIENT_SECRET or MANDATE_CLIENT_PRIVATE_KEY); an admin API token cannot act for an agent.',
        );
      }
      if (subjectToken === '') throw new MandateError('delegate() needs the subject agent\'s access token, got an empty string.');
      const form = {
        grant_type: TOKEN_EXCHANGE_GRANT,
        subject_token: subjectToken,
        subject_token_type: ACCESS_TOKEN_TYPE,
        scope: params.scope,
        resource: params.resource,
      };
      return (await this.send(this.api.tokenOperation, { params: form, options })) as { data: DelegatedToken; response: RawResponse };
    });
  }

  /**
   * A DPoP proof (RFC 9449) for a request the caller makes itself, such as to an MCP server
   * with a DPoP-bound token (give it as `accessToken`: the proof then names it). It carries
   * the nonce that the URL's origin last sent this client, if any. A client built without
   * the `dpop` option rejects with a MandateError.
   */
  async createDpopProof(target: DpopProofTarget): Promise<string> {
    if (this.dpop === undefined) {
      throw new MandateError('createDpopProof() needs a proof key: build the client with the dpop option (true for a generated key, or a private key).');
    }
    return this.dpop.proof(target);
  }

  /** The parsed body is typed by the generated method: the server answers per the spec. */
  request<T>(operation: OperationSpec, call: Call): APIPromise<T> {
    return new APIPromise(() => this.send(operation, call) as Promise<{ data: T; response: RawResponse }>);
  }

  requestPage<Item>(operation: OperationSpec, call: Call): PagePromise<Item> {
    const fetchPage = (cursor: string | undefined): PagePromise<Item> =>
      new PagePromise(async () => {
        const params = cursor === undefined ? call.params : { ...call.params, cursor };
        const { data, response } = await this.send(operation, { ...call, params });
        return { data: new Page(data as PageBody<Item>, fetchPage), response };
      });
    return fetchPage(undefined);
  }

  /**
   * An event stream. Nothing is sent until it is iterated; each (re)connect is one request
   * with the usual authentication, organization and headers, plus `Last-Event-ID`.
   */
  stream<T>(operation: OperationSpec, call: Call & { options?: StreamOptions | undefined }): EventStream<T> {
    const options = call.options ?? {};
    const url = this.url(operation, call);
    return new EventStream<T>(
      {
        name: `${operation.method} ${operation.path}`,
        connect: (lastEventId, signal) => this.connectStream(operation, url, options, lastEventId, signal),
        clock: this.clock,
        log: this.log,
        maxRetries: options.maxRetries ?? this.maxRetries,
        timeout: options.timeout ?? this.timeout,
      },
      options,
    );
  }

  private async connectStream(
    operation: OperationSpec,
    url: string,
    options: RequestOptions,
    lastEventId: string | undefined,
    signal: AbortSignal,
  ): Promise<Response> {
    let refreshedToken = false;
    let sentNonce = false;
    for (;;) {
      const auth = await this.authorization(operation, url);
      const headers = this.headers(operation, options, auth, undefined, undefined);
      if (operation.resumable && lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      const started = this.clock.now();
      let response: Response;
      try {
        response = await this.fetchFn()(url, { method: operation.method, headers, signal, redirect: 'manual' });
      } catch (error) {
        const reason: unknown = signal.reason;
        throw reason instanceof APITimeoutError ? reason : asConnectionError(error);
      }
      const requestId = response.headers.get('x-request-id') ?? undefined;
      this.log.debug(`${operation.method} ${operation.path} -> ${response.status}`, { ms: Math.round(this.clock.now() - started), requestId });
      this.dpop?.rememberNonce(url, response.headers);
      if (auth.dpop !== undefined && !sentNonce && isNonceChallenge(false, response.status, response.headers, '')) {
        // RFC 9449 §9: the same request once more, now with the server's nonce.
        sentNonce = true;
        await response.body?.cancel().catch(() => undefined);
        continue;
      }
      if (response.status === 401 && auth.managedToken !== undefined && !refreshedToken) {
        // As for any call: the token may have been revoked or rotated out; one fresh token, one more try.
        refreshedToken = true;
        await response.body?.cancel().catch(() => undefined);
        this.tokens?.invalidate(auth.managedToken);
        continue;
      }
      if (!response.ok) {
        const raw: RawResponse = { status: response.status, headers: response.headers, text: await response.text() };
        throw errorFor(response.status, parseErrorBody(raw), response.headers);
      }
      const contentType = response.headers.get('content-type') ?? '';
      if (!contentType.toLowerCase().startsWith('text/event-stream')) {
        await response.body?.cancel().catch(() => undefined);
        throw new MandateError(`Expected an event stream, the server sent ${response.status} ${contentType || 'without a content type'}`);
      }
      return response;
    }
  }

  private async send(operation: OperationSpec, call: Call): Promise<{ data: unknown; response: RawResponse }> {
    const options = call.options ?? {};
    const url = this.url(operation, call);
    const idempotencyKey = operation.idempotent ? (options.idempotencyKey ?? (await newIdempotencyKey())) : undefined;
    const maxRetries = options.maxRetries ?? this.maxRetries;
    let retries = 0;
    let refreshedToken = false;
    let sentNonce = false;
    for (;;) {
      // Per attempt: a client assertion or DPoP proof is good for one request only, retries included.
      const auth = await this.authorization(operation, url, call.params);
      const body = encodeBody(operation, auth.form === undefined ? call.params : { ...call.params, ...auth.form });
      const headers = this.headers(operation, options, auth, body?.contentType, idempotencyKey);
      const started = this.clock.now();
      let response: Response;
      try {
        response = await this.fetchOnce(url, { method: operation.method, headers, body: body?.content }, options);
      } catch (error) {
        const failure = asConnectionError(error);
        if (retries < maxRetries && !(options.signal?.aborted ?? false)) {
          await this.pause(operation, retries++, maxRetries, undefined, failure.message);
          continue;
        }
        throw failure;
      }
      // A binary body is kept as bytes; its text (for errors and the raw response) is decoded from them.
      const bytes = operation.response === 'binary' ? new Uint8Array(await response.arrayBuffer()) : undefined;
      const text = bytes === undefined ? await response.text() : new TextDecoder().decode(bytes);
      const requestId = response.headers.get('x-request-id') ?? undefined;
      this.log.debug(`${operation.method} ${operation.path} -> ${response.status}`, {
        ms: Math.round(this.clock.now() - started),
        attempt: retries + 1,
        requestId,
      });
      this.dpop?.rememberNonce(url, response.headers);
      if (auth.dpop !== undefined && !sentNonce && isNonceChallenge(this.isTokenOperation(operation), response.status, response.headers, text)) {
        // RFC 9449 §8, §9: the server wants its nonce in the proof; once more at once, not a retry.
        sentNonce = true;
        this.log.debug(`sending ${operation.method} ${operation.path} again with the server's DPoP nonce`);
        continue;
      }
      if (response.status === 401 && auth.managedToken !== undefined && !refreshedToken) {
        // The token may have been revoked or rotated out early: one fresh token, one more try.
        refreshedToken = true;
        this.tokens?.invalidate(auth.managedToken);
        continue;
      }
      const raw: RawResponse = { status: response.status, headers: response.headers, text };
      if (response.ok) return { data: bytes ?? parseBody(operation.response, raw), response: raw };
      if (isRetryableStatus(response.status) && retries < maxRetries) {
        await this.pause(operation, retries++, maxRetries, response.headers, `status ${response.status}`);
        continue;
      }
      throw errorFor(response.status, parseErrorBody(raw), response.headers);
    }
  }

  private async pause(operation: OperationSpec, retry: number, maxRetries: number, headers: Headers | undefined, reason: string): Promise<void> {
    const delay = retryDelay(retry, headers, this.clock.now(), () => this.clock.random());
    this.log.debug(`retrying ${operation.method} ${operation.path} in ${Math.round(delay)} ms (${reason}; retry ${retry + 1} of ${maxRetries})`);
    await this.clock.sleep(delay);
  }

  private async fetchOnce(url: string, init: RequestInit, options: RequestOptions): Promise<Response> {
    const timeout = options.timeout ?? this.timeout;
    const controller = new AbortController();
    const onAbort = (): void => {
      controller.abort(options.signal?.reason);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted === true) controller.abort(options.signal.reason);
    const timer = setTimeout(() => {
      controller.abort(new APITimeoutError(`No response within ${timeout} ms`));
    }, timeout);
    try {
      return await this.fetchFn()(url, { ...init, signal: controller.signal, redirect: 'manual' });
    } catch (error) {
      // fetch rejects with the abort reason, or a TypeError wrapping it.
      const reason: unknown = controller.signal.reason;
      throw reason instanceof APITimeoutError ? reason : error;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  private fetchFn(): typeof fetch {
    return this.customFetch ?? globalThis.fetch;
  }

  /**
   * The Authorization header (or form authentication) of one attempt, and its DPoP proof: every
   * token request of a client with a proof key carries one (so the token is bound to the key),
   * and so does every request made with a DPoP-bound managed token.
   */
  private async authorization(operation: OperationSpec, url: string, params?: object): Promise<Authorization> {
    const auth = await this.credentialsFor(operation, params);
    if (this.dpop === undefined) return auth;
    if (this.isTokenOperation(operation)) return { ...auth, dpop: await this.dpop.proof({ method: operation.method, url }) };
    if (auth.header?.startsWith('DPoP ') === true && auth.managedToken !== undefined) {
      return { ...auth, dpop: await this.dpop.proof({ method: operation.method, url, accessToken: auth.managedToken }) };
    }
    return auth;
  }

  private isTokenOperation(operation: OperationSpec): boolean {
    return operation.operationId === this.api.tokenOperation.operationId;
  }

  private async credentialsFor(operation: OperationSpec, params?: object): Promise<Authorization> {
    const client = this.clientAuth;
    if (operation.auth.includes('clientBasic') && client !== undefined) {
      if (client.method === 'client_secret_basic') return { header: basicAuthorization(client.id, client.secret) };
      // A caller who put client authentication in the form already chose it; a second method would be refused.
      if (operation.params === 'form' && !carriesClientAuthentication(params)) {
        const assertion = await client.signer.sign(await this.cachedIssuer());
        return { form: { client_id: client.id, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: assertion } };
      }
    }
    if (operation.auth.includes('bearer')) {
      if (this.apiToken !== undefined) return { header: `Bearer ${this.apiToken}` };
      if (this.tokens !== undefined) {
        const token = await this.tokens.token();
        // RFC 9449 §7.1: a bound token goes with the DPoP scheme (and a proof); a server that did not bind it gave a bearer token.
        const scheme = this.dpop !== undefined && token.type.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
        return { header: `${scheme} ${token.value}`, managedToken: token.value };
      }
    }
    return {};
  }

  /** Fetched lazily and kept for the client's life; a failed fetch is tried again next time. */
  private cachedIssuer(): Promise<string> {
    if (this.issuer !== undefined) return this.issuer;
    const pending = this.fetchIssuer();
    this.issuer = pending;
    pending.catch(() => {
      if (this.issuer === pending) this.issuer = undefined;
    });
    return pending;
  }

  private async fetchIssuer(): Promise<string> {
    const { data } = await this.send(AUTHORIZATION_SERVER_METADATA, {});
    const issuer = (data as { issuer?: unknown } | null)?.issuer;
    if (typeof issuer !== 'string' || issuer === '') {
      throw new MandateError(`${AUTHORIZATION_SERVER_METADATA.path} names no issuer, which private_key_jwt assertions need as their audience`);
    }
    return issuer;
  }

  private headers(
    operation: OperationSpec,
    options: RequestOptions,
    auth: Authorization,
    contentType: string | undefined,
    idempotencyKey: string | undefined,
  ): Record<string, string> {
    const accept = operation.accept ?? (operation.response === 'eventStream' ? 'text/event-stream' : 'application/json');
    const headers: Record<string, string> = { accept, ...lowerCase(this.defaultHeaders) };
    if (contentType !== undefined) headers['content-type'] = contentType;
    if (auth.header !== undefined) headers.authorization = auth.header;
    if (auth.dpop !== undefined) headers.dpop = auth.dpop;
    const organization = options.organization ?? this.organization;
    if (operation.organizationHeader && organization !== undefined) headers['mandate-organization'] = organization;
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    return { ...headers, ...lowerCase(options.headers ?? {}) };
  }

  private url(operation: OperationSpec, call: Call): string {
    const path = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const value = call.path?.[name];
      if (value === undefined || value === '') throw new MandateError(`${operation.operationId}: the path parameter ${name} is required`);
      return encodeURIComponent(value);
    });
    const url = new URL(this.baseURL + path);
    if (operation.params === 'query') {
      for (const [key, value] of Object.entries(call.params ?? {})) {
        for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
          if (item !== undefined && item !== null) url.searchParams.append(key, String(item));
        }
      }
    }
    return url.toString();
  }

  private async issueManagedToken(): Promise<IssuedToken> {
    // A workload presents its federated token with no client authentication (RFC 7523 §2.1).
    const grant =
      this.workload === undefined
        ? { grant_type: 'client_credentials' }
        : { grant_type: JWT_BEARER_GRANT, assertion: await this.workload.token(), client_id: this.workload.clientId };
    const params = { ...grant, scope: this.scope };
    const { data } = (await this.send(this.api.tokenOperation, { params }).catch(refusedGrant)) as {
      data: { access_token: string; expires_in: number; token_type?: string };
    };
    this.log.debug('obtained an access token', { expiresIn: data.expires_in });
    return { accessToken: data.access_token, expiresIn: data.expires_in, tokenType: data.token_type ?? 'Bearer' };
  }
}

/**
 * The token endpoint refuses a federated token with 400 invalid_grant; for the call that needed
 * the token, that is a credential that does not authenticate.
 */
function refusedGrant(error: unknown): never {
  if (error instanceof BadRequestError && error.code === 'invalid_grant') throw new AuthenticationError(error.status, error.body, error.headers);
  throw error;
}

function carriesClientAuthentication(params: object | undefined): boolean {
  const form = (params ?? {}) as Record<string, unknown>;
  return form.client_assertion !== undefined || form.client_secret !== undefined;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new MandateError(`${name} must be a non-negative number, got ${value}`);
  return value;
}

function lowerCase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function encodeBody(operation: OperationSpec, params: object | undefined): { content: string; contentType: string } | undefined {
  if (operation.params === 'json') return { content: JSON.stringify(params ?? {}), contentType: 'application/json' };
  if (operation.params === 'form') {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(params ?? {})) {
      if (value !== undefined && value !== null) form.append(key, String(value));
    }
    return { content: form.toString(), contentType: 'application/x-www-form-urlencoded' };
  }
  return undefined;
}

function parseBody(kind: OperationSpec['response'], raw: RawResponse): unknown {
  if (kind === 'empty') return undefined;
  if (kind === 'text') return raw.text;
  try {
    return JSON.parse(raw.text) as unknown;
  } catch {
    throw new MandateError(`The server sent a ${raw.status} whose body is not JSON: ${raw.text.slice(0, 200)}`);
  }
}

function parseErrorBody(raw: RawResponse): unknown {
  if (!/json/i.test(raw.headers.get('content-type') ?? '')) return raw.text;
  try {
    return JSON.parse(raw.text) as unknown;
  } catch {
    return raw.text;
  }
}

function asConnectionError(error: unknown): APIConnectionError {
  if (error instanceof APIConnectionError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new APIConnectionError(`Connection error: ${message}`, { cause: error });
}

/** RFC 6749 §2.3.1: the id and secret are form-urlencoded before Base64. */
function basicAuthorization(id: string, secret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${btoa(`${encode(id)}:${encode(secret)}`)}`;
}

async function newIdempotencyKey(): Promise<string> {
  return `sdk-${(await webCrypto()).randomUUID()}`;
}
