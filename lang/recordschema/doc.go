// Package recordschema describes the shape of a record's key or value as
// plain data — Kafka Connect's data model (its Schema and Struct): the
// primitive types, arrays, maps, structs with ordered fields, optional
// values, defaults, names, versions, docs and the logical types decimal,
// date, time, timestamp, uuid and json — and owns the rules about it:
//
//   - Schema.Validate checks a schema itself (Parse and UnmarshalJSON
//     accept only valid schemas);
//   - Schema.CheckValue checks a Go value against a schema, with the value
//     representation written down in value.go (int64 for every integer
//     type, float64, string, []byte, []any, map[string]any for maps and
//     structs, string for decimals, time.Time for dates and timestamps,
//     time.Duration for times of day);
//   - Schema.Equal compares two schemas, and MarshalJSON writes the
//     canonical JSON form (json.go; schemas/record-schema.schema.json
//     describes it) that Parse reads back;
//   - Lookup, With, Without and Renamed are the path operations that
//     transforms apply to a schema (set, rename, drop), Holds says whether
//     one schema takes every value of another, and Infer types a Go value
//     that has no declared schema.
//
// The plugin SDK re-exports it (connector.Schema is this Schema), lang/expr
// maps CEL types to it, and converters translate it to their formats (the
// json converter's Kafka Connect envelope; Avro, Protobuf and JSON Schema
// through lang/schemafile).
//
// A Schema is immutable once a record carries it: records, transforms and
// converters share schemas by pointer and cache what they derive from one
// by its address.
//
// It imports no other package of the project, so that lang, the SDK and
// plugins can all depend on it.
package recordschema
