package schemaconv

import (
	"fmt"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

// registryBlock is the registry block every converter of this package
// takes.
var registryBlock = configschema.Block{
	Name:        "registry",
	Description: "A Schema Registry of Confluent's REST API to use instead of the fleet's own (which every worker serves, and which is the default).",
	Attributes: []configschema.Attribute{
		{Name: "url", Type: configschema.String, Required: true, NonEmpty: true, Description: "The registry's base URL, e.g. `https://registry.example.com:8081`."},
		{Name: "username", Type: configschema.String, Description: "User name of HTTP basic authentication."},
		{Name: "password", Type: configschema.String, Sensitive: true, Description: "Password of HTTP basic authentication."},
		{Name: "bearer_token", Type: configschema.String, Sensitive: true, Description: "A bearer token sent in the Authorization header."},
		{Name: "ca_file", Type: configschema.String, Path: true, PathMustExist: true, Description: "PEM file of the certificate authorities that sign the registry's TLS certificate (the system's are used when unset)."},
	},
}

func commonAttributes(format string) []configschema.Attribute {
	return []configschema.Attribute{
		{Name: "subject_strategy", Type: configschema.String, Default: "topic", Enum: []string{"topic", "record", "topic_record"},
			Description: "How the registry subject of a record's schema is named, as Confluent's serializers name it: topic (TopicNameStrategy: `<topic>-key` or `<topic>-value`), record (RecordNameStrategy: the record's full name) or topic_record (TopicRecordNameStrategy: `<topic>-<full name>`)."},
		{Name: "auto_register", Type: configschema.Bool, Default: true,
			Description: "Register the schema a record is encoded with under its subject when the subject does not hold it yet; when false, the schema must already be registered there (a converter error otherwise)."},
		{Name: "use_latest", Type: configschema.Bool, Default: false,
			Description: "Encode with the latest version registered under the subject instead of the record's own or the configured schema (the value must fit it); nothing is registered."},
		{Name: "schema", Type: configschema.String,
			Description: "The " + map[string]string{"Avro": "Avro schema", "Protobuf": ".proto", "JSON Schema": "JSON Schema"}[format] + " text to encode with, e.g. `schema.order` or `file(\"order." + map[string]string{"Avro": "avsc", "Protobuf": "proto", "JSON Schema": "schema.json"}[format] + "\")`. When unset, a record is encoded with its own record schema (written as " + format + ")" + "."},
	}
}

// AvroSchema is the configuration of converter "avro".
var AvroSchema = configschema.Schema{
	Kind: configschema.Converter,
	Type: "avro",
	Description: "Avro binary in Confluent's wire format (magic byte 0, the schema's 4-byte registry id, the Avro payload), interoperable with Confluent's KafkaAvroSerializer and Kafka Connect's AvroConverter. " +
		"Decoding fetches the writer's schema by id from the Schema Registry (once per id) and gives the record its record schema; encoding registers or looks up the record's schema. See docs/schemas.md for the type mapping.",
	Attributes: commonAttributes("Avro"),
	Blocks:     []configschema.Block{registryBlock},
	Check:      checkSchema("avro"),
}

// ProtobufSchema is the configuration of converter "protobuf".
var ProtobufSchema = configschema.Schema{
	Kind: configschema.Converter,
	Type: "protobuf",
	Description: "Protobuf binary in Confluent's wire format (magic byte 0, the 4-byte registry id, the message-index list, the payload), interoperable with Confluent's KafkaProtobufSerializer. " +
		"Decoding fetches the .proto by id (once per id) and reads the message the index names; encoding writes the record's schema as a .proto (or uses schema, or the subject's latest version). See docs/schemas.md.",
	Attributes: append(commonAttributes("Protobuf"),
		configschema.Attribute{Name: "message", Type: configschema.String, Description: "The message of schema to encode with, by its full name (`shop.Order`) or its name in the file's package; the file's first message when unset."}),
	Blocks: []configschema.Block{registryBlock},
	Check:  checkSchema("protobuf"),
}

// JSONSchemaSchema is the configuration of converter "json_schema".
var JSONSchemaSchema = configschema.Schema{
	Kind: configschema.Converter,
	Type: "json_schema",
	Description: "JSON text validated by a JSON Schema, in Confluent's wire format (magic byte 0, the 4-byte registry id, the JSON), interoperable with Confluent's KafkaJsonSchemaSerializer. " +
		"Values are validated against the schema when encoded and when decoded; a value that does not validate is a converter error. See docs/schemas.md.",
	Attributes: commonAttributes("JSON Schema"),
	Blocks:     []configschema.Block{registryBlock},
	Check:      checkSchema("json_schema"),
}

// RegistryConfig is the registry block.
type RegistryConfig struct {
	URL         string `pipectl:"url"`
	Username    string `pipectl:"username"`
	Password    string `pipectl:"password"`
	BearerToken string `pipectl:"bearer_token"`
	CAFile      string `pipectl:"ca_file"`
}

// Config is the configuration of converters avro and json_schema, as
// their schemas declare it.
type Config struct {
	SubjectStrategy string          `pipectl:"subject_strategy"`
	AutoRegister    bool            `pipectl:"auto_register"`
	UseLatest       bool            `pipectl:"use_latest"`
	Schema          string          `pipectl:"schema"`
	Registry        *RegistryConfig `pipectl:"registry"`
}

// ProtobufConfig is the configuration of converter protobuf.
type ProtobufConfig struct {
	SubjectStrategy string          `pipectl:"subject_strategy"`
	AutoRegister    bool            `pipectl:"auto_register"`
	UseLatest       bool            `pipectl:"use_latest"`
	Schema          string          `pipectl:"schema"`
	Message         string          `pipectl:"message"`
	Registry        *RegistryConfig `pipectl:"registry"`
}

// Plugins returns the registrations of the converters avro, protobuf and
// json_schema.
func Plugins() []connector.Plugin {
	return []connector.Plugin{
		{Schema: AvroSchema, Config: (*Config)(nil), NewConverterWith: NewAvro},
		{Schema: ProtobufSchema, Config: (*ProtobufConfig)(nil), NewConverterWith: NewProtobuf},
		{Schema: JSONSchemaSchema, Config: (*Config)(nil), NewConverterWith: NewJSONSchema},
	}
}

// NewAvro builds an avro converter.
func NewAvro(env connector.ConverterEnv, config map[string]any) (connector.Converter, error) {
	var cfg Config
	if err := configschema.Decode(&AvroSchema, config, &cfg); err != nil {
		return nil, fmt.Errorf("converter avro: %w", err)
	}
	return newConverter(env, settings{Config: cfg}, avroFormat{})
}

// NewProtobuf builds a protobuf converter.
func NewProtobuf(env connector.ConverterEnv, config map[string]any) (connector.Converter, error) {
	var cfg ProtobufConfig
	if err := configschema.Decode(&ProtobufSchema, config, &cfg); err != nil {
		return nil, fmt.Errorf("converter protobuf: %w", err)
	}
	return newConverter(env, settings{Config: Config{
		SubjectStrategy: cfg.SubjectStrategy, AutoRegister: cfg.AutoRegister, UseLatest: cfg.UseLatest,
		Schema: cfg.Schema, Registry: cfg.Registry,
	}, message: cfg.Message}, protobufFormat{})
}

// NewJSONSchema builds a json_schema converter.
func NewJSONSchema(env connector.ConverterEnv, config map[string]any) (connector.Converter, error) {
	var cfg Config
	if err := configschema.Decode(&JSONSchemaSchema, config, &cfg); err != nil {
		return nil, fmt.Errorf("converter json_schema: %w", err)
	}
	return newConverter(env, settings{Config: cfg}, jsonSchemaFormat{})
}
