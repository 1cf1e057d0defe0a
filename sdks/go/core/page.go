package core

import (
	"context"
)

// Page is one page of a list operation: its items, the cursor of the next page, and the
// means to fetch that page. Iter walks every item of this page and the ones after it,
// fetching lazily.
type Page[T any] struct {
	Items       []T
	NextCursor  string
	HasNextPage bool

	envelope any
	fetch    func(ctx context.Context, cursor string) (*Page[T], error)
}

// NewPage is used by the generated list methods: envelope is the decoded list response,
// fetch loads the page at a cursor.
func NewPage[T any](items []T, nextCursor *string, envelope any, fetch func(ctx context.Context, cursor string) (*Page[T], error)) *Page[T] {
	p := &Page[T]{Items: items, envelope: envelope, fetch: fetch}
	if nextCursor != nil && *nextCursor != "" {
		p.NextCursor, p.HasNextPage = *nextCursor, true
	}
	return p
}

// Envelope is the decoded list response of this page (e.g. *mandate.AgentList), with any
// fields a newer server added.
func (p *Page[T]) Envelope() any { return p.envelope }

// NextPage fetches the next page; it returns nil, nil after the last page.
func (p *Page[T]) NextPage(ctx context.Context) (*Page[T], error) {
	if !p.HasNextPage {
		return nil, nil
	}
	return p.fetch(ctx, p.NextCursor)
}

// Iter walks every item from this page on. Use it as
//
//	for it := page.Iter(ctx); it.Next(); {
//		use(it.Current())
//	}
//	if err := it.Err(); err != nil { … }
func (p *Page[T]) Iter(ctx context.Context) *Iter[T] {
	return &Iter[T]{ctx: ctx, page: p, index: -1}
}

// Iter is an iterator over the items of a list, page after page.
type Iter[T any] struct {
	ctx   context.Context
	page  *Page[T]
	index int
	err   error
}

// Next advances to the next item, fetching the next page when needed; false at the end
// or on an error (see Err).
func (it *Iter[T]) Next() bool {
	for it.page != nil && it.err == nil {
		if it.index+1 < len(it.page.Items) {
			it.index++
			return true
		}
		next, err := it.page.NextPage(it.ctx)
		if err != nil {
			it.err = err
			return false
		}
		it.page, it.index = next, -1
	}
	return false
}

// Current is the item Next moved to.
func (it *Iter[T]) Current() T {
	var zero T
	if it.page == nil || it.index < 0 || it.index >= len(it.page.Items) {
		return zero
	}
	return it.page.Items[it.index]
}

// Page is the page the current item is on.
func (it *Iter[T]) Page() *Page[T] { return it.page }

// Err is the error that stopped the iteration, if any.
func (it *Iter[T]) Err() error { return it.err }
