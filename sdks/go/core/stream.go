package core

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OverflowEvent is the Event of the last message a server sends before it drops a
// subscriber that fell behind. Its data names the last event delivered, not a model, so
// its Data is left zero; the stream yields it, then reconnects and resumes.
const OverflowEvent = "overflow"

const (
	// defaultStreamRetry is the reconnection delay until the server advises one with retry:.
	defaultStreamRetry = 3 * time.Second
	// maxStreamBackoff caps the delay after consecutive failures (unless retry: asks more).
	maxStreamBackoff = 60 * time.Second
	// streamIdleTimeout: the server sends a heartbeat every 15 s, so a connection silent
	// for three of them is dead (a peer gone without closing) and is replaced.
	streamIdleTimeout = 45 * time.Second
	// maxStreamLine bounds one line (an event's data line), so a broken server cannot make
	// the reader buffer without end.
	maxStreamLine = 4 << 20
)

// errStreamClosed is the cause of a stream's context once Close was called.
var errStreamClosed = errors.New("mandate: event stream closed")

// Event is one message of an event stream.
type Event[T any] struct {
	// ID is the message's id, the one the stream resumes after (for Mandate, the event id).
	ID string
	// Event is the message's type: the audit action (e.g. agent.created), or OverflowEvent.
	Event string
	// Data is the message's data decoded as T; zero for an OverflowEvent or empty data.
	Data T
	// Raw is the data as sent (JSON).
	Raw json.RawMessage
}

// Stream reads a Server-Sent Events stream of T and keeps it going: when the server ends
// it or the connection drops (or stays silent for 45 s, three missed heartbeats), it
// reconnects after the server's retry: delay (3 s until the server names one) and resumes
// with Last-Event-ID after the last event received. Use it as
//
//	defer stream.Close()
//	for stream.Next(ctx) {
//		use(stream.Event())
//	}
//	if err := stream.Err(); err != nil { … }
//
// Failed connection attempts (no answer, 408, 409, 429, 5xx) are retried after a delay
// that doubles with each, with jitter; once MaxRetries retries in a row have failed too,
// the stream ends with the last error. Any other refusal (400, 403, …) ends it with its
// *Error; a 401 on a managed access token refreshes the token and tries once more. A
// successful connection resets the count.
//
// Next, Event, Err and LastEventID belong to one goroutine; Close may be called from any.
type Stream[T any] struct {
	client     *Client
	req        *Request
	rc         requestConfig
	target     string
	cred       credential
	maxRetries int
	timeout    time.Duration
	idle       time.Duration

	// ctx is the stream's lifetime: the opening call's context, also cancelled by Close
	// (cause errStreamClosed), by a Next whose context ends, and when the stream fails.
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu   sync.Mutex // guards conn against Close from another goroutine
	conn *streamConn

	lastID string
	retry  time.Duration
	event  Event[T]
	err    error
	done   bool
}

// streamConn is one open connection and its parser state (WHATWG HTML, "Server-sent
// events": the data and event type buffers start empty on every connection).
type streamConn struct {
	body   io.ReadCloser
	lines  *bufio.Scanner
	cancel context.CancelFunc
	// timer cancels the connection: first when its answer is too slow, then when it is
	// silent for too long.
	timer     *time.Timer
	started   bool
	data      strings.Builder
	eventType string
	id        string
}

func (conn *streamConn) close() {
	conn.timer.Stop()
	conn.cancel()
	_ = conn.body.Close()
}

// OpenStream is used by the generated event-stream methods: it connects (retrying as the
// Stream does) and returns the stream, or the error that refused it. ctx bounds the whole
// stream, not only the connection.
func OpenStream[T any](ctx context.Context, c *Client, req *Request, opts []RequestOption) (*Stream[T], error) {
	if c.cfg.err != nil {
		return nil, c.cfg.err
	}
	rc := newRequestConfig(opts)
	maxRetries, timeout := c.limits(&rc)
	s := &Stream[T]{
		client:     c,
		req:        req,
		rc:         rc,
		target:     c.target(req),
		cred:       c.credentialFor(req.Auth),
		maxRetries: maxRetries,
		timeout:    timeout,
		idle:       c.cfg.streamIdle,
		retry:      defaultStreamRetry,
	}
	if s.idle <= 0 {
		s.idle = streamIdleTimeout
	}
	if req.Resumable {
		// A Last-Event-ID header given as such counts as the starting point too; the stream
		// sends its own on every connection, so a fixed one never replays old events.
		s.lastID = rc.lastEventID
		if s.lastID == "" {
			s.lastID = rc.headers.Get("Last-Event-ID")
		}
	}
	s.rc.headers.Del("Last-Event-ID")
	s.ctx, s.cancel = context.WithCancelCause(ctx)
	if err := s.connect(0); err != nil {
		s.finish(err)
		return nil, s.err
	}
	return s, nil
}

// Next waits for the next event, reconnecting as needed; false once the stream is closed,
// ctx or the opening call's context has ended, or the stream failed (see Err). When ctx
// ends, the stream ends with it.
func (s *Stream[T]) Next(ctx context.Context) bool {
	if s.done {
		return false
	}
	if ctx.Err() != nil {
		s.cancel(context.Cause(ctx))
	}
	stop := context.AfterFunc(ctx, func() { s.cancel(context.Cause(ctx)) })
	defer stop()
	for {
		if s.ctx.Err() != nil {
			s.finish(nil)
			return false
		}
		if s.current() == nil {
			if err := s.connect(s.retry); err != nil {
				s.finish(err)
				return false
			}
		}
		ok, err := s.read()
		if err != nil {
			s.finish(err)
			return false
		}
		if ok {
			return true
		}
		s.disconnect()
		if s.ctx.Err() == nil {
			s.client.log(s.ctx, "mandate: event stream ended, reconnecting", slog.String("url", redactURL(s.target)), slog.Duration("delay", s.retry))
		}
	}
}

// Event is the event Next moved to.
func (s *Stream[T]) Event() Event[T] { return s.event }

// LastEventID is the id of the last event received (or the one the stream started after):
// keep it to resume later with WithLastEventID.
func (s *Stream[T]) LastEventID() string { return s.lastID }

// Err is the error that ended the stream: nil after Close, the context's error when a
// context ended it, else the *Error, connection or decoding error it failed with.
func (s *Stream[T]) Err() error { return s.err }

// Close ends the stream and its connection; a Next waiting in another goroutine returns
// false. It is safe to call more than once and always returns nil.
func (s *Stream[T]) Close() error {
	s.cancel(errStreamClosed)
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn != nil {
		conn.close()
	}
	return nil
}

func (s *Stream[T]) current() *streamConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

func (s *Stream[T]) disconnect() {
	s.mu.Lock()
	conn := s.conn
	s.conn = nil
	s.mu.Unlock()
	if conn != nil {
		conn.close()
	}
}

// finish ends the stream. Once its context has ended, that is the reason, whatever error
// it caused on the way.
func (s *Stream[T]) finish(err error) {
	s.done = true
	if cause := context.Cause(s.ctx); s.ctx.Err() != nil {
		err = nil
		if !errors.Is(cause, errStreamClosed) {
			err = fmt.Errorf("mandate: GET %s: %w", redactURL(s.target), cause)
		}
	}
	s.err = err
	s.cancel(errStreamClosed)
	s.disconnect()
	s.event = Event[T]{}
}

// connect opens a connection after waiting wait, retrying failed attempts.
func (s *Stream[T]) connect(wait time.Duration) error {
	failures := 0
	refreshed := false
	for {
		if wait > 0 {
			if err := s.client.cfg.sleep(s.ctx, wait); err != nil {
				return err
			}
		}
		usedToken, err := s.open(failures)
		if err == nil {
			return nil
		}
		var apiErr *Error
		var notStream *notAStreamError
		isAPIErr := errors.As(err, &apiErr)
		switch {
		case s.ctx.Err() != nil, errors.As(err, &notStream):
			return err
		case isAPIErr && apiErr.StatusCode == http.StatusUnauthorized && s.cred == credManagedToken && !refreshed:
			// As for any call: a refused managed token is refreshed once.
			refreshed = true
			s.client.tokens.invalidate(usedToken)
			s.client.log(s.ctx, "mandate: access token refused, refreshing it and reconnecting", slog.String("url", redactURL(s.target)))
			wait = 0
			continue
		case isAPIErr && !retryableStatus(apiErr.StatusCode):
			return err
		}
		failures++
		if failures > s.maxRetries {
			return err
		}
		var header http.Header
		if isAPIErr {
			header = apiErr.Header
		}
		wait = s.backoff(failures, header)
		s.client.log(s.ctx, "mandate: event stream connection failed, retrying", slog.Int("attempt", failures), slog.String("error", err.Error()), slog.Duration("delay", wait))
	}
}

// backoff is the wait after failures consecutive failed attempts: the retry delay doubled
// for each but the first, at most a minute, less up to 25 % jitter; or what the answer's
// Retry-After asks, as for any call.
func (s *Stream[T]) backoff(failures int, header http.Header) time.Duration {
	if d, ok := retryAfter(header, s.client.cfg.now()); ok {
		return d
	}
	limit := max(maxStreamBackoff, s.retry)
	delay := time.Duration(float64(s.retry) * math.Pow(2, float64(failures-1)))
	if delay > limit || delay < 0 {
		delay = limit
	}
	return time.Duration(float64(delay) * (1 - 0.25*s.client.cfg.jitter()))
}

// open makes one connection attempt. It returns the managed token it sent, if any, so that
// a 401 can invalidate it.
func (s *Stream[T]) open(attempt int) (string, error) {
	header := s.client.headers(s.req, &s.rc, "", "")
	header.Set("Accept", "text/event-stream")
	header.Set("Cache-Control", "no-cache")
	if s.lastID != "" && s.req.Resumable {
		header.Set("Last-Event-ID", s.lastID)
	}
	usedToken, err := s.client.authorize(s.ctx, header, s.cred, http.MethodGet, s.target)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithCancel(s.ctx)
	timer := time.AfterFunc(s.timeout, cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.target, nil)
	if err != nil {
		timer.Stop()
		cancel()
		return usedToken, err
	}
	req.Header = header
	start := s.client.cfg.now()
	res, err := s.client.cfg.HTTPClient.Do(req)
	elapsed := s.client.cfg.now().Sub(start)
	if !timer.Stop() {
		// The timer cancelled the attempt (an answer that came just then has its body
		// cancelled already): the attempt timed out.
		if err == nil {
			_ = res.Body.Close()
		}
		err = context.DeadlineExceeded
	}
	if err != nil {
		cancel()
		err = s.client.transportError(s.ctx, http.MethodGet, s.target, err)
		s.client.logAttempt(s.ctx, http.MethodGet, s.target, attempt, nil, elapsed, err)
		return usedToken, err
	}
	s.client.logAttempt(s.ctx, http.MethodGet, s.target, attempt, res, elapsed, nil)
	s.client.nonces.observe(s.target, res.Header)

	if res.StatusCode < 200 || res.StatusCode > 299 {
		body, readErr := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		_ = res.Body.Close()
		cancel()
		if readErr != nil {
			return usedToken, s.client.transportError(s.ctx, http.MethodGet, s.target, readErr)
		}
		if s.rc.responseInto != nil {
			*s.rc.responseInto = replayable(res, body)
		}
		return usedToken, newError(http.MethodGet, redactURL(s.target), res, body)
	}
	if media, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); media != "text/event-stream" {
		_ = res.Body.Close()
		cancel()
		return usedToken, &notAStreamError{url: redactURL(s.target), contentType: res.Header.Get("Content-Type")}
	}
	if s.rc.responseInto != nil {
		*s.rc.responseInto = replayable(res, nil)
	}
	lines := bufio.NewScanner(res.Body)
	lines.Buffer(make([]byte, 0, 4096), maxStreamLine)
	lines.Split(sseLines())
	conn := &streamConn{body: res.Body, lines: lines, cancel: cancel, timer: timer, id: s.lastID}
	timer.Reset(s.idle)
	s.mu.Lock()
	s.conn = conn
	s.mu.Unlock()
	if s.ctx.Err() != nil {
		// Close ran before the connection was in place to close.
		s.disconnect()
	}
	return usedToken, nil
}

// notAStreamError is a success answer that is not an event stream (a proxy's page, a
// wrong base URL): reconnecting would only get it again.
type notAStreamError struct{ url, contentType string }

func (e *notAStreamError) Error() string {
	return fmt.Sprintf("mandate: GET %s: the answer is %q, not text/event-stream", e.url, e.contentType)
}

// read parses lines until a message with data is complete (true), or the connection ends
// (false, nil; the message being received is dropped, as the format requires).
func (s *Stream[T]) read() (bool, error) {
	conn := s.current()
	if conn == nil {
		return false, nil
	}
	for conn.lines.Scan() {
		conn.timer.Reset(s.idle)
		line := conn.lines.Text()
		if !conn.started {
			conn.started = true
			line = strings.TrimPrefix(line, "\uFEFF") // a byte order mark may open the stream
		}
		if line == "" {
			if ok, err := s.dispatch(conn); ok || err != nil {
				return ok, err
			}
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // a comment: the heartbeat
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			conn.eventType = value
		case "data":
			conn.data.WriteString(value)
			conn.data.WriteByte('\n')
		case "id":
			if !strings.ContainsRune(value, 0) {
				conn.id = value
			}
		case "retry":
			if ms, err := strconv.ParseUint(value, 10, 32); err == nil { // ASCII digits only
				s.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if errors.Is(conn.lines.Err(), bufio.ErrTooLong) {
		return false, fmt.Errorf("mandate: GET %s: an event stream line is longer than %d bytes", redactURL(s.target), maxStreamLine)
	}
	return false, nil
}

// dispatch completes the message a blank line ends; false for one without data.
func (s *Stream[T]) dispatch(conn *streamConn) (bool, error) {
	s.lastID = conn.id
	data := strings.TrimSuffix(conn.data.String(), "\n")
	hasData := conn.data.Len() > 0
	eventType := conn.eventType
	conn.data.Reset()
	conn.eventType = ""
	if !hasData {
		return false, nil
	}
	if eventType == "" {
		eventType = "message"
	}
	event := Event[T]{ID: conn.id, Event: eventType, Raw: json.RawMessage(data)}
	switch {
	case eventType == OverflowEvent:
		s.client.log(s.ctx, "mandate: event stream overflow: the server dropped this subscriber; it resumes on reconnection", slog.String("url", redactURL(s.target)))
	case data != "":
		if err := json.Unmarshal([]byte(data), &event.Data); err != nil {
			return false, fmt.Errorf("mandate: GET %s: decoding event %q: %w", redactURL(s.target), conn.id, err)
		}
	}
	s.event = event
	return true, nil
}

// sseLines splits on the format's three line ends: \r\n, \n and a lone \r. A line ending
// in \r is returned at once (a live stream may pause right after it), and a \n that then
// starts the next read is skipped as the rest of that \r\n.
func sseLines() bufio.SplitFunc {
	afterCR := false
	return func(data []byte, atEOF bool) (int, []byte, error) {
		if afterCR && len(data) > 0 {
			afterCR = false
			if data[0] == '\n' {
				return 1, nil, nil
			}
		}
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			// At the end, an unfinished line belongs to a message that is dropped anyway.
			if atEOF && len(data) > 0 {
				return len(data), nil, nil
			}
			return 0, nil, nil
		}
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		if i+1 < len(data) {
			if data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
			return i + 1, data[:i], nil
		}
		afterCR = true
		return i + 1, data[:i], nil
	}
}
