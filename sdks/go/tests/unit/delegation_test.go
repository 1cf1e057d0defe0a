package unit

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// Client.Delegate posts the token exchange with the agent's credentials and returns the
// typed TokenResponse, issued_token_type included.
func TestDelegateReturnsATypedTokenResponse(t *testing.T) {
	var form string
	var user, pass string
	c := client(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth2/token" {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
		_ = r.ParseForm()
		form = r.PostForm.Encode()
		user, pass, _ = r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"a.b.c","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":300,"scope":"agents:read"}`))
	}, mandate.WithClientCredentials("agt_B", "sk"))
	res, err := c.Delegate(context.Background(), "token-of-A", &mandate.DelegateParams{Scope: "agents:read"})
	if err != nil {
		t.Fatal(err)
	}
	wantForm := "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&scope=agents%3Aread&subject_token=token-of-A&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token"
	if form != wantForm || user != "agt_B" || pass != "sk" {
		t.Fatalf("form %q, basic %q:%q", form, user, pass)
	}
	if res.AccessToken != "a.b.c" || res.IssuedTokenType == nil || *res.IssuedTokenType != mandate.TokenTypeURIUrnIetfParamsOAuthTokenTypeAccessToken ||
		res.TokenType != mandate.TokenResponseTokenTypeBearer || res.ExpiresIn != 300 || res.Scope != "agents:read" {
		t.Fatalf("response %+v", res)
	}
}

func TestDelegateWithAnAdminTokenIsAConfigError(t *testing.T) {
	c := client(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
	}, mandate.WithAPIToken("mnd_admin"))
	res, err := c.Delegate(context.Background(), "token-of-A", nil)
	var cfgErr *mandate.ConfigError
	if res != nil || !mandate.IsConfigError(err) || !errors.As(err, &cfgErr) {
		t.Fatalf("%+v %v", res, err)
	}
}
