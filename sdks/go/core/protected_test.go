package core

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	prResource = "https://api.example/mcp"
	prMetadata = "https://api.example/.well-known/oauth-protected-resource/mcp"
	prAlgs     = `algs="ES256 EdDSA RS256 PS256"`
)

// prFixture is a ProtectedResource behind a real HTTP server: a JWKS server for its issuer,
// a fixed clock, the protected handler (which counts its calls and echoes the claims' sub)
// and a DPoP key that tokens can be bound to.
type prFixture struct {
	keys     *testKeys
	now      time.Time
	resource *ProtectedResource
	server   *httptest.Server
	calls    atomic.Int32
	proofKey *clientKey
	jkt      string
}

var prKeys = func() func(t *testing.T) *testKeys {
	var keys *testKeys
	return func(t *testing.T) *testKeys {
		if keys == nil {
			keys = newTestKeys(t)
		}
		return keys
	}
}()

func newPRFixture(t *testing.T, mutate func(*ProtectedResourceOptions)) *prFixture {
	t.Helper()
	f := &prFixture{keys: prKeys(t), now: time.Unix(1_800_000_000, 0)}
	jwks, _ := jwksServer(t, f.keys)
	opts := ProtectedResourceOptions{Resource: prResource, Issuer: testIssuer, JWKSURI: jwks.URL + jwksPath, Scopes: []string{"tools:call"},
		Clock: func() time.Time { return f.now }}
	if mutate != nil {
		mutate(&opts)
	}
	var err error
	if f.resource, err = NewProtectedResource(opts); err != nil {
		t.Fatal(err)
	}
	f.server = httptest.NewServer(f.resource.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		claims, ok := ClaimsFromContext(r.Context())
		if !ok {
			http.Error(w, "no claims", 500)
			return
		}
		_, _ = io.WriteString(w, "hello "+claims.Subject)
	})))
	t.Cleanup(f.server.Close)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.proofKey = &clientKey{signer: ec, alg: "ES256"}
	f.jkt, _ = thumbprint(ec.Public())
	return f
}

// token signs an access token for the resource; change edits its claims.
func (f *prFixture) token(t *testing.T, bound bool, change func(map[string]any)) string {
	claims := validClaims(f.now)
	claims["aud"] = prResource
	claims["scope"] = "tools:call tools:list"
	if bound {
		claims["cnf"] = map[string]string{"jkt": f.jkt}
	}
	if change != nil {
		change(claims)
	}
	return f.keys.sign(t, "ES256", nil, claims)
}

// proof is a valid proof for method and path of the resource, naming token.
func (f *prFixture) proof(t *testing.T, method, path, token string) string {
	proof, err := f.proofKey.dpopProof(method, "https://api.example"+path, token, "", f.now)
	if err != nil {
		t.Fatal(err)
	}
	return proof
}

// signedProof signs a proof with key from the given header and claims as they are.
func signedProof(t *testing.T, key *clientKey, header, claims map[string]any) string {
	hj, _ := json.Marshal(header)
	cj, _ := json.Marshal(claims)
	input := b64(hj) + "." + b64(cj)
	sig, err := key.sign([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

func (f *prFixture) proofParts(token string) (map[string]any, map[string]any) {
	jwk, _ := publicJWK(f.proofKey.signer.Public())
	header := map[string]any{"typ": "dpop+jwt", "alg": f.proofKey.alg, "jwk": json.RawMessage(jwk)}
	claims := map[string]any{"jti": newUUID(), "htm": "GET", "htu": prResource, "iat": f.now.Unix(), "ath": accessTokenHash(token)}
	return header, claims
}

type prAnswer struct {
	status     int
	challenge  string
	retryAfter string
	body       map[string]string
	text       string
}

// send makes a request to the fixture's server; header holds the request's headers (several
// values for a name are sent as several headers).
func (f *prFixture) send(t *testing.T, method, path string, header http.Header) prAnswer {
	t.Helper()
	req, err := http.NewRequest(method, f.server.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range header {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	res, err := f.server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := prAnswer{status: res.StatusCode, challenge: res.Header.Get("WWW-Authenticate"), retryAfter: res.Header.Get("Retry-After"), text: string(raw)}
	if len(res.Header.Values("WWW-Authenticate")) > 1 {
		t.Errorf("several WWW-Authenticate headers: %q", res.Header.Values("WWW-Authenticate"))
	}
	if res.StatusCode >= 400 {
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("refusal Content-Type %q", ct)
		}
		if err := json.Unmarshal(raw, &out.body); err != nil || len(out.body) != 2 {
			t.Errorf("refusal body %q is not {error, error_description}", raw)
		}
	}
	return out
}

func auth(values ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(values); i += 2 {
		h.Add(values[i], values[i+1])
	}
	return h
}

// expectRefusal checks the status, the exact challenge and the body's error code, and that
// the protected handler was not called.
func (f *prFixture) expectRefusal(t *testing.T, name string, got prAnswer, status int, code, challenge string) {
	t.Helper()
	if got.status != status || got.challenge != challenge || got.body["error"] != code {
		t.Errorf("%s: got %d %q %v\n want %d %q error %s", name, got.status, got.challenge, got.body, status, challenge, code)
	}
	if d := got.body["error_description"]; d == "" || strings.ContainsAny(d, `"\`) {
		t.Errorf("%s: error_description %q", name, d)
	}
	if f.calls.Load() != 0 {
		t.Errorf("%s: the protected handler was called", name)
		f.calls.Store(0)
	}
}

// Row 1: no Authorization, another scheme, several headers or no token: 401 with the bare
// challenge, Bearer or (with DPoPRequired) DPoP.
func TestProtectedResourceWithoutAToken(t *testing.T) {
	f := newPRFixture(t, nil)
	bare := `Bearer resource_metadata="` + prMetadata + `"`
	token := f.token(t, false, nil)
	cases := map[string]http.Header{
		"none":           nil,
		"basic":          auth("Authorization", "Basic YTpi"),
		"scheme only":    auth("Authorization", "Bearer"),
		"two headers":    auth("Authorization", "Bearer "+token, "Authorization", "Bearer "+token),
		"unknown scheme": auth("Authorization", "Token "+token),
	}
	for name, header := range cases {
		f.expectRefusal(t, name, f.send(t, "GET", "/mcp", header), 401, "missing_token", bare)
	}
	strict := newPRFixture(t, func(o *ProtectedResourceOptions) { o.DPoPRequired = true })
	strict.expectRefusal(t, "DPoP required", strict.send(t, "GET", "/mcp", nil), 401, "missing_token",
		`DPoP `+prAlgs+`, resource_metadata="`+prMetadata+`"`)
}

// Row 2: a token that fails verification, or is for another audience: invalid_token in the
// scheme the request used.
func TestProtectedResourceInvalidTokens(t *testing.T) {
	f := newPRFixture(t, nil)
	valid := f.token(t, false, nil)
	parts := strings.Split(valid, ".")
	cases := []struct {
		name, scheme, token, description string
	}{
		{"signature", "Bearer", parts[0] + "." + parts[1] + "." + b64(make([]byte, 64)), "The access token signature does not verify."},
		{"expired", "Bearer", f.token(t, false, func(c map[string]any) { c["exp"] = f.now.Add(-time.Hour).Unix() }), "The access token has expired."},
		{"not yet valid", "Bearer", f.token(t, false, func(c map[string]any) { c["nbf"] = f.now.Add(time.Hour).Unix() }), "The access token is not valid yet."},
		{"other audience", "Bearer", f.token(t, false, func(c map[string]any) { c["aud"] = []string{testIssuer} }), "The access token is not for this resource."},
		{"other issuer", "Bearer", f.token(t, false, func(c map[string]any) { c["iss"] = "https://other.example" }), "The access token is from another issuer."},
		{"typ", "Bearer", f.keys.sign(t, "ES256", map[string]any{"typ": "JWT"}, map[string]any{"aud": prResource}), "The access token is not a Mandate access token."},
		{"malformed", "DPoP", "not-a-jwt", "The access token is malformed."},
		{"bad cnf", "DPoP", f.token(t, false, func(c map[string]any) { c["cnf"] = "x" }), "The access token is malformed."},
	}
	for _, tc := range cases {
		got := f.send(t, "GET", "/mcp", auth("Authorization", tc.scheme+" "+tc.token))
		f.expectRefusal(t, tc.name, got, 401, "invalid_token",
			tc.scheme+` error="invalid_token", error_description="`+tc.description+`", resource_metadata="`+prMetadata+`"`)
	}
}

// Row 3: the token's binding and the scheme disagree, or DPoP is required of a bearer token.
func TestProtectedResourceBindingMismatch(t *testing.T) {
	f := newPRFixture(t, nil)
	challenge := func(description string) string {
		return `DPoP ` + prAlgs + `, error="invalid_token", error_description="` + description + `", resource_metadata="` + prMetadata + `"`
	}
	bound, unbound := f.token(t, true, nil), f.token(t, false, nil)
	got := f.send(t, "GET", "/mcp", auth("Authorization", "Bearer "+bound, "DPoP", f.proof(t, "GET", "/mcp", bound)))
	f.expectRefusal(t, "bound as Bearer", got, 401, "invalid_token", challenge("The access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof."))
	got = f.send(t, "GET", "/mcp", auth("Authorization", "DPoP "+unbound, "DPoP", f.proof(t, "GET", "/mcp", unbound)))
	f.expectRefusal(t, "unbound as DPoP", got, 401, "invalid_token", challenge("The access token is not DPoP-bound: send it with the Bearer scheme."))

	strict := newPRFixture(t, func(o *ProtectedResourceOptions) { o.DPoPRequired = true })
	got = strict.send(t, "GET", "/mcp", auth("Authorization", "Bearer "+strict.token(t, false, nil)))
	strict.expectRefusal(t, "DPoP required", got, 401, "invalid_token", challenge("This resource accepts DPoP-bound access tokens only."))
}

// Row 4: every way a DPoP proof can be wrong is invalid_dpop_proof.
func TestProtectedResourceInvalidProofs(t *testing.T) {
	f := newPRFixture(t, nil)
	token := f.token(t, true, nil)
	challenge := func(description string) string {
		return `DPoP ` + prAlgs + `, error="invalid_dpop_proof", error_description="` + description + `", resource_metadata="` + prMetadata + `"`
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherKey := &clientKey{signer: other, alg: "ES256"}
	edit := func(change func(header, claims map[string]any)) string {
		header, claims := f.proofParts(token)
		change(header, claims)
		return signedProof(t, f.proofKey, header, claims)
	}
	otherJWK, _ := publicJWK(other.Public())
	privateJWKText, _ := json.Marshal(privateJWK(f.proofKey.signer.(*ecdsa.PrivateKey)))
	replayed := f.proof(t, "GET", "/mcp", token)
	if got := f.send(t, "GET", "/mcp", auth("Authorization", "DPoP "+token, "DPoP", replayed)); got.status != 200 {
		t.Fatalf("a valid proof got %d %q", got.status, got.challenge)
	}
	f.calls.Store(0)
	cases := []struct {
		name        string
		proofs      []string
		description string
	}{
		{"no proof", nil, "Send exactly one DPoP proof in the DPoP header."},
		{"two proofs", []string{f.proof(t, "GET", "/mcp", token), f.proof(t, "GET", "/mcp", token)}, "Send exactly one DPoP proof in the DPoP header."},
		{"not a JWT", []string{"abc"}, "The DPoP proof is not a JWT."},
		{"typ", []string{edit(func(h, _ map[string]any) { h["typ"] = "JWT" })}, "The DPoP proof must have typ dpop+jwt."},
		{"alg", []string{edit(func(h, _ map[string]any) { h["alg"] = "HS256" })}, "The DPoP proof must be signed with one of ES256, EdDSA, RS256, PS256."},
		{"no jwk", []string{edit(func(h, _ map[string]any) { delete(h, "jwk") })}, "The DPoP proof must carry its public key (jwk)."},
		{"private jwk", []string{edit(func(h, _ map[string]any) { h["jwk"] = json.RawMessage(privateJWKText) })}, "The DPoP proof jwk must be a public key."},
		{"alg unsuited", []string{edit(func(h, _ map[string]any) { h["alg"] = "RS256" })}, "The DPoP proof alg does not suit its jwk."},
		{"signature", []string{edit(func(h, _ map[string]any) { h["jwk"] = json.RawMessage(otherJWK) })}, "The DPoP proof signature does not verify with its jwk."},
		{"htm", []string{f.proof(t, "POST", "/mcp", token)}, "The DPoP proof is for another method (htm)."},
		{"htu path", []string{f.proof(t, "GET", "/other", token)}, "The DPoP proof is for another URL (htu)."},
		{"htu host", []string{edit(func(_, c map[string]any) { c["htu"] = "https://evil.example/mcp" })}, "The DPoP proof is for another URL (htu)."},
		{"iat old", []string{edit(func(_, c map[string]any) { c["iat"] = f.now.Add(-61 * time.Second).Unix() })}, "The DPoP proof iat must be within 60 seconds of now."},
		{"iat ahead", []string{edit(func(_, c map[string]any) { c["iat"] = f.now.Add(61 * time.Second).Unix() })}, "The DPoP proof iat must be within 60 seconds of now."},
		{"no iat", []string{edit(func(_, c map[string]any) { delete(c, "iat") })}, "The DPoP proof needs an iat."},
		{"ath", []string{f.proof(t, "GET", "/mcp", "another-token")}, "The DPoP proof does not name this access token (ath)."},
		{"no ath", []string{edit(func(_, c map[string]any) { delete(c, "ath") })}, "The DPoP proof does not name this access token (ath)."},
		{"other key", []string{func() string { p, _ := otherKey.dpopProof("GET", prResource, token, "", f.now); return p }()}, "The DPoP proof is signed with another key than the token is bound to."},
		{"no jti", []string{edit(func(_, c map[string]any) { delete(c, "jti") })}, "The DPoP proof needs a jti of at most 200 characters."},
		{"replay", []string{replayed}, "The DPoP proof was used before: make a new one for every request."},
	}
	for _, tc := range cases {
		header := auth("Authorization", "DPoP "+token)
		for _, p := range tc.proofs {
			header.Add("DPoP", p)
		}
		f.expectRefusal(t, tc.name, f.send(t, "GET", "/mcp", header), 401, "invalid_dpop_proof", challenge(tc.description))
	}
}

// Row 5: a missing required scope is 403 insufficient_scope, naming every required scope.
func TestProtectedResourceInsufficientScope(t *testing.T) {
	f := newPRFixture(t, func(o *ProtectedResourceOptions) { o.Scopes = []string{"tools:call", "tools:list"} })
	narrow := func(c map[string]any) { c["scope"] = "tools:list" }
	want := func(scheme string) string {
		return scheme + ` error="insufficient_scope", error_description="The access token lacks a scope this resource requires.", scope="tools:call tools:list", resource_metadata="` + prMetadata + `"`
	}
	got := f.send(t, "GET", "/mcp", auth("Authorization", "Bearer "+f.token(t, false, narrow)))
	f.expectRefusal(t, "Bearer", got, 403, "insufficient_scope", want("Bearer"))
	bound := f.token(t, true, narrow)
	got = f.send(t, "GET", "/mcp", auth("Authorization", "DPoP "+bound, "DPoP", f.proof(t, "GET", "/mcp", bound)))
	f.expectRefusal(t, "DPoP", got, 403, "insufficient_scope", want("DPoP"))
}

// Success hands the verified claims to the handler: a bearer token (any scheme case), and a
// DPoP-bound token with proofs for a path with a query, signed with each algorithm.
func TestProtectedResourceAcceptsValidTokens(t *testing.T) {
	f := newPRFixture(t, nil)
	got := f.send(t, "GET", "/mcp", auth("Authorization", "bearer "+f.token(t, false, nil)))
	if got.status != 200 || got.text != "hello agt_1" {
		t.Fatalf("bearer: %d %q", got.status, got.text)
	}
	keys := agentTestKeys()
	psJWK := privateJWK(keys["RS256"])
	psJWK["alg"] = "PS256"
	signers := map[string]*clientKey{"ES256": f.proofKey}
	for alg, key := range map[string]any{"EdDSA": keys["EdDSA"], "RS256": keys["RS256"], "PS256": psJWK} {
		ck, err := parseClientKey(key, "")
		if err != nil {
			t.Fatal(err)
		}
		signers[alg] = ck
	}
	for alg, key := range signers {
		f.proofKey = key
		f.jkt, _ = thumbprint(key.signer.Public())
		token := f.token(t, true, nil)
		got := f.send(t, "POST", "/mcp?session=1", auth("Authorization", "DPoP "+token, "DPoP", f.proof(t, "POST", "/mcp", token)))
		if got.status != 200 || got.text != "hello agt_1" {
			t.Errorf("DPoP %s: %d %q %q", alg, got.status, got.challenge, got.text)
		}
	}
	// The older "Ed25519" alg name is accepted for an Ed25519 key.
	ed, _ := parseClientKey(keys["EdDSA"], "")
	f.proofKey, f.jkt = ed, ed.kid
	token := f.token(t, true, nil)
	header, claims := f.proofParts(token)
	header["alg"] = "Ed25519"
	if got := f.send(t, "GET", "/mcp", auth("Authorization", "DPoP "+token, "DPoP", signedProof(t, ed, header, claims))); got.status != 200 {
		t.Errorf("alg Ed25519: %d %q", got.status, got.challenge)
	}
	if n := f.calls.Load(); n != 6 {
		t.Errorf("the handler ran %d times, want 6", n)
	}
}

// Authenticate gives the same outcome to a caller with its own server.
func TestAuthenticateReturnsClaimsOrRefusal(t *testing.T) {
	f := newPRFixture(t, nil)
	req := httptest.NewRequest("GET", "http://anything/mcp", nil)
	if _, refusal := f.resource.Authenticate(req); refusal == nil || refusal.Status != 401 || refusal.Code != "missing_token" {
		t.Fatalf("refusal %+v", refusal)
	}
	req.Header.Set("Authorization", "Bearer "+f.token(t, false, nil))
	claims, refusal := f.resource.Authenticate(req)
	if refusal != nil || claims.Subject != "agt_1" || claims.Cnf != nil {
		t.Fatalf("claims %+v refusal %+v", claims, refusal)
	}
	if _, ok := ClaimsFromContext(context.Background()); ok {
		t.Error("claims in a context that has none")
	}
}

// The metadata document, at the path RFC 9728 §3.1 derives from the resource, open to any
// origin and needing no token.
func TestProtectedResourceMetadata(t *testing.T) {
	f := newPRFixture(t, func(o *ProtectedResourceOptions) { o.ResourceName = "Tools"; o.DPoPRequired = true })
	if f.resource.MetadataPath() != "/.well-known/oauth-protected-resource/mcp" || f.resource.MetadataURL() != prMetadata {
		t.Errorf("metadata path %q, URL %q", f.resource.MetadataPath(), f.resource.MetadataURL())
	}
	res, err := http.Get(f.server.URL + f.resource.MetadataPath())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	want := `{"authorization_servers":["https://mandate.example"],"bearer_methods_supported":["header"],"dpop_bound_access_tokens_required":true,` +
		`"dpop_signing_alg_values_supported":["ES256","EdDSA","RS256","PS256"],"resource":"https://api.example/mcp","resource_name":"Tools","scopes_supported":["tools:call"]}`
	if got := jsonText(t, doc); got != want || res.StatusCode != 200 {
		t.Errorf("metadata %d %s\n want %s", res.StatusCode, got, want)
	}
	if res.Header.Get("Content-Type") != "application/json" || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("metadata headers %v", res.Header)
	}
	if f.calls.Load() != 0 {
		t.Error("the metadata request reached the handler")
	}

	for resource, path := range map[string]string{"https://api.example": "/.well-known/oauth-protected-resource", "https://api.example/": "/.well-known/oauth-protected-resource", "http://127.0.0.1:8000/a/b": "/.well-known/oauth-protected-resource/a/b"} {
		p, err := NewProtectedResource(ProtectedResourceOptions{Resource: resource, Issuer: testIssuer})
		if err != nil || p.MetadataPath() != path {
			t.Errorf("%s: path %q, %v", resource, p.MetadataPath(), err)
		}
		if doc := jsonText(t, p.Metadata()); strings.Contains(doc, "scopes_supported") || strings.Contains(doc, "resource_name") || !strings.Contains(doc, `"dpop_bound_access_tokens_required":false`) {
			t.Errorf("%s: metadata %s", resource, doc)
		}
	}
}

func TestProtectedResourceOptionsAreChecked(t *testing.T) {
	for name, opts := range map[string]ProtectedResourceOptions{
		"relative":  {Resource: "/mcp", Issuer: testIssuer},
		"query":     {Resource: "https://api.example/mcp?x=1", Issuer: testIssuer},
		"fragment":  {Resource: "https://api.example/mcp#f", Issuer: testIssuer},
		"scheme":    {Resource: "ftp://api.example/mcp", Issuer: testIssuer},
		"no issuer": {Resource: prResource},
		"bad scope": {Resource: prResource, Issuer: testIssuer, Scopes: []string{`a"b`}},
		"space":     {Resource: prResource, Issuer: testIssuer, Scopes: []string{"a b"}},
		"empty":     {Resource: prResource, Issuer: testIssuer, Scopes: []string{""}},
	} {
		if _, err := NewProtectedResource(opts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The issuer's keys out of reach is no fault of the token: 503, no challenge.
func TestProtectedResourceWithoutJWKS(t *testing.T) {
	f := newPRFixture(t, func(o *ProtectedResourceOptions) { o.JWKSURI = "http://127.0.0.1:1/jwks.json" })
	got := f.send(t, "GET", "/mcp", auth("Authorization", "Bearer "+f.token(t, false, nil)))
	if got.status != 503 || got.challenge != "" || got.retryAfter != "5" || got.body["error"] != "temporarily_unavailable" || f.calls.Load() != 0 {
		t.Errorf("%+v", got)
	}
}

// The jti memory forgets after five minutes and holds at most its limit, oldest out first.
func TestJTIMemory(t *testing.T) {
	m := &jtiMemory{limit: 2}
	now := time.Unix(1_800_000_000, 0)
	if !m.spend("a", now) || m.spend("a", now.Add(time.Minute)) {
		t.Fatal("a jti was accepted twice")
	}
	if !m.spend("a", now.Add(proofJTIMemory)) {
		t.Error("a jti is remembered past five minutes")
	}
	later := now.Add(proofJTIMemory)
	m.spend("b", later)
	m.spend("c", later)
	if len(m.until) != 2 || len(m.queue) != 2 {
		t.Errorf("%d remembered, limit 2", len(m.until))
	}
	if m.spend("c", later) || !m.spend("a", later) {
		t.Error("the newest were not the ones kept")
	}
}
