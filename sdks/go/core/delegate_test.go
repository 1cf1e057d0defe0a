package core

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const exchangeResponse = `{"access_token":"dlg.token.x","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":600,"scope":"agents:read"}`

// exchangeRecorder is a token endpoint that records each request's form and Authorization
// header and answers a token exchange.
type exchangeRecorder struct {
	mu     sync.Mutex
	forms  []url.Values
	auth   []string
	other  atomic.Int32 // requests to any other path
	status int          // answered instead of 200 when set
	body   string
}

func (s *exchangeRecorder) handler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth2/token" || r.Method != http.MethodPost {
			s.other.Add(1)
			http.NotFound(w, r)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("content type %q", ct)
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		s.mu.Lock()
		s.forms = append(s.forms, r.PostForm)
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if s.status != 0 {
			w.WriteHeader(s.status)
			_, _ = w.Write([]byte(s.body))
			return
		}
		_, _ = w.Write([]byte(exchangeResponse))
	}
}

type exchangeResult struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int    `json:"expires_in"`
	Scope           string `json:"scope"`
}

// Delegate sends exactly the RFC 8693 form, authenticated with the agent's id and secret
// as HTTP Basic, and nothing else: no token of the token manager, no client_id in the form.
func TestDelegateSendsTheTokenExchangeFormWithBasicAuth(t *testing.T) {
	rec := &exchangeRecorder{}
	c, _ := testClient(t, rec.handler(t), WithClientCredentials("agt_B", "sk B/+"), WithScope("agents:write"))
	var out exchangeResult
	err := c.Delegate(context.Background(), "token-of-A", &DelegateParams{Scope: "agents:read", Resource: "https://api.example"}, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.AccessToken != "dlg.token.x" || out.IssuedTokenType != accessTokenTypeURI || out.TokenType != "Bearer" || out.ExpiresIn != 600 || out.Scope != "agents:read" {
		t.Fatalf("response %+v", out)
	}
	// No params: the subject token's scopes and the default audience; WithScope (which is
	// for client credentials) is not sent.
	if err := c.Delegate(context.Background(), "token-of-A", nil, &out, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Delegate(context.Background(), "token-of-A", &DelegateParams{}, &out, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&resource=https%3A%2F%2Fapi.example&scope=agents%3Aread&subject_token=token-of-A&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token",
		"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=token-of-A&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token",
		"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=token-of-A&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token",
	}
	if len(rec.forms) != len(want) || rec.other.Load() != 0 {
		t.Fatalf("%d token requests, %d other requests", len(rec.forms), rec.other.Load())
	}
	for i, form := range rec.forms {
		if got := form.Encode(); got != want[i] {
			t.Errorf("request %d form\n got %s\nwant %s", i, got, want[i])
		}
		// RFC 6749 §2.3.1: id and secret form-urlencoded, then Base64.
		if rec.auth[i] != basicAuth("agt_B", "sk B/+") {
			t.Errorf("request %d Authorization %q", i, rec.auth[i])
		}
	}
}

// A client with an admin API token and an agent's credentials delegates with the agent's.
func TestDelegateUsesTheAgentCredentialsBesideAnAPIToken(t *testing.T) {
	rec := &exchangeRecorder{}
	c, _ := testClient(t, rec.handler(t), WithAPIToken("mnd_admin"), WithClientCredentials("agt_B", "sk"))
	if err := c.Delegate(context.Background(), "token-of-A", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if len(rec.auth) != 1 || rec.auth[0] != basicAuth("agt_B", "sk") {
		t.Fatalf("Authorization %q", rec.auth)
	}
}

// With a private key, each attempt (the retry after a 503 too) carries a new assertion in
// the form beside the exchange's parameters, and no Authorization header.
func TestDelegateWithAPrivateKeySignsAnAssertionPerAttempt(t *testing.T) {
	srv := &assertionServer{tokenStatuses: []int{503}}
	key := agentTestKeys()["ES256"]
	clock := &fakeClock{now: time.Unix(1_767_225_600, 0)}
	waits := &sleeps{}
	c, _ := testClient(t, srv.handler, WithPrivateKey("agt_B", pkcs8PEM(t, key)), withTestHooks(waits, 0, clock))
	var out exchangeResult
	if err := c.Delegate(context.Background(), "token-of-A", &DelegateParams{Scope: "agents:read"}, &out, nil); err != nil {
		t.Fatal(err)
	}
	forms, auth, metadataCalls := srv.recorded()
	if len(forms) != 2 || metadataCalls != 1 || len(waits.all()) != 1 || out.AccessToken != "at-2" {
		t.Fatalf("%d attempts, %d metadata fetches, %d waits, token %q", len(forms), metadataCalls, len(waits.all()), out.AccessToken)
	}
	jtis := map[string]bool{}
	for i, form := range forms {
		if auth[i] != "" {
			t.Errorf("attempt %d sent Authorization %q", i, auth[i])
		}
		if form.Get("grant_type") != tokenExchangeGrant || form.Get("subject_token") != "token-of-A" ||
			form.Get("subject_token_type") != accessTokenTypeURI || form.Get("scope") != "agents:read" ||
			form.Get("client_assertion_type") != jwtBearerAssertion || form.Has("client_secret") || form.Has("resource") {
			t.Fatalf("attempt %d form: %v", i, form)
		}
		got := verifyAssertion(t, form.Get("client_assertion"), key.Public())
		if got.claims.Issuer != "agt_B" || got.claims.Subject != "agt_B" || got.claims.Audience != assertionIssuer {
			t.Errorf("assertion claims %+v", got.claims)
		}
		jtis[got.claims.JTI] = true
	}
	if len(jtis) != 2 {
		t.Fatalf("the retry reused the jti: %v", jtis)
	}
}

// Without an agent's credentials there is nobody to act: a *ConfigError, and no request.
func TestDelegateWithoutAgentCredentialsIsAConfigError(t *testing.T) {
	cases := map[string][]Option{
		"admin API token only":   {WithAPIToken("mnd_admin")},
		"no credential at all":   nil,
		"client id, no secret":   {WithClientCredentials("agt_B", "")},
		"secret, no client id":   {WithClientCredentials("", "sk")},
		"empty credential given": {WithClientCredentials("", "")},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			rec := &exchangeRecorder{}
			c, _ := testClient(t, rec.handler(t), opts...)
			err := c.Delegate(context.Background(), "token-of-A", nil, nil, nil)
			var cfgErr *ConfigError
			if !errors.As(err, &cfgErr) || !IsConfigError(err) {
				t.Fatalf("error %T %v", err, err)
			}
			if !strings.Contains(err.Error(), "WithClientCredentials or WithPrivateKey") || strings.Contains(err.Error(), "mnd_admin") {
				t.Errorf("message %q", err.Error())
			}
			if len(rec.forms) != 0 || rec.other.Load() != 0 {
				t.Fatalf("sent %d requests", len(rec.forms)+int(rec.other.Load()))
			}
		})
	}
	// The client's own configuration error comes first, as on every call.
	rec := &exchangeRecorder{}
	c, _ := testClient(t, rec.handler(t), WithClientCredentials("agt_B", "sk"), WithPrivateKey("agt_B", pkcs8PEM(t, agentTestKeys()["ES256"])))
	if err := c.Delegate(context.Background(), "token-of-A", nil, nil, nil); !IsConfigError(err) || !strings.Contains(err.Error(), "both a client secret and a private key") {
		t.Fatalf("error %v", err)
	}
	// An empty subject token is refused before any request.
	c, _ = testClient(t, rec.handler(t), WithClientCredentials("agt_B", "sk"))
	if err := c.Delegate(context.Background(), "", nil, nil, nil); err == nil || IsConfigError(err) || !strings.Contains(err.Error(), "subject token") {
		t.Fatalf("error %v", err)
	}
	if len(rec.forms) != 0 {
		t.Fatalf("sent %d requests", len(rec.forms))
	}
}

// The server's refusals are the usual typed errors, with the OAuth error as Code, and are
// not retried.
func TestDelegateRefusalsAreTypedErrors(t *testing.T) {
	cases := []struct {
		status int
		body   string
		code   string
		is     func(error) bool
	}{
		{400, `{"error":"invalid_scope","error_description":"The subject token does not carry audit:read."}`, "invalid_scope", IsBadRequest},
		{400, `{"error":"invalid_request","error_description":"The agent is already in this delegation chain."}`, "invalid_request", IsBadRequest},
		{401, `{"error":"invalid_client"}`, "invalid_client", IsAuthentication},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			rec := &exchangeRecorder{status: tc.status, body: tc.body}
			c, _ := testClient(t, rec.handler(t), WithClientCredentials("agt_B", "sk"))
			err := c.Delegate(context.Background(), "token-of-A", &DelegateParams{Scope: "audit:read"}, nil, nil)
			var apiErr *Error
			if !tc.is(err) || !errors.As(err, &apiErr) || apiErr.Code != tc.code || apiErr.StatusCode != tc.status {
				t.Fatalf("error %v", err)
			}
			if len(rec.forms) != 1 {
				t.Fatalf("%d attempts", len(rec.forms))
			}
		})
	}
}
