import type { Context } from 'koa';
import type { AccessTokenClaims } from '../domain/access-tokens';
import { appendEvents } from '../domain/audit';
import { ASSERTION_ALGS, type ClientAssertionVerifier } from '../domain/client-assertions';
import { type AuthenticatedClient, ClientAuthenticationFailed, type ClientAuthenticator } from '../domain/clients';
import { ApiError, type FieldProblem } from '../domain/errors';
import { OAuthError, invalidClient, invalidRequest } from '../domain/oauth-errors';
import type { Principal } from '../domain/principal';
import type { SigningKeys } from '../domain/signing-keys';
import type { Authenticator } from './authenticate';
import { type BodyLimits, readRawBody } from './body';
import { clientCredentials } from './grants/client-credentials';
import { type Grant, type GrantDeps, type TokenResponseBody, byAgent, requireBinding } from './grants/grant';
import { TOKEN_EXCHANGE, tokenExchange } from './grants/token-exchange';
import { JWT_BEARER, exchangeWorkloadToken, isWorkloadIdentity } from './grants/workload-identity';
import { DEVICE_CODE, pollDeviceCode } from './grants/device-code';
import { type DeviceSettings, requestDeviceAuthorization } from './device-authorization';
import type { Cache } from '../cache/cache';
import { DPOP_ALGS, type DpopVerifier, DpopRefused } from '../domain/dpop';
import { proofContext } from './router';
import { type PublicHandler, requestInfo } from './router';
import { type RateLimits, tooManyRequests } from './rate-limits';
import type { RequestValidator } from '../spec/validator';

export interface OAuthDeps extends GrantDeps {
  validator: RequestValidator;
  bodyLimits: BodyLimits;
  clients: ClientAuthenticator;
  assertions: ClientAssertionVerifier;
  bearer: Authenticator;
  keys: SigningKeys;
  scopesSupported: string[];
  cache: Cache;
  device: DeviceSettings;
  dpop: DpopVerifier;
  rateLimits: RateLimits;
}

const FORM = 'application/x-www-form-urlencoded';

/** One module per grant type (src/http/grants). */
const GRANTS = new Map<string, Grant>([
  ['client_credentials', clientCredentials],
  [TOKEN_EXCHANGE, tokenExchange],
]);

/**
 * Reads an RFC 6749 form body; a parameter sent twice is an error (§3.2), and the values
 * must fit the operation's schema in the spec (lengths, patterns, enums).
 */
async function readForm(ctx: Context, deps: OAuthDeps, operationId: string): Promise<Map<string, string>> {
  const form = await parseForm(ctx, deps.bodyLimits);
  const [problem] = deps.validator.body(operationId, Object.fromEntries(form));
  if (problem !== undefined) throw formError(problem);
  return form;
}

/** The RFC's own error code for a parameter that does not fit its schema. */
function formError(problem: FieldProblem): OAuthError {
  const parameter = problem.field.replace(/^body\./, '');
  const description = `${parameter} ${problem.message}.`;
  if (problem.code === 'required') return invalidRequest(`${parameter} is required.`);
  if (parameter === 'grant_type') return new OAuthError('unsupported_grant_type', description);
  if (parameter === 'resource') return new OAuthError('invalid_target', description); // RFC 8707 §2
  if (parameter === 'scope') return new OAuthError('invalid_scope', description);
  if (parameter === 'token_type_hint') return new OAuthError('unsupported_token_type', description);
  return invalidRequest(description);
}

async function parseForm(ctx: Context, limits: BodyLimits): Promise<Map<string, string>> {
  const mediaType = (ctx.get('content-type').split(';')[0] ?? '').trim().toLowerCase();
  if (mediaType !== FORM) {
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', `Send the body as ${FORM}.`);
  }
  const params = new URLSearchParams((await readRawBody(ctx.req, limits)).toString('utf8'));
  const form = new Map<string, string>();
  for (const [name, value] of params) {
    // RFC 8707 allows several resources; one audience per token is what this server issues.
    if (form.has(name) && name === 'resource') throw new OAuthError('invalid_target', 'Only one resource per token is supported.');
    if (form.has(name)) throw invalidRequest(`The parameter ${name} appears more than once.`);
    if (value !== '') form.set(name, value);
  }
  return form;
}

const basicCredentials = (ctx: Context) => /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(ctx.get('authorization'));

/** How many client authentication methods a request uses (HTTP Basic, a form secret, an assertion). */
function credentialMethods(ctx: Context, form: Map<string, string>): number {
  return [basicCredentials(ctx) !== null, form.has('client_secret'), form.has('client_assertion') || form.has('client_assertion_type')].filter(Boolean).length;
}

/** How a request authenticates its client: with a secret, or with a signed assertion. */
type ClientProof = { method: 'client_secret'; id: string; secret: string } | { method: 'private_key_jwt'; id: string | undefined; assertion: string };

/**
 * client_secret_basic, client_secret_post or private_key_jwt; exactly one (RFC 6749 §2.3).
 * Null when none was sent.
 */
function clientProof(ctx: Context, form: Map<string, string>): ClientProof | null {
  const basic = basicCredentials(ctx);
  const assertion = form.get('client_assertion');
  const assertionType = form.get('client_assertion_type');
  const methods = credentialMethods(ctx, form);
  if (methods > 1 || (basic !== null && form.has('client_id'))) throw invalidRequest('Use one client authentication method, not two.');
  if (basic !== null) {
    const decoded = Buffer.from(basic[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw invalidClient();
    try {
      // The id and secret are form-encoded before Basic encoding (RFC 6749 §2.3.1).
      const decode = (part: string): string => decodeURIComponent(part.replace(/\+/g, ' '));
      return { method: 'client_secret', id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
    } catch {
      throw invalidClient();
    }
  }
  const id = form.get('client_id');
  if (assertion !== undefined || assertionType !== undefined) {
    // The form's schema admits only the jwt-bearer type; both parameters go together (RFC 7521 §4.2).
    if (assertion === undefined || assertionType === undefined) throw invalidRequest('client_assertion and client_assertion_type go together.');
    return { method: 'private_key_jwt', id, assertion };
  }
  if (id === undefined && !form.has('client_secret')) return null;
  const secret = form.get('client_secret');
  if (id === undefined || secret === undefined) throw invalidClient();
  return { method: 'client_secret', id, secret };
}

/** The client id a token request presents, authenticated or not (rate limits count it before authentication). */
function presentedClientId(ctx: Context, form: Map<string, string>): string | undefined {
  try {
    return clientProof(ctx, form)?.id;
  } catch {
    return undefined; // malformed: refused later, counted per address only
  }
}

/** Renders OAuth failures as RFC 6749 §5.2 documents; other failures go to the problems layer. */
async function oauthErrors(ctx: Context, work: () => Promise<void>): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  try {
    await work();
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    ctx.status = error.status;
    if (error.status === 401) ctx.set('WWW-Authenticate', 'Basic realm="mandate"');
    ctx.body = { error: error.error, error_description: error.message, ...error.extensions };
  }
}

export function oauthHandlers(deps: OAuthDeps): Record<string, PublicHandler> {
  /**
   * Authenticates the calling agent. Failures are always audited; a success is audited as
   * `successAction` (the token endpoint records its success as `token.issued` instead).
   */
  async function authenticateClient(ctx: Context, proof: ClientProof, successAction?: string): Promise<AuthenticatedClient> {
    try {
      const client =
        proof.method === 'client_secret' ? await deps.clients.authenticate(proof.id, proof.secret) : await deps.assertions.authenticate(proof.assertion, proof.id);
      if (successAction !== undefined) {
        const metadata = { method: client.method, credentialId: client.credentialId, endpoint: ctx.path };
        await deps.audit.append(byAgent(ctx, client, { action: successAction, outcome: 'success', onItself: false, metadata }));
      }
      return client;
    } catch (error) {
      if (error instanceof ClientAuthenticationFailed) {
        await deps.audit.append({
          orgId: error.known.orgId,
          action: 'auth.failed',
          outcome: 'failure',
          actor: { type: error.known.agentId === null ? 'anonymous' : 'agent', id: error.known.agentId },
          target: null,
          ...requestInfo(ctx),
          metadata: { method: proof.method, error: error.error, clientId: (proof.id ?? error.known.agentId ?? '').slice(0, 100) },
        });
      }
      throw error;
    }
  }

  /** An authenticated agent's token request that was refused (bad scope, grant or resource). */
  function refused(ctx: Context, client: AuthenticatedClient, error: OAuthError): Promise<void> {
    const metadata = { error: error.error, description: error.message };
    return deps.audit.append(byAgent(ctx, client, { action: 'token.refused', outcome: 'failure', onItself: true, metadata }));
  }

  /** Introspection callers: an agent (client credentials) or a bearer with tokens:introspect. */
  async function introspectionCaller(ctx: Context, form: Map<string, string>): Promise<{ orgId: string | null }> {
    const proof = clientProof(ctx, form);
    if (proof !== null) return { orgId: (await authenticateClient(ctx, proof, 'auth.succeeded')).orgId };
    const authorization = ctx.get('authorization');
    if (!/^Bearer /i.test(authorization)) throw invalidClient();
    let principal: Principal;
    try {
      principal = await deps.bearer.authenticate(authorization, requestInfo(ctx), proofContext(ctx, deps.issuer));
    } catch {
      throw invalidClient();
    }
    if (!principal.scopes.has('tokens:introspect')) throw new OAuthError('unauthorized_client', 'The token lacks the tokens:introspect scope.');
    return { orgId: principal.orgId };
  }

  function introspection(claims: AccessTokenClaims): Record<string, unknown> {
    const { scope, client_id, sub, aud, iss, exp, iat, jti, org, act, delegation_id, cnf } = claims;
    const delegated = act === undefined ? {} : { act, delegation_id };
    const bound = cnf === undefined ? { token_type: 'Bearer' } : { token_type: 'DPoP', cnf };
    return { active: true, scope, client_id, sub, aud, iss, exp, iat, jti, ...bound, org, ...delegated };
  }

  /**
   * The thumbprint of the key of the request's DPoP proof (RFC 9449 §5), if it sent one; the
   * current nonce goes out with every answer when nonces are required.
   */
  async function dpopKey(ctx: Context): Promise<string | undefined> {
    const nonce = deps.dpop.currentNonce();
    if (nonce !== null) ctx.set('DPoP-Nonce', nonce);
    const proof = ctx.get('dpop');
    if (proof === '') return undefined;
    try {
      return await deps.dpop.verify(proof, { method: 'POST', url: `${deps.issuer}/oauth2/token` });
    } catch (error) {
      if (error instanceof DpopRefused) throw new OAuthError(error.nonce ? 'use_dpop_nonce' : 'invalid_dpop_proof', error.message);
      throw error;
    }
  }

  /** A DPoP-bound token is of type DPoP (RFC 9449 §5). */
  const sent = (body: TokenResponseBody, jkt: string | undefined): TokenResponseBody => (jkt === undefined ? body : { ...body, token_type: 'DPoP' });

  return {
    issueToken: (ctx) =>
      oauthErrors(ctx, async () => {
        const form = await readForm(ctx, deps, 'issueToken');
        const { tokenPerAddress, tokenPerClient } = deps.rateLimits.policies;
        await deps.rateLimits.enforce(ctx, [{ policy: tokenPerAddress, key: ctx.ip }, { policy: tokenPerClient, key: presentedClientId(ctx, form) }], tooManyRequests);
        const jkt = await dpopKey(ctx);
        // A public client: the device code is the credential (RFC 8628 §3.4).
        if (form.get('grant_type') === DEVICE_CODE) {
          ctx.body = sent(await pollDeviceCode(ctx, form, deps, jkt), jkt);
          return;
        }
        if (isWorkloadIdentity(form)) {
          // The external token authenticates; a client that authenticates anyway names its agent.
          const proof = credentialMethods(ctx, form) > 0 ? clientProof(ctx, form) : null;
          const client = proof === null ? null : await authenticateClient(ctx, proof);
          ctx.body = sent(await exchangeWorkloadToken({ ctx, form, agentId: client?.agentId ?? form.get('client_id'), jkt }, deps), jkt);
          return;
        }
        const proof = clientProof(ctx, form);
        if (proof === null) throw invalidClient();
        const client = await authenticateClient(ctx, proof);
        try {
          const grantType = form.get('grant_type');
          if (grantType === undefined) throw invalidRequest('grant_type is required.');
          const grant = GRANTS.get(grantType);
          if (grant === undefined) throw new OAuthError('unsupported_grant_type', `Not a supported grant type: ${grantType.slice(0, 80)}.`);
          requireBinding(client.dpopRequired, jkt);
          ctx.body = sent(await grant({ ctx, form, client, jkt }, deps), jkt);
        } catch (error) {
          if (error instanceof OAuthError) await refused(ctx, client, error);
          throw error;
        }
      }),

    requestDeviceAuthorization: (ctx) =>
      oauthErrors(ctx, async () => {
        const form = await readForm(ctx, deps, 'requestDeviceAuthorization');
        ctx.body = await requestDeviceAuthorization(ctx, form, deps);
      }),

    introspectToken: (ctx) =>
      oauthErrors(ctx, async () => {
        const form = await readForm(ctx, deps, 'introspectToken');
        const caller = await introspectionCaller(ctx, form);
        const token = form.get('token');
        if (token === undefined) throw invalidRequest('token is required.');
        const claims = await deps.tokens.verify(token);
        // Another organization's token is reported inactive, exactly like an unknown one.
        const visible = claims !== null && (caller.orgId === null || caller.orgId === claims.org);
        const active = visible && (await deps.tokenState.isActive(claims));
        ctx.body = active ? introspection(claims) : { active: false };
      }),

    revokeToken: (ctx) =>
      oauthErrors(ctx, async () => {
        const form = await readForm(ctx, deps, 'revokeToken');
        const proof = clientProof(ctx, form);
        if (proof === null) throw invalidClient();
        const client = await authenticateClient(ctx, proof, 'auth.succeeded');
        const token = form.get('token');
        if (token === undefined) throw invalidRequest('token is required.');
        const claims = await deps.tokens.verify(token);
        // Unknown, expired and other clients' tokens: nothing to do, and still 200 (RFC 7009 §2.2).
        if (claims !== null && claims.client_id === client.agentId) {
          const expiresAt = new Date(claims.exp * 1000);
          await deps.db.tenantTransaction({ orgId: client.orgId, instanceAdmin: false, principalId: client.agentId }, async (sql) => {
            await deps.tokenState.recordRevocation(sql, { jti: claims.jti, orgId: client.orgId, agentId: client.agentId, expiresAt });
            await appendEvents(sql, [byAgent(ctx, client, { action: 'token.revoked', outcome: 'success', onItself: true, metadata: { jti: claims.jti } })]);
          });
          await deps.tokenState.revoked(claims.jti, expiresAt);
        }
        // RFC 7009 §2.2: 200 with no content (Koa would turn a null body into 204).
        ctx.status = 200;
        ctx.body = '';
      }),

    getAuthorizationServerMetadata: (ctx) => serverMetadata(ctx, deps),
    getOpenIdConfiguration: (ctx) => serverMetadata(ctx, deps),

    async getJwks(ctx) {
      const keys = await deps.keys.published();
      ctx.type = 'application/jwk-set+json';
      // Short enough that a rotation's activation delay comfortably outlasts it.
      ctx.set('Cache-Control', 'public, max-age=60');
      ctx.body = { keys: keys.map((k) => k.publicJwk) };
    },
  };
}

/** RFC 8414 metadata, listing only what is implemented. */
function serverMetadata(ctx: Context, deps: OAuthDeps): Promise<void> {
  const methods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
  const algs = [...ASSERTION_ALGS];
  ctx.set('Cache-Control', 'public, max-age=300');
  ctx.body = {
    issuer: deps.issuer,
    token_endpoint: `${deps.issuer}/oauth2/token`,
    jwks_uri: `${deps.issuer}/.well-known/jwks.json`,
    introspection_endpoint: `${deps.issuer}/oauth2/introspect`,
    revocation_endpoint: `${deps.issuer}/oauth2/revoke`,
    grant_types_supported: [...GRANTS.keys(), JWT_BEARER, DEVICE_CODE],
    device_authorization_endpoint: `${deps.issuer}/oauth2/device_authorization`,
    registration_endpoint: `${deps.issuer}/oauth2/register`,
    token_endpoint_auth_methods_supported: methods,
    introspection_endpoint_auth_methods_supported: methods,
    revocation_endpoint_auth_methods_supported: methods,
    token_endpoint_auth_signing_alg_values_supported: algs,
    introspection_endpoint_auth_signing_alg_values_supported: algs,
    revocation_endpoint_auth_signing_alg_values_supported: algs,
    scopes_supported: deps.scopesSupported,
    dpop_signing_alg_values_supported: [...DPOP_ALGS],
    // No authorization endpoint, hence no response types (RFC 8414 §2 asks for the list).
    response_types_supported: [],
    service_documentation: `${deps.issuer}/docs`,
  };
  return Promise.resolve();
}
