package core

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// decodedProof is a DPoP proof whose signature verified with the key of its own jwk header.
type decodedProof struct {
	header map[string]json.RawMessage
	jwk    map[string]string
	claims dpopClaims
	raw    map[string]any // the claims as sent, to see which are present
	pub    crypto.PublicKey
}

// verifyProof checks a proof as RFC 9449 §4.3 asks a server to: typ, a public jwk with
// nothing else in the header but alg, and a signature (ES256 as low-S r ‖ s) by that key.
func verifyProof(t *testing.T, proof string) decodedProof {
	t.Helper()
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		t.Fatalf("the proof is not a JWS: %d parts", len(parts))
	}
	var out decodedProof
	for i, target := range []any{&out.header, &out.raw} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, target) != nil {
			t.Fatalf("proof segment %d does not decode", i)
		}
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(payload, &out.claims); err != nil {
		t.Fatal(err)
	}
	if len(out.header) != 3 || string(out.header["typ"]) != `"dpop+jwt"` {
		t.Fatalf("header members: %s", jsonText(t, out.header))
	}
	if err := json.Unmarshal(out.header["jwk"], &out.jwk); err != nil {
		t.Fatalf("jwk: %v", err)
	}
	var alg string
	_ = json.Unmarshal(out.header["alg"], &alg)
	key, ok := parseJWK(jwk{Kty: out.jwk["kty"], Crv: out.jwk["crv"], X: out.jwk["x"], Y: out.jwk["y"], N: out.jwk["n"], E: out.jwk["e"]})
	if !ok {
		t.Fatalf("the jwk is not a usable public key: %v", out.jwk)
	}
	out.pub = key.key
	want := map[string][]string{"EC": {"crv", "kty", "x", "y"}, "OKP": {"crv", "kty", "x"}, "RSA": {"e", "kty", "n"}}[out.jwk["kty"]]
	if len(out.jwk) != len(want) {
		t.Fatalf("the jwk has members beyond the public key's: %v", out.jwk)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	input := []byte(parts[0] + "." + parts[1])
	digest := sha256.Sum256(input)
	switch alg {
	case "ES256":
		ok = len(sig) == 64 && isLowS(sig[32:]) &&
			ecdsa.Verify(out.pub.(*ecdsa.PublicKey), digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case "EdDSA":
		ok = ed25519.Verify(out.pub.(ed25519.PublicKey), input, sig)
	case "RS256":
		ok = rsa.VerifyPKCS1v15(out.pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig) == nil
	case "PS256":
		ok = rsa.VerifyPSS(out.pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	default:
		ok = false
	}
	if !ok {
		t.Fatalf("the %s proof signature does not verify with its jwk", alg)
	}
	return out
}

func sha256B64(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// dpopServer is a mock Mandate that binds tokens to DPoP proofs: the token endpoint and
// /v1/things answer the scripted replies first (then success), and every request's
// Authorization and DPoP headers are recorded.
type dpopServer struct {
	mu         sync.Mutex
	tokenType  string // the token_type issued (default DPoP)
	tokenReply []func(w http.ResponseWriter)
	apiReply   []func(w http.ResponseWriter)
	requests   []recordedRequest
	tokenCalls int
}

type recordedRequest struct {
	method, path, authorization string
	proofs                      []string
}

func (s *dpopServer) handler(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, recordedRequest{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Values("DPoP")})
	w.Header().Set("Content-Type", "application/json")
	var script *[]func(w http.ResponseWriter)
	switch r.URL.Path {
	case "/oauth2/token":
		s.tokenCalls++
		script = &s.tokenReply
	case "/oauth2/introspect":
		_, _ = w.Write([]byte(`{"active":true}`))
		return
	default:
		script = &s.apiReply
	}
	if len(*script) > 0 {
		reply := (*script)[0]
		*script = (*script)[1:]
		reply(w)
		return
	}
	if r.URL.Path == "/oauth2/token" {
		tokenType := s.tokenType
		if tokenType == "" {
			tokenType = "DPoP"
		}
		fmt.Fprintf(w, `{"access_token":"at-%d","token_type":%q,"expires_in":900}`, s.tokenCalls, tokenType)
		return
	}
	_, _ = w.Write([]byte(`{"ok":true}`))
}

func (s *dpopServer) recorded() []recordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recordedRequest(nil), s.requests...)
}

func reply(status int, body string, header ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// The token request carries a proof without ath; the call made with the DPoP token sends
// it with the DPoP scheme and a proof naming it (ath), for the URL without its query.
func TestDPoPProofsOnTokenAndResourceRequests(t *testing.T) {
	srv := &dpopServer{}
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	c, _ := testClient(t, srv.handler, WithClientCredentials("agt_1", "sec"), WithDPoP(), withTestHooks(&sleeps{}, 0, clock))
	req := &Request{Method: "GET", Path: "/v1/things", Query: map[string][]string{"limit": {"5"}}, Auth: []AuthMode{AuthBearer}}
	if err := c.Do(context.Background(), req, nil, nil); err != nil {
		t.Fatal(err)
	}
	got := srv.recorded()
	if len(got) != 2 {
		t.Fatalf("%d requests, want the token request and the call", len(got))
	}
	token, call := got[0], got[1]
	if len(token.proofs) != 1 || len(call.proofs) != 1 {
		t.Fatalf("proofs sent: %d on the token request, %d on the call; want one each", len(token.proofs), len(call.proofs))
	}
	if !strings.HasPrefix(token.authorization, "Basic ") {
		t.Errorf("token request Authorization %q, want the client's Basic credentials", token.authorization)
	}
	tp := verifyProof(t, token.proofs[0])
	base := c.BaseURL()
	if tp.claims.HTM != "POST" || tp.claims.HTU != base+"/oauth2/token" || tp.claims.IAT != clock.Now().Unix() || tp.claims.JTI == "" {
		t.Errorf("token proof claims %+v", tp.claims)
	}
	if _, ok := tp.raw["ath"]; ok {
		t.Error("the token request's proof has an ath")
	}
	if _, ok := tp.raw["nonce"]; ok {
		t.Error("a nonce was sent before the server gave one")
	}
	if call.authorization != "DPoP at-1" {
		t.Errorf("call Authorization %q, want DPoP at-1", call.authorization)
	}
	cp := verifyProof(t, call.proofs[0])
	if cp.claims.HTM != "GET" || cp.claims.HTU != base+"/v1/things" || cp.claims.ATH != sha256B64("at-1") {
		t.Errorf("call proof claims %+v", cp.claims)
	}
	if cp.claims.JTI == tp.claims.JTI {
		t.Error("two proofs share a jti")
	}
	tkt, _ := thumbprint(tp.pub)
	ckt, _ := thumbprint(cp.pub)
	if tkt != ckt || tp.header["alg"] == nil || string(tp.header["alg"]) != `"ES256"` {
		t.Errorf("the proofs are not signed by one ES256 key: %s / %s, alg %s", tkt, ckt, tp.header["alg"])
	}
}

// Every attempt signs a new proof: the retry after a 503 has a jti of its own, on the token
// endpoint and on the API.
func TestEveryAttemptSignsANewProof(t *testing.T) {
	srv := &dpopServer{
		tokenReply: []func(http.ResponseWriter){reply(503, `{"error":"temporarily_unavailable"}`)},
		apiReply:   []func(http.ResponseWriter){reply(503, `{}`)},
	}
	c, _ := testClient(t, srv.handler, WithClientCredentials("agt_1", "sec"), WithDPoP())
	if err := c.Do(context.Background(), bearerGet, nil, nil); err != nil {
		t.Fatal(err)
	}
	jtis := map[string]bool{}
	got := srv.recorded()
	if len(got) != 4 {
		t.Fatalf("%d requests, want 4 (two token attempts, two calls)", len(got))
	}
	for _, r := range got {
		if len(r.proofs) != 1 {
			t.Fatalf("%s %s carried %d proofs", r.method, r.path, len(r.proofs))
		}
		jtis[verifyProof(t, r.proofs[0]).claims.JTI] = true
	}
	if len(jtis) != 4 {
		t.Errorf("%d distinct jtis in 4 proofs", len(jtis))
	}
}

// 400 use_dpop_nonce at the token endpoint is answered at once with the nonce, outside the
// retry budget, and only once per call.
func TestTokenEndpointNonceRetry(t *testing.T) {
	nonceReply := reply(400, `{"error":"use_dpop_nonce","error_description":"nonce"}`, "DPoP-Nonce", "n-1")
	srv := &dpopServer{tokenReply: []func(http.ResponseWriter){nonceReply}}
	c, s := testClient(t, srv.handler, WithClientCredentials("agt_1", "sec"), WithDPoP(), WithMaxRetries(0))
	if err := c.Do(context.Background(), bearerGet, nil, nil); err != nil {
		t.Fatal(err)
	}
	got := srv.recorded()
	if len(got) != 3 || got[0].path != "/oauth2/token" || got[1].path != "/oauth2/token" {
		t.Fatalf("requests %+v", got)
	}
	if _, ok := verifyProof(t, got[0].proofs[0]).raw["nonce"]; ok {
		t.Error("the first proof had a nonce")
	}
	if n := verifyProof(t, got[1].proofs[0]).claims.Nonce; n != "n-1" {
		t.Errorf("the second token proof's nonce is %q, want n-1", n)
	}
	if n := verifyProof(t, got[2].proofs[0]).claims.Nonce; n != "n-1" {
		t.Errorf("the call's proof nonce is %q, want the origin's n-1", n)
	}
	if len(s.all()) != 0 {
		t.Errorf("the nonce retry waited: %v", s.all())
	}

	// A server that keeps asking gets one retry, then the error.
	srv2 := &dpopServer{tokenReply: []func(http.ResponseWriter){nonceReply, nonceReply, nonceReply}}
	c2, _ := testClient(t, srv2.handler, WithClientCredentials("agt_1", "sec"), WithDPoP(), WithMaxRetries(0))
	err := c2.Do(context.Background(), bearerGet, nil, nil)
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Code != "use_dpop_nonce" || apiErr.StatusCode != 400 {
		t.Fatalf("err = %v, want the 400 use_dpop_nonce", err)
	}
	if n := len(srv2.recorded()); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
}

// A resource's 401 with error="use_dpop_nonce" is answered at once with the new nonce, with
// the same token (no refresh).
func TestResourceNonceRetry(t *testing.T) {
	srv := &dpopServer{apiReply: []func(http.ResponseWriter){
		reply(401, `{"code":"USE_DPOP_NONCE"}`, "WWW-Authenticate", `DPoP algs="ES256", error="use_dpop_nonce"`, "DPoP-Nonce", "n-2"),
	}}
	c, s := testClient(t, srv.handler, WithClientCredentials("agt_1", "sec"), WithDPoP(), WithMaxRetries(0))
	if err := c.Do(context.Background(), bearerGet, nil, nil); err != nil {
		t.Fatal(err)
	}
	got := srv.recorded()
	if len(got) != 3 || got[1].path != "/v1/things" || got[2].path != "/v1/things" {
		t.Fatalf("requests %+v", got)
	}
	if got[1].authorization != "DPoP at-1" || got[2].authorization != "DPoP at-1" {
		t.Errorf("the nonce retry changed the token: %q then %q", got[1].authorization, got[2].authorization)
	}
	first, second := verifyProof(t, got[1].proofs[0]), verifyProof(t, got[2].proofs[0])
	if second.claims.Nonce != "n-2" || first.claims.JTI == second.claims.JTI {
		t.Errorf("retry proof %+v after %+v", second.claims, first.claims)
	}
	if len(s.all()) != 0 {
		t.Errorf("the nonce retry waited: %v", s.all())
	}
}

// A Bearer token (a server that did not bind it) goes as before; an API token never gets a
// proof; introspection carries none.
func TestProofsOnlyWhereTheyBelong(t *testing.T) {
	srv := &dpopServer{tokenType: "Bearer"}
	c, _ := testClient(t, srv.handler, WithClientCredentials("agt_1", "sec"), WithDPoP())
	if err := c.Do(context.Background(), bearerGet, nil, nil); err != nil {
		t.Fatal(err)
	}
	introspect := &Request{Method: "POST", Path: "/oauth2/introspect", Form: map[string][]string{"token": {"x"}}, Auth: []AuthMode{AuthClientBasic}}
	if err := c.Do(context.Background(), introspect, nil, nil); err != nil {
		t.Fatal(err)
	}
	got := srv.recorded()
	if len(got[0].proofs) != 1 || got[1].authorization != "Bearer at-1" || len(got[1].proofs) != 0 || len(got[2].proofs) != 0 {
		t.Errorf("requests %+v", got)
	}

	srv2 := &dpopServer{}
	admin, _ := testClient(t, srv2.handler, WithAPIToken("mdt_pat_x"), WithDPoP())
	if err := admin.Do(context.Background(), bearerGet, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := srv2.recorded(); got[0].authorization != "Bearer mdt_pat_x" || len(got[0].proofs) != 0 {
		t.Errorf("API token request %+v", got[0])
	}
}

// WithDPoPKey takes the forms WithPrivateKey does, each signing with its own algorithm.
func TestDPoPKeyForms(t *testing.T) {
	keys := agentTestKeys()
	psJWK := privateJWK(keys["RS256"])
	psJWK["alg"] = "PS256"
	cases := map[string]string{
		"ES256": pkcs8PEM(t, keys["ES256"]),
		"EdDSA": jsonText(t, privateJWK(keys["EdDSA"])),
		"RS256": pkcs8PEM(t, keys["RS256"]),
		"PS256": jsonText(t, psJWK),
	}
	for alg, key := range cases {
		c, _ := testClient(t, (&dpopServer{}).handler, WithDPoPKey(key))
		proof, err := c.CreateDPoPProof(context.Background(), "post", "https://mcp.example/tools?x=1#f", "tok")
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		p := verifyProof(t, proof)
		if string(p.header["alg"]) != `"`+alg+`"` {
			t.Errorf("%s: alg %s", alg, p.header["alg"])
		}
		signer := keys[alg]
		if alg == "PS256" {
			signer = keys["RS256"]
		}
		want, _ := thumbprint(signer.Public())
		if got, _ := thumbprint(p.pub); got != want {
			t.Errorf("%s: the proof's jwk is not the key given", alg)
		}
		if p.claims.HTM != "POST" || p.claims.HTU != "https://mcp.example/tools" || p.claims.ATH != sha256B64("tok") {
			t.Errorf("%s: claims %+v", alg, p.claims)
		}
	}
}

// CreateDPoPProof carries the nonce the URL's origin sent last, and none to other origins.
func TestCreateDPoPProofUsesTheOriginsNonce(t *testing.T) {
	c, _ := testClient(t, (&dpopServer{}).handler, WithDPoP())
	c.ObserveDPoPNonce("https://mcp.example/a", http.Header{"Dpop-Nonce": {"mcp-nonce"}})
	proof, err := c.CreateDPoPProof(context.Background(), "GET", "https://MCP.example/b", "")
	if err != nil {
		t.Fatal(err)
	}
	p := verifyProof(t, proof)
	if p.claims.Nonce != "mcp-nonce" {
		t.Errorf("nonce %q", p.claims.Nonce)
	}
	if _, ok := p.raw["ath"]; ok {
		t.Error("ath without an access token")
	}
	other, _ := c.CreateDPoPProof(context.Background(), "GET", "https://api.example/b", "")
	if n := verifyProof(t, other).claims.Nonce; n != "" {
		t.Errorf("another origin's proof has nonce %q", n)
	}
}

// A DPoP key that cannot be used, or a proof asked of a client without a key, is a
// *ConfigError naming the DPoP option and never quoting the key.
func TestDPoPConfigurationErrors(t *testing.T) {
	ec := privateJWK(agentTestKeys()["ES256"])
	secret := ec["d"].(string)
	public := jsonText(t, map[string]any{"kty": "EC", "crv": "P-256", "x": ec["x"], "y": ec["y"]})
	cases := map[string]struct{ key, want string }{
		"empty":      {"", "it is empty"},
		"public JWK": {public, "no private member d"},
		"not a key":  {"nope-" + secret, "neither PEM"},
	}
	for name, tc := range cases {
		c, _ := testClient(t, (&dpopServer{}).handler, WithClientCredentials("agt_1", "sec"), WithDPoPKey(tc.key))
		err := c.Err()
		var cfgErr *ConfigError
		if !errors.As(err, &cfgErr) || !strings.Contains(err.Error(), "DPoP key (WithDPoPKey)") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error quotes the key", name)
		}
		if callErr := c.Do(context.Background(), bearerGet, nil, nil); !errors.As(callErr, &cfgErr) {
			t.Errorf("%s: a call returned %v, want the ConfigError", name, callErr)
		}
	}
	plain, _ := testClient(t, (&dpopServer{}).handler, WithClientCredentials("agt_1", "sec"))
	if _, err := plain.CreateDPoPProof(context.Background(), "GET", "https://mcp.example/", ""); !IsConfigError(err) {
		t.Errorf("CreateDPoPProof without a key: %v", err)
	}
}

// Delegate's token exchange is a token request too: it carries a proof, on each attempt.
func TestDelegateCarriesAProof(t *testing.T) {
	srv := &dpopServer{tokenReply: []func(http.ResponseWriter){reply(503, `{}`)}}
	c, _ := testClient(t, srv.handler, WithClientCredentials("agt_b", "sec"), WithDPoP())
	if err := c.Delegate(context.Background(), "subject-token", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	got := srv.recorded()
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	first, second := verifyProof(t, got[0].proofs[0]), verifyProof(t, got[1].proofs[0])
	if first.claims.HTU != c.BaseURL()+"/oauth2/token" || first.claims.JTI == second.claims.JTI || second.claims.ATH != "" {
		t.Errorf("proofs %+v, %+v", first.claims, second.claims)
	}
}
