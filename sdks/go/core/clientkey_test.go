package core

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
)

var b64url = base64.RawURLEncoding.EncodeToString

// agentTestKeys are generated once: RSA generation is slow under the race detector.
var agentTestKeys = sync.OnceValue(func() map[string]crypto.Signer {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	return map[string]crypto.Signer{"ES256": ec, "EdDSA": ed, "RS256": rsaKey}
})

func pkcs8PEM(t *testing.T, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// privateJWK is key as a private JWK, as a key tool writes it.
func privateJWK(key crypto.Signer) map[string]any {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		raw, _ := k.ECDH()
		point := raw.PublicKey().Bytes()
		return map[string]any{"kty": "EC", "crv": "P-256", "x": b64url(point[1:33]), "y": b64url(point[33:]), "d": b64url(raw.Bytes())}
	case ed25519.PrivateKey:
		return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64url(k.Public().(ed25519.PublicKey)), "d": b64url(k.Seed())}
	case *rsa.PrivateKey:
		return map[string]any{
			"kty": "RSA", "n": b64url(k.N.Bytes()), "e": b64url(big.NewInt(int64(k.E)).Bytes()), "d": b64url(k.D.Bytes()),
			"p": b64url(k.Primes[0].Bytes()), "q": b64url(k.Primes[1].Bytes()),
			"dp": b64url(k.Precomputed.Dp.Bytes()), "dq": b64url(k.Precomputed.Dq.Bytes()), "qi": b64url(k.Precomputed.Qinv.Bytes()),
		}
	}
	panic("unknown key")
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// RFC 7638 §3.1's example: the thumbprint of this RSA public key.
func TestThumbprintMatchesRFC7638(t *testing.T) {
	n, _ := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	got, err := thumbprint(pub)
	if err != nil || got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Fatalf("thumbprint %q, %v", got, err)
	}
}

func TestEveryKeyFormGivesTheAlgorithmAndKid(t *testing.T) {
	keys := agentTestKeys()
	for alg, key := range keys {
		want, err := thumbprint(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		jwk := privateJWK(key)
		forms := map[string]any{
			"PKCS#8 PEM":      pkcs8PEM(t, key),
			"PEM bytes":       []byte(pkcs8PEM(t, key)),
			"PEM with \\n":    strings.ReplaceAll(pkcs8PEM(t, key), "\n", `\n`),
			"JWK text":        jsonText(t, jwk),
			"JWK map":         jwk,
			"crypto.Signer":   key,
			"JWK, whitespace": "\n  " + jsonText(t, jwk) + "\n",
		}
		for name, form := range forms {
			k, err := parseClientKey(form, "")
			if err != nil {
				t.Fatalf("%s %s: %v", alg, name, err)
			}
			if k.alg != alg || k.kid != want {
				t.Errorf("%s %s: alg %s kid %s, want %s", alg, name, k.alg, k.kid, want)
			}
		}
	}
}

func TestKidComesFromTheOptionThenTheJWK(t *testing.T) {
	jwk := privateJWK(agentTestKeys()["ES256"])
	jwk["kid"] = "from-the-jwk"
	if k, err := parseClientKey(jwk, ""); err != nil || k.kid != "from-the-jwk" {
		t.Fatalf("JWK kid: %+v %v", k, err)
	}
	if k, err := parseClientKey(jwk, "from-the-option"); err != nil || k.kid != "from-the-option" {
		t.Fatalf("option kid: %+v %v", k, err)
	}
	if k, err := parseClientKey(pkcs8PEM(t, agentTestKeys()["ES256"]), "pem-kid"); err != nil || k.kid != "pem-kid" {
		t.Fatalf("PEM with a kid: %+v %v", k, err)
	}
}

func TestRSAAlgorithmFollowsTheJWK(t *testing.T) {
	jwk := privateJWK(agentTestKeys()["RS256"])
	jwk["alg"] = "PS256"
	if k, err := parseClientKey(jwk, ""); err != nil || k.alg != "PS256" {
		t.Fatalf("PS256: %+v %v", k, err)
	}
	jwk["alg"] = "RS256"
	if k, err := parseClientKey(jwk, ""); err != nil || k.alg != "RS256" {
		t.Fatalf("RS256: %+v %v", k, err)
	}
}

func TestSEC1AndPKCS1PEMAreAccepted(t *testing.T) {
	ecDER, _ := x509.MarshalECPrivateKey(agentTestKeys()["ES256"].(*ecdsa.PrivateKey))
	rsaDER := x509.MarshalPKCS1PrivateKey(agentTestKeys()["RS256"].(*rsa.PrivateKey))
	for alg, block := range map[string]*pem.Block{"ES256": {Type: "EC PRIVATE KEY", Bytes: ecDER}, "RS256": {Type: "RSA PRIVATE KEY", Bytes: rsaDER}} {
		if k, err := parseClientKey(string(pem.EncodeToMemory(block)), ""); err != nil || k.alg != alg {
			t.Fatalf("%s: %+v %v", block.Type, k, err)
		}
	}
}

// Unusable keys are *ConfigError whose text says why, never quoting the key.
func TestUnusableKeysAreConfigErrorsWithoutKeyMaterial(t *testing.T) {
	ec := agentTestKeys()["ES256"]
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecPEM := pkcs8PEM(t, ec)
	ecJWK := privateJWK(ec)
	secret := ecJWK["d"].(string)
	public := map[string]any{"kty": "EC", "crv": "P-256", "x": ecJWK["x"], "y": ecJWK["y"]}
	mixed := privateJWK(ec)
	mixed["x"] = ecJWK["y"] // a public member of some other key
	wrongAlg := privateJWK(ec)
	wrongAlg["alg"] = "RS256"
	pubDER, _ := x509.MarshalPKIXPublicKey(ec.Public())
	body := ecPEM[strings.Index(ecPEM, "\n")+1 : strings.Index(ecPEM, "\n")+30]

	cases := map[string]struct {
		key  any
		want string
	}{
		"not a key":       {"hunter2-" + secret, "neither PEM"},
		"broken JSON":     {`{"kty":"EC","d":"` + secret, "not valid JSON"},
		"public JWK":      {public, "no private member d"},
		"mixed halves":    {mixed, "does not belong to its d"},
		"wrong alg":       {wrongAlg, "alg RS256 does not suit"},
		"P-384":           {pkcs8PEM(t, p384), "P-256"},
		"RSA 1024":        {pkcs8PEM(t, small), "at least 2048 bits"},
		"public PEM":      {string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})), "not a private key"},
		"corrupt PEM":     {strings.Replace(ecPEM, body, strings.Repeat("A", len(body)), 1), "does not parse"},
		"unsupported kty": {map[string]any{"kty": "oct", "k": secret, "d": secret}, `kty "oct"`},
		"wrong type":      {42, "int is not a key"},
		"nil RSA signer":  {(*rsa.PrivateKey)(nil), "holds no usable key"},
		"empty Ed25519":   {ed25519.PrivateKey{}, "holds no usable key"},
	}
	for name, tc := range cases {
		_, err := parseClientKey(tc.key, "")
		var cfgErr *ConfigError
		if !errors.As(err, &cfgErr) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a ConfigError saying %q", name, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), body) {
			t.Errorf("%s: the error quotes the key: %v", name, err)
		}
	}
}
