package core

import "testing"

// The credential rule on the resulting Config; tests/unit/environment_test.go checks the
// headers a client actually sends. t.Setenv: not parallel.
func TestCredentialsComeFromOptionsOrEnvironmentNeverBoth(t *testing.T) {
	t.Setenv("MANDATE_API_TOKEN", "env-token")
	t.Setenv("MANDATE_CLIENT_ID", "agt_env")
	t.Setenv("MANDATE_CLIENT_SECRET", "env-secret")
	t.Setenv("MANDATE_ORGANIZATION", "org_env")
	handWritten := func(c *Config) { c.APIToken = "custom" } // an Option that does not set the flag
	cases := []struct {
		name                   string
		opts                   []Option
		token, id, secret, org string
	}{
		{"none given", nil, "env-token", "agt_env", "env-secret", "org_env"},
		{"api token", []Option{WithAPIToken("opt")}, "opt", "", "", "org_env"},
		{"empty api token", []Option{WithAPIToken("")}, "", "", "", "org_env"},
		{"client credentials", []Option{WithClientCredentials("agt_opt", "s")}, "", "agt_opt", "s", "org_env"},
		{"empty client credentials", []Option{WithClientCredentials("", "")}, "", "", "", "org_env"},
		{"both, organization too", []Option{WithClientCredentials("agt_opt", "s"), WithAPIToken("opt"), WithOrganization("org_opt")}, "opt", "agt_opt", "s", "org_opt"},
		{"hand-written option", []Option{handWritten}, "custom", "", "", "org_env"},
	}
	for _, tc := range cases {
		cfg := newConfig(Defaults{}, tc.opts)
		if cfg.APIToken != tc.token || cfg.ClientID != tc.id || cfg.ClientSecret != tc.secret || cfg.Organization != tc.org {
			t.Errorf("%s: token %q, client %q:%q, organization %q", tc.name, cfg.APIToken, cfg.ClientID, cfg.ClientSecret, cfg.Organization)
		}
	}
}
