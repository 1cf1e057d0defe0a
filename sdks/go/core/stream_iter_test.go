//go:build go1.23

package core

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestAllRangesOverEventsAndClosesOnBreak(t *testing.T) {
	gone := make(chan struct{})
	stream, _, _, err := openStream(t, []func(http.ResponseWriter, *http.Request){
		sendsAndStays("id: 1\ndata: {}\n\nid: 2\ndata: {}\n\n", gone),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for event, err := range stream.All(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if ids = append(ids, event.ID); len(ids) == 2 {
			break
		}
	}
	if len(ids) != 2 || ids[1] != "2" {
		t.Fatal(ids)
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection is still open after the loop")
	}
}
