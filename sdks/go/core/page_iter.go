//go:build go1.23

package core

import (
	"context"
	"iter"
)

// All yields every item from this page on, then a final error if fetching a page failed:
//
//	for agent, err := range page.All(ctx) { … }
func (p *Page[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		it := p.Iter(ctx)
		for it.Next() {
			if !yield(it.Current(), nil) {
				return
			}
		}
		if err := it.Err(); err != nil {
			var zero T
			yield(zero, err)
		}
	}
}
