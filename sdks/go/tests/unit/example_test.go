package unit

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// These examples mirror the README; they compile with the tests (and do not run).

func Example_quickStart() {
	ctx := context.Background()
	client := mandate.NewClient(mandate.WithBaseURL("https://mandate.example.com"), mandate.WithAPIToken("mdt_pat_…"))
	agent, err := client.Agents.Create(ctx, mandate.AgentCreate{
		Name:          "inventory-bot",
		AgentType:     mandate.AgentTypeAutonomous,
		AllowedScopes: []mandate.Scope{"agents:read"},
	}, mandate.WithIdempotencyKey("create-inventory-bot"), mandate.WithRequestTimeout(5*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	cred, err := client.Credentials.Create(ctx, agent.ID, &mandate.CredentialCreate{Label: mandate.Ptr("primary")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.ID, cred.ClientID)
}

func Example_errorsPagesAndPatches() {
	ctx := context.Background()
	client := mandate.NewClient()
	_, err := client.Agents.Get(ctx, "agt_00000000000000000000000000")
	var apiErr *mandate.Error
	switch {
	case mandate.IsNotFound(err):
	case errors.As(err, &apiErr) && apiErr.Code == "INSUFFICIENT_SCOPE":
	case mandate.IsTimeout(err), mandate.IsConnectionError(err):
	}

	page, err := client.Agents.List(ctx, &mandate.ListAgentsParams{Status: mandate.Ptr(mandate.AgentStatusActive)})
	if err != nil {
		log.Fatal(err)
	}
	for it := page.Iter(ctx); it.Next(); {
		fmt.Println(it.Current().Name)
	}

	var res *http.Response
	_, err = client.Agents.Update(ctx, "agt_…", mandate.AgentUpdate{
		Description: mandate.Null[string](),
		Version:     mandate.Value("2.0.0"),
	}, mandate.WithResponseInto(&res))
	fmt.Println(err, res.StatusCode)
}

func Example_verifyAccessToken() {
	ctx := context.Background()
	opts := mandate.VerifyOptions{Issuer: "https://mandate.example.com", Audience: "https://mandate.example.com", BaseURL: "https://mandate.example.com"}
	claims, err := mandate.VerifyAccessToken(ctx, "eyJ…", opts)
	if errors.Is(err, mandate.ErrInvalidToken) {
		return // answer 401
	}
	fmt.Println(claims.Subject, claims.Org, claims.Scopes())
	verifier, _ := mandate.NewVerifier(opts)
	_, _ = verifier.Verify(ctx, "eyJ…")
}
