package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/oauth2/jwt"

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

// testIssuer is an external OIDC issuer on 127.0.0.1: its discovery document and the JWK
// Set of one RSA key, whose private half signs the workload's tokens.
type testIssuer struct {
	URL    string
	KeyPEM []byte
}

func newTestIssuer(t *testing.T, kid string) *testIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64url(key.N.Bytes()), "e": b64url(big.NewInt(int64(key.E)).Bytes()),
	}}})
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	})
	return &testIssuer{URL: srv.URL, KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})}
}

// golang.org/x/oauth2/jwt, unmodified, makes the JWT bearer grant (RFC 7523 §2.1) with a
// token of an external issuer the test runs itself; a trust policy created through the SDK
// accepts it, and the access token it gets passes VerifyAccessToken as the policy's agent.
// A claim the policy's conditions do not allow is refused.
func TestInteropOAuth2JWTBearerGrant(t *testing.T) {
	srv := liveServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, target := federationOrg(t, ctx, srv)
	meta, err := admin.OAuth.ServerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	issuer := newTestIssuer(t, "ci-key-1")
	// x/oauth2/jwt puts the token URL in aud.
	if _, err := admin.TrustPolicies.Create(ctx, mandate.TrustPolicyCreate{
		Name:     "ci deployer",
		Issuer:   issuer.URL,
		Audience: meta.TokenEndpoint,
		Conditions: mandate.ClaimConditions{
			Sub:         "workload-1",
			ExtraFields: map[string]json.RawMessage{"repository": json.RawMessage(`"acme/deployer"`)},
		},
		AgentID: target.ID,
		Scopes:  []mandate.Scope{"agents:read"},
	}); err != nil {
		t.Fatal(err)
	}

	workload := func(repository string) *jwt.Config {
		return &jwt.Config{
			Email:         issuer.URL, // the assertion's iss
			Subject:       "workload-1",
			PrivateKey:    issuer.KeyPEM,
			PrivateKeyID:  "ci-key-1",
			TokenURL:      meta.TokenEndpoint,
			PrivateClaims: map[string]any{"repository": repository},
		}
	}
	token, err := workload("acme/deployer").TokenSource(ctx).Token()
	if err != nil {
		t.Fatalf("x/oauth2/jwt: %v", err)
	}
	claims, err := mandate.VerifyAccessToken(ctx, token.AccessToken, mandate.VerifyOptions{Issuer: meta.Issuer, Audience: meta.Issuer, BaseURL: srv.BaseURL})
	if err != nil {
		t.Fatalf("VerifyAccessToken: %v", err)
	}
	if claims.Subject != target.ID || claims.Scope != "agents:read" {
		t.Fatalf("claims: %+v", claims)
	}
	// golang-jwt, with the server's published keys, accepts the token too.
	parsed, err := gojwt.Parse(token.AccessToken, publishedKey(t, srv), gojwt.WithIssuer(meta.Issuer), gojwt.WithValidMethods([]string{"ES256"}), gojwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("golang-jwt: %v", err)
	}
	if sub, _ := parsed.Claims.GetSubject(); sub != target.ID {
		t.Fatalf("golang-jwt sub: %q", sub)
	}

	_, err = workload("mallory/x").TokenSource(ctx).Token()
	var refused *oauth2.RetrieveError
	if !errors.As(err, &refused) || refused.Response.StatusCode != http.StatusBadRequest || !strings.Contains(string(refused.Body), "invalid_grant") ||
		!strings.Contains(string(refused.Body), "repository") {
		t.Fatalf("a repository the policy does not allow: %v", err)
	}
}

// publishedKey is a golang-jwt key function over the server's JWK Set (EC P-256 keys, the
// server's default signing algorithm), chosen by the token's kid.
func publishedKey(t *testing.T, srv *server) gojwt.Keyfunc {
	t.Helper()
	resp, err := http.Get(srv.BaseURL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, Kty, Crv, X, Y string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return func(token *gojwt.Token) (any, error) {
		for _, key := range set.Keys {
			if key.Kid != token.Header["kid"] || key.Kty != "EC" || key.Crv != "P-256" {
				continue
			}
			x, errX := base64.RawURLEncoding.DecodeString(key.X)
			y, errY := base64.RawURLEncoding.DecodeString(key.Y)
			if errX != nil || errY != nil {
				return nil, errors.New("malformed EC key")
			}
			return &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}, nil
		}
		return nil, errors.New("no published key with this kid")
	}
}
