package core

import (
	"context"
	"errors"
	"net/url"
)

// The RFC 8693 URIs of a token exchange.
const (
	tokenExchangeGrant   = "urn:ietf:params:oauth:grant-type:token-exchange"
	accessTokenTypeURI   = "urn:ietf:params:oauth:token-type:access_token"
	noAgentCredentialMsg = "delegation needs the acting agent's own credentials (WithClientCredentials or WithPrivateKey, or MANDATE_CLIENT_ID with MANDATE_CLIENT_SECRET or MANDATE_CLIENT_PRIVATE_KEY); this client has none"
)

// DelegateParams narrow the token Delegate asks for. The zero value (or nil) asks for
// every scope of the subject token, for the default audience.
type DelegateParams struct {
	// Scope is a space-separated subset of the subject token's scopes (empty: all of them);
	// asking for more is refused with invalid_scope.
	Scope string
	// Resource is the API the token is for (RFC 8707), its aud (empty: the issuer).
	Resource string
}

// Delegate is the token exchange of RFC 8693 by which this client's agent (the actor) gets
// a token to act for the agent whose access token subjectToken is (the subject): a POST to
// the token endpoint with grant_type urn:ietf:params:oauth:grant-type:token-exchange,
// subject_token and subject_token_type urn:ietf:params:oauth:token-type:access_token,
// authenticated as every token request of the client is (HTTP Basic with the secret, or a
// new private_key_jwt assertion per attempt). The answer is decoded into out.
//
// The issued token's sub is the subject, its client_id the actor and its act claim the
// chain of actors, nearest first (see AccessTokenClaims.Actors). A client without an
// agent's credentials (an admin API token only) gets a *ConfigError and sends nothing.
func (c *Client) Delegate(ctx context.Context, subjectToken string, params *DelegateParams, out any, opts []RequestOption) error {
	if c.cfg.err != nil {
		return c.cfg.err
	}
	if c.cfg.ClientID == "" || (c.cfg.ClientSecret == "" && c.cfg.clientKey == nil) {
		return &ConfigError{Msg: noAgentCredentialMsg}
	}
	if subjectToken == "" {
		return errors.New("mandate: Delegate needs the subject token, an access token of the agent to act for")
	}
	form := url.Values{
		"grant_type":         {tokenExchangeGrant},
		"subject_token":      {subjectToken},
		"subject_token_type": {accessTokenTypeURI},
	}
	if params != nil && params.Scope != "" {
		form.Set("scope", params.Scope)
	}
	if params != nil && params.Resource != "" {
		form.Set("resource", params.Resource)
	}
	req := &Request{Method: "POST", Path: c.tokenPath, Form: form, Auth: []AuthMode{AuthClientBasic}}
	return c.Do(ctx, req, out, opts)
}
