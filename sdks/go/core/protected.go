package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// protectedResourceMetadataPath is RFC 9728 §3's well-known path; a resource with a path
// appends it (§3.1).
const protectedResourceMetadataPath = "/.well-known/oauth-protected-resource"

// ProtectedResourceOptions describe a service that accepts Mandate access tokens.
type ProtectedResourceOptions struct {
	// Resource is the service's identifier (RFC 8707), an absolute http(s) URL without query
	// or fragment, such as https://api.example/mcp: every token's aud must contain it.
	Resource string
	// Issuer is the Mandate issuer tokens must come from, named in the metadata.
	Issuer string
	// JWKSURI is where the issuer's signing keys are (default Issuer + /.well-known/jwks.json).
	JWKSURI string
	// Scopes are required of every token, each one; also the metadata's scopes_supported.
	Scopes []string
	// DPoPRequired refuses bearer tokens: only DPoP-bound tokens with a proof are accepted.
	DPoPRequired bool
	// ResourceName is the human-readable name the metadata gives (optional).
	ResourceName string
	// Clock is the time tokens and proofs are checked against (tests); default time.Now.
	Clock func() time.Time
	// HTTPClient fetches the JWKS (default: a client with a 30 s timeout).
	HTTPClient *http.Client
}

// ProtectedResourceMetadata is the RFC 9728 document a ProtectedResource serves at its
// metadata path: how a client gets a token for this resource.
type ProtectedResourceMetadata struct {
	Resource                      string   `json:"resource"`
	AuthorizationServers          []string `json:"authorization_servers"`
	ScopesSupported               []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported        []string `json:"bearer_methods_supported"`
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported"`
	DPoPBoundAccessTokensRequired bool     `json:"dpop_bound_access_tokens_required"`
	ResourceName                  string   `json:"resource_name,omitempty"`
}

// ProtectedResource lets an HTTP service (an MCP server, an API) accept Mandate access
// tokens (RFC 6750, RFC 8707, RFC 9449, RFC 9728): Middleware serves the metadata document
// and refuses requests without a valid token, with the WWW-Authenticate challenge a client
// can act on; Authenticate does the check for other servers. It is safe for concurrent use.
type ProtectedResource struct {
	opts         ProtectedResourceOptions
	verifier     *Verifier
	origin       string // scheme://host of Resource, the base of every htu
	metadataPath string
	metadataURL  string
	metadata     []byte
	jtis         jtiMemory
}

// NewProtectedResource checks the options and builds the resource. Its verifier fetches the
// JWKS on first use and caches it, as VerifyAccessToken does.
func NewProtectedResource(opts ProtectedResourceOptions) (*ProtectedResource, error) {
	resource, err := url.Parse(opts.Resource)
	if err != nil || (resource.Scheme != "https" && resource.Scheme != "http") || resource.Host == "" ||
		resource.User != nil || resource.RawQuery != "" || resource.ForceQuery || resource.Fragment != "" {
		return nil, errors.New("mandate: ProtectedResourceOptions.Resource must be an absolute http(s) URL without query or fragment")
	}
	if opts.Issuer == "" {
		return nil, errors.New("mandate: ProtectedResourceOptions needs Issuer")
	}
	for _, scope := range opts.Scopes {
		if !scopeToken(scope) {
			return nil, fmt.Errorf("mandate: ProtectedResourceOptions.Scopes: %q is not a scope (RFC 6749 §3.3)", scope)
		}
	}
	if opts.JWKSURI == "" {
		opts.JWKSURI = strings.TrimRight(opts.Issuer, "/") + jwksPath
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	verifier, err := NewVerifier(VerifyOptions{Issuer: opts.Issuer, Audience: opts.Resource, JWKSURL: opts.JWKSURI, HTTPClient: opts.HTTPClient, Now: opts.Clock})
	if err != nil {
		return nil, err
	}
	p := &ProtectedResource{opts: opts, verifier: verifier, origin: resource.Scheme + "://" + resource.Host, metadataPath: protectedResourceMetadataPath}
	if path := resource.EscapedPath(); path != "" && path != "/" {
		p.metadataPath += path
	}
	p.metadataURL = p.origin + p.metadataPath
	if p.metadata, err = json.Marshal(p.Metadata()); err != nil {
		return nil, err
	}
	return p, nil
}

// scopeToken is RFC 6749 §3.3's scope-token: printable ASCII without space, " or \, so it
// can stand in a challenge's quoted scope parameter as is.
func scopeToken(scope string) bool {
	for _, r := range scope {
		if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
			return false
		}
	}
	return scope != ""
}

// MetadataPath is where Middleware serves the metadata: /.well-known/oauth-protected-resource
// followed by the resource's path, if any (RFC 9728 §3.1).
func (p *ProtectedResource) MetadataPath() string { return p.metadataPath }

// MetadataURL is the metadata's absolute URL, the resource_metadata of every challenge.
func (p *ProtectedResource) MetadataURL() string { return p.metadataURL }

// Metadata is the RFC 9728 document describing this resource.
func (p *ProtectedResource) Metadata() ProtectedResourceMetadata {
	return ProtectedResourceMetadata{
		Resource:                      p.opts.Resource,
		AuthorizationServers:          []string{p.opts.Issuer},
		ScopesSupported:               append([]string(nil), p.opts.Scopes...),
		BearerMethodsSupported:        []string{"header"},
		DPoPSigningAlgValuesSupported: append([]string(nil), dpopAlgorithms...),
		DPoPBoundAccessTokensRequired: p.opts.DPoPRequired,
		ResourceName:                  p.opts.ResourceName,
	}
}

// MetadataHandler serves the metadata document, with no authentication and open to any
// origin (browser-based clients read it). Middleware serves it by itself; this handler is
// for a service that routes the metadata path elsewhere.
func (p *ProtectedResource) MetadataHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(p.metadata)
		}
	})
}

type claimsContextKey struct{}

// Middleware protects next: it serves the metadata document at MetadataPath, answers every
// other request without a valid token with the refusal Authenticate gives (next is not
// called), and hands next the request with the verified claims in its context (see
// ClaimsFromContext).
func (p *ProtectedResource) Middleware(next http.Handler) http.Handler {
	metadata := p.MetadataHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == p.metadataPath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			metadata.ServeHTTP(w, r)
			return
		}
		claims, refusal := p.Authenticate(r)
		if refusal != nil {
			refusal.Write(w)
			return
		}
		next.ServeHTTP(w, r.WithContext(ContextWithClaims(r.Context(), claims)))
	})
}

// ContextWithClaims returns ctx carrying claims, as Middleware hands them to its handler.
func ContextWithClaims(ctx context.Context, claims *AccessTokenClaims) context.Context {
	return context.WithValue(ctx, claimsContextKey{}, claims)
}

// ClaimsFromContext returns the verified claims Middleware put in a request's context, and
// false outside a protected handler.
func ClaimsFromContext(ctx context.Context) (*AccessTokenClaims, bool) {
	claims, ok := ctx.Value(claimsContextKey{}).(*AccessTokenClaims)
	return claims, ok && claims != nil
}

// Refusal is a request a ProtectedResource does not let through: the status, OAuth error
// code and description, and the WWW-Authenticate challenge to answer with. Write sends it.
type Refusal struct {
	Status          int
	Code            string // invalid_token, invalid_dpop_proof, insufficient_scope, or missing_token
	Description     string
	WWWAuthenticate string // empty when the refusal is not the client's fault (the JWKS unavailable)
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("mandate: request refused: %d %s: %s", r.Status, r.Code, r.Description)
}

// Write answers with the refusal: its status, challenge and a JSON body with error and
// error_description.
func (r *Refusal) Write(w http.ResponseWriter) {
	if r.WWWAuthenticate != "" {
		w.Header().Set("WWW-Authenticate", r.WWWAuthenticate)
	}
	if r.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	body, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{r.Code, r.Description})
	w.WriteHeader(r.Status)
	_, _ = w.Write(body)
}

// Authenticate checks a request's access token (and, with the DPoP scheme, its proof) as
// Middleware does: the verified claims, or the refusal to answer with. The checks, in order:
// an Authorization header with the Bearer or DPoP scheme; the token's signature, issuer,
// times and audience (Resource); its binding (a DPoP-bound token only with the DPoP scheme,
// a bearer token only with Bearer and only without DPoPRequired); the DPoP proof; the
// required scopes.
func (p *ProtectedResource) Authenticate(r *http.Request) (*AccessTokenClaims, *Refusal) {
	scheme, token, ok := p.credentials(r)
	if !ok {
		challenge := `Bearer resource_metadata="` + p.metadataURL + `"`
		if p.opts.DPoPRequired {
			challenge = p.dpopChallenge("", "")
		}
		return nil, &Refusal{http.StatusUnauthorized, "missing_token", "Send an access token in the Authorization header.", challenge}
	}
	claims, err := p.verifier.Verify(r.Context(), token)
	if err != nil {
		if !errors.Is(err, ErrInvalidToken) {
			// Not the token's fault: the issuer's keys could not be fetched.
			return nil, &Refusal{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Description: "The authorization server's keys could not be fetched."}
		}
		description := tokenProblem(err)
		return nil, &Refusal{http.StatusUnauthorized, "invalid_token", description, p.challenge(scheme, "invalid_token", description)}
	}
	bound := claims.Cnf != nil && claims.Cnf.JKT != ""
	binding := ""
	switch {
	case bound && scheme == "Bearer":
		binding = "The access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof."
	case !bound && scheme == "DPoP":
		binding = "The access token is not DPoP-bound: send it with the Bearer scheme."
	case !bound && p.opts.DPoPRequired:
		binding = "This resource accepts DPoP-bound access tokens only."
	}
	if binding != "" {
		return nil, &Refusal{http.StatusUnauthorized, "invalid_token", binding, p.dpopChallenge("invalid_token", binding)}
	}
	if scheme == "DPoP" {
		problem := "Send exactly one DPoP proof in the DPoP header."
		if proof, ok := proofHeader(r); ok {
			problem = checkProof(proof, proofRequest{method: r.Method, url: p.origin + r.URL.EscapedPath(), accessToken: token, jkt: claims.Cnf.JKT, now: p.opts.Clock()}, &p.jtis)
		}
		if problem != "" {
			return nil, &Refusal{http.StatusUnauthorized, "invalid_dpop_proof", problem, p.dpopChallenge("invalid_dpop_proof", problem)}
		}
	}
	granted := map[string]bool{}
	for _, scope := range claims.Scopes() {
		granted[scope] = true
	}
	for _, scope := range p.opts.Scopes {
		if !granted[scope] {
			description := "The access token lacks a scope this resource requires."
			challenge := fmt.Sprintf(`%s error="insufficient_scope", error_description="%s", scope="%s", resource_metadata="%s"`,
				scheme, description, strings.Join(p.opts.Scopes, " "), p.metadataURL)
			return nil, &Refusal{http.StatusForbidden, "insufficient_scope", description, challenge}
		}
	}
	return claims, nil
}

// credentials reads the request's one Authorization header: its scheme, written Bearer or
// DPoP whatever the case it came in, and the token.
func (p *ProtectedResource) credentials(r *http.Request) (string, string, bool) {
	values := r.Header.Values("Authorization")
	if len(values) != 1 {
		return "", "", false
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	token = strings.TrimSpace(token)
	switch {
	case token == "":
		return "", "", false
	case strings.EqualFold(scheme, "Bearer"):
		return "Bearer", token, true
	case strings.EqualFold(scheme, "DPoP"):
		return "DPoP", token, true
	}
	return "", "", false
}

// challenge is an RFC 6750 §3 challenge of the given scheme.
func (p *ProtectedResource) challenge(scheme, code, description string) string {
	return scheme + " " + p.errorParams(code, description)
}

func (p *ProtectedResource) errorParams(code, description string) string {
	return fmt.Sprintf(`error="%s", error_description="%s", resource_metadata="%s"`, code, description, p.metadataURL)
}

// dpopChallenge is RFC 9449 §7.1's challenge, naming the proof algorithms accepted; without
// a code, the bare challenge of a request that sent no token.
func (p *ProtectedResource) dpopChallenge(code, description string) string {
	algs := `DPoP algs="` + strings.Join(dpopAlgorithms, " ") + `", `
	if code == "" {
		return algs + `resource_metadata="` + p.metadataURL + `"`
	}
	return algs + p.errorParams(code, description)
}

// tokenProblem is the error_description of a token that fails verification: a short
// sentence without quotes or backslashes (the verifier's own messages quote values).
func tokenProblem(err error) string {
	switch {
	case errors.Is(err, ErrTokenExpired):
		return "The access token has expired."
	case errors.Is(err, ErrTokenNotYetValid):
		return "The access token is not valid yet."
	case errors.Is(err, ErrTokenAudience):
		return "The access token is not for this resource."
	case errors.Is(err, ErrTokenIssuer):
		return "The access token is from another issuer."
	case errors.Is(err, ErrTokenSignature), errors.Is(err, ErrTokenUnknownKey):
		return "The access token signature does not verify."
	case errors.Is(err, ErrTokenType), errors.Is(err, ErrTokenAlgorithm):
		return "The access token is not a Mandate access token."
	default:
		return "The access token is malformed."
	}
}
