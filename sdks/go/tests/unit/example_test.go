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
	// An instance administrator acting in one organization (the options of
	// MANDATE_BASE_URL, MANDATE_API_TOKEN and MANDATE_ORGANIZATION).
	admin := mandate.NewClient(
		mandate.WithBaseURL("http://localhost:8080"),
		mandate.WithAPIToken("mdt_pat_…"),
		mandate.WithOrganization("org_…"),
	)
	agent, err := admin.Agents.Create(ctx, mandate.AgentCreate{
		Name:          "quickstart-bot",
		AgentType:     mandate.AgentTypeAutonomous,
		AllowedScopes: []mandate.Scope{"agents:read"},
	}, mandate.WithIdempotencyKey("create-quickstart-bot"), mandate.WithRequestTimeout(5*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	cred, err := admin.Credentials.Create(ctx, agent.ID, &mandate.CredentialCreate{Label: mandate.Ptr("quickstart")})
	if err != nil {
		log.Fatal(err)
	}
	// The agent: its own credential, so no credential is read from the environment.
	bot := mandate.NewClient(mandate.WithBaseURL("http://localhost:8080"), mandate.WithClientCredentials(cred.ClientID, cred.Secret))
	self, err := bot.Agents.Get(ctx, agent.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(self.Name, self.Status)
}

func Example_errorsPagesAndPatches() {
	ctx := context.Background()
	client := mandate.NewClient()
	_, err := client.Agents.Get(ctx, "agt_00000000000000000000000000")
	var apiErr *mandate.Error
	switch {
	case err == nil:
	case mandate.IsNotFound(err):
	case errors.As(err, &apiErr) && apiErr.Code == "INSUFFICIENT_SCOPE":
		log.Printf("%d %s (request %s)", apiErr.StatusCode, apiErr.Message, apiErr.RequestID)
	case mandate.IsTimeout(err), mandate.IsConnectionError(err):
	}

	page, err := client.Agents.List(ctx, &mandate.ListAgentsParams{Status: mandate.Ptr(mandate.AgentStatusActive)})
	if err != nil {
		log.Fatal(err)
	}
	it := page.Iter(ctx)
	for it.Next() {
		fmt.Println(it.Current().Name)
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
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

func Example_liveEvents() {
	ctx := context.Background()
	client := mandate.NewClient()
	savedID := "" // e.g. the last id a previous run stored
	stream, err := client.Events.Stream(ctx, &mandate.StreamEventsParams{Action: []string{"agent.*"}},
		mandate.WithLastEventID(savedID))
	if err != nil {
		log.Fatal(err) // a *mandate.Error: 400 INVALID_LAST_EVENT_ID, 403 INSUFFICIENT_SCOPE, …
	}
	defer stream.Close()
	for stream.Next(ctx) {
		event := stream.Event()
		if event.Event == mandate.OverflowEvent {
			continue // the stream resumes after the last event by itself
		}
		fmt.Println(event.ID, event.Data.Action, event.Data.Target)
	}
	if err := stream.Err(); err != nil {
		log.Print(err)
	}
	savedID = stream.LastEventID()
	_ = savedID
}
