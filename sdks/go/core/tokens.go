package core

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"
)

// tokenManager keeps the access token of an agent (client credentials) or a workload (the
// JWT bearer grant with its federated token): cached until shortly before it expires,
// fetched by one request however many goroutines need it at once.
type tokenManager struct {
	client *Client

	mu        sync.Mutex
	token     managedToken
	refreshAt time.Time
	inflight  *tokenFetch
}

// managedToken is an access token and whether the server bound it to the client's DPoP key
// (token type DPoP): such a token is sent with the DPoP scheme and a proof.
type managedToken struct {
	value string
	dpop  bool
}

type tokenFetch struct {
	done  chan struct{}
	token managedToken
	err   error
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// get returns a valid access token, joining the in-flight fetch when there is one.
func (m *tokenManager) get(ctx context.Context) (managedToken, error) {
	m.mu.Lock()
	if m.token.value != "" && m.client.cfg.now().Before(m.refreshAt) {
		token := m.token
		m.mu.Unlock()
		return token, nil
	}
	fetch := m.inflight
	if fetch == nil {
		fetch = &tokenFetch{done: make(chan struct{})}
		m.inflight = fetch
		// The fetch outlives a caller that gives up: the others still wait for it.
		go m.fetch(context.WithoutCancel(ctx), fetch)
	}
	m.mu.Unlock()
	select {
	case <-fetch.done:
		return fetch.token, fetch.err
	case <-ctx.Done():
		return managedToken{}, ctx.Err()
	}
}

func (m *tokenManager) fetch(ctx context.Context, fetch *tokenFetch) {
	token, lifetime, err := m.request(ctx)
	m.mu.Lock()
	if err == nil {
		m.token = token
		m.refreshAt = m.client.cfg.now().Add(cacheFor(lifetime))
	}
	m.inflight = nil
	m.mu.Unlock()
	fetch.token, fetch.err = token, err
	close(fetch.done)
}

// cacheFor keeps a token until 60 s before it expires, or until half its lifetime has
// passed when that margin is more than half of it.
func cacheFor(lifetime time.Duration) time.Duration {
	return lifetime - min(60*time.Second, lifetime/2)
}

func (m *tokenManager) request(ctx context.Context) (managedToken, time.Duration, error) {
	form, auth, err := m.grant(ctx)
	if err != nil {
		return managedToken{}, 0, err
	}
	if m.client.cfg.Scope != "" {
		form.Set("scope", m.client.cfg.Scope)
	}
	var out tokenResponse
	req := &Request{Method: "POST", Path: m.client.tokenPath, Form: form, Auth: auth}
	if err := m.client.Do(ctx, req, &out, nil); err != nil {
		// The server refusing the grant itself (a federated token no trust policy accepts)
		// is, for the call that needed the token, a failure to authenticate like a 401.
		var apiErr *Error
		if errors.As(err, &apiErr) && apiErr.Code == "invalid_grant" {
			apiErr.Kind = KindAuthentication
		}
		return managedToken{}, 0, err
	}
	m.client.log(ctx, "mandate: access token fetched", slog.Int64("expires_in", out.ExpiresIn))
	// A Bearer token from a server that did not bind it is used as any bearer token.
	token := managedToken{value: out.AccessToken, dpop: strings.EqualFold(out.TokenType, "DPoP") && m.client.cfg.dpopKey != nil}
	return token, time.Duration(out.ExpiresIn) * time.Second, nil
}

// grant is the form of one token request and how it authenticates: for a workload, the JWT
// bearer grant with its federated token, read now (so a rotated file is picked up), and no
// client authentication; for an agent, client credentials with its secret or key.
func (m *tokenManager) grant(ctx context.Context) (url.Values, []AuthMode, error) {
	cfg := &m.client.cfg
	if cfg.federated == nil {
		return url.Values{"grant_type": {"client_credentials"}}, []AuthMode{AuthClientBasic}, nil
	}
	token, err := cfg.federated(ctx)
	if err == nil && token == "" {
		err = errors.New("the token source returned an empty token")
	}
	if err != nil {
		return nil, nil, m.client.federatedTokenError(err)
	}
	form := url.Values{"grant_type": {jwtBearerGrant}, "assertion": {token}}
	if cfg.ClientID != "" {
		form.Set("client_id", cfg.ClientID)
	}
	return form, []AuthMode{AuthNone}, nil
}

// invalidate forgets the token the server refused, unless another goroutine already
// replaced it (then that newer token is used as is).
func (m *tokenManager) invalidate(refused string) {
	m.mu.Lock()
	if m.token.value == refused {
		m.token = managedToken{}
	}
	m.mu.Unlock()
}
