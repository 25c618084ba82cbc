package schemas

// recordSchemasDoc is the hand-written section of docs/plugins.md about
// record schemas: what a plugin sees of them in the SDK.
const recordSchemasDoc = "\n## Record schemas\n\n" +
	"A record may carry the schema of its key and of its value (`Record.KeySchema`, `Record.ValueSchema`, of type `connector.Schema`); " +
	"nil means schemaless, which is what every record was before and what most still are. " +
	"The model is Kafka Connect's (`Schema`, `Struct`), as plain data: a physical type, an optional logical type, and " +
	"`Optional`, `Default`, `Name`, `Version`, `Doc` and `Parameters` (free-form settings of other systems, kept through a round trip).\n\n" +
	"| Type | Go value | Notes |\n" +
	"| --- | --- | --- |\n" +
	"| `boolean` | `bool` | |\n" +
	"| `int8`, `int16`, `int32`, `int64` | `int64` | within the type's range |\n" +
	"| `float32`, `float64` | `float64` | float32 within its range |\n" +
	"| `string` | `string` | |\n" +
	"| `bytes` | `[]byte` | |\n" +
	"| `array` | `[]any` | `Items` is the elements' schema |\n" +
	"| `map` | `map[string]any` | `Keys` is a string (or uuid), integer or boolean schema; integer and boolean keys are written as their text (`\"42\"`, `\"true\"`) |\n" +
	"| `struct` | `map[string]any` | `Fields` in order; no key that is not a field; an absent or null field must be optional or have a default |\n" +
	"| `decimal` on `bytes` | `string` | the number's text (`\"-12.30\"`): at most `Scale` digits after the point and `Precision` in all (1000 when 0); no exponent |\n" +
	"| `date` on `int32` | `time.Time` | its date in UTC |\n" +
	"| `time-millis` on `int32`, `time-micros` on `int64` | `time.Duration` | since midnight, under 24h |\n" +
	"| `timestamp-millis`, `timestamp-micros` on `int64` | `time.Time` | |\n" +
	"| `uuid` on `string` | `string` | 8-4-4-4-12 hexadecimal digits |\n" +
	"| `json` on `string` | any JSON value | as the json converter decodes it |\n\n" +
	"`Schema.Validate` checks a schema (a field without a name, two fields of one name, a decimal whose scale exceeds its precision, " +
	"a logical type on the wrong type, a default that does not fit …), `Schema.CheckValue` checks a value against one, and `Schema.Equal` " +
	"compares two. A schema's JSON form (`connector.ParseSchema` reads it, `json.Marshal` writes it, always the same bytes for the same schema) " +
	"is described by [`schemas/record-schema.schema.json`](../schemas/record-schema.schema.json):\n\n" +
	"```json\n" +
	"{\"type\": \"struct\", \"name\": \"shop.Order\", \"fields\": [\n" +
	"  {\"name\": \"id\", \"schema\": {\"type\": \"int64\"}},\n" +
	"  {\"name\": \"amount\", \"schema\": {\"type\": \"bytes\", \"logical\": \"decimal\", \"precision\": 10, \"scale\": 2}},\n" +
	"  {\"name\": \"placed\", \"schema\": {\"type\": \"int64\", \"logical\": \"timestamp-millis\", \"optional\": true}}\n" +
	"]}\n" +
	"```\n\n" +
	"- **Sources** that know their types set the schemas, with values in the representation above, and reuse one `*Schema` for every " +
	"record of one shape: the worker works out what transforms make of a schema once per `*Schema`. A schema is never changed once a " +
	"record carries it. An expression attribute whose type is known fully is a `connector.TypedExpr`: the generator gives its records " +
	"the schema of its `value` expression when that is a map literal over typed values.\n" +
	"- **Converters** may implement `connector.SchemaEncoder` (`EncodeWithSchema(v, schema)`, called instead of `Encode` for a key or " +
	"value with a schema) and `connector.SchemaDecoder` (`DecodeWithSchema(b)` returns the value and the schema the bytes carry, which " +
	"the worker sets on the record). A converter without them keeps working and ignores schemas. A decoder returns one `*Schema` for a " +
	"schema it reads again and again.\n" +
	"- **Sinks** read `Record.ValueSchema`: the worker decodes with a `SchemaDecoder` converter even when no transform reads the record, " +
	"so that a sink always gets the schema.\n" +
	"- **Transforms** keep schemas right: see [Transforms](language.md#transforms).\n\n" +
	"The json converter with `schemas_enable = true` is Kafka Connect's JsonConverter with `schemas.enable=true`: every key or value is " +
	"`{\"schema\": …, \"payload\": …}` with the schema in Kafka Connect's JSON form (`\"type\"`, `\"fields\"` with `\"field\"` names, `\"optional\"`, " +
	"`\"name\"`, `\"version\"`, `\"doc\"`, `\"parameters\"`, `\"default\"`; `float` and `double` for float32 and float64) or null for a value without " +
	"one, and the payload in the form of its schema: bytes and decimals in base64 (a decimal's unscaled value in two's complement, " +
	"Kafka Connect's default), dates, times and timestamps as integers, maps with non-string keys as `[key, value]` pairs. Logical types " +
	"travel by Kafka Connect's names (`org.apache.kafka.connect.data.Decimal` with parameter `scale`, `…Date`, `…Time`, `…Timestamp`) and " +
	"Debezium's for the others (`io.debezium.time.MicroTime`, `io.debezium.time.MicroTimestamp`, `io.debezium.data.Uuid`, " +
	"`io.debezium.data.Json`), so records interoperate with Kafka Connect's sinks and sources. Reading requires the envelope; a null " +
	"payload of a field with a default reads as the default.\n"
