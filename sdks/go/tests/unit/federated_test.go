package unit

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// MANDATE_FEDERATED_TOKEN and MANDATE_FEDERATED_TOKEN_FILE under the credential rule of
// sdks/README.md, checked on what the mock server receives. These tests set the process
// environment: none may run in parallel.

const jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

func tokenFile(t *testing.T, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExplicitAPITokenIgnoresTheFederatedTokenInTheEnvironment(t *testing.T) {
	s := withEnvironment(t, map[string]string{"MANDATE_FEDERATED_TOKEN": "ext.jwt.env", "MANDATE_FEDERATED_TOKEN_FILE": tokenFile(t, "ext.jwt.file")})
	c := mandate.NewClient(mandate.WithAPIToken("mdt_pat_explicit"), mandate.WithMaxRetries(0))
	if err := c.Core().Err(); err != nil {
		t.Fatalf("the environment's federated token was read: %v", err)
	}
	if _, err := c.Agents.Get(context.Background(), "agt_01"); err != nil {
		t.Fatal(err)
	}
	got := s.sent()
	if len(got) != 1 || got[0].authorization != "Bearer mdt_pat_explicit" {
		t.Fatalf("expected one call with the explicit token and no token request: %+v", got)
	}
}

func TestWithoutExplicitCredentialsTheFederatedTokenFileIsUsed(t *testing.T) {
	path := tokenFile(t, "ext.jwt.file\n")
	s := withEnvironment(t, map[string]string{"MANDATE_FEDERATED_TOKEN_FILE": path, "MANDATE_CLIENT_ID": "agt_target", "MANDATE_SCOPE": "agents:read"})
	c := mandate.NewClient(mandate.WithMaxRetries(0))
	if _, err := c.Agents.Get(context.Background(), "agt_01"); err != nil {
		t.Fatal(err)
	}
	got := s.sent()
	if len(got) != 2 || got[0].path != "/oauth2/token" || got[0].authorization != "" || got[1].authorization != "Bearer at-1" {
		t.Fatalf("expected a JWT bearer grant without Authorization, then the call with its token: %+v", got)
	}
	want := url.Values{"grant_type": {jwtBearer}, "assertion": {"ext.jwt.file"}, "client_id": {"agt_target"}, "scope": {"agents:read"}}
	if got[0].form != want.Encode() {
		t.Fatalf("token request form %s, want %s", got[0].form, want.Encode())
	}
}

func TestWithoutExplicitCredentialsTheFederatedTokenVariableIsUsed(t *testing.T) {
	s := withEnvironment(t, map[string]string{"MANDATE_FEDERATED_TOKEN": "ext.jwt.env"})
	c := mandate.NewClient(mandate.WithMaxRetries(0))
	if _, err := c.Agents.Get(context.Background(), "agt_01"); err != nil {
		t.Fatal(err)
	}
	got := s.sent()
	want := url.Values{"grant_type": {jwtBearer}, "assertion": {"ext.jwt.env"}}
	if len(got) != 2 || got[0].form != want.Encode() || got[0].authorization != "" {
		t.Fatalf("%+v", got)
	}
}

func TestExplicitFederatedTokenFileIgnoresTheEnvironmentCredentials(t *testing.T) {
	s := withEnvironment(t, map[string]string{"MANDATE_API_TOKEN": adminToken, "MANDATE_CLIENT_ID": "agt_1", "MANDATE_CLIENT_SECRET": "sk", "MANDATE_FEDERATED_TOKEN": "ext.jwt.env"})
	c := mandate.NewClient(mandate.WithFederatedTokenFile(tokenFile(t, "ext.jwt.file")), mandate.WithMaxRetries(0))
	// Were the environment's secret read, the federated token beside it would be a configuration error.
	if err := c.Core().Err(); err != nil {
		t.Fatal(err)
	}
	if err := createAgent(c); err != nil {
		t.Fatal(err)
	}
	got := s.sent()
	want := url.Values{"grant_type": {jwtBearer}, "assertion": {"ext.jwt.file"}}
	if len(got) != 2 || got[0].form != want.Encode() || got[0].authorization != "" || got[1].authorization != "Bearer at-1" {
		t.Fatalf("%+v", got)
	}
	for _, r := range got {
		if strings.Contains(r.authorization, adminToken) {
			t.Errorf("%s sent the admin token from the environment", r.path)
		}
	}
}

func TestAnEmptyExplicitFederatedTokenStillTurnsOffTheEnvironment(t *testing.T) {
	s := withEnvironment(t, map[string]string{"MANDATE_API_TOKEN": adminToken, "MANDATE_FEDERATED_TOKEN": "ext.jwt.env"})
	for name, opt := range map[string]mandate.Option{
		"WithFederatedToken":     mandate.WithFederatedToken(""),
		"WithFederatedTokenFile": mandate.WithFederatedTokenFile(""),
		"WithClientID":           mandate.WithClientID(""),
	} {
		c := mandate.NewClient(opt, mandate.WithMaxRetries(0))
		if _, err := c.Agents.Get(context.Background(), "agt_01"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for _, r := range s.sent() {
		if r.path == "/oauth2/token" || r.authorization != "" {
			t.Errorf("%s sent %q; an empty explicit credential means none", r.path, r.authorization)
		}
	}
}

func TestFederatedTokenWithASecretIsAConfigError(t *testing.T) {
	s := withEnvironment(t, map[string]string{"MANDATE_CLIENT_ID": "agt_1", "MANDATE_FEDERATED_TOKEN": "ext.jwt.env", "MANDATE_FEDERATED_TOKEN_FILE": "/run/token"})
	fromEnv := mandate.NewClient()
	explicit := mandate.NewClient(mandate.WithClientCredentials("agt_1", "sk"), mandate.WithFederatedToken("ext.jwt"))
	for _, c := range []*mandate.Client{fromEnv, explicit} {
		if !mandate.IsConfigError(c.Core().Err()) {
			t.Fatalf("Err: %v", c.Core().Err())
		}
		if _, err := c.Agents.Get(context.Background(), "agt_01"); !mandate.IsConfigError(err) {
			t.Fatalf("call: %v", err)
		}
	}
	if got := s.sent(); len(got) != 0 {
		t.Fatalf("a misconfigured client sent %d requests", len(got))
	}
}
