package unit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// zipBody is a zip's local-file magic, every byte value once, then sequences that are not
// UTF-8: a binary body must come back exactly as sent.
func zipBody() []byte {
	body := []byte("PK\x03\x04")
	for b := 0; b < 256; b++ {
		body = append(body, byte(b))
	}
	return append(body, 0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0x00)
}

func writeZip(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="bot-go.zip"`)
	w.Header().Set("X-Request-Id", "req_zip")
	_, _ = w.Write(zipBody())
}

func TestBinaryResponseIsTheBytesAsSent(t *testing.T) {
	var seen *http.Request
	c := client(t, func(w http.ResponseWriter, r *http.Request) {
		seen = r
		writeZip(w)
	}, mandate.WithAPIToken("tok"), mandate.WithOrganization("org_x"))

	var res *http.Response
	body, err := c.Agents.Scaffold(context.Background(), "agt_1", mandate.GetAgentScaffoldParams{Language: mandate.GetAgentScaffoldParamsLanguageGo}, mandate.WithResponseInto(&res))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, zipBody()) {
		t.Fatalf("body % x", body)
	}
	if seen.URL.Path != "/v1/agents/agt_1/scaffold" || seen.URL.RawQuery != "language=go" {
		t.Fatalf("request %s?%s", seen.URL.Path, seen.URL.RawQuery)
	}
	for name, want := range map[string]string{"Accept": "application/zip", "Authorization": "Bearer tok", "Mandate-Organization": "org_x"} {
		if got := seen.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Disposition") != `attachment; filename="bot-go.zip"` || res.Header.Get("X-Request-Id") != "req_zip" {
		t.Fatalf("response %d %v", res.StatusCode, res.Header)
	}
}

func TestBinaryOperationProblemIsTheTypedError(t *testing.T) {
	var accept string
	c := client(t, func(w http.ResponseWriter, r *http.Request) {
		accept = r.Header.Get("Accept")
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("X-Request-Id", "req-404")
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"type":"about:blank","title":"Not found","status":404,"code":"AGENT_NOT_FOUND","detail":"No agent agt_nope."}`))
	}, mandate.WithAPIToken("tok"))
	body, err := c.Agents.Scaffold(context.Background(), "agt_nope", mandate.GetAgentScaffoldParams{Language: mandate.GetAgentScaffoldParamsLanguageJava})
	var apiErr *mandate.Error
	if body != nil || !errors.As(err, &apiErr) || !mandate.IsNotFound(err) || apiErr.Code != "AGENT_NOT_FOUND" || apiErr.RequestID != "req-404" || apiErr.Message != "No agent agt_nope." {
		t.Fatalf("body %v, err %v", body, err)
	}
	if accept != "application/zip" {
		t.Fatalf("Accept %q", accept)
	}
}

func TestBinaryOperationRetriesLikeAnyCall(t *testing.T) {
	var mu sync.Mutex
	var accepts []string
	c := client(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		accepts = append(accepts, r.Header.Get("Accept"))
		first := len(accepts) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "0")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(503)
			_, _ = w.Write([]byte(`{"title":"Unavailable","status":503,"code":"UNAVAILABLE"}`))
			return
		}
		writeZip(w)
	}, mandate.WithAPIToken("tok"), mandate.WithMaxRetries(2))
	body, err := c.Agents.Scaffold(context.Background(), "agt_1", mandate.GetAgentScaffoldParams{Language: mandate.GetAgentScaffoldParamsLanguagePython})
	if err != nil || !bytes.Equal(body, zipBody()) {
		t.Fatalf("body % x, err %v", body, err)
	}
	if len(accepts) != 2 || accepts[0] != "application/zip" || accepts[1] != "application/zip" {
		t.Fatalf("accepts %v", accepts)
	}
}

func TestOtherOperationsStillAskForJSON(t *testing.T) {
	var accept string
	c := client(t, func(w http.ResponseWriter, r *http.Request) {
		accept = r.Header.Get("Accept")
		_, _ = w.Write([]byte(agentJSON))
	}, mandate.WithAPIToken("tok"))
	if _, err := c.Agents.Get(context.Background(), "agt_01"); err != nil {
		t.Fatal(err)
	}
	if accept != "application/json, application/problem+json;q=0.9, */*;q=0.8" {
		t.Fatalf("Accept %q", accept)
	}
}

const orgJSON = `{"id":"org_01","name":"Acme","metadata":{},"dpopRequired":false,"plan":"pro","quotas":{"activeAgents":1000,"tokensPerMonth":null,"apiCallsPerMinute":6000},"quotaOverrides":{"tokensPerMonth":null},"createdAt":"2025-01-02T03:04:05.123Z","updatedAt":"2025-01-02T03:04:05.123Z"}`

func TestQuotasAreNullableIntegers(t *testing.T) {
	var org mandate.Organization
	if err := json.Unmarshal([]byte(orgJSON), &org); err != nil {
		t.Fatal(err)
	}
	if org.Plan != mandate.PlanPro || org.Quotas.ActiveAgents == nil || *org.Quotas.ActiveAgents != 1000 || org.Quotas.TokensPerMonth != nil {
		t.Fatalf("%+v", org)
	}
	// Overrides tell absent (follow the plan) from null (unlimited).
	if !org.QuotaOverrides.TokensPerMonth.IsNull() || org.QuotaOverrides.ActiveAgents.IsSet() {
		t.Fatalf("overrides %+v", org.QuotaOverrides)
	}
	back, err := json.Marshal(org)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal([]byte(orgJSON), &want)
	_ = json.Unmarshal(back, &got)
	if !jsonEqual(want, got) {
		t.Fatalf("round trip:\n%s\n%s", orgJSON, back)
	}
	update, err := json.Marshal(mandate.OrganizationUpdate{QuotaOverrides: &mandate.QuotaOverrides{TokensPerMonth: mandate.Null[int64](), ActiveAgents: mandate.Value[int64](5)}})
	if err != nil || string(update) != `{"quotaOverrides":{"activeAgents":5,"tokensPerMonth":null}}` {
		t.Fatalf("update %s %v", update, err)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
