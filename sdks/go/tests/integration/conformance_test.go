package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mandate-dev/mandate/sdks/go/internal/dispatch"
	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// The conformance runner: every scenario of conformance/scenarios, in file-name order,
// through the typed SDK (see conformance/README.md, "For SDK runners"). Each step is a
// subtest; httpOnly steps are skipped subtests.
//
// The steps share the process environment (a step's `environment` is set while its client
// is built), so neither TestConformance nor its subtests may run in parallel with another
// test; t.Setenv below makes a parallel TestConformance panic.

type scenario struct {
	ID    string `yaml:"id"`
	Steps []step `yaml:"steps"`
}

type step struct {
	Name      string            `yaml:"name"`
	Operation string            `yaml:"operation"`
	Auth      string            `yaml:"auth"`
	HTTPOnly  bool              `yaml:"httpOnly"`
	Path      map[string]any    `yaml:"path"`
	Query     map[string]any    `yaml:"query"`
	Headers   map[string]any    `yaml:"headers"`
	Env       map[string]any    `yaml:"environment"`
	Body      any               `yaml:"body"`
	Form      map[string]any    `yaml:"form"`
	Stream    *streamRead       `yaml:"stream"`
	Eventual  *eventually       `yaml:"eventually"`
	Expect    expectation       `yaml:"expect"`
	Capture   map[string]string `yaml:"capture"`
}

// streamRead is a step that reads the first Count events of an event stream.
type streamRead struct {
	Count int `yaml:"count"`
}

// eventually marks a step whose answer comes true later (background work such as a webhook
// delivery): it is repeated until its expect holds, for at most Seconds.
type eventually struct {
	Seconds float64 `yaml:"seconds"`
}

// retryEvery is how long the runner waits between two tries of an eventually step.
const retryEvery = 200 * time.Millisecond

type expectation struct {
	Status  int            `yaml:"status"`
	Code    string         `yaml:"code"`
	Error   string         `yaml:"error"`
	Fields  map[string]any `yaml:"fields"`
	Headers map[string]any `yaml:"headers"`
}

// outcome is what a step observed: status, headers, the wire JSON body and the typed
// error's code.
type outcome struct {
	status int
	header http.Header
	body   any
	code   string
}

func TestConformance(t *testing.T) {
	srv := liveServer(t)
	clearMandateEnvironment(t)
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "conformance", "scenarios", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios found: %v", err)
	}
	sort.Strings(files)

	runID := make([]byte, 6)
	_, _ = rand.Read(runID)
	vars := map[string]any{"instanceAdminToken": srv.Token, "runId": hex.EncodeToString(runID)}
	passed, failed, skipped := 0, 0, 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var sc scenario
		if err := yaml.Unmarshal(raw, &sc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for i, st := range sc.Steps {
			label := fmt.Sprintf("%s step %d (%s) [%s expect %d]", sc.ID, i+1, st.Name, st.Operation, st.Expect.Status)
			t.Run(fmt.Sprintf("%s/%02d_%s", sc.ID, i+1, st.Operation), func(t *testing.T) {
				if st.HTTPOnly {
					skipped++
					t.Skip("httpOnly: a wire-level step the typed SDK cannot express")
				}
				failures := runStep(srv, st, vars)
				if len(failures) == 0 {
					passed++
					return
				}
				failed++
				for _, f := range failures {
					fmt.Printf("FAIL %s: %s\n", label, f)
					t.Error(f)
				}
			})
		}
	}
	fmt.Printf("conformance: %d skipped (httpOnly)\n", skipped)
	fmt.Printf("conformance: %d passed, %d failed\n", passed, failed)
	if passed == 0 {
		t.Fatal("no conformance step passed")
	}
}

// runStep runs a step once or, for an eventually step, again with a fresh call every
// retryEvery until its expect holds or its time is up. The last answer is the one reported
// and the one captures are taken from.
func runStep(srv *server, st step, vars map[string]any) []string {
	got, failures := tryStep(srv, st, vars)
	if st.Eventual != nil {
		deadline := time.Now().Add(time.Duration(st.Eventual.Seconds * float64(time.Second)))
		tries := 1
		for len(failures) > 0 && time.Now().Add(retryEvery).Before(deadline) {
			time.Sleep(retryEvery)
			got, failures = tryStep(srv, st, vars)
			tries++
		}
		if len(failures) > 0 {
			failures = append(failures, fmt.Sprintf("eventually: still failing after %d tries in %g s", tries, st.Eventual.Seconds))
		}
	}
	if got == nil {
		return failures
	}
	for name, ptr := range st.Capture {
		if value, ok := pointer(got.body, ptr); ok {
			vars[name] = value
		} else {
			failures = append(failures, fmt.Sprintf("capture %s <- %s: not in the response", name, ptr))
		}
	}
	return failures
}

// tryStep makes the step's call once and checks the answer against its expect; got is nil
// when there was no answer to check.
func tryStep(srv *server, st step, vars map[string]any) (got *outcome, failures []string) {
	defer func() {
		if r := recover(); r != nil {
			got, failures = nil, append(failures, fmt.Sprint(r))
		}
	}()
	clientOpts := []mandate.Option{mandate.WithBaseURL(srv.BaseURL), mandate.WithMaxRetries(0), mandate.WithTimeout(15 * time.Second)}
	clientOpts = append(clientOpts, authOptions(st.Auth, vars)...)
	var call dispatch.Call
	call.Path = map[string]string{}
	for name, value := range interpolate(anyMap(st.Path), vars).(map[string]any) {
		call.Path[name] = text(value)
	}
	for name, value := range interpolate(anyMap(st.Headers), vars).(map[string]any) {
		switch {
		case value == nil:
		case strings.EqualFold(name, "Authorization"):
			clientOpts = append(clientOpts, mandate.WithAPIToken(strings.TrimPrefix(text(value), "Bearer ")))
		case strings.EqualFold(name, "Mandate-Organization"):
			call.Options = append(call.Options, mandate.WithRequestOrganization(text(value)))
		case strings.EqualFold(name, "Idempotency-Key"):
			call.Options = append(call.Options, mandate.WithIdempotencyKey(text(value)))
		case strings.EqualFold(name, "Last-Event-ID"):
			call.Options = append(call.Options, mandate.WithLastEventID(text(value)))
		default:
			call.Options = append(call.Options, mandate.WithRequestHeader(name, text(value)))
		}
	}
	var params any
	switch {
	case st.Body != nil:
		params = st.Body
	case st.Query != nil:
		params = st.Query
	case st.Form != nil:
		params = st.Form
	}
	if params != nil {
		encoded, err := json.Marshal(interpolate(params, vars))
		if err != nil {
			return nil, []string{err.Error()}
		}
		call.Params = encoded
	}
	var res *http.Response
	call.Options = append(call.Options, mandate.WithResponseInto(&res))

	env := map[string]string{}
	for name, value := range interpolate(anyMap(st.Env), vars).(map[string]any) {
		if !strings.HasPrefix(name, "MANDATE_") {
			return nil, []string{"environment: " + name + " is not a MANDATE_* variable"}
		}
		env[name] = text(value)
	}
	client := newClientIn(env, clientOpts)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	result, err := dispatch.Invoke(ctx, client, st.Operation, call)
	if st.Stream != nil && err == nil {
		result, err = readStream(result, st.Stream.Count)
	}
	answer, err := observe(result, err, res)
	if err != nil {
		return nil, []string{err.Error()}
	}
	return &answer, check(st.Expect, answer, vars)
}

// readStream reads the first count events of a stream step's result (10 s at most), closes
// the stream, and returns the wire body the scenario matches: [{"id", "event", "data"}].
func readStream(result any, count int) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events, err := dispatch.ReadStream(ctx, result, count)
	if len(events) < count {
		return nil, fmt.Errorf("stream: %d of %d events within 10 s (%v)", len(events), count, err)
	}
	return events, nil
}

// clearMandateEnvironment removes every MANDATE_* variable for the rest of the test (the
// runner configures each client itself) and puts them back afterwards. t.Setenv registers
// the restore, and panics in a parallel test; MANDATE_BASE_URL is always among the names so
// that guard holds even when no MANDATE_* variable is set.
func clearMandateEnvironment(t *testing.T) {
	names := []string{"MANDATE_BASE_URL"}
	for _, entry := range os.Environ() {
		if name, _, _ := strings.Cut(entry, "="); strings.HasPrefix(name, "MANDATE_") {
			names = append(names, name)
		}
	}
	for _, name := range names {
		t.Setenv(name, "")
		_ = os.Unsetenv(name)
	}
}

// newClientIn builds a client while the MANDATE_* environment is exactly env, then leaves it
// clean again. The SDK reads the environment only in NewClient, and the runner builds a new
// client for every step (no cache that could outlive the step's environment).
func newClientIn(env map[string]string, opts []mandate.Option) *mandate.Client {
	for name, value := range env {
		_ = os.Setenv(name, value)
	}
	defer func() {
		for name := range env {
			_ = os.Unsetenv(name)
		}
	}()
	return mandate.NewClient(opts...)
}

// authOptions maps a step's auth to client configuration.
func authOptions(auth string, vars map[string]any) []mandate.Option {
	switch {
	case auth == "" || auth == "none":
		return nil
	case auth == "instanceAdmin":
		return []mandate.Option{mandate.WithAPIToken(text(lookup("instanceAdminToken", vars)))}
	case auth == "orgAdmin":
		return []mandate.Option{mandate.WithAPIToken(text(lookup("orgAdminToken", vars)))}
	case auth == "orgReader":
		return []mandate.Option{mandate.WithAPIToken(text(lookup("orgReaderToken", vars)))}
	case strings.HasPrefix(auth, "bearer:"):
		return []mandate.Option{mandate.WithAPIToken(text(lookup(strings.TrimPrefix(auth, "bearer:"), vars)))}
	case strings.HasPrefix(auth, "agent:"):
		name := strings.TrimPrefix(auth, "agent:")
		return []mandate.Option{mandate.WithClientCredentials(text(lookup(name+".clientId", vars)), text(lookup(name+".secret", vars)))}
	case strings.HasPrefix(auth, "basic:"):
		id, secret, _ := strings.Cut(text(interpolate(strings.TrimPrefix(auth, "basic:"), vars)), ":")
		return []mandate.Option{mandate.WithClientCredentials(id, secret)}
	}
	panic("unknown auth " + auth)
}

// observe turns the SDK's answer into status, headers and the wire JSON of the typed result
// (serialized back, extra fields included) or of the typed error's body.
func observe(result any, err error, res *http.Response) (outcome, error) {
	if err != nil {
		var apiErr *mandate.Error
		if !errors.As(err, &apiErr) {
			return outcome{}, fmt.Errorf("no HTTP answer: %w", err)
		}
		return outcome{status: apiErr.StatusCode, header: apiErr.Header, body: apiErr.Body, code: apiErr.Code}, nil
	}
	if res == nil {
		return outcome{}, errors.New("WithResponseInto recorded no response")
	}
	got := outcome{status: res.StatusCode, header: res.Header}
	var typed any
	switch v := result.(type) {
	case nil, string:
		return got, nil
	case interface{ Envelope() any }:
		typed = v.Envelope()
	default:
		typed = v
	}
	wire, err := json.Marshal(typed)
	if err != nil {
		return outcome{}, fmt.Errorf("serializing the typed result: %w", err)
	}
	if err := json.Unmarshal(wire, &got.body); err != nil {
		return outcome{}, err
	}
	return got, nil
}

func check(want expectation, got outcome, vars map[string]any) []string {
	var failures []string
	if got.status != want.Status {
		failures = append(failures, fmt.Sprintf("status: expected %d, got %d (%s)", want.Status, got.status, short(got.body)))
	}
	for _, code := range []string{want.Code, want.Error} {
		if code != "" && got.code != code {
			failures = append(failures, fmt.Sprintf("code: expected %s, got %q", code, got.code))
		}
	}
	for _, ptr := range sortedKeys(want.Fields) {
		value, found := pointer(got.body, ptr)
		if msg := match(normalize(interpolate(want.Fields[ptr], vars)), value, found); msg != "" {
			failures = append(failures, fmt.Sprintf("field %s: %s", ptr, msg))
		}
	}
	for _, name := range sortedKeys(want.Headers) {
		values := got.header.Values(name)
		var value any = strings.Join(values, ", ")
		if msg := match(normalize(interpolate(want.Headers[name], vars)), value, len(values) > 0); msg != "" {
			failures = append(failures, fmt.Sprintf("header %s: %s", name, msg))
		}
	}
	return failures
}

func short(body any) string {
	encoded, _ := json.Marshal(body)
	if len(encoded) > 300 {
		return string(encoded[:300]) + "…"
	}
	return string(encoded)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

func anyMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func text(value any) string {
	if s, ok := value.(string); ok {
		return s
	}
	encoded, _ := json.Marshal(value)
	return string(encoded)
}
