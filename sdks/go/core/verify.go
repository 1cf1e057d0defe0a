package core

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Access-token rejections. Every one wraps ErrInvalidToken, so errors.Is(err,
// ErrInvalidToken) tells a bad token from a failure to fetch the JWKS.
var (
	ErrInvalidToken     = errors.New("mandate: invalid access token")
	ErrTokenMalformed   = tokenError("malformed token")
	ErrTokenAlgorithm   = tokenError("algorithm not allowed")
	ErrTokenType        = tokenError("typ is not at+jwt")
	ErrTokenUnknownKey  = tokenError("no signing key with this kid and alg")
	ErrTokenSignature   = tokenError("bad signature")
	ErrTokenIssuer      = tokenError("wrong issuer")
	ErrTokenAudience    = tokenError("wrong audience")
	ErrTokenExpired     = tokenError("expired")
	ErrTokenNotYetValid = tokenError("not valid yet")
)

type verifyError struct{ msg string }

func tokenError(msg string) error                  { return &verifyError{msg} }
func (e *verifyError) Error() string               { return "mandate: invalid access token: " + e.msg }
func (e *verifyError) Unwrap() error               { return ErrInvalidToken }
func reject(kind error, detail string) error       { return fmt.Errorf("%w (%s)", kind, detail) }
func rejectf(kind error, f string, a ...any) error { return reject(kind, fmt.Sprintf(f, a...)) }

// p256HalfOrder is n >> 1 for the order n of P-256: ES256 signatures must be in low-S
// form, s <= n >> 1.
var p256HalfOrder = new(big.Int).Rsh(elliptic.P256().Params().N, 1)

const (
	verifyLeeway   = 30 * time.Second
	refetchMinWait = 30 * time.Second
	jwksPath       = "/.well-known/jwks.json"
)

// VerifyOptions say what a resource server accepts.
type VerifyOptions struct {
	Issuer   string // required: the `iss` every token must carry
	Audience string // required: a value `aud` must be or contain
	// JWKSURL defaults to BaseURL + /.well-known/jwks.json; BaseURL defaults to
	// MANDATE_BASE_URL.
	JWKSURL    string
	BaseURL    string
	HTTPClient *http.Client
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// AccessTokenClaims are the claims of a verified access token (RFC 9068, plus `org`, and
// `act` and `delegation_id` on a token obtained by delegation).
type AccessTokenClaims struct {
	Issuer    string    `json:"iss"`
	Subject   string    `json:"sub"`
	Audience  []string  `json:"aud"`
	ClientID  string    `json:"client_id"`
	Scope     string    `json:"scope"`
	Org       string    `json:"org"`
	JTI       string    `json:"jti"`
	IssuedAt  time.Time `json:"iat"`
	ExpiresAt time.Time `json:"exp"`
	// Act is set on a delegated token (RFC 8693 §4.1): the agent acting for Subject, and in
	// its own Act the agent that acted before it, back along the chain. Nil otherwise.
	Act *Actor `json:"act,omitempty"`
	// DelegationID is the delegation (dlg_…) a token exchange recorded for this token, the id
	// Delegations.Revoke takes; empty on a token that is not delegated.
	DelegationID string `json:"delegation_id,omitempty"`
	// Cnf is the token's confirmation claim (RFC 7800): on a DPoP-bound token, the
	// thumbprint of the key every request with it must prove (RFC 9449 §6). Nil otherwise.
	Cnf *Confirmation `json:"cnf,omitempty"`
	// Raw holds every claim as sent.
	Raw map[string]json.RawMessage `json:"-"`
}

// Actor is the `act` claim of a delegated token (RFC 8693 §4.1): Sub is the acting agent,
// Act the actor before it when the subject's own token was delegated too (nearest actor
// outermost). The verifier accepts an object with a non-empty string `sub`, nested at
// most 10 deep, and refuses anything else as ErrTokenMalformed; other members are ignored.
type Actor struct {
	Sub string `json:"sub"`
	Act *Actor `json:"act,omitempty"`
}

// Confirmation is the cnf claim of a sender-constrained token. JKT is the RFC 7638 SHA-256
// thumbprint of the DPoP key the token is bound to; empty when the token names another kind
// of key.
type Confirmation struct {
	JKT string `json:"jkt,omitempty"`
}

// maxActorDepth is how many actors an `act` claim may nest before the verifier refuses the
// token as malformed.
const maxActorDepth = 10

// Scopes splits Scope.
func (c *AccessTokenClaims) Scopes() []string { return strings.Fields(c.Scope) }

// Actors lists the agents acting for Subject, nearest first: the token's client, then the
// agent it got the subject's token from, and so on. Empty (nil) when the token is not
// delegated.
func (c *AccessTokenClaims) Actors() []string {
	var out []string
	for a := c.Act; a != nil; a = a.Act {
		out = append(out, a.Sub)
	}
	return out
}

// Verifier checks access tokens against a JWKS it caches; it refetches the set on an
// unknown kid, at most every 30 s. It is safe for concurrent use.
type Verifier struct {
	opts VerifyOptions

	mu        sync.Mutex
	keys      map[string]verificationKey
	fetchedAt time.Time
}

type verificationKey struct {
	alg string
	key crypto.PublicKey
}

// NewVerifier checks the options and returns a verifier.
func NewVerifier(opts VerifyOptions) (*Verifier, error) {
	if opts.Issuer == "" || opts.Audience == "" {
		return nil, errors.New("mandate: VerifyOptions needs Issuer and Audience")
	}
	if opts.JWKSURL == "" {
		base := opts.BaseURL
		if base == "" {
			base = os.Getenv("MANDATE_BASE_URL")
		}
		if base == "" {
			return nil, errors.New("mandate: VerifyOptions needs JWKSURL or BaseURL (or MANDATE_BASE_URL)")
		}
		opts.JWKSURL = strings.TrimRight(base, "/") + jwksPath
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Verifier{opts: opts}, nil
}

var (
	sharedVerifiersMu sync.Mutex
	sharedVerifiers   = map[string]*Verifier{}
)

// VerifyAccessToken verifies token with a verifier shared by every call with the same
// options (so the JWKS is fetched once).
func VerifyAccessToken(ctx context.Context, token string, opts VerifyOptions) (*AccessTokenClaims, error) {
	key := strings.Join([]string{opts.Issuer, opts.Audience, opts.JWKSURL, opts.BaseURL}, "\n")
	sharedVerifiersMu.Lock()
	v, ok := sharedVerifiers[key]
	if !ok || opts.HTTPClient != nil || opts.Now != nil {
		var err error
		if v, err = NewVerifier(opts); err != nil {
			sharedVerifiersMu.Unlock()
			return nil, err
		}
		if opts.HTTPClient == nil && opts.Now == nil {
			sharedVerifiers[key] = v
		}
	}
	sharedVerifiersMu.Unlock()
	return v.Verify(ctx, token)
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// Verify checks the token's signature, header and claims and returns its claims. A
// rejected token gives an error wrapping ErrInvalidToken.
func (v *Verifier) Verify(ctx context.Context, token string) (*AccessTokenClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, reject(ErrTokenMalformed, "not three parts")
	}
	var header jwtHeader
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, reject(ErrTokenMalformed, "header: "+err.Error())
	}
	signature, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, reject(ErrTokenMalformed, "signature encoding")
	}
	switch header.Alg {
	case "ES256", "RS256", "EdDSA":
	default:
		return nil, rejectf(ErrTokenAlgorithm, "%q", header.Alg)
	}
	if typ := strings.ToLower(header.Typ); typ != "at+jwt" && typ != "application/at+jwt" {
		return nil, rejectf(ErrTokenType, "%q", header.Typ)
	}
	key, err := v.key(ctx, header.Kid)
	if err != nil {
		return nil, err
	}
	if key.alg != header.Alg {
		return nil, rejectf(ErrTokenAlgorithm, "key %s is %s, token says %s", header.Kid, key.alg, header.Alg)
	}
	if header.Alg == "ES256" {
		if err := checkES256Signature(signature); err != nil {
			return nil, err
		}
	}
	if !verifySignature(key, []byte(parts[0]+"."+parts[1]), signature) {
		return nil, ErrTokenSignature
	}
	return v.checkClaims(parts[1])
}

func (v *Verifier) checkClaims(segment string) (*AccessTokenClaims, error) {
	var raw map[string]json.RawMessage
	if err := decodeSegment(segment, &raw); err != nil {
		return nil, reject(ErrTokenMalformed, "claims: "+err.Error())
	}
	var c struct {
		Iss, Sub, ClientID, Scope, Org, Jti, DelegationID string
		Aud                                               json.RawMessage
		Iat, Exp, Nbf                                     *float64
	}
	fields := map[string]any{"iss": &c.Iss, "sub": &c.Sub, "client_id": &c.ClientID, "scope": &c.Scope, "org": &c.Org,
		"jti": &c.Jti, "aud": &c.Aud, "iat": &c.Iat, "exp": &c.Exp, "nbf": &c.Nbf, "delegation_id": &c.DelegationID}
	for name, target := range fields {
		if value, ok := raw[name]; ok {
			if err := json.Unmarshal(value, target); err != nil {
				return nil, rejectf(ErrTokenMalformed, "claim %s", name)
			}
		}
	}
	if c.Iss != v.opts.Issuer {
		return nil, rejectf(ErrTokenIssuer, "%q", c.Iss)
	}
	audiences, err := audienceList(c.Aud)
	if err != nil {
		return nil, err
	}
	if !contains(audiences, v.opts.Audience) {
		return nil, rejectf(ErrTokenAudience, "%q", audiences)
	}
	now := v.opts.Now()
	if c.Exp == nil {
		return nil, reject(ErrTokenMalformed, "no exp")
	}
	exp := unixTime(*c.Exp)
	if !now.Before(exp.Add(verifyLeeway)) {
		return nil, rejectf(ErrTokenExpired, "at %s", exp.UTC().Format(time.RFC3339))
	}
	if c.Nbf != nil && now.Add(verifyLeeway).Before(unixTime(*c.Nbf)) {
		return nil, ErrTokenNotYetValid
	}
	var act *Actor
	if value, ok := raw["act"]; ok {
		if act, err = parseActor(value, 1); err != nil {
			return nil, err
		}
	}
	var cnf *Confirmation
	if value, ok := raw["cnf"]; ok {
		if err := json.Unmarshal(value, &cnf); err != nil || cnf == nil {
			return nil, reject(ErrTokenMalformed, "claim cnf is not an object with a string jkt")
		}
	}
	claims := &AccessTokenClaims{Issuer: c.Iss, Subject: c.Sub, Audience: audiences, ClientID: c.ClientID,
		Scope: c.Scope, Org: c.Org, JTI: c.Jti, ExpiresAt: exp, Act: act, DelegationID: c.DelegationID, Cnf: cnf, Raw: raw}
	if c.Iat != nil {
		claims.IssuedAt = unixTime(*c.Iat)
	}
	return claims, nil
}

// parseActor reads an `act` claim at the given depth (the outermost is 1): a JSON object
// with a non-empty string sub and, optionally, the previous actor in act.
func parseActor(raw json.RawMessage, depth int) (*Actor, error) {
	if depth > maxActorDepth {
		return nil, rejectf(ErrTokenMalformed, "claim act nests more than %d actors", maxActorDepth)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return nil, reject(ErrTokenMalformed, "claim act is not an object")
	}
	var sub string
	if err := json.Unmarshal(members["sub"], &sub); err != nil || sub == "" {
		return nil, reject(ErrTokenMalformed, "claim act has no string sub")
	}
	actor := &Actor{Sub: sub}
	if next, ok := members["act"]; ok {
		var err error
		if actor.Act, err = parseActor(next, depth+1); err != nil {
			return nil, err
		}
	}
	return actor, nil
}

func audienceList(raw json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many, nil
	}
	return nil, reject(ErrTokenAudience, "no aud")
}

func contains(list []string, want string) bool {
	for _, s := range list {
		if s == want {
			return true
		}
	}
	return false
}

func unixTime(seconds float64) time.Time {
	return time.Unix(0, int64(seconds*float64(time.Second)))
}

func decodeSegment(segment string, out any) error {
	data, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}

// key finds kid in the cached JWKS, refetching it when kid is unknown and the last fetch
// is more than 30 s old.
func (v *Verifier) key(ctx context.Context, kid string) (verificationKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if key, ok := v.keys[kid]; ok && kid != "" {
		return key, nil
	}
	if kid == "" {
		return verificationKey{}, reject(ErrTokenUnknownKey, "no kid")
	}
	if v.keys != nil && v.opts.Now().Sub(v.fetchedAt) < refetchMinWait {
		return verificationKey{}, rejectf(ErrTokenUnknownKey, "%q", kid)
	}
	keys, err := v.fetch(ctx)
	if err != nil {
		return verificationKey{}, err
	}
	v.keys, v.fetchedAt = keys, v.opts.Now()
	if key, ok := keys[kid]; ok {
		return key, nil
	}
	return verificationKey{}, rejectf(ErrTokenUnknownKey, "%q", kid)
}

type jwk struct {
	Kty, Kid, Alg, Use, Crv, X, Y, N, E string
}

func (v *Verifier) fetch(ctx context.Context) (map[string]verificationKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.opts.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := v.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, &ConnectionError{Method: http.MethodGet, URL: v.opts.JWKSURL, Err: unwrapURLError(err)}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, &ConnectionError{Method: http.MethodGet, URL: v.opts.JWKSURL, Err: err}
	}
	if res.StatusCode != http.StatusOK {
		return nil, newError(http.MethodGet, v.opts.JWKSURL, res, body)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("mandate: decoding the JWKS: %w", err)
	}
	keys := map[string]verificationKey{}
	for _, raw := range set.Keys {
		var k jwk
		if json.Unmarshal(raw, &k) != nil || k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		if key, ok := parseJWK(k); ok {
			keys[k.Kid] = key
		}
	}
	return keys, nil
}

// parseJWK reads the public keys this SDK verifies with; any other key is skipped. The
// key's algorithm is its `alg`, or the one its type implies.
func parseJWK(k jwk) (verificationKey, bool) {
	b64 := base64.RawURLEncoding.DecodeString
	switch {
	case k.Kty == "EC" && k.Crv == "P-256" && (k.Alg == "" || k.Alg == "ES256"):
		x, errX := b64(k.X)
		y, errY := b64(k.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return verificationKey{}, false
		}
		// crypto/ecdh rejects points that are not on the curve.
		if _, err := ecdh.P256().NewPublicKey(append(append([]byte{4}, x...), y...)); err != nil {
			return verificationKey{}, false
		}
		pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
		return verificationKey{alg: "ES256", key: pub}, true
	case k.Kty == "RSA" && (k.Alg == "" || k.Alg == "RS256"):
		n, errN := b64(k.N)
		e, errE := b64(k.E)
		if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 {
			return verificationKey{}, false
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 {
			return verificationKey{}, false
		}
		return verificationKey{alg: "RS256", key: pub}, true
	case k.Kty == "OKP" && k.Crv == "Ed25519" && (k.Alg == "" || k.Alg == "EdDSA"):
		x, err := b64(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return verificationKey{}, false
		}
		return verificationKey{alg: "EdDSA", key: ed25519.PublicKey(x)}, true
	}
	return verificationKey{}, false
}

// checkES256Signature refuses an ES256 signature that is not 64 bytes of r‖s (RFC 7518
// §3.4) or whose s is above n/2. ECDSA also accepts (r, n−s), which would make a second
// token string out of every real one.
func checkES256Signature(signature []byte) error {
	if len(signature) != 64 {
		return reject(ErrTokenSignature, "ES256 signature is not 64 bytes (r‖s)")
	}
	if !isLowS(signature[32:]) {
		return reject(ErrTokenSignature, "ES256 signature is not in low-S form")
	}
	return nil
}

// isLowS reports whether the big-endian s of an ES256 signature is at most n >> 1.
func isLowS(s []byte) bool {
	return new(big.Int).SetBytes(s).Cmp(p256HalfOrder) <= 0
}

func verifySignature(key verificationKey, input, signature []byte) bool {
	switch pub := key.key.(type) {
	case *ecdsa.PublicKey:
		// JWS carries ES256 signatures as raw r‖s (RFC 7518 §3.4), not ASN.1.
		if len(signature) != 64 {
			return false
		}
		digest := sha256.Sum256(input)
		r, s := new(big.Int).SetBytes(signature[:32]), new(big.Int).SetBytes(signature[32:])
		return ecdsa.Verify(pub, digest[:], r, s)
	case *rsa.PublicKey:
		digest := sha256.Sum256(input)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], signature) == nil
	case ed25519.PublicKey:
		return ed25519.Verify(pub, input, signature)
	}
	return false
}
