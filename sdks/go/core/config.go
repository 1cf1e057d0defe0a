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
	Organization string
	Scope        string
	HTTPClient   *http.Client
	MaxRetries   int
	Timeout      time.Duration
	Headers      http.Header
	Logger       *slog.Logger

	// credentialsGiven records that WithAPIToken or WithClientCredentials was applied (even
	// with empty values): the environment's credentials are then not read at all.
	credentialsGiven bool

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

// WithAPIToken authenticates with an admin API token. Like WithClientCredentials, it turns
// off all the environment's credentials (MANDATE_API_TOKEN, MANDATE_CLIENT_ID and
// MANDATE_CLIENT_SECRET), even when token is empty; a client given neither option takes
// its credentials from those variables.
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

// WithOrganization sends Mandate-Organization on the operations that accept it (default
// MANDATE_ORGANIZATION); an instance admin names the organization it acts in this way.
func WithOrganization(orgID string) Option { return func(c *Config) { c.Organization = orgID } }

// WithScope sets the space-separated scopes requested with client credentials (default
// MANDATE_SCOPE).
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
	given := cfg.credentialsGiven || cfg.APIToken != "" || cfg.ClientID != "" || cfg.ClientSecret != ""
	if !given {
		cfg.APIToken = os.Getenv("MANDATE_API_TOKEN")
		cfg.ClientID = os.Getenv("MANDATE_CLIENT_ID")
		cfg.ClientSecret = os.Getenv("MANDATE_CLIENT_SECRET")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	return cfg
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
