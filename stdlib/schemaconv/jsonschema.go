package schemaconv

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pipectl/pipectl/lang/schemafile"
	"github.com/pipectl/pipectl/runtime/connector"
)

// jsonSchemaFormat is the json_schema converter's language: the payload
// is JSON text, validated by the registered JSON Schema on the way in and
// out; values are the record schema's JSON form (recordschema.JSONForm).
type jsonSchemaFormat struct{}

func (jsonSchemaFormat) name() string                         { return "json_schema" }
func (jsonSchemaFormat) registryType() connector.RegistryType { return connector.RegistryJSONSchema }
func (jsonSchemaFormat) write(s *connector.Schema) (string, error) {
	return schemafile.ToJSONSchema(s)
}

func (jsonSchemaFormat) compile(rsch connector.RegistrySchema, _ string) (*codec, error) {
	js, err := schemafile.CompileJSONSchema(rsch.Schema, nil)
	if err != nil {
		return nil, err
	}
	order, err := schemafile.PropertyOrder(rsch.Schema)
	if err != nil {
		return nil, err
	}
	rs, err := schemafile.FromJSONSchema(js, order)
	if err != nil {
		return nil, err
	}
	return &codec{
		schema: rs, name: js.Title,
		decode: func(b []byte) (any, error) {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				return nil, fmt.Errorf("the payload is not JSON: %v", err)
			}
			if err := js.Validate(doc); err != nil {
				return nil, fmt.Errorf("the value does not validate against the schema: %v", err)
			}
			v, err := rs.FromJSONForm(doc)
			if err != nil {
				return nil, err
			}
			return v, nil
		},
		encode: func(dst []byte, v any) ([]byte, error) {
			form, err := rs.JSONForm(v)
			if err != nil {
				return nil, err
			}
			text, err := json.Marshal(form)
			if err != nil {
				return nil, err
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(text))
			if err != nil {
				return nil, err
			}
			if err := js.Validate(doc); err != nil {
				return nil, fmt.Errorf("the value does not validate against the schema: %v", err)
			}
			return append(dst, text...), nil
		},
	}, nil
}
