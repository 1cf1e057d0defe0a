package core

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// jwtBearerGrant is RFC 7523 §2.1's grant type: an assertion, here a workload's external
// OIDC token, takes the place of client authentication.
const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// FederatedTokenSource returns a workload's current external OIDC token (see
// WithFederatedTokenSource). It is called for every token request, from any goroutine.
type FederatedTokenSource func(ctx context.Context) (string, error)

// federatedSource is how the client reads its federated token, whichever option or variable
// gave it, or nil for a client without one. A federated token given twice, or beside a secret
// or key, is refused: the server authenticates a token request one way only.
func federatedSource(cfg *Config) (FederatedTokenSource, error) {
	given := 0
	for _, set := range []bool{cfg.FederatedToken != "", cfg.FederatedTokenFile != "", cfg.FederatedTokenSource != nil} {
		if set {
			given++
		}
	}
	switch {
	case given == 0:
		return nil, nil
	case given > 1:
		return nil, &ConfigError{Msg: "more than one federated token is configured (a token, a token file or a token source; from the options, or both MANDATE_FEDERATED_TOKEN and MANDATE_FEDERATED_TOKEN_FILE); give one"}
	case cfg.ClientSecret != "" || !noKey(cfg.PrivateKey):
		return nil, &ConfigError{Msg: "a federated token and a client secret or private key are both configured; a workload authenticates with its federated token alone"}
	}
	switch {
	case cfg.FederatedTokenFile != "":
		path := cfg.FederatedTokenFile
		return func(context.Context) (string, error) { return readTokenFile(path) }, nil
	case cfg.FederatedTokenSource != nil:
		return cfg.FederatedTokenSource, nil
	default:
		token := cfg.FederatedToken
		return func(context.Context) (string, error) { return token, nil }, nil
	}
}

// readTokenFile reads a federated token file as it is now: platforms rotate these files in
// place. Surrounding whitespace (the newline a shell's echo adds) is not part of a JWT.
func readTokenFile(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err // an *fs.PathError, which names the file
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return "", fmt.Errorf("the file %s is empty", path)
	}
	return token, nil
}

// federatedTokenError is the authentication error of a token request that was never sent:
// the client could not read its federated token. It has no status; it unwraps to cause.
func (c *Client) federatedTokenError(cause error) *Error {
	return &Error{
		Kind:    KindAuthentication,
		Message: "federated token unavailable: " + cause.Error(),
		Err:     cause,
		Method:  "POST",
		URL:     redactURL(c.cfg.BaseURL + c.tokenPath),
	}
}
