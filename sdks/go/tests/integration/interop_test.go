package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// agentFixture registers an organization, an agent and its credential through the SDK.
func agentFixture(t *testing.T, ctx context.Context, srv *server) (*mandate.Client, *mandate.Organization, *mandate.Agent, *mandate.CredentialWithSecret) {
	t.Helper()
	suffix := make([]byte, 5)
	_, _ = rand.Read(suffix)
	admin := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithAPIToken(srv.Token), mandate.WithMaxRetries(0))
	org, err := admin.Orgs.Create(ctx, mandate.OrganizationCreate{Name: "interop-" + hex.EncodeToString(suffix)})
	if err != nil {
		t.Fatal(err)
	}
	inOrg := mandate.WithRequestOrganization(org.ID)
	agent, err := admin.Agents.Create(ctx, mandate.AgentCreate{
		Name:          "interop-agent",
		AgentType:     mandate.AgentTypeAutonomous,
		AllowedScopes: []mandate.Scope{"agents:read"},
	}, inOrg)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := admin.Credentials.Create(ctx, agent.ID, nil, inOrg)
	if err != nil {
		t.Fatal(err)
	}
	return admin, org, agent, cred
}

// A token from golang.org/x/oauth2's client-credentials flow passes VerifyAccessToken.
func TestInteropOAuth2ClientCredentials(t *testing.T) {
	srv := liveServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, org, agent, cred := agentFixture(t, ctx, srv)
	meta, err := admin.OAuth.ServerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}

	cc := clientcredentials.Config{
		ClientID:     cred.ClientID,
		ClientSecret: cred.Secret,
		TokenURL:     meta.TokenEndpoint,
		Scopes:       []string{"agents:read"},
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	token, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("x/oauth2 client credentials: %v", err)
	}

	opts := mandate.VerifyOptions{Issuer: meta.Issuer, Audience: meta.Issuer, BaseURL: srv.BaseURL}
	claims, err := mandate.VerifyAccessToken(ctx, token.AccessToken, opts)
	if err != nil {
		t.Fatalf("VerifyAccessToken: %v", err)
	}
	if claims.Subject != agent.ID || claims.ClientID != agent.ID || claims.Org != org.ID || claims.Scope != "agents:read" {
		t.Fatalf("claims: %+v", claims)
	}
	if claims.JTI == "" || claims.ExpiresAt.Before(time.Now()) || claims.IssuedAt.IsZero() {
		t.Fatalf("claims times/jti: %+v", claims)
	}

	// The client method uses the client's base URL for the JWKS.
	if _, err := admin.VerifyAccessToken(ctx, token.AccessToken, mandate.VerifyOptions{Issuer: meta.Issuer, Audience: meta.Issuer}); err != nil {
		t.Fatalf("Client.VerifyAccessToken: %v", err)
	}

	wrongAudience := opts
	wrongAudience.Audience = "https://elsewhere.example"
	if _, err := mandate.VerifyAccessToken(ctx, token.AccessToken, wrongAudience); !errors.Is(err, mandate.ErrTokenAudience) {
		t.Fatalf("wrong audience: %v", err)
	}
	parts := strings.Split(token.AccessToken, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	if _, err := mandate.VerifyAccessToken(ctx, tampered, opts); !errors.Is(err, mandate.ErrTokenSignature) {
		t.Fatalf("tampered signature: %v", err)
	}
}

// The SDK's own token manager gets a token with the agent's credential and calls the API.
func TestManagedTokenAgainstServer(t *testing.T) {
	srv := liveServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, org, agent, cred := agentFixture(t, ctx, srv)
	bot := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithClientCredentials(cred.ClientID, cred.Secret), mandate.WithScope("agents:read"))
	got, err := bot.Agents.Get(ctx, agent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != agent.ID || got.OrgID != org.ID {
		t.Fatalf("agent: %+v", got)
	}
	// Introspection authenticates with HTTP Basic from the same credential.
	token, err := bot.OAuth.IssueToken(ctx, mandate.TokenRequest{GrantType: mandate.TokenRequestGrantTypeClientCredentials})
	if err != nil {
		t.Fatal(err)
	}
	info, err := bot.OAuth.Introspect(ctx, mandate.TokenOperationRequest{Token: token.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Active || info.Sub == nil || *info.Sub != agent.ID {
		t.Fatalf("introspection: %+v", info)
	}
}
