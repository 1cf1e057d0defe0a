package core

import (
	"context"
	"log/slog"
	"net/url"
	"sync"
	"time"
)

// tokenManager keeps the client-credentials access token: cached until shortly before it
// expires, fetched by one request however many goroutines need it at once.
type tokenManager struct {
	client *Client

	mu        sync.Mutex
	token     string
	refreshAt time.Time
	inflight  *tokenFetch
}

type tokenFetch struct {
	done  chan struct{}
	token string
	err   error
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// get returns a valid access token, joining the in-flight fetch when there is one.
func (m *tokenManager) get(ctx context.Context) (string, error) {
	m.mu.Lock()
	if m.token != "" && m.client.cfg.now().Before(m.refreshAt) {
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
		return "", ctx.Err()
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

func (m *tokenManager) request(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if m.client.cfg.Scope != "" {
		form.Set("scope", m.client.cfg.Scope)
	}
	var out tokenResponse
	req := &Request{Method: "POST", Path: m.client.tokenPath, Form: form, Auth: []AuthMode{AuthClientBasic}}
	if err := m.client.Do(ctx, req, &out, nil); err != nil {
		return "", 0, err
	}
	m.client.log(ctx, "mandate: access token fetched", slog.Int64("expires_in", out.ExpiresIn))
	return out.AccessToken, time.Duration(out.ExpiresIn) * time.Second, nil
}

// invalidate forgets the token the server refused, unless another goroutine already
// replaced it (then that newer token is used as is).
func (m *tokenManager) invalidate(refused string) {
	m.mu.Lock()
	if m.token == refused {
		m.token = ""
	}
	m.mu.Unlock()
}
