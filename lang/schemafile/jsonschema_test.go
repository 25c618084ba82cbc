package schemafile

import (
	"strings"
	"testing"
)

const orderJSONSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "shop.Order",
  "type": "object",
  "properties": {
    "id": {"type": "integer"},
    "ok": {"type": "boolean"},
    "amount": {"type": "number"},
    "name": {"type": "string", "description": "Who."},
    "email": {"type": ["string", "null"]},
    "day": {"type": "string", "format": "date"},
    "placed": {"type": "string", "format": "date-time"},
    "uid": {"type": "string", "format": "uuid"},
    "raw": {"type": "string", "contentEncoding": "base64"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "attrs": {"type": "object", "additionalProperties": {"type": "integer"}},
    "addr": {"$ref": "#/$defs/address"},
    "extra": {}
  },
  "required": ["id", "ok", "amount", "name", "day", "placed", "uid", "raw", "tags", "attrs"],
  "$defs": {"address": {"type": "object", "title": "Address", "properties": {"zip": {"type": "string"}, "city": {"type": "string"}}, "required": ["city"]}}
}`

func TestJSONSchemaAllTypes(t *testing.T) {
	s, err := JSONSchema(orderJSONSchema)
	if err != nil {
		t.Fatal(err)
	}
	want := "struct shop.Order<id int64, ok boolean, amount float64, name string, email optional string, day date, " +
		"placed timestamp-micros, uid uuid, raw bytes, tags array<string>, attrs map<string, int64>, " +
		"addr optional struct Address<zip optional string, city string>, …>"
	if got := s.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if f, _ := s.Field("extra"); f == nil || f.Schema.String() != "optional json" {
		t.Errorf("extra: %v", f)
	}
}

func TestJSONSchemaErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"{\n  \"type\": \"object\",\n  \"properties\": {\"a\" {}}\n}", "line 3, column 22"},
		{`{"type": "nope"}`, "value must be one of"},
		{`{"$ref": "#/$defs/missing"}`, "missing"},
		{`{"$defs": {"l": {"type": "object", "properties": {"next": {"$ref": "#/$defs/l"}}}}, "$ref": "#/$defs/l"}`, "recursive"},
	} {
		_, err := JSONSchema(tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("JSONSchema(%s): %v, want %q", tc.text, err, tc.want)
		}
	}
}
