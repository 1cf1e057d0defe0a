package unit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mandate-dev/mandate/sdks/go/mandate"
)

// webhookVector is one entry of conformance/vectors/standard-webhooks.json, the signatures
// every SDK must verify (or reject) alike.
type webhookVector struct {
	Name      string `json:"name"`
	Secret    string `json:"secret"`
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Body      string `json:"body"`
	Signature string `json:"signature"`
	Valid     bool   `json:"valid"`
}

// repoFile finds path (relative to the repository root) above the working directory.
func repoFile(t *testing.T, path string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		candidate := filepath.Join(dir, path)
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("%s not found above the working directory", path)
		}
		dir = parent
	}
}

func deliveryHeader(id string, timestamp int64, signature string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(timestamp, 10))
	h.Set("webhook-signature", signature)
	return h
}

func TestWebhookSignatureVectors(t *testing.T) {
	raw, err := os.ReadFile(repoFile(t, filepath.Join("conformance", "vectors", "standard-webhooks.json")))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []webhookVector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	valid, invalid := 0, 0
	for _, v := range file.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			clock := mandate.WithWebhookClock(func() time.Time { return time.Unix(v.Timestamp, 0) })
			payload, err := mandate.VerifyWebhook([]byte(v.Body), deliveryHeader(v.ID, v.Timestamp, v.Signature), v.Secret, clock)
			if v.Valid {
				valid++
				// Every valid vector's body is a full envelope, so it must come back typed.
				if err != nil || payload == nil {
					t.Fatalf("want the payload, got %v", err)
				}
				var want struct {
					Type string `json:"type"`
					Data struct {
						ID string `json:"id"`
					} `json:"data"`
				}
				if err := json.Unmarshal([]byte(v.Body), &want); err != nil {
					t.Fatal(err)
				}
				if payload.Type != want.Type || payload.Timestamp.IsZero() || payload.Data.ID != want.Data.ID || want.Data.ID == "" {
					t.Fatalf("payload %+v, want type %q and data.id %q", payload, want.Type, want.Data.ID)
				}
				return
			}
			invalid++
			var verr *mandate.WebhookVerificationError
			if !errors.As(err, &verr) || verr.Reason != mandate.WebhookInvalidSignature {
				t.Fatalf("want invalid_signature, got %v", err)
			}
		})
	}
	if valid == 0 || invalid == 0 {
		t.Fatalf("the vectors hold %d valid and %d invalid entries; want both kinds", valid, invalid)
	}
}

func TestVerifyWebhookReturnsAWebhookPayload(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	body := `{"type":"agent.created","timestamp":"2026-01-02T03:04:05.000Z","data":` + auditEventJSON + `,"attempt":2}`
	sent := time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("msg_1." + strconv.FormatInt(sent.Unix(), 10) + "." + body))
	signature := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))

	payload, err := mandate.VerifyWebhook([]byte(body), deliveryHeader("msg_1", sent.Unix(), signature), secret,
		mandate.WithWebhookClock(func() time.Time { return sent.Add(time.Minute) }))
	if err != nil {
		t.Fatal(err)
	}
	if payload.Type != "agent.created" || !payload.Timestamp.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("%+v", payload)
	}
	e := payload.Data
	if e.ID != "evt_2" || e.Action != "agent.created" || e.Target == nil || e.Target.ID != "agt_1" || e.Sequence != 2 {
		t.Fatalf("%+v", e)
	}
	// Unknown enum values and fields are kept, as everywhere in the SDK.
	if e.Outcome.IsKnown() || string(e.ExtraFields["region"]) != `"eu"` || string(payload.ExtraFields["attempt"]) != "2" {
		t.Fatalf("%+v / %+v", payload, e)
	}
}
