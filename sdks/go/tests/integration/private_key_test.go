package integration

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
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
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

var b64url = base64.RawURLEncoding.EncodeToString

// keyAgent registers an organization and an agent that may read agents, with no
// credential: it authenticates with the keys the tests register.
func keyAgent(t *testing.T, ctx context.Context, srv *server) (*mandate.Client, mandate.RequestOption, *mandate.Agent) {
	t.Helper()
	suffix := make([]byte, 5)
	_, _ = rand.Read(suffix)
	admin := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithAPIToken(srv.Token), mandate.WithMaxRetries(0))
	org, err := admin.Orgs.Create(ctx, mandate.OrganizationCreate{Name: "keys-" + hex.EncodeToString(suffix)})
	if err != nil {
		t.Fatal(err)
	}
	inOrg := mandate.WithRequestOrganization(org.ID)
	agent, err := admin.Agents.Create(ctx, mandate.AgentCreate{
		Name:          "key-agent",
		AgentType:     mandate.AgentTypeAutonomous,
		AllowedScopes: []mandate.Scope{"agents:read"},
	}, inOrg)
	if err != nil {
		t.Fatal(err)
	}
	return admin, inOrg, agent
}

// publicJWK is the public half of key as the addAgentKey body wants it.
func publicJWK(key crypto.Signer, kid string, alg mandate.PublicJWKInputAlg) mandate.PublicJWKInput {
	var jwk mandate.PublicJWKInput
	switch pub := key.Public().(type) {
	case *ecdsa.PublicKey:
		point, _ := pub.ECDH()
		raw := point.Bytes()
		jwk = mandate.PublicJWKInput{Kty: mandate.PublicJWKInputKtyEC, Crv: mandate.Ptr("P-256"), X: mandate.Ptr(b64url(raw[1:33])), Y: mandate.Ptr(b64url(raw[33:]))}
	case ed25519.PublicKey:
		jwk = mandate.PublicJWKInput{Kty: mandate.PublicJWKInputKtyOKP, Crv: mandate.Ptr("Ed25519"), X: mandate.Ptr(b64url(pub))}
	case *rsa.PublicKey:
		jwk = mandate.PublicJWKInput{Kty: mandate.PublicJWKInputKtyRSA, N: mandate.Ptr(b64url(pub.N.Bytes())), E: mandate.Ptr(b64url(big.NewInt(int64(pub.E)).Bytes()))}
	}
	if kid != "" {
		jwk.Kid = &kid
	}
	if alg != "" {
		jwk.Alg = &alg
	}
	return jwk
}

func pkcs8PEM(t *testing.T, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// An agent client built with its id and a private key calls the API with tokens it got
// by private_key_jwt, fetches a second token (a new jti), introspects and revokes with
// the key; once the key is removed, its assertions are refused.
func TestPrivateKeyJWTAgainstServer(t *testing.T) {
	srv := liveServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	admin, inOrg, agent := keyAgent(t, ctx, srv)

	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	edJWK, _ := json.Marshal(map[string]string{"kty": "OKP", "crv": "Ed25519", "kid": "ed-key-1", "x": b64url(edKey.Public().(ed25519.PublicKey)), "d": b64url(edKey.Seed())})
	rsaJWK := map[string]any{
		"kty": "RSA", "alg": "PS256", "n": b64url(rsaKey.N.Bytes()), "e": b64url(big.NewInt(int64(rsaKey.E)).Bytes()),
		"d": b64url(rsaKey.D.Bytes()), "p": b64url(rsaKey.Primes[0].Bytes()), "q": b64url(rsaKey.Primes[1].Bytes()),
	}
	cases := []struct {
		name     string
		register mandate.PublicJWKInput
		key      any
		alg      mandate.AgentKeyAlg
	}{
		{"ES256 from PKCS#8 PEM, kid = thumbprint", publicJWK(ecKey, "", ""), pkcs8PEM(t, ecKey), "ES256"},
		{"EdDSA from JWK text with its own kid", publicJWK(edKey, "ed-key-1", ""), string(edJWK), "EdDSA"},
		{"PS256 from a JWK map", publicJWK(rsaKey, "", mandate.PublicJWKInputAlgPS256), rsaJWK, "PS256"},
	}
	var ecKeyID string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			registered, err := admin.AgentKeys.Add(ctx, agent.ID, mandate.AgentKeyCreate{JWK: tc.register, Label: mandate.Value(tc.name)}, inOrg)
			if err != nil {
				t.Fatal(err)
			}
			if registered.Alg != tc.alg {
				t.Fatalf("registered as %s", registered.Alg)
			}
			if tc.alg == "ES256" {
				ecKeyID = registered.ID
			}
			bot := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithPrivateKey(agent.ID, tc.key), mandate.WithScope("agents:read"))
			if err := bot.Core().Err(); err != nil {
				t.Fatal(err)
			}
			got, err := bot.Agents.Get(ctx, agent.ID)
			if err != nil {
				t.Fatalf("getAgent with a managed token from private_key_jwt: %v", err)
			}
			if got.ID != agent.ID {
				t.Fatalf("agent %+v", got)
			}
			// A second token: a new assertion, a new jti.
			token, err := bot.OAuth.IssueToken(ctx, mandate.TokenRequest{GrantType: mandate.TokenRequestGrantTypeClientCredentials})
			if err != nil {
				t.Fatalf("second token: %v", err)
			}
			info, err := bot.OAuth.Introspect(ctx, mandate.TokenOperationRequest{Token: token.AccessToken})
			if err != nil || !info.Active || info.Sub == nil || *info.Sub != agent.ID {
				t.Fatalf("introspection with the key: %+v %v", info, err)
			}
			if err := bot.OAuth.Revoke(ctx, mandate.TokenOperationRequest{Token: token.AccessToken}); err != nil {
				t.Fatalf("revocation with the key: %v", err)
			}
			if info, err := bot.OAuth.Introspect(ctx, mandate.TokenOperationRequest{Token: token.AccessToken}); err != nil || info.Active {
				t.Fatalf("after revocation: %+v %v", info, err)
			}
		})
	}
	if ecKeyID == "" {
		t.Fatal("the EC key was not registered")
	}

	if err := admin.AgentKeys.Remove(ctx, agent.ID, ecKeyID, inOrg); err != nil {
		t.Fatal(err)
	}
	removed := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithPrivateKey(agent.ID, pkcs8PEM(t, ecKey)))
	_, err = removed.Agents.Get(ctx, agent.ID)
	var apiErr *mandate.Error
	if !mandate.IsAuthentication(err) || !errors.As(err, &apiErr) || apiErr.Code != "invalid_client" {
		t.Fatalf("a removed key: %v", err)
	}
}

// golang.org/x/oauth2's client-credentials flow, unmodified, authenticates with an
// assertion signed by golang-jwt for a key registered through the SDK; the token it gets
// passes VerifyAccessToken and works on the API. x/oauth2 sends fixed EndpointParams, so
// fetching again replays the jti, which the server refuses.
func TestInteropOAuth2PrivateKeyJWT(t *testing.T) {
	srv := liveServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, inOrg, agent := keyAgent(t, ctx, srv)
	meta, err := admin.OAuth.ServerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}

	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	cases := []struct {
		name   string
		key    crypto.Signer
		method jwt.SigningMethod
	}{
		{"ES256", ecKey, jwt.SigningMethodES256},
		{"EdDSA", edKey, jwt.SigningMethodEdDSA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			registered, err := admin.AgentKeys.Add(ctx, agent.ID, mandate.AgentKeyCreate{JWK: publicJWK(tc.key, "", "")}, inOrg)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			jti := make([]byte, 16)
			_, _ = rand.Read(jti)
			claims := jwt.RegisteredClaims{
				Issuer:    agent.ID,
				Subject:   agent.ID,
				Audience:  jwt.ClaimStrings{meta.Issuer},
				IssuedAt:  jwt.NewNumericDate(now),
				ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)),
				ID:        hex.EncodeToString(jti),
			}
			signed := jwt.NewWithClaims(tc.method, claims)
			signed.Header["kid"] = registered.Kid
			assertion, err := signed.SignedString(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			cc := clientcredentials.Config{
				ClientID: agent.ID,
				TokenURL: meta.TokenEndpoint,
				Scopes:   []string{"agents:read"},
				EndpointParams: url.Values{
					"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
					"client_assertion":      {assertion},
				},
				// client_id in the body beside the assertion; no Basic header (no secret).
				AuthStyle: oauth2.AuthStyleInParams,
			}
			token, err := cc.Token(ctx)
			if err != nil {
				t.Fatalf("x/oauth2 with a golang-jwt assertion: %v", err)
			}
			verified, err := mandate.VerifyAccessToken(ctx, token.AccessToken, mandate.VerifyOptions{Issuer: meta.Issuer, Audience: meta.Issuer, BaseURL: srv.BaseURL})
			if err != nil || verified.Subject != agent.ID || verified.Scope != "agents:read" {
				t.Fatalf("VerifyAccessToken: %+v %v", verified, err)
			}
			withToken := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithAPIToken(token.AccessToken))
			if got, err := withToken.Agents.Get(ctx, agent.ID); err != nil || got.ID != agent.ID {
				t.Fatalf("the API with the x/oauth2 token: %v", err)
			}

			_, err = cc.Token(ctx)
			var refused *oauth2.RetrieveError
			if !errors.As(err, &refused) || refused.ErrorCode != "invalid_client" {
				t.Fatalf("a replayed assertion: %v", err)
			}
		})
	}
}
