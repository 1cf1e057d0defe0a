package unit

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/sdks/go/internal/dispatch"
	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

const auditEventJSON = `{"id":"evt_2","orgId":"org_x","sequence":2,"action":"agent.created","outcome":"partial","actor":{"type":"admin_token","id":"tok_1"},"target":{"type":"agent","id":"agt_1"},"ip":null,"userAgent":null,"requestId":"req_1","occurredAt":"2025-01-02T03:04:05.123Z","metadata":{"name":"bot"},"prevHash":"00","hash":"11","region":"eu"}`

func TestEventsStreamSendsFiltersAndYieldsTypedEvents(t *testing.T) {
	var mu sync.Mutex
	var got *http.Request
	c := client(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Clone(context.Background())
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte("retry: 3000\n\n: heartbeat\n\nid: evt_2\nevent: agent.created\ndata: " + auditEventJSON + "\n\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}, mandate.WithAPIToken("tok"))

	stream, err := c.Events.Stream(context.Background(), &mandate.StreamEventsParams{
		Action:  []string{"agent.*", "credential.rotated"},
		AgentID: mandate.Ptr(mandate.AgentID("agt_1")),
	}, mandate.WithRequestOrganization("org_x"), mandate.WithLastEventID("evt_1"))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !stream.Next(ctx) {
		t.Fatal(stream.Err())
	}
	e := stream.Event()
	if e.ID != "evt_2" || e.Event != "agent.created" || e.Data.Action != "agent.created" || e.Data.Target.ID != "agt_1" || e.Data.Sequence != 2 {
		t.Fatalf("%+v", e)
	}
	// Unknown enum values and fields are kept, as everywhere in the SDK.
	if string(e.Data.Outcome) != "partial" || e.Data.Outcome.IsKnown() || string(e.Data.ExtraFields["region"]) != `"eu"` {
		t.Fatalf("%+v", e.Data)
	}

	mu.Lock()
	defer mu.Unlock()
	if q := got.URL.RawQuery; q != "action=agent.%2A&action=credential.rotated&agentId=agt_1" {
		t.Fatalf("query %q", q)
	}
	for name, want := range map[string]string{"Accept": "text/event-stream", "Authorization": "Bearer tok", "Mandate-Organization": "org_x", "Last-Event-ID": "evt_1"} {
		if v := got.Header.Get(name); v != want {
			t.Errorf("%s: %q", name, v)
		}
	}
	if !strings.HasPrefix(got.Header.Get("User-Agent"), "mandate-go/") {
		t.Errorf("User-Agent %q", got.Header.Get("User-Agent"))
	}
}

func TestEventsStreamThroughDispatchAndItsErrors(t *testing.T) {
	c := client(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"type":"about:blank","title":"Bad Request","status":400,"code":"INVALID_LAST_EVENT_ID"}`))
	}, mandate.WithAPIToken("tok"))
	_, err := dispatch.Invoke(context.Background(), c, "streamEvents", dispatch.Call{
		Params:  []byte(`{"outcome":"failure"}`),
		Options: []mandate.RequestOption{mandate.WithLastEventID("evt_nope")},
	})
	var apiErr *mandate.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "INVALID_LAST_EVENT_ID" {
		t.Fatalf("err %v", err)
	}
}
