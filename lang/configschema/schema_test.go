package configschema_test

import (
	"strings"
	"testing"

	"github.com/pipectl/pipectl/lang/configschema"
)

func TestValidate(t *testing.T) {
	ok := configschema.Schema{Kind: configschema.Source, Type: "x", Attributes: []configschema.Attribute{
		{Name: "topic", Type: configschema.String, Required: true},
		{Name: "rate", Type: configschema.Number, Default: int64(0)},
		{Name: "value", Type: configschema.Expression, ExprVars: []configschema.ExprVar{{Name: "seq", Type: "int"}}},
	}, ExactlyOneOf: [][]string{{"topic", "rate"}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("a good schema failed: %v", err)
	}
	bad := map[string]configschema.Schema{
		"no type name":       {Kind: configschema.Source},
		"unknown kind":       {Kind: "widget", Type: "x"},
		"repeated attribute": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: configschema.String}, {Name: "a", Type: configschema.String}}},
		"unknown type":       {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: "float"}}},
		"default of the wrong type": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{
			{Name: "a", Type: configschema.Int, Default: "1"}}},
		"required with a default": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{
			{Name: "a", Type: configschema.Int, Required: true, Default: int64(1)}}},
		"expression variables on a string": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{
			{Name: "a", Type: configschema.String, ExprVars: []configschema.ExprVar{{Name: "seq", Type: "int"}}}}},
		"group names an unknown attribute": {Kind: configschema.Sink, Type: "x", Conflicts: [][]string{{"nope"}}},
		"repeated block":                   {Kind: configschema.Sink, Type: "x", Blocks: []configschema.Block{{Name: "b"}, {Name: "b"}}},
	}
	for name, s := range bad {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		} else if !strings.Contains(err.Error(), ":") && s.Type != "" {
			t.Errorf("%s: error %q does not say where", name, err)
		}
	}
}
