package core

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const assertionIssuer = "https://issuer.example" // not the mock's URL: the SDK must ask for it

// assertionServer is a mock Mandate for private_key_jwt: metadata naming assertionIssuer, a token
// endpoint that answers the statuses in tokenStatuses first (then 200) and records each
// form, and an API that wants a bearer token.
type assertionServer struct {
	mu            sync.Mutex
	metadataCalls int
	tokenStatuses []int
	forms         []url.Values
	authHeaders   []string
}

func (s *assertionServer) handler(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case metadataPath:
		s.metadataCalls++
		fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q}`, assertionIssuer, assertionIssuer+"/oauth2/token")
	case "/oauth2/token", "/oauth2/introspect":
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			w.WriteHeader(415)
			return
		}
		_ = r.ParseForm()
		s.forms = append(s.forms, r.PostForm)
		s.authHeaders = append(s.authHeaders, r.Header.Get("Authorization"))
		if len(s.tokenStatuses) > 0 {
			status := s.tokenStatuses[0]
			s.tokenStatuses = s.tokenStatuses[1:]
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":"status_%d"}`, status)
			return
		}
		if r.URL.Path == "/oauth2/introspect" {
			_, _ = w.Write([]byte(`{"active":true}`))
			return
		}
		fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":900}`, len(s.forms))
	default:
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer at-") {
			problem(w, 401, "UNAUTHENTICATED")
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}
}

func (s *assertionServer) recorded() ([]url.Values, []string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.forms...), append([]string(nil), s.authHeaders...), s.metadataCalls
}

type decodedAssertion struct {
	header map[string]string
	claims assertionClaims
}

// verifyAssertion checks an assertion's signature with pub as a JWS verifier would (ES256
// as r ‖ s in low-S form) and returns its header and claims.
func verifyAssertion(t *testing.T, token string, pub crypto.PublicKey) decodedAssertion {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %d parts", len(parts))
	}
	var out decodedAssertion
	for i, target := range []any{&out.header, &out.claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, target) != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	input := []byte(parts[0] + "." + parts[1])
	digest := sha256.Sum256(input)
	ok := false
	switch alg := out.header["alg"]; alg {
	case "ES256":
		ok = len(sig) == 64 && isLowS(sig[32:]) &&
			ecdsa.Verify(pub.(*ecdsa.PublicKey), digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case "EdDSA":
		ok = ed25519.Verify(pub.(ed25519.PublicKey), input, sig)
	case "RS256":
		ok = rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig) == nil
	case "PS256":
		ok = rsa.VerifyPSS(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	}
	if !ok {
		t.Fatalf("the %s signature does not verify", out.header["alg"])
	}
	return out
}

// Every attempt of the grant, the retry after a 503 included, carries a new assertion
// that verifies with the public key and has the claims RFC 7523 §3 asks for.
func TestTokenGrantSignsAFreshAssertionPerAttempt(t *testing.T) {
	keys := agentTestKeys()
	psJWK := privateJWK(keys["RS256"])
	psJWK["alg"] = "PS256"
	cases := []struct {
		alg string
		key any
		pub crypto.PublicKey
	}{
		{"ES256", pkcs8PEM(t, keys["ES256"]), keys["ES256"].Public()},
		{"EdDSA", jsonText(t, privateJWK(keys["EdDSA"])), keys["EdDSA"].Public()},
		{"RS256", keys["RS256"], keys["RS256"].Public()},
		{"PS256", psJWK, keys["RS256"].Public()},
	}
	for _, tc := range cases {
		t.Run(tc.alg, func(t *testing.T) {
			srv := &assertionServer{tokenStatuses: []int{503}}
			clock := &fakeClock{now: time.Unix(1_767_225_600, 0)}
			waits := &sleeps{}
			c, _ := testClient(t, srv.handler, WithPrivateKey("agt_1", tc.key), WithScope("agents:read"), withTestHooks(waits, 0, clock))
			if err := c.Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.Do(context.Background(), bearerGet, nil, nil); err != nil {
				t.Fatal(err)
			}
			if err := c.Do(context.Background(), bearerGet, nil, nil); err != nil {
				t.Fatal(err)
			}
			forms, auth, metadataCalls := srv.recorded()
			if len(forms) != 2 || metadataCalls != 1 || len(waits.all()) != 1 {
				t.Fatalf("%d token attempts, %d metadata fetches, %d waits", len(forms), metadataCalls, len(waits.all()))
			}
			wantKid, _ := thumbprint(tc.pub)
			jtis := map[string]bool{}
			for i, form := range forms {
				if auth[i] != "" {
					t.Errorf("attempt %d sent Authorization %q beside the assertion", i, auth[i])
				}
				if form.Get("grant_type") != "client_credentials" || form.Get("scope") != "agents:read" ||
					form.Get("client_assertion_type") != jwtBearerAssertion || form.Has("client_secret") {
					t.Fatalf("attempt %d form: %v", i, form)
				}
				got := verifyAssertion(t, form.Get("client_assertion"), tc.pub)
				if got.header["alg"] != tc.alg || got.header["kid"] != wantKid || got.header["typ"] != "JWT" {
					t.Errorf("header %v", got.header)
				}
				cl := got.claims
				now := clock.Now().Unix()
				if cl.Issuer != "agt_1" || cl.Subject != "agt_1" || cl.Audience != assertionIssuer || cl.IssuedAt != now || cl.ExpiresAt != now+60 || cl.JTI == "" {
					t.Errorf("claims %+v", cl)
				}
				jtis[cl.JTI] = true
			}
			if len(jtis) != 2 {
				t.Fatalf("the retry reused the jti: %v", jtis)
			}
		})
	}
}

// Introspection and revocation authenticate with an assertion too; a form that already
// has one (the caller's own) is sent untouched.
func TestIntrospectionCarriesAnAssertion(t *testing.T) {
	srv := &assertionServer{}
	key := agentTestKeys()["EdDSA"]
	c, _ := testClient(t, srv.handler, WithPrivateKey("agt_1", key), WithKeyID("my-kid"))
	introspect := func(form url.Values) {
		req := &Request{Method: "POST", Path: "/oauth2/introspect", Form: form, Auth: []AuthMode{AuthClientBasic, AuthBearer, AuthNone}}
		var out map[string]any
		if err := c.Do(context.Background(), req, &out, nil); err != nil || out["active"] != true {
			t.Fatalf("%v %v", out, err)
		}
	}
	introspect(url.Values{"token": {"at-x"}})
	introspect(url.Values{"token": {"at-y"}, "client_assertion_type": {jwtBearerAssertion}, "client_assertion": {"the.callers.own"}})
	forms, auth, _ := srv.recorded()
	if auth[0] != "" || forms[0].Get("token") != "at-x" {
		t.Fatalf("form %v, Authorization %q", forms[0], auth[0])
	}
	if got := verifyAssertion(t, forms[0].Get("client_assertion"), key.Public()); got.header["kid"] != "my-kid" {
		t.Fatalf("kid %q", got.header["kid"])
	}
	if forms[1].Get("client_assertion") != "the.callers.own" {
		t.Fatalf("the caller's assertion was replaced: %v", forms[1])
	}
}

// The issuer is fetched once, retried as any call is; a failure is not kept.
func TestIssuerFetchFailuresAreNotCached(t *testing.T) {
	var mu sync.Mutex
	failures := 2
	srv := &assertionServer{}
	handler := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fail := r.URL.Path == metadataPath && failures > 0
		if fail {
			failures--
		}
		mu.Unlock()
		if fail {
			problem(w, 503, "UNAVAILABLE")
			return
		}
		srv.handler(w, r)
	}
	c, _ := testClient(t, handler, WithPrivateKey("agt_1", agentTestKeys()["ES256"]), WithMaxRetries(0))
	for i := 0; i < 2; i++ {
		if err := c.Do(context.Background(), bearerGet, nil, nil); !IsInternalServer(err) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if err := c.Do(context.Background(), bearerGet, nil, nil); err != nil {
		t.Fatalf("third call: %v", err)
	}
	if forms, _, metadataCalls := srv.recorded(); len(forms) != 1 || metadataCalls != 1 {
		t.Fatalf("%d token requests, %d metadata answers", len(forms), metadataCalls)
	}
}

// A refused assertion is an authentication error from the call that needed the token.
func TestRefusedAssertionIsAnAuthenticationError(t *testing.T) {
	srv := &assertionServer{tokenStatuses: []int{401}}
	c, _ := testClient(t, srv.handler, WithPrivateKey("agt_1", agentTestKeys()["ES256"]))
	err := c.Do(context.Background(), bearerGet, nil, nil)
	var apiErr *Error
	if !IsAuthentication(err) || !errors.As(err, &apiErr) || apiErr.Code != "status_401" {
		t.Fatalf("%v", err)
	}
}

// The SDK's ES256 signatures are always r ‖ s in low-S form, whatever the signer gave.
func TestES256SignaturesAreLowS(t *testing.T) {
	key := agentTestKeys()["ES256"].(*ecdsa.PrivateKey)
	digest := sha256.Sum256([]byte("input"))
	seenHigh := false
	for i := 0; i < 64; i++ {
		r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		// Every other time, feed the high-S twin, so both branches run.
		if i%2 == 0 && s.Cmp(p256HalfOrder) <= 0 {
			s = new(big.Int).Sub(p256Order, s)
		}
		seenHigh = seenHigh || s.Cmp(p256HalfOrder) > 0
		der, _ := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		sig, err := joseES256(der)
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) != 64 || !isLowS(sig[32:]) {
			t.Fatalf("signature %d is not low-S r‖s", i)
		}
		if !ecdsa.Verify(&key.PublicKey, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			t.Fatalf("signature %d no longer verifies", i)
		}
	}
	if !seenHigh {
		t.Fatal("no high-S input")
	}
	if _, err := joseES256([]byte{0x30, 0x01}); err == nil {
		t.Fatal("garbage accepted")
	}
}

// Two ways to authenticate the agent, or a key without a client id, cannot work: every
// call returns the *ConfigError and nothing is sent.
func TestConflictingAgentCredentialsAreAConfigError(t *testing.T) {
	pemKey := pkcs8PEM(t, agentTestKeys()["ES256"])
	cases := map[string][]Option{
		"secret and key":   {WithClientCredentials("agt_1", "sk"), WithPrivateKey("agt_1", pemKey)},
		"key without id":   {WithPrivateKey("", pemKey)},
		"unparseable key":  {WithPrivateKey("agt_1", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")},
		"key of some type": {WithPrivateKey("agt_1", struct{}{})},
	}
	for name, opts := range cases {
		calls := 0
		c, _ := testClient(t, func(w http.ResponseWriter, r *http.Request) { calls++ }, opts...)
		err := c.Do(context.Background(), bearerGet, nil, nil)
		if !IsConfigError(err) || !errors.Is(err, c.Err()) || calls != 0 {
			t.Errorf("%s: %v (Err %v), %d requests", name, err, c.Err(), calls)
		}
		if _, err := OpenStream[map[string]any](context.Background(), c, bearerGet, nil); !IsConfigError(err) {
			t.Errorf("%s: stream %v", name, err)
		}
	}
	// An empty key is no key, as an empty secret is no secret.
	c, _ := testClient(t, func(http.ResponseWriter, *http.Request) {}, WithClientCredentials("agt_1", "sk"), WithPrivateKey("agt_1", ""))
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
}

// MANDATE_CLIENT_PRIVATE_KEY joins the credential variables: read only when no credential
// option is given, and refused beside MANDATE_CLIENT_SECRET. t.Setenv: not parallel.
func TestPrivateKeyFromTheEnvironment(t *testing.T) {
	pemKey := pkcs8PEM(t, agentTestKeys()["ES256"])
	for _, name := range []string{"MANDATE_API_TOKEN", "MANDATE_CLIENT_SECRET"} {
		t.Setenv(name, "")
	}
	t.Setenv("MANDATE_CLIENT_ID", "agt_env")
	t.Setenv("MANDATE_CLIENT_PRIVATE_KEY", pemKey)

	cfg := newConfig(Defaults{}, nil)
	if cfg.err != nil || cfg.clientKey == nil || cfg.clientKey.alg != "ES256" || cfg.ClientID != "agt_env" {
		t.Fatalf("from the environment: %+v", cfg)
	}
	cfg = newConfig(Defaults{}, []Option{WithKeyID("kid-1")})
	if cfg.clientKey == nil || cfg.clientKey.kid != "kid-1" {
		t.Fatalf("WithKeyID is not a credential: the environment's key stays, %+v", cfg.clientKey)
	}
	for name, opt := range map[string]Option{"api token": WithAPIToken("opt"), "empty api token": WithAPIToken(""), "client credentials": WithClientCredentials("agt_opt", "s")} {
		if cfg := newConfig(Defaults{}, []Option{opt}); cfg.PrivateKey != nil || cfg.clientKey != nil || cfg.err != nil {
			t.Errorf("%s: the environment's key was read: %+v", name, cfg)
		}
	}
	t.Setenv("MANDATE_API_TOKEN", "env-token")
	other := privateJWK(agentTestKeys()["EdDSA"])
	cfg = newConfig(Defaults{}, []Option{WithPrivateKey("agt_opt", other)})
	if cfg.err != nil || cfg.APIToken != "" || cfg.ClientID != "agt_opt" || cfg.clientKey.alg != "EdDSA" {
		t.Fatalf("an explicit key keeps the environment out: %+v", cfg)
	}

	t.Setenv("MANDATE_CLIENT_SECRET", "env-secret")
	if cfg := newConfig(Defaults{}, nil); !IsConfigError(cfg.err) || strings.Contains(cfg.err.Error(), "env-secret") {
		t.Fatalf("secret and key in the environment: %v", cfg.err)
	}
}
