package schemafile

import (
	"encoding/json"

	rs "github.com/pipectl/pipectl/lang/recordschema"
)

// ToJSONSchema writes a record schema as a JSON Schema document (draft
// 2020-12), the reverse of JSONSchema: structs as objects whose
// non-optional fields are required and which take no other properties,
// optional values as a type list with "null", integers as integers,
// floats as numbers, bytes as base64 strings, dates, timestamps and
// uuids as strings of those formats, decimals and times of day as
// strings, json as any value. Names become titles and docs descriptions.
func ToJSONSchema(s *rs.Schema) (string, error) {
	if err := s.Validate(); err != nil {
		return "", &Error{Language: "json_schema", Reason: "the record schema: " + err.Error()}
	}
	j := jsonSchemaOf(s)
	j = append(obj{{"$schema", "https://json-schema.org/draft/2020-12/schema"}}, j...)
	b, err := json.Marshal(j)
	if err != nil {
		return "", &Error{Language: "json_schema", Reason: err.Error()}
	}
	return string(b), nil
}

func jsonSchemaOf(s *rs.Schema) obj {
	if s.Logical == rs.JSON {
		return obj{}
	}
	typ := func(t string) any {
		if s.Optional {
			return []string{t, "null"}
		}
		return t
	}
	var o obj
	if s.Name != "" && s.Type == rs.Struct {
		o = append(o, kv{"title", s.Name})
	}
	if s.Doc != "" {
		o = append(o, kv{"description", s.Doc})
	}
	switch s.Logical {
	case rs.Date:
		return append(o, kv{"type", typ("string")}, kv{"format", "date"})
	case rs.TimestampMillis, rs.TimestampMicros:
		return append(o, kv{"type", typ("string")}, kv{"format", "date-time"})
	case rs.UUID:
		return append(o, kv{"type", typ("string")}, kv{"format", "uuid"})
	case rs.Decimal, rs.TimeMillis, rs.TimeMicros:
		return append(o, kv{"type", typ("string")})
	}
	switch s.Type {
	case rs.Boolean:
		o = append(o, kv{"type", typ("boolean")})
	case rs.Int8, rs.Int16, rs.Int32, rs.Int64:
		o = append(o, kv{"type", typ("integer")})
	case rs.Float32, rs.Float64:
		o = append(o, kv{"type", typ("number")})
	case rs.String:
		o = append(o, kv{"type", typ("string")})
	case rs.Bytes:
		o = append(o, kv{"type", typ("string")}, kv{"contentEncoding", "base64"})
	case rs.Array:
		o = append(o, kv{"type", typ("array")}, kv{"items", jsonSchemaOf(s.Items)})
	case rs.Map:
		o = append(o, kv{"type", typ("object")}, kv{"additionalProperties", jsonSchemaOf(s.Values)})
	case rs.Struct:
		props := obj{}
		required := []string{}
		for _, f := range s.Fields {
			props = append(props, kv{f.Name, jsonSchemaOf(f.Schema)})
			if !f.Schema.Optional && f.Schema.Default == nil {
				required = append(required, f.Name)
			}
		}
		o = append(o, kv{"type", typ("object")}, kv{"properties", props}, kv{"required", required}, kv{"additionalProperties", false})
	}
	return o
}
