package core

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetriesTransientStatusesWithBackoff(t *testing.T) {
	for _, status := range []int{408, 409, 429, 500, 502, 503} {
		var calls atomic.Int32
		c, s := testClient(t, func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) < 3 {
				problem(w, status, "TRANSIENT")
				return
			}
			_, _ = w.Write([]byte(`{"ok":true}`))
		}, WithAPIToken("tok"))
		var out map[string]bool
		if err := c.Do(context.Background(), bearerGet, &out, nil); err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		if calls.Load() != 3 || !out["ok"] {
			t.Fatalf("%d: %d calls, out %v", status, calls.Load(), out)
		}
		if got := s.all(); len(got) != 2 || got[0] != 500*time.Millisecond || got[1] != time.Second {
			t.Fatalf("%d: delays %v", status, got)
		}
	}
}

func TestGivesUpAfterMaxRetries(t *testing.T) {
	var calls atomic.Int32
	c, s := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		problem(w, 503, "UNAVAILABLE")
	}, WithAPIToken("tok"), WithMaxRetries(3))
	err := c.Do(context.Background(), bearerGet, nil, nil)
	if !IsInternalServer(err) || calls.Load() != 4 || len(s.all()) != 3 {
		t.Fatalf("err %v, %d calls, delays %v", err, calls.Load(), s.all())
	}
	// Per-request override.
	calls.Store(0)
	err = c.Do(context.Background(), bearerGet, nil, []RequestOption{WithRequestMaxRetries(0)})
	if !IsInternalServer(err) || calls.Load() != 1 {
		t.Fatalf("override: err %v, %d calls", err, calls.Load())
	}
}

func TestDoesNotRetryOtherStatuses(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 413, 415, 422} {
		var calls atomic.Int32
		c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			problem(w, status, "NOPE")
		}, WithAPIToken("tok"))
		if err := c.Do(context.Background(), bearerGet, nil, nil); err == nil || calls.Load() != 1 {
			t.Fatalf("%d: err %v, %d calls", status, err, calls.Load())
		}
	}
}

func TestRetryAfterReplacesTheDelay(t *testing.T) {
	var calls atomic.Int32
	c, s := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "7")
			problem(w, 429, "RATE_LIMITED")
			return
		}
		w.WriteHeader(204)
	}, WithAPIToken("tok"))
	if err := c.Do(context.Background(), bearerGet, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := s.all(); len(got) != 1 || got[0] != 7*time.Second {
		t.Fatalf("delays %v", got)
	}
}

func TestIdempotencyKeyIsReusedAcrossRetries(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		n := len(keys)
		mu.Unlock()
		if n%3 != 0 {
			problem(w, 500, "BOOM")
			return
		}
		w.WriteHeader(201)
	}, WithAPIToken("tok"))
	if err := c.Do(context.Background(), bearerPost, nil, nil); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || !strings.HasPrefix(keys[0], "sdk-") || len(keys[0]) != 40 || keys[1] != keys[0] || keys[2] != keys[0] {
		t.Fatalf("keys %q", keys)
	}
	// A second logical call gets a new key; a caller's key is used as given.
	if err := c.Do(context.Background(), bearerPost, nil, nil); err != nil {
		t.Fatal(err)
	}
	if keys[3] == keys[0] {
		t.Fatal("a new call reused the previous key")
	}
	if err := c.Do(context.Background(), bearerPost, nil, []RequestOption{WithIdempotencyKey("mine")}); err != nil {
		t.Fatal(err)
	}
	if keys[6] != "mine" || keys[7] != "mine" || keys[8] != "mine" {
		t.Fatalf("caller key: %q", keys[6:])
	}
	// Operations that do not accept the header never get one.
	if err := c.Do(context.Background(), bearerGet, nil, nil); err != nil {
		t.Fatal(err)
	}
	if keys[9] != "" {
		t.Fatalf("GET sent key %q", keys[9])
	}
}

func TestErrorMappingPerStatus(t *testing.T) {
	cases := []struct {
		status int
		kind   ErrorKind
		is     func(error) bool
	}{
		{400, KindBadRequest, IsBadRequest},
		{413, KindBadRequest, IsBadRequest},
		{415, KindBadRequest, IsBadRequest},
		{422, KindBadRequest, IsBadRequest},
		{401, KindAuthentication, IsAuthentication},
		{403, KindPermissionDenied, IsPermissionDenied},
		{404, KindNotFound, IsNotFound},
		{409, KindConflict, IsConflict},
		{429, KindRateLimit, IsRateLimit},
		{500, KindInternalServer, IsInternalServer},
		{503, KindInternalServer, IsInternalServer},
		{418, KindAPI, func(err error) bool { return !IsBadRequest(err) && !IsNotFound(err) }},
	}
	for _, tc := range cases {
		c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) { problem(w, tc.status, "CODE_X") }, WithAPIToken("tok"), WithMaxRetries(0))
		err := c.Do(context.Background(), bearerGet, nil, nil)
		var apiErr *Error
		if !errors.As(err, &apiErr) {
			t.Fatalf("%d: %T %v", tc.status, err, err)
		}
		if apiErr.Kind != tc.kind || !tc.is(err) || apiErr.StatusCode != tc.status || apiErr.Code != "CODE_X" ||
			apiErr.RequestID != "req-CODE_X" || apiErr.Message != "d-CODE_X" || apiErr.Header.Get("Content-Type") == "" {
			t.Fatalf("%d: %+v", tc.status, apiErr)
		}
		if body, ok := apiErr.Body.(map[string]any); !ok || body["code"] != "CODE_X" || len(apiErr.RawBody) == 0 {
			t.Fatalf("%d: body %v", tc.status, apiErr.Body)
		}
		if IsConnectionError(err) || IsTimeout(err) {
			t.Fatalf("%d: also a transport error", tc.status)
		}
	}
}

func TestOAuthErrorCode(t *testing.T) {
	c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"error":"invalid_scope","error_description":"no such scope"}`))
	}, WithMaxRetries(0))
	err := c.Do(context.Background(), &Request{Method: "POST", Path: "/oauth2/token", Form: map[string][]string{}, Auth: []AuthMode{AuthClientBasic, AuthNone}}, nil, nil)
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Code != "invalid_scope" || apiErr.Message != "no such scope" || !IsBadRequest(err) {
		t.Fatalf("%v", err)
	}
	if !strings.Contains(err.Error(), "400 invalid_scope") {
		t.Fatalf("message %q", err.Error())
	}
}

func TestConnectionErrorsAreRetriedThenReported(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more
	c, s := testClient(t, func(w http.ResponseWriter, r *http.Request) {}, WithBaseURL(base), WithAPIToken("tok"))
	err := c.Do(context.Background(), bearerGet, nil, nil)
	var connErr *ConnectionError
	if !errors.As(err, &connErr) || !IsConnectionError(err) || IsTimeout(err) {
		t.Fatalf("%T %v", err, err)
	}
	if len(s.all()) != 2 {
		t.Fatalf("delays %v", s.all())
	}
}

func TestAttemptTimeoutIsATimeoutError(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	c, s := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, WithAPIToken("tok"), WithTimeout(50*time.Millisecond), WithMaxRetries(1))
	defer close(release)
	err := c.Do(context.Background(), bearerGet, nil, nil)
	if !IsTimeout(err) || !errors.Is(err, context.DeadlineExceeded) || IsConnectionError(err) {
		t.Fatalf("%T %v", err, err)
	}
	if calls.Load() != 2 || len(s.all()) != 1 {
		t.Fatalf("%d calls, delays %v", calls.Load(), s.all())
	}
	// The per-request timeout overrides the client's.
	start := time.Now()
	err = c.Do(context.Background(), bearerGet, nil, []RequestOption{WithRequestTimeout(10 * time.Millisecond), WithRequestMaxRetries(0)})
	if !IsTimeout(err) || time.Since(start) > 2*time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
}

func TestCallerCancellationIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	c, s := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		cancel()
		<-r.Context().Done()
	}, WithAPIToken("tok"))
	err := c.Do(ctx, bearerGet, nil, nil)
	if !errors.Is(err, context.Canceled) || calls.Load() != 1 || len(s.all()) != 0 {
		t.Fatalf("err %v, %d calls, delays %v", err, calls.Load(), s.all())
	}
}

func TestAuthenticationPerOperation(t *testing.T) {
	var got []string
	handler := func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
		w.WriteHeader(204)
	}
	basicOp := &Request{Method: "POST", Path: "/oauth2/introspect", Form: map[string][]string{"token": {"t"}}, Auth: []AuthMode{AuthClientBasic, AuthBearer, AuthNone}}
	publicOp := &Request{Method: "GET", Path: "/health", Auth: []AuthMode{AuthNone}}

	c, _ := testClient(t, handler, WithAPIToken("admin-token"))
	for _, req := range []*Request{bearerGet, basicOp, publicOp} {
		if err := c.Do(context.Background(), req, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got[0] != "Bearer admin-token" || got[1] != "Bearer admin-token" || got[2] != "" {
		t.Fatalf("API token client: %q", got)
	}

	got = nil
	c, _ = testClient(t, handler, WithClientCredentials("agt_1", "s3cr:et &"))
	if err := c.Do(context.Background(), basicOp, nil, nil); err != nil {
		t.Fatal(err)
	}
	// RFC 6749 §2.3.1: form-urlencoded before Base64.
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("agt_1:s3cr%3Aet+%26"))
	if got[0] != want {
		t.Fatalf("basic: %q, want %q", got[0], want)
	}

	got = nil
	c, _ = testClient(t, handler)
	if err := c.Do(context.Background(), bearerGet, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got[0] != "" {
		t.Fatalf("no credentials: %q", got[0])
	}
}

func TestHeadersOrganizationAndRawResponse(t *testing.T) {
	var seen http.Header
	var body string
	c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		raw, _ := io.ReadAll(r.Body)
		body = string(raw)
		w.Header().Set("X-Request-Id", "req-1")
		_, _ = w.Write([]byte(`{"id":"x"}`))
	}, WithAPIToken("tok"), WithOrganization("org_default"), WithHeader("X-Team", "blue"))

	var res *http.Response
	var out map[string]string
	err := c.Do(context.Background(), bearerGet, &out, []RequestOption{WithRequestOrganization("org_other"), WithRequestHeader("X-Trace", "t1"), WithResponseInto(&res)})
	if err != nil {
		t.Fatal(err)
	}
	if seen.Get("Mandate-Organization") != "org_other" || seen.Get("X-Team") != "blue" || seen.Get("X-Trace") != "t1" || !strings.HasPrefix(seen.Get("User-Agent"), "mandate-go/test go/") {
		t.Fatalf("headers %v", seen)
	}
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || res.Header.Get("X-Request-Id") != "req-1" || string(raw) != `{"id":"x"}` || out["id"] != "x" || res.Request != nil {
		t.Fatalf("raw response %d %v %q", res.StatusCode, res.Header, raw)
	}

	// The client's organization by default; never on operations that do not accept it.
	if err := c.Do(context.Background(), bearerGet, nil, nil); err != nil || seen.Get("Mandate-Organization") != "org_default" {
		t.Fatalf("default org: %v %q", err, seen.Get("Mandate-Organization"))
	}
	if err := c.Do(context.Background(), bearerPost, nil, nil); err != nil || seen.Get("Mandate-Organization") != "" {
		t.Fatalf("org on an operation without it: %q", seen.Get("Mandate-Organization"))
	}
	if seen.Get("Content-Type") != "application/json" || body != `{"name":"x"}` {
		t.Fatalf("JSON body: %q %q", seen.Get("Content-Type"), body)
	}
}

func TestRawResponseOnError(t *testing.T) {
	c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) { problem(w, 404, "THING_NOT_FOUND") }, WithAPIToken("tok"))
	var res *http.Response
	err := c.Do(context.Background(), bearerGet, nil, []RequestOption{WithResponseInto(&res)})
	if !IsNotFound(err) || res == nil || res.StatusCode != 404 {
		t.Fatalf("%v %v", err, res)
	}
}

func TestTextBody(t *testing.T) {
	c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("metric 1\n"))
	})
	var out string
	if err := c.Do(context.Background(), &Request{Method: "GET", Path: "/metrics", Auth: []AuthMode{AuthNone}}, &out, nil); err != nil || out != "metric 1\n" {
		t.Fatalf("%v %q", err, out)
	}
}

func TestEnvironmentDefaults(t *testing.T) {
	t.Setenv("MANDATE_BASE_URL", "https://env.example/")
	t.Setenv("MANDATE_API_TOKEN", "env-token")
	t.Setenv("MANDATE_CLIENT_ID", "agt_env")
	t.Setenv("MANDATE_CLIENT_SECRET", "env-secret")
	t.Setenv("MANDATE_ORGANIZATION", "org_env")
	t.Setenv("MANDATE_SCOPE", "agents:read")
	t.Setenv("MANDATE_LOG", "debug")
	cfg := NewClient(Defaults{BaseURL: "https://spec.example"}).cfg
	if cfg.BaseURL != "https://env.example" || cfg.APIToken != "env-token" || cfg.ClientID != "agt_env" || cfg.ClientSecret != "env-secret" ||
		cfg.Organization != "org_env" || cfg.Scope != "agents:read" || cfg.Logger == nil || cfg.MaxRetries != 2 || cfg.Timeout != 60*time.Second {
		t.Fatalf("%+v", cfg)
	}
	cfg = NewClient(Defaults{BaseURL: "https://spec.example"}, WithBaseURL("https://opt.example"), WithAPIToken("opt"), WithMaxRetries(-3)).cfg
	if cfg.BaseURL != "https://opt.example" || cfg.APIToken != "opt" || cfg.MaxRetries != 0 {
		t.Fatalf("options do not win: %+v", cfg)
	}
	t.Setenv("MANDATE_BASE_URL", "")
	t.Setenv("MANDATE_LOG", "")
	cfg = NewClient(Defaults{BaseURL: "https://spec.example"}).cfg
	if cfg.BaseURL != "https://spec.example" || cfg.Logger != nil {
		t.Fatalf("spec default: %+v", cfg)
	}
}
