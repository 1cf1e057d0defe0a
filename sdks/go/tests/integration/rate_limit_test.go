package integration

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// statusLog is a transport that records the status of every attempt it carries.
type statusLog struct{ statuses []int }

func (l *statusLog) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		l.statuses = append(l.statuses, res.StatusCode)
	}
	return res, err
}

// Once a caller has spent the server's rate limit, a call is refused with 429 RATE_LIMITED and
// Retry-After: 1; with retries on, the SDK waits that second and the call's retry succeeds.
func TestRetryHonoursRetryAfterFromARealRateLimit(t *testing.T) {
	// A server of its own: 60 management calls at once per caller, then one a second.
	srv := ownServer(t, "MANDATE_RATE_LIMIT_API_PER_CALLER=60")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Spend the limit without retries until a call is refused.
	noRetry := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithAPIToken(srv.Token), mandate.WithMaxRetries(0))
	var refused *mandate.Error
	for calls := 1; refused == nil; calls++ {
		_, err := noRetry.Orgs.List(ctx, nil)
		if err != nil && !errors.As(err, &refused) {
			t.Fatalf("call %d: %v", calls, err)
		}
		if refused == nil && calls == 70 {
			t.Fatal("70 calls and none refused: the server applied no rate limit")
		}
	}
	if !mandate.IsRateLimit(refused) || refused.StatusCode != 429 || refused.Code != "RATE_LIMITED" || refused.Header.Get("Retry-After") != "1" {
		t.Fatalf("refusal: status %d, code %q, Retry-After %q (%v); want 429 RATE_LIMITED with Retry-After 1",
			refused.StatusCode, refused.Code, refused.Header.Get("Retry-After"), refused)
	}

	// With the default retries (2), the next call whose first attempt is refused (the very next
	// one, unless a slot came back meanwhile) waits out Retry-After, and its retry succeeds.
	attempts := &statusLog{}
	withRetry := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithAPIToken(srv.Token),
		mandate.WithHTTPClient(&http.Client{Transport: attempts}))
	var elapsed time.Duration
	for calls := 0; calls < 10 && (len(attempts.statuses) == 0 || attempts.statuses[0] != 429); calls++ {
		attempts.statuses = nil
		start := time.Now()
		_, err := withRetry.Orgs.List(ctx, nil)
		elapsed = time.Since(start)
		if err != nil {
			t.Fatalf("the call with retries failed after %v (attempts %v): %v", elapsed, attempts.statuses, err)
		}
	}
	// One refusal then success: a shorter backoff than Retry-After would be refused again.
	if !slices.Equal(attempts.statuses, []int{429, 200}) {
		t.Errorf("attempt statuses %v, want [429 200]", attempts.statuses)
	}
	if elapsed < 800*time.Millisecond || elapsed >= 5*time.Second {
		t.Errorf("the call took %v; want about the 1 s of Retry-After (0.8 s to 5 s)", elapsed)
	}
	t.Logf("refused, then succeeded after %v", elapsed.Round(time.Millisecond))
}
