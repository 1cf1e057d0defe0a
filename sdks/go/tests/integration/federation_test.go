package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// wifAudience is the audience the trust policy names and the workload's token is minted for.
const wifAudience = "https://wif.example/aud"

// federationOrg creates an organization and, in it, the agent a workload becomes (it may
// read agents); admin is the instance admin acting in that organization.
func federationOrg(t *testing.T, ctx context.Context, srv *server) (admin *mandate.Client, target *mandate.Agent) {
	t.Helper()
	suffix := make([]byte, 5)
	_, _ = rand.Read(suffix)
	instance := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithAPIToken(srv.Token), mandate.WithMaxRetries(0))
	org, err := instance.Orgs.Create(ctx, mandate.OrganizationCreate{Name: "wif-" + hex.EncodeToString(suffix)})
	if err != nil {
		t.Fatal(err)
	}
	admin = mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithAPIToken(srv.Token), mandate.WithOrganization(org.ID), mandate.WithMaxRetries(0))
	target, err = admin.Agents.Create(ctx, mandate.AgentCreate{
		Name:          "wif-target",
		AgentType:     mandate.AgentTypeAutonomous,
		AllowedScopes: []mandate.Scope{"agents:read"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return admin, target
}

// bearerRecorder is an http.RoundTripper that remembers the last bearer token sent.
type bearerRecorder struct {
	mu   sync.Mutex
	last string
}

func (r *bearerRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if token, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
		r.mu.Lock()
		r.last = token
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (r *bearerRecorder) token() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// The reference server is its own external issuer (serve.mjs allows its loopback host): a
// workload agent's access token for the policy's audience, in a file, lets a client with
// only that file and the target's id act as the target; a token for another audience in
// the same file is refused, as an authentication error.
func TestFederatedTokenFileAgainstServer(t *testing.T) {
	srv := liveServer(t)
	clearMandateEnvironment(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	admin, target := federationOrg(t, ctx, srv)

	// The workload: an agent with a credential, whose tokens play the external OIDC tokens.
	workload, err := admin.Agents.Create(ctx, mandate.AgentCreate{
		Name:          "wif-workload",
		AgentType:     mandate.AgentTypeAutonomous,
		AllowedScopes: []mandate.Scope{"agents:read"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := admin.Credentials.Create(ctx, workload.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	workloadClient := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithClientCredentials(cred.ClientID, cred.Secret), mandate.WithMaxRetries(0))
	external, err := workloadClient.OAuth.IssueToken(ctx, mandate.TokenRequest{
		GrantType: mandate.TokenRequestGrantTypeClientCredentials,
		Resource:  mandate.Ptr(wifAudience),
	})
	if err != nil {
		t.Fatal(err)
	}

	discovery, err := admin.OAuth.OpenIDConfiguration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.TrustPolicies.Create(ctx, mandate.TrustPolicyCreate{
		Name:       "workload",
		Issuer:     discovery.Issuer,
		Audience:   wifAudience,
		Conditions: mandate.ClaimConditions{Sub: workload.ID},
		AgentID:    target.ID,
		Scopes:     []mandate.Scope{"agents:read"},
	}); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "token")
	writeFile(t, path, external.AccessToken)
	recorder := &bearerRecorder{}
	federated := mandate.NewClient(
		mandate.WithBaseURL(srv.BaseURL),
		mandate.WithFederatedTokenFile(path),
		mandate.WithClientID(target.ID),
		mandate.WithHTTPClient(&http.Client{Transport: recorder}),
	)
	got, err := federated.Agents.Get(ctx, target.ID)
	if err != nil {
		t.Fatalf("getAgent with a token from the federated token file: %v", err)
	}
	if got.ID != target.ID {
		t.Fatalf("agent %+v", got)
	}
	info, err := admin.OAuth.Introspect(ctx, mandate.TokenOperationRequest{Token: recorder.token()})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Active || info.Sub == nil || *info.Sub != target.ID {
		t.Fatalf("the managed token introspects as %+v, want the target agent", info)
	}

	// MANDATE_FEDERATED_TOKEN_FILE (and MANDATE_CLIENT_ID) from the environment, when no
	// credential is given.
	t.Setenv("MANDATE_FEDERATED_TOKEN_FILE", path)
	t.Setenv("MANDATE_CLIENT_ID", target.ID)
	fromEnv := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL))
	if _, err := fromEnv.Agents.Get(ctx, target.ID); err != nil {
		t.Fatalf("getAgent with MANDATE_FEDERATED_TOKEN_FILE: %v", err)
	}

	// The workload's token for the default audience (the issuer): no policy accepts it.
	other, err := workloadClient.OAuth.IssueToken(ctx, mandate.TokenRequest{GrantType: mandate.TokenRequestGrantTypeClientCredentials})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, other.AccessToken)
	refused := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithFederatedTokenFile(path), mandate.WithClientID(target.ID))
	_, err = refused.Agents.Get(ctx, target.ID)
	var apiErr *mandate.Error
	if !mandate.IsAuthentication(err) || !errors.As(err, &apiErr) || apiErr.Code != "invalid_grant" {
		t.Fatalf("a token for another audience: %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
