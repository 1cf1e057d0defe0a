//go:build go1.23

package core

import (
	"context"
	"fmt"
	"testing"
)

func TestAllRangesOverEveryItem(t *testing.T) {
	fetched := 0
	first, _ := pages(3, 0, &fetched)(context.Background(), "")
	var got []int
	for item, err := range first.All(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, item)
	}
	if fmt.Sprint(got) != "[0 1 2 3 4 5]" {
		t.Fatal(got)
	}
	fetched = 0
	failing, _ := pages(3, 2, &fetched)(context.Background(), "")
	var last error
	for _, err := range failing.All(context.Background()) {
		last = err
	}
	if last == nil {
		t.Fatal("All hid the page error")
	}
}
