package core

import (
	"bytes"
	"encoding/json"
)

// Nullable is a field that may be absent, null or a value: the three states a PATCH body
// tells apart (absent leaves a field alone, null clears it). The zero value is absent.
type Nullable[T any] struct {
	value T
	set   bool
	null  bool
}

// Value is a Nullable holding v.
func Value[T any](v T) Nullable[T] { return Nullable[T]{value: v, set: true} }

// Null is a Nullable holding JSON null.
func Null[T any]() Nullable[T] { return Nullable[T]{set: true, null: true} }

// IsSet reports whether the field is present (null or a value).
func (n Nullable[T]) IsSet() bool { return n.set }

// IsNull reports whether the field is present and null.
func (n Nullable[T]) IsNull() bool { return n.set && n.null }

// Get returns the value and whether there is one (false when absent or null).
func (n Nullable[T]) Get() (T, bool) { return n.value, n.set && !n.null }

// Or returns the value, or fallback when absent or null.
func (n Nullable[T]) Or(fallback T) T {
	if v, ok := n.Get(); ok {
		return v
	}
	return fallback
}

// Ptr returns a pointer to the value, or nil when absent or null.
func (n Nullable[T]) Ptr() *T {
	if v, ok := n.Get(); ok {
		return &v
	}
	return nil
}

// MarshalJSON writes null for a null or absent field (models leave absent fields out).
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if !n.set || n.null {
		return []byte("null"), nil
	}
	return json.Marshal(n.value)
}

// UnmarshalJSON reads null or a value; a field missing from the JSON stays absent.
func (n *Nullable[T]) UnmarshalJSON(data []byte) error {
	var zero T
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		*n = Nullable[T]{value: zero, set: true, null: true}
		return nil
	}
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*n = Value(v)
	return nil
}
