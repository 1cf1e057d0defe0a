package core

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestDebugLogsNeverHoldSecretsTokensOrBodies(t *testing.T) {
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var calls atomic.Int32
	c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth2/token" {
			_, _ = w.Write([]byte(`{"access_token":"access-token-SECRET","token_type":"Bearer","expires_in":3600,"scope":""}`))
			return
		}
		w.Header().Set("X-Request-Id", "req-42")
		if calls.Add(1) == 1 {
			problem(w, 503, "UNAVAILABLE")
			return
		}
		_, _ = w.Write([]byte(`{"secret":"response-body-SECRET"}`))
	}, WithClientCredentials("agt_1", "client-secret-SECRET"), WithLogger(logger))

	req := &Request{Method: "POST", Path: "/v1/things", JSON: map[string]string{"password": "request-body-SECRET"}, Auth: []AuthMode{AuthBearer}, Idempotent: true}
	if err := c.Do(context.Background(), req, nil, nil); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{"method=POST", "/v1/things", "status=503", "status=200", "request_id=req-42", "mandate: retrying", "attempt=1", "duration=", "/oauth2/token"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"SECRET", "Authorization", "Bearer", "Basic", "agt_1"} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q:\n%s", secret, out)
		}
	}
}

func TestNoLoggerNoLogs(t *testing.T) {
	c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	if c.cfg.Logger != nil {
		t.Fatal("a logger without MANDATE_LOG or WithLogger")
	}
	if err := c.Do(context.Background(), bearerGet, nil, nil); err != nil {
		t.Fatal(err)
	}
}

func TestRedactURL(t *testing.T) {
	if got := redactURL("https://user:pass@api.example/v1?x=1"); got != "https://api.example/v1?x=1" {
		t.Fatal(got)
	}
}
