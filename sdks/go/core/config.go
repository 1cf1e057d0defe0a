package core

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"time"
)

const (
	DefaultMaxRetries = 2
	DefaultTimeout    = 60 * time.Second
)

// Defaults are the spec-derived values the generated client passes to NewClient.
type Defaults struct {
	BaseURL   string // the spec's first server
	TokenPath string // the client-credentials token endpoint
	UserAgent string
}

// Config is a client's settings after the options and environment were applied.
type Config struct {
	BaseURL      string
	APIToken     string
	ClientID     string
	ClientSecret string
	// PrivateKey authenticates the agent with private_key_jwt instead of a secret: PEM or
	// JWK text (string or []byte), a JWK map[string]any, or a crypto.Signer (see
	// WithPrivateKey). KeyID, when set, is the kid sent with its assertions.
	PrivateKey any
	KeyID      string

	// FederatedToken, FederatedTokenFile and FederatedTokenSource are a workload's external
	// OIDC token (workload identity federation), exchanged for access tokens by the JWT bearer
	// grant in place of a secret or key; at most one of them is set. ClientID is optional
	// with them: it picks the agent when trust policies of several agents accept the token.
	FederatedToken       string
	FederatedTokenFile   string
	FederatedTokenSource FederatedTokenSource

	// DPoP gives the client a DPoP proof key (RFC 9449): DPoPKey, PEM or private JWK text,
	// or, when no key was given, a new EC P-256 key made when the client is built (see
	// WithDPoP, WithDPoPKey). No environment variable sets it.
	DPoP    bool
	DPoPKey string

	Organization string
	Scope        string
	HTTPClient   *http.Client
	MaxRetries   int
	Timeout      time.Duration
	Headers      http.Header
	Logger       *slog.Logger

	// credentialsGiven records that a credential option (WithAPIToken, WithClientCredentials,
	// WithClientID, WithPrivateKey or a WithFederatedToken option) was applied, even with
	// empty values: the environment's credentials are then not read.
	credentialsGiven bool
	// dpopKeyGiven records WithDPoPKey, even with an empty key (a configuration error).
	dpopKeyGiven bool

	// clientKey is PrivateKey parsed; dpopKey is the DPoP proof key; federated reads the
	// federated token, whichever form it was given in; err is a configuration that cannot
	// work, returned by every call.
	clientKey *clientKey
	dpopKey   *clientKey
	federated FederatedTokenSource
	err       error

	// Hooks for tests: sleeping between attempts, the jitter source, the clock and how long
	// an event stream may stay silent (zero: streamIdleTimeout).
	sleep      func(ctx context.Context, d time.Duration) error
	jitter     func() float64
	now        func() time.Time
	streamIdle time.Duration
}

// Option configures a client.
type Option func(*Config)

// WithBaseURL sets the API's base URL (default MANDATE_BASE_URL, else the spec's server).
func WithBaseURL(url string) Option {
	return func(c *Config) { c.BaseURL = strings.TrimRight(url, "/") }
}

// WithAPIToken authenticates with an admin API token. Like every credential option
// (WithClientCredentials, WithClientID, WithPrivateKey, WithFederatedToken,
// WithFederatedTokenFile, WithFederatedTokenSource), it turns off all the environment's
// credentials (MANDATE_API_TOKEN, MANDATE_CLIENT_ID, MANDATE_CLIENT_SECRET,
// MANDATE_CLIENT_PRIVATE_KEY, MANDATE_FEDERATED_TOKEN and MANDATE_FEDERATED_TOKEN_FILE), even
// when token is empty; a client given none of these options takes its credentials from those
// variables.
func WithAPIToken(token string) Option {
	return func(c *Config) { c.APIToken, c.credentialsGiven = token, true }
}

// WithClientCredentials authenticates as an agent: HTTP Basic on the OAuth endpoints, and
// managed access tokens from the client-credentials grant on the API. Like WithAPIToken,
// it turns off all the environment's credentials, so an agent client never picks up an
// admin token from MANDATE_API_TOKEN.
func WithClientCredentials(clientID, clientSecret string) Option {
	return func(c *Config) { c.ClientID, c.ClientSecret, c.credentialsGiven = clientID, clientSecret, true }
}

// WithPrivateKey authenticates as an agent with private_key_jwt (RFC 7523 §2.2): each
// request to the token, introspection and revocation endpoints carries a new assertion
// signed with key, whose public half was registered with AgentKeys.Add. No secret is
// sent. key is one of:
//   - PEM text (string or []byte): PKCS#8 ("BEGIN PRIVATE KEY"), or SEC1 or PKCS#1;
//   - a private JWK as JSON text (string or []byte) or as a map[string]any;
//   - a crypto.Signer (*ecdsa.PrivateKey, ed25519.PrivateKey, *rsa.PrivateKey, or a signer
//     backed by a KMS or HSM).
//
// EC P-256 keys sign with ES256, Ed25519 with EdDSA, RSA (at least 2048 bits) with RS256,
// or PS256 when the JWK's alg says so. The kid sent is WithKeyID's, else the JWK's kid,
// else the key's RFC 7638 thumbprint, which is the kid the server gives a key registered
// without one. Like WithAPIToken, it turns off all the environment's credentials. A key
// that cannot be used, or a client secret given too, is a *ConfigError that every call
// of the client returns.
func WithPrivateKey(clientID string, key any) Option {
	return func(c *Config) { c.ClientID, c.PrivateKey, c.credentialsGiven = clientID, key, true }
}

// WithClientID sets the agent's client id alone, for a workload authenticating with a
// federated token: it names the agent when trust policies of several agents accept the
// token. Like WithAPIToken, it turns off all the environment's credentials.
func WithClientID(clientID string) Option {
	return func(c *Config) { c.ClientID, c.credentialsGiven = clientID, true }
}

// WithFederatedToken authenticates a workload with an external OIDC token (a CI job's ID
// token, a Kubernetes service-account token): the token manager exchanges it for access
// tokens with the JWT bearer grant (RFC 7523 §2.1), and the trust policy that accepts it
// names the agent. No secret or key is involved; one given too is a *ConfigError. A token
// that expires is better given with WithFederatedTokenFile or WithFederatedTokenSource. Like
// WithAPIToken, it turns off all the environment's credentials.
func WithFederatedToken(token string) Option {
	return func(c *Config) { c.FederatedToken, c.credentialsGiven = token, true }
}

// WithFederatedTokenFile is WithFederatedToken with the token read from path, again for every
// token request, so a token the platform rotates in place (a projected Kubernetes token) is
// always the current one. A file that cannot be read, or is empty, fails that request with an
// authentication error that names the file.
func WithFederatedTokenFile(path string) Option {
	return func(c *Config) { c.FederatedTokenFile, c.credentialsGiven = path, true }
}

// WithFederatedTokenSource is WithFederatedToken with the token returned by source, called
// for every token request (to fetch a fresh ID token from the platform, for instance).
func WithFederatedTokenSource(source FederatedTokenSource) Option {
	return func(c *Config) { c.FederatedTokenSource, c.credentialsGiven = source, true }
}

// WithKeyID sets the kid sent with client assertions, for a key registered under a kid of
// its own that its JWK does not carry.
func WithKeyID(kid string) Option { return func(c *Config) { c.KeyID = kid } }

// WithOrganization sends Mandate-Organization on the operations that accept it (default
// MANDATE_ORGANIZATION); an instance admin names the organization it acts in this way.
func WithOrganization(orgID string) Option { return func(c *Config) { c.Organization = orgID } }

// WithScope sets the space-separated scopes the token manager requests, with client
// credentials or a federated token (default MANDATE_SCOPE).
func WithScope(scope string) Option { return func(c *Config) { c.Scope = scope } }

// WithHTTPClient sets the HTTP client (default: a new http.Client with no timeout of its
// own; the per-attempt timeout is applied through the request context).
func WithHTTPClient(client *http.Client) Option { return func(c *Config) { c.HTTPClient = client } }

// WithMaxRetries sets how many more attempts a failed call may make (default 2).
func WithMaxRetries(n int) Option {
	return func(c *Config) { c.MaxRetries = max(n, 0) }
}

// WithTimeout sets the timeout of each attempt (default 60 s).
func WithTimeout(d time.Duration) Option { return func(c *Config) { c.Timeout = d } }

// WithHeader adds a header sent with every request.
func WithHeader(name, value string) Option {
	return func(c *Config) { c.Headers.Add(name, value) }
}

// WithLogger sets the logger for debug logs (default: a text logger on stderr when
// MANDATE_LOG=debug, else none). Logs never contain credentials, tokens or bodies.
func WithLogger(logger *slog.Logger) Option { return func(c *Config) { c.Logger = logger } }

// newConfig applies the environment, then the options, which win over it. Base URL,
// organization and scope fall back to their variables one by one; the credentials come
// from one place only: the options when any credential option was applied, else the
// environment (see sdks/README.md, "Where credentials come from").
func newConfig(defaults Defaults, opts []Option) Config {
	cfg := Config{
		BaseURL:      strings.TrimRight(envOr("MANDATE_BASE_URL", defaults.BaseURL), "/"),
		Organization: os.Getenv("MANDATE_ORGANIZATION"),
		Scope:        os.Getenv("MANDATE_SCOPE"),
		MaxRetries:   DefaultMaxRetries,
		Timeout:      DefaultTimeout,
		Headers:      http.Header{},
		sleep:        sleepContext,
		jitter:       rand.Float64,
		now:          time.Now,
	}
	if strings.EqualFold(os.Getenv("MANDATE_LOG"), "debug") {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	// An Option written by hand may set a credential field without the flag; a credential
	// it set still counts as given.
	given := cfg.credentialsGiven || cfg.APIToken != "" || cfg.ClientID != "" || cfg.ClientSecret != "" || !noKey(cfg.PrivateKey) ||
		cfg.FederatedToken != "" || cfg.FederatedTokenFile != "" || cfg.FederatedTokenSource != nil
	if !given {
		cfg.APIToken = os.Getenv("MANDATE_API_TOKEN")
		cfg.ClientID = os.Getenv("MANDATE_CLIENT_ID")
		cfg.ClientSecret = os.Getenv("MANDATE_CLIENT_SECRET")
		if key := os.Getenv("MANDATE_CLIENT_PRIVATE_KEY"); key != "" {
			cfg.PrivateKey = key
		}
		cfg.FederatedToken = os.Getenv("MANDATE_FEDERATED_TOKEN")
		cfg.FederatedTokenFile = os.Getenv("MANDATE_FEDERATED_TOKEN_FILE")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	cfg.federated, cfg.err = federatedSource(&cfg)
	if cfg.err == nil {
		cfg.clientKey, cfg.err = agentKey(&cfg)
	}
	if cfg.err == nil {
		cfg.dpopKey, cfg.err = dpopKeyOf(&cfg)
	}
	return cfg
}

// agentKey parses the private key, if any, and refuses a configuration with two ways of
// authenticating the agent: the server takes one per request.
func agentKey(cfg *Config) (*clientKey, error) {
	if noKey(cfg.PrivateKey) {
		return nil, nil
	}
	if cfg.ClientSecret != "" {
		return nil, &ConfigError{Msg: "both a client secret and a private key are configured; give one (private_key_jwt or client_secret_basic)"}
	}
	if cfg.ClientID == "" {
		return nil, &ConfigError{Msg: "a private key needs the agent's client id (WithPrivateKey's clientID, or MANDATE_CLIENT_ID)"}
	}
	return parseClientKey(cfg.PrivateKey, cfg.KeyID)
}

// noKey: nil or empty text counts as no private key, as an empty secret is no secret.
func noKey(key any) bool {
	switch k := key.(type) {
	case nil:
		return true
	case string:
		return k == ""
	case []byte:
		return len(k) == 0
	}
	return false
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// RequestOption adjusts one call.
type RequestOption func(*requestConfig)

type requestConfig struct {
	organization   *string
	idempotencyKey string
	headers        http.Header
	maxRetries     *int
	timeout        time.Duration
	responseInto   **http.Response
	lastEventID    string
}

// WithRequestOrganization sends Mandate-Organization on this call.
func WithRequestOrganization(orgID string) RequestOption {
	return func(r *requestConfig) { r.organization = &orgID }
}

// WithIdempotencyKey sets the call's Idempotency-Key (default: "sdk-" + a random UUID on
// the operations that accept one); every retry of the call sends the same key.
func WithIdempotencyKey(key string) RequestOption {
	return func(r *requestConfig) { r.idempotencyKey = key }
}

// WithRequestHeader adds a header to this call.
func WithRequestHeader(name, value string) RequestOption {
	return func(r *requestConfig) { r.headers.Add(name, value) }
}

// WithRequestMaxRetries overrides the client's retry count for this call.
func WithRequestMaxRetries(n int) RequestOption {
	return func(r *requestConfig) { n = max(n, 0); r.maxRetries = &n }
}

// WithRequestTimeout overrides the per-attempt timeout for this call.
func WithRequestTimeout(d time.Duration) RequestOption {
	return func(r *requestConfig) { r.timeout = d }
}

// WithResponseInto stores the call's last HTTP response in *dst (also when the call
// returns an *Error); its Body is the complete raw body, readable again. For an event
// stream it is the response of the last connection, with an empty Body (the events are
// read through the Stream).
func WithResponseInto(dst **http.Response) RequestOption {
	return func(r *requestConfig) { r.responseInto = dst }
}

// WithLastEventID makes an event stream start after the event with this id: the stream
// sends it as Last-Event-ID, as it does by itself with the last id received whenever it
// reconnects. Calls that are not event streams ignore it.
func WithLastEventID(id string) RequestOption {
	return func(r *requestConfig) { r.lastEventID = id }
}
