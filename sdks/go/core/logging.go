package core

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// log writes a debug record when the client has a logger. Callers pass only method, URL,
// status, timing, request id and retry facts: never headers, credentials, tokens or bodies.
func (c *Client) log(ctx context.Context, msg string, attrs ...slog.Attr) {
	if c.cfg.Logger == nil {
		return
	}
	c.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
}

func (c *Client) logAttempt(ctx context.Context, method, target string, attempt int, res *http.Response, elapsed time.Duration, err error) {
	if c.cfg.Logger == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("url", redactURL(target)),
		slog.Int("attempt", attempt),
		slog.Duration("duration", elapsed),
	}
	if res != nil {
		attrs = append(attrs, slog.Int("status", res.StatusCode))
		if id := res.Header.Get("X-Request-Id"); id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.log(ctx, "mandate: http attempt", attrs...)
}
