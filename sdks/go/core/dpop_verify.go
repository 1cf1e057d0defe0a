package core

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const (
	// proofIATWindow is how far a proof's iat may be from the resource's clock.
	proofIATWindow = 60 * time.Second
	// proofJTIMemory is how long a resource remembers a proof's jti; a proof older than
	// proofIATWindow is refused anyway, so a replay after this is refused by its iat.
	proofJTIMemory = 5 * time.Minute
	// maxRememberedJTIs bounds that memory; past it the oldest entries go first.
	maxRememberedJTIs = 50_000
	maxJTILength      = 200
)

// proofRequest is what a DPoP proof must match: the request it came with, the access token
// beside it and the key the token is bound to.
type proofRequest struct {
	method, url, accessToken, jkt string
	now                           time.Time
}

// checkProof verifies a DPoP proof for a resource request (RFC 9449 §4.3, §7.1) and returns
// why it is refused, a sentence for error_description, or "" when it holds. The jti is
// spent only when everything else holds, so a refused proof cannot burn another's jti.
func checkProof(proof string, want proofRequest, seen *jtiMemory) string {
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		return "The DPoP proof is not a JWT."
	}
	var header struct {
		Typ string                     `json:"typ"`
		Alg string                     `json:"alg"`
		JWK map[string]json.RawMessage `json:"jwk"`
	}
	if decodeSegment(parts[0], &header) != nil {
		return "The DPoP proof header is not valid JSON."
	}
	if header.Typ != "dpop+jwt" {
		return "The DPoP proof must have typ dpop+jwt."
	}
	if !proofAlgorithm(header.Alg) {
		return "The DPoP proof must be signed with one of " + strings.Join(dpopAlgorithms, ", ") + "."
	}
	pub, problem := proofKey(header.JWK, header.Alg)
	if problem != "" {
		return problem
	}
	signature, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !verifyProofSignature(header.Alg, pub, []byte(parts[0]+"."+parts[1]), signature) {
		return "The DPoP proof signature does not verify with its jwk."
	}
	var claims struct {
		JTI string   `json:"jti"`
		HTM string   `json:"htm"`
		HTU string   `json:"htu"`
		IAT *float64 `json:"iat"`
		ATH string   `json:"ath"`
	}
	if decodeSegment(parts[1], &claims) != nil {
		return "The DPoP proof claims are malformed."
	}
	switch {
	case claims.JTI == "" || len(claims.JTI) > maxJTILength:
		return "The DPoP proof needs a jti of at most 200 characters."
	case claims.HTM != want.method:
		return "The DPoP proof is for another method (htm)."
	case !sameResourceURL(claims.HTU, want.url):
		return "The DPoP proof is for another URL (htu)."
	case claims.IAT == nil:
		return "The DPoP proof needs an iat."
	}
	if skew := unixTime(*claims.IAT).Sub(want.now); skew > proofIATWindow || skew < -proofIATWindow {
		return "The DPoP proof iat must be within 60 seconds of now."
	}
	if claims.ATH != accessTokenHash(want.accessToken) {
		return "The DPoP proof does not name this access token (ath)."
	}
	if jkt, err := thumbprint(pub); err != nil || jkt != want.jkt {
		return "The DPoP proof is signed with another key than the token is bound to."
	}
	if !seen.spend(claims.JTI, want.now) {
		return "The DPoP proof was used before: make a new one for every request."
	}
	return ""
}

// proofAlgorithm: the asymmetric algorithms resources advertise, and Ed25519, an older
// name for EdDSA with an Ed25519 key that some libraries still write.
func proofAlgorithm(alg string) bool {
	if alg == "Ed25519" {
		return true
	}
	for _, a := range dpopAlgorithms {
		if a == alg {
			return true
		}
	}
	return false
}

// proofKey reads a proof's jwk: a public EC P-256, Ed25519 or RSA key suiting alg.
func proofKey(members map[string]json.RawMessage, alg string) (crypto.PublicKey, string) {
	if members == nil {
		return nil, "The DPoP proof must carry its public key (jwk)."
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if _, ok := members[private]; ok {
			return nil, "The DPoP proof jwk must be a public key."
		}
	}
	text := func(name string) string {
		var s string
		_ = json.Unmarshal(members[name], &s)
		return s
	}
	key, ok := parseJWK(jwk{Kty: text("kty"), Crv: text("crv"), X: text("x"), Y: text("y"), N: text("n"), E: text("e")})
	if !ok {
		return nil, "The DPoP proof jwk is not a usable EC P-256, Ed25519 or RSA public key."
	}
	suits := map[string][]string{"ES256": {"ES256"}, "EdDSA": {"EdDSA", "Ed25519"}, "RS256": {"RS256", "PS256"}}[key.alg]
	for _, a := range suits {
		if a == alg {
			return key.key, ""
		}
	}
	return nil, "The DPoP proof alg does not suit its jwk."
}

// verifyProofSignature checks a proof's JWS signature. Unlike access tokens, ES256 proofs
// in high-S form are accepted: other clients' libraries sign both ways, and a proof is
// spent once anyway.
func verifyProofSignature(alg string, pub crypto.PublicKey, input, signature []byte) bool {
	digest := sha256.Sum256(input)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg == "PS256" {
			return rsa.VerifyPSS(k, crypto.SHA256, digest[:], signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], signature) == nil
	case *ecdsa.PublicKey, ed25519.PublicKey:
		return verifySignature(verificationKey{key: pub}, input, signature)
	}
	return false
}

// sameResourceURL compares a proof's htu with the request's URL, without query and
// fragment, scheme and host case-insensitively (RFC 9449 §4.3).
func sameResourceURL(htu, want string) bool {
	u, err := url.Parse(htu)
	if err != nil || u.Host == "" {
		return false
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return strings.EqualFold(u.Scheme+"://"+u.Host, originOf(want)) && path == pathOf(want)
}

func pathOf(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.EscapedPath() == "" {
		return "/"
	}
	return u.EscapedPath()
}

// jtiMemory holds the jtis of the proofs a resource accepted in the last proofJTIMemory,
// at most maxRememberedJTIs of them, oldest first.
type jtiMemory struct {
	mu    sync.Mutex
	until map[string]time.Time
	queue []spentJTI
	limit int
}

type spentJTI struct {
	jti   string
	until time.Time
}

// spend records jti and reports whether it was new.
func (m *jtiMemory) spend(jti string, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.until == nil {
		m.until = map[string]time.Time{}
	}
	if until, ok := m.until[jti]; ok && now.Before(until) {
		return false
	}
	limit := m.limit
	if limit == 0 {
		limit = maxRememberedJTIs
	}
	for len(m.queue) > 0 && (len(m.queue) >= limit || !now.Before(m.queue[0].until)) {
		oldest := m.queue[0]
		if m.until[oldest.jti].Equal(oldest.until) { // not spent again since
			delete(m.until, oldest.jti)
		}
		m.queue = m.queue[1:]
	}
	entry := spentJTI{jti, now.Add(proofJTIMemory)}
	m.until[jti] = entry.until
	m.queue = append(m.queue, entry)
	return true
}

// proofHeader is the request's single DPoP header, or false when it has none or several.
func proofHeader(r *http.Request) (string, bool) {
	values := r.Header.Values("DPoP")
	if len(values) != 1 {
		return "", false
	}
	return values[0], true
}
