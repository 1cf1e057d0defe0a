package core

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testIssuer   = "https://mandate.example"
	testAudience = "https://api.example"
)

type testKeys struct {
	ec  *ecdsa.PrivateKey
	rsa *rsa.PrivateKey
	ed  ed25519.PrivateKey
}

func newTestKeys(t *testing.T) *testKeys {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testKeys{ec: ec, rsa: rk, ed: ed}
}

var b64 = base64.RawURLEncoding.EncodeToString

func fixed(n *big.Int, size int) []byte {
	out := make([]byte, size)
	n.FillBytes(out)
	return out
}

func (k *testKeys) jwks() map[string]any {
	return map[string]any{"keys": []map[string]any{
		{"kty": "EC", "kid": "ec-1", "alg": "ES256", "use": "sig", "crv": "P-256", "x": b64(fixed(k.ec.X, 32)), "y": b64(fixed(k.ec.Y, 32))},
		{"kty": "RSA", "kid": "rsa-1", "alg": "RS256", "use": "sig", "n": b64(k.rsa.N.Bytes()), "e": b64(big.NewInt(int64(k.rsa.E)).Bytes())},
		{"kty": "OKP", "kid": "ed-1", "alg": "EdDSA", "use": "sig", "crv": "Ed25519", "x": b64(k.ed.Public().(ed25519.PublicKey))},
		{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
	}}
}

// sign makes a compact JWS; alg picks the key, header overrides go in header.
func (k *testKeys) sign(t *testing.T, alg string, header map[string]any, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": alg, "typ": "at+jwt", "kid": map[string]string{"ES256": "ec-1", "RS256": "rsa-1", "EdDSA": "ed-1"}[alg]}
	for key, value := range header {
		h[key] = value
	}
	hj, _ := json.Marshal(h)
	cj, _ := json.Marshal(claims)
	input := b64(hj) + "." + b64(cj)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	switch alg {
	case "ES256":
		r, s, err := ecdsa.Sign(rand.Reader, k.ec, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		// Mandate signs in low-S form (s <= n/2), the only one its verifiers accept.
		if n := elliptic.P256().Params().N; s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
			s.Sub(n, s)
		}
		sig = append(fixed(r, 32), fixed(s, 32)...)
	case "RS256":
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k.rsa, crypto.SHA256, digest[:]); err != nil {
			t.Fatal(err)
		}
	case "EdDSA":
		sig = ed25519.Sign(k.ed, []byte(input))
	default:
		sig = []byte("whatever")
	}
	return input + "." + b64(sig)
}

func validClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss": testIssuer, "sub": "agt_1", "aud": testAudience, "client_id": "agt_1", "scope": "agents:read audit:read",
		"org": "org_1", "jti": "j-1", "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
}

// jwksServer serves keys.jwks() and counts fetches.
func jwksServer(t *testing.T, keys *testKeys) (*httptest.Server, *atomic.Int32) {
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		fetches.Add(1)
		_ = json.NewEncoder(w).Encode(keys.jwks())
	}))
	t.Cleanup(srv.Close)
	return srv, &fetches
}

func TestVerifyAcceptsEachAlgorithm(t *testing.T) {
	keys := newTestKeys(t)
	srv, fetches := jwksServer(t, keys)
	clock := &fakeClock{now: time.Now()}
	v, err := NewVerifier(VerifyOptions{Issuer: testIssuer, Audience: testAudience, BaseURL: srv.URL, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		claims, err := v.Verify(context.Background(), keys.sign(t, alg, nil, validClaims(clock.Now())))
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if claims.Subject != "agt_1" || claims.ClientID != "agt_1" || claims.Org != "org_1" || claims.JTI != "j-1" ||
			len(claims.Audience) != 1 || claims.Audience[0] != testAudience || len(claims.Scopes()) != 2 ||
			claims.ExpiresAt.Unix() != clock.Now().Add(10*time.Minute).Unix() || claims.IssuedAt.Unix() != clock.Now().Unix() {
			t.Fatalf("%s: claims %+v", alg, claims)
		}
	}
	if fetches.Load() != 1 {
		t.Fatalf("JWKS fetched %d times; it is cached", fetches.Load())
	}
	// aud may be an array; leeway allows 30 s past exp and before nbf.
	c := validClaims(clock.Now())
	c["aud"] = []string{"other", testAudience}
	c["exp"] = clock.Now().Add(-20 * time.Second).Unix()
	c["nbf"] = clock.Now().Add(20 * time.Second).Unix()
	if _, err := v.Verify(context.Background(), keys.sign(t, "ES256", map[string]any{"typ": "application/AT+JWT"}, c)); err != nil {
		t.Fatalf("array aud / leeway: %v", err)
	}
}

func TestVerifyRejections(t *testing.T) {
	keys := newTestKeys(t)
	srv, _ := jwksServer(t, keys)
	now := time.Now()
	v, err := NewVerifier(VerifyOptions{Issuer: testIssuer, Audience: testAudience, JWKSURL: srv.URL + "/.well-known/jwks.json", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	with := func(key string, value any) map[string]any {
		c := validClaims(now)
		if value == nil {
			delete(c, key)
		} else {
			c[key] = value
		}
		return c
	}
	good := keys.sign(t, "ES256", nil, validClaims(now))
	otherKey := newTestKeys(t)
	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"not a JWS", "abc.def", ErrTokenMalformed},
		{"bad base64", "!!!." + good[len("x."):], ErrTokenMalformed},
		{"alg none", keys.sign(t, "none", nil, validClaims(now)), ErrTokenAlgorithm},
		{"alg HS256", keys.sign(t, "HS256", map[string]any{"kid": "hmac"}, validClaims(now)), ErrTokenAlgorithm},
		{"typ JWT", keys.sign(t, "ES256", map[string]any{"typ": "JWT"}, validClaims(now)), ErrTokenType},
		{"no typ", keys.sign(t, "ES256", map[string]any{"typ": nil}, validClaims(now)), ErrTokenType},
		{"unknown kid", keys.sign(t, "ES256", map[string]any{"kid": "ec-9"}, validClaims(now)), ErrTokenUnknownKey},
		{"no kid", keys.sign(t, "ES256", map[string]any{"kid": nil}, validClaims(now)), ErrTokenUnknownKey},
		{"alg is not the key's", keys.sign(t, "RS256", map[string]any{"kid": "ec-1"}, validClaims(now)), ErrTokenAlgorithm},
		{"signed by another key", otherKey.sign(t, "ES256", nil, validClaims(now)), ErrTokenSignature},
		{"RSA signed by another key", otherKey.sign(t, "RS256", nil, validClaims(now)), ErrTokenSignature},
		{"EdDSA signed by another key", otherKey.sign(t, "EdDSA", nil, validClaims(now)), ErrTokenSignature},
		{"wrong issuer", keys.sign(t, "ES256", nil, with("iss", "https://evil.example")), ErrTokenIssuer},
		{"wrong audience", keys.sign(t, "ES256", nil, with("aud", "https://other.example")), ErrTokenAudience},
		{"no audience", keys.sign(t, "ES256", nil, with("aud", nil)), ErrTokenAudience},
		{"expired", keys.sign(t, "ES256", nil, with("exp", now.Add(-31*time.Second).Unix())), ErrTokenExpired},
		{"no exp", keys.sign(t, "ES256", nil, with("exp", nil)), ErrTokenMalformed},
		{"not yet valid", keys.sign(t, "ES256", nil, with("nbf", now.Add(31*time.Second).Unix())), ErrTokenNotYetValid},
		{"claim of the wrong type", keys.sign(t, "ES256", nil, with("sub", 7)), ErrTokenMalformed},
	}
	for _, c := range cases {
		_, err := v.Verify(context.Background(), c.token)
		if !errors.Is(err, c.want) || !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	// A flipped signature byte.
	tampered := []byte(good)
	tampered[len(tampered)-2] ^= 'A' ^ 'B'
	if _, err := v.Verify(context.Background(), string(tampered)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("tampered: %v", err)
	}
}

func TestUnknownKidRefetchesAtMostEvery30Seconds(t *testing.T) {
	keys := newTestKeys(t)
	srv, fetches := jwksServer(t, keys)
	clock := &fakeClock{now: time.Now()}
	v, _ := NewVerifier(VerifyOptions{Issuer: testIssuer, Audience: testAudience, BaseURL: srv.URL, Now: clock.Now})
	unknown := keys.sign(t, "ES256", map[string]any{"kid": "rotated-in"}, validClaims(clock.Now()))
	for i := 0; i < 3; i++ {
		if _, err := v.Verify(context.Background(), unknown); !errors.Is(err, ErrTokenUnknownKey) {
			t.Fatal(err)
		}
	}
	if fetches.Load() != 1 {
		t.Fatalf("%d fetches within 30 s", fetches.Load())
	}
	clock.Advance(31 * time.Second)
	if _, err := v.Verify(context.Background(), unknown); !errors.Is(err, ErrTokenUnknownKey) || fetches.Load() != 2 {
		t.Fatalf("after 30 s: %v, %d fetches", err, fetches.Load())
	}
}

func TestVerifyConfigurationAndJWKSFailures(t *testing.T) {
	t.Setenv("MANDATE_BASE_URL", "")
	if _, err := NewVerifier(VerifyOptions{Issuer: testIssuer}); err == nil {
		t.Fatal("no audience accepted")
	}
	if _, err := NewVerifier(VerifyOptions{Issuer: testIssuer, Audience: testAudience}); err == nil {
		t.Fatal("no JWKS location accepted")
	}
	keys := newTestKeys(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { problem(w, 503, "DOWN") }))
	defer down.Close()
	token := keys.sign(t, "ES256", nil, validClaims(time.Now()))
	_, err := VerifyAccessToken(context.Background(), token, VerifyOptions{Issuer: testIssuer, Audience: testAudience, BaseURL: down.URL})
	if !IsInternalServer(err) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("JWKS failure: %v", err)
	}
	// The package function shares one verifier (and JWKS cache) per set of options.
	srv, fetches := jwksServer(t, keys)
	opts := VerifyOptions{Issuer: testIssuer, Audience: testAudience, BaseURL: srv.URL}
	for i := 0; i < 3; i++ {
		if _, err := VerifyAccessToken(context.Background(), token, opts); err != nil {
			t.Fatal(err)
		}
	}
	if fetches.Load() != 1 {
		t.Fatalf("%d JWKS fetches", fetches.Load())
	}
}

// lowSVectors is conformance/vectors/es256-low-s.json, the ES256 malleability cases every
// SDK's verifier must decide alike.
type lowSVectors struct {
	Issuer   string          `json:"issuer"`
	Audience string          `json:"audience"`
	JWKS     json.RawMessage `json:"jwks"`
	Tokens   []struct {
		Name  string `json:"name"`
		Token string `json:"token"`
		Valid bool   `json:"valid"`
	} `json:"tokens"`
	Scalars []struct {
		Name string `json:"name"`
		S    string `json:"s"`
		LowS bool   `json:"lowS"`
	} `json:"scalars"`
}

func readLowSVectors(t *testing.T) lowSVectors {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "conformance", "vectors", "es256-low-s.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vectors lowSVectors
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	return vectors
}

func TestES256LowSVectors(t *testing.T) {
	vectors := readLowSVectors(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(vectors.JWKS)
	}))
	t.Cleanup(srv.Close)
	v, err := NewVerifier(VerifyOptions{Issuer: vectors.Issuer, Audience: vectors.Audience, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	valid, invalid := 0, 0
	for _, vector := range vectors.Tokens {
		t.Run(vector.Name, func(t *testing.T) {
			claims, err := v.Verify(context.Background(), vector.Token)
			if vector.Valid {
				valid++
				if err != nil || claims.Issuer != vectors.Issuer {
					t.Fatalf("want the claims, got %v", err)
				}
				return
			}
			invalid++
			if !errors.Is(err, ErrTokenSignature) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("want ErrTokenSignature, got %v", err)
			}
		})
	}
	if valid == 0 || invalid == 0 {
		t.Fatalf("%d valid and %d invalid tokens: the vectors cover both", valid, invalid)
	}
	for _, vector := range vectors.Scalars {
		s, err := hex.DecodeString(vector.S)
		if err != nil || len(s) != 32 {
			t.Fatalf("%s: bad s %q", vector.Name, vector.S)
		}
		if isLowS(s) != vector.LowS {
			t.Errorf("%s: isLowS = %v, want %v", vector.Name, !vector.LowS, vector.LowS)
		}
	}
}
