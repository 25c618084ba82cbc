package engine

import (
	"testing"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/converters"
)

// TestCodecSchemas checks how the engine hands schemas to converters: the
// schema goes to a SchemaEncoder (a nil value with a schema is the
// schema's null, as Kafka Connect writes it; without one a tombstone), a
// converter without the interface gets the value alone, and decoding
// returns the schema only from a SchemaDecoder.
func TestCodecSchemas(t *testing.T) {
	plain, err := converters.NewJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	envelope, err := converters.NewJSON(map[string]any{"schemas_enable": true})
	if err != nil {
		t.Fatal(err)
	}
	optional := &connector.Schema{Type: connector.TypeInt64, Optional: true}
	for _, tt := range []struct {
		name string
		conv connector.Converter
		v    any
		s    *connector.Schema
		want string // "" for nil bytes
	}{
		{"a schema to a SchemaEncoder", envelope, int64(1), optional, `{"schema":{"type":"int64","optional":true},"payload":1}`},
		{"a null with a schema", envelope, nil, optional, `{"schema":{"type":"int64","optional":true},"payload":null}`},
		{"a null without a schema is a tombstone", envelope, nil, nil, ""},
		{"no schema", envelope, int64(1), nil, `{"schema":null,"payload":1}`},
		{"a converter that writes no schemas", plain, int64(1), optional, `1`},
		{"a null to a converter that writes no schemas", plain, nil, optional, ""},
	} {
		b, err := toBytes(tt.conv, "t", tt.v, tt.s)
		if err != nil || string(b) != tt.want || (b == nil) != (tt.want == "") {
			t.Errorf("%s: toBytes = %q, %v; want %q", tt.name, b, err, tt.want)
		}
	}
	for _, tt := range []struct {
		conv   connector.Converter
		decode bool
		schema bool
	}{{envelope, true, true}, {envelope, false, false}, {plain, true, false}} {
		v, s, err := fromBytes(tt.conv, nil, []byte(`{"schema":{"type":"int8"},"payload":3}`), tt.decode)
		if err != nil && tt.conv == envelope {
			t.Fatal(err)
		}
		if (s != nil) != tt.schema {
			t.Errorf("%T decode %v: fromBytes = %#v with schema %v", tt.conv, tt.decode, v, s)
		}
	}
}
