package schemas

import "github.com/pipectl/pipectl/lang/recordschema"

// RecordSchemaPath is where the schema of the JSON form of a record schema
// (lang/recordschema, the SDK's connector.Schema) is written.
const RecordSchemaPath = "schemas/record-schema.schema.json"

// recordSchemaSchema describes the JSON form of a record schema, as
// recordschema.Schema.MarshalJSON writes it and recordschema.Parse reads it.
// What JSON Schema cannot say here (a default that fits its schema, field
// names unique within a struct) Parse checks.
func recordSchemaSchema() map[string]any {
	types := recordschema.Types()
	logicals := recordschema.Logicals()
	digits := map[string]any{"type": "integer", "minimum": 0, "maximum": recordschema.MaxDecimalDigits}
	ref := map[string]any{"$ref": "#/$defs/schema"}
	is := func(attr string, value any) map[string]any {
		return map[string]any{"properties": map[string]any{attr: map[string]any{"const": value}}, "required": []string{attr}}
	}
	// implies returns "if the schema has attr = value, then it has then".
	implies := func(attr string, value any, then map[string]any) map[string]any {
		return map[string]any{"anyOf": []any{map[string]any{"not": is(attr, value)}, then}}
	}
	rules := []any{
		implies("type", string(recordschema.Array), map[string]any{"required": []string{"items"}}),
		implies("type", string(recordschema.Map), map[string]any{"required": []string{"keys", "values"}}),
	}
	for _, l := range logicals {
		rules = append(rules, implies("logical", string(l), is("type", string(l.Physical()))))
	}
	for _, only := range []struct {
		attr string
		typ  recordschema.Type
	}{{"items", recordschema.Array}, {"keys", recordschema.Map}, {"values", recordschema.Map}, {"fields", recordschema.Struct}} {
		rules = append(rules, map[string]any{"anyOf": []any{
			map[string]any{"not": map[string]any{"required": []string{only.attr}}},
			is("type", string(only.typ)),
		}})
	}
	for _, attr := range []string{"precision", "scale"} {
		rules = append(rules, map[string]any{"anyOf": []any{
			map[string]any{"not": map[string]any{"required": []string{attr}}},
			is("logical", string(recordschema.Decimal)),
		}})
	}
	schema := map[string]any{
		"type":        "object",
		"description": "A record schema. Attributes at their zero value are left out.",
		"properties": map[string]any{
			"type":       map[string]any{"enum": types, "description": "The physical type."},
			"logical":    map[string]any{"enum": logicals, "description": "The logical type, on its one physical type: decimal on bytes; date and time-millis on int32; time-micros, timestamp-millis and timestamp-micros on int64; uuid and json on string."},
			"precision":  withDescription(digits, "A decimal's total digits; absent for unbounded (at most 1000)."),
			"scale":      withDescription(digits, "A decimal's digits after the point, at most its precision."),
			"optional":   map[string]any{"type": "boolean", "description": "The value may be null."},
			"name":       map[string]any{"type": "string"},
			"version":    map[string]any{"type": "integer", "minimum": 0},
			"doc":        map[string]any{"type": "string"},
			"parameters": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}, "description": "Settings of other systems (Kafka Connect's schema parameters), kept as they are."},
			"items":      withDescription(ref, "An array's elements."),
			"keys":       withDescription(ref, "A map's keys: string (or uuid), an integer type or boolean."),
			"values":     withDescription(ref, "A map's values."),
			"fields":     map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/field"}, "description": "A struct's fields, in order; names are unique."},
			"default":    map[string]any{"description": "The value standing for a null or absent one, in the JSON form of its value: bytes in base64, a decimal as its text, a date as 2006-01-02, a time of day as 15:04:05.999, a timestamp in RFC 3339, maps and structs as objects."},
		},
		"required":             []string{"type"},
		"additionalProperties": false,
		"allOf":                rules,
	}
	field := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"name":   map[string]any{"type": "string", "minLength": 1},
			"schema": ref,
		},
		"required":             []string{"name", "schema"},
		"additionalProperties": false,
	}
	return map[string]any{
		"$schema":     draft,
		"$id":         BaseURL + RecordSchemaPath,
		"$comment":    generatedComment,
		"title":       "pipectl record schema",
		"description": "The JSON form of the schema of a record's key or value (Kafka Connect's data model): what connector.ParseSchema reads and Schema.MarshalJSON writes.",
		"$ref":        "#/$defs/schema",
		"$defs":       map[string]any{"schema": schema, "field": field},
	}
}

func withDescription(s map[string]any, d string) map[string]any {
	out := map[string]any{"description": d}
	for k, v := range s {
		out[k] = v
	}
	return out
}
