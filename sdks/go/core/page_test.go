package core

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// pages serves n pages of two items each, and fails on page failAt (when > 0).
func pages(n, failAt int, fetched *int) func(ctx context.Context, cursor string) (*Page[int], error) {
	var fetch func(ctx context.Context, cursor string) (*Page[int], error)
	fetch = func(ctx context.Context, cursor string) (*Page[int], error) {
		index := 0
		if cursor != "" {
			_, _ = fmt.Sscanf(cursor, "c%d", &index)
		}
		*fetched++
		if index+1 == failAt {
			return nil, errors.New("page failed")
		}
		var next *string
		if index+1 < n {
			c := fmt.Sprintf("c%d", index+1)
			next = &c
		}
		return NewPage([]int{index * 2, index*2 + 1}, next, map[string]int{"page": index}, fetch), nil
	}
	return fetch
}

func TestIterWalksEveryPageLazily(t *testing.T) {
	fetched := 0
	first, err := pages(3, 0, &fetched)(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !first.HasNextPage || first.NextCursor != "c1" || len(first.Items) != 2 || first.Envelope().(map[string]int)["page"] != 0 {
		t.Fatalf("first page %+v", first)
	}
	var got []int
	it := first.Iter(context.Background())
	for it.Next() {
		got = append(got, it.Current())
		if len(got) == 2 && fetched != 1 {
			t.Fatal("fetched the next page before it was needed")
		}
	}
	if it.Err() != nil || fmt.Sprint(got) != "[0 1 2 3 4 5]" || fetched != 3 {
		t.Fatalf("items %v, err %v, %d fetches", got, it.Err(), fetched)
	}
	if it.Next() {
		t.Fatal("Next after the end")
	}
}

func TestNextPageAndLastPage(t *testing.T) {
	fetched := 0
	first, _ := pages(2, 0, &fetched)(context.Background(), "")
	second, err := first.NextPage(context.Background())
	if err != nil || second.HasNextPage || second.Items[0] != 2 {
		t.Fatalf("%+v %v", second, err)
	}
	if last, err := second.NextPage(context.Background()); last != nil || err != nil {
		t.Fatalf("after the last page: %v %v", last, err)
	}
}

func TestIterStopsOnAnError(t *testing.T) {
	fetched := 0
	first, _ := pages(3, 2, &fetched)(context.Background(), "")
	it := first.Iter(context.Background())
	n := 0
	for it.Next() {
		n++
	}
	if n != 2 || it.Err() == nil {
		t.Fatalf("%d items, err %v", n, it.Err())
	}
}

func TestEmptyCursorMeansLastPage(t *testing.T) {
	empty := ""
	p := NewPage([]string{}, &empty, nil, nil)
	if p.HasNextPage || p.Iter(context.Background()).Next() {
		t.Fatal("an empty page with an empty cursor has a next page")
	}
}
