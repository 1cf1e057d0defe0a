package core

import (
	"crypto/rand"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	baseDelay     = 500 * time.Millisecond
	maxDelay      = 8 * time.Second
	maxRetryAfter = 60 * time.Second
)

// RetryDelay is the wait before retry number attempt+1 (attempt counts from 0):
// min(0.5 s × 2^attempt, 8 s) less up to 25 % jitter (jitter is in [0, 1)), unless the
// response's retry-after-ms or Retry-After (seconds or an HTTP date) asks for 0 to 60 s.
func RetryDelay(attempt int, header http.Header, jitter float64, now time.Time) time.Duration {
	if d, ok := retryAfter(header, now); ok {
		return d
	}
	delay := time.Duration(float64(baseDelay) * math.Pow(2, float64(attempt)))
	if delay > maxDelay || delay <= 0 {
		delay = maxDelay
	}
	return time.Duration(float64(delay) * (1 - 0.25*jitter))
}

func retryAfter(header http.Header, now time.Time) (time.Duration, bool) {
	if header == nil {
		return 0, false
	}
	inRange := func(d time.Duration) bool { return d >= 0 && d <= maxRetryAfter }
	if v := strings.TrimSpace(header.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil {
			if d := time.Duration(ms * float64(time.Millisecond)); inRange(d) {
				return d, true
			}
		}
	}
	v := strings.TrimSpace(header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		d := time.Duration(secs * float64(time.Second))
		return d, inRange(d)
	}
	if at, err := http.ParseTime(v); err == nil {
		d := at.Sub(now)
		return d, inRange(d)
	}
	return 0, false
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("mandate: no randomness for an idempotency key: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
