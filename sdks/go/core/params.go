package core

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"time"
)

// SetParam adds a query or form parameter for a generated params model. Nil pointers,
// absent or null Nullables and empty strings are left out (RFC 6749 §3.1 treats an empty
// parameter as omitted); slices repeat the parameter; times are RFC 3339.
func SetParam(values url.Values, key string, value any) {
	v := reflect.ValueOf(value)
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return
	}
	if getter, ok := v.Interface().(interface{ IsSet() bool }); ok {
		if !getter.IsSet() {
			return
		}
		if get := v.MethodByName("Ptr"); get.IsValid() {
			SetParam(values, key, get.Call(nil)[0].Interface())
			return
		}
	}
	if v.Kind() == reflect.Slice && v.Type().Elem().Kind() != reflect.Uint8 {
		for i := 0; i < v.Len(); i++ {
			SetParam(values, key, v.Index(i).Interface())
		}
		return
	}
	if s, ok := formatParam(v); ok && s != "" {
		values.Add(key, s)
	}
}

func formatParam(v reflect.Value) (string, bool) {
	if t, ok := v.Interface().(time.Time); ok {
		return t.Format(time.RFC3339Nano), true
	}
	switch v.Kind() {
	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), true
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64), true
	default:
		encoded, err := json.Marshal(v.Interface())
		if err != nil {
			return fmt.Sprint(v.Interface()), true
		}
		return string(encoded), true
	}
}

// SetExtraParams adds a params model's extra fields: JSON strings as their text, other
// JSON values as written.
func SetExtraParams(values url.Values, extra map[string]json.RawMessage) {
	for key, raw := range extra {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			SetParam(values, key, s)
			continue
		}
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) == nil {
			for _, item := range list {
				SetExtraParams(values, map[string]json.RawMessage{key: item})
			}
			continue
		}
		if string(raw) != "null" {
			values.Add(key, string(raw))
		}
	}
}

// PathParam escapes a path parameter.
func PathParam(value string) string { return url.PathEscape(value) }
