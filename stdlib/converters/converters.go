package converters

import (
	"fmt"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

// JSONSchema is the configuration of converter "json".
var JSONSchema = configschema.Schema{
	Kind:        configschema.Converter,
	Type:        "json",
	Description: "JSON text ⇄ structured value (maps, lists, strings, numbers, booleans, null). Integer literals decode to int and others to double, so CEL sees `1` as an int and `1.0` as a double. With `schemas_enable`, Kafka Connect's JsonConverter envelope carries the record's schema.",
	Attributes: []configschema.Attribute{
		{Name: "on_invalid", Type: configschema.String, Default: "error", Enum: []string{"error", "string"}, Description: "What to do with bytes that are not JSON: error (the record is bad and goes through the error policy) or string (keep them as a string)."},
		{Name: "schemas_enable", Type: configschema.Bool, Default: false, Description: "Write and read Kafka Connect's JsonConverter envelope `{\"schema\": …, \"payload\": …}` (its schemas.enable), so that records with schemas interoperate with Kafka Connect: the record's schema in Kafka Connect's JSON form (null when it has none) beside the value in the form of its schema. Reading requires the envelope."},
	},
}

// StringSchema is the configuration of converter "string".
var StringSchema = configschema.Schema{
	Kind:        configschema.Converter,
	Type:        "string",
	Description: "UTF-8 text ⇄ string. Invalid UTF-8 is a converter error. Booleans and numbers encode as their text; maps and lists cannot be encoded (use json).",
	Attributes:  []configschema.Attribute{},
}

// BytesSchema is the configuration of converter "bytes".
var BytesSchema = configschema.Schema{
	Kind:        configschema.Converter,
	Type:        "bytes",
	Description: "Bytes passed through untouched (CEL sees them as bytes). A string encodes as its UTF-8 bytes; other values cannot be encoded.",
	Attributes:  []configschema.Attribute{},
}

// JSONConfig is the configuration of converter "json", as JSONSchema
// declares it.
type JSONConfig struct {
	OnInvalid     string `pipectl:"on_invalid"`
	SchemasEnable bool   `pipectl:"schemas_enable"`
}

// noConfig is the configuration of a converter that takes none.
type noConfig struct{}

// Plugins returns the registrations of every built-in converter.
func Plugins() []connector.Plugin {
	return []connector.Plugin{
		{Schema: JSONSchema, Config: (*JSONConfig)(nil), NewConverter: NewJSON},
		{Schema: StringSchema, Config: (*noConfig)(nil), NewConverter: NewString},
		{Schema: BytesSchema, Config: (*noConfig)(nil), NewConverter: NewBytes},
	}
}

// NewJSON builds a json converter from its configuration.
func NewJSON(config map[string]any) (connector.Converter, error) {
	var cfg JSONConfig
	if err := configschema.Decode(&JSONSchema, config, &cfg); err != nil {
		return nil, fmt.Errorf("converter json: %w", err)
	}
	if cfg.SchemasEnable {
		return &JSONEnvelope{InvalidAsString: cfg.OnInvalid == "string"}, nil
	}
	return &JSON{InvalidAsString: cfg.OnInvalid == "string"}, nil
}

// NewString builds a string converter; it takes no configuration.
func NewString(map[string]any) (connector.Converter, error) { return String{}, nil }

// NewBytes builds a bytes converter; it takes no configuration.
func NewBytes(map[string]any) (connector.Converter, error) { return Bytes{}, nil }
