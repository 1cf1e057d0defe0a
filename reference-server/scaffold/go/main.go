// Command starter calls the Mandate API as one agent, through the Go SDK.
//
// The agent's id is its OAuth client id; its secret comes from the environment only, so it
// is never written into this project (see README.md).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

const agentID = "{{agentId}}"

// defaultBaseURL is the server this project was downloaded from; MANDATE_BASE_URL points it elsewhere.
const defaultBaseURL = "{{baseUrl}}"

func main() {
	log.SetFlags(0) // log.Fatal prints the message alone and exits with status 1

	secret := strings.TrimSpace(os.Getenv("MANDATE_CLIENT_SECRET"))
	if secret == "" {
		log.Fatalf("MANDATE_CLIENT_SECRET is not set. Export the secret of one of the agent's credentials "+
			"(an admin creates one with POST /v1/agents/%s/credentials), or put it in .env: see README.md.", agentID)
	}
	baseURL := os.Getenv("MANDATE_BASE_URL")
	if baseURL == "" {
		baseURL = defaultBaseURL
	}
	client := mandate.NewClient(mandate.WithBaseURL(baseURL), mandate.WithClientCredentials(agentID, secret))
	ctx := context.Background()

	// {{#if readsAgents}}
	// The SDK's token manager gets an access token with the client-credentials grant before
	// this first call, and renews it before it expires. Reading itself needs agents:read.
	agent, err := client.Agents.Get(ctx, agentID)
	if err != nil {
		log.Fatalf("Mandate refused the call: %v", err)
	}
	printJSON(agent)
	fmt.Printf("OK: the agent %s (%s) read itself from the Mandate API.\n", agent.Name, agent.ID)
	// {{else}}
	// This agent does not hold agents:read, so it cannot read itself. Any agent may ask about
	// its own tokens, so it gets one (client-credentials grant) and introspects it.
	token, err := client.OAuth.IssueToken(ctx, mandate.TokenRequest{GrantType: mandate.TokenRequestGrantTypeClientCredentials})
	if err != nil {
		log.Fatalf("Mandate refused the token request: %v", err)
	}
	introspection, err := client.OAuth.Introspect(ctx, mandate.TokenOperationRequest{Token: token.AccessToken})
	if err != nil {
		log.Fatalf("Mandate refused the introspection: %v", err)
	}
	printJSON(introspection)
	if !introspection.Active {
		log.Fatal("the new access token introspected as inactive")
	}
	subject, scopes := agentID, "none"
	if introspection.Sub != nil {
		subject = *introspection.Sub
	}
	if introspection.Scope != nil && *introspection.Scope != "" {
		scopes = *introspection.Scope
	}
	fmt.Printf("OK: the agent %s holds an active access token (scopes: %s).\n", subject, scopes)
	// {{/if}}
}

func printJSON(value any) {
	text, err := json.MarshalIndent(value, "", "  ")
	if err != nil {
		log.Fatalf("printing the answer: %v", err)
	}
	fmt.Println(string(text))
}
