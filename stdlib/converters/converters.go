package converters

import (
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

// JSONSchema is the configuration of converter "json".
var JSONSchema = configschema.Schema{
	Kind:        configschema.Converter,
	Type:        "json",
	Description: "JSON text ⇄ structured value (maps, lists, strings, numbers, booleans, null).",
	Attributes: []configschema.Attribute{
		{Name: "on_invalid", Type: configschema.String, Default: "error", Enum: []string{"error", "string"}, Description: "What to do with bytes that are not JSON: error (the record is bad and goes through the error policy) or string (keep them as a string)."},
	},
}

// StringSchema is the configuration of converter "string".
var StringSchema = configschema.Schema{
	Kind:        configschema.Converter,
	Type:        "string",
	Description: "UTF-8 text ⇄ string. Invalid UTF-8 is a converter error.",
	Attributes:  []configschema.Attribute{},
}

// BytesSchema is the configuration of converter "bytes".
var BytesSchema = configschema.Schema{
	Kind:        configschema.Converter,
	Type:        "bytes",
	Description: "Bytes passed through untouched (CEL sees them as bytes).",
	Attributes:  []configschema.Attribute{},
}

// Plugins returns the registrations of every built-in converter.
func Plugins() []connector.Plugin {
	return []connector.Plugin{{Schema: JSONSchema}, {Schema: StringSchema}, {Schema: BytesSchema}}
}
