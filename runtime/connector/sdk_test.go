package connector_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/pipectl/pipectl/runtime/connector"
)

func TestWireBytes(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
		ok   bool
		null bool
	}{
		{v: nil, ok: true, null: true},
		{v: []byte("a\x00b"), want: "a\x00b", ok: true},
		{v: []byte{}, want: "", ok: true},
		{v: json.RawMessage(`{"a":1}`), want: `{"a":1}`, ok: true},
		{v: "héllo", want: "héllo", ok: true},
		{v: map[string]any{"a": 1}},
		{v: int64(1)},
		{v: []any{"a"}},
	} {
		b, ok := connector.WireBytes(c.v)
		if ok != c.ok || string(b) != c.want || (b == nil) != (c.null || !c.ok) {
			t.Errorf("WireBytes(%#v) = %q (nil %v), %v; want %q, %v", c.v, b, b == nil, ok, c.want, c.ok)
		}
	}
}

// TestRecordFailed: the error says which record failed and wraps its
// cause, alone or joined with others.
func TestRecordFailed(t *testing.T) {
	cause := errors.New("row rejected")
	err := errors.Join(connector.RecordFailed(2, cause), connector.RecordFailed(5, errors.New("too long")))
	var got []int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		fr, ok := e.(interface{ FailedRecord() int })
		if !ok {
			t.Fatalf("%T has no FailedRecord method", e)
		}
		got = append(got, fr.FailedRecord())
	}
	if len(got) != 2 || got[0] != 2 || got[1] != 5 {
		t.Errorf("FailedRecord() = %v, want [2 5]", got)
	}
	if !errors.Is(err, cause) || err.Error() != "row rejected\ntoo long" {
		t.Errorf("RecordFailed does not wrap its cause: %q", err)
	}
}

// TestRecordRejected: a rejection is a record failure that carries its
// headers for the dead-letter copy; RecordFailed carries none.
func TestRecordRejected(t *testing.T) {
	cause := errors.New("refused")
	err := connector.RecordRejected(3, cause, connector.Header{Key: "pipectl.http.status", Value: []byte("400")})
	type rejected interface {
		FailedRecord() int
		DeadLetterHeaders() []connector.Header
	}
	var r rejected
	if !errors.As(err, &r) || r.FailedRecord() != 3 || !errors.Is(err, cause) {
		t.Fatalf("RecordRejected = %#v", err)
	}
	if h := r.DeadLetterHeaders(); len(h) != 1 || h[0].Key != "pipectl.http.status" || string(h[0].Value) != "400" {
		t.Errorf("DeadLetterHeaders() = %v", h)
	}
	if !errors.As(connector.RecordFailed(1, cause), &r) || r.DeadLetterHeaders() != nil {
		t.Errorf("RecordFailed carries headers")
	}
}
