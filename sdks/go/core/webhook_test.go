package core

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// envelope stands in for mandate.WebhookPayload, which package core cannot import.
type envelope struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      struct {
		ID     string `json:"id"`
		Action string `json:"action"`
	} `json:"data"`
}

const (
	webhookBody  = `{"type":"agent.created","timestamp":"2026-01-02T03:04:05.000Z","data":{"id":"evt_1","action":"agent.created"}}`
	webhookMsgID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
)

var webhookNow = time.Unix(1767322800, 0) // a fixed receiver clock

func webhookSecret(fill byte) (secret string, key []byte) {
	key = []byte(strings.Repeat(string(rune(fill)), 32))
	return "whsec_" + base64.StdEncoding.EncodeToString(key), key
}

// signWebhook signs like the server: v1,base64(HMAC-SHA256(key, "id.timestamp.body")).
func signWebhook(key []byte, id, timestamp, body string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "." + body))
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func webhookHeader(id, timestamp, signature string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", timestamp)
	h.Set("webhook-signature", signature)
	return h
}

// signedHeader is a delivery of body signed with key at sent.
func signedHeader(key []byte, sent time.Time, body string) http.Header {
	ts := strconv.FormatInt(sent.Unix(), 10)
	return webhookHeader(webhookMsgID, ts, signWebhook(key, webhookMsgID, ts, body))
}

func verifyAt(body string, h http.Header, secret string, opts ...WebhookOption) (*envelope, error) {
	return VerifyWebhook[envelope]([]byte(body), h, secret, append([]WebhookOption{WithWebhookClock(func() time.Time { return webhookNow })}, opts...)...)
}

// wantReason checks err is a *WebhookVerificationError with reason, and that its message does
// not leak the secret.
func wantReason(t *testing.T, err error, reason WebhookFailureReason, secret string) *WebhookVerificationError {
	t.Helper()
	var verr *WebhookVerificationError
	if !errors.As(err, &verr) {
		t.Fatalf("want a *WebhookVerificationError (%s), got %T %v", reason, err, err)
	}
	if verr.Reason != reason {
		t.Fatalf("reason %q, want %q (%v)", verr.Reason, reason, err)
	}
	if key := strings.TrimPrefix(secret, "whsec_"); strings.Contains(err.Error(), key) {
		t.Fatalf("the message holds the secret: %v", err)
	}
	return verr
}

func TestVerifyWebhookReturnsTheTypedPayload(t *testing.T) {
	secret, key := webhookSecret('k')
	unpadded := strings.TrimRight(secret, "=")
	for name, s := range map[string]string{"with prefix": secret, "without prefix": strings.TrimPrefix(secret, "whsec_"), "without padding": unpadded} {
		got, err := verifyAt(webhookBody, signedHeader(key, webhookNow, webhookBody), s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Type != "agent.created" || got.Data.ID != "evt_1" || !got.Timestamp.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
			t.Fatalf("%s: %+v", name, got)
		}
	}
}

func TestVerifyWebhookToleranceBothWays(t *testing.T) {
	secret, key := webhookSecret('k')
	cases := []struct {
		offset    time.Duration
		tolerance time.Duration // 0: the default
		ok        bool
	}{
		{-5 * time.Minute, 0, true},
		{5 * time.Minute, 0, true},
		{-5*time.Minute - time.Second, 0, false},
		{5*time.Minute + time.Second, 0, false},
		{-2 * time.Minute, time.Minute, false},
		{2 * time.Minute, time.Minute, false},
		{-10 * time.Minute, 15 * time.Minute, true},
		{10 * time.Minute, 15 * time.Minute, true},
	}
	for _, c := range cases {
		var opts []WebhookOption
		if c.tolerance != 0 {
			opts = append(opts, WithWebhookTolerance(c.tolerance))
		}
		_, err := verifyAt(webhookBody, signedHeader(key, webhookNow.Add(c.offset), webhookBody), secret, opts...)
		if c.ok && err != nil {
			t.Errorf("sent %v from now, tolerance %v: %v", c.offset, c.tolerance, err)
		}
		if !c.ok {
			wantReason(t, err, WebhookTimestampOutOfTolerance, secret)
		}
	}
}

func TestVerifyWebhookChecksTheTimestampBeforeTheSignature(t *testing.T) {
	secret, _ := webhookSecret('k')
	old := strconv.FormatInt(webhookNow.Add(-time.Hour).Unix(), 10)
	_, err := verifyAt(webhookBody, webhookHeader(webhookMsgID, old, "v1,AAAA"), secret)
	wantReason(t, err, WebhookTimestampOutOfTolerance, secret)
}

func TestVerifyWebhookUsesTheSystemClockByDefault(t *testing.T) {
	secret, key := webhookSecret('k')
	if _, err := VerifyWebhook[envelope]([]byte(webhookBody), signedHeader(key, time.Now(), webhookBody), secret); err != nil {
		t.Fatal(err)
	}
	_, err := VerifyWebhook[envelope]([]byte(webhookBody), signedHeader(key, webhookNow, webhookBody), secret)
	wantReason(t, err, WebhookTimestampOutOfTolerance, secret)
}

func TestVerifyWebhookRequiresEveryHeader(t *testing.T) {
	secret, key := webhookSecret('k')
	for _, name := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		for _, how := range []string{"absent", "empty"} {
			h := signedHeader(key, webhookNow, webhookBody)
			if how == "absent" {
				h.Del(name)
			} else {
				h.Set(name, "")
			}
			_, err := verifyAt(webhookBody, h, secret)
			if verr := wantReason(t, err, WebhookMissingHeader, secret); verr.Header != name {
				t.Errorf("%s %s: the error names %q", name, how, verr.Header)
			}
		}
	}
	_, err := verifyAt(webhookBody, nil, secret)
	wantReason(t, err, WebhookMissingHeader, secret)
}

func TestVerifyWebhookHeaderNamesAreCaseInsensitive(t *testing.T) {
	secret, key := webhookSecret('k')
	signed := signedHeader(key, webhookNow, webhookBody)
	// Built by hand, so the keys are not in Go's canonical form.
	h := http.Header{
		"webhook-id":        {signed.Get("Webhook-Id")},
		"WEBHOOK-TIMESTAMP": {signed.Get("Webhook-Timestamp")},
		"Webhook-signature": {signed.Get("Webhook-Signature")},
	}
	if _, err := verifyAt(webhookBody, h, secret); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyWebhookRejectsABadTimestamp(t *testing.T) {
	secret, key := webhookSecret('k')
	for _, ts := range []string{"soon", "1767322800.5", "1.7e9", "0x6957", "1767322800 ", "99999999999999999999"} {
		h := webhookHeader(webhookMsgID, ts, signWebhook(key, webhookMsgID, ts, webhookBody))
		_, err := verifyAt(webhookBody, h, secret)
		wantReason(t, err, WebhookInvalidTimestamp, secret)
	}
}

func TestVerifyWebhookPicksTheV1SignatureAmongOthers(t *testing.T) {
	secret, key := webhookSecret('k')
	ts := strconv.FormatInt(webhookNow.Unix(), 10)
	good := signWebhook(key, webhookMsgID, ts, webhookBody)
	_, otherKey := webhookSecret('o')
	wrong := signWebhook(otherKey, webhookMsgID, ts, webhookBody)
	sameBytesOtherVersion := "v1a," + strings.TrimPrefix(good, "v1,")

	for _, header := range []string{
		"v1a,garbage v2," + strings.TrimPrefix(good, "v1,") + " " + good,
		wrong + " " + good,
		good + " " + wrong,
		"v1,not-base64!! " + good,
		"  " + good + "  ",
	} {
		if _, err := verifyAt(webhookBody, webhookHeader(webhookMsgID, ts, header), secret); err != nil {
			t.Errorf("%q: %v", header, err)
		}
	}
	for _, header := range []string{wrong, sameBytesOtherVersion, "v2," + strings.TrimPrefix(good, "v1,"), strings.TrimPrefix(good, "v1,"), "v1,", "v1"} {
		_, err := verifyAt(webhookBody, webhookHeader(webhookMsgID, ts, header), secret)
		wantReason(t, err, WebhookInvalidSignature, secret)
	}
	// Repeated headers are all searched.
	h := webhookHeader(webhookMsgID, ts, wrong)
	h.Add("webhook-signature", good)
	if _, err := verifyAt(webhookBody, h, secret); err != nil {
		t.Error(err)
	}
}

func TestVerifyWebhookDetectsTampering(t *testing.T) {
	secret, key := webhookSecret('k')
	h := signedHeader(key, webhookNow, webhookBody)
	_, err := verifyAt(strings.Replace(webhookBody, "evt_1", "evt_2", 1), h, secret)
	wantReason(t, err, WebhookInvalidSignature, secret)

	// Re-serializing the JSON (here: adding spaces) changes the signed bytes.
	_, err = verifyAt(strings.ReplaceAll(webhookBody, ",", ", "), h, secret)
	wantReason(t, err, WebhookInvalidSignature, secret)

	moved := h.Clone()
	moved.Set("webhook-id", "msg_other")
	_, err = verifyAt(webhookBody, moved, secret)
	wantReason(t, err, WebhookInvalidSignature, secret)
}

func TestVerifyWebhookAcceptsAnyOfSeveralSecrets(t *testing.T) {
	oldSecret, oldKey := webhookSecret('o')
	newSecret, newKey := webhookSecret('n')
	ts := strconv.FormatInt(webhookNow.Unix(), 10)
	signedOld := signWebhook(oldKey, webhookMsgID, ts, webhookBody)
	signedNew := signWebhook(newKey, webhookMsgID, ts, webhookBody)

	// Mid-rotation the server signs with both; a receiver holding either one verifies.
	both := webhookHeader(webhookMsgID, ts, signedNew+" "+signedOld)
	for _, s := range []string{oldSecret, newSecret} {
		if _, err := verifyAt(webhookBody, both, s); err != nil {
			t.Error(err)
		}
	}
	// A receiver holding both verifies a message signed with either one.
	for _, sig := range []string{signedOld, signedNew} {
		if _, err := verifyAt(webhookBody, webhookHeader(webhookMsgID, ts, sig), newSecret, WithWebhookSecrets(oldSecret)); err != nil {
			t.Error(err)
		}
	}
	third, _ := webhookSecret('t')
	_, err := verifyAt(webhookBody, webhookHeader(webhookMsgID, ts, signedOld), newSecret, WithWebhookSecrets(third))
	wantReason(t, err, WebhookInvalidSignature, newSecret)
}

func TestVerifyWebhookRejectsAVerifiedBodyThatIsNotTheEnvelope(t *testing.T) {
	secret, key := webhookSecret('k')
	const ts = `"2026-01-02T03:04:05Z"`
	for _, body := range []string{
		`not json`,
		`null`,
		` []`,
		`"agent.created"`,
		`{"type":"agent.created","timestamp":` + ts + `,"data":{}} trailing`,
		// All three members are required, as they are in every SDK ...
		`{}`,
		`{"timestamp":` + ts + `,"data":{}}`,
		`{"type":"agent.created","data":{}}`,
		`{"type":"agent.created","timestamp":` + ts + `}`,
		// ... with these kinds; null does not stand in for any of them.
		`{"type":null,"timestamp":` + ts + `,"data":{}}`,
		`{"type":7,"timestamp":` + ts + `,"data":{}}`,
		`{"type":"agent.created","timestamp":null,"data":{}}`,
		`{"type":"agent.created","timestamp":1767322800,"data":{}}`,
		`{"type":"agent.created","timestamp":` + ts + `,"data":null}`,
		`{"type":"agent.created","timestamp":` + ts + `,"data":[]}`,
		`{"type":"agent.created","timestamp":` + ts + `,"data":"evt_1"}`,
		// A member the model cannot decode.
		`{"type":"agent.created","timestamp":"yesterday","data":{}}`,
		`{"type":"agent.created","timestamp":` + ts + `,"data":{"id":5}}`,
	} {
		_, err := verifyAt(body, signedHeader(key, webhookNow, body), secret)
		if verr := wantReason(t, err, WebhookInvalidPayload, secret); verr.Err == nil {
			t.Errorf("%s: no cause", body)
		}
	}
	// data's own members are the model's business, and members beside the three are allowed.
	for _, body := range []string{
		`{"type":"agent.created","timestamp":` + ts + `,"data":{}}`,
		"\n { \"data\" : {\"id\":\"evt_1\"}, \"attempt\": 2, \"timestamp\" : " + ts + ", \"type\" : \"agent.created\" }\n",
	} {
		if _, err := verifyAt(body, signedHeader(key, webhookNow, body), secret); err != nil {
			t.Errorf("%q: %v", body, err)
		}
	}
}

func TestVerifyWebhookRefusesASecretThatIsNotBase64(t *testing.T) {
	_, key := webhookSecret('k')
	h := signedHeader(key, webhookNow, webhookBody)
	for _, s := range []string{"", "whsec_", "whsec_not base64!", "whsec_c2Vjc", "whsec_c2VjcmV0=="} {
		_, err := verifyAt(webhookBody, h, s)
		var verr *WebhookVerificationError
		if err == nil || errors.As(err, &verr) {
			t.Fatalf("%q: want a configuration error, got %v", s, err)
		}
		if key := strings.TrimPrefix(s, "whsec_"); key != "" && strings.Contains(err.Error(), key) {
			t.Fatalf("the message holds the secret: %v", err)
		}
	}
	good, _ := webhookSecret('k')
	if _, err := verifyAt(webhookBody, h, good, WithWebhookSecrets("whsec_%%%")); err == nil {
		t.Fatal("a bad extra secret went unnoticed")
	}
}

func TestWebhookVerificationErrorMessage(t *testing.T) {
	err := &WebhookVerificationError{Reason: WebhookMissingHeader, Header: "webhook-id"}
	if got := err.Error(); got != "mandate: webhook verification failed: missing_header (webhook-id)" {
		t.Fatal(got)
	}
	cause := errors.New("boom")
	err = &WebhookVerificationError{Reason: WebhookInvalidPayload, Err: cause}
	if !errors.Is(err, cause) || !strings.HasSuffix(err.Error(), "invalid_payload: boom") {
		t.Fatal(err)
	}
}
