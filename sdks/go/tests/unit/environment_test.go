package unit

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// The credential rule of sdks/README.md ("Where credentials come from"), checked on the
// Authorization header each request actually carries. These tests set the process
// environment (t.Setenv), so none of them may run in parallel.

const adminToken = "mdt_pat_admin_from_env"

// sent is one request the mock server received.
type sent struct {
	path, authorization, organization, form string
}

// envServer is a mock Mandate: its token endpoint issues "at-1", "at-2", … to agt_1:sk, or to
// a JWT bearer grant with an assertion and no client authentication (and answers 401
// invalid_client to anything else, as the real one does); every other path answers with an
// agent (or a page of one).
type envServer struct {
	mu       sync.Mutex
	requests []sent
	issued   int
}

func (s *envServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, sent{r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Mandate-Organization"), r.PostForm.Encode()})
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/oauth2/token" {
		id, secret, ok := r.BasicAuth()
		workload := !ok && r.PostForm.Get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer" && r.PostForm.Get("assertion") != ""
		if !workload && (!ok || id != "agt_1" || secret != "sk") {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		s.issued++
		fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":900}`, s.issued)
		return
	}
	switch {
	case r.Method == http.MethodPost:
		w.WriteHeader(201)
	case r.URL.Path == "/v1/agents":
		fmt.Fprintf(w, `{"data":[%s],"nextCursor":null}`, agentJSON)
		return
	}
	_, _ = w.Write([]byte(agentJSON))
}

func (s *envServer) sent() []sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sent(nil), s.requests...)
}

// withEnvironment starts a mock server and sets exactly env (MANDATE_BASE_URL defaults to the
// server) as the MANDATE_* environment.
func withEnvironment(t *testing.T, env map[string]string) *envServer {
	t.Helper()
	s := &envServer{}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	for _, name := range []string{"MANDATE_BASE_URL", "MANDATE_API_TOKEN", "MANDATE_CLIENT_ID", "MANDATE_CLIENT_SECRET", "MANDATE_CLIENT_PRIVATE_KEY", "MANDATE_FEDERATED_TOKEN", "MANDATE_FEDERATED_TOKEN_FILE", "MANDATE_ORGANIZATION", "MANDATE_SCOPE", "MANDATE_LOG"} {
		t.Setenv(name, env[name])
	}
	if env["MANDATE_BASE_URL"] == "" {
		t.Setenv("MANDATE_BASE_URL", srv.URL)
	}
	return s
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

func issueToken(c *mandate.Client) error {
	_, err := c.OAuth.IssueToken(context.Background(), mandate.TokenRequest{GrantType: mandate.TokenRequestGrantTypeClientCredentials})
	return err
}

func createAgent(c *mandate.Client) error {
	_, err := c.Agents.Create(context.Background(), mandate.AgentCreate{Name: "bot", AgentType: mandate.AgentTypeAutonomous})
	return err
}

func TestExplicitClientCredentialsIgnoreTheAdminTokenInTheEnvironment(t *testing.T) {
	s := withEnvironment(t, map[string]string{"MANDATE_API_TOKEN": adminToken})
	c := mandate.NewClient(mandate.WithClientCredentials("agt_1", "sk"), mandate.WithMaxRetries(0))
	if _, err := c.Agents.Get(context.Background(), "agt_01"); err != nil {
		t.Fatal(err)
	}
	if err := createAgent(c); err != nil {
		t.Fatal(err)
	}
	got := s.sent()
	if len(got) != 3 || got[0].path != "/oauth2/token" || got[0].authorization != basic("agt_1", "sk") || got[0].form != "grant_type=client_credentials" {
		t.Fatalf("expected one token request with the explicit credentials, then two calls: %+v", got)
	}
	for _, r := range got[1:] {
		if r.authorization != "Bearer at-1" {
			t.Errorf("%s sent %q, not the issued access token", r.path, r.authorization)
		}
	}
	for _, r := range got {
		if strings.Contains(r.authorization, adminToken) {
			t.Errorf("%s sent the admin token from the environment", r.path)
		}
	}
}

func TestExplicitAPITokenIgnoresTheClientCredentialsInTheEnvironment(t *testing.T) {
	s := withEnvironment(t, map[string]string{"MANDATE_CLIENT_ID": "agt_1", "MANDATE_CLIENT_SECRET": "sk"})
	c := mandate.NewClient(mandate.WithAPIToken("mdt_pat_explicit"), mandate.WithMaxRetries(0))
	if _, err := c.Agents.Get(context.Background(), "agt_01"); err != nil {
		t.Fatal(err)
	}
	if err := issueToken(c); !mandate.IsAuthentication(err) {
		t.Fatalf("issueToken without client credentials: %v", err)
	}
	got := s.sent()
	if len(got) != 2 || got[0].authorization != "Bearer mdt_pat_explicit" {
		t.Fatalf("the bearer call: %+v", got)
	}
	if got[1].path != "/oauth2/token" || got[1].authorization != "" {
		t.Fatalf("issueToken sent %q; the environment's client credentials must not be used", got[1].authorization)
	}
}

func TestAnEmptyExplicitCredentialStillTurnsOffTheEnvironment(t *testing.T) {
	everything := map[string]string{"MANDATE_API_TOKEN": adminToken, "MANDATE_CLIENT_ID": "agt_1", "MANDATE_CLIENT_SECRET": "sk"}
	for name, opt := range map[string]mandate.Option{
		"WithAPIToken":          mandate.WithAPIToken(""),
		"WithClientCredentials": mandate.WithClientCredentials("", ""),
	} {
		t.Run(name, func(t *testing.T) {
			s := withEnvironment(t, everything)
			c := mandate.NewClient(opt, mandate.WithMaxRetries(0))
			if _, err := c.Agents.Get(context.Background(), "agt_01"); err != nil {
				t.Fatal(err)
			}
			if err := issueToken(c); !mandate.IsAuthentication(err) {
				t.Fatalf("issueToken: %v", err)
			}
			for _, r := range s.sent() {
				if r.authorization != "" {
					t.Errorf("%s sent %q; an empty explicit credential means none", r.path, r.authorization)
				}
			}
		})
	}
}

func TestWithoutExplicitCredentialsTheEnvironmentIsUsed(t *testing.T) {
	s := withEnvironment(t, map[string]string{"MANDATE_API_TOKEN": adminToken, "MANDATE_CLIENT_ID": "agt_1", "MANDATE_CLIENT_SECRET": "sk"})
	c := mandate.NewClient(mandate.WithMaxRetries(0))
	if _, err := c.Agents.Get(context.Background(), "agt_01"); err != nil {
		t.Fatal(err)
	}
	if err := issueToken(c); err != nil {
		t.Fatal(err)
	}
	// Both kinds from one place: the API token on bearer operations, Basic on the token endpoint.
	got := s.sent()
	if len(got) != 2 || got[0].authorization != "Bearer "+adminToken || got[1].authorization != basic("agt_1", "sk") {
		t.Fatalf("%+v", got)
	}
}

func TestOtherVariablesStillApplyAlongsideExplicitCredentials(t *testing.T) {
	// MANDATE_BASE_URL is the mock server itself: no WithBaseURL below.
	s := withEnvironment(t, map[string]string{"MANDATE_ORGANIZATION": "org_env", "MANDATE_SCOPE": "agents:read", "MANDATE_API_TOKEN": adminToken})
	agent := mandate.NewClient(mandate.WithClientCredentials("agt_1", "sk"), mandate.WithMaxRetries(0))
	admin := mandate.NewClient(mandate.WithAPIToken("mdt_pat_explicit"), mandate.WithMaxRetries(0))
	for _, c := range []*mandate.Client{agent, admin} {
		if _, err := c.Agents.List(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	got := s.sent()
	if len(got) != 3 || got[0].form != "grant_type=client_credentials&scope=agents%3Aread" {
		t.Fatalf("the token request should ask for MANDATE_SCOPE: %+v", got)
	}
	if got[1].authorization != "Bearer at-1" || got[2].authorization != "Bearer mdt_pat_explicit" {
		t.Fatalf("credentials: %+v", got)
	}
	for _, r := range got[1:] {
		if r.organization != "org_env" {
			t.Errorf("%s: Mandate-Organization %q, want MANDATE_ORGANIZATION", r.path, r.organization)
		}
	}
	// An explicit option still wins over its own variable.
	explicit := mandate.NewClient(mandate.WithAPIToken("mdt_pat_explicit"), mandate.WithOrganization("org_opt"), mandate.WithMaxRetries(0))
	if _, err := explicit.Agents.List(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if last := s.sent()[3]; last.organization != "org_opt" {
		t.Fatalf("Mandate-Organization %q, want the option's", last.organization)
	}
}
