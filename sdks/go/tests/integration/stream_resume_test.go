package integration

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// The event stream's reconnect and resume, end to end against the reference server: the server
// ends every connection after a second, and the stream must come back with Last-Event-ID and
// replay what was committed while it was away, with no gap and no duplicate.

// reconnectLog counts the stream's "ended, reconnecting" debug records: the SDK's own report
// that it reconnected after the server ended a connection.
type reconnectLog struct{ reconnects atomic.Int32 }

func (h *reconnectLog) Enabled(context.Context, slog.Level) bool { return true }

func (h *reconnectLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "mandate: event stream ended, reconnecting" {
		h.reconnects.Add(1)
	}
	return nil
}

func (h *reconnectLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *reconnectLog) WithGroup(string) slog.Handler      { return h }

func TestEventStreamResumesAfterTheServerEndsTheConnection(t *testing.T) {
	const want = 6
	// A server of its own: the shared one keeps the default hour-long connections.
	srv := ownServer(t, "MANDATE_EVENT_STREAM_MAX_SECONDS=1")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// An organization and its admin token, made with the instance-admin token.
	instance := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithAPIToken(srv.Token))
	org, err := instance.Orgs.Create(ctx, mandate.OrganizationCreate{Name: "stream-resume"})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := instance.AdminTokens.Create(ctx, org.ID, mandate.AdminTokenCreate{Role: mandate.AdminTokenRoleAdmin, Label: "stream-resume"})
	if err != nil {
		t.Fatal(err)
	}
	logs := &reconnectLog{}
	client := mandate.NewClient(mandate.WithBaseURL(srv.BaseURL), mandate.WithAPIToken(admin.Token),
		mandate.WithOrganization(org.ID), mandate.WithLogger(slog.New(logs)))

	var created []string
	createAgent := func() {
		agent, err := client.Agents.Create(ctx, mandate.AgentCreate{Name: fmt.Sprintf("stream-resume-%d", len(created)+1), AgentType: mandate.AgentTypeAutonomous})
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, agent.ID)
	}

	start := time.Now()
	stream, err := client.Events.Stream(ctx, &mandate.StreamEventsParams{Action: []string{"agent.created"}})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()

	// Each event received brings the next agent 0.4 s later, so the run outlasts several
	// one-second connections and some agents are created while the stream is disconnected
	// (waiting out the server's 3 s retry advice): only a resume with Last-Event-ID
	// delivers those. Without it the loop waits for an event that never comes, until ctx ends.
	createAgent()
	var received []mandate.AuditEvent
	for len(received) < want && stream.Next(ctx) {
		received = append(received, stream.Event().Data)
		if e := stream.Event(); e.Event != "agent.created" || e.Data.Action != "agent.created" {
			t.Errorf("event %s: type %q, action %q; want agent.created", e.ID, e.Event, e.Data.Action)
		}
		if len(created) < want {
			time.Sleep(400 * time.Millisecond)
			createAgent()
		}
	}
	elapsed := time.Since(start)
	if len(received) < want {
		t.Fatalf("received %d of %d events (stream error: %v)", len(received), want, stream.Err())
	}

	var targets, ids []string
	for _, e := range received {
		if e.Target == nil {
			t.Fatalf("event %s has no target", e.ID)
		}
		targets = append(targets, e.Target.ID)
		ids = append(ids, e.ID)
	}
	if !slices.Equal(targets, created) {
		t.Errorf("event targets %q, want the agents in creation order %q", targets, created)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != want {
		t.Errorf("duplicate event ids among %q", ids)
	}
	// At least five 0.4 s pauses: longer than one connection's lifetime, so the server ended one.
	if elapsed <= 2*time.Second {
		t.Errorf("the run took %v; it cannot have outlived a one-second connection", elapsed)
	}
	if logs.reconnects.Load() < 1 {
		t.Error("the stream never reported reconnecting after the server ended a connection")
	}
	t.Logf("%d events in %v over %d reconnects", want, elapsed.Round(time.Millisecond), logs.reconnects.Load())
}
