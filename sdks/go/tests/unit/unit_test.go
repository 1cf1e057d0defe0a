// Package unit tests the generated package mandate through its public API, against
// httptest servers.
package unit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/mandate-dev/mandate/sdks/go/internal/dispatch"
	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

func client(t *testing.T, handler http.HandlerFunc, opts ...mandate.Option) *mandate.Client {
	t.Helper()
	for _, name := range []string{"MANDATE_BASE_URL", "MANDATE_API_TOKEN", "MANDATE_CLIENT_ID", "MANDATE_CLIENT_SECRET", "MANDATE_CLIENT_PRIVATE_KEY", "MANDATE_FEDERATED_TOKEN", "MANDATE_FEDERATED_TOKEN_FILE", "MANDATE_ORGANIZATION", "MANDATE_SCOPE", "MANDATE_LOG"} {
		t.Setenv(name, "")
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return mandate.NewClient(append([]mandate.Option{mandate.WithBaseURL(srv.URL), mandate.WithMaxRetries(0)}, opts...)...)
}

const agentJSON = `{"id":"agt_01","orgId":"org_01","name":"bot","description":null,"agentType":"quantum","version":"1","capabilities":[],"owner":null,"deploymentEnv":"production","allowedScopes":["agents:read"],"metadata":{"team":"ops"},"status":"hibernating","trustLevel":"vouched","dpopRequired":false,"public":false,"createdAt":"2025-01-02T03:04:05.123Z","updatedAt":"2025-01-02T03:04:05.123Z","suspendedAt":null,"decommissionedAt":null,"newField":{"x":[1,2]}}`

func TestModelsRoundTripWithUnknownFieldsAndEnumValues(t *testing.T) {
	var agent mandate.Agent
	if err := json.Unmarshal([]byte(agentJSON), &agent); err != nil {
		t.Fatal(err)
	}
	if agent.ID != "agt_01" || agent.OrgID != "org_01" || agent.Description != nil || *agent.Version != "1" || agent.Metadata["team"] != "ops" {
		t.Fatalf("%+v", agent)
	}
	// Open enums keep values this SDK does not know.
	if agent.AgentType != "quantum" || agent.AgentType.IsKnown() || agent.Status != "hibernating" || !mandate.AgentStatusActive.IsKnown() {
		t.Fatalf("enums: %q %q", agent.AgentType, agent.Status)
	}
	if string(agent.ExtraFields["newField"]) != `{"x":[1,2]}` {
		t.Fatalf("extra fields: %v", agent.ExtraFields)
	}
	back, err := json.Marshal(agent)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal([]byte(agentJSON), &want)
	_ = json.Unmarshal(back, &got)
	if fmt.Sprint(want) != fmt.Sprint(got) {
		t.Fatalf("round trip:\n%s\n%s", agentJSON, back)
	}
}

func TestPatchBodyTellsAbsentNullAndValueApart(t *testing.T) {
	var bodies []string
	c := client(t, func(w http.ResponseWriter, r *http.Request) {
		raw := make([]byte, r.ContentLength)
		_, _ = r.Body.Read(raw)
		bodies = append(bodies, string(raw))
		_, _ = w.Write([]byte(agentJSON))
	}, mandate.WithAPIToken("tok"))
	updates := []mandate.AgentUpdate{
		{Description: mandate.Null[string](), Version: mandate.Value("2.0.0")},
		{Name: mandate.Ptr("renamed"), Status: mandate.Ptr(mandate.AgentUpdateStatusSuspended)},
		{AllowedScopes: []mandate.Scope{}},
		{ExtraFields: map[string]json.RawMessage{"color": json.RawMessage(`"red"`)}},
		{},
	}
	for _, u := range updates {
		if _, err := c.Agents.Update(context.Background(), "agt_01", u); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`{"description":null,"version":"2.0.0"}`,
		`{"name":"renamed","status":"suspended"}`,
		`{"allowedScopes":[]}`,
		`{"color":"red"}`,
		`{}`,
	}
	if strings.Join(bodies, "\n") != strings.Join(want, "\n") {
		t.Fatalf("bodies:\n%s", strings.Join(bodies, "\n"))
	}
}

func TestListIteratesEveryPageWithTheSameFilters(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	c := client(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		if r.Header.Get("Mandate-Organization") != "org_x" {
			t.Errorf("organization header: %q", r.Header.Get("Mandate-Organization"))
		}
		page := map[string]string{"": "c1", "c1": "c2", "c2": ""}[r.URL.Query().Get("cursor")]
		next := "null"
		if page != "" {
			next = fmt.Sprintf("%q", page)
		}
		item := strings.Replace(agentJSON, `"agt_01"`, fmt.Sprintf("%q", "agt_"+r.URL.Query().Get("cursor")), 1)
		fmt.Fprintf(w, `{"data":[%s],"nextCursor":%s}`, item, next)
	}, mandate.WithAPIToken("tok"), mandate.WithOrganization("org_x"))

	first, err := c.Agents.List(context.Background(), &mandate.ListAgentsParams{Status: mandate.Ptr(mandate.AgentStatusActive), Limit: mandate.Ptr(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) != 1 || !first.HasNextPage || first.NextCursor != "c1" {
		t.Fatalf("first page: %+v", first)
	}
	if list, ok := first.Envelope().(*mandate.AgentList); !ok || len(list.Data) != 1 {
		t.Fatalf("envelope: %T", first.Envelope())
	}
	var ids []string
	for it := first.Iter(context.Background()); it.Next(); {
		ids = append(ids, it.Current().ID)
	}
	if strings.Join(ids, ",") != "agt_,agt_c1,agt_c2" {
		t.Fatalf("ids %v", ids)
	}
	want := []string{"limit=1&status=active", "cursor=c1&limit=1&status=active", "cursor=c2&limit=1&status=active"}
	if strings.Join(queries, " ") != strings.Join(want, " ") {
		t.Fatalf("queries %v", queries)
	}
}

func TestOAuthFormBodyAndBasicAuth(t *testing.T) {
	var form string
	var user, pass string
	c := client(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		form = r.PostForm.Encode()
		user, pass, _ = r.BasicAuth()
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		_, _ = w.Write([]byte(`{"access_token":"a.b.c","token_type":"Bearer","expires_in":900,"scope":"agents:read"}`))
	}, mandate.WithClientCredentials("agt_01", "sk"))
	res, err := c.OAuth.IssueToken(context.Background(), mandate.TokenRequest{GrantType: mandate.TokenRequestGrantTypeClientCredentials, Scope: mandate.Ptr("agents:read"), Resource: mandate.Ptr("")})
	if err != nil {
		t.Fatal(err)
	}
	if form != "grant_type=client_credentials&scope=agents%3Aread" || user != "agt_01" || pass != "sk" || res.ExpiresIn != 900 || res.TokenType != mandate.TokenResponseTokenTypeBearer {
		t.Fatalf("form %q, basic %q:%q, res %+v", form, user, pass, res)
	}
}

func TestTypedErrorsFromGeneratedMethods(t *testing.T) {
	c := client(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("X-Request-Id", "req-9")
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"type":"about:blank","title":"Not found","status":404,"code":"AGENT_NOT_FOUND"}`))
	}, mandate.WithAPIToken("tok"))
	_, err := c.Agents.Get(context.Background(), "agt_nope/../x")
	var apiErr *mandate.Error
	if !errors.As(err, &apiErr) || !mandate.IsNotFound(err) || apiErr.Code != "AGENT_NOT_FOUND" || apiErr.RequestID != "req-9" || apiErr.Kind != mandate.KindNotFound {
		t.Fatalf("%v", err)
	}
	if !strings.Contains(apiErr.URL, "/v1/agents/agt_nope%2F..%2Fx") {
		t.Fatalf("path parameter not escaped: %s", apiErr.URL)
	}
}

func TestTextAndEmptyResponses(t *testing.T) {
	c := client(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			_, _ = w.Write([]byte("up 1\n"))
		default:
			w.WriteHeader(204)
		}
	}, mandate.WithAPIToken("tok"))
	text, err := c.Service.Metrics(context.Background())
	if err != nil || text != "up 1\n" {
		t.Fatalf("%q %v", text, err)
	}
	var res *http.Response
	if err := c.Orgs.Delete(context.Background(), "org_1", mandate.WithResponseInto(&res)); err != nil || res.StatusCode != 204 {
		t.Fatalf("%v %v", err, res)
	}
}

// The dispatch table covers every operation of the spec (a missing one fails here; a call
// the SDK cannot make fails to compile).
func TestDispatchCoversEverySpecOperation(t *testing.T) {
	dir, _ := os.Getwd()
	var raw []byte
	for ; ; dir = filepath.Dir(dir) {
		if data, err := os.ReadFile(filepath.Join(dir, "spec", "dist", "openapi.json")); err == nil {
			raw = data
			break
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("spec/dist/openapi.json not found")
		}
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, item := range spec.Paths {
		for _, member := range item {
			var op struct {
				OperationID string `json:"operationId"`
			}
			if json.Unmarshal(member, &op) == nil && op.OperationID != "" {
				want = append(want, op.OperationID)
			}
		}
	}
	got := append([]string(nil), dispatch.Operations...)
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(want, ",") != strings.Join(got, ",") {
		t.Fatalf("spec %v\ndispatch %v", want, got)
	}
	if _, err := dispatch.Invoke(context.Background(), mandate.NewClient(), "noSuchOperation", dispatch.Call{}); err == nil {
		t.Fatal("unknown operation accepted")
	}
}
