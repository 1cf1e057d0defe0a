import type { IR } from '../../ir/types';
import { aligned, comment } from './gofile';
import { goString } from './names';
import { resourceField, resourceType } from './resources';

/** The Client type: one field per resource, built by NewClient from the spec's defaults. */
export function clientDeclaration(ir: IR): string {
  const fields = aligned(
    ir.resources.map((r) => [resourceField(r), `*${resourceType(r)}`]),
    '\t',
  );
  const wiring = ir.resources.map((r) => `\tc.${resourceField(r)} = &${resourceType(r)}{client: transport}`);
  return [
    comment(
      `Client calls the ${ir.title} (version ${ir.version}). Build it with NewClient; it is safe for concurrent use. Every method takes a context first and per-call RequestOptions last.`,
      '',
    ),
    `type Client struct {\n${fields.join('\n')}\n\n\ttransport *core.Client\n}`,
    '',
    comment(
      `NewClient builds a client. An option given wins over its environment variable. Base URL, organization and scope fall back to theirs one by one: MANDATE_BASE_URL (else ${ir.defaultBaseURL}), MANDATE_ORGANIZATION, MANDATE_SCOPE. Credentials come from one place only: when WithAPIToken, WithClientCredentials, WithClientID, WithPrivateKey, WithFederatedToken, WithFederatedTokenFile or WithFederatedTokenSource is given (even with empty values), none of MANDATE_API_TOKEN, MANDATE_CLIENT_ID, MANDATE_CLIENT_SECRET, MANDATE_CLIENT_PRIVATE_KEY, MANDATE_FEDERATED_TOKEN and MANDATE_FEDERATED_TOKEN_FILE is read, so an agent client never picks up an admin token; only a client given none of them takes its credentials from those variables. A configuration that cannot work (a secret and a private key, an unusable key, a federated token given twice or beside a secret or key) is a *ConfigError that Core().Err() and every call return. MANDATE_LOG=debug logs each attempt to stderr.`,
      '',
    ),
    'func NewClient(opts ...Option) *Client {',
    `\ttransport := core.NewClient(core.Defaults{BaseURL: ${goString(ir.defaultBaseURL)}, TokenPath: ${goString(ir.tokenPath)}, UserAgent: ${goString(`mandate-go/${ir.version}`)}}, opts...)`,
    '\tc := &Client{transport: transport}',
    ...wiring,
    '\treturn c',
    '}',
    '',
    '// Core is the runtime client behind c (its base URL and HTTP client).',
    'func (c *Client) Core() *core.Client {\n\treturn c.transport\n}',
    '',
    comment(
      "VerifyAccessToken verifies an access token as VerifyAccessToken does, with the JWKS of this client's base URL (unless opts names one) fetched with its HTTP client.",
      '',
    ),
    'func (c *Client) VerifyAccessToken(ctx context.Context, token string, opts VerifyOptions) (*AccessTokenClaims, error) {',
    '\tif opts.JWKSURL == "" && opts.BaseURL == "" {',
    '\t\topts.BaseURL = c.transport.BaseURL()',
    '\t}',
    '\tif opts.HTTPClient == nil {',
    '\t\topts.HTTPClient = c.transport.HTTPClient()',
    '\t}',
    '\treturn core.VerifyAccessToken(ctx, token, opts)',
    '}',
    '',
    comment(
      "Delegate is delegation between agents by token exchange (RFC 8693): this client's agent (the actor) exchanges subjectToken, an access token of another agent of its organization (the subject), for a token to act for that agent. It authenticates as every token request of the client does (HTTP Basic with the secret, or a new private_key_jwt assertion per attempt); params may narrow the scope (a subset of the subject token's) and name the resource (nil: all the subject token's scopes, the default audience). The issued token's sub is the subject and its act claim names the actors, nearest first (AccessTokenClaims.Actors). A client without an agent's credentials (an admin API token only) gets a *ConfigError.",
      '',
    ),
    'func (c *Client) Delegate(ctx context.Context, subjectToken string, params *DelegateParams, opts ...RequestOption) (*TokenResponse, error) {',
    '\tvar out TokenResponse',
    '\tif err := c.transport.Delegate(ctx, subjectToken, params, &out, opts); err != nil {',
    '\t\treturn nil, err',
    '\t}',
    '\treturn &out, nil',
    '}',
  ].join('\n');
}

/**
 * Go cannot re-export another package's names, so package mandate names the runtime's
 * public API itself: type aliases and one-line forwarding functions. (Generic types cannot
 * be aliased before Go 1.24; they stay core.Nullable[T] and core.Page[T], built with the
 * forwarding functions Null, Value and the generated list methods.)
 */
export function facadeDeclarations(): string {
  const types: [string, string][] = [
    ['Option', 'configures a Client (see NewClient).'],
    ['RequestOption', 'adjusts one call.'],
    ['Error', 'is an answer with a non-success status; use errors.As, or the Is* functions.'],
    ['ErrorKind', 'is the status family of an Error.'],
    ['ConnectionError', 'is a request that got no response.'],
    ['TimeoutError', 'is an attempt or call that ran out of time; it unwraps to context.DeadlineExceeded.'],
    ['VerifyOptions', 'say which access tokens a resource server accepts.'],
    ['AccessTokenClaims', 'are the claims of a verified access token.'],
    ['Verifier', 'verifies access tokens with a cached JWKS; build it with NewVerifier.'],
    ['WebhookVerificationError', 'is the error of a delivery VerifyWebhook rejects; use errors.As and switch on its Reason.'],
    ['WebhookFailureReason', 'says why VerifyWebhook rejected a delivery.'],
    ['WebhookOption', 'adjusts VerifyWebhook.'],
    ['ConfigError', 'is a client configuration that cannot work; every call of the client returns it.'],
    ['Actor', 'is the act claim of a delegated access token: the acting agent (Sub) and the actor before it (Act), nearest first.'],
    ['DelegateParams', 'narrow the token Client.Delegate asks for: Scope (a subset of the subject token\'s) and Resource.'],
    ['FederatedTokenSource', 'returns a workload\'s current external OIDC token; called for every token request (see WithFederatedTokenSource).'],
    ['Confirmation', 'is the cnf claim of a DPoP-bound access token: the RFC 7638 thumbprint (JKT) of the key it is bound to.'],
    ['ProtectedResourceOptions', 'say which tokens a ProtectedResource accepts and what its RFC 9728 metadata says.'],
    ['ProtectedResourceMetadata', 'is the RFC 9728 protected-resource metadata document.'],
    ['ProtectedResource', 'protects an HTTP service with Mandate access tokens (bearer or DPoP-bound); build it with NewProtectedResource.'],
    ['Refusal', 'is a request a ProtectedResource refused: the status, WWW-Authenticate challenge and body to answer with.'],
  ];
  const funcs: [string, string, string, string][] = [
    ['WithBaseURL', 'url string', 'Option', 'sets the base URL (default MANDATE_BASE_URL, else the spec\'s server).'],
    ['WithAPIToken', 'token string', 'Option', 'authenticates with an admin API token. Given, even empty, it turns off every credential of the environment (see NewClient).'],
    ['WithClientCredentials', 'clientID, clientSecret string', 'Option', 'authenticates as an agent: HTTP Basic on the OAuth endpoints, managed access tokens elsewhere. Given, even empty, it turns off every credential of the environment, so MANDATE_API_TOKEN is never used (see NewClient).'],
    ['WithPrivateKey', 'clientID string, key any', 'Option', 'authenticates as an agent with private_key_jwt: a new assertion signed with key (PEM or JWK text, a JWK map, or a crypto.Signer) on every request to the OAuth endpoints, managed access tokens elsewhere. Given, even empty, it turns off every credential of the environment (see NewClient).'],
    ['WithClientID', 'clientID string', 'Option', 'sets the client id alone, for a workload with a federated token: it names the agent when trust policies of several agents accept the token. Given, even empty, it turns off every credential of the environment (see NewClient).'],
    ['WithFederatedToken', 'token string', 'Option', 'authenticates a workload with an external OIDC token (a CI job\'s ID token, a Kubernetes service-account token), exchanged for managed access tokens by the JWT bearer grant; the trust policy that accepts it names the agent, and no secret or key is involved. Given, even empty, it turns off every credential of the environment (see NewClient).'],
    ['WithFederatedTokenFile', 'path string', 'Option', 'is WithFederatedToken with the token read from path again for every token request (platforms rotate such files in place); a file that cannot be read, or is empty, fails that request with an authentication error naming the file.'],
    ['WithFederatedTokenSource', 'source FederatedTokenSource', 'Option', 'is WithFederatedToken with the token returned by source, called for every token request.'],
    ['WithDPoPKey', 'key string', 'Option', 'binds the client\'s access tokens to this private key (PEM or JWK text) with DPoP proofs (RFC 9449).'],
    ['WithKeyID', 'kid string', 'Option', 'sets the kid of client assertions (default: the JWK\'s kid, else the key\'s RFC 7638 thumbprint).'],
    ['WithOrganization', 'orgID string', 'Option', 'sends Mandate-Organization on the operations that accept it (default MANDATE_ORGANIZATION); an instance-admin token needs it.'],
    ['WithScope', 'scope string', 'Option', 'sets the space-separated scopes the token manager requests, with client credentials or a federated token (default MANDATE_SCOPE).'],
    ['WithHTTPClient', 'client *http.Client', 'Option', 'sets the HTTP client.'],
    ['WithMaxRetries', 'n int', 'Option', 'sets how many more attempts a failed call may make (default 2).'],
    ['WithTimeout', 'd time.Duration', 'Option', 'sets the timeout of each attempt (default 60 s).'],
    ['WithHeader', 'name, value string', 'Option', 'adds a header to every request.'],
    ['WithLogger', 'logger *slog.Logger', 'Option', 'sets the debug logger; logs never hold credentials, tokens or bodies.'],
    ['WithRequestOrganization', 'orgID string', 'RequestOption', 'sends Mandate-Organization on this call.'],
    ['WithIdempotencyKey', 'key string', 'RequestOption', 'sets this call\'s Idempotency-Key, sent again on every retry.'],
    ['WithRequestHeader', 'name, value string', 'RequestOption', 'adds a header to this call.'],
    ['WithRequestMaxRetries', 'n int', 'RequestOption', 'overrides the retry count for this call.'],
    ['WithRequestTimeout', 'd time.Duration', 'RequestOption', 'overrides the per-attempt timeout for this call.'],
    ['WithResponseInto', 'dst **http.Response', 'RequestOption', 'stores the call\'s last HTTP response, with a re-readable body, in *dst (for an event stream, the last connection\'s response, without its body).'],
    ['WithLastEventID', 'id string', 'RequestOption', 'makes an event stream start after the event with this id (sent as Last-Event-ID, as the stream does itself when it reconnects); other calls ignore it.'],
    ['WithWebhookTolerance', 'd time.Duration', 'WebhookOption', 'sets how far a delivery\'s timestamp may be from now, either way (default DefaultWebhookTolerance).'],
    ['WithWebhookClock', 'now func() time.Time', 'WebhookOption', 'sets the clock the timestamp is checked against (tests); default time.Now.'],
  ];
  const checks: [string, string][] = [
    ['IsBadRequest', 'a 400, 413, 415 or 422 answer'],
    ['IsAuthentication', 'a 401 answer'],
    ['IsPermissionDenied', 'a 403 answer'],
    ['IsNotFound', 'a 404 answer'],
    ['IsConflict', 'a 409 answer'],
    ['IsRateLimit', 'a 429 answer'],
    ['IsInternalServer', 'a 5xx answer'],
    ['IsConnectionError', 'a request that got no response'],
    ['IsTimeout', 'an attempt or call that ran out of time'],
    ['IsConfigError', 'a client configuration that cannot work'],
  ];
  const webhookReasons = [
    'WebhookMissingHeader',
    'WebhookInvalidTimestamp',
    'WebhookTimestampOutOfTolerance',
    'WebhookInvalidSignature',
    'WebhookInvalidPayload',
  ];
  const kinds = ['KindBadRequest', 'KindAuthentication', 'KindPermissionDenied', 'KindNotFound', 'KindConflict', 'KindRateLimit', 'KindInternalServer', 'KindAPI'];
  const tokenErrors = [
    'ErrInvalidToken',
    'ErrTokenMalformed',
    'ErrTokenAlgorithm',
    'ErrTokenType',
    'ErrTokenUnknownKey',
    'ErrTokenSignature',
    'ErrTokenIssuer',
    'ErrTokenAudience',
    'ErrTokenExpired',
    'ErrTokenNotYetValid',
  ];
  const argNames = (params: string): string =>
    params
      .split(',')
      .map((p) => p.trim().split(' ')[0] ?? '')
      .join(', ');
  return [
    ...types.map(([name, doc]) => `// ${name} ${doc}\ntype ${name} = core.${name}`),
    '// OverflowEvent is the Event of the last message before the server drops a stream subscriber that\n// fell behind; the stream yields it, then reconnects and resumes after the last event.\nconst OverflowEvent = core.OverflowEvent',
    '// The defaults of WithMaxRetries and WithTimeout.\nconst (\n\tDefaultMaxRetries = core.DefaultMaxRetries\n\tDefaultTimeout    = core.DefaultTimeout\n)',
    '// DefaultWebhookTolerance is the default of WithWebhookTolerance: 5 minutes.\nconst DefaultWebhookTolerance = core.DefaultWebhookTolerance',
    `// Why VerifyWebhook rejected a delivery: a WebhookVerificationError's Reason.\nconst (\n${aligned(webhookReasons.map((r) => [r, `= core.${r}`]), '\t').join('\n')}\n)`,
    `// The families of an Error's status.\nconst (\n${aligned(kinds.map((k) => [k, `= core.${k}`]), '\t').join('\n')}\n)`,
    `// Access-token rejections; each wraps ErrInvalidToken.\nvar (\n${aligned(tokenErrors.map((e) => [e, `= core.${e}`]), '\t').join('\n')}\n)`,
    ...funcs.map(
      ([name, params, result, doc]) => `${comment(`${name} ${doc}`, '')}\nfunc ${name}(${params}) ${result} {\n\treturn core.${name}(${argNames(params)})\n}`,
    ),
    ...checks.map(([name, doc]) => `// ${name} reports ${doc}.\nfunc ${name}(err error) bool {\n\treturn core.${name}(err)\n}`),
    '// Value is a Nullable field holding v.\nfunc Value[T any](v T) core.Nullable[T] {\n\treturn core.Value(v)\n}',
    '// Null is a Nullable field holding JSON null (a PATCH body clears the field).\nfunc Null[T any]() core.Nullable[T] {\n\treturn core.Null[T]()\n}',
    '// Ptr returns a pointer to v, for optional fields.\nfunc Ptr[T any](v T) *T {\n\treturn &v\n}',
    '// WithDPoP binds the client\'s access tokens to a P-256 key generated in memory, with DPoP proofs (RFC 9449).\nfunc WithDPoP() Option {\n\treturn core.WithDPoP()\n}',
    '// NewProtectedResource checks opts and returns a ProtectedResource with its own JWKS cache.\nfunc NewProtectedResource(opts ProtectedResourceOptions) (*ProtectedResource, error) {\n\treturn core.NewProtectedResource(opts)\n}',
    '// ContextWithClaims returns ctx carrying the verified claims of the request\'s access token.\nfunc ContextWithClaims(ctx context.Context, claims *AccessTokenClaims) context.Context {\n\treturn core.ContextWithClaims(ctx, claims)\n}',
    '// ClaimsFromContext returns the claims a ProtectedResource\'s middleware verified, if any.\nfunc ClaimsFromContext(ctx context.Context) (*AccessTokenClaims, bool) {\n\treturn core.ClaimsFromContext(ctx)\n}',
    '// NewVerifier checks opts and returns a Verifier with its own JWKS cache.\nfunc NewVerifier(opts VerifyOptions) (*Verifier, error) {\n\treturn core.NewVerifier(opts)\n}',
    comment(
      'VerifyAccessToken checks an access token (signature against the JWKS, ES256, RS256 or EdDSA only, typ at+jwt, iss, aud, exp and nbf with 30 s leeway) and returns its claims. Calls with the same options share one JWKS cache.',
      '',
    ) +
      '\nfunc VerifyAccessToken(ctx context.Context, token string, opts VerifyOptions) (*AccessTokenClaims, error) {\n\treturn core.VerifyAccessToken(ctx, token, opts)\n}',
    // Variadic, so not in funcs (whose forwards pass each argument as it is).
    '// WithWebhookSecrets accepts these secrets too, e.g. the previous one while a secret rotates.\nfunc WithWebhookSecrets(secrets ...string) WebhookOption {\n\treturn core.WithWebhookSecrets(secrets...)\n}',
    comment(
      'VerifyWebhook checks a webhook delivery (Standard Webhooks: the three webhook-* headers, the timestamp within the tolerance, then any v1 signature matching any secret, compared in constant time) and returns its payload, which must be the envelope {type, timestamp, data}. payload is the raw request body: JSON that was decoded and encoded again no longer verifies. secret may carry its whsec_ prefix or not. A rejected delivery gives a *WebhookVerificationError; a secret that is not base64 gives a plain error.',
      '',
    ) +
      '\nfunc VerifyWebhook(payload []byte, header http.Header, secret string, opts ...WebhookOption) (*WebhookPayload, error) {\n\treturn core.VerifyWebhook[WebhookPayload](payload, header, secret, opts...)\n}',
  ].join('\n\n');
}
