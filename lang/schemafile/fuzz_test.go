package schemafile

import (
	"os"
	"testing"
)

// The fuzz targets check that no schema text panics, and that what Avro
// reads, ToAvro writes back in a form Avro reads again.

func FuzzAvro(f *testing.F) {
	if b, err := os.ReadFile("testdata/all.avsc"); err == nil {
		f.Add(string(b))
	}
	f.Add(`{"type": "array", "items": ["null", "int", {"type": "fixed", "name": "F", "size": 2, "logicalType": "decimal", "precision": 4, "scale": 1}]}`)
	f.Add(`{"type": "map", "values": {"type": "enum", "name": "E", "symbols": ["A"], "default": "A"}}`)
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Avro(text)
		if err != nil {
			return
		}
		back, err := ToAvro(s)
		if err != nil {
			return
		}
		if _, err := Avro(back); err != nil {
			t.Fatalf("ToAvro wrote what Avro refuses: %v\n%s\nfrom %s", err, back, text)
		}
		if proto, err := ToProtobuf(s); err == nil {
			if _, err := Protobuf(proto, "", nil); err != nil {
				t.Fatalf("ToProtobuf wrote what Protobuf refuses: %v\n%s\nfrom %s", err, proto, text)
			}
		}
		if js, err := ToJSONSchema(s); err == nil {
			if _, err := JSONSchema(js); err != nil {
				t.Fatalf("ToJSONSchema wrote what JSONSchema refuses: %v\n%s\nfrom %s", err, js, text)
			}
		} else {
			t.Fatalf("ToJSONSchema: %v", err)
		}
	})
}

func FuzzProtobuf(f *testing.F) {
	f.Add(orderProto, "shop.Order")
	f.Add("syntax = \"proto2\";\nmessage A { optional group G = 1 { required int32 x = 2; } }\n", "")
	f.Add("syntax = \"proto3\";\nmessage A { oneof o { string s = 1; } map<bool, bytes> m = 2; }\n", "A")
	f.Fuzz(func(t *testing.T, text, message string) {
		s, err := Protobuf(text, message, nil)
		if err == nil {
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			if proto, err := ToProtobuf(s); err == nil {
				if _, err := Protobuf(proto, "", nil); err != nil {
					t.Fatalf("ToProtobuf wrote what Protobuf refuses: %v\n%s\nfrom %s", err, proto, text)
				}
			}
		}
	})
}

func FuzzJSONSchema(f *testing.F) {
	f.Add(orderJSONSchema)
	f.Add(`{"type": "array", "items": {"type": ["object", "null"], "properties": {"a": true}}}`)
	f.Add(`{"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "string"}]}`)
	f.Fuzz(func(t *testing.T, text string) {
		s, err := JSONSchema(text)
		if err == nil {
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
