package core

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook deliveries are signed the Standard Webhooks way: headers webhook-id,
// webhook-timestamp (Unix seconds) and webhook-signature, a space-separated list of
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>" entries, one per secret the endpoint
// currently signs with.

// DefaultWebhookTolerance is how far a delivery's timestamp may be from the receiver's clock,
// either way, unless WithWebhookTolerance says otherwise.
const DefaultWebhookTolerance = 5 * time.Minute

const (
	webhookSecretPrefix    = "whsec_"
	webhookSignatureScheme = "v1"
	webhookIDHeader        = "webhook-id"
	webhookTimestampHeader = "webhook-timestamp"
	webhookSignatureHeader = "webhook-signature"
)

// WebhookFailureReason says, in a machine-readable way, why VerifyWebhook rejected a delivery.
type WebhookFailureReason string

const (
	// WebhookMissingHeader: webhook-id, webhook-timestamp or webhook-signature is absent or empty.
	WebhookMissingHeader WebhookFailureReason = "missing_header"
	// WebhookInvalidTimestamp: webhook-timestamp is not an integer number of seconds.
	WebhookInvalidTimestamp WebhookFailureReason = "invalid_timestamp"
	// WebhookTimestampOutOfTolerance: the timestamp is too old or too far ahead (a replay, or a
	// skewed clock).
	WebhookTimestampOutOfTolerance WebhookFailureReason = "timestamp_out_of_tolerance"
	// WebhookInvalidSignature: no v1 signature matched any of the secrets.
	WebhookInvalidSignature WebhookFailureReason = "invalid_signature"
	// WebhookInvalidPayload: the signature matched but the body is not the JSON envelope:
	// not a JSON object, type or timestamp missing or not a string, data missing or not an
	// object, or a member the model cannot decode (e.g. a timestamp that is not RFC 3339).
	WebhookInvalidPayload WebhookFailureReason = "invalid_payload"
)

// WebhookVerificationError is the one error VerifyWebhook returns for a delivery it rejects;
// get it with errors.As and switch on Reason. Its message never holds a secret.
type WebhookVerificationError struct {
	Reason WebhookFailureReason
	// Header names the missing header (WebhookMissingHeader only).
	Header string
	// Err is the cause, when there is one: the timestamp's parse error, or the JSON error of
	// an invalid payload.
	Err error
}

func (e *WebhookVerificationError) Error() string {
	msg := "mandate: webhook verification failed: " + string(e.Reason)
	if e.Header != "" {
		msg += " (" + e.Header + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *WebhookVerificationError) Unwrap() error { return e.Err }

// WebhookOption adjusts VerifyWebhook.
type WebhookOption func(*webhookOptions)

type webhookOptions struct {
	secrets   []string
	tolerance time.Duration
	now       func() time.Time
}

// WithWebhookSecrets accepts these secrets too, e.g. the previous one while an endpoint's
// secret rotates: a delivery verifies if it is signed with any of them.
func WithWebhookSecrets(secrets ...string) WebhookOption {
	return func(o *webhookOptions) { o.secrets = append(o.secrets, secrets...) }
}

// WithWebhookTolerance sets how far the delivery's timestamp may be from now, either way
// (default DefaultWebhookTolerance).
func WithWebhookTolerance(d time.Duration) WebhookOption {
	return func(o *webhookOptions) { o.tolerance = d }
}

// WithWebhookClock sets the clock the timestamp is checked against (tests); default time.Now.
func WithWebhookClock(now func() time.Time) WebhookOption {
	return func(o *webhookOptions) { o.now = now }
}

// VerifyWebhook checks a webhook delivery and returns its body decoded as T (package mandate
// calls it with its WebhookPayload model). payload must be the raw request body, byte for byte:
// the signature covers those bytes, so JSON that was parsed and re-serialized no longer
// verifies. secret is the endpoint's secret, with or without its whsec_ prefix.
//
// It requires the three headers (names are case-insensitive), then checks the timestamp
// against the clock, then the signatures: it succeeds if any v1 entry matches any secret,
// comparing in constant time. A verified body must then be the envelope: a JSON object whose
// type and timestamp are strings and whose data is an object (other members are kept).
//
// A rejected delivery gives a *WebhookVerificationError; a secret that is not base64 gives a
// plain error (a configuration mistake, found before the delivery is looked at).
func VerifyWebhook[T any](payload []byte, header http.Header, secret string, opts ...WebhookOption) (*T, error) {
	o := webhookOptions{secrets: []string{secret}, tolerance: DefaultWebhookTolerance, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	keys, err := webhookKeys(o.secrets)
	if err != nil {
		return nil, err
	}

	found := map[string][]string{}
	for _, name := range []string{webhookIDHeader, webhookTimestampHeader, webhookSignatureHeader} {
		values := headerValues(header, name)
		if len(values) == 0 || values[0] == "" {
			return nil, &WebhookVerificationError{Reason: WebhookMissingHeader, Header: name}
		}
		found[name] = values
	}
	id, timestamp := found[webhookIDHeader][0], found[webhookTimestampHeader][0]
	// A proxy may split the signature header in two; every entry is still a candidate.
	signatures := strings.Join(found[webhookSignatureHeader], " ")

	// The timestamp comes first: a stale or future message is refused before any HMAC work.
	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return nil, &WebhookVerificationError{Reason: WebhookInvalidTimestamp, Err: errors.New("not an integer number of seconds")}
	}
	now, sent := o.now(), time.Unix(seconds, 0)
	if sent.Before(now.Add(-o.tolerance)) || sent.After(now.Add(o.tolerance)) {
		return nil, &WebhookVerificationError{Reason: WebhookTimestampOutOfTolerance}
	}

	signed := append([]byte(id+"."+timestamp+"."), payload...)
	if !webhookSignatureMatches(signatures, signed, keys) {
		return nil, &WebhookVerificationError{Reason: WebhookInvalidSignature}
	}

	if err := checkWebhookEnvelope(payload); err != nil {
		return nil, &WebhookVerificationError{Reason: WebhookInvalidPayload, Err: err}
	}
	out := new(T)
	if err := json.Unmarshal(payload, out); err != nil {
		return nil, &WebhookVerificationError{Reason: WebhookInvalidPayload, Err: err}
	}
	return out, nil
}

// webhookKeys decodes each secret into its HMAC key. The errors say which secret (by
// position) is wrong, never what it holds.
func webhookKeys(secrets []string) ([][]byte, error) {
	keys := make([][]byte, 0, len(secrets))
	for i, secret := range secrets {
		encoded := strings.TrimPrefix(secret, webhookSecretPrefix)
		key, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			// Secrets copied without their trailing "=" still name the same key.
			key, err = base64.RawStdEncoding.DecodeString(encoded)
		}
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("mandate: webhook secret %d of %d is not whsec_ followed by base64", i+1, len(secrets))
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// headerValues looks name up case-insensitively: through Go's canonical form first, then
// across the keys of a header map that was built by hand.
func headerValues(header http.Header, name string) []string {
	if values := header.Values(name); len(values) > 0 {
		return values
	}
	for key, values := range header {
		if strings.EqualFold(key, name) && len(values) > 0 {
			return values
		}
	}
	return nil
}

// webhookSignatureMatches reports whether any v1 entry of the signature header is the
// HMAC-SHA256 of signed under any key. Entries of other versions, or not base64, are skipped.
func webhookSignatureMatches(signatures string, signed []byte, keys [][]byte) bool {
	expected := make([][]byte, len(keys))
	for i, key := range keys {
		mac := hmac.New(sha256.New, key)
		mac.Write(signed)
		expected[i] = mac.Sum(nil)
	}
	for _, entry := range strings.Fields(signatures) {
		version, encoded, ok := strings.Cut(entry, ",")
		if !ok || version != webhookSignatureScheme {
			continue
		}
		signature, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			continue
		}
		for _, want := range expected {
			if hmac.Equal(signature, want) {
				return true
			}
		}
	}
	return false
}

// webhookEnvelope names the members every SDK requires of a verified body, with the JSON
// kind each must have (the first byte of its value).
var webhookEnvelope = []struct {
	member string
	first  byte
	kind   string
}{
	{"type", '"', "a string"},
	{"timestamp", '"', "a string"},
	{"data", '{', "an object"},
}

// checkWebhookEnvelope holds a verified body to the envelope {"type", "timestamp", "data"}:
// a JSON object with all three members, of those kinds. It is checked here rather than left
// to T's decoding because a generated model takes a missing member, or null, as its zero
// value, which would let "{}" through as a verified event. Other members are allowed (the
// model keeps them), and data's own members are left to the model.
func checkWebhookEnvelope(payload []byte) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(payload, &members); err != nil || members == nil {
		return errors.New("the body is not a JSON object")
	}
	for _, want := range webhookEnvelope {
		value, ok := members[want.member]
		if !ok {
			return fmt.Errorf("the body has no %q member", want.member)
		}
		if len(value) == 0 || value[0] != want.first {
			return fmt.Errorf("the body's %q is not %s", want.member, want.kind)
		}
	}
	return nil
}
