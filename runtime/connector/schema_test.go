package connector_test

import (
	"testing"

	"github.com/pipectl/pipectl/runtime/connector"
)

// v0Converter is a converter written against the SDK before record
// schemas: it keeps compiling, and is neither a SchemaEncoder nor a
// SchemaDecoder, so the worker hands it values without their schemas.
type v0Converter struct {
	connector.UnimplementedConverter
}

func (v0Converter) Encode(any) ([]byte, error)  { return []byte("x"), nil }
func (v0Converter) Decode([]byte) (any, error)  { return "x", nil }
func (v0Converter) Check(b []byte) (any, error) { return string(b), nil }

func TestConvertersWithoutSchemas(t *testing.T) {
	var c connector.Converter = v0Converter{}
	if _, ok := c.(connector.SchemaEncoder); ok {
		t.Error("a converter without EncodeWithSchema is a SchemaEncoder")
	}
	if _, ok := c.(connector.SchemaDecoder); ok {
		t.Error("a converter without DecodeWithSchema is a SchemaDecoder")
	}
}

func TestParseSchema(t *testing.T) {
	s, err := connector.ParseSchema([]byte(`{"type": "struct", "fields": [{"name": "at", "schema": {"type": "int64", "logical": "timestamp-micros"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &connector.Schema{Type: connector.TypeStruct, Fields: []connector.Field{
		{Name: "at", Schema: &connector.Schema{Type: connector.TypeInt64, Logical: connector.LogicalTimestampMicros}},
	}}
	if !s.Equal(want) {
		t.Errorf("ParseSchema = %s, want %s", s, want)
	}
	if _, err := connector.ParseSchema([]byte(`{"type": "struct", "fields": [{"name": "", "schema": {"type": "int8"}}]}`)); err == nil {
		t.Error("ParseSchema accepted a field without a name")
	}
}
