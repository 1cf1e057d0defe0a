package core

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tokenServer issues numbered tokens; the API accepts the tokens `accept` says it does.
type tokenServer struct {
	issued   atomic.Int32
	apiCalls atomic.Int32
	delay    time.Duration
	accept   func(token string) bool
	lifetime int
}

func (s *tokenServer) handler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth2/token" {
			if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
				t.Errorf("token request form: %v %v", err, r.PostForm)
			}
			if id, secret, ok := r.BasicAuth(); !ok || id != "agt_1" || secret != "sk" {
				w.WriteHeader(401)
				_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
				return
			}
			time.Sleep(s.delay)
			n := s.issued.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":%d,"scope":%q}`, n, s.lifetime, r.PostForm.Get("scope"))
			return
		}
		s.apiCalls.Add(1)
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !s.accept(token) {
			problem(w, 401, "INVALID_TOKEN")
			return
		}
		_, _ = w.Write([]byte(`{"token":"` + token + `"}`))
	}
}

func TestTokenSingleFlightUnderManyGoroutines(t *testing.T) {
	ts := &tokenServer{delay: 50 * time.Millisecond, accept: func(string) bool { return true }, lifetime: 3600}
	c, _ := testClient(t, ts.handler(t), WithClientCredentials("agt_1", "sk"))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out map[string]string
			if err := c.Do(context.Background(), bearerGet, &out, nil); err != nil {
				errs <- err
			} else if out["token"] != "at-1" {
				errs <- fmt.Errorf("used %q", out["token"])
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if ts.issued.Load() != 1 || ts.apiCalls.Load() != 64 {
		t.Fatalf("%d tokens issued, %d API calls", ts.issued.Load(), ts.apiCalls.Load())
	}
}

func TestTokenIsCachedUntilShortlyBeforeExpiry(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	ts := &tokenServer{accept: func(string) bool { return true }, lifetime: 600}
	s := &sleeps{}
	c, _ := testClient(t, ts.handler(t), WithClientCredentials("agt_1", "sk"), WithScope("agents:read"), withTestHooks(s, 0, clock))
	call := func() string {
		var out map[string]string
		if err := c.Do(context.Background(), bearerGet, &out, nil); err != nil {
			t.Fatal(err)
		}
		return out["token"]
	}
	if call() != "at-1" {
		t.Fatal("first token")
	}
	clock.Advance(539 * time.Second) // 600 s lifetime, refreshed 60 s before it ends
	if call() != "at-1" {
		t.Fatal("refreshed too early")
	}
	clock.Advance(2 * time.Second)
	if call() != "at-2" || ts.issued.Load() != 2 {
		t.Fatalf("not refreshed: %d issued", ts.issued.Load())
	}
}

func TestCacheLifetime(t *testing.T) {
	cases := map[time.Duration]time.Duration{
		3600 * time.Second: 3540 * time.Second,
		120 * time.Second:  60 * time.Second,
		60 * time.Second:   30 * time.Second, // half the lifetime when 60 s is more than half
		10 * time.Second:   5 * time.Second,
	}
	for lifetime, want := range cases {
		if got := cacheFor(lifetime); got != want {
			t.Errorf("cacheFor(%v) = %v, want %v", lifetime, got, want)
		}
	}
}

func TestUnauthorizedRefreshesAndRetriesOnce(t *testing.T) {
	// The API refuses the first token only.
	ts := &tokenServer{accept: func(token string) bool { return token != "at-1" }, lifetime: 3600}
	c, s := testClient(t, ts.handler(t), WithClientCredentials("agt_1", "sk"))
	var out map[string]string
	if err := c.Do(context.Background(), bearerGet, &out, nil); err != nil {
		t.Fatal(err)
	}
	if out["token"] != "at-2" || ts.issued.Load() != 2 || ts.apiCalls.Load() != 2 || len(s.all()) != 0 {
		t.Fatalf("token %q, %d issued, %d API calls", out["token"], ts.issued.Load(), ts.apiCalls.Load())
	}
}

func TestUnauthorizedRefreshesNeverMoreThanOnce(t *testing.T) {
	ts := &tokenServer{accept: func(string) bool { return false }, lifetime: 3600}
	c, _ := testClient(t, ts.handler(t), WithClientCredentials("agt_1", "sk"))
	err := c.Do(context.Background(), bearerGet, nil, nil)
	if !IsAuthentication(err) || ts.issued.Load() != 2 || ts.apiCalls.Load() != 2 {
		t.Fatalf("err %v, %d issued, %d API calls", err, ts.issued.Load(), ts.apiCalls.Load())
	}
}

func TestUnauthorizedWithAnAPITokenIsNotRetried(t *testing.T) {
	ts := &tokenServer{accept: func(string) bool { return false }, lifetime: 3600}
	c, _ := testClient(t, ts.handler(t), WithAPIToken("admin"))
	if err := c.Do(context.Background(), bearerGet, nil, nil); !IsAuthentication(err) || ts.apiCalls.Load() != 1 || ts.issued.Load() != 0 {
		t.Fatalf("err %v, %d API calls", err, ts.apiCalls.Load())
	}
}

func TestTokenEndpointErrorsReachTheCaller(t *testing.T) {
	ts := &tokenServer{accept: func(string) bool { return true }, lifetime: 3600}
	c, _ := testClient(t, ts.handler(t), WithClientCredentials("agt_1", "wrong"))
	err := c.Do(context.Background(), bearerGet, nil, nil)
	var apiErr *Error
	if !IsAuthentication(err) || !asError(err, &apiErr) || apiErr.Code != "invalid_client" || ts.apiCalls.Load() != 0 {
		t.Fatalf("%v", err)
	}
}

func TestWaitingForATokenHonoursTheCallersContext(t *testing.T) {
	ts := &tokenServer{delay: 300 * time.Millisecond, accept: func(string) bool { return true }, lifetime: 3600}
	c, _ := testClient(t, ts.handler(t), WithClientCredentials("agt_1", "sk"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := c.Do(ctx, bearerGet, nil, nil); err == nil {
		t.Fatal("expected the caller's deadline")
	}
	// The fetch carried on for the others.
	var out map[string]string
	if err := c.Do(context.Background(), bearerGet, &out, nil); err != nil || out["token"] != "at-1" {
		t.Fatalf("%v %v", err, out)
	}
}
