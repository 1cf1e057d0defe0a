package core

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// ObjectWriter builds the JSON object of a generated model: its fields in spec order, then
// the extra fields it carries (unknown ones a newer server sent, or ones a caller adds).
type ObjectWriter struct {
	buf     bytes.Buffer
	written map[string]bool
	err     error
}

// Field writes one member.
func (w *ObjectWriter) Field(key string, value any) {
	if w.err != nil {
		return
	}
	encoded, err := json.Marshal(value)
	if err != nil {
		w.err = fmt.Errorf("%s: %w", key, err)
		return
	}
	w.raw(key, encoded)
}

func (w *ObjectWriter) raw(key string, encoded []byte) {
	if w.written == nil {
		w.written = map[string]bool{}
		w.buf.WriteByte('{')
	} else {
		w.buf.WriteByte(',')
	}
	w.written[key] = true
	name, _ := json.Marshal(key)
	w.buf.Write(name)
	w.buf.WriteByte(':')
	w.buf.Write(encoded)
}

// Finish writes the extra fields (sorted, skipping any a field already wrote) and returns
// the object.
func (w *ObjectWriter) Finish(extra map[string]json.RawMessage) ([]byte, error) {
	keys := make([]string, 0, len(extra))
	for key := range extra {
		if !w.written[key] {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	for _, key := range keys {
		value := extra[key]
		if !json.Valid(value) {
			return nil, fmt.Errorf("%s: extra field is not valid JSON", key)
		}
		w.raw(key, value)
	}
	if w.err != nil {
		return nil, w.err
	}
	if w.written == nil {
		return []byte("{}"), nil
	}
	w.buf.WriteByte('}')
	return w.buf.Bytes(), nil
}

// ObjectReader takes a JSON object apart for a generated model; the members no field
// takes are kept as the model's extra fields.
type ObjectReader struct {
	members map[string]json.RawMessage
	err     error
}

// ReadObject parses an object; it returns nil, nil for JSON null (which leaves a model as
// it was, like encoding/json does for structs).
func ReadObject(data []byte) (*ObjectReader, error) {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil, nil
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil, err
	}
	return &ObjectReader{members: members}, nil
}

// Take decodes member key into target (a pointer to the field) and removes it from the
// extras; a missing member leaves the field alone.
func (r *ObjectReader) Take(key string, target any) {
	raw, ok := r.members[key]
	if !ok {
		return
	}
	delete(r.members, key)
	if r.err != nil {
		return
	}
	var err error
	if u, ok := target.(json.Unmarshaler); ok {
		err = u.UnmarshalJSON(raw) // lets Nullable see an explicit null
	} else {
		err = json.Unmarshal(raw, target)
	}
	if err != nil {
		r.err = fmt.Errorf("%s: %w", key, err)
	}
}

// Rest returns the members no field took (nil when there are none).
func (r *ObjectReader) Rest() map[string]json.RawMessage {
	if len(r.members) == 0 {
		return nil
	}
	return r.members
}

// Err is the first decoding error.
func (r *ObjectReader) Err() error { return r.err }
