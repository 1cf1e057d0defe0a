package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// Delegation against the reference server: A gets a token, B acts for A with it, C acts
// for A with B's delegated token; the SDK's verifier reads each chain, the delegated token
// calls the API, and revoking the first delegation ends the second one too.
func TestDelegationChainAgainstServer(t *testing.T) {
	srv := liveServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	// An organization, its admin token, and three agents that may read agents.
	suffix := make([]byte, 5)
	_, _ = rand.Read(suffix)
	instance := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithAPIToken(srv.Token), mandate.WithMaxRetries(0))
	org, err := instance.Orgs.Create(ctx, mandate.OrganizationCreate{Name: "delegation-" + hex.EncodeToString(suffix)})
	if err != nil {
		t.Fatal(err)
	}
	orgToken, err := instance.AdminTokens.Create(ctx, org.ID, mandate.AdminTokenCreate{Role: mandate.AdminTokenRoleAdmin, Label: "delegation"})
	if err != nil {
		t.Fatal(err)
	}
	admin := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithAPIToken(orgToken.Token), mandate.WithMaxRetries(0))
	agents := map[string]*mandate.Agent{}
	clients := map[string]*mandate.Client{}
	for _, name := range []string{"A", "B", "C"} {
		agent, err := admin.Agents.Create(ctx, mandate.AgentCreate{
			Name:          "delegation-" + name,
			AgentType:     mandate.AgentTypeAutonomous,
			AllowedScopes: []mandate.Scope{"agents:read"},
		})
		if err != nil {
			t.Fatal(err)
		}
		cred, err := admin.Credentials.Create(ctx, agent.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		agents[name] = agent
		clients[name] = mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithClientCredentials(cred.ClientID, cred.Secret), mandate.WithMaxRetries(0))
	}
	idA, idB, idC := agents["A"].ID, agents["B"].ID, agents["C"].ID
	meta, err := admin.OAuth.ServerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(token string) *mandate.AccessTokenClaims {
		t.Helper()
		claims, err := clients["A"].VerifyAccessToken(ctx, token, mandate.VerifyOptions{Issuer: meta.Issuer, Audience: meta.Issuer})
		if err != nil {
			t.Fatalf("VerifyAccessToken: %v", err)
		}
		return claims
	}

	// A's own token.
	tokenA, err := clients["A"].OAuth.IssueToken(ctx, mandate.TokenRequest{GrantType: mandate.TokenRequestGrantTypeClientCredentials})
	if err != nil {
		t.Fatal(err)
	}
	if claims := verify(tokenA.AccessToken); claims.Act != nil || claims.Actors() != nil || claims.DelegationID != "" {
		t.Fatalf("A's own token looks delegated: %+v", claims)
	}

	// B acts for A.
	tokenB, err := clients["B"].Delegate(ctx, tokenA.AccessToken, nil)
	if err != nil {
		t.Fatalf("B delegating A's token: %v", err)
	}
	if tokenB.IssuedTokenType == nil || *tokenB.IssuedTokenType != mandate.TokenTypeURIUrnIetfParamsOAuthTokenTypeAccessToken ||
		tokenB.TokenType != mandate.TokenResponseTokenTypeBearer || tokenB.Scope != "agents:read" || tokenB.ExpiresIn <= 0 {
		t.Fatalf("token response %+v", tokenB)
	}
	claimsB := verify(tokenB.AccessToken)
	if claimsB.Subject != string(idA) || claimsB.ClientID != string(idB) || claimsB.Org != org.ID ||
		!reflect.DeepEqual(claimsB.Actors(), []string{string(idB)}) || !strings.HasPrefix(claimsB.DelegationID, "dlg_") {
		t.Fatalf("B's delegated token: %+v, actors %v", claimsB, claimsB.Actors())
	}
	if !claimsB.ExpiresAt.After(time.Now()) || claimsB.ExpiresAt.Unix() > verify(tokenA.AccessToken).ExpiresAt.Unix() {
		t.Fatalf("the delegated token outlives A's: %v", claimsB.ExpiresAt)
	}

	// The delegated token calls the API as A.
	asA := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithAPIToken(tokenB.AccessToken), mandate.WithMaxRetries(0))
	got, err := asA.Agents.Get(ctx, string(idA))
	if err != nil || got.ID != idA {
		t.Fatalf("agents.get(A) with B's delegated token: %+v %v", got, err)
	}

	// C acts for A with B's delegated token: the nearest actor first.
	tokenC, err := clients["C"].Delegate(ctx, tokenB.AccessToken, &mandate.DelegateParams{Scope: "agents:read"})
	if err != nil {
		t.Fatalf("C delegating B's delegated token: %v", err)
	}
	claimsC := verify(tokenC.AccessToken)
	if claimsC.Subject != string(idA) || claimsC.ClientID != string(idC) ||
		!reflect.DeepEqual(claimsC.Actors(), []string{string(idC), string(idB)}) ||
		claimsC.DelegationID == "" || claimsC.DelegationID == claimsB.DelegationID {
		t.Fatalf("C's delegated token: %+v, actors %v", claimsC, claimsC.Actors())
	}

	// Introspection reports the chain.
	info, err := clients["C"].OAuth.Introspect(ctx, mandate.TokenOperationRequest{Token: tokenC.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Active || info.Act == nil || info.Act.Sub != string(idC) || info.DelegationID == nil || *info.DelegationID != claimsC.DelegationID {
		t.Fatalf("introspection: %+v", info)
	}
	var previous struct{ Sub string }
	if err := json.Unmarshal(info.Act.Act["sub"], &previous.Sub); err != nil || previous.Sub != string(idB) {
		t.Fatalf("introspection act.act: %v %v", info.Act.Act, err)
	}

	// The server's refusals: a wider scope, an agent already in the chain, and a client
	// with no agent to act as.
	_, err = clients["B"].Delegate(ctx, tokenA.AccessToken, &mandate.DelegateParams{Scope: "agents:read agents:write"})
	var apiErr *mandate.Error
	if !mandate.IsBadRequest(err) || !errors.As(err, &apiErr) || apiErr.Code != "invalid_scope" {
		t.Fatalf("widening the scope: %v", err)
	}
	if _, err := clients["B"].Delegate(ctx, tokenC.AccessToken, nil); !errors.As(err, &apiErr) || apiErr.Code != "invalid_request" {
		t.Fatalf("B again in the chain: %v", err)
	}
	if _, err := admin.Delegate(ctx, tokenA.AccessToken, nil); !mandate.IsConfigError(err) {
		t.Fatalf("an admin-token client delegating: %v", err)
	}

	// Both delegations are listed; revoking B's also ends C's, made from it.
	page, err := admin.Delegations.List(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]mandate.Delegation{}
	for it := page.Iter(ctx); it.Next(); {
		listed[it.Current().ID] = it.Current()
	}
	first, second := listed[claimsB.DelegationID], listed[claimsC.DelegationID]
	if first.ActorAgentID != idB || first.SubjectAgentID != idA || second.ActorAgentID != idC ||
		second.ParentDelegationID == nil || *second.ParentDelegationID != claimsB.DelegationID || second.Depth != 2 {
		t.Fatalf("listed delegations %+v", listed)
	}
	revoked, err := admin.Delegations.Revoke(ctx, claimsB.DelegationID)
	if err != nil || revoked.Status != mandate.DelegationStatusRevoked {
		t.Fatalf("revoking B's delegation: %+v %v", revoked, err)
	}
	info, err = clients["C"].OAuth.Introspect(ctx, mandate.TokenOperationRequest{Token: tokenC.AccessToken})
	if err != nil || info.Active {
		t.Fatalf("C's token after B's delegation was revoked: %+v %v", info, err)
	}
	if _, err := asA.Agents.Get(ctx, string(idA)); !mandate.IsAuthentication(err) {
		t.Fatalf("B's revoked delegated token still calls the API: %v", err)
	}
	// A's own token is untouched.
	if info, err := clients["A"].OAuth.Introspect(ctx, mandate.TokenOperationRequest{Token: tokenA.AccessToken}); err != nil || !info.Active {
		t.Fatalf("A's token after the revocation: %+v %v", info, err)
	}
}
