package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// sleeps records the delays a client waited instead of sleeping.
type sleeps struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// withTestHooks replaces sleeping, jitter and (when clock is not nil) the clock.
func withTestHooks(s *sleeps, jitter float64, clock *fakeClock) Option {
	return func(c *Config) {
		c.sleep = s.sleep
		c.jitter = func() float64 { return jitter }
		if clock != nil {
			c.now = clock.Now
		}
	}
}

// testClient is a client of an httptest server running handler, with no environment.
func testClient(t *testing.T, handler http.HandlerFunc, opts ...Option) (*Client, *sleeps) {
	t.Helper()
	for _, name := range []string{"MANDATE_BASE_URL", "MANDATE_API_TOKEN", "MANDATE_CLIENT_ID", "MANDATE_CLIENT_SECRET", "MANDATE_CLIENT_PRIVATE_KEY", "MANDATE_FEDERATED_TOKEN", "MANDATE_FEDERATED_TOKEN_FILE", "MANDATE_ORGANIZATION", "MANDATE_SCOPE", "MANDATE_LOG"} {
		t.Setenv(name, "")
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	s := &sleeps{}
	all := append([]Option{WithBaseURL(srv.URL), withTestHooks(s, 0, nil)}, opts...)
	return NewClient(Defaults{BaseURL: "http://unused.invalid", TokenPath: "/oauth2/token", UserAgent: "mandate-go/test"}, all...), s
}

var (
	bearerGet  = &Request{Method: "GET", Path: "/v1/things", Auth: []AuthMode{AuthBearer}, OrganizationHeader: true}
	bearerPost = &Request{Method: "POST", Path: "/v1/things", JSON: map[string]string{"name": "x"}, Auth: []AuthMode{AuthBearer}, Idempotent: true}
)

func problem(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Request-Id", "req-"+code)
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type":"about:blank","title":"t","status":%d,"code":%q,"detail":"d-%s"}`, status, code, code)
}

func asError(err error, target **Error) bool { return errors.As(err, target) }
