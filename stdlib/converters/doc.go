// Package converters holds the built-in converters "json", "string" and
// "bytes", which turn record keys and values from bytes into structured
// values and back, and AppendJSON, the JSON encoder the sinks share.
//
// Decisions every converter keeps:
//   - A nil key or value (a Kafka tombstone) encodes and decodes as nil; an
//     empty one stays empty (and is not valid JSON).
//   - json: integer literals that fit in 64 bits decode to int64, every
//     other number to float64, so that CEL sees `1` as int and `1.0` as
//     double; float64 values encode with a fraction or exponent ("3.0") so
//     that they decode back as float64, making Decode→Encode→Decode stable.
//     A json.RawMessage encodes to itself; a []byte encodes as a base64
//     JSON string (as encoding/json does).
//   - string: text must be valid UTF-8 both ways; booleans, numbers and
//     times encode as their text, maps and lists are errors.
//   - bytes: pass-through; a string encodes as its bytes, anything else is
//     an error.
//   - json with schemas_enable (JSONEnvelope) writes and reads Kafka
//     Connect's JsonConverter envelope {"schema": …, "payload": …}: the
//     record's schema (connector.Schema) in Kafka Connect's JSON form beside
//     the value in the form of its schema, so that records with schemas
//     interoperate with Kafka Connect. It is a connector.SchemaEncoder and
//     SchemaDecoder; the plain json converter is neither and ignores
//     schemas, as Kafka Connect's does with schemas.enable=false.
//   - Errors are *Error values that say what is wrong and where, quoting at
//     most 64 bytes of the data.
//
// The json converter's configuration decodes into JSONConfig with
// configschema.Decode.
//
// It imports only the plugin SDK and lang/configschema.
package converters
