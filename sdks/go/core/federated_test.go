package core

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// jwtBearerServer is a token endpoint for workloads: it records each token request's form and
// Authorization header and issues "at-N"; the API answers with the bearer token it got,
// unless refuse says it is no longer accepted.
type jwtBearerServer struct {
	mu       sync.Mutex
	forms    []url.Values
	auth     []string
	apiCalls atomic.Int32
	refuse   func(token string) bool
	status   int // answered instead of a token when set
	body     string
}

func (s *jwtBearerServer) handler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/oauth2/token" {
			s.apiCalls.Add(1)
			token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			if s.refuse != nil && s.refuse(token) {
				problem(w, 401, "INVALID_TOKEN")
				return
			}
			_, _ = w.Write([]byte(`{"token":"` + token + `"}`))
			return
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		s.mu.Lock()
		s.forms = append(s.forms, r.PostForm)
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		n := len(s.forms)
		s.mu.Unlock()
		if s.status != 0 {
			w.WriteHeader(s.status)
			_, _ = w.Write([]byte(s.body))
			return
		}
		fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":600}`, n)
	}
}

func (s *jwtBearerServer) requests() ([]url.Values, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.forms...), append([]string(nil), s.auth...)
}

// assertions are the assertion each token request sent.
func (s *jwtBearerServer) assertions() []string {
	forms, _ := s.requests()
	out := make([]string, len(forms))
	for i, form := range forms {
		out[i] = form.Get("assertion")
	}
	return out
}

// callAPI makes one bearer call and returns the token the API received.
func callAPI(t *testing.T, c *Client) string {
	t.Helper()
	var out map[string]string
	if err := c.Do(context.Background(), bearerGet, &out, nil); err != nil {
		t.Fatal(err)
	}
	return out["token"]
}

func writeTokenFile(t *testing.T, path, token string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestJWTBearerGrantSendsExactlyTheFormWithoutClientAuthentication(t *testing.T) {
	cases := []struct {
		name string
		opts []Option
		want url.Values
	}{
		{"token alone", []Option{WithFederatedToken("ext.jwt.1")}, url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"ext.jwt.1"},
		}},
		{"with client id and scope", []Option{WithFederatedToken("ext.jwt.1"), WithClientID("agt_target"), WithScope("agents:read audit:read")}, url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"ext.jwt.1"},
			"client_id": {"agt_target"}, "scope": {"agents:read audit:read"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &jwtBearerServer{}
			c, _ := testClient(t, s.handler(t), tc.opts...)
			if got := callAPI(t, c); got != "at-1" {
				t.Fatalf("the API got %q, not the managed token", got)
			}
			forms, auth := s.requests()
			if len(forms) != 1 || forms[0].Encode() != tc.want.Encode() {
				t.Fatalf("token requests %v, want exactly %v", forms, tc.want)
			}
			if auth[0] != "" {
				t.Fatalf("the JWT bearer grant sent Authorization %q", auth[0])
			}
		})
	}
}

func TestFederatedTokenFileIsReadAgainForEveryTokenRequest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	writeTokenFile(t, path, "ext.jwt.1\n") // the newline of `echo … > file` is not sent
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := &jwtBearerServer{}
	c, _ := testClient(t, s.handler(t), WithFederatedTokenFile(path), withTestHooks(&sleeps{}, 0, clock))
	if callAPI(t, c) != "at-1" || callAPI(t, c) != "at-1" {
		t.Fatal("the first token was not kept")
	}
	// The platform rotates the file; the next token request sends the new token.
	writeTokenFile(t, path, "ext.jwt.2")
	clock.Advance(600 * time.Second)
	if got := callAPI(t, c); got != "at-2" {
		t.Fatalf("after expiry the API got %q", got)
	}
	if got := s.assertions(); fmt.Sprint(got) != "[ext.jwt.1 ext.jwt.2]" {
		t.Fatalf("assertions sent: %v", got)
	}
}

func TestUnreadableOrEmptyTokenFileIsAnAuthenticationErrorNamingTheFile(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty-token")
	writeTokenFile(t, empty, " \n")
	missing := filepath.Join(dir, "missing-token")
	for _, path := range []string{empty, missing} {
		s := &jwtBearerServer{}
		c, _ := testClient(t, s.handler(t), WithFederatedTokenFile(path))
		if err := c.Err(); err != nil {
			t.Fatalf("the file is read per request, not at build time: %v", err)
		}
		err := c.Do(context.Background(), bearerGet, nil, nil)
		var apiErr *Error
		if !IsAuthentication(err) || !asError(err, &apiErr) || apiErr.StatusCode != 0 || !strings.Contains(err.Error(), path) {
			t.Fatalf("%s: %v", path, err)
		}
		if forms, _ := s.requests(); len(forms) != 0 || s.apiCalls.Load() != 0 {
			t.Fatalf("%s: %d token requests, %d API calls sent", path, len(forms), s.apiCalls.Load())
		}
	}
	// A missing file unwraps to the file system's error.
	c, _ := testClient(t, (&jwtBearerServer{}).handler(t), WithFederatedTokenFile(missing))
	if err := c.Do(context.Background(), bearerGet, nil, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	// The file is read again on the next request: once written, it works.
	s := &jwtBearerServer{}
	c, _ = testClient(t, s.handler(t), WithFederatedTokenFile(missing))
	if err := c.Do(context.Background(), bearerGet, nil, nil); !IsAuthentication(err) {
		t.Fatalf("missing file: %v", err)
	}
	writeTokenFile(t, missing, "ext.jwt.late")
	if callAPI(t, c) != "at-1" || s.assertions()[0] != "ext.jwt.late" {
		t.Fatalf("assertions sent: %v", s.assertions())
	}
}

func TestFederatedTokenSourceIsCalledForEveryTokenRequest(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	var calls atomic.Int32
	source := func(context.Context) (string, error) {
		return fmt.Sprintf("ext.jwt.%d", calls.Add(1)), nil
	}
	s := &jwtBearerServer{}
	c, _ := testClient(t, s.handler(t), WithFederatedTokenSource(source), withTestHooks(&sleeps{}, 0, clock))
	callAPI(t, c)
	clock.Advance(600 * time.Second)
	callAPI(t, c)
	if got := s.assertions(); fmt.Sprint(got) != "[ext.jwt.1 ext.jwt.2]" {
		t.Fatalf("assertions sent: %v", got)
	}

	// Its error, or an empty token, fails the request as an authentication error.
	failure := errors.New("metadata service down")
	for name, source := range map[string]FederatedTokenSource{
		"error": func(context.Context) (string, error) { return "", failure },
		"empty": func(context.Context) (string, error) { return "", nil },
	} {
		s := &jwtBearerServer{}
		c, _ := testClient(t, s.handler(t), WithFederatedTokenSource(source))
		err := c.Do(context.Background(), bearerGet, nil, nil)
		if !IsAuthentication(err) || (name == "error" && !errors.Is(err, failure)) {
			t.Fatalf("%s: %v", name, err)
		}
		if forms, _ := s.requests(); len(forms) != 0 {
			t.Fatalf("%s: a token request was sent", name)
		}
	}
}

func TestFederatedTokenSharesOneFetchAndRefreshesOnceOn401(t *testing.T) {
	var reads atomic.Int32
	source := func(context.Context) (string, error) { return fmt.Sprintf("ext.jwt.%d", reads.Add(1)), nil }
	s := &jwtBearerServer{refuse: func(token string) bool { return token == "at-1" }}
	c, _ := testClient(t, s.handler(t), WithFederatedTokenSource(source))
	// The first managed token is refused: one refresh, with the token read again, and one retry.
	if got := callAPI(t, c); got != "at-2" || s.apiCalls.Load() != 2 {
		t.Fatalf("API got %q after %d calls", got, s.apiCalls.Load())
	}
	if got := s.assertions(); fmt.Sprint(got) != "[ext.jwt.1 ext.jwt.2]" {
		t.Fatalf("assertions sent: %v", got)
	}
	// Concurrent callers share the cached token: no further token request.
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Do(context.Background(), bearerGet, nil, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if forms, _ := s.requests(); len(forms) != 2 || reads.Load() != 2 {
		t.Fatalf("%d token requests, %d reads", len(forms), reads.Load())
	}

	// A token the API never accepts: one refresh, never a second.
	s = &jwtBearerServer{refuse: func(string) bool { return true }}
	c, _ = testClient(t, s.handler(t), WithFederatedToken("ext.jwt"))
	if err := c.Do(context.Background(), bearerGet, nil, nil); !IsAuthentication(err) || s.apiCalls.Load() != 2 {
		t.Fatalf("err %v after %d API calls", err, s.apiCalls.Load())
	}
	if forms, _ := s.requests(); len(forms) != 2 {
		t.Fatalf("%d token requests", len(forms))
	}
}

func TestARefusedFederatedTokenIsAnAuthenticationError(t *testing.T) {
	s := &jwtBearerServer{status: 400, body: `{"error":"invalid_grant","error_description":"No trust policy accepts this token."}`}
	c, _ := testClient(t, s.handler(t), WithFederatedToken("ext.jwt"), WithMaxRetries(2))
	err := c.Do(context.Background(), bearerGet, nil, nil)
	var apiErr *Error
	if !IsAuthentication(err) || !asError(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "invalid_grant" {
		t.Fatalf("%v", err)
	}
	if forms, _ := s.requests(); len(forms) != 1 || s.apiCalls.Load() != 0 {
		t.Fatalf("%d token requests (a 400 is not retried), %d API calls", len(forms), s.apiCalls.Load())
	}
	// Other refusals of the token request keep their own kind.
	s = &jwtBearerServer{status: 400, body: `{"error":"invalid_scope"}`}
	c, _ = testClient(t, s.handler(t), WithFederatedToken("ext.jwt"), WithScope("orgs:admin"))
	if err := c.Do(context.Background(), bearerGet, nil, nil); !IsBadRequest(err) {
		t.Fatalf("invalid_scope: %v", err)
	}
}

func TestFederatedTokenConfigurationErrors(t *testing.T) {
	key := pkcs8PEM(t, agentTestKeys()["ES256"])
	source := func(context.Context) (string, error) { return "ext.jwt", nil }
	cases := map[string][]Option{
		"token and secret":      {WithFederatedToken("ext.jwt"), WithClientCredentials("agt_1", "sk")},
		"file and private key":  {WithFederatedTokenFile("/run/token"), WithPrivateKey("agt_1", key)},
		"source and secret":     {WithFederatedTokenSource(source), WithClientCredentials("agt_1", "sk")},
		"token and file":        {WithFederatedToken("ext.jwt"), WithFederatedTokenFile("/run/token")},
		"token and source":      {WithFederatedToken("ext.jwt"), WithFederatedTokenSource(source)},
		"file and source":       {WithFederatedTokenFile("/run/token"), WithFederatedTokenSource(source)},
		"token, file and a key": {WithFederatedToken("ext.jwt"), WithFederatedTokenFile("/run/token"), WithPrivateKey("agt_1", key)},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			s := &jwtBearerServer{}
			c, _ := testClient(t, s.handler(t), opts...)
			if !IsConfigError(c.Err()) {
				t.Fatalf("Err: %v", c.Err())
			}
			err := c.Do(context.Background(), bearerGet, nil, nil)
			if !IsConfigError(err) || strings.Contains(err.Error(), "ext.jwt") || strings.Contains(err.Error(), "sk") {
				t.Fatalf("call: %v", err)
			}
			if forms, _ := s.requests(); len(forms) != 0 || s.apiCalls.Load() != 0 {
				t.Fatal("a misconfigured client sent requests")
			}
		})
	}
	// From the environment alike: both variables, or one beside a secret.
	for name, env := range map[string]map[string]string{
		"both variables":         {"MANDATE_FEDERATED_TOKEN": "ext.jwt", "MANDATE_FEDERATED_TOKEN_FILE": "/run/token"},
		"token variable, secret": {"MANDATE_FEDERATED_TOKEN": "ext.jwt", "MANDATE_CLIENT_ID": "agt_1", "MANDATE_CLIENT_SECRET": "sk"},
	} {
		t.Run(name, func(t *testing.T) {
			for _, v := range []string{"MANDATE_API_TOKEN", "MANDATE_CLIENT_ID", "MANDATE_CLIENT_SECRET", "MANDATE_CLIENT_PRIVATE_KEY", "MANDATE_FEDERATED_TOKEN", "MANDATE_FEDERATED_TOKEN_FILE"} {
				t.Setenv(v, env[v])
			}
			if cfg := newConfig(Defaults{}, nil); !IsConfigError(cfg.err) {
				t.Fatalf("Err: %v", cfg.err)
			}
		})
	}
}
