package schemaconv

import (
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/schemafile"
)

// checkSchema reports a schema text that does not parse, or that has no
// record-schema form, at validate time (when the text is known then).
func checkSchema(language string) func(values map[string]any) []*configschema.Error {
	return func(values map[string]any) []*configschema.Error {
		text, ok := values["schema"].(string)
		if !ok || text == "" {
			return nil
		}
		var err error
		switch language {
		case "avro":
			_, err = schemafile.Avro(text)
		case "protobuf":
			message, _ := values["message"].(string)
			_, err = schemafile.Protobuf(text, message, nil)
		case "json_schema":
			_, err = schemafile.JSONSchema(text)
		}
		if err == nil {
			return nil
		}
		return []*configschema.Error{{Rule: configschema.RuleCheck, Attribute: "schema", Summary: "Invalid schema",
			Detail: "The converter's schema cannot be used: " + err.Error() + "."}}
	}
}
