// Package schemafile reads schema documents — Avro (.avsc JSON), Protobuf
// (.proto text and a message name) and JSON Schema — into the project's
// record schemas (lang/recordschema), and writes a record schema back as an
// Avro schema (ToAvro), the way Confluent's AvroData maps Kafka Connect
// schemas, so that a record schema can be registered in a Schema Registry.
//
// Parsing is done by the languages' own libraries (hamba/avro,
// bufbuild/protocompile, santhosh-tekuri/jsonschema); this package owns the
// mapping between their types and record schemas, which docs/schemas.md
// tabulates. Malformed input is an *Error (with the line and column where
// the library or the JSON text gives one), never a panic.
//
// Both lang (the schema block, typed CEL) and the registry converters in
// stdlib use it. It imports no project package but lang/recordschema.
package schemafile
