package integration

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"gopkg.in/yaml.v3"
)

// The runner's `eventually` steps, against a stand-in server whose endpoint becomes enabled
// on its third answer (no reference server needed).

const eventuallyStep = `
operation: getWebhook
auth: bearer:token
path: { webhookId: whk_1 }
%s
expect: { status: 200, fields: { /enabled: true } }
capture: { seen: /description }
`

func stepFrom(t *testing.T, eventually string) step {
	t.Helper()
	var st step
	if err := yaml.Unmarshal([]byte(fmt.Sprintf(eventuallyStep, eventually)), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// enabledOnTry answers GET /v1/webhooks/whk_1 with an endpoint that is enabled from the
// given try on (never, if 0), described by the number of the try.
func enabledOnTry(t *testing.T, from int32) (*server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.URL.Path != "/v1/webhooks/whk_1" || r.Header.Get("Authorization") != "Bearer token" {
			http.Error(w, "unexpected request", http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"whk_1","enabled":%t,"description":"try %d"}`, from > 0 && n >= from, n)
	}))
	t.Cleanup(ts.Close)
	return &server{BaseURL: ts.URL}, &calls
}

func TestEventuallyRepeatsTheStepUntilItsExpectHolds(t *testing.T) {
	srv, calls := enabledOnTry(t, 3)
	vars := map[string]any{"token": "token"}
	if failures := runStep(srv, stepFrom(t, "eventually: { seconds: 5 }"), vars); len(failures) > 0 {
		t.Fatal(failures)
	}
	// A fresh call each time, none after the one that passed, and the capture from it.
	if calls.Load() != 3 || vars["seen"] != "try 3" {
		t.Fatalf("%d calls, captured %v", calls.Load(), vars["seen"])
	}
}

func TestEventuallyReportsTheLastAnswerWhenTimeRunsOut(t *testing.T) {
	srv, calls := enabledOnTry(t, 0)
	vars := map[string]any{"token": "token"}
	failures := runStep(srv, stepFrom(t, "eventually: { seconds: 0.5 }"), vars)
	// Tries at about 0, 200 and 400 ms; a fourth would start after the half second.
	if n := calls.Load(); n < 2 || n > 3 {
		t.Fatalf("%d calls in half a second, every 200 ms", n)
	}
	if len(failures) != 2 || !strings.HasPrefix(failures[0], "field /enabled:") || !strings.HasPrefix(failures[1], "eventually: still failing after") {
		t.Fatalf("%q", failures)
	}
	if want := fmt.Sprintf("try %d", calls.Load()); vars["seen"] != want {
		t.Fatalf("captured %v, want %s", vars["seen"], want)
	}
}

func TestAStepWithoutEventuallyRunsOnce(t *testing.T) {
	srv, calls := enabledOnTry(t, 2)
	if failures := runStep(srv, stepFrom(t, ""), map[string]any{"token": "token"}); len(failures) != 1 {
		t.Fatalf("%q", failures)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls", calls.Load())
	}
}
