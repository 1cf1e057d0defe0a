package integration

import (
	"strings"
	"testing"
)

// The runner's own checks must be able to fail.
func TestMatchersAndInterpolation(t *testing.T) {
	body := normalize(map[string]any{"id": "agt_1", "n": 3, "tags": []any{"a", "b"}, "nested": map[string]any{"x/y": nil}})
	vars := map[string]any{"id": "agt_1", "count": 3.0}
	cases := []struct {
		ptr   string
		want  any
		match bool
	}{
		{"/id", "${id}", true},
		{"/id", "agt_2", false},
		{"/n", "${count}", true},
		{"/n", map[string]any{"type": "number"}, true},
		{"/n", map[string]any{"type": "string"}, false},
		{"/id", map[string]any{"matches": "^agt_"}, true},
		{"/id", map[string]any{"matches": "^org_"}, false},
		{"/tags", map[string]any{"length": 2}, true},
		{"/tags", map[string]any{"length": 3}, false},
		{"/tags", map[string]any{"contains": "b"}, true},
		{"/tags", map[string]any{"contains": "z"}, false},
		{"/tags/1", "b", true},
		{"/tags/2", map[string]any{"exists": false}, true},
		{"/nested/x~1y", nil, true},
		{"/nested/x~1y", map[string]any{"exists": true, "type": "null"}, true},
		{"/missing", map[string]any{"exists": true}, false},
		{"/missing", nil, false},
		{"/tags", map[string]any{"equals": []any{"a", "b"}}, true},
	}
	for _, c := range cases {
		value, found := pointer(body, c.ptr)
		msg := match(normalize(interpolate(c.want, vars)), value, found)
		if (msg == "") != c.match {
			t.Errorf("%s %v: match=%v (%s)", c.ptr, c.want, msg == "", msg)
		}
	}
	if got := interpolate("run-${id}-${count}", vars); got != "run-agt_1-3" {
		t.Fatalf("interpolate: %v", got)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "nope") {
			t.Fatalf("unset variable: %v", r)
		}
	}()
	interpolate("${nope}", vars)
}
