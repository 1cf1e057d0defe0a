package core

import (
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"time"
)

// jwtBearerAssertion is RFC 7523's client_assertion_type.
const jwtBearerAssertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime is how long an assertion is valid: enough for one request and a
// little clock skew, well under the server's five-minute limit.
const assertionLifetime = 60 * time.Second

// p256Order is n, the order of P-256's base point.
var p256Order = elliptic.P256().Params().N

// assertionClaims are RFC 7523 §3's claims of a client assertion.
type assertionClaims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
	JTI       string `json:"jti"`
}

// assertion signs a new client assertion (RFC 7523 §2.2) for clientID addressed to
// audience. Each has its own jti: the server accepts a jti once, so every request, every
// retry included, needs a new assertion.
func (k *clientKey) assertion(clientID, audience string, now time.Time) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": k.alg, "kid": k.kid, "typ": "JWT"})
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(assertionClaims{
		Issuer:    clientID,
		Subject:   clientID,
		Audience:  audience,
		IssuedAt:  now.Unix(),
		ExpiresAt: now.Add(assertionLifetime).Unix(),
		JTI:       newUUID(),
	})
	if err != nil {
		return "", err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	input := b64(header) + "." + b64(claims)
	signature, err := k.sign([]byte(input))
	if err != nil {
		return "", fmt.Errorf("mandate: signing the client assertion: %w", err)
	}
	return input + "." + b64(signature), nil
}

// sign makes the JWS signature of input with the key's algorithm (RFC 7518 §3, RFC 8037).
func (k *clientKey) sign(input []byte) ([]byte, error) {
	if k.alg == "EdDSA" {
		return k.signer.Sign(rand.Reader, input, crypto.Hash(0))
	}
	digest := sha256.Sum256(input)
	switch k.alg {
	case "ES256":
		der, err := k.signer.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return nil, err
		}
		return joseES256(der)
	case "PS256":
		return k.signer.Sign(rand.Reader, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	default: // RS256
		return k.signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	}
}

// joseES256 turns a crypto.Signer's ASN.1 ECDSA signature into JWS's 64-byte r ‖ s, with s
// in low-S form (s ≤ n/2): (r, n−s) verifies as well, and Mandate's verifiers accept only
// the low one, so the SDK never sends the other.
func joseES256(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("the ECDSA signature is not ASN.1 (r, s)")
	}
	if sig.S.Cmp(p256HalfOrder) > 0 {
		sig.S = new(big.Int).Sub(p256Order, sig.S)
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}

// assertionForm is form with the client assertion fields added; a copy, since the next
// attempt starts again from the caller's form.
func assertionForm(form url.Values, assertion string) url.Values {
	out := url.Values{}
	for name, values := range form {
		out[name] = append([]string(nil), values...)
	}
	out.Set("client_assertion_type", jwtBearerAssertion)
	out.Set("client_assertion", assertion)
	return out
}
