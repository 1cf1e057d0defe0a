package unit

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// MANDATE_CLIENT_PRIVATE_KEY under the credential rule of sdks/README.md, checked on what the
// mock server receives. These tests set the process environment: none may run in parallel.

// keyServer is a mock Mandate that authenticates agents by client assertion only: its
// metadata names an issuer, its token endpoint issues "at-N" to any form with an assertion
// (and records the assertion's iss), and every other path answers with an agent.
type keyServer struct {
	mu       sync.Mutex
	requests []sent
	issuers  []string
}

func (s *keyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, sent{r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Mandate-Organization"), r.PostForm.Encode()})
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/oauth-authorization-server":
		_, _ = w.Write([]byte(`{"issuer":"https://mandate.example"}`))
	case "/oauth2/token":
		assertion := r.PostForm.Get("client_assertion")
		if assertion == "" || r.Header.Get("Authorization") != "" {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		s.issuers = append(s.issuers, issuerOf(assertion))
		fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":900}`, len(s.issuers))
	default:
		_, _ = w.Write([]byte(agentJSON))
	}
}

func (s *keyServer) seen() ([]sent, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sent(nil), s.requests...), append([]string(nil), s.issuers...)
}

// issuerOf reads an assertion's iss (the core tests check its signature).
func issuerOf(assertion string) string {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Iss string `json:"iss"`
	}
	_ = json.Unmarshal(raw, &claims)
	return claims.Iss
}

func newPEMKey(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// withKeyEnvironment starts a keyServer and sets exactly env as the MANDATE_* environment.
func withKeyEnvironment(t *testing.T, env map[string]string) *keyServer {
	t.Helper()
	s := &keyServer{}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	for _, name := range []string{"MANDATE_API_TOKEN", "MANDATE_CLIENT_ID", "MANDATE_CLIENT_SECRET", "MANDATE_CLIENT_PRIVATE_KEY", "MANDATE_FEDERATED_TOKEN", "MANDATE_FEDERATED_TOKEN_FILE", "MANDATE_ORGANIZATION", "MANDATE_SCOPE", "MANDATE_LOG"} {
		t.Setenv(name, env[name])
	}
	t.Setenv("MANDATE_BASE_URL", srv.URL)
	return s
}

func TestEnvironmentPrivateKeyIsUsedWhenNoCredentialIsGiven(t *testing.T) {
	s := withKeyEnvironment(t, map[string]string{"MANDATE_API_TOKEN": adminToken, "MANDATE_CLIENT_ID": "agt_env", "MANDATE_CLIENT_PRIVATE_KEY": newPEMKey(t)})
	c := mandate.NewClient(mandate.WithMaxRetries(0))
	if err := c.Core().Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Agents.Get(context.Background(), "agt_01"); err != nil {
		t.Fatal(err)
	}
	if err := issueToken(c); err != nil {
		t.Fatal(err)
	}
	// Both kinds from the one place: the admin token on the API, the key at the token endpoint.
	got, issuers := s.seen()
	if len(got) != 3 || got[0].authorization != "Bearer "+adminToken || got[2].path != "/oauth2/token" || got[2].authorization != "" {
		t.Fatalf("%+v", got)
	}
	if len(issuers) != 1 || issuers[0] != "agt_env" {
		t.Fatalf("assertion issuers %v", issuers)
	}
}

func TestExplicitPrivateKeyIgnoresTheEnvironmentCredentials(t *testing.T) {
	s := withKeyEnvironment(t, map[string]string{"MANDATE_API_TOKEN": adminToken, "MANDATE_CLIENT_ID": "agt_env", "MANDATE_CLIENT_PRIVATE_KEY": newPEMKey(t)})
	c := mandate.NewClient(mandate.WithPrivateKey("agt_1", newPEMKey(t)), mandate.WithMaxRetries(0))
	if _, err := c.Agents.Get(context.Background(), "agt_01"); err != nil {
		t.Fatal(err)
	}
	if err := createAgent(c); err != nil {
		t.Fatal(err)
	}
	got, issuers := s.seen()
	if len(issuers) != 1 || issuers[0] != "agt_1" {
		t.Fatalf("assertion issuers %v, want the explicit client id", issuers)
	}
	for _, r := range got {
		if strings.Contains(r.authorization, adminToken) {
			t.Errorf("%s sent the admin token from the environment", r.path)
		}
		if strings.HasPrefix(r.path, "/v1/") && r.authorization != "Bearer at-1" {
			t.Errorf("%s sent %q, not the managed token", r.path, r.authorization)
		}
	}
}

func TestExplicitAPITokenIgnoresThePrivateKeyInTheEnvironment(t *testing.T) {
	s := withKeyEnvironment(t, map[string]string{"MANDATE_CLIENT_ID": "agt_env", "MANDATE_CLIENT_PRIVATE_KEY": newPEMKey(t)})
	c := mandate.NewClient(mandate.WithAPIToken("mdt_pat_explicit"), mandate.WithMaxRetries(0))
	if err := issueToken(c); !mandate.IsAuthentication(err) {
		t.Fatalf("issueToken without an agent credential: %v", err)
	}
	got, _ := s.seen()
	form, _ := url.ParseQuery(got[len(got)-1].form)
	if form.Has("client_assertion") {
		t.Fatalf("the environment's key signed an assertion: %v", form)
	}
}

func TestSecretAndPrivateKeyInTheEnvironmentAreAConfigError(t *testing.T) {
	s := withKeyEnvironment(t, map[string]string{"MANDATE_CLIENT_ID": "agt_env", "MANDATE_CLIENT_SECRET": "sk_env", "MANDATE_CLIENT_PRIVATE_KEY": newPEMKey(t)})
	c := mandate.NewClient()
	if !mandate.IsConfigError(c.Core().Err()) {
		t.Fatalf("Err: %v", c.Core().Err())
	}
	if _, err := c.Agents.Get(context.Background(), "agt_01"); !mandate.IsConfigError(err) || strings.Contains(err.Error(), "sk_env") {
		t.Fatalf("call: %v", err)
	}
	if got, _ := s.seen(); len(got) != 0 {
		t.Fatalf("a misconfigured client sent %d requests", len(got))
	}
}
