package core

import (
	"context"
	"errors"
	"sync"
)

// metadataPath is RFC 8414's authorization server metadata, served under the base URL as
// the JWKS is.
const metadataPath = "/.well-known/oauth-authorization-server"

// issuerCache holds the server's issuer, the audience of client assertions. It may differ
// from the base URL (behind a proxy), so it is read from the server's metadata on first
// use and kept for the client's life; a failed fetch is not kept, the next call tries again.
type issuerCache struct {
	client *Client

	mu     sync.Mutex
	issuer string
}

func (ic *issuerCache) get(ctx context.Context) (string, error) {
	ic.mu.Lock()
	issuer := ic.issuer
	ic.mu.Unlock()
	if issuer != "" {
		return issuer, nil
	}
	// Not under the lock: a caller whose context ends must not hold the others up. Two
	// first calls at once may both fetch; the answer is the same.
	var meta struct {
		Issuer string `json:"issuer"`
	}
	req := &Request{Method: "GET", Path: metadataPath, Auth: []AuthMode{AuthNone}}
	if err := ic.client.Do(ctx, req, &meta, nil); err != nil {
		return "", err
	}
	if meta.Issuer == "" {
		return "", errors.New("mandate: the server's metadata (" + metadataPath + ") names no issuer")
	}
	ic.mu.Lock()
	ic.issuer = meta.Issuer
	ic.mu.Unlock()
	return meta.Issuer, nil
}
