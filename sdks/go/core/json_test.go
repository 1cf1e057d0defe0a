package core

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"
)

type sample struct {
	Name        string
	Note        Nullable[string]
	Count       *int
	Tags        []string
	ExtraFields map[string]json.RawMessage
}

func (m sample) MarshalJSON() ([]byte, error) {
	var w ObjectWriter
	w.Field("name", m.Name)
	if m.Note.IsSet() {
		w.Field("note", m.Note)
	}
	if m.Count != nil {
		w.Field("count", m.Count)
	}
	if m.Tags != nil {
		w.Field("tags", m.Tags)
	}
	return w.Finish(m.ExtraFields)
}

func (m *sample) UnmarshalJSON(data []byte) error {
	r, err := ReadObject(data)
	if err != nil || r == nil {
		return err
	}
	r.Take("name", &m.Name)
	r.Take("note", &m.Note)
	r.Take("count", &m.Count)
	r.Take("tags", &m.Tags)
	m.ExtraFields = r.Rest()
	return r.Err()
}

func TestNullableThreeStates(t *testing.T) {
	cases := []struct {
		value sample
		want  string
	}{
		{sample{Name: "a"}, `{"name":"a"}`},
		{sample{Name: "a", Note: Null[string]()}, `{"name":"a","note":null}`},
		{sample{Name: "a", Note: Value("hi")}, `{"name":"a","note":"hi"}`},
		{sample{Name: "a", Tags: []string{}}, `{"name":"a","tags":[]}`},
		{sample{Name: "a", ExtraFields: map[string]json.RawMessage{"z": json.RawMessage(`1`), "name": json.RawMessage(`"dup"`), "b": json.RawMessage(`{"x":true}`)}}, `{"name":"a","b":{"x":true},"z":1}`},
	}
	for _, c := range cases {
		got, err := json.Marshal(c.value)
		if err != nil || string(got) != c.want {
			t.Errorf("marshal %+v: %s %v, want %s", c.value, got, err, c.want)
		}
	}
	var absent, null, value sample
	_ = json.Unmarshal([]byte(`{"name":"a"}`), &absent)
	_ = json.Unmarshal([]byte(`{"name":"a","note":null}`), &null)
	_ = json.Unmarshal([]byte(`{"name":"a","note":"hi","count":3,"future":{"x":1}}`), &value)
	if absent.Note.IsSet() || !null.Note.IsNull() || value.Note.Or("") != "hi" || *value.Count != 3 {
		t.Fatalf("unmarshal: %+v %+v %+v", absent, null, value)
	}
	if v, ok := null.Note.Get(); ok || v != "" || null.Note.Ptr() != nil || *value.Note.Ptr() != "hi" {
		t.Fatal("Get/Ptr")
	}
	round, _ := json.Marshal(value)
	if string(round) != `{"name":"a","note":"hi","count":3,"future":{"x":1}}` {
		t.Fatalf("round trip lost data: %s", round)
	}
	if err := json.Unmarshal([]byte(`{"name":3}`), &value); err == nil {
		t.Fatal("a wrongly typed member decoded")
	}
	if err := json.Unmarshal([]byte(`null`), &value); err != nil {
		t.Fatal(err)
	}
	if empty, _ := json.Marshal(struct{ S sample }{}); string(empty) != `{"S":{"name":""}}` {
		t.Fatal(string(empty))
	}
}

func TestSetParam(t *testing.T) {
	v := url.Values{}
	limit := 10
	var nilPtr *string
	empty := ""
	type status string
	active := status("active")
	SetParam(v, "limit", &limit)
	SetParam(v, "cursor", nilPtr)
	SetParam(v, "q", &empty)
	SetParam(v, "status", &active)
	SetParam(v, "ids", []string{"a", "b"})
	SetParam(v, "on", true)
	SetParam(v, "since", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	SetParam(v, "note", Value("n"))
	SetParam(v, "gone", Null[string]())
	SetParam(v, "absent", Nullable[string]{})
	SetExtraParams(v, map[string]json.RawMessage{"extra": json.RawMessage(`"x"`), "n": json.RawMessage(`5`)})
	want := "extra=x&ids=a&ids=b&limit=10&n=5&note=n&on=true&since=2025-01-02T03%3A04%3A05Z&status=active"
	if got := v.Encode(); got != want {
		t.Fatalf("%s\nwant %s", got, want)
	}
}
