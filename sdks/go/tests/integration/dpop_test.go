package integration

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// newAgent creates an organization and an agent allowed scopes, with a client secret, and
// returns its client id and secret.
func newAgent(t *testing.T, ctx context.Context, srv *server, scopes ...string) (string, string) {
	t.Helper()
	suffix := make([]byte, 5)
	_, _ = rand.Read(suffix)
	instance := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithAPIToken(srv.Token), mandate.WithMaxRetries(0))
	org, err := instance.Orgs.Create(ctx, mandate.OrganizationCreate{Name: "dpop-" + hex.EncodeToString(suffix)})
	if err != nil {
		t.Fatal(err)
	}
	orgToken, err := instance.AdminTokens.Create(ctx, org.ID, mandate.AdminTokenCreate{Role: mandate.AdminTokenRoleAdmin, Label: "dpop"})
	if err != nil {
		t.Fatal(err)
	}
	admin := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithAPIToken(orgToken.Token), mandate.WithMaxRetries(0))
	agent, err := admin.Agents.Create(ctx, mandate.AgentCreate{Name: "dpop-agent", AgentType: mandate.AgentTypeAutonomous, AllowedScopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := admin.Credentials.Create(ctx, agent.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cred.ClientID, cred.Secret
}

// exchangeLog records what each request sent and got, seen from the client's transport.
type exchangeLog struct {
	mu        sync.Mutex
	exchanges []exchange
}

type exchange struct {
	method, path, authScheme string
	proofs, status           int
}

func (l *exchangeLog) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	l.mu.Lock()
	l.exchanges = append(l.exchanges, exchange{r.Method, r.URL.Path, scheme, len(r.Header.Values("DPoP")), res.StatusCode})
	l.mu.Unlock()
	return res, nil
}

func (l *exchangeLog) all() []exchange {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]exchange(nil), l.exchanges...)
}

// proofThumbprint is the RFC 7638 thumbprint of a proof's jwk: with only the required
// members, encoding/json's sorted, compact map output is the canonical form.
func proofThumbprint(t *testing.T, proof string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(proof, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var header struct {
		JWK map[string]string `json:"jwk"`
	}
	if err := json.Unmarshal(raw, &header); err != nil {
		t.Fatal(err)
	}
	canonical, _ := json.Marshal(header.JWK)
	sum := sha256.Sum256(canonical)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Against a server that requires DPoP nonces: a client with WithDPoP gets DPoP tokens bound
// to its key (cnf.jkt, seen by introspection) after one nonce retry, and calls the API with
// its managed token as DPoP.
func TestDPoPAgainstServerWithNonces(t *testing.T) {
	srv := ownServer(t, "MANDATE_DPOP_NONCE=required")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	clientID, secret := newAgent(t, ctx, srv, "agents:read")
	log := &exchangeLog{}
	client := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithClientCredentials(clientID, secret), mandate.WithDPoP(),
		mandate.WithMaxRetries(0), mandate.WithHTTPClient(&http.Client{Transport: log}))

	issued, err := client.OAuth.IssueToken(ctx, mandate.TokenRequest{GrantType: mandate.TokenRequestGrantTypeClientCredentials})
	if err != nil {
		t.Fatal(err)
	}
	if issued.TokenType != mandate.TokenResponseTokenTypeDPoP {
		t.Fatalf("token_type %q, want DPoP", issued.TokenType)
	}
	first := log.all()
	if len(first) != 2 || first[0].status != 400 || first[1].status != 200 || first[0].proofs != 1 || first[1].proofs != 1 {
		t.Fatalf("token requests %+v, want a use_dpop_nonce 400 then 200, each with a proof", first)
	}

	proof, err := client.Core().CreateDPoPProof(ctx, "GET", srv.BaseURL+"/v1/agents", issued.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	introspection, err := client.OAuth.Introspect(ctx, mandate.TokenOperationRequest{Token: issued.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	if !introspection.Active || introspection.Cnf == nil || introspection.Cnf.Jkt != proofThumbprint(t, proof) {
		t.Fatalf("introspection %+v: want active and bound to the client's key", introspection)
	}
	if n := log.all()[2].proofs; n != 0 {
		t.Errorf("introspection carried %d proofs", n)
	}

	// The managed token, a DPoP token too, calls the API with a proof carrying the nonce.
	if _, err := client.Agents.List(ctx, nil); err != nil {
		t.Fatalf("listing agents with the DPoP token: %v", err)
	}
	var calls []exchange
	for _, e := range log.all()[3:] {
		if e.path == "/v1/agents" {
			calls = append(calls, e)
		}
	}
	if len(calls) != 1 || calls[0].authScheme != "DPoP" || calls[0].proofs != 1 || calls[0].status != 200 {
		t.Errorf("API calls %+v, want one DPoP call answered 200", calls)
	}

	// The proof CreateDPoPProof made works for a request made by hand.
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.BaseURL+"/v1/agents", nil)
	req.Header.Set("Authorization", "DPoP "+issued.AccessToken)
	proof, _ = client.Core().CreateDPoPProof(ctx, "GET", srv.BaseURL+"/v1/agents", issued.AccessToken)
	req.Header.Set("DPoP", proof)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("a hand-made request with CreateDPoPProof's proof got %d", res.StatusCode)
	}
}
