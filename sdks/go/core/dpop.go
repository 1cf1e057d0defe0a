package core

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// dpopAlgorithms are the proof algorithms this SDK signs with and a ProtectedResource
// accepts (RFC 9449 §5.1), in the order resources advertise them.
var dpopAlgorithms = []string{"ES256", "EdDSA", "RS256", "PS256"}

// WithDPoP gives the client a DPoP proof key (RFC 9449): a new EC P-256 key made in memory
// when the client is built, living as long as the client. Token requests then carry a
// DPoP proof, so the managed tokens are bound to the key (token type DPoP, cnf.jkt), and
// each call made with such a token carries a proof of its own.
func WithDPoP() Option {
	return func(c *Config) { c.DPoP, c.DPoPKey, c.dpopKeyGiven = true, "", false }
}

// WithDPoPKey is WithDPoP with a key of the caller's: PEM (PKCS#8, SEC1 or PKCS#1) or
// private JWK text, EC P-256 (ES256), Ed25519 (EdDSA) or RSA (RS256, or PS256 when the
// JWK's alg says so). A key that cannot be used is a *ConfigError every call returns.
func WithDPoPKey(key string) Option {
	return func(c *Config) { c.DPoP, c.DPoPKey, c.dpopKeyGiven = true, key, true }
}

// dpopKeyOf parses the DPoP key given, or makes one; nil when the client has no DPoP.
func dpopKeyOf(cfg *Config) (*clientKey, error) {
	if cfg.dpopKeyGiven || cfg.DPoPKey != "" {
		key, err := parseClientKey(cfg.DPoPKey, "")
		var cfgErr *ConfigError
		if errors.As(err, &cfgErr) {
			// parseClientKey speaks of the agent's key; this message must name the DPoP option.
			return nil, &ConfigError{Msg: "the DPoP key (WithDPoPKey) cannot be used: " + strings.TrimPrefix(cfgErr.Msg, keyErrorPrefix)}
		}
		return key, err
	}
	if !cfg.DPoP {
		return nil, nil
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, &ConfigError{Msg: "no DPoP key could be generated: " + err.Error()}
	}
	return &clientKey{signer: priv, alg: "ES256"}, nil
}

// dpopClaims are a proof's claims (RFC 9449 §4.2).
type dpopClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// dpopProof signs a proof for one HTTP request. accessToken, when not empty, is the token
// the request carries (ath); nonce, when not empty, the server's latest.
func (k *clientKey) dpopProof(method, target, accessToken, nonce string, now time.Time) (string, error) {
	jwk, err := publicJWK(k.signer.Public())
	if err != nil {
		return "", err
	}
	header, err := json.Marshal(struct {
		Typ string          `json:"typ"`
		Alg string          `json:"alg"`
		JWK json.RawMessage `json:"jwk"`
	}{"dpop+jwt", k.alg, json.RawMessage(jwk)})
	if err != nil {
		return "", err
	}
	htu, err := proofURL(target)
	if err != nil {
		return "", err
	}
	claims := dpopClaims{JTI: newUUID(), HTM: strings.ToUpper(method), HTU: htu, IAT: now.Unix(), Nonce: nonce}
	if accessToken != "" {
		claims.ATH = accessTokenHash(accessToken)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	input := b64(header) + "." + b64(payload)
	signature, err := k.sign([]byte(input))
	if err != nil {
		return "", fmt.Errorf("mandate: signing the DPoP proof: %w", err)
	}
	return input + "." + b64(signature), nil
}

// accessTokenHash is a proof's ath: base64url(SHA-256(token)).
func accessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// proofURL is a request URL as htu names it: without query and fragment.
func proofURL(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("mandate: a DPoP proof needs an absolute URL, not %q", redactURL(target))
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment, u.User = "", false, "", "", nil
	return u.String(), nil
}

// originOf is the scheme and host a nonce belongs to (RFC 9449 §8: nonces are per server).
func originOf(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// dpopNonces keeps the latest DPoP-Nonce each origin sent.
type dpopNonces struct {
	mu     sync.Mutex
	byHost map[string]string
}

func (n *dpopNonces) get(target string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.byHost[originOf(target)]
}

// observe keeps the nonce of any answer, success or error, for the next proof to its origin.
func (n *dpopNonces) observe(target string, header http.Header) {
	nonce := header.Get("DPoP-Nonce")
	if nonce == "" {
		return
	}
	n.mu.Lock()
	if n.byHost == nil {
		n.byHost = map[string]string{}
	}
	n.byHost[originOf(target)] = nonce
	n.mu.Unlock()
}

// proof signs a proof for a request of this client, with the origin's nonce when known.
func (c *Client) proof(method, target, accessToken string) (string, error) {
	return c.cfg.dpopKey.dpopProof(method, target, accessToken, c.nonces.get(target), c.cfg.now())
}

// CreateDPoPProof returns a DPoP proof (RFC 9449) for a request the caller makes itself,
// for instance to an MCP server with a DPoP-bound token from this client: send it as the
// DPoP header with "Authorization: DPoP <accessToken>". accessToken may be empty (a token
// request). The proof carries the latest nonce the URL's origin sent this client, if any;
// a proof is good for one request. A client without a DPoP key (WithDPoP, WithDPoPKey)
// gets a *ConfigError.
func (c *Client) CreateDPoPProof(ctx context.Context, method, target, accessToken string) (string, error) {
	if c.cfg.err != nil {
		return "", c.cfg.err
	}
	if c.cfg.dpopKey == nil {
		return "", &ConfigError{Msg: "CreateDPoPProof needs a DPoP key (WithDPoP or WithDPoPKey); this client has none"}
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return c.proof(method, target, accessToken)
}

// ObserveDPoPNonce keeps the DPoP-Nonce of an answer the caller received itself (to a
// request made with CreateDPoPProof), so that the next proof for that origin carries it.
func (c *Client) ObserveDPoPNonce(target string, header http.Header) {
	c.nonces.observe(target, header)
}

// nonceChallenge reports an answer asking for a proof with the server's nonce (RFC 9449
// §8, §9): 400 use_dpop_nonce from the token endpoint, or 401 with a WWW-Authenticate
// error of use_dpop_nonce from a resource.
func nonceChallenge(res *http.Response, body []byte) bool {
	switch res.StatusCode {
	case http.StatusBadRequest:
		var oauth struct {
			Error string `json:"error"`
		}
		return json.Unmarshal(body, &oauth) == nil && oauth.Error == "use_dpop_nonce"
	case http.StatusUnauthorized:
		for _, challenge := range res.Header.Values("WWW-Authenticate") {
			if strings.Contains(challenge, `error="use_dpop_nonce"`) {
				return true
			}
		}
	}
	return false
}
