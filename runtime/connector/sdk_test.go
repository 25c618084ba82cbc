package connector_test

import (
	"encoding/json"
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
