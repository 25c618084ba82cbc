package engine

import (
	"testing"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

// topicConverter is a converter built with NewConverterWith: it records
// the environment it was built with and writes the topic into its bytes.
type topicConverter struct {
	connector.UnimplementedConverter
	env connector.ConverterEnv
}

func (topicConverter) Encode(v any) ([]byte, error) { return []byte("no topic"), nil }
func (topicConverter) Decode(b []byte) (any, error) { return string(b), nil }
func (topicConverter) Check(b []byte) (any, error)  { return string(b), nil }
func (c topicConverter) EncodeFor(topic string, v any, _ *connector.Schema) ([]byte, error) {
	return []byte(topic + ":" + v.(string)), nil
}

// stubRegistry is a connector.SchemaRegistry whose identity the test
// checks; the compiler only hands it over.
type stubRegistry struct{ connector.SchemaRegistry }

func TestCompileOffersConverterEnv(t *testing.T) {
	reg := testRegistry(t, nil, nil)
	var built []connector.ConverterEnv
	if err := reg.Register(connector.Plugin{
		Schema: configschema.Schema{Kind: configschema.Converter, Type: "topical", Attributes: []configschema.Attribute{}},
		NewConverterWith: func(env connector.ConverterEnv, _ map[string]any) (connector.Converter, error) {
			built = append(built, env)
			return topicConverter{env: env}, nil
		},
	}); err != nil {
		t.Fatal(err)
	}
	sr := &stubRegistry{}
	spec := &control.PipelineSpec{Kind: "source", Type: "test",
		KeyConverter:   control.ConverterSpec{Type: "topical"},
		ValueConverter: control.ConverterSpec{Type: "topical"}}
	p, err := Compile("source.x", spec, reg, nil, func(string) (string, bool) { return "", false }, WithSchemaRegistry(sr))
	if err != nil {
		t.Fatal(err)
	}
	if len(built) != 2 || !built[0].Key || built[1].Key || built[0].Registry != sr || built[1].Registry != sr {
		t.Fatalf("converters built with %+v; want a key then a value converter, both with the registry", built)
	}
	b, err := toBytes(p.valueConv, "shop.orders", "v", nil)
	if err != nil || string(b) != "shop.orders:v" {
		t.Fatalf("toBytes = %q, %v; want EncodeFor with the topic", b, err)
	}
	if _, err := Compile("source.x", spec, reg, nil, nil); err != nil {
		t.Fatalf("without WithSchemaRegistry: %v", err)
	}
	if built[2].Registry != nil {
		t.Fatalf("registry %v without WithSchemaRegistry; want nil", built[2].Registry)
	}
}
