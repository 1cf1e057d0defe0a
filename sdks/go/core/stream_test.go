package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// thing is the data model of the test streams.
type thing struct {
	Name string `json:"name"`
}

var streamReq = &Request{Method: "GET", Path: "/v1/events/stream", Auth: []AuthMode{AuthBearer}, OrganizationHeader: true, Resumable: true}

// sseServer answers each connection with the next of its scripts (the last one repeats)
// and records every request's headers and query.
type sseServer struct {
	t       *testing.T
	scripts []func(w http.ResponseWriter, r *http.Request)

	mu       sync.Mutex
	requests []*http.Request
}

func (s *sseServer) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Clone(context.Background()))
	script := s.scripts[min(len(s.requests), len(s.scripts))-1]
	s.mu.Unlock()
	script(w, r)
}

func (s *sseServer) request(i int) *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.requests) {
		s.t.Fatalf("only %d connections, wanted connection %d", len(s.requests), i+1)
	}
	return s.requests[i]
}

func (s *sseServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// sends writes body as an event stream and ends the response.
func sends(body string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte(body))
	}
}

// sendsAndStays writes body, then keeps the connection open until the client leaves, and
// closes gone then.
func sendsAndStays(body string, gone chan struct{}) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte(body))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		if gone != nil {
			close(gone)
		}
	}
}

func refuses(status int, code string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) { problem(w, status, code) }
}

// drops closes the connection without an answer.
func drops(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) }

func openStream(t *testing.T, scripts []func(w http.ResponseWriter, r *http.Request), opts []RequestOption, clientOpts ...Option) (*Stream[thing], *sseServer, *sleeps, error) {
	t.Helper()
	srv := &sseServer{t: t, scripts: scripts}
	// A fresh connection each time: net/http silently retries a GET that fails on a reused
	// one, which would hide the dropped connections these tests count.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	c, s := testClient(t, srv.handle, append([]Option{WithAPIToken("tok"), WithHTTPClient(fresh)}, clientOpts...)...)
	stream, err := OpenStream[thing](context.Background(), c, streamReq, opts)
	if stream != nil {
		t.Cleanup(func() { _ = stream.Close() })
	}
	return stream, srv, s, err
}

// next reads one event, failing the test when there is none within 5 s.
func next(t *testing.T, stream *Stream[thing]) Event[thing] {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !stream.Next(ctx) {
		t.Fatalf("no event: %v", stream.Err())
	}
	return stream.Event()
}

func TestStreamParsesTheEventStreamFormat(t *testing.T) {
	body := "\uFEFF: a comment, then the reconnection delay\n" +
		"retry: 1500\n" +
		"id: 1\nevent: thing.created\ndata: {\"name\":\ndata: \"multi\"}\n\n" + // data lines join with \n
		"data:{\"name\":\"no space\"}\r\n\r\n" + // CRLF; keeps id 1; type "message"
		"id: 3\revent: thing.deleted\rdata:  {\"name\":\"cr\"}\r\r" + // lone CRs; one space stripped
		"id: 4\nevent: no.data\n\n" + // no data: not dispatched, but its id counts
		"retry: soon\nunknown: field\ndata\n\n" + // a bad retry and an unknown field are ignored; "data" alone is empty data
		"data: {\"name\":\"cut\"}\n" // unfinished when the connection ends: dropped
	stream, srv, s, err := openStream(t, []func(http.ResponseWriter, *http.Request){
		sends(body),
		sendsAndStays("id: 5\ndata: {\"name\":\"after\"}\n\n", nil),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event[thing]{
		{ID: "1", Event: "thing.created", Data: thing{Name: "multi"}, Raw: []byte("{\"name\":\n\"multi\"}")},
		{ID: "1", Event: "message", Data: thing{Name: "no space"}, Raw: []byte(`{"name":"no space"}`)},
		{ID: "3", Event: "thing.deleted", Data: thing{Name: "cr"}, Raw: []byte(` {"name":"cr"}`)},
		{ID: "4", Event: "message", Raw: []byte{}},
		{ID: "5", Event: "message", Data: thing{Name: "after"}, Raw: []byte(`{"name":"after"}`)},
	}
	for i, w := range want {
		if got := next(t, stream); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", w) {
			t.Fatalf("event %d:\n got %q\nwant %q", i, got, w)
		}
	}
	// The second connection resumed after the last id, after the server's retry delay.
	if got := srv.request(1).Header.Get("Last-Event-ID"); got != "4" {
		t.Fatalf("Last-Event-ID %q", got)
	}
	if got := s.all(); len(got) != 1 || got[0] != 1500*time.Millisecond {
		t.Fatalf("delays %v", got)
	}
	if stream.LastEventID() != "5" {
		t.Fatal(stream.LastEventID())
	}
}

func TestStreamSendsTheCallsHeaders(t *testing.T) {
	stream, srv, _, err := openStream(t, []func(http.ResponseWriter, *http.Request){sendsAndStays("", nil)},
		[]RequestOption{WithLastEventID("evt_9"), WithRequestHeader("X-Trace", "t1")},
		WithOrganization("org_1"))
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.Close()
	h := srv.request(0).Header
	for name, want := range map[string]string{
		"Accept":               "text/event-stream",
		"Authorization":        "Bearer tok",
		"Mandate-Organization": "org_1",
		"Last-Event-ID":        "evt_9",
		"X-Trace":              "t1",
		"User-Agent":           "mandate-go/test go/" + strings.TrimPrefix(runtime.Version(), "go"),
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func TestStreamYieldsOverflowAndResumes(t *testing.T) {
	stream, srv, _, err := openStream(t, []func(http.ResponseWriter, *http.Request){
		sends("id: evt_1\nevent: a.b\ndata: {\"name\":\"one\"}\n\nevent: overflow\ndata: {\"lastEventId\":\"evt_1\"}\n\n"),
		sendsAndStays("id: evt_2\nevent: a.b\ndata: {\"name\":\"two\"}\n\n", nil),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := next(t, stream); e.ID != "evt_1" || e.Data.Name != "one" {
		t.Fatalf("%+v", e)
	}
	if e := next(t, stream); e.Event != OverflowEvent || e.Data != (thing{}) || string(e.Raw) != `{"lastEventId":"evt_1"}` {
		t.Fatalf("%+v", e)
	}
	if e := next(t, stream); e.ID != "evt_2" || e.Data.Name != "two" {
		t.Fatalf("%+v", e)
	}
	if got := srv.request(1).Header.Get("Last-Event-ID"); got != "evt_1" {
		t.Fatalf("Last-Event-ID %q", got)
	}
}

func TestStreamRefusedAtConnectIsTheTypedError(t *testing.T) {
	for _, c := range []struct {
		status int
		code   string
	}{{400, "INVALID_LAST_EVENT_ID"}, {403, "INSUFFICIENT_SCOPE"}} {
		var res *http.Response
		stream, srv, _, err := openStream(t, []func(http.ResponseWriter, *http.Request){refuses(c.status, c.code)}, []RequestOption{WithResponseInto(&res)})
		var apiErr *Error
		if stream != nil || !asError(err, &apiErr) || apiErr.StatusCode != c.status || apiErr.Code != c.code || apiErr.RequestID != "req-"+c.code {
			t.Fatalf("%d: stream %v, err %v", c.status, stream, err)
		}
		if srv.count() != 1 || res == nil || res.StatusCode != c.status {
			t.Fatalf("%d: %d connections, response %v", c.status, srv.count(), res)
		}
	}
	// The same on a reconnection: Next stops and Err is the typed error.
	stream, _, _, err := openStream(t, []func(http.ResponseWriter, *http.Request){sends("data: {}\n\n"), refuses(403, "INSUFFICIENT_SCOPE")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	next(t, stream)
	if stream.Next(context.Background()) || !IsPermissionDenied(stream.Err()) || stream.Next(context.Background()) {
		t.Fatalf("err %v", stream.Err())
	}
}

func TestStreamRefreshesARefusedManagedTokenOnce(t *testing.T) {
	var mu sync.Mutex
	issued := 0
	var seen []string
	handler := func(always401 bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if r.URL.Path == "/oauth2/token" {
				issued++
				fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":3600}`, issued)
				return
			}
			seen = append(seen, r.Header.Get("Authorization"))
			if always401 || r.Header.Get("Authorization") == "Bearer at-1" {
				problem(w, 401, "INVALID_TOKEN")
				return
			}
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write([]byte("data: {\"name\":\"ok\"}\n\n"))
		}
	}
	observed := func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprintf("%d tokens, %v", issued, seen)
	}
	c, _ := testClient(t, handler(false), WithClientCredentials("agt_1", "s3cret"))
	stream, err := OpenStream[thing](context.Background(), c, streamReq, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if e := next(t, stream); e.Data.Name != "ok" || observed() != "2 tokens, [Bearer at-1 Bearer at-2]" {
		t.Fatalf("%+v, %s", e, observed())
	}

	mu.Lock()
	issued, seen = 0, nil
	mu.Unlock()
	c, _ = testClient(t, handler(true), WithClientCredentials("agt_1", "s3cret"))
	_, err = OpenStream[thing](context.Background(), c, streamReq, nil)
	if !IsAuthentication(err) || observed() != "2 tokens, [Bearer at-1 Bearer at-2]" {
		t.Fatalf("err %v, %s", err, observed())
	}
}

func TestStreamCloseEndsIterationAndTheConnection(t *testing.T) {
	gone := make(chan struct{})
	stream, srv, _, err := openStream(t, []func(http.ResponseWriter, *http.Request){sendsAndStays("data: {}\n\n", gone)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	next(t, stream)
	// Close from another goroutine while Next waits.
	done := make(chan bool)
	go func() { done <- stream.Next(context.Background()) }()
	time.Sleep(20 * time.Millisecond)
	_ = stream.Close()
	select {
	case more := <-done:
		if more || stream.Err() != nil {
			t.Fatalf("Next %v after Close, err %v", more, stream.Err())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next still waits after Close")
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection is still open after Close")
	}
	if stream.Next(context.Background()) || srv.count() != 1 || stream.Close() != nil {
		t.Fatal("the stream went on after Close")
	}
}

func TestStreamEndsWithNextsContext(t *testing.T) {
	gone := make(chan struct{})
	stream, _, _, err := openStream(t, []func(http.ResponseWriter, *http.Request){sendsAndStays("", gone)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if stream.Next(ctx) || !errors.Is(stream.Err(), context.DeadlineExceeded) {
		t.Fatalf("err %v", stream.Err())
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection is still open")
	}
}

func TestStreamRetriesFailuresUpToMaxRetriesInARow(t *testing.T) {
	ok := sends("data: {}\n\n")
	failing := refuses(503, "UNAVAILABLE")
	// Two failures in a row are within WithMaxRetries(2); each success resets the count.
	stream, srv, s, err := openStream(t, []func(http.ResponseWriter, *http.Request){
		failing, drops, ok, drops, failing, ok, failing, drops, failing,
	}, nil, WithMaxRetries(2))
	if err != nil {
		t.Fatal(err)
	}
	next(t, stream)
	next(t, stream)
	if stream.Next(context.Background()) || !IsInternalServer(stream.Err()) || srv.count() != 9 {
		t.Fatalf("err %v after %d connections", stream.Err(), srv.count())
	}
	// The delay doubles from the retry delay with each failure in a row; after a stream that
	// ended, the next connection waits the retry delay.
	want := "[3s 6s 3s 3s 6s 3s 3s 6s]"
	if got := fmt.Sprint(s.all()); got != want {
		t.Fatalf("delays %s, want %s", got, want)
	}

	// Connection failures count the same; the opening call reports the last one.
	_, srv, _, err = openStream(t, []func(http.ResponseWriter, *http.Request){drops}, nil, WithMaxRetries(1))
	if !IsConnectionError(err) || srv.count() != 2 {
		t.Fatalf("err %v after %d connections", err, srv.count())
	}
}

func TestStreamReplacesASilentConnection(t *testing.T) {
	stream, srv, _, err := openStream(t, []func(http.ResponseWriter, *http.Request){
		sendsAndStays("id: 1\ndata: {}\n\n", nil),
		sendsAndStays("id: 2\ndata: {}\n\n", nil),
	}, nil, func(c *Config) { c.streamIdle = 50 * time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	if next(t, stream).ID != "1" || next(t, stream).ID != "2" {
		t.Fatal("ids")
	}
	if got := srv.request(1).Header.Get("Last-Event-ID"); got != "1" {
		t.Fatalf("Last-Event-ID %q", got)
	}
}

func TestStreamRefusesAnswersThatAreNotEventStreams(t *testing.T) {
	_, srv, _, err := openStream(t, []func(http.ResponseWriter, *http.Request){func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<p>a proxy</p>"))
	}}, nil, WithMaxRetries(3))
	if err == nil || !strings.Contains(err.Error(), "not text/event-stream") || srv.count() != 1 {
		t.Fatalf("err %v after %d connections", err, srv.count())
	}
}

func TestStreamFailsOnDataThatDoesNotDecode(t *testing.T) {
	stream, _, _, err := openStream(t, []func(http.ResponseWriter, *http.Request){sends("id: 7\ndata: {\"name\":42}\n\n")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stream.Next(context.Background()) || stream.Err() == nil || !strings.Contains(stream.Err().Error(), `decoding event "7"`) {
		t.Fatalf("err %v", stream.Err())
	}
}

func TestSSELinesSplitsOnEveryLineEnd(t *testing.T) {
	split := sseLines()
	var lines []string
	// A \r at the end of one read and the \n at the start of the next are one line end.
	for _, chunk := range []string{"a\r", "\nb\n", "c\r\n", "\r", "d"} {
		data := []byte(chunk)
		for len(data) > 0 {
			advance, token, err := split(data, false)
			if err != nil || advance == 0 {
				break
			}
			if token != nil {
				lines = append(lines, string(token))
			}
			data = data[advance:]
		}
	}
	if fmt.Sprintf("%q", lines) != `["a" "b" "c" ""]` {
		t.Fatalf("%q", lines)
	}
}

func TestStreamConnectTimesOut(t *testing.T) {
	_, srv, _, err := openStream(t, []func(http.ResponseWriter, *http.Request){func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}}, []RequestOption{WithRequestTimeout(30 * time.Millisecond), WithRequestMaxRetries(1)})
	if !IsTimeout(err) || srv.count() != 2 {
		t.Fatalf("err %v after %d connections", err, srv.count())
	}
}
