// Package schemaconv holds the Schema Registry converters avro, protobuf
// and json_schema: values in Confluent's wire format (a zero magic byte,
// the schema's registry id in four big-endian bytes, for Protobuf the
// message-index list, then the payload), their schemas kept in a
// Confluent-compatible Schema Registry — the fleet's own
// (connector.ConverterEnv.Registry) or a remote one reached with franz-go's
// sr client.
//
// Decoding looks the id up once (schemas are cached by id for the life of
// the converter; an id the registry does not hold is not asked again for
// 5 s, at most 1024 such ids remembered) and gives the value with its
// record schema; encoding
// registers or looks up the record's schema (or the configured one) under
// the subject its strategy names and caches the id. lang/schemafile maps
// each language to record schemas; the payloads are written and read by
// hamba/avro, google.golang.org/protobuf (dynamicpb) and
// santhosh-tekuri/jsonschema (validation of encoding/json text).
//
// It sees only the plugin SDK (runtime/connector), lang/configschema and
// lang/schemafile, as every stdlib package.
package schemaconv
