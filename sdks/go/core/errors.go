package core

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// ErrorKind is the status family of an API error, as the contract names them.
type ErrorKind string

const (
	KindBadRequest       ErrorKind = "bad_request"       // 400, 413, 415, 422
	KindAuthentication   ErrorKind = "authentication"    // 401, or a federated token unread or refused
	KindPermissionDenied ErrorKind = "permission_denied" // 403
	KindNotFound         ErrorKind = "not_found"         // 404
	KindConflict         ErrorKind = "conflict"          // 409
	KindRateLimit        ErrorKind = "rate_limit"        // 429
	KindInternalServer   ErrorKind = "internal_server"   // 5xx
	KindAPI              ErrorKind = "api"               // any other status
)

// KindOf maps an HTTP status to its family.
func KindOf(status int) ErrorKind {
	switch {
	case status == 400 || status == 413 || status == 415 || status == 422:
		return KindBadRequest
	case status == 401:
		return KindAuthentication
	case status == 403:
		return KindPermissionDenied
	case status == 404:
		return KindNotFound
	case status == 409:
		return KindConflict
	case status == 429:
		return KindRateLimit
	case status >= 500 && status <= 599:
		return KindInternalServer
	default:
		return KindAPI
	}
}

// Error is a response the server answered with a non-success status. Use errors.As to get
// it, or the Is* helpers to test its family. A workload's token request that could not be
// made (its federated token file unreadable or empty, its token source failing) is an Error
// too, of Kind KindAuthentication with no status, whose Err is the cause.
type Error struct {
	Kind       ErrorKind
	StatusCode int
	// Code is the problem document's `code` (e.g. AGENT_NOT_FOUND) or the OAuth `error`
	// (e.g. invalid_client); empty when the body had neither.
	Code string
	// Message is the problem's detail or title, or the OAuth error_description.
	Message   string
	RequestID string
	Header    http.Header
	// Body is the parsed JSON body (nil when it was not JSON); RawBody is the body as sent.
	Body    any
	RawBody []byte
	Method  string
	URL     string
	// Err is why a request was not sent (see above); nil for an answer of the server.
	Err error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("mandate: %s %s:", e.Method, e.URL)
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(" %d", e.StatusCode)
	}
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" && (e.StatusCode != 0 || e.Code != "") {
		msg += ":"
	}
	if e.Message != "" {
		msg += " " + e.Message
	}
	if e.RequestID != "" {
		msg += " (request " + e.RequestID + ")"
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// newError builds an Error from a response; body is the raw response body.
func newError(method, url string, res *http.Response, body []byte) *Error {
	e := &Error{
		Kind:       KindOf(res.StatusCode),
		StatusCode: res.StatusCode,
		RequestID:  res.Header.Get("X-Request-Id"),
		Header:     res.Header,
		RawBody:    body,
		Method:     method,
		URL:        url,
	}
	var parsed any
	if len(body) > 0 && json.Unmarshal(body, &parsed) == nil {
		e.Body = parsed
	}
	if doc, ok := parsed.(map[string]any); ok {
		e.Code = firstString(doc, "code", "error")
		e.Message = firstString(doc, "detail", "error_description", "title")
	}
	if e.Message == "" {
		e.Message = http.StatusText(res.StatusCode)
	}
	return e
}

func firstString(doc map[string]any, keys ...string) string {
	for _, key := range keys {
		if s, ok := doc[key].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// ConnectionError is a request that got no HTTP response (refused, reset, DNS, TLS, …).
type ConnectionError struct {
	Method, URL string
	Err         error
}

func (e *ConnectionError) Error() string {
	return fmt.Sprintf("mandate: %s %s: connection error: %v", e.Method, e.URL, e.Err)
}
func (e *ConnectionError) Unwrap() error { return e.Err }

// TimeoutError is an attempt that ran out of time (the per-attempt timeout or the
// caller's context deadline). It unwraps to context.DeadlineExceeded.
type TimeoutError struct {
	Method, URL string
	Err         error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("mandate: %s %s: timed out: %v", e.Method, e.URL, e.Err)
}
func (e *TimeoutError) Unwrap() error { return e.Err }

func hasKind(err error, kind ErrorKind) bool {
	var apiErr *Error
	return errors.As(err, &apiErr) && apiErr.Kind == kind
}

// IsBadRequest reports a 400, 413, 415 or 422 answer.
func IsBadRequest(err error) bool { return hasKind(err, KindBadRequest) }

// IsAuthentication reports a 401 answer, or a workload's federated token that could not be
// read or that the token endpoint refused (invalid_grant).
func IsAuthentication(err error) bool { return hasKind(err, KindAuthentication) }

// IsPermissionDenied reports a 403 answer.
func IsPermissionDenied(err error) bool { return hasKind(err, KindPermissionDenied) }

// IsNotFound reports a 404 answer.
func IsNotFound(err error) bool { return hasKind(err, KindNotFound) }

// IsConflict reports a 409 answer.
func IsConflict(err error) bool { return hasKind(err, KindConflict) }

// IsRateLimit reports a 429 answer.
func IsRateLimit(err error) bool { return hasKind(err, KindRateLimit) }

// IsInternalServer reports a 5xx answer.
func IsInternalServer(err error) bool { return hasKind(err, KindInternalServer) }

// IsConnectionError reports a request that got no response.
func IsConnectionError(err error) bool {
	var target *ConnectionError
	return errors.As(err, &target)
}

// IsTimeout reports an attempt or call that ran out of time.
func IsTimeout(err error) bool {
	var target *TimeoutError
	return errors.As(err, &target)
}

// ConfigError is a client configuration that cannot work: a client secret and a private
// key both given, a private key that cannot be used, or a federated token given twice or
// beside a secret or key. NewClient cannot return it, so every call of the client returns
// it instead (see Client.Err). Its message never quotes a secret, key or token.
type ConfigError struct {
	Msg string
}

func (e *ConfigError) Error() string { return "mandate: configuration: " + e.Msg }

// IsConfigError reports a client configuration that cannot work.
func IsConfigError(err error) bool {
	var target *ConfigError
	return errors.As(err, &target)
}
