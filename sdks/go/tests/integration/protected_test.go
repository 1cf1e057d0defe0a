package integration

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// A service of our own protected by a ProtectedResource accepts tokens the reference server
// issued for it (RFC 8707 resource), as Bearer and DPoP-bound with CreateDPoPProof's
// proofs, and refuses a token for another audience (401) or without its scope (403).
func TestProtectedResourceAgainstServer(t *testing.T) {
	srv := liveServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	clientID, secret := newAgent(t, ctx, srv, "tools:call", "tools:list")
	meta, err := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL)).OAuth.ServerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}

	var protected http.Handler
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { protected.ServeHTTP(w, r) }))
	defer service.Close()
	mcpURL := service.URL + "/mcp"
	resource, err := mandate.NewProtectedResource(mandate.ProtectedResourceOptions{Resource: mcpURL, Issuer: meta.Issuer, Scopes: []string{"tools:call"}})
	if err != nil {
		t.Fatal(err)
	}
	protected = resource.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := mandate.ClaimsFromContext(r.Context())
		_, _ = io.WriteString(w, claims.Subject+" "+claims.ClientID)
	}))

	issue := func(client *mandate.Client, scope string, forService bool) *mandate.TokenResponse {
		t.Helper()
		params := mandate.TokenRequest{GrantType: mandate.TokenRequestGrantTypeClientCredentials, Scope: &scope}
		if forService {
			params.Resource = &mcpURL
		}
		token, err := client.OAuth.IssueToken(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	call := func(method, target string, header ...string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, target, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("WWW-Authenticate"), string(body)
	}
	m := resource.MetadataURL()

	// The metadata names the reference server.
	status, _, body := call("GET", service.URL+resource.MetadataPath())
	var doc mandate.ProtectedResourceMetadata
	if status != 200 || json.Unmarshal([]byte(body), &doc) != nil || doc.Resource != mcpURL || len(doc.AuthorizationServers) != 1 || doc.AuthorizationServers[0] != meta.Issuer {
		t.Fatalf("metadata %d %s", status, body)
	}

	bearerClient := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithClientCredentials(clientID, secret), mandate.WithMaxRetries(0))
	bearer := issue(bearerClient, "tools:call", true)
	if status, challenge, body := call("GET", mcpURL, "Authorization", "Bearer "+bearer.AccessToken); status != 200 || body != clientID+" "+clientID {
		t.Errorf("bearer token for the service: %d %q %q", status, challenge, body)
	}

	dpopClient := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithClientCredentials(clientID, secret), mandate.WithDPoP(), mandate.WithMaxRetries(0))
	bound := issue(dpopClient, "tools:call", true)
	if bound.TokenType != mandate.TokenResponseTokenTypeDPoP {
		t.Fatalf("token_type %q", bound.TokenType)
	}
	for _, method := range []string{"GET", "POST"} {
		proof, err := dpopClient.Core().CreateDPoPProof(ctx, method, mcpURL+"?session=1", bound.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if status, challenge, body := call(method, mcpURL+"?session=1", "Authorization", "DPoP "+bound.AccessToken, "DPoP", proof); status != 200 {
			t.Errorf("DPoP %s: %d %q %q", method, status, challenge, body)
		}
	}
	// The bound token without a proof's scheme is refused as the table says.
	status, challenge, _ := call("GET", mcpURL, "Authorization", "Bearer "+bound.AccessToken)
	if want := `DPoP algs="ES256 EdDSA RS256 PS256", error="invalid_token", error_description="The access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof.", resource_metadata="` + m + `"`; status != 401 || challenge != want {
		t.Errorf("bound token as Bearer: %d %q", status, challenge)
	}

	// A token for the issuer's own API, not this service.
	other := issue(bearerClient, "tools:call", false)
	status, challenge, _ = call("GET", mcpURL, "Authorization", "Bearer "+other.AccessToken)
	if want := `Bearer error="invalid_token", error_description="The access token is not for this resource.", resource_metadata="` + m + `"`; status != 401 || challenge != want {
		t.Errorf("token for another audience: %d %q", status, challenge)
	}

	// A token for the service without the scope it requires.
	narrow := issue(bearerClient, "tools:list", true)
	status, challenge, _ = call("GET", mcpURL, "Authorization", "Bearer "+narrow.AccessToken)
	if want := `Bearer error="insufficient_scope", error_description="The access token lacks a scope this resource requires.", scope="tools:call", resource_metadata="` + m + `"`; status != 403 || challenge != want {
		t.Errorf("token without the scope: %d %q", status, challenge)
	}
}
