package core

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryDelayBackoffAndJitter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	for attempt, w := range want {
		if got := RetryDelay(attempt, nil, 0, now); got != w {
			t.Errorf("attempt %d: %v, want %v", attempt, got, w)
		}
		// Jitter takes off at most 25 %.
		low := RetryDelay(attempt, nil, 0.9999, now)
		if low > w || low < w*3/4 {
			t.Errorf("attempt %d with jitter: %v not in [%v, %v]", attempt, low, w*3/4, w)
		}
	}
	if got := RetryDelay(100, nil, 0, now); got != 8*time.Second {
		t.Errorf("huge attempt: %v", got)
	}
}

func TestRetryDelayHonoursRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		header http.Header
		want   time.Duration
	}{
		{http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{http.Header{"Retry-After": {"0"}}, 0},
		{http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(10 * time.Second).Format(http.TimeFormat)}}, 10 * time.Second},
		{http.Header{"Retry-After-Ms": {"250"}}, 250 * time.Millisecond},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond},
		// Out of 0..60 s, or unreadable: the computed delay applies.
		{http.Header{"Retry-After": {"61"}}, 500 * time.Millisecond},
		{http.Header{"Retry-After": {"-1"}}, 500 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 500 * time.Millisecond},
		{http.Header{"Retry-After": {"soon"}}, 500 * time.Millisecond},
		{http.Header{"Retry-After-Ms": {"60001"}}, 500 * time.Millisecond},
	}
	for _, c := range cases {
		if got := RetryDelay(0, c.header, 0, now); got != c.want {
			t.Errorf("%v: %v, want %v", c.header, got, c.want)
		}
	}
}

func TestNewUUIDIsVersion4(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id := newUUID()
		if len(id) != 36 || id[14] != '4' || !(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') {
			t.Fatalf("not a v4 UUID: %s", id)
		}
		if seen[id] {
			t.Fatal("duplicate UUID")
		}
		seen[id] = true
	}
}
