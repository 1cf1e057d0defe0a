//go:build go1.23

package core

import (
	"context"
	"iter"
)

// All yields every event until the stream ends, then a final error if it failed; the
// stream is closed when the loop ends, a break included:
//
//	for event, err := range stream.All(ctx) { … }
func (s *Stream[T]) All(ctx context.Context) iter.Seq2[Event[T], error] {
	return func(yield func(Event[T], error) bool) {
		defer s.Close()
		for s.Next(ctx) {
			if !yield(s.Event(), nil) {
				return
			}
		}
		if err := s.Err(); err != nil {
			yield(Event[T]{}, err)
		}
	}
}
