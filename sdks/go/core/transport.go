package core

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"
)

// AuthMode is one way an operation accepts authentication (from the spec's security).
type AuthMode string

const (
	AuthBearer      AuthMode = "bearer"      // Authorization: Bearer (API token or managed access token)
	AuthClientBasic AuthMode = "clientBasic" // Authorization: Basic client_id:client_secret, or private_key_jwt (see credentialFor)
	AuthNone        AuthMode = "none"
)

// Request describes one operation call; the generated resources fill it in.
type Request struct {
	Method string
	// Path is the operation's path with its parameters already escaped and substituted.
	Path  string
	Query url.Values
	// JSON, when not nil, is marshalled as the JSON body; Form, when not nil, is the
	// form-urlencoded body.
	JSON any
	Form url.Values
	// Auth lists the accepted ways to authenticate, in the spec's order.
	Auth []AuthMode
	// OrganizationHeader: the operation accepts Mandate-Organization.
	OrganizationHeader bool
	// Idempotent: the operation accepts Idempotency-Key.
	Idempotent bool
	// Resumable: the operation (an event stream) accepts Last-Event-ID.
	Resumable bool
	// Accept, when set, is the one media type of a binary response, sent as Accept instead
	// of JSON's.
	Accept string
}

// Client sends requests with the contract's authentication, retries, idempotency keys and
// logging. It is safe for concurrent use.
type Client struct {
	cfg       Config
	tokenPath string
	userAgent string
	tokens    *tokenManager
	issuer    *issuerCache
	nonces    dpopNonces
}

// NewClient builds a client from the spec's defaults, the MANDATE_* environment and opts.
func NewClient(defaults Defaults, opts ...Option) *Client {
	c := &Client{cfg: newConfig(defaults, opts), tokenPath: defaults.TokenPath}
	c.userAgent = strings.TrimSpace(defaults.UserAgent + " go/" + strings.TrimPrefix(runtime.Version(), "go"))
	c.tokens = &tokenManager{client: c}
	c.issuer = &issuerCache{client: c}
	return c
}

// Err is the configuration error every call of this client returns (a *ConfigError: a
// client secret and a private key both given, a private key that cannot be used, or a
// federated token given twice or beside a secret or key), or nil. NewClient cannot return
// it; check it after building a client to fail early.
func (c *Client) Err() error { return c.cfg.err }

// BaseURL is the base URL the client sends requests to.
func (c *Client) BaseURL() string { return c.cfg.BaseURL }

// HTTPClient is the HTTP client the client sends requests with.
func (c *Client) HTTPClient() *http.Client { return c.cfg.HTTPClient }

type credential int

const (
	credNone credential = iota
	credAPIToken
	credManagedToken
	credClientBasic
	credClientAssertion
)

// credentialFor picks how to authenticate an operation, per the contract: on the OAuth
// endpoints (those that accept client_secret_basic, all with form bodies) Basic when the
// client has a client id and secret, or a signed client assertion in the form when it has
// a private key; else a bearer token (the API token, else a managed access token, which a
// workload gets with its federated token); else nothing.
func (c *Client) credentialFor(modes []AuthMode) credential {
	hasSecret := c.cfg.ClientID != "" && c.cfg.ClientSecret != ""
	hasKey := c.cfg.ClientID != "" && c.cfg.clientKey != nil
	hasFederated := c.cfg.federated != nil
	accepts := func(mode AuthMode) bool {
		for _, m := range modes {
			if m == mode {
				return true
			}
		}
		return false
	}
	switch {
	case accepts(AuthClientBasic) && hasSecret:
		return credClientBasic
	case accepts(AuthClientBasic) && hasKey:
		return credClientAssertion
	case accepts(AuthBearer) && c.cfg.APIToken != "":
		return credAPIToken
	case accepts(AuthBearer) && (hasSecret || hasKey || hasFederated):
		return credManagedToken
	default:
		return credNone
	}
}

// basicAuth is RFC 6749 §2.3.1: id and secret form-urlencoded before Base64.
func basicAuth(id, secret string) string {
	raw := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(raw))
}

// Do sends req, retrying as the contract says, and decodes a success body into out: nil
// ignores the body, *string receives it as text, *[]byte as the bytes received (a binary
// body), anything else is JSON-decoded.
func (c *Client) Do(ctx context.Context, req *Request, out any, opts []RequestOption) error {
	if c.cfg.err != nil {
		return c.cfg.err
	}
	rc := newRequestConfig(opts)
	maxRetries, timeout := c.limits(&rc)
	body, contentType, err := encodeBody(req)
	if err != nil {
		return err
	}
	target := c.target(req)
	// One key per logical call, reused by every retry so the write happens once.
	idempotencyKey := ""
	if req.Idempotent {
		idempotencyKey = rc.idempotencyKey
		if idempotencyKey == "" {
			idempotencyKey = "sdk-" + newUUID()
		}
	}
	cred := c.credentialFor(req.Auth)
	if cred == credClientAssertion && contentType == "" {
		contentType = "application/x-www-form-urlencoded" // the assertion alone makes the form
	}
	refreshed, nonceRetried := false, false
	// Token requests carry a proof, so the token the server issues is bound to the key.
	tokenRequest := c.cfg.dpopKey != nil && req.Method == http.MethodPost && req.Path == c.tokenPath

	for attempt := 0; ; attempt++ {
		header := c.headers(req, &rc, contentType, idempotencyKey)
		usedToken, err := c.authorize(ctx, header, cred, req.Method, target)
		if err != nil {
			return err
		}
		if tokenRequest {
			// A new proof for every attempt: a jti is accepted once.
			proof, err := c.proof(req.Method, target, "")
			if err != nil {
				return err
			}
			header.Set("DPoP", proof)
		}
		attemptBody := body
		if cred == credClientAssertion {
			// A new assertion for every attempt: the server spends each jti once.
			if attemptBody, err = c.assertionBody(ctx, req.Form); err != nil {
				return err
			}
		}

		res, resBody, elapsed, err := c.attempt(ctx, req.Method, target, header, attemptBody, timeout)
		if err != nil {
			err = c.transportError(ctx, req.Method, target, err)
			retryable := ctx.Err() == nil && attempt < maxRetries
			c.logAttempt(ctx, req.Method, target, attempt, nil, elapsed, err)
			if !retryable {
				return err
			}
			if err := c.wait(ctx, attempt, nil, "transport error"); err != nil {
				return err
			}
			continue
		}
		c.logAttempt(ctx, req.Method, target, attempt, res, elapsed, nil)
		if rc.responseInto != nil {
			*rc.responseInto = replayable(res, resBody)
		}
		if res.StatusCode >= 200 && res.StatusCode < 300 {
			return decodeBody(res, resBody, out)
		}
		// The server wants its nonce in the proof (attempt saw it): sent again at once, once
		// per call, and not counted as a retry.
		if c.cfg.dpopKey != nil && header.Get("DPoP") != "" && !nonceRetried && nonceChallenge(res, resBody) {
			nonceRetried = true
			c.log(ctx, "mandate: DPoP nonce required, sending the request again with it", slog.String("method", req.Method), slog.String("url", redactURL(target)))
			attempt--
			continue
		}
		// A managed token the server refuses is refreshed once and the call retried once.
		if res.StatusCode == http.StatusUnauthorized && cred == credManagedToken && !refreshed {
			refreshed = true
			c.tokens.invalidate(usedToken)
			c.log(ctx, "mandate: access token refused, refreshing it and retrying once", slog.String("method", req.Method), slog.String("url", redactURL(target)))
			attempt--
			continue
		}
		if retryableStatus(res.StatusCode) && attempt < maxRetries {
			if err := c.wait(ctx, attempt, res.Header, fmt.Sprintf("status %d", res.StatusCode)); err != nil {
				return err
			}
			continue
		}
		return newError(req.Method, redactURL(target), res, resBody)
	}
}

func newRequestConfig(opts []RequestOption) requestConfig {
	rc := requestConfig{headers: http.Header{}}
	for _, opt := range opts {
		opt(&rc)
	}
	return rc
}

// limits are a call's retry count and per-attempt timeout: its own options, else the
// client's.
func (c *Client) limits(rc *requestConfig) (int, time.Duration) {
	maxRetries, timeout := c.cfg.MaxRetries, c.cfg.Timeout
	if rc.maxRetries != nil {
		maxRetries = *rc.maxRetries
	}
	if rc.timeout > 0 {
		timeout = rc.timeout
	}
	return maxRetries, timeout
}

func (c *Client) target(req *Request) string {
	if len(req.Query) == 0 {
		return c.cfg.BaseURL + req.Path
	}
	return c.cfg.BaseURL + req.Path + "?" + req.Query.Encode()
}

// authorize sets the Authorization header cred calls for; with a managed token it returns
// the token it used, so that a 401 can invalidate exactly that one. A DPoP-bound managed
// token goes with the DPoP scheme and a new proof for this request (method, target).
func (c *Client) authorize(ctx context.Context, header http.Header, cred credential, method, target string) (string, error) {
	switch cred {
	case credAPIToken:
		header.Set("Authorization", "Bearer "+c.cfg.APIToken)
	case credClientBasic:
		header.Set("Authorization", basicAuth(c.cfg.ClientID, c.cfg.ClientSecret))
	case credManagedToken:
		token, err := c.tokens.get(ctx)
		if err != nil {
			return "", err
		}
		if !token.dpop {
			header.Set("Authorization", "Bearer "+token.value)
			return token.value, nil
		}
		proof, err := c.proof(method, target, token.value)
		if err != nil {
			return "", err
		}
		header.Set("Authorization", "DPoP "+token.value)
		header.Set("DPoP", proof)
		return token.value, nil
	}
	return "", nil
}

// assertionBody is the form body of one attempt authenticated by private_key_jwt. A form
// that already holds a client_assertion is the caller's own authentication: sent as is.
func (c *Client) assertionBody(ctx context.Context, form url.Values) ([]byte, error) {
	if form.Has("client_assertion") {
		return []byte(form.Encode()), nil
	}
	audience, err := c.issuer.get(ctx)
	if err != nil {
		return nil, err
	}
	assertion, err := c.cfg.clientKey.assertion(c.cfg.ClientID, audience, c.cfg.now())
	if err != nil {
		return nil, err
	}
	return []byte(assertionForm(form, assertion).Encode()), nil
}

func (c *Client) headers(req *Request, rc *requestConfig, contentType, idempotencyKey string) http.Header {
	header := c.cfg.Headers.Clone()
	if req.Accept != "" {
		header.Set("Accept", req.Accept)
	} else {
		header.Set("Accept", "application/json, application/problem+json;q=0.9, */*;q=0.8")
	}
	header.Set("User-Agent", c.userAgent)
	if contentType != "" {
		header.Set("Content-Type", contentType)
	}
	if idempotencyKey != "" {
		header.Set("Idempotency-Key", idempotencyKey)
	}
	if req.OrganizationHeader {
		org := c.cfg.Organization
		if rc.organization != nil {
			org = *rc.organization
		}
		if org != "" {
			header.Set("Mandate-Organization", org)
		}
	}
	for name, values := range rc.headers {
		header[name] = append([]string(nil), values...)
	}
	return header
}

// attempt sends one HTTP request under the per-attempt timeout and reads the whole body.
func (c *Client) attempt(ctx context.Context, method, target string, header http.Header, body []byte, timeout time.Duration) (*http.Response, []byte, time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	httpReq, err := http.NewRequestWithContext(actx, method, target, reader)
	if err != nil {
		return nil, nil, 0, err
	}
	httpReq.Header = header
	start := c.cfg.now()
	res, err := c.cfg.HTTPClient.Do(httpReq)
	if err != nil {
		return nil, nil, c.cfg.now().Sub(start), err
	}
	defer res.Body.Close()
	c.nonces.observe(target, res.Header)
	resBody, err := io.ReadAll(res.Body)
	elapsed := c.cfg.now().Sub(start)
	if err != nil {
		return nil, nil, elapsed, err
	}
	return res, resBody, elapsed, nil
}

// transportError classifies a failed attempt as a timeout or a connection error.
func (c *Client) transportError(ctx context.Context, method, target string, err error) error {
	shown := redactURL(target)
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return fmt.Errorf("mandate: %s %s: %w", method, shown, ctx.Err())
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return &TimeoutError{Method: method, URL: shown, Err: context.DeadlineExceeded}
	default:
		return &ConnectionError{Method: method, URL: shown, Err: unwrapURLError(err)}
	}
}

func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// wait sleeps before retry number attempt+1, logging the decision.
func (c *Client) wait(ctx context.Context, attempt int, header http.Header, reason string) error {
	delay := RetryDelay(attempt, header, c.cfg.jitter(), c.cfg.now())
	c.log(ctx, "mandate: retrying", slog.Int("attempt", attempt+1), slog.String("reason", reason), slog.Duration("delay", delay))
	if err := c.cfg.sleep(ctx, delay); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return &TimeoutError{Err: err}
		}
		return err
	}
	return nil
}

func retryableStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusConflict ||
		status == http.StatusTooManyRequests || status >= 500
}

func encodeBody(req *Request) ([]byte, string, error) {
	switch {
	case req.JSON != nil:
		body, err := json.Marshal(req.JSON)
		if err != nil {
			return nil, "", fmt.Errorf("mandate: encoding the request body: %w", err)
		}
		return body, "application/json", nil
	case req.Form != nil:
		return []byte(req.Form.Encode()), "application/x-www-form-urlencoded", nil
	default:
		return nil, "", nil
	}
}

func decodeBody(res *http.Response, body []byte, out any) error {
	switch target := out.(type) {
	case nil:
		return nil
	case *string:
		*target = string(body)
		return nil
	case *[]byte:
		// As received: a []byte would otherwise be JSON-decoded from base64.
		*target = body
		return nil
	default:
		if len(body) == 0 {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("mandate: decoding the %d response: %w", res.StatusCode, err)
		}
		return nil
	}
}

// replayable copies a response whose body was read, so a caller can read it again. The
// request (and with it the Authorization header) is left out.
func replayable(res *http.Response, body []byte) *http.Response {
	out := *res
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.Request = nil
	return &out
}

// redactURL drops user info from a URL before it is logged or put in an error.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}
