package integration

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Interpolation, JSON pointers and matchers of the conformance scenarios, as
// conformance/README.md defines them.

var (
	wholeVariable = regexp.MustCompile(`^\$\{([A-Za-z0-9_.-]+)\}$`)
	anyVariable   = regexp.MustCompile(`\$\{([A-Za-z0-9_.-]+)\}`)
)

func lookup(name string, vars map[string]any) any {
	value, ok := vars[name]
	if !ok {
		panic(fmt.Sprintf("variable ${%s} is not set (an earlier capture failed?)", name))
	}
	return value
}

// interpolate replaces ${name} in every string; a string that is exactly ${name} becomes
// the captured value itself, keeping its type.
func interpolate(value any, vars map[string]any) any {
	switch v := value.(type) {
	case string:
		if m := wholeVariable.FindStringSubmatch(v); m != nil {
			return lookup(m[1], vars)
		}
		return anyVariable.ReplaceAllStringFunc(v, func(ref string) string {
			return text(lookup(ref[2:len(ref)-1], vars))
		})
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = interpolate(item, vars)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for key, item := range v {
			out[text(interpolate(key, vars))] = interpolate(item, vars)
		}
		return out
	}
	return value
}

// normalize turns YAML values into their JSON form (numbers as float64), as decoded
// response bodies are.
func normalize(value any) any {
	encoded, err := json.Marshal(value)
	if err != nil {
		panic(err)
	}
	var out any
	_ = json.Unmarshal(encoded, &out)
	return out
}

func pointer(doc any, ptr string) (any, bool) {
	if ptr == "" || ptr == "/" {
		return doc, true
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, false
	}
	cur := doc
	for _, raw := range strings.Split(ptr[1:], "/") {
		key := strings.ReplaceAll(strings.ReplaceAll(raw, "~1", "/"), "~0", "~")
		switch node := cur.(type) {
		case map[string]any:
			next, ok := node[key]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			var i int
			if _, err := fmt.Sscanf(key, "%d", &i); err != nil || i < 0 || i >= len(node) || fmt.Sprint(i) != key {
				return nil, false
			}
			cur = node[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

var matcherKeys = map[string]bool{"matches": true, "exists": true, "equals": true, "contains": true, "length": true, "type": true}

func isMatcher(value any) (map[string]any, bool) {
	m, ok := value.(map[string]any)
	if !ok || len(m) == 0 {
		return nil, false
	}
	for key := range m {
		if !matcherKeys[key] {
			return nil, false
		}
	}
	return m, true
}

func deepEqual(a, b any) bool {
	ea, _ := json.Marshal(a) // maps marshal with sorted keys
	eb, _ := json.Marshal(b)
	return string(ea) == string(eb)
}

func typeOf(value any) string {
	switch value.(type) {
	case nil:
		return "null"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", value)
}

// match returns "" when got satisfies want, else what differs.
func match(want, got any, found bool) string {
	show := func() string {
		if !found {
			return "(absent)"
		}
		encoded, _ := json.Marshal(got)
		return string(encoded)
	}
	m, ok := isMatcher(want)
	if !ok {
		if found && deepEqual(got, want) {
			return ""
		}
		return fmt.Sprintf("expected %s, got %s", short(want), show())
	}
	var out []string
	if exists, ok := m["exists"].(bool); ok && found != exists {
		out = append(out, fmt.Sprintf("expected present=%v, got %s", exists, show()))
	}
	if equals, ok := m["equals"]; ok && !(found && deepEqual(got, equals)) {
		out = append(out, fmt.Sprintf("expected %s, got %s", short(equals), show()))
	}
	if pattern, ok := m["matches"].(string); ok {
		s, isString := got.(string)
		if !found || !isString || !regexp.MustCompile(pattern).MatchString(s) {
			out = append(out, fmt.Sprintf("expected a string matching /%s/, got %s", pattern, show()))
		}
	}
	if typ, ok := m["type"].(string); ok && !(found && typeOf(got) == typ) {
		out = append(out, fmt.Sprintf("expected type %s, got %s", typ, show()))
	}
	if length, ok := m["length"].(float64); ok {
		n := -1
		switch v := got.(type) {
		case []any:
			n = len(v)
		case string:
			n = utf8.RuneCountInString(v)
		}
		if !found || n != int(length) {
			out = append(out, fmt.Sprintf("expected length %v, got %s", length, show()))
		}
	}
	if want, ok := m["contains"]; ok {
		hit := false
		switch v := got.(type) {
		case []any:
			for _, item := range v {
				hit = hit || deepEqual(item, want)
			}
		case string:
			if s, isString := want.(string); isString {
				hit = strings.Contains(v, s)
			}
		}
		if !found || !hit {
			out = append(out, fmt.Sprintf("expected to contain %s, got %s", short(want), show()))
		}
	}
	return strings.Join(out, "; ")
}
